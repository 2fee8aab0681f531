/* RFC 9474 blind RSA: every step of the RFC's four Appendix A vectors
 * (tests/vectors/rfc9474/), then the protocol with a fresh key and what a
 * careless or hostile party might hand each step. */
#include "px_test.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "pixiu/poll.h"
#include "poll/brsa_int.h"

static void hexfield(const json_t *v, const char *key, px_buf *out) {
    const char *s = json_string_value(json_object_get(v, key));
    assert_non_null(s);
    if (!strncmp(s, "0x", 2))
        s += 2;
    size_t n = strlen(s);
    px_buf_reset(out);
    char tmp[3] = {0};
    const char *p = s;
    if (n % 2) { /* "0x1" style: a leading nibble */
        tmp[0] = '0', tmp[1] = *p++;
        uint8_t b;
        px_err err;
        assert_int_equal(px_hex_decode_exact(&b, 1, tmp, 2, &err), 0);
        px_buf_append(out, &b, 1, NULL);
        n--;
    }
    uint8_t *bytes = malloc(n / 2 + 1);
    px_err err;
    assert_int_equal(px_hex_decode_exact(bytes, n / 2, p, n, &err), 0);
    px_buf_append(out, bytes, n / 2, NULL);
    free(bytes);
}

static px_poll_variant variant_of(const char *name) {
    if (!strcmp(name, "RSABSSA-SHA384-PSS-Randomized"))
        return PX_POLL_SHA384_PSS_RANDOMIZED;
    if (!strcmp(name, "RSABSSA-SHA384-PSSZERO-Randomized"))
        return PX_POLL_SHA384_PSSZERO_RANDOMIZED;
    if (!strcmp(name, "RSABSSA-SHA384-PSS-Deterministic"))
        return PX_POLL_SHA384_PSS_DETERMINISTIC;
    assert_string_equal(name, "RSABSSA-SHA384-PSSZERO-Deterministic");
    return PX_POLL_SHA384_PSSZERO_DETERMINISTIC;
}

/* Left-pad to k bytes (the JSON drops leading zero nibbles of integers). */
static void pad_to(px_buf *b, size_t k) {
    assert_true(b->len <= k);
    px_buf t = PX_BUF_INIT;
    for (size_t i = b->len; i < k; i++)
        px_buf_append_u8(&t, 0, NULL);
    px_buf_append(&t, b->data, b->len, NULL);
    px_buf_free(b);
    *b = t;
}

