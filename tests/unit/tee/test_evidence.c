/* Evidence: measurement, signing, and every way verification must fail:
 * tampering, untrusted keys, wrong measurement, wrong nonce, level below
 * the minimum, unverifiable backends, malformed claims. */
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
}

static void attest(env *e, px_buf *out) {
    px_err err = {0};
    px_assert_ok(px_tee_process.attest(&e->ev, &e->platform, out, &err), &err);
}

static void test_measure(void **state) {
    (void)state;
    px_err err = {0};
    uint8_t w[32] = {1}, c[32] = {2}, g[32] = {3}, m1[32], m2[32];
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
    px_evidence_policy pol = {keys, 2, 1, e.ev.measurement, e.ev.nonce, "node-a"};
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
    px_evidence_policy pol = {&e.pv, 1, 1, other, NULL, NULL};
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
    px_evidence_policy pol = {&e.pv, 1, 1, NULL, NULL, NULL};
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
    px_evidence_policy pol = {&e.pv, 1, 1, NULL, NULL, NULL};
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

static void test_malformed_claims(void **state) {
    (void)state;
    env e;
    setup_env(&e);
    px_err err = {0};
    px_evidence_policy pol = {&e.pv, 1, 1, NULL, NULL, NULL};
    const char *hex = "0000000000000000000000000000000000000000000000000000000000000000";
    char good[1024];
    snprintf(good, sizeof good,
             "{\"type\":\"urn:pixiu:evidence:v1\",\"backend\":\"process\",\"level\":1,\"node\":\"n\","
             "\"measurement\":\"%s\",\"sign_key\":\"%s\",\"box_key\":\"%s\",\"nonce\":\"%s\","
             "\"isolation\":[],\"issued\":5}",
             hex, hex, hex, hex);
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
        {"urn:pixiu:evidence:v1", "urn:pixiu:evidence:v2"},
        {"\"measurement\":\"00", "\"measurement\":\"0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char doc[1100], *at = strstr(good, bad[i].from);
        assert_non_null(at);
        snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - good), good, bad[i].to, at + strlen(bad[i].from));
        px_buf_reset(&b);
        sign_payload(&e, doc, &b);
        px_assert_fails(px_evidence_verify(b.data, b.len, &pol, NULL, NULL, &err), &err, PX_E_INVALID);
    }
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
        cmocka_unit_test(test_measure),          cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_policy_failures),  cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_unverifiable_backends), cmocka_unit_test(test_malformed_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
