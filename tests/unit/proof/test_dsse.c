/* DSSE v1 and in-toto statements: PAE, fixed vectors from an independent
 * implementation, tampering, hostile envelopes. */
#include "px_test.h"
#include "pixiu/proof.h"

static void load_key(px_signer *s, px_verifier *v) {
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    px_test_read("tests/vectors/dsse/ref.key", &b);
    px_assert_ok(px_signer_parse(s, (char *)b.data, b.len, &err), &err);
    px_signer_verifier(s, v);
    px_buf_free(&b);
}

static void test_pae(void **state) {
    (void)state;
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_dsse_pae(&b, "http://example.com/HelloWorld", (const uint8_t *)"hello world", 11, &err), &err);
    const char *want = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    px_buf_reset(&b);
    px_assert_ok(px_dsse_pae(&b, "t", (const uint8_t *)"", 0, &err), &err);
    assert_int_equal(b.len, strlen("DSSEv1 1 t 0 "));
    px_buf_free(&b);
}

static void test_vectors(void **state) {
    (void)state;
    px_signer s;
    px_verifier v;
    px_err err = {0};
    load_key(&s, &v);
    px_buf py = PX_BUF_INIT, ours = PX_BUF_INIT, payload = PX_BUF_INIT, made = PX_BUF_INIT;
    px_test_read("tests/vectors/dsse/python.env.json", &py);
    px_test_read("tests/vectors/dsse/pixiu.env.json", &ours);
    px_test_read("tests/vectors/dsse/payload.json", &payload);
    px_dsse e;
    px_assert_ok(px_dsse_parse(&e, py.data, py.len, &err), &err);
    px_assert_ok(px_dsse_verify(&e, &v, &err), &err);
    assert_string_equal(e.payload_type, PX_INTOTO_PAYLOAD_TYPE);
    assert_int_equal(e.payload.len, payload.len);
    assert_memory_equal(e.payload.data, payload.data, payload.len);
    px_dsse_free(&e);
    /* Ed25519 is deterministic: signing again gives the committed envelope. */
    px_assert_ok(px_dsse_sign(&made, PX_INTOTO_PAYLOAD_TYPE, payload.data, payload.len, &s, 1, &err), &err);
    assert_int_equal(made.len + 1, ours.len); /* the file ends with a newline */
    assert_memory_equal(made.data, ours.data, made.len);
    /* The statement inside parses. */
    px_statement st;
    px_assert_ok(px_statement_parse(&st, payload.data, payload.len, &err), &err);
    assert_int_equal(st.nsubjects, 1);
    assert_string_equal(st.predicate_type, "urn:pixiu:predicate:execution:v1");
    px_statement_free(&st);
    px_buf_free(&py);
    px_buf_free(&ours);
    px_buf_free(&payload);
    px_buf_free(&made);
}

static void test_every_byte_flip_fails(void **state) {
    (void)state;
    px_signer s;
    px_verifier v;
    px_err err = {0};
    load_key(&s, &v);
    px_buf env = PX_BUF_INIT;
    px_test_read("tests/vectors/dsse/pixiu.env.json", &env);
    env.len--; /* drop the newline: whitespace outside JSON values is not signed data */
    for (size_t i = 0; i < env.len; i++) {
        env.data[i] ^= 0x01;
        px_dsse e;
        int ok = px_dsse_parse(&e, env.data, env.len, &err) == 0;
        if (ok) {
            ok = px_dsse_verify(&e, &v, &err) == 0;
            px_dsse_free(&e);
        }
        if (ok)
            fail_msg("flipping byte %zu ('%c') went unnoticed", i, env.data[i] ^ 0x01);
        env.data[i] ^= 0x01;
    }
    px_buf_free(&env);
}

