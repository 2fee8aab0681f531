/* Evidence: the build and its encoding, measurement v2, signing, and every
 * way verification must fail: tampering, untrusted keys, a build that is
 * not accepted (naming what differs), wrong measurement, wrong nonce, level
 * below the minimum, unverifiable backends, malformed claims. */
#include "px_test.h"
#include "pixiu/proof.h"
#include "pixiu/tee.h"

typedef struct env {
    px_signer platform, other;
    px_verifier pv, ov;
    px_evidence ev;
} env;

static void setup_env(env *e) {
    px_err err = {0};
    px_assert_ok(px_crypto_init(&err), &err);
    px_assert_ok(px_signer_generate(&e->platform, "node-a", &err), &err);
    px_assert_ok(px_signer_generate(&e->other, "node-b", &err), &err);
    px_signer_verifier(&e->platform, &e->pv);
    px_signer_verifier(&e->other, &e->ov);
    memset(&e->ev, 0, sizeof e->ev);
    snprintf(e->ev.node, sizeof e->ev.node, "node-a");
    px_random(e->ev.measurement, 32);
    px_random(e->ev.sign_pk, 32);
    px_random(e->ev.box_pk, 32);
    px_random(e->ev.nonce, 32);
    e->ev.isolation = PX_ISO_SECCOMP | PX_ISO_NETNS;
    static const char *const names[] = {"worker", "runner", "cc", "lib libc.so.6", "header /usr/include/wasm-rt.h"};
    px_assert_ok(px_tee_build_init(&e->ev.build, NULL, &err), &err);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint8_t d[32];
        px_sha256(d, names[i], strlen(names[i]));
        px_assert_ok(px_tee_build_add(&e->ev.build, names[i], d, &err), &err);
    }
}

static uint8_t *hash_of(const char *s) {
    static uint8_t d[4][32];
    static int k;
    k = (k + 1) % 4;
    px_sha256(d[k], s, strlen(s));
    return d[k];
}

/* The build digest is the documented encoding (docs/tee.md), pinned by a
 * known answer computed independently of this code. */
