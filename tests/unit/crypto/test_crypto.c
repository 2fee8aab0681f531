/* Crypto layer: known answers, sealing, AEAD, named keys. */
#include "px_test.h"
#include "pixiu/crypto.h"

static void test_sha256_kat(void **state) {
    (void)state;
    uint8_t h[32], h2[32];
    char hex[65];
    px_sha256(h, "abc", 3);
    px_hex_encode(hex, h, 32);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const void *parts[2] = {"a", "bc"};
    size_t lens[2] = {1, 2};
    px_sha256_parts(h2, 2, parts, lens);
    assert_memory_equal(h, h2, 32);
    px_sha256_ctx c;
    px_sha256_init(&c);
    px_sha256_update(&c, "ab", 2);
    px_sha256_update(&c, "c", 1);
    px_sha256_final(&c, h2);
    assert_memory_equal(h, h2, 32);
    px_blake2b(h, "", 0);
    px_hex_encode(hex, h, 32);
    assert_string_equal(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

static void test_sign(void **state) {
    (void)state;
    /* RFC 8032 section 7.1, test 1: empty message. */
    uint8_t seed[32], pk[32], sig[64], want[64];
    px_err err = {0};
    px_assert_ok(px_hex_decode_exact(seed, 32, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", 64, &err), &err);
    px_assert_ok(px_hex_decode_exact(pk, 32, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", 64, &err), &err);
    px_assert_ok(px_hex_decode_exact(want, 64,
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b", 128, &err), &err);
    px_sign_keypair kp;
    px_sign_from_seed(&kp, seed);
    assert_memory_equal(kp.pk, pk, 32);
    px_sign_detached(sig, "", 0, &kp);
    assert_memory_equal(sig, want, 64);
    assert_int_equal(px_sign_verify(sig, "", 0, pk, NULL), 0);
    sig[0] ^= 1;
    px_err bad = {0};
    assert_int_equal(px_sign_verify(sig, "", 0, pk, &bad), -1);
    assert_int_equal(bad.code, PX_E_VERIFY);
}

static void test_seal_and_aead(void **state) {
    (void)state;
    px_box_keypair a, b;
    px_box_keygen(&a);
    px_box_keygen(&b);
    px_buf c = PX_BUF_INIT, m = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_seal(&c, "secret", 6, a.pk, &err), &err);
    assert_int_equal(c.len, 6 + PX_SEAL_OVERHEAD);
    px_assert_fails(px_seal_open(&m, c.data, c.len, &b, &err), &err, PX_E_VERIFY);
    px_assert_ok(px_seal_open(&m, c.data, c.len, &a, &err), &err);
    assert_memory_equal(m.data, "secret", 6);
    c.data[10] ^= 1;
    px_buf_reset(&m);
    px_assert_fails(px_seal_open(&m, c.data, c.len, &a, &err), &err, PX_E_VERIFY);
    px_assert_fails(px_seal_open(&m, c.data, 10, &a, &err), &err, PX_E_INVALID);

    uint8_t key[32];
    px_random(key, sizeof key);
    px_buf_reset(&c);
    px_buf_reset(&m);
    px_assert_ok(px_aead_encrypt(&c, "data", 4, "ad", 2, key, &err), &err);
    px_assert_fails(px_aead_decrypt(&m, c.data, c.len, "AD", 2, key, &err), &err, PX_E_VERIFY);
    px_assert_ok(px_aead_decrypt(&m, c.data, c.len, "ad", 2, key, &err), &err);
    assert_memory_equal(m.data, "data", 4);
    px_buf_free(&c);
    px_buf_free(&m);
    assert_true(px_ct_equal("abc", "abc", 3));
    assert_false(px_ct_equal("abc", "abd", 3));
    for (int i = 0; i < 100; i++)
        assert_true(px_random_uniform(7) < 7);
}

static void test_keys(void **state) {
    (void)state;
    px_err err = {0};
    /* The C2SP signed-note example key. */
    const char *vk = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    px_verifier v;
    px_assert_ok(px_verifier_parse(&v, vk, strlen(vk), &err), &err);
    assert_string_equal(v.name, "example.com/foo");
    assert_int_equal(v.id, 0x530d903a);
    assert_int_equal(px_key_id(v.name, v.pk), 0x530d903a);
    px_buf out = PX_BUF_INIT;
    px_assert_ok(px_verifier_format(&v, &out, &err), &err);
    assert_int_equal(out.len, strlen(vk));
    assert_memory_equal(out.data, vk, out.len);

    /* Any changed byte of a key is detected. */
    for (size_t i = 0; i < strlen(vk); i++) {
        char t[128];
        strcpy(t, vk);
        t[i] ^= 0x01;
        assert_int_equal(px_verifier_parse(&v, t, strlen(t), &err), -1);
    }
    px_signer s;
    px_assert_ok(px_signer_generate(&s, "pixiu.test/k", &err), &err);
    px_buf_reset(&out);
    px_assert_ok(px_signer_format(&s, &out, &err), &err);
    assert_memory_equal(out.data, "PRIVATE+KEY+pixiu.test/k+", 25);
    px_signer s2;
    px_assert_ok(px_signer_parse(&s2, (char *)out.data, out.len, &err), &err);
    assert_string_equal(s.name, s2.name);
    assert_int_equal(s.id, s2.id);
    assert_memory_equal(&s.kp, &s2.kp, sizeof s.kp);
    for (size_t i = 0; i < out.len; i++) {
        out.data[i] ^= 0x01;
        assert_int_equal(px_signer_parse(&s2, (char *)out.data, out.len, &err), -1);
        out.data[i] ^= 0x01;
    }
    px_assert_fails(px_signer_generate(&s, "has space", &err), &err, PX_E_INVALID);
    px_assert_fails(px_signer_generate(&s, "a+b", &err), &err, PX_E_INVALID);
    px_assert_fails(px_signer_generate(&s, "", &err), &err, PX_E_INVALID);
    px_assert_fails(px_signer_generate(&s, "nbsp\xc2\xa0x", &err), &err, PX_E_INVALID);
    px_assert_fails(px_verifier_parse(&v, "a+530d903a", 10, &err), &err, PX_E_INVALID);
    px_buf_free(&out);
}

int main(void) {
    px_crypto_init(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_kat),
        cmocka_unit_test(test_sign),
        cmocka_unit_test(test_seal_and_aead),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
