/* Evidence: a platform key's signed statement about one instance.
 *
 * The envelope is DSSE v1 (payload type PX_EVIDENCE_PAYLOAD_TYPE) over a
 * JSON object whose members appear in this order and no others:
 *   type, backend, level, node, measurement, build, sign_key, box_key,
 *   nonce, isolation, issued
 * where build is {"version": "...", "components": [{"name", "sha256"}...]}
 * with the components in the build's (sorted) order.
 * Digests and keys are lower-case hex. The parser is strict because a
 * verifier must never act on a claim it read differently from the signer.
 */
#include <stdlib.h>
#include <string.h>

#include "pixiu/proof.h"
#include "pixiu/tee.h"

#define EVIDENCE_FIELDS 11
#define BUILD_FIELDS 2
#define COMPONENT_FIELDS 2

static const char *const iso_names[PX_ISO_COUNT] = {
    "seccomp", "nodump", "nonewprivs", "userns", "netns", "ipcns", "rlimit-mem", "rlimit-cpu", "rlimit-files",
    "seccomp-spawn",
};

const char *px_tee_isolation_name(unsigned bit) {
    for (unsigned i = 0; i < PX_ISO_COUNT; i++)
        if (bit == 1u << i)
            return iso_names[i];
    return NULL;
}

static int backend_name_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > PX_TEE_BACKEND_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static int set_hex(json_t *o, const char *key, const uint8_t *p, size_t n) {
    char hex[2 * 64 + 1];
    px_hex_encode(hex, p, n);
    return json_object_set_new(o, key, json_string(hex));
}

/* The build as JSON text, written directly: it is most of the claims
 * (some 12 KB for a hundred components) and jansson builds and dumps it a
 * value at a time. A checked build needs no escaping (version and names
 * are printable ASCII without quote or backslash), so these are the bytes
 * jansson's compact dump writes. */
static int build_text(px_buf *out, const px_tee_build *b, px_err *err) {
    if (px_buf_printf(out, err, "{\"version\":\"%s\",\"components\":[", b->version))
        return -1;
    for (size_t i = 0; i < b->n; i++) {
        char hex[2 * PX_SHA256_BYTES + 1];
        px_hex_encode(hex, b->c[i].sha256, PX_SHA256_BYTES);
        if (px_buf_printf(out, err, "%s{\"name\":\"%s\",\"sha256\":\"%s\"}", i ? "," : "", b->c[i].name, hex))
            return -1;
    }
    return px_buf_append_str(out, "]}", err);
}