static void test_build_encoding(void **state) {
    (void)state;
    px_err err = {0};
    static px_tee_build b, c;
    uint8_t d[32], d2[32], want[32];
    px_assert_ok(px_tee_build_init(&b, "0.1.0", &err), &err);
    px_assert_ok(px_tee_build_add(&b, "worker", hash_of("w"), &err), &err);
    px_assert_ok(px_tee_build_add(&b, "runner", hash_of("r"), &err), &err);
    px_assert_ok(px_tee_build_digest(d, &b, &err), &err);
    px_hex_decode_exact(want, 32, "4a88a61802b97787acfcf6cb74a2c15542dc99bf3c7ce809f9ed0c91c8e08fc3", 64, &err);
    assert_memory_equal(d, want, 32);
    /* The same encoding written out here. */
    px_buf enc = PX_BUF_INIT;
    px_buf_append_str(&enc, "pixiu build v1\n\x05" "0.1.0", &err);
    px_buf_append(&enc, (const uint8_t[]){0, 2, 6}, 3, &err);
    px_buf_append_str(&enc, "worker", &err);
    px_buf_append(&enc, hash_of("w"), 32, &err);
    px_buf_append_u8(&enc, 6, &err);
    px_buf_append_str(&enc, "runner", &err);
    px_buf_append(&enc, hash_of("r"), 32, &err);
    px_sha256(d2, enc.data, enc.len);
    assert_memory_equal(d2, want, 32);
    px_buf_free(&enc);
    /* Order, names, digests and the version all count. */
    px_assert_ok(px_tee_build_init(&c, "0.1.0", &err), &err);
    px_assert_ok(px_tee_build_add(&c, "runner", hash_of("r"), &err), &err);
    px_assert_ok(px_tee_build_add(&c, "worker", hash_of("w"), &err), &err);
    px_assert_ok(px_tee_build_digest(d2, &c, &err), &err);
    assert_memory_not_equal(d, d2, 32);
    c = b;
    strcpy(c.version, "0.1.1");
    px_assert_ok(px_tee_build_digest(d2, &c, &err), &err);
    assert_memory_not_equal(d, d2, 32);
    c = b;
    c.c[1].sha256[31] ^= 1;
    px_assert_ok(px_tee_build_digest(d2, &c, &err), &err);
    assert_memory_not_equal(d, d2, 32);
    c = b;
    strcpy(c.c[1].name, "runnes");
    px_assert_ok(px_tee_build_digest(d2, &c, &err), &err);
    assert_memory_not_equal(d, d2, 32);
    /* Names are length-prefixed: moving a byte from one name to the next
     * is another build. */
    px_assert_ok(px_tee_build_init(&c, "0.1.0", &err), &err);
    px_assert_ok(px_tee_build_add(&c, "ab", hash_of("w"), &err), &err);
    px_assert_ok(px_tee_build_digest(d, &c, &err), &err);
    strcpy(c.c[0].name, "a");
    px_assert_ok(px_tee_build_digest(d2, &c, &err), &err);
    assert_memory_not_equal(d, d2, 32);
    /* What a build may not hold. */
    px_assert_fails(px_tee_build_add(&b, "worker", hash_of("x"), &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "listed twice"));
    const char *bad_names[] = {"", " lead", "trail ", "quo\"te", "back\\slash", "tab\there", "del\x7f"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++)
        px_assert_fails(px_tee_build_add(&b, bad_names[i], hash_of("x"), &err), &err, PX_E_INVALID);
    char longname[PX_TEE_COMPONENT_NAME_MAX + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    px_assert_fails(px_tee_build_add(&b, longname, hash_of("x"), &err), &err, PX_E_INVALID);
    longname[PX_TEE_COMPONENT_NAME_MAX] = 0;
    px_assert_ok(px_tee_build_add(&b, longname, hash_of("x"), &err), &err);
    px_assert_fails(px_tee_build_init(&c, "0.1 beta", &err), &err, PX_E_INVALID);
    px_assert_fails(px_tee_build_init(&c, "", &err), &err, PX_E_INVALID);
    px_assert_ok(px_tee_build_init(&c, NULL, &err), &err);
    assert_string_equal(c.version, PX_VERSION);
    px_assert_fails(px_tee_build_digest(d, &c, &err), &err, PX_E_INVALID); /* no component */
    for (int i = 0; i < PX_TEE_BUILD_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "lib %d", i);
        px_assert_ok(px_tee_build_add(&c, name, hash_of(name), &err), &err);
    }
    px_assert_fails(px_tee_build_add(&c, "one more", hash_of("x"), &err), &err, PX_E_LIMIT);
    px_assert_ok(px_tee_build_digest(d, &c, &err), &err);
    /* A repeated name made behind the API's back is refused too. */
    strcpy(c.c[200].name, "lib 3");
    px_assert_fails(px_tee_build_digest(d, &c, &err), &err, PX_E_INVALID);
}

/* What differs between two builds, in the reference's order. */
static void test_build_diff(void **state) {
    (void)state;
    px_err err = {0};
    static px_tee_build ref, got;
    char why[256];
    px_assert_ok(px_tee_build_init(&ref, "0.1.0", &err), &err);
    const char *names[] = {"worker", "runner", "wasm2c", "cc", "cc1"};
    for (size_t i = 0; i < 5; i++)
        px_assert_ok(px_tee_build_add(&ref, names[i], hash_of(names[i]), &err), &err);
    got = ref;
    assert_int_equal(px_tee_build_diff(&ref, &got, why, sizeof why), 0);
    got.c[3].sha256[0] ^= 0xff; /* cc */
    got.c[1].sha256[0] ^= 0xff; /* runner, listed first */
    assert_int_equal(px_tee_build_diff(&ref, &got, why, sizeof why), 1);
    assert_non_null(strstr(why, "component \"runner\" differs (sha256 "));
    char hex[17];
    px_hex_encode(hex, ref.c[1].sha256, 8);
    assert_non_null(strstr(why, hex)); /* the expected digest, shortened */
    got = ref;
    got.n = 4; /* cc1 left out */
    assert_int_equal(px_tee_build_diff(&ref, &got, why, sizeof why), 1);
    assert_string_equal(why, "component \"cc1\" is missing");
    got = ref;
    px_assert_ok(px_tee_build_add(&got, "lib libevil.so", hash_of("e"), &err), &err);
    assert_int_equal(px_tee_build_diff(&ref, &got, why, sizeof why), 1);
    assert_string_equal(why, "component \"lib libevil.so\" is not in the reference build");
    got = ref;
    strcpy(got.version, "0.2.0");
    assert_int_equal(px_tee_build_diff(&ref, &got, why, sizeof why), 1);
    assert_string_equal(why, "version 0.2.0 differs (expected 0.1.0)");
    got = ref;
    got.c[0] = ref.c[1];
    got.c[1] = ref.c[0];
    assert_int_equal(px_tee_build_diff(&ref, &got, why, sizeof why), 1);
    assert_string_equal(why, "components are in another order");
}