static void one_vector(const json_t *v) {
    enum { N, E, D, P, Q, MSG, PREFIX, INPUT, SALT, INV, BLINDED, BLIND_SIG, SIG, ENCODED, NF };
    static const char *names[NF] = {"n", "e", "d", "p", "q", "msg", "msg_prefix", "input_msg", "salt", "inv",
                                    "blinded_msg", "blind_sig", "sig", "encoded_msg"};
    px_buf f[NF];
    for (int i = 0; i < NF; i++) {
        f[i] = (px_buf)PX_BUF_INIT;
        if (i != ENCODED || json_object_get(v, "encoded_msg"))
            hexfield(v, names[i], &f[i]);
    }
    const char *name = json_string_value(json_object_get(v, "name"));
    px_poll_variant var = variant_of(name);
    px_err err = {0};
    px_poll_key *sk = NULL;
    px_assert_ok(px_poll_key_from_params(&sk, f[N].data, f[N].len, f[E].data, f[E].len, f[D].data, f[D].len,
                                         f[P].data, f[P].len, f[Q].data, f[Q].len, &err), &err);
    const px_poll_pub *pk = px_poll_key_pub(sk);
    size_t k = px_poll_pub_bytes(pk);
    assert_int_equal(k, 512);
    pad_to(&f[INV], k);

    /* Prepare: input = prefix || msg for the Randomized variants. */
    px_buf want = PX_BUF_INIT;
    px_buf_append(&want, f[PREFIX].data, f[PREFIX].len, NULL);
    px_buf_append(&want, f[MSG].data, f[MSG].len, NULL);
    assert_int_equal(want.len, f[INPUT].len);
    assert_memory_equal(want.data, f[INPUT].data, want.len);
    px_buf prepared = PX_BUF_INIT;
    uint8_t prefix[PX_POLL_PREFIX_BYTES];
    px_assert_ok(px_poll_prepare(var, f[MSG].data, f[MSG].len, prefix, &prepared, &err), &err);
    assert_int_equal(prepared.len, f[INPUT].len);
    assert_memory_equal(prepared.data + prepared.len - f[MSG].len, f[MSG].data, f[MSG].len);

    if (f[ENCODED].len) {
        uint8_t em[PX_POLL_RSA_MAX_BYTES];
        px_assert_ok(px_poll_pss_encode(em, k, 4095, f[INPUT].data, f[INPUT].len, f[SALT].data, f[SALT].len, &err),
                     &err);
        assert_memory_equal(em, f[ENCODED].data, k);
    }
    uint8_t blinded[PX_POLL_RSA_MAX_BYTES], inv[PX_POLL_RSA_MAX_BYTES], bsig[PX_POLL_RSA_MAX_BYTES],
        sig[PX_POLL_RSA_MAX_BYTES];
    uint8_t salt[PX_POLL_SALT_BYTES] = {0};
    if (f[SALT].len)
        memcpy(salt, f[SALT].data, f[SALT].len);
    px_assert_ok(px_poll_blind_with(pk, var, f[INPUT].data, f[INPUT].len, salt, f[INV].data, blinded, inv, &err),
                 &err);
    assert_memory_equal(blinded, f[BLINDED].data, k);
    assert_memory_equal(inv, f[INV].data, k);
    px_assert_ok(px_poll_blind_sign(sk, blinded, k, bsig, &err), &err);
    assert_memory_equal(bsig, f[BLIND_SIG].data, k);
    px_assert_ok(px_poll_finalize(pk, var, f[INPUT].data, f[INPUT].len, bsig, k, inv, sig, &err), &err);
    assert_memory_equal(sig, f[SIG].data, k);
    px_assert_ok(px_poll_verify(pk, var, f[INPUT].data, f[INPUT].len, f[SIG].data, k, &err), &err);

    /* The salt length is part of the variant. */
    px_poll_variant other = (px_poll_variant)(var ^ 1);
    px_assert_fails(px_poll_verify(pk, other, f[INPUT].data, f[INPUT].len, f[SIG].data, k, &err), &err,
                    PX_E_VERIFY);
    /* Any flipped bit of message or signature. */
    for (size_t bit = 0; bit < 8 * f[INPUT].len; bit += 37) {
        f[INPUT].data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        px_assert_fails(px_poll_verify(pk, var, f[INPUT].data, f[INPUT].len, f[SIG].data, k, &err), &err,
                        PX_E_VERIFY);
        f[INPUT].data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t bit = 0; bit < 8 * k; bit += 97) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        px_assert_fails(px_poll_verify(pk, var, f[INPUT].data, f[INPUT].len, sig, k, &err), &err, PX_E_VERIFY);
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Finalize refuses a blind signature that is not the issuer's. */
    bsig[7] ^= 1;
    px_assert_fails(px_poll_finalize(pk, var, f[INPUT].data, f[INPUT].len, bsig, k, inv, sig, &err), &err,
                    PX_E_VERIFY);
    px_poll_key_free(sk);
    for (int i = 0; i < NF; i++)
        px_buf_free(&f[i]);
    px_buf_free(&want);
    px_buf_free(&prepared);
}