/* The members before "build" and those after it, as two objects. */
static json_t *claims_head(const px_evidence *ev) {
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "type", json_string(PX_EVIDENCE_TYPE)) |
                  json_object_set_new(o, "backend", json_string(ev->backend)) |
                  json_object_set_new(o, "level", json_integer(ev->level)) |
                  json_object_set_new(o, "node", json_string(ev->node)) |
                  set_hex(o, "measurement", ev->measurement, sizeof ev->measurement)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *claims_tail(const px_evidence *ev) {
    json_t *o = json_object(), *iso = json_array();
    if (!o || !iso) {
        json_decref(o);
        json_decref(iso);
        return NULL;
    }
    for (unsigned i = 0; i < PX_ISO_COUNT; i++)
        if (ev->isolation & (1u << i))
            json_array_append_new(iso, json_string(iso_names[i]));
    if (set_hex(o, "sign_key", ev->sign_pk, sizeof ev->sign_pk) |
        set_hex(o, "box_key", ev->box_pk, sizeof ev->box_pk) | set_hex(o, "nonce", ev->nonce, sizeof ev->nonce) |
        json_object_set_new(o, "isolation", iso) | json_object_set_new(o, "issued", json_integer(ev->issued))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* {head members,"build":<build>,tail members}: the compact dump of the
 * claims object in its member order. */
static int claims_text(px_buf *out, const px_evidence *ev, px_err *err) {
    json_t *head = claims_head(ev), *tail = claims_tail(ev);
    px_buf h = PX_BUF_INIT, t = PX_BUF_INIT;
    int rc = head && tail ? 0 : px_fail(err, PX_E_NOMEM, "cannot build evidence claims");
    if (rc == 0)
        rc = px_json_dump(head, &h, err) || px_json_dump(tail, &t, err);
    if (rc == 0) /* h ends in '}', t starts with '{' */
        rc = px_buf_append(out, h.data, h.len - 1, err) || px_buf_append_str(out, ",\"build\":", err) ||
             build_text(out, &ev->build, err) || px_buf_append_str(out, ",", err) ||
             px_buf_append(out, t.data + 1, t.len - 1, err);
    json_decref(head);
    json_decref(tail);
    px_buf_free(&h);
    px_buf_free(&t);
    return rc ? -1 : 0;
}

static int check_claims(const px_evidence *ev, px_err *err) {
    if (!backend_name_valid(ev->backend))
        return px_fail(err, PX_E_INVALID, "evidence backend name is not 1..%d characters of [a-z0-9-]",
                       PX_TEE_BACKEND_NAME_MAX);
    if (ev->level < 0 || ev->level > 255)
        return px_fail(err, PX_E_INVALID, "evidence level %d is outside 0..255", ev->level);
    if (!px_key_name_valid(ev->node, strlen(ev->node)))
        return px_fail(err, PX_E_INVALID, "evidence node id is not a valid name");
    if (ev->issued < 0)
        return px_fail(err, PX_E_INVALID, "evidence issue time is negative");
    if (ev->isolation >> PX_ISO_COUNT)
        return px_fail(err, PX_E_INVALID, "evidence isolation set has unknown bits");
    if (px_tee_build_check(&ev->build, err))
        return px_err_prefix(err, "evidence: ");
    return 0;
}

int px_evidence_sign(px_buf *out, const px_evidence *ev, const px_signer *platform, px_err *err) {
    if (check_claims(ev, err))
        return px_err_prefix(err, "signing evidence: ");
    px_buf body = PX_BUF_INIT;
    int rc = claims_text(&body, ev, err);
    if (rc == 0)
        rc = px_dsse_sign(out, PX_EVIDENCE_PAYLOAD_TYPE, body.data, body.len, platform, 1, err);
    px_buf_free(&body);
    return rc;
}

static int copy_str(char *dst, size_t cap, const json_t *o, const char *key, px_err *err) {
    const char *s;
    if (px_json_str(o, key, &s, err))
        return -1;
    size_t n = json_string_length(json_object_get(o, key));
    if (n >= cap || strlen(s) != n)
        return px_fail(err, PX_E_INVALID, "field \"%s\" is too long or holds a NUL", key);
    memcpy(dst, s, n + 1);
    return 0;
}

static int parse_isolation(const json_t *arr, unsigned *out, px_err *err) {
    if (!json_is_array(arr))
        return px_fail(err, PX_E_INVALID, "field \"isolation\" must be an array");
    unsigned bits = 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *s = json_string_value(v);
        unsigned bit = 0;
        for (unsigned k = 0; s && k < PX_ISO_COUNT; k++)
            if (!strcmp(s, iso_names[k]))
                bit = 1u << k;
        if (!bit)
            return px_fail(err, PX_E_INVALID, "isolation entry %zu is not a known measure", i);
        if (bits & bit)
            return px_fail(err, PX_E_INVALID, "isolation entry %zu is repeated", i);
        bits |= bit;
    }
    *out = bits;
    return 0;
}

/* {"version": "...", "components": [{"name": "...", "sha256": "<hex>"}...]},
 * exactly these members, components strictly sorted by name. */
static int parse_build(px_tee_build *b, const json_t *o, px_err *err) {
    json_t *arr, *v;
    size_t i;
    if (!json_is_object(o) || json_object_size(o) != BUILD_FIELDS)
        return px_fail(err, PX_E_INVALID, "field \"build\" must be an object of exactly \"version\" and "
                       "\"components\"");
    if (copy_str(b->version, sizeof b->version, o, "version", err))
        return px_err_prefix(err, "build: ");
    arr = json_object_get(o, "components");
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > PX_TEE_BUILD_MAX)
        return px_fail(err, PX_E_INVALID, "build: \"components\" must be an array of 1..%d components",
                       PX_TEE_BUILD_MAX);
    json_array_foreach(arr, i, v) {
        if (!json_is_object(v) || json_object_size(v) != COMPONENT_FIELDS ||
            copy_str(b->c[i].name, sizeof b->c[i].name, v, "name", err) ||
            px_json_hex(v, "sha256", b->c[i].sha256, PX_SHA256_BYTES, err))
            return px_fail(err, PX_E_INVALID, "build: component %zu must be exactly {\"name\", \"sha256\"} with a "
                           "name of at most %d characters and a hex SHA-256", i, PX_TEE_COMPONENT_NAME_MAX);
        b->n = i + 1;
    }
    return px_tee_build_check(b, err) ? px_err_prefix(err, "build: ") : 0;
}

/* The claims object read into ev; with lifted, its "build" member is the
 * sentinel string, standing for that build. */
