/* DSSE v1 envelopes: the signature covers PAE(payloadType, payload), never
 * the JSON, so the JSON can be re-serialised without breaking anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pixiu/proof.h"

#define PAE_PREFIX "DSSEv1"
#define PAYLOAD_OPEN "{\"payload\":\""
#define TYPE_MAX 1024

int px_dsse_pae(px_buf *out, const char *type, const uint8_t *body, size_t len, px_err *err) {
    size_t tlen = strlen(type);
    size_t start = out->len;
    if (px_buf_printf(out, err, PAE_PREFIX " %zu %s %zu ", tlen, type, len) || px_buf_append(out, body, len, err)) {
        out->len = start;
        return -1;
    }
    return 0;
}

void px_dsse_free(px_dsse *e) {
    for (size_t i = 0; i < e->nsigs; i++) {
        free(e->sigs[i].keyid);
        free(e->sigs[i].sig);
    }
    free(e->sigs);
    free(e->payload_type);
    px_buf_free(&e->payload);
    memset(e, 0, sizeof *e);
}

static int type_valid(const char *type, size_t len, px_err *err) {
    if (len == 0 || len > TYPE_MAX)
        return px_fail(err, PX_E_INVALID, "payloadType must be 1-%d bytes", TYPE_MAX);
    for (size_t i = 0; i < len; i++)
        if ((uint8_t)type[i] < 0x20 || type[i] == 0x7F)
            return px_fail(err, PX_E_INVALID, "payloadType contains a control character");
    return 0;
}

/* {"payload":"<b64>","payloadType":<type>,"signatures":<sigs>}, the bytes
 * jansson's compact dump of that object writes, with the payload (the bulk
 * of it, base64, which needs no escaping) copied in directly instead of
 * escaped a byte at a time. */
static int envelope_text(px_buf *out, const char *payload64, const char *type, const json_t *sigs, px_err *err) {
    json_t *t = json_string(type);
    size_t start = out->len;
    int rc = t ? 0 : px_fail(err, PX_E_INVALID, "payloadType is not UTF-8");
    if (rc == 0)
        rc = px_buf_append_str(out, PAYLOAD_OPEN, err) || px_buf_append_str(out, payload64, err) ||
             px_buf_append_str(out, "\",\"payloadType\":", err) || px_json_dump(t, out, err) ||
             px_buf_append_str(out, ",\"signatures\":", err) || px_json_dump(sigs, out, err) ||
             px_buf_append_str(out, "}", err);
    if (rc)
        out->len = start;
    json_decref(t);
    return rc ? -1 : 0;
}

int px_dsse_sign(px_buf *out, const char *type, const uint8_t *body, size_t len, const px_signer *signers,
                 size_t nsigners, px_err *err) {
    if (nsigners == 0)
        return px_fail(err, PX_E_INVALID, "an envelope needs at least one signer");
    if (type_valid(type, strlen(type), err))
        return -1;
    px_buf pae = PX_BUF_INIT;
    json_t *sigs = json_array();
    int rc = -1;
    if (!sigs || px_dsse_pae(&pae, type, body, len, err))
        goto out;
    for (size_t i = 0; i < nsigners; i++) {
        uint8_t sig[PX_SIGN_BYTES];
        char sig64[PX_B64_LEN(PX_SIGN_BYTES) + 1], keyid[PX_KEY_NAME_MAX + 16];
        px_sign_detached(sig, pae.data, pae.len, &signers[i].kp);
        px_b64_encode(sig64, sig, sizeof sig);
        snprintf(keyid, sizeof keyid, "%s+%08x", signers[i].name, signers[i].id);
        if (json_array_append_new(sigs, json_pack("{s:s, s:s}", "keyid", keyid, "sig", sig64))) {
            px_fail(err, PX_E_NOMEM, "out of memory");
            goto out;
        }
    }
    char *payload64 = malloc(px_b64_encoded_len(len) + 1);
    if (!payload64) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    px_b64_encode_public(payload64, body, len);
    rc = envelope_text(out, payload64, type, sigs, err);
    free(payload64);
out:
    json_decref(sigs);
    px_buf_free(&pae);
    return rc;
}