static void attest(env *e, px_buf *out) {
    px_err err = {0};
    px_assert_ok(px_tee_process.attest(&e->ev, &e->platform, out, &err), &err);
}

static void test_measure(void **state) {
    (void)state;
    px_err err = {0};
    uint8_t w[32] = {1}, c[32] = {2}, g[32] = {3}, m1[32], m2[32], want[32];
    /* v2 over a build digest, pinned by a known answer. */
    px_hex_decode_exact(w, 32, "4a88a61802b97787acfcf6cb74a2c15542dc99bf3c7ce809f9ed0c91c8e08fc3", 64, &err);
    px_assert_ok(px_tee_measure(m1, w, "wasm", hash_of("c"), hash_of("g"), &err), &err);
    px_hex_decode_exact(want, 32, "dcb3bbcbe197ecbb537a1d3fbaf4d5e657fa565c19cedf837cb04ea96b5fa730", 64, &err);
    assert_memory_equal(m1, want, 32);
    memset(w, 0, 32);
    w[0] = 1;
    px_assert_ok(px_tee_measure(m1, w, "aggregate", c, g, &err), &err);
    px_assert_ok(px_tee_measure(m2, w, "aggregate", c, g, &err), &err);
    assert_memory_equal(m1, m2, 32);
    /* Every component changes the measurement. */
    uint8_t *parts[] = {w, c, g};
    for (int i = 0; i < 3; i++) {
        parts[i][5] ^= 1;
        px_assert_ok(px_tee_measure(m2, w, "aggregate", c, g, &err), &err);
        assert_memory_not_equal(m1, m2, 32);
        parts[i][5] ^= 1;
    }
    px_assert_ok(px_tee_measure(m2, w, "aggregatf", c, g, &err), &err);
    assert_memory_not_equal(m1, m2, 32);
    px_assert_fails(px_tee_measure(m2, w, "Bad Kind", c, g, &err), &err, PX_E_INVALID);
    px_assert_fails(px_tee_measure(m2, w, "", c, g, &err), &err, PX_E_INVALID);
}

static void test_roundtrip(void **state) {
    (void)state;
    env e;
    setup_env(&e);
    px_buf b = PX_BUF_INIT;
    attest(&e, &b);
    px_verifier keys[2] = {e.ov, e.pv};
    px_evidence_policy pol = {keys, 2, 1, e.ev.measurement, e.ev.nonce, "node-a", NULL, 0, NULL};
    px_evidence got;
    size_t idx = 99;
    px_err err = {0};
    px_assert_ok(px_evidence_verify(b.data, b.len, &pol, &got, &idx, &err), &err);
    assert_int_equal(idx, 1);
    assert_string_equal(got.backend, "process");
    assert_int_equal(got.level, PX_TEE_LEVEL_PROCESS);
    assert_memory_equal(got.sign_pk, e.ev.sign_pk, 32);
    assert_memory_equal(got.box_pk, e.ev.box_pk, 32);
    assert_int_equal(got.isolation, PX_ISO_SECCOMP | PX_ISO_NETNS);
    assert_true(got.issued > 0);
    /* The build comes back whole, in its order. */
    assert_int_equal(got.build.n, 5);
    assert_string_equal(got.build.version, PX_VERSION);
    for (size_t i = 0; i < got.build.n; i++) {
        assert_string_equal(got.build.c[i].name, e.ev.build.c[i].name);
        assert_memory_equal(got.build.c[i].sha256, e.ev.build.c[i].sha256, 32);
    }
    /* The unverified parser reads the same claims. */
    px_evidence parsed;
    px_assert_ok(px_evidence_parse(&parsed, b.data, b.len, &err), &err);
    assert_memory_equal(&parsed, &got, sizeof got);
    px_buf_free(&b);
}