static void test_rfc9474_vectors(void **state) {
    (void)state;
    px_buf b = PX_BUF_INIT;
    px_test_read("tests/vectors/rfc9474/test_vectors_rfc9474.json", &b);
    json_t *arr = px_json_parse(b.data, b.len, 1 << 20, NULL);
    assert_non_null(arr);
    assert_int_equal(json_array_size(arr), 4);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) one_vector(v);
    json_decref(arr);
    px_buf_free(&b);
}

static px_poll_key *shared_key;

static int setup(void **state) {
    (void)state;
    px_err err;
    return px_poll_key_generate(&shared_key, 2048, &err);
}

static int teardown(void **state) {
    (void)state;
    px_poll_key_free(shared_key);
    return 0;
}

static void test_roundtrip_fresh_key(void **state) {
    (void)state;
    px_err err = {0};
    const px_poll_pub *pk = px_poll_key_pub(shared_key);
    size_t k = px_poll_pub_bytes(pk);
    assert_int_equal(k, 256);
    const uint8_t msg[] = "one ballot, one member";
    px_buf in = PX_BUF_INIT;
    px_assert_ok(px_poll_prepare(PX_POLL_SHA384_PSS_RANDOMIZED, msg, sizeof msg, NULL, &in, &err), &err);
    uint8_t blinded[256], blinded2[256], inv[256], inv2[256], bsig[256], sig[256];
    px_assert_ok(px_poll_blind(pk, PX_POLL_SHA384_PSS_RANDOMIZED, in.data, in.len, blinded, inv, &err), &err);
    /* Blinding is randomised: the issuer sees unrelated values each time. */
    px_assert_ok(px_poll_blind(pk, PX_POLL_SHA384_PSS_RANDOMIZED, in.data, in.len, blinded2, inv2, &err), &err);
    assert_memory_not_equal(blinded, blinded2, k);
    px_assert_ok(px_poll_blind_sign(shared_key, blinded, k, bsig, &err), &err);
    px_assert_ok(px_poll_finalize(pk, PX_POLL_SHA384_PSS_RANDOMIZED, in.data, in.len, bsig, k, inv, sig, &err),
                 &err);
    assert_memory_not_equal(sig, bsig, k);
    px_assert_ok(px_poll_verify(pk, PX_POLL_SHA384_PSS_RANDOMIZED, in.data, in.len, sig, k, &err), &err);

    /* The token is an ordinary RSASSA-PSS signature: OpenSSL verifies it. */
    size_t slen;
    const uint8_t *spki = px_poll_pub_spki(pk, &slen);
    const unsigned char *p = spki;
    EVP_PKEY *ossl = d2i_PUBKEY(NULL, &p, (long)slen);
    assert_non_null(ossl);
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    assert_int_equal(EVP_DigestVerifyInit(mc, &pc, EVP_sha384(), NULL, ossl), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384()), 1);
    assert_int_equal(EVP_DigestVerify(mc, sig, k, in.data, in.len), 1);
    EVP_MD_CTX_free(mc);
    EVP_PKEY_free(ossl);

    /* Another key's signature does not verify. */
    px_poll_key *other = NULL;
    px_assert_ok(px_poll_key_generate(&other, 2048, &err), &err);
    px_assert_fails(px_poll_verify(px_poll_key_pub(other), PX_POLL_SHA384_PSS_RANDOMIZED, in.data, in.len, sig, k,
                                   &err), &err, PX_E_VERIFY);
    /* Finalizing another key's blind signature fails. That key may also
     * refuse to sign at all: the message was blinded under the first
     * key's modulus, which is above the other's about half the time. */
    uint8_t obsig[256];
    if (px_poll_blind_sign(other, blinded, k, obsig, &err) == 0)
        px_assert_fails(px_poll_finalize(pk, PX_POLL_SHA384_PSS_RANDOMIZED, in.data, in.len, obsig, k, inv, sig, &err),
                        &err, PX_E_VERIFY);
    else
        assert_non_null(strstr(err.msg, "not below the modulus"));
    px_poll_key_free(other);
    px_buf_free(&in);
}