static int claims_from(px_evidence *ev, const json_t *o, const px_tee_build *lifted, const char *sentinel,
                       px_err *err) {
    px_evidence *e = calloc(1, sizeof *e);
    const char *type;
    int64_t level, issued;
    int rc = -1;
    if (!e)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    const json_t *b = json_object_get(o, "build");
    if (!json_is_object(o) || json_object_size(o) != EVIDENCE_FIELDS) {
        px_fail(err, PX_E_INVALID, "evidence claims must be an object of exactly %d fields", EVIDENCE_FIELDS);
        goto done;
    }
    if (px_json_str(o, "type", &type, err))
        goto done;
    if (strcmp(type, PX_EVIDENCE_TYPE) != 0) {
        px_fail(err, PX_E_INVALID, "evidence type is not %s", PX_EVIDENCE_TYPE);
        goto done;
    }
    if (lifted && !(json_is_string(b) && !strcmp(json_string_value(b), sentinel)))
        goto done; /* not the lifted document: the caller parses the whole */
    if (lifted)
        e->build = *lifted;
    if (copy_str(e->backend, sizeof e->backend, o, "backend", err) || px_json_int(o, "level", &level, err) ||
        copy_str(e->node, sizeof e->node, o, "node", err) ||
        px_json_hex(o, "measurement", e->measurement, sizeof e->measurement, err) ||
        (!lifted && parse_build(&e->build, b, err)) ||
        px_json_hex(o, "sign_key", e->sign_pk, sizeof e->sign_pk, err) ||
        px_json_hex(o, "box_key", e->box_pk, sizeof e->box_pk, err) ||
        px_json_hex(o, "nonce", e->nonce, sizeof e->nonce, err) ||
        parse_isolation(json_object_get(o, "isolation"), &e->isolation, err) ||
        px_json_int(o, "issued", &issued, err))
        goto done;
    if (level < 0 || level > 255) {
        px_fail(err, PX_E_INVALID, "evidence level %lld is outside 0..255", (long long)level);
        goto done;
    }
    e->level = (int)level;
    e->issued = issued;
    if (check_claims(e, err))
        goto done;
    *ev = *e;
    rc = 0;
done:
    free(e);
    return rc;
}

/* A reader that knows which build to expect (a worker, from its INIT)
 * need not parse a hundred components to find it: the claims with
 * "build":<that build's text> replaced by "build":"<sentinel>" parse to
 * the same object but for that member, since the text before it is the
 * same (the member is read in the same place), the build text is one
 * complete JSON value, and the text after it is the same. The sentinel is
 * fresh randomness, so a top-level "build" holding it is this
 * replacement; anything else (no such text, another member holding it)
 * is parsed whole. */
static int lift_build(const uint8_t *p, size_t n, const px_tee_build *expect, px_buf *doc, char *sentinel) {
    uint8_t r[16];
    px_buf needle = PX_BUF_INIT;
    px_random(r, sizeof r);
    strcpy(sentinel, "lifted-");
    px_hex_encode(sentinel + 7, r, sizeof r);
    int rc = px_tee_build_check(expect, NULL) || px_buf_append_str(&needle, "\"build\":", NULL) ||
             build_text(&needle, expect, NULL);
    const uint8_t *at = rc ? NULL : memmem(p, n, needle.data, needle.len);
    if (at)
        rc = px_buf_append(doc, p, (size_t)(at - p), NULL) ||
             px_buf_printf(doc, NULL, "\"build\":\"%s\"", sentinel) ||
             px_buf_append(doc, at + needle.len, n - (size_t)(at - p) - needle.len, NULL);
    px_buf_free(&needle);
    return at && rc == 0 ? 0 : -1;
}

static int parse_claims(px_evidence *ev, const uint8_t *p, size_t n, const px_tee_build *expect, px_err *err) {
    px_buf doc = PX_BUF_INIT;
    char sentinel[8 + 32];
    if (expect && n <= PX_EVIDENCE_MAX_BYTES && lift_build(p, n, expect, &doc, sentinel) == 0) {
        json_t *o = px_json_parse(doc.data, doc.len, PX_EVIDENCE_MAX_BYTES, NULL);
        int rc = o ? claims_from(ev, o, expect, sentinel, NULL) : -1;
        json_decref(o);
        px_buf_free(&doc);
        if (rc == 0)
            return 0; /* else the whole, for its own verdict and error */
    }
    json_t *o = px_json_parse(p, n, PX_EVIDENCE_MAX_BYTES, err);
    if (!o)
        return -1;
    int rc = claims_from(ev, o, NULL, NULL, err);
    json_decref(o);
    return rc;
}

static int open_envelope(px_dsse *env, const void *data, size_t len, px_err *err) {
    if (len > PX_EVIDENCE_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "evidence of %zu bytes exceeds the limit of %u", len,
                       PX_EVIDENCE_MAX_BYTES);
    if (px_dsse_parse(env, data, len, err))
        return px_err_prefix(err, "evidence: ");
    if (strcmp(env->payload_type, PX_EVIDENCE_PAYLOAD_TYPE) != 0) {
        px_dsse_free(env);
        return px_fail(err, PX_E_INVALID, "evidence payload type is not %s", PX_EVIDENCE_PAYLOAD_TYPE);
    }
    return 0;
}