static void test_policy_failures(void **state) {
    (void)state;
    env e;
    setup_env(&e);
    px_buf b = PX_BUF_INIT;
    attest(&e, &b);
    px_err err = {0};
    uint8_t other[32];
    px_random(other, 32);
    px_evidence_policy pol = {&e.pv, 1, 1, other, NULL, NULL, NULL, 0, NULL};
    px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "measurement"));
    pol.measurement = NULL;
    pol.nonce = other;
    px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "nonce"));
    pol.nonce = NULL;
    pol.min_level = 2;
    px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "minimum"));
    pol.min_level = 1;
    pol.node = "node-b";
    px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_VERIFY);
    pol.node = NULL;
    pol.platform_keys = &e.ov; /* not the signer */
    px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "trusted platform key"));
    pol.nplatform_keys = 0;
    px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_VERIFY);
    pol.nplatform_keys = 1;
    pol.platform_keys = &e.pv;
    /* Accepted builds: the evidence's must be one of them; a refusal names
     * the first component that differs from the reference build. */
    uint8_t builds[2][32];
    static px_tee_build ref;
    ref = e.ev.build;
    ref.c[1].sha256[0] ^= 1; /* the reference runs another runner */
    px_assert_ok(px_tee_build_digest(builds[0], &ref, &err), &err);
    px_assert_ok(px_tee_build_digest(builds[1], &e.ev.build, &err), &err);
    pol.builds = (const uint8_t(*)[32])builds;
    pol.nbuilds = 1;
    pol.reference = &ref;
    px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "build not accepted: component \"runner\" differs (sha256 "));
    pol.reference = NULL;
    px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "is none of the 1 accepted builds"));
    pol.nbuilds = 2;
    px_assert_ok(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err);
    px_buf_free(&b);
}

/* Replace the payload of a signed envelope while keeping its signature. */
static void swap_payload(const px_buf *env_in, const char *from, const char *to, px_buf *out) {
    px_dsse d;
    px_err err = {0};
    px_assert_ok(px_dsse_parse(&d, env_in->data, env_in->len, &err), &err);
    px_buf p = PX_BUF_INIT;
    px_assert_ok(px_buf_append(&p, d.payload.data, d.payload.len, &err), &err);
    char *s = px_buf_cstr(&p, &err);
    char *at = strstr(s, from);
    assert_non_null(at);
    px_buf np = PX_BUF_INIT;
    px_buf_append(&np, s, (size_t)(at - s), &err);
    px_buf_append_str(&np, to, &err);
    px_buf_append_str(&np, at + strlen(from), &err);
    json_t *o = json_object();
    char *b64 = malloc(px_b64_encoded_len(np.len) + 1);
    px_b64_encode(b64, np.data, np.len);
    char *sig = malloc(px_b64_encoded_len(d.sigs[0].sig_len) + 1);
    px_b64_encode(sig, d.sigs[0].sig, d.sigs[0].sig_len);
    json_object_set_new(o, "payload", json_string(b64));
    json_object_set_new(o, "payloadType", json_string(d.payload_type));
    json_object_set_new(o, "signatures", json_pack("[{s:s, s:s}]", "keyid", d.sigs[0].keyid, "sig", sig));
    px_assert_ok(px_json_dump(o, out, &err), &err);
    json_decref(o);
    free(b64);
    free(sig);
    px_buf_free(&p);
    px_buf_free(&np);
    px_dsse_free(&d);
}