static void test_blind_sign_refuses(void **state) {
    (void)state;
    px_err err = {0};
    const px_poll_pub *pk = px_poll_key_pub(shared_key);
    uint8_t big[256], out[256];
    memset(big, 0xff, sizeof big); /* above the modulus */
    px_assert_fails(px_poll_blind_sign(shared_key, big, sizeof big, out, &err), &err, PX_E_INVALID);
    px_assert_fails(px_poll_blind_sign(shared_key, big, 255, out, &err), &err, PX_E_INVALID);
    px_assert_fails(px_poll_blind_sign(shared_key, big, 257, out, &err), &err, PX_E_INVALID);
    /* Zero is below the modulus: signed (0^d = 0) and checked. */
    uint8_t zero[256] = {0};
    px_assert_ok(px_poll_blind_sign(shared_key, zero, sizeof zero, out, &err), &err);
    /* Signatures of the wrong size or above n are refused, not reduced. */
    const uint8_t m[] = "x";
    px_assert_fails(px_poll_verify(pk, PX_POLL_SHA384_PSS_DETERMINISTIC, m, 1, big, sizeof big, &err), &err,
                    PX_E_VERIFY);
    px_assert_fails(px_poll_verify(pk, PX_POLL_SHA384_PSS_DETERMINISTIC, m, 1, big, 255, &err), &err, PX_E_VERIFY);
    px_assert_fails(px_poll_verify(pk, (px_poll_variant)9, m, 1, big, 256, &err), &err, PX_E_INVALID);
}

static void test_keys_encode(void **state) {
    (void)state;
    px_err err = {0};
    const px_poll_pub *pk = px_poll_key_pub(shared_key);
    size_t len;
    const uint8_t *spki = px_poll_pub_spki(pk, &len);
    px_poll_pub *back = NULL;
    px_assert_ok(px_poll_pub_parse(&back, spki, len, &err), &err);
    uint8_t a[32], b[32];
    px_poll_pub_id(pk, a);
    px_poll_pub_id(back, b);
    assert_memory_equal(a, b, 32);
    px_poll_pub_free(back);
    /* Trailing bytes, truncation, garbage. */
    uint8_t buf[600];
    memcpy(buf, spki, len);
    buf[len] = 0;
    px_assert_fails(px_poll_pub_parse(&back, buf, len + 1, &err), &err, PX_E_INVALID);
    px_assert_fails(px_poll_pub_parse(&back, buf, len - 1, &err), &err, PX_E_INVALID);
    px_assert_fails(px_poll_pub_parse(&back, buf, 0, &err), &err, PX_E_INVALID);
    /* A 1024-bit key is refused. */
    px_poll_key *weak = NULL;
    px_assert_fails(px_poll_key_generate(&weak, 1024, &err), &err, PX_E_INVALID);
    /* Private key export and back: signs the same. */
    px_buf der = PX_BUF_INIT;
    px_assert_ok(px_poll_key_export(shared_key, &der, &err), &err);
    px_poll_key *k2 = NULL;
    px_assert_ok(px_poll_key_parse(&k2, der.data, der.len, &err), &err);
    uint8_t x[256] = {1}, s1[256], s2[256];
    x[0] = 0x12;
    px_assert_ok(px_poll_blind_sign(shared_key, x, 256, s1, &err), &err);
    px_assert_ok(px_poll_blind_sign(k2, x, 256, s2, &err), &err);
    assert_memory_equal(s1, s2, 256);
    px_poll_key_free(k2);
    px_assert_fails(px_poll_key_parse(&k2, der.data, der.len - 3, &err), &err, PX_E_INVALID);
    px_buf_free(&der);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9474_vectors),
        cmocka_unit_test(test_roundtrip_fresh_key),
        cmocka_unit_test(test_blind_sign_refuses),
        cmocka_unit_test(test_keys_encode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
