/* Source keys (Ed25519 and ECDSA P-256), the record digest, amounts. */
#include "pod_test.h"

#include "pixiu/crypto.h"

static void roundtrip(uint8_t alg) {
    px_err err = {0};
    px_source_signer s, s2;
    px_assert_ok(px_source_signer_generate(&s, "bank.example/records", alg, &err), &err);
    px_buf priv = PX_BUF_INIT, pub = PX_BUF_INIT;
    px_assert_ok(px_source_signer_format(&s, &priv, &err), &err);
    px_assert_ok(px_source_key_format(&s.pub, &pub, &err), &err);
    px_assert_ok(px_source_signer_parse(&s2, (const char *)priv.data, priv.len, &err), &err);
    assert_int_equal(s2.pub.id, s.pub.id);
    px_source_key k;
    px_assert_ok(px_source_key_parse(&k, (const char *)pub.data, pub.len, &err), &err);
    assert_int_equal(k.alg, alg);
    assert_int_equal(k.id, px_source_key_id("bank.example/records", alg, k.pk, k.pk_len));

    uint8_t digest[32], sig[PX_SRC_SIG_BYTES];
    px_sha256(digest, "record", 6);
    px_assert_ok(px_source_sign(&s2, digest, sig, &err), &err);
    assert_int_equal(px_source_verify(&k, digest, sig, sizeof sig), 0);
    assert_int_equal(px_source_verify(&s.pub, digest, sig, sizeof sig), 0);
    sig[10] ^= 1;
    assert_int_equal(px_source_verify(&k, digest, sig, sizeof sig), -1);
    sig[10] ^= 1;
    digest[0] ^= 1;
    assert_int_equal(px_source_verify(&k, digest, sig, sizeof sig), -1);
    assert_int_equal(px_source_verify(&k, digest, sig, sizeof sig - 1), -1);

    /* a key of another source does not verify */
    px_source_signer other;
    px_assert_ok(px_source_signer_generate(&other, "bank.example/records", alg, &err), &err);
    digest[0] ^= 1;
    assert_int_equal(px_source_verify(&other.pub, digest, sig, sizeof sig), -1);

    px_source_signer_free(&other);
    px_source_key_free(&k);
    px_source_signer_free(&s);
    px_source_signer_free(&s2);
    px_buf_free(&priv);
    px_buf_free(&pub);
}

static void test_ed25519(void **state) {
    (void)state;
    roundtrip(PX_SRC_ED25519);
}

static void test_p256(void **state) {
    (void)state;
    roundtrip(PX_SRC_P256);
}

/* The Ed25519 source key text is a plain signed-note verifier key. */
static void test_ed25519_is_note_key(void **state) {
    (void)state;
    px_err err = {0};
    px_signer ns;
    px_assert_ok(px_signer_generate(&ns, "sensor-7", &err), &err);
    px_verifier v;
    px_signer_verifier(&ns, &v);
    px_buf t = PX_BUF_INIT;
    px_assert_ok(px_verifier_format(&v, &t, &err), &err);
    px_source_key k;
    px_assert_ok(px_source_key_parse(&k, (const char *)t.data, t.len, &err), &err);
    assert_int_equal(k.id, v.id);
    assert_memory_equal(k.pk, v.pk, 32);
    px_source_key_free(&k);
    px_buf_free(&t);
}

static void test_forged_and_malformed_keys(void **state) {
    (void)state;
    px_err err = {0};
    px_source_signer s;
    px_assert_ok(px_source_signer_generate(&s, "org", PX_SRC_P256, &err), &err);
    px_buf pub = PX_BUF_INIT;
    px_assert_ok(px_source_key_format(&s.pub, &pub, &err), &err);
    assert_non_null(px_buf_cstr(&pub, &err));
    char *text = (char *)pub.data;
    px_source_key k;
    /* renamed key: the id no longer matches */
    char forged[512];
    snprintf(forged, sizeof forged, "orh%s", text + 3);
    px_assert_fails(px_source_key_parse(&k, forged, strlen(forged), &err), &err, PX_E_VERIFY);
    /* changed id */
    snprintf(forged, sizeof forged, "%s", text);
    forged[4] = forged[4] == '0' ? '1' : '0';
    px_assert_fails(px_source_key_parse(&k, forged, strlen(forged), &err), &err, PX_E_VERIFY);
    /* a point not on the curve, with a matching id (a forger can compute ids) */
    uint8_t pk[65];
    memcpy(pk, s.pub.pk, 65);
    pk[64] ^= 1;
    px_source_key bad;
    memset(&bad, 0, sizeof bad);
    strcpy(bad.name, "org");
    bad.alg = PX_SRC_P256;
    memcpy(bad.pk, pk, 65);
    bad.pk_len = 65;
    bad.id = px_source_key_id("org", PX_SRC_P256, pk, 65);
    px_buf bt = PX_BUF_INIT;
    px_assert_ok(px_source_key_format(&bad, &bt, &err), &err);
    px_assert_fails(px_source_key_parse(&k, (const char *)bt.data, bt.len, &err), &err, PX_E_INVALID);
    /* junk */
    const char *junk[] = {"", "org", "org+", "org+12345678", "org+1234567+AQ==", "o rg+12345678+AQ==",
                          "org+12345678+!!!!", "org+12345678+AwAAAA=="};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++)
        assert_int_equal(px_source_key_parse(&k, junk[i], strlen(junk[i]), &err), -1);
    px_buf_free(&bt);
    px_buf_free(&pub);
    px_source_signer_free(&s);
}