/* DSSE allows standard or URL-safe base64, with or without padding. */
static int b64_any(px_buf *out, const char *s, size_t len, const char *what, px_err *err) {
    static const int variants[] = {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                                   sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING};
    size_t cap = len / 4 * 3 + 3;
    if (px_b64_decode_public(out, s, len) == 0)
        return 0; /* canonical standard base64: the first variant below */
    if (!px_b64_alphabet_valid(s, len, 1))
        return px_fail(err, PX_E_INVALID, "envelope %s has a character outside the base64 alphabet", what);
    if (px_buf_reserve(out, cap, err))
        return -1;
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        size_t got = 0;
        const char *end = NULL;
        if (sodium_base642bin(out->data + out->len, cap, s, len, NULL, &got, &end, variants[v]) == 0 &&
            end == s + len) {
            out->len += got;
            return 0;
        }
    }
    return px_fail(err, PX_E_INVALID, "envelope %s is not valid base64", what);
}

/* The spec defines exactly these members; anything else is refused so that
 * an envelope cannot carry unsigned look-alike fields. */
static const char *const env_members[] = {"payload", "payloadType", "signatures", NULL};
static const char *const sig_members[] = {"keyid", "sig", NULL};

static int parse_sigs(px_dsse *e, const json_t *arr, px_err *err) {
    if (!json_is_array(arr))
        return px_fail(err, PX_E_INVALID, "envelope field \"signatures\" must be an array");
    size_t n = json_array_size(arr);
    if (n == 0)
        return px_fail(err, PX_E_INVALID, "envelope has no signatures");
    if (n > PX_DSSE_MAX_SIGS)
        return px_fail(err, PX_E_LIMIT, "envelope has more than %d signatures", PX_DSSE_MAX_SIGS);
    e->sigs = calloc(n, sizeof *e->sigs);
    if (!e->sigs)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(arr, i);
        const json_t *kid = json_is_object(s) ? json_object_get(s, "keyid") : NULL;
        const char *sig64;
        if (!json_is_object(s))
            return px_fail(err, PX_E_INVALID, "envelope signature %zu is not an object", i);
        if (px_json_only(s, "DSSE signature", sig_members, err))
            return px_err_prefix(err, "envelope signature %zu: ", i);
        if (kid && !json_is_string(kid))
            return px_fail(err, PX_E_INVALID, "envelope signature %zu: \"keyid\" must be a string", i);
        if (px_json_str(s, "sig", &sig64, err))
            return px_err_prefix(err, "envelope signature %zu: ", i);
        px_buf raw = PX_BUF_INIT;
        if (b64_any(&raw, sig64, strlen(sig64), "signature", err)) {
            px_buf_free(&raw);
            return px_err_prefix(err, "signature %zu: ", i);
        }
        e->sigs[i].keyid = strdup(kid ? json_string_value(kid) : "");
        e->sigs[i].sig = raw.data; /* ownership moves to the envelope */
        e->sigs[i].sig_len = raw.len;
        e->nsigs = i + 1;
        if (!e->sigs[i].keyid)
            return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    return 0;
}

/* An envelope as px_dsse_sign writes it starts with its payload; jansson
 * reads a long string a byte at a time, so the base64 is lifted out and
 * the rest parsed with "payload":"" in its place. Only bytes of the base64
 * alphabet are lifted, up to the first quote: no escape can hide among
 * them, so they are the string's exact value, and the rest parses as the
 * whole would (a second "payload" is still a duplicate). Anything else is
 * parsed whole. */