static void test_tampered(void **state) {
    (void)state;
    env e;
    setup_env(&e);
    px_buf b = PX_BUF_INIT, t = PX_BUF_INIT;
    attest(&e, &b);
    px_err err = {0};
    px_evidence_policy pol = {&e.pv, 1, 1, NULL, NULL, NULL, NULL, 0, NULL};
    /* A raised level under the original signature. */
    swap_payload(&b, "\"level\":1", "\"level\":3", &t);
    px_assert_fails(px_evidence_verify(t.data, t.len, &pol, NULL, NULL, &err), &err, PX_E_VERIFY);
    /* Every single flipped bit of the envelope is refused. */
    for (size_t i = 0; i < b.len; i += 7) {
        px_buf_reset(&t);
        px_buf_append(&t, b.data, b.len, &err);
        t.data[i] ^= 0x01;
        assert_int_equal(px_evidence_verify(t.data, t.len, &pol, NULL, NULL, &err), -1);
    }
    px_buf_free(&b);
    px_buf_free(&t);
}

static void test_unverifiable_backends(void **state) {
    (void)state;
    env e;
    setup_env(&e);
    px_err err = {0};
    px_evidence_policy pol = {&e.pv, 1, 1, NULL, NULL, NULL, NULL, 0, NULL};
    /* A trusted platform key signing a hardware claim is still refused:
     * this build has no way to check a quote. */
    snprintf(e.ev.backend, sizeof e.ev.backend, "sgx-dcap");
    e.ev.level = 3;
    e.ev.issued = 1;
    px_buf b = PX_BUF_INIT;
    px_assert_ok(px_evidence_sign(&b, &e.ev, &e.platform, &err), &err);
    px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "cannot be verified"));
    /* "process" claiming more than it provides. */
    px_buf_reset(&b);
    snprintf(e.ev.backend, sizeof e.ev.backend, "process");
    px_assert_ok(px_evidence_sign(&b, &e.ev, &e.platform, &err), &err);
    px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_VERIFY);
    px_buf_free(&b);
    const px_tee_backend *be;
    px_assert_ok(px_tee_backend_find("process", &be, &err), &err);
    assert_ptr_equal(be, &px_tee_process);
    px_assert_fails(px_tee_backend_find("sgx-dcap", &be, &err), &err, PX_E_UNAVAILABLE);
    px_assert_fails(px_tee_backend_find("tdx", &be, &err), &err, PX_E_UNAVAILABLE);
    px_assert_fails(px_tee_backend_find("magic", &be, &err), &err, PX_E_NOTFOUND);
}

static void sign_payload(env *e, const char *payload, px_buf *out) {
    px_err err = {0};
    px_assert_ok(px_dsse_sign(out, PX_EVIDENCE_PAYLOAD_TYPE, (const uint8_t *)payload, strlen(payload), &e->platform,
                              1, &err),
                 &err);
}

/* The claims' text with one piece replaced, signed again. */
static void edit_claims(env *e, const px_buf *envelope, const char *from, const char *to, px_buf *out) {
    px_dsse d;
    px_err err = {0};
    px_assert_ok(px_dsse_parse(&d, envelope->data, envelope->len, &err), &err);
    px_buf p = PX_BUF_INIT;
    px_assert_ok(px_buf_append(&p, d.payload.data, d.payload.len, &err), &err);
    char *s = px_buf_cstr(&p, &err), *at = strstr(s, from);
    assert_non_null(at);
    px_buf np = PX_BUF_INIT;
    px_buf_append(&np, s, (size_t)(at - s), &err);
    px_buf_append_str(&np, to, &err);
    px_buf_append_str(&np, at + strlen(from), &err);
    sign_payload(e, px_buf_cstr(&np, &err), out);
    px_buf_free(&p);
    px_buf_free(&np);
    px_dsse_free(&d);
}

/* Read with the build it should list (a worker's way), evidence gives
 * exactly what a whole parse gives, and where the build's text sits
 * anywhere but as the top-level "build", the whole parse's verdict. */
