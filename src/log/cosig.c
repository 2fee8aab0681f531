/* C2SP tlog-cosignature, Ed25519 (cosignature/v1).
 *
 * A cosignature is a note signature line whose key id is
 * SHA-256(name || "\n" || 0x04 || pk)[:4] and whose signature bytes are
 * u64 big-endian timestamp || Ed25519 signature over
 *
 *   "cosignature/v1\n" "time <timestamp>\n" <the checkpoint note text>
 */
#include <stdlib.h>
#include <string.h>

#include "pixiu/log.h"

#define COSIG_HEADER "cosignature/v1\n"
#define COSIG_SIG_BYTES (8 + PX_SIGN_BYTES)
#define COSIGNER_KEY_MAX 512

uint32_t px_cosig_key_id(const char *name, const uint8_t pk[PX_SIGN_PUBLICKEYBYTES]) {
    uint8_t alg = PX_COSIG_ALG, h[PX_SHA256_BYTES];
    const void *parts[4] = {name, "\n", &alg, pk};
    size_t lens[4] = {strlen(name), 1, 1, PX_SIGN_PUBLICKEYBYTES};
    px_sha256_parts(h, 4, parts, lens);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

void px_cosig_from_signer(const px_signer *s, px_cosigner *c) {
    memset(c, 0, sizeof *c);
    memcpy(c->name, s->name, sizeof c->name);
    memcpy(c->pk, s->kp.pk, sizeof c->pk);
    c->id = px_cosig_key_id(c->name, c->pk);
}

int px_cosig_format(const px_cosigner *c, px_buf *out, px_err *err) {
    uint8_t raw[1 + PX_SIGN_PUBLICKEYBYTES];
    raw[0] = PX_COSIG_ALG;
    memcpy(raw + 1, c->pk, PX_SIGN_PUBLICKEYBYTES);
    char b64[64];
    px_b64_encode(b64, raw, sizeof raw);
    return px_buf_printf(out, err, "%s+%08x+%s", c->name, c->id, b64);
}

int px_cosig_parse(px_cosigner *c, const char *text, size_t len, px_err *err) {
    if (len && text[len - 1] == '\n')
        len--;
    const char *p1 = memchr(text, '+', len);
    const char *p2 = p1 ? memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - text)) : NULL;
    if (!p2)
        return px_fail(err, PX_E_INVALID, "cosigner key: expected <name>+<hex id>+<base64 key>");
    size_t name_len = (size_t)(p1 - text);
    if (!px_key_name_valid(text, name_len))
        return px_fail(err, PX_E_INVALID, "cosigner key: invalid key name");
    uint8_t idb[4], raw[1 + PX_SIGN_PUBLICKEYBYTES];
    if (px_hex_decode_exact(idb, 4, p1 + 1, (size_t)(p2 - p1 - 1), err))
        return px_fail(err, PX_E_INVALID, "cosigner key: key id is not 8 hex digits");
    if (px_b64_decode_exact(raw, sizeof raw, p2 + 1, len - (size_t)(p2 + 1 - text), err))
        return px_fail(err, PX_E_INVALID, "cosigner key: key is not base64 of %zu bytes", sizeof raw);
    if (raw[0] != PX_COSIG_ALG)
        return px_fail(err, PX_E_INVALID, "cosigner key: algorithm byte 0x%02x is not 0x04 (Ed25519 cosignature)",
                       raw[0]);
    px_cosigner k = {0};
    memcpy(k.name, text, name_len);
    memcpy(k.pk, raw + 1, PX_SIGN_PUBLICKEYBYTES);
    k.id = px_cosig_key_id(k.name, k.pk);
    uint32_t id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
    if (id != k.id)
        return px_fail(err, PX_E_INVALID, "cosigner key: key id %08x does not match the key", id);
    *c = k;
    return 0;
}

int px_cosig_load(px_cosigner *c, const char *arg, px_err *err) {
    /* Key names may contain '/', so try the argument as a key first. */
    if (px_cosig_parse(c, arg, strlen(arg), NULL) == 0)
        return 0;
    px_buf b = PX_BUF_INIT;
    int rc = px_file_read(arg, COSIGNER_KEY_MAX, &b, err);
    if (!rc)
        rc = px_cosig_parse(c, (const char *)b.data, b.len, err);
    px_buf_free(&b);
    return rc ? px_err_prefix(err, "%s: ", arg) : 0;
}