static json_t *parse_envelope(const char *json, size_t len, const char **p64, size_t *n64, px_err *err) {
    size_t open = sizeof PAYLOAD_OPEN - 1, i = open;
    *p64 = NULL;
    if (len > PX_DSSE_MAX_BYTES || len < open || memcmp(json, PAYLOAD_OPEN, open) != 0)
        return px_json_parse(json, len, PX_DSSE_MAX_BYTES, err);
    while (i < len && json[i] != '"' && px_b64_alphabet_valid(json + i, 1, 1))
        i++;
    if (i == len || json[i] != '"')
        return px_json_parse(json, len, PX_DSSE_MAX_BYTES, err);
    size_t rest = len - i, n = open + rest;
    char *doc = malloc(n);
    if (!doc) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(doc, json, open);
    memcpy(doc + open, json + i, rest);
    json_t *root = px_json_parse(doc, n, PX_DSSE_MAX_BYTES, NULL);
    free(doc);
    if (!root) /* the error as the whole reads, at its own line and column */
        return px_json_parse(json, len, PX_DSSE_MAX_BYTES, err);
    *p64 = json + open;
    *n64 = i - open;
    return root;
}

int px_dsse_parse(px_dsse *out, const void *json, size_t len, px_err *err) {
    const char *lifted;
    size_t nlifted = 0;
    json_t *root = parse_envelope(json, len, &lifted, &nlifted, err);
    if (!root)
        return px_err_prefix(err, "envelope: ");
    px_dsse e = {0};
    const char *type, *payload64;
    int rc = -1;
    if (!json_is_object(root)) {
        px_fail(err, PX_E_INVALID, "envelope is not a JSON object");
        goto out;
    }
    if (px_json_only(root, "DSSE envelope", env_members, err) || px_json_str(root, "payloadType", &type, err) ||
        px_json_str(root, "payload", &payload64, err)) {
        px_err_prefix(err, "envelope: ");
        goto out;
    }
    if (type_valid(type, json_string_length(json_object_get(root, "payloadType")), err) ||
        b64_any(&e.payload, lifted ? lifted : payload64, lifted ? nlifted : strlen(payload64), "payload", err) ||
        parse_sigs(&e, json_object_get(root, "signatures"), err))
        goto out;
    if (!(e.payload_type = strdup(type))) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    *out = e;
    memset(&e, 0, sizeof e);
    rc = 0;
out:
    px_dsse_free(&e);
    json_decref(root);
    return rc;
}

/* A signature counts when it verifies under pk and its keyid (a hint the
 * signature does not cover) is empty or equals want_keyid: so a changed keyid
 * fails verification instead of passing unnoticed. want_keyid NULL: any. */
static int verify_with(const px_dsse *e, const uint8_t pk[PX_SIGN_PUBLICKEYBYTES], const char *want_keyid,
                       px_err *err) {
    px_buf pae = PX_BUF_INIT;
    if (px_dsse_pae(&pae, e->payload_type, e->payload.data, e->payload.len, err))
        return -1;
    int ok = 0;
    for (size_t i = 0; i < e->nsigs && !ok; i++) {
        const px_dsse_sig *s = &e->sigs[i];
        if (want_keyid && s->keyid[0] && strcmp(s->keyid, want_keyid) != 0)
            continue;
        ok = s->sig_len == PX_SIGN_BYTES && px_sign_verify(s->sig, pae.data, pae.len, pk, NULL) == 0;
    }
    px_buf_free(&pae);
    return ok ? 0 : -1;
}

int px_dsse_verify_pk(const px_dsse *e, const uint8_t pk[PX_SIGN_PUBLICKEYBYTES], px_err *err) {
    if (verify_with(e, pk, NULL, err))
        return px_fail(err, PX_E_VERIFY, "no envelope signature verifies under the given key");
    return 0;
}

int px_dsse_verify(const px_dsse *e, const px_verifier *v, px_err *err) {
    char keyid[PX_KEY_NAME_MAX + 16];
    snprintf(keyid, sizeof keyid, "%s+%08x", v->name, v->id);
    if (verify_with(e, v->pk, keyid, err))
        return px_fail(err, PX_E_VERIFY, "no envelope signature with keyid \"%s\" or none verifies under that key",
                       keyid);
    return 0;
}