static void test_parse_for_build(void **state) {
    (void)state;
    env e;
    setup_env(&e);
    px_err err = {0};
    px_buf ev = PX_BUF_INIT, bad = PX_BUF_INIT;
    attest(&e, &ev);
    static px_evidence a, b;
    px_assert_ok(px_evidence_parse(&a, ev.data, ev.len, &err), &err);
    px_assert_ok(px_evidence_parse_for(&b, ev.data, ev.len, &e.ev.build, &err), &err);
    assert_memory_equal(&a, &b, sizeof a);
    /* Another build expected: parsed whole, the listed build comes back. */
    static px_tee_build other;
    other = e.ev.build;
    other.c[0].sha256[0] ^= 1;
    px_assert_ok(px_evidence_parse_for(&b, ev.data, ev.len, &other, &err), &err);
    assert_memory_equal(&a, &b, sizeof a);
    /* Read the claims' build text, to move it around. */
    px_dsse d;
    px_assert_ok(px_dsse_parse(&d, ev.data, ev.len, &err), &err);
    px_buf claims = PX_BUF_INIT;
    px_buf_append(&claims, d.payload.data, d.payload.len, &err);
    char *c = px_buf_cstr(&claims, &err), *start = strstr(c, "\"build\":"), *end = strstr(c, ",\"sign_key\"");
    assert_true(start && end && end > start);
    char build[4096], moved[2 * 4096 + 64];
    snprintf(build, sizeof build, "%.*s", (int)(end - start), start);
    /* The build's text as the value of a nested "build", the top-level one
     * a string: refused, as whole. */
    snprintf(moved, sizeof moved, "\"node\":{%s}", build);
    edit_claims(&e, &ev, "\"node\":\"node-a\"", moved, &bad);
    px_assert_fails(px_evidence_parse(&a, bad.data, bad.len, &err), &err, PX_E_INVALID);
    px_assert_fails(px_evidence_parse_for(&b, bad.data, bad.len, &e.ev.build, &err), &err, PX_E_INVALID);
    px_buf_reset(&bad);
    /* Twice at the top level: a duplicate key either way. */
    snprintf(moved, sizeof moved, "%s,%s", build, build);
    edit_claims(&e, &ev, build, moved, &bad);
    px_assert_fails(px_evidence_parse_for(&b, bad.data, bad.len, &e.ev.build, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "duplicate"));
    px_buf_reset(&bad);
    /* Its top-level "build" not the listed build, the text elsewhere. */
    snprintf(moved, sizeof moved, "\"build\":7,\"x\":{%s}", build);
    edit_claims(&e, &ev, build, moved, &bad);
    px_assert_fails(px_evidence_parse_for(&b, bad.data, bad.len, &e.ev.build, &err), &err, PX_E_INVALID);
    px_buf_free(&claims);
    px_dsse_free(&d);
    px_buf_free(&ev);
    px_buf_free(&bad);
}