static int signed_message(px_buf *m, const px_note *note, uint64_t timestamp, px_err *err) {
    if (px_buf_printf(m, err, COSIG_HEADER "time %llu\n", (unsigned long long)timestamp) ||
        px_buf_append(m, note->text, note->text_len, err))
        return -1;
    return 0;
}

int px_cosig_sign(px_note *note, const px_signer *key, uint64_t timestamp, px_err *err) {
    if (timestamp > INT64_MAX)
        return px_fail(err, PX_E_INVALID, "cosignature: timestamp beyond 2^63-1");
    px_buf m = PX_BUF_INIT;
    if (signed_message(&m, note, timestamp, err)) {
        px_buf_free(&m);
        return -1;
    }
    uint8_t *sig = malloc(COSIG_SIG_BYTES);
    if (!sig) {
        px_buf_free(&m);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < 8; i++)
        sig[i] = (uint8_t)(timestamp >> (56 - 8 * i));
    px_sign_detached(sig + 8, m.data, m.len, &key->kp);
    px_buf_free(&m);
    uint32_t id = px_cosig_key_id(key->name, key->kp.pk);
    px_note_sig *slot = NULL;
    for (size_t i = 0; i < note->nsigs; i++)
        if (note->sigs[i].id == id && !strcmp(note->sigs[i].name, key->name))
            slot = &note->sigs[i];
    if (!slot) {
        if (note->nsigs >= PX_NOTE_MAX_SIGS) {
            free(sig);
            return px_fail(err, PX_E_LIMIT, "cosignature: note already has %d signatures", PX_NOTE_MAX_SIGS);
        }
        px_note_sig *grown = realloc(note->sigs, (note->nsigs + 1) * sizeof *grown);
        if (!grown) {
            free(sig);
            return px_fail(err, PX_E_NOMEM, "out of memory");
        }
        note->sigs = grown;
        slot = &note->sigs[note->nsigs++];
        memset(slot, 0, sizeof *slot);
        memcpy(slot->name, key->name, sizeof slot->name);
        slot->id = id;
    }
    free(slot->sig);
    slot->sig = sig;
    slot->sig_len = COSIG_SIG_BYTES;
    return 0;
}

int px_cosig_verify(const px_note *note, const px_cosigner *c, uint64_t *timestamp, px_err *err) {
    for (size_t i = 0; i < note->nsigs; i++) {
        const px_note_sig *s = &note->sigs[i];
        if (s->id != c->id || strcmp(s->name, c->name) != 0)
            continue;
        if (s->sig_len != COSIG_SIG_BYTES)
            return px_fail(err, PX_E_VERIFY, "cosignature by %s has %zu bytes, not %d", c->name,
                           s->sig_len, COSIG_SIG_BYTES);
        uint64_t t = 0;
        for (int k = 0; k < 8; k++)
            t = t << 8 | s->sig[k];
        if (t > INT64_MAX)
            return px_fail(err, PX_E_VERIFY, "cosignature by %s has a timestamp beyond 2^63-1", c->name);
        px_buf m = PX_BUF_INIT;
        if (signed_message(&m, note, t, err)) {
            px_buf_free(&m);
            return -1;
        }
        int bad = px_sign_verify(s->sig + 8, m.data, m.len, c->pk, NULL);
        px_buf_free(&m);
        if (bad)
            return px_fail(err, PX_E_VERIFY, "cosignature by %s does not verify", c->name);
        if (timestamp)
            *timestamp = t;
        return 0;
    }
    return px_fail(err, PX_E_VERIFY, "no cosignature by %s+%08x", c->name, c->id);
}

int px_cosig_lines_append(const px_note *n, const px_cosigner *c, px_buf *out) {
    for (size_t i = 0; i < n->nsigs; i++) {
        const px_note_sig *s = &n->sigs[i];
        if (s->id != c->id || strcmp(s->name, c->name) != 0 || s->sig_len != COSIG_SIG_BYTES)
            continue;
        uint8_t raw[4 + COSIG_SIG_BYTES];
        raw[0] = (uint8_t)(c->id >> 24);
        raw[1] = (uint8_t)(c->id >> 16);
        raw[2] = (uint8_t)(c->id >> 8);
        raw[3] = (uint8_t)c->id;
        memcpy(raw + 4, s->sig, COSIG_SIG_BYTES);
        if (px_buf_printf(out, NULL, "\xe2\x80\x94 %s ", c->name) || px_buf_append_b64(out, raw, sizeof raw, NULL) ||
            px_buf_append_str(out, "\n", NULL))
            return -1;
    }
    return 0;
}