static void test_digest_definition(void **state) {
    (void)state;
    px_pod_schema s;
    test_schema(&s);
    px_value v[5];
    test_values(v, "t1", "alice", 12.5, 3, "x");
    px_err err = {0};
    uint8_t d[32], want[32];
    px_assert_ok(px_source_record_digest(d, &s.rec, v, &err), &err);
    px_buf b = PX_BUF_INIT;
    px_assert_ok(px_buf_append_str(&b, "PIXIU-record-v1\n", &err), &err);
    px_assert_ok(px_record_encode_values(&b, &s.rec, v, &err), &err);
    px_sha256(want, b.data, b.len);
    assert_memory_equal(d, want, 32);
    px_buf_free(&b);
    /* known answers, computed independently with Python's struct and
     * hashlib from the layout in docs/formats.md */
    char hex[65];
    px_hex_encode(hex, d, 32);
    assert_string_equal(hex, "583c583c3678626f0b20f9c89b7ad04edfe802d981207e056d4da51d9801a7f0");
    test_values(v, "", "\xc3\xa9" "e", -0.0, INT64_MIN, "");
    px_assert_ok(px_source_record_digest(d, &s.rec, v, &err), &err);
    px_hex_encode(hex, d, 32);
    assert_string_equal(hex, "58528e8e47b496fc78a878948c1684529d5ca31d5ff6b37ce89a812a6686553d");
}

static void test_amounts(void **state) {
    (void)state;
    px_err err = {0};
    int64_t u;
    char out[PX_AMOUNT_TEXT_MAX];
    px_assert_ok(px_eps_parse(&u, "0.5", PX_ROUND_UP, &err), &err);
    assert_int_equal(u, 500000000);
    px_eps_format(out, u);
    assert_string_equal(out, "0.5");
    px_assert_ok(px_eps_parse(&u, "1e-9", PX_ROUND_UP, &err), &err);
    assert_int_equal(u, 1);
    px_assert_ok(px_eps_parse(&u, "1e-10", PX_ROUND_UP, &err), &err);
    assert_int_equal(u, 1); /* charges round up */
    px_assert_ok(px_eps_parse(&u, "1e-10", PX_ROUND_DOWN, &err), &err);
    assert_int_equal(u, 0); /* limits round down */
    px_assert_ok(px_eps_parse(&u, "10", PX_ROUND_DOWN, &err), &err);
    assert_int_equal(u, 10000000000LL);
    px_assert_ok(px_eps_parse(&u, "0.0000000015", PX_ROUND_UP, &err), &err);
    assert_int_equal(u, 2);
    px_assert_ok(px_delta_parse(&u, "1e-6", PX_ROUND_UP, &err), &err);
    assert_int_equal(u, 1000000000000LL);
    px_delta_format(out, u);
    assert_string_equal(out, "0.000001");
    px_assert_ok(px_delta_parse(&u, "1", PX_ROUND_UP, &err), &err);
    assert_int_equal(u, PX_DELTA_MAX_UNITS);
    px_assert_ok(px_eps_parse(&u, "2.50E+1", PX_ROUND_UP, &err), &err);
    assert_int_equal(u, 25000000000LL);
    px_eps_format(out, 0);
    assert_string_equal(out, "0");
    const char *bad[] = {"", "-1", "abc", "1..0", "1e", "1e+", "0x10", "nan", "inf", " 1", "1 ", "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (px_eps_parse(&u, bad[i], PX_ROUND_UP, &err) != -1)
            fail_msg("\"%s\" was accepted", bad[i]);
    px_assert_fails(px_delta_parse(&u, "1.5", PX_ROUND_UP, &err), &err, PX_E_LIMIT);
    px_assert_fails(px_eps_parse(&u, "2000000", PX_ROUND_UP, &err), &err, PX_E_LIMIT);
    px_assert_fails(px_eps_parse(&u, "99999999999999999999999999", PX_ROUND_UP, &err), &err, PX_E_LIMIT);
}

int main(void) {
    px_err err = {0};
    if (px_crypto_init(&err))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ed25519),
        cmocka_unit_test(test_p256),
        cmocka_unit_test(test_ed25519_is_note_key),
        cmocka_unit_test(test_forged_and_malformed_keys),
        cmocka_unit_test(test_digest_definition),
        cmocka_unit_test(test_amounts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