static void test_malformed_claims(void **state) {
    (void)state;
    env e;
    setup_env(&e);
    px_err err = {0};
    px_evidence_policy pol = {&e.pv, 1, 1, NULL, NULL, NULL, NULL, 0, NULL};
    const char *hex = "0000000000000000000000000000000000000000000000000000000000000000";
    char good[2048];
    snprintf(good, sizeof good,
             "{\"type\":\"urn:pixiu:evidence:v2\",\"backend\":\"process\",\"level\":1,\"node\":\"n\","
             "\"measurement\":\"%s\",\"build\":{\"version\":\"0.1.0\",\"components\":["
             "{\"name\":\"worker\",\"sha256\":\"%s\"},{\"name\":\"runner\",\"sha256\":\"%s\"}]},"
             "\"sign_key\":\"%s\",\"box_key\":\"%s\",\"nonce\":\"%s\","
             "\"isolation\":[],\"issued\":5}",
             hex, hex, hex, hex, hex, hex);
    px_buf b = PX_BUF_INIT;
    sign_payload(&e, good, &b);
    px_assert_ok(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err);
    struct {
        const char *from, *to;
    } bad[] = {
        {"\"issued\":5", "\"issued\":5,\"extra\":1"},
        {"\"level\":1,", ""},
        {"\"level\":1", "\"level\":1.0"},
        {"\"isolation\":[]", "\"isolation\":[\"magic\"]"},
        {"\"isolation\":[]", "\"isolation\":[\"netns\",\"netns\"]"},
        {"\"node\":\"n\"", "\"node\":\"a b\""},
        {"\"issued\":5", "\"issued\":-5"},
        {"urn:pixiu:evidence:v2", "urn:pixiu:evidence:v1"}, /* measured v1: only the worker */
        {"\"measurement\":\"00", "\"measurement\":\"0"},
        /* the build */
        {"\"build\":{", "\"bui1d\":{"},
        {"\"build\":{\"version\":\"0.1.0\",", "\"build\":{\"version\":\"0.1.0\",\"x\":1,"},
        {"\"version\":\"0.1.0\"", "\"version\":\"0.1 0\""},
        {"\"version\":\"0.1.0\"", "\"version\":\"\""},
        {"\"version\":\"0.1.0\"", "\"version\":1"},
        {"\"components\":[", "\"components\":[],\"c\":["},
        {"\"components\":[", "\"components\":{\"a\":["},
        {"{\"name\":\"worker\",", "{\"name\":\"worker\",\"path\":\"/x\","},
        {"\"name\":\"runner\"", "\"name\":\"worker\""},
        {"\"name\":\"runner\"", "\"name\":\"run\\\"ner\""},
        {"\"name\":\"runner\"", "\"name\":\"run\\u0000ner\""},
        {"\"name\":\"runner\"", "\"name\":\" runner\""},
        {"\"name\":\"runner\"", "\"name\":7"},
        {"\"name\":\"runner\",\"sha256\":\"00", "\"name\":\"runner\",\"sha256\":\"0"},
        {"\"name\":\"runner\",\"sha256\":\"00", "\"name\":\"runner\",\"sha256\":\"zz"},
        {"{\"name\":\"worker\",", "7,{\"name\":\"worker\","},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char doc[2200], *at = strstr(good, bad[i].from);
        assert_non_null(at);
        snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - good), good, bad[i].to, at + strlen(bad[i].from));
        px_buf_reset(&b);
        sign_payload(&e, doc, &b);
        if (px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err) == 0 || err.code != PX_E_INVALID)
            fail_msg("case %zu (%s) was not refused as invalid: %s", i, bad[i].to, err.msg);
    }
    /* Too many components, and a name one byte too long. */
    px_buf doc = PX_BUF_INIT;
    for (int pass = 0; pass < 2; pass++) {
        px_buf_reset(&doc);
        char *at = strstr(good, "{\"name\":\"worker\"");
        px_buf_append(&doc, good, (size_t)(at - good), &err);
        int n = pass ? 1 : PX_TEE_BUILD_MAX + 1;
        for (int i = 0; i < n; i++) {
            if (pass)
                px_buf_printf(&doc, &err, "{\"name\":\"%0*d\",\"sha256\":\"%s\"},", PX_TEE_COMPONENT_NAME_MAX + 1,
                              i, hex);
            else
                px_buf_printf(&doc, &err, "{\"name\":\"c%d\",\"sha256\":\"%s\"},", i, hex);
        }
        px_buf_append_str(&doc, at, &err);
        px_buf_reset(&b);
        px_assert_ok(px_dsse_sign(&b, PX_EVIDENCE_PAYLOAD_TYPE, doc.data, doc.len, &e.platform, 1, &err), &err);
        px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_INVALID);
    }
    px_buf_free(&doc);
    /* Wrong payload type, not JSON, oversize. */
    px_buf_reset(&b);
    px_assert_ok(px_dsse_sign(&b, "text/plain", (const uint8_t *)good, strlen(good), &e.platform, 1, &err), &err);
    px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_INVALID);
    px_assert_fails(px_evidence_parse(&e.ev, "garbage", 7, &err), &err, PX_E_INVALID);
    px_buf big = PX_BUF_INIT;
    px_buf_reserve(&big, PX_EVIDENCE_MAX_BYTES + 1, &err);
    memset(big.data, '{', PX_EVIDENCE_MAX_BYTES + 1);
    big.len = PX_EVIDENCE_MAX_BYTES + 1;
    px_assert_fails(px_evidence_parse(&e.ev, big.data, big.len, &err), &err, PX_E_LIMIT);
    px_buf_free(&big);
    px_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_encoding),   cmocka_unit_test(test_build_diff),
        cmocka_unit_test(test_measure),          cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_policy_failures),  cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_unverifiable_backends), cmocka_unit_test(test_malformed_claims),
        cmocka_unit_test(test_parse_for_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