static void test_hostile(void **state) {
    (void)state;
    px_err err = {0};
    px_dsse e;
    const char *cases[] = {
        "",
        "[]",
        "{\"payloadType\":\"t\",\"payload\":\"\"}",
        "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[]}",
        "{\"payloadType\":\"t\",\"payload\":\"!!\",\"signatures\":[{\"sig\":\"AA==\"}]}",
        "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{\"sig\":7}]}",
        "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{\"keyid\":1,\"sig\":\"AA==\"}]}",
        "{\"payloadType\":\"\",\"payload\":\"\",\"signatures\":[{\"sig\":\"AA==\"}]}",
        "{\"payloadType\":\"t\",\"payloadType\":\"u\",\"payload\":\"\",\"signatures\":[{\"sig\":\"AA==\"}]}",
        "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[\"x\"]}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (px_dsse_parse(&e, cases[i], strlen(cases[i]), &err) == 0)
            fail_msg("case %zu parsed", i);
    /* A well-formed envelope with a wrong signature parses but fails. */
    const char *bad = "{\"payloadType\":\"t\",\"payload\":\"\",\"signatures\":[{\"sig\":\"AA==\"}]}";
    px_assert_ok(px_dsse_parse(&e, bad, strlen(bad), &err), &err);
    px_signer s;
    px_verifier v;
    load_key(&s, &v);
    px_assert_fails(px_dsse_verify(&e, &v, &err), &err, PX_E_VERIFY);
    px_dsse_free(&e);
}

/* An envelope that starts with its payload has the payload lifted out
 * before the rest is parsed: the result is that of parsing it whole, also
 * for look-alikes that must not pass. */
static void test_lifted_payload(void **state) {
    (void)state;
    px_signer s;
    px_verifier v;
    px_err err = {0};
    load_key(&s, &v);
    px_buf env = PX_BUF_INIT, body = PX_BUF_INIT;
    for (int i = 0; i < 3000; i++)
        px_buf_printf(&body, &err, "%d,", i);
    px_assert_ok(px_dsse_sign(&env, "t", body.data, body.len, &s, 1, &err), &err);
    assert_memory_equal(env.data, "{\"payload\":\"", 12);
    px_dsse e;
    px_assert_ok(px_dsse_parse(&e, env.data, env.len, &err), &err);
    assert_int_equal(e.payload.len, body.len);
    assert_memory_equal(e.payload.data, body.data, body.len);
    px_assert_ok(px_dsse_verify(&e, &v, &err), &err);
    px_dsse_free(&e);
    const char *sig = "\"signatures\":[{\"sig\":\"AA==\"}]}";
    char doc[256];
    /* A second payload is a duplicate key, lifted or not. */
    snprintf(doc, sizeof doc, "{\"payload\":\"QUJD\",\"payload\":\"\",\"payloadType\":\"t\",%s", sig);
    px_assert_fails(px_dsse_parse(&e, doc, strlen(doc), &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "column 27")); /* the whole document's position */
    /* An escape in the payload: parsed whole, to its value. */
    snprintf(doc, sizeof doc, "{\"payload\":\"QUJ\\u0044\",\"payloadType\":\"t\",%s", sig);
    px_assert_ok(px_dsse_parse(&e, doc, strlen(doc), &err), &err);
    assert_int_equal(e.payload.len, 3);
    assert_memory_equal(e.payload.data, "ABC", 3);
    px_dsse_free(&e);
    /* Unpadded and URL-safe payloads still take the strict decoder. */
    snprintf(doc, sizeof doc, "{\"payload\":\"QUJDQQ\",\"payloadType\":\"t\",%s", sig);
    px_assert_ok(px_dsse_parse(&e, doc, strlen(doc), &err), &err);
    assert_int_equal(e.payload.len, 4);
    px_dsse_free(&e);
    snprintf(doc, sizeof doc, "{\"payload\":\"QUJ=\",\"payloadType\":\"t\",%s", sig);
    px_assert_fails(px_dsse_parse(&e, doc, strlen(doc), &err), &err, PX_E_INVALID);
    /* Trailing bytes after the lifted payload's document. */
    snprintf(doc, sizeof doc, "{\"payload\":\"QUJD\",\"payloadType\":\"t\",%s x", sig);
    px_assert_fails(px_dsse_parse(&e, doc, strlen(doc), &err), &err, PX_E_INVALID);
    px_buf_free(&env);
    px_buf_free(&body);
}

static void test_statement(void **state) {
    (void)state;
    px_err err = {0};
    px_subject sub = {.name = "out"};
    px_sha256(sub.sha256, "x", 1);
    json_t *pred = json_pack("{s:s}", "status", "ok");
    px_buf b = PX_BUF_INIT;
    px_assert_ok(px_statement_build(&b, &sub, 1, "urn:pixiu:predicate:execution:v1", pred, &err), &err);
    px_statement st;
    px_assert_ok(px_statement_parse(&st, b.data, b.len, &err), &err);
    assert_memory_equal(st.subjects[0].sha256, sub.sha256, 32);
    assert_string_equal(json_string_value(json_object_get(st.predicate, "status")), "ok");
    px_statement_free(&st);
    px_assert_fails(px_statement_build(&b, &sub, 0, "t", pred, &err), &err, PX_E_INVALID);
    json_decref(pred);
    const char *bad[] = {
        "{\"_type\":\"x\",\"subject\":[{\"digest\":{\"sha256\":\"00\"}}],\"predicateType\":\"t\"}",
        "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[],\"predicateType\":\"t\"}",
        "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha512\":\"00\"}}],\"predicateType\":\"t\"}",
        "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha256\":\"00\"}}],\"predicateType\":\"t\"}",
        "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{}}],\"predicateType\":\"t\"}",
        "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[1],\"predicateType\":\"t\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (px_statement_parse(&st, bad[i], strlen(bad[i]), &err) == 0)
            fail_msg("statement case %zu parsed", i);
    px_buf_free(&b);
}

int main(void) {
    px_crypto_init(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pae),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_every_byte_flip_fails),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_lifted_payload),
        cmocka_unit_test(test_statement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