int px_evidence_parse_for(px_evidence *ev, const void *data, size_t len, const px_tee_build *expect,
                          px_err *err) {
    px_dsse env;
    if (open_envelope(&env, data, len, err))
        return -1;
    int rc = parse_claims(ev, env.payload.data, env.payload.len, expect, err);
    px_dsse_free(&env);
    return rc ? px_err_prefix(err, "evidence: ") : 0;
}

int px_evidence_parse(px_evidence *ev, const void *data, size_t len, px_err *err) {
    return px_evidence_parse_for(ev, data, len, NULL, err);
}

void px_evidence_digest(uint8_t out[PX_SHA256_BYTES], const void *data, size_t len) {
    px_sha256(out, data, len);
}

/* Only backends whose evidence this build knows how to judge are accepted;
 * a hardware name here would be a claim nobody checked. */
static int backend_verifiable(const px_evidence *ev, px_err *err) {
    if (strcmp(ev->backend, px_tee_process.name) != 0)
        return px_fail(err, PX_E_VERIFY, "evidence backend \"%s\" cannot be verified by this build", ev->backend);
    if (ev->level != px_tee_process.level)
        return px_fail(err, PX_E_VERIFY, "evidence claims level %d for backend \"%s\", which provides level %d",
                       ev->level, ev->backend, px_tee_process.level);
    return 0;
}

/* The evidence's build must be one the verifier accepts; a refusal names
 * what differs from the reference build, so an operator can see that, say,
 * its sandbox runner is not the one everybody else runs. */
static int build_accepted(const px_evidence *ev, const px_evidence_policy *p, px_err *err) {
    uint8_t d[PX_SHA256_BYTES];
    if (px_tee_build_digest(d, &ev->build, err))
        return px_err_prefix(err, "evidence: ");
    for (size_t i = 0; i < p->nbuilds; i++)
        if (px_ct_equal(d, p->builds[i], PX_SHA256_BYTES))
            return 0;
    char why[160], hex[17];
    if (p->reference && px_tee_build_diff(p->reference, &ev->build, why, sizeof why))
        return px_fail(err, PX_E_VERIFY, "build not accepted: %s", why);
    px_hex_encode(hex, d, 8);
    return px_fail(err, PX_E_VERIFY, "build not accepted: build %s... is none of the %zu accepted builds", hex,
                   p->nbuilds);
}

static int check_policy(const px_evidence *ev, const px_evidence_policy *p, px_err *err) {
    if (backend_verifiable(ev, err))
        return -1;
    if (ev->level < p->min_level)
        return px_fail(err, PX_E_VERIFY, "evidence level %d is below the required minimum %d", ev->level,
                       p->min_level);
    if (p->nbuilds && build_accepted(ev, p, err))
        return -1;
    if (p->measurement && !px_ct_equal(ev->measurement, p->measurement, PX_TEE_MEASUREMENT_BYTES))
        return px_fail(err, PX_E_VERIFY, "evidence measurement does not match the expected measurement");
    if (p->nonce && !px_ct_equal(ev->nonce, p->nonce, PX_TEE_NONCE_BYTES))
        return px_fail(err, PX_E_VERIFY, "evidence nonce does not match the recruiter's nonce");
    if (p->node && strcmp(ev->node, p->node) != 0)
        return px_fail(err, PX_E_VERIFY, "evidence is for node \"%s\", expected \"%s\"", ev->node, p->node);
    return 0;
}

int px_evidence_verify(const void *data, size_t len, const px_evidence_policy *policy, px_evidence *ev,
                       size_t *key_index, px_err *err) {
    px_dsse env;
    if (open_envelope(&env, data, len, err))
        return -1;
    size_t signer = policy->nplatform_keys;
    for (size_t i = 0; i < policy->nplatform_keys && signer == policy->nplatform_keys; i++)
        if (px_dsse_verify(&env, &policy->platform_keys[i], NULL) == 0)
            signer = i;
    px_evidence e;
    int rc = -1;
    if (signer == policy->nplatform_keys)
        px_fail(err, PX_E_VERIFY, "evidence is not signed by any trusted platform key");
    else if (parse_claims(&e, env.payload.data, env.payload.len, NULL, err))
        px_err_prefix(err, "evidence: ");
    else if (check_policy(&e, policy, err) == 0)
        rc = 0;
    px_dsse_free(&env);
    if (rc)
        return -1;
    if (ev)
        *ev = e;
    if (key_index)
        *key_index = signer;
    return 0;
}
