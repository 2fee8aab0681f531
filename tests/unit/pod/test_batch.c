/* Batch signatures: the exact format (tree, batch digest, trailer), good
 * batches of both schemes and several sizes, every way a trailer can be
 * wrong, and the verifier's cache giving exactly the uncached verdicts. */
#include "pod_test.h"

#include "pixiu/log.h"
#include "pod/verifier.h"

static void random_digests(uint8_t *d, size_t n) {
    px_random(d, n * PX_SHA256_BYTES);
}

/* Record i's px_sig in b, into out (reset first). */
static void sig_of(const px_source_batch *b, uint32_t i, px_buf *out) {
    px_err err = {0};
    px_buf_reset(out);
    px_assert_ok(px_source_batch_append_sig(b, i, out, &err), &err);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Every record of batches of 1, 2, 3, 7 and 1000 verifies, through the
 * one-off check and the prover's verifier; the pieces are exactly those of
 * docs/formats.md, recomputed here from the definitions. */
static void good_batches(uint8_t alg) {
    px_err err = {0};
    px_source_signer s;
    px_assert_ok(px_source_signer_generate(&s, "bank.example", alg, &err), &err);
    px_source_verifier v;
    px_assert_ok(px_source_verifier_init(&v, &s.pub, 1, &err), &err);
    const size_t sizes[] = {1, 2, 3, 7, 1000};
    px_buf sig = PX_BUF_INIT;
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        size_t n = sizes[t];
        uint8_t *d = malloc(n * 32), *leaves = malloc(n * 32);
        random_digests(d, n);
        px_source_batch b;
        px_assert_ok(px_source_batch_sign(&b, &s, d, n, &err), &err);
        assert_int_equal(b.size, n);

        /* root: the RFC 9162 tree over SHA-256(0x00 || record digest) */
        for (size_t i = 0; i < n; i++) {
            uint8_t in[33] = {0};
            memcpy(in + 1, d + i * 32, 32);
            px_sha256(leaves + i * 32, in, sizeof in);
        }
        uint8_t root[32], bd[32], msg[15 + 4 + 32];
        px_log_root_from_hashes(root, leaves, n);
        assert_memory_equal(b.root, root, 32);
        /* batch digest: SHA-256("PIXIU-batch-v1\n" || u32 be size || root) */
        memcpy(msg, "PIXIU-batch-v1\n", 15);
        put_be32(msg + 15, (uint32_t)n);
        memcpy(msg + 19, root, 32);
        px_sha256(bd, msg, sizeof msg);
        uint8_t check[32];
        px_source_batch_digest(check, (uint32_t)n, root);
        assert_memory_equal(check, bd, 32);
        /* the signature is an ordinary per-digest one over it */
        assert_int_equal(px_source_verify(&s.pub, bd, b.sig, 64), 0);

        for (uint32_t i = 0; i < n; i++) {
            sig_of(&b, i, &sig);
            assert_int_equal(sig.len, 72 + 32 * px_log_inclusion_proof_len(i, n));
            assert_int_equal(sig.len, px_source_batch_sig_len(i, (uint32_t)n));
            assert_memory_equal(sig.data, b.sig, 64);
            uint8_t be[8];
            put_be32(be, i);
            put_be32(be + 4, (uint32_t)n);
            assert_memory_equal(sig.data + 64, be, 8);
            assert_int_equal(px_log_verify_inclusion(i, n, leaves + i * 32, sig.data + 72, (sig.len - 72) / 32, root,
                                                     &err),
                             0);
            if (px_source_verify(&s.pub, d + i * 32, sig.data, sig.len) != 0)
                fail_msg("record %u of a batch of %zu does not verify", i, n);
            if (px_source_verifier_check(&v, 0, d + i * 32, sig.data, sig.len) != 0)
                fail_msg("record %u of a batch of %zu does not verify with the verifier", i, n);
            /* and not as any other record of the batch */
            if (n > 1 && px_source_verify(&s.pub, d + ((i + 1) % n) * 32, sig.data, sig.len) == 0)
                fail_msg("record %u's signature verifies record %zu", i, (i + 1) % n);
        }
        px_source_batch_free(&b);
        free(d);
        free(leaves);
    }
    px_buf_free(&sig);
    px_source_verifier_free(&v);
    px_source_signer_free(&s);
}

static void test_good_ed25519(void **state) {
    (void)state;
    good_batches(PX_SRC_ED25519);
}

static void test_good_p256(void **state) {
    (void)state;
    good_batches(PX_SRC_P256);
}

/* Both checks must refuse; the verifier is asked twice so that a cached
 * verdict is checked too. */
static void refused(const px_source_key *k, px_source_verifier *v, size_t ki, const uint8_t *digest, const uint8_t *sig,
                    size_t len, const char *what) {
    if (px_source_verify(k, digest, sig, len) != -1)
        fail_msg("%s: px_source_verify accepted it", what);
    for (int again = 0; again < 2; again++)
        if (px_source_verifier_check(v, ki, digest, sig, len) != -1)
            fail_msg("%s: the verifier accepted it (check %d)", what, again + 1);
}

/* Every way a batch trailer can be wrong is a bad signature, never a
 * crash, and never a good one. */
static void bad_trailers(uint8_t alg) {
    px_err err = {0};
    px_source_signer s, other;
    px_assert_ok(px_source_signer_generate(&s, "bank", alg, &err), &err);
    px_assert_ok(px_source_signer_generate(&other, "shop", alg, &err), &err);
    px_source_key keys[2] = {s.pub, other.pub};
    px_source_verifier v;
    px_assert_ok(px_source_verifier_init(&v, keys, 2, &err), &err);
    enum { N = 7 };
    uint8_t d[N * 32], d2[N * 32];
    random_digests(d, N);
    random_digests(d2, N);
    px_source_batch b, b2, bo;
    px_assert_ok(px_source_batch_sign(&b, &s, d, N, &err), &err);
    px_assert_ok(px_source_batch_sign(&b2, &s, d2, N, &err), &err);
    px_assert_ok(px_source_batch_sign(&bo, &other, d, N, &err), &err);
    px_buf sig = PX_BUF_INIT, x = PX_BUF_INIT;
    uint8_t t[PX_SRC_SIG_MAX + 64];

    /* record 2: its own signature is good, as the baseline of each case */
    sig_of(&b, 2, &sig);
    assert_int_equal(px_source_verify(&s.pub, d + 64, sig.data, sig.len), 0);
    assert_int_equal(px_source_verifier_check(&v, 0, d + 64, sig.data, sig.len), 0);

    /* wrong index: record 3's index on record 2's path (same length) */
    memcpy(t, sig.data, sig.len);
    assert_int_equal(px_log_inclusion_proof_len(3, N), px_log_inclusion_proof_len(2, N));
    put_be32(t + 64, 3);
    refused(&s.pub, &v, 0, d + 64, t, sig.len, "wrong index");
    /* index not below size */
    put_be32(t + 64, N);
    refused(&s.pub, &v, 0, d + 64, t, sig.len, "index = size");
    /* wrong size, with a path of the right length for it (6 leaves: record
     * 2's path has 3 hashes too) and without */
    memcpy(t, sig.data, sig.len);
    assert_int_equal(px_log_inclusion_proof_len(2, 6), px_log_inclusion_proof_len(2, N));
    put_be32(t + 68, 6);
    refused(&s.pub, &v, 0, d + 64, t, sig.len, "wrong size");
    put_be32(t + 68, 0);
    refused(&s.pub, &v, 0, d + 64, t, sig.len, "size 0");
    put_be32(t + 68, PX_SRC_BATCH_MAX + 1);
    refused(&s.pub, &v, 0, d + 64, t, sig.len, "size over the limit");
    put_be32(t + 68, 2);
    refused(&s.pub, &v, 0, d + 64, t, 72 + 32, "size 2 (index 2 not below it)");
    /* a path one hash too long or too short */
    memcpy(t, sig.data, sig.len);
    memset(t + sig.len, 0x5a, 32);
    refused(&s.pub, &v, 0, d + 64, t, sig.len + 32, "path one hash too long");
    refused(&s.pub, &v, 0, d + 64, t, sig.len - 32, "path one hash too short");
    refused(&s.pub, &v, 0, d + 64, t, sig.len - 1, "path one byte short");
    refused(&s.pub, &v, 0, d + 64, t, 71, "trailer cut");
    /* a flipped bit anywhere in the path */
    for (size_t i = 72; i < sig.len; i += 13) {
        memcpy(t, sig.data, sig.len);
        t[i] ^= 1;
        refused(&s.pub, &v, 0, d + 64, t, sig.len, "flipped path bit");
    }
    /* the path of record 2 of another batch, with this batch's signature,
     * and that batch's whole trailer */
    sig_of(&b2, 2, &x);
    memcpy(t, sig.data, 72);
    memcpy(t + 72, x.data + 72, x.len - 72);
    refused(&s.pub, &v, 0, d + 64, t, x.len, "path from another batch");
    refused(&s.pub, &v, 0, d + 64, x.data, x.len, "another batch's signature");
    /* signed by another trusted key but named as this one, and the reverse */
    sig_of(&bo, 2, &x);
    assert_int_equal(px_source_verifier_check(&v, 1, d + 64, x.data, x.len), 0);
    refused(&s.pub, &v, 0, d + 64, x.data, x.len, "batch by another key under this key's name");
    refused(&other.pub, &v, 1, d + 64, sig.data, sig.len, "batch by this key under another's name");
    /* a per-record signature with a batch trailer: a batch of one whose
     * root would be the leaf, signed without the batch tag */
    uint8_t one[72];
    px_assert_ok(px_source_sign(&s, d + 64, one, &err), &err);
    assert_int_equal(px_source_verify(&s.pub, d + 64, one, 64), 0);
    put_be32(one + 64, 0);
    put_be32(one + 68, 1);
    refused(&s.pub, &v, 0, d + 64, one, 72, "per-record signature with a batch trailer");
    /* ... and a batch of one's signature without its trailer */
    px_source_batch b1;
    px_assert_ok(px_source_batch_sign(&b1, &s, d + 64, 1, &err), &err);
    sig_of(&b1, 0, &x);
    assert_int_equal(x.len, 72);
    assert_int_equal(px_source_verify(&s.pub, d + 64, x.data, 72), 0);
    refused(&s.pub, &v, 0, d + 64, x.data, 64, "batch signature with an empty trailer");
    /* a signature of the wrong length for either form */
    refused(&s.pub, &v, 0, d + 64, sig.data, 0, "empty");
    refused(&s.pub, &v, 0, d + 64, sig.data, 63, "63 bytes");
    refused(&s.pub, &v, 0, d + 64, sig.data, 65, "65 bytes");
    memset(t, 0, sizeof t);
    refused(&s.pub, &v, 0, d + 64, t, PX_SRC_SIG_MAX + 32, "longer than any batch signature");
    /* the record was good all along */
    assert_int_equal(px_source_verifier_check(&v, 0, d + 64, sig.data, sig.len), 0);

    px_source_batch_free(&b1);
    px_source_batch_free(&b);
    px_source_batch_free(&b2);
    px_source_batch_free(&bo);
    px_buf_free(&sig);
    px_buf_free(&x);
    px_source_verifier_free(&v);
    px_source_signer_free(&s);
    px_source_signer_free(&other);
}

static void test_bad_trailers_ed25519(void **state) {
    (void)state;
    bad_trailers(PX_SRC_ED25519);
}

static void test_bad_trailers_p256(void **state) {
    (void)state;
    bad_trailers(PX_SRC_P256);
}

/* The parser's own limits, and what it names. */
static void test_parse(void **state) {
    (void)state;
    px_err err = {0};
    uint8_t t[PX_SRC_SIG_MAX + 32];
    memset(t, 0, sizeof t);
    px_source_batch_sig b;
    put_be32(t + 68, 1);
    px_assert_ok(px_source_batch_parse(&b, t, 72, &err), &err);
    assert_int_equal(b.size, 1);
    assert_int_equal(b.npath, 0);
    px_assert_fails(px_source_batch_parse(&b, t, 104, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "needs a path of 0 hashes"));
    put_be32(t + 64, 65535);
    put_be32(t + 68, 65536);
    px_assert_ok(px_source_batch_parse(&b, t, PX_SRC_SIG_MAX, &err), &err);
    assert_int_equal(b.npath, 16);
    px_assert_fails(px_source_batch_parse(&b, t, PX_SRC_SIG_MAX + 32, &err), &err, PX_E_INVALID);
    put_be32(t + 68, 65537);
    px_assert_fails(px_source_batch_parse(&b, t, PX_SRC_SIG_MAX, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "batch size 65537"));
    put_be32(t + 64, 9);
    put_be32(t + 68, 9);
    px_assert_fails(px_source_batch_parse(&b, t, 72 + 32, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "index 9 is not below"));
    px_assert_fails(px_source_batch_parse(&b, t, 64, &err), &err, PX_E_INVALID);

    /* the trailer's length is the RFC 9162 proof length for every (index, size) */
    px_source_signer s;
    px_assert_ok(px_source_signer_generate(&s, "bank", PX_SRC_ED25519, &err), &err);
    uint8_t d[70 * 32];
    random_digests(d, 70);
    px_buf sig = PX_BUF_INIT;
    for (size_t n = 1; n <= 70; n++) {
        px_source_batch bb;
        px_assert_ok(px_source_batch_sign(&bb, &s, d, n, &err), &err);
        for (uint32_t i = 0; i < n; i++) {
            sig_of(&bb, i, &sig);
            px_assert_ok(px_source_batch_parse(&b, sig.data, sig.len, &err), &err);
            assert_int_equal(b.index, i);
            assert_int_equal(b.size, n);
            assert_int_equal(b.npath, px_log_inclusion_proof_len(i, n));
        }
        px_assert_fails(px_source_batch_append_sig(&bb, (uint32_t)n, &sig, &err), &err, PX_E_INVALID);
        px_source_batch_free(&bb);
    }
    px_source_batch b0;
    px_assert_fails(px_source_batch_sign(&b0, &s, d, 0, &err), &err, PX_E_INVALID);
    px_assert_fails(px_source_batch_sign(&b0, &s, d, PX_SRC_BATCH_MAX + 1, &err), &err, PX_E_INVALID);
    px_buf_free(&sig);
    px_source_signer_free(&s);
}

/* The cache: a batch's signature is checked once and its verdict reused;
 * a failure stays a failure; anything that differs from a cached entry in
 * any byte of the batch digest or the signature is checked afresh. */
static void test_cache(void **state) {
    (void)state;
    px_err err = {0};
    px_source_signer s;
    px_assert_ok(px_source_signer_generate(&s, "bank", PX_SRC_P256, &err), &err);
    px_source_verifier v;
    px_assert_ok(px_source_verifier_init(&v, &s.pub, 1, &err), &err);
    enum { N = 10, NB = PX_VERIFIER_BATCHES + 2 };
    uint8_t d[NB][N * 32];
    px_source_batch b[NB];
    px_buf sig = PX_BUF_INIT;
    for (int k = 0; k < NB; k++) {
        random_digests(d[k], N);
        px_assert_ok(px_source_batch_sign(&b[k], &s, d[k], N, &err), &err);
    }
    assert_null(v.batches[0]);
    for (uint32_t i = 0; i < N; i++) {
        sig_of(&b[0], i, &sig);
        assert_int_equal(px_source_verifier_check(&v, 0, d[0] + i * 32, sig.data, sig.len), 0);
    }
    assert_non_null(v.batches[0]);
    assert_int_equal(v.batches[0]->n, 1); /* ten records, one signature checked */

    /* the cached verdict is what a hit returns: made wrong on purpose, it
     * shows (so a hit really skips the check) */
    v.batches[0]->seen[0].rc = -1;
    sig_of(&b[0], 3, &sig);
    assert_int_equal(px_source_verifier_check(&v, 0, d[0] + 3 * 32, sig.data, sig.len), -1);
    v.batches[0]->seen[0].rc = 0;

    /* the last byte of the signature differs: not a hit, and bad */
    sig.data[63] ^= 0x80;
    assert_int_equal(px_source_verifier_check(&v, 0, d[0] + 3 * 32, sig.data, sig.len), -1);
    assert_int_equal(v.batches[0]->n, 2);
    /* a failure is cached as a failure, for every record of that batch */
    for (uint32_t i = 0; i < N; i++) {
        sig_of(&b[0], i, &sig);
        sig.data[63] ^= 0x80;
        assert_int_equal(px_source_verifier_check(&v, 0, d[0] + i * 32, sig.data, sig.len), -1);
        assert_int_equal(px_source_verify(&s.pub, d[0] + i * 32, sig.data, sig.len), -1);
    }
    assert_int_equal(v.batches[0]->n, 2);
    /* a record whose digest leads elsewhere with a cached signature */
    sig_of(&b[0], 3, &sig);
    assert_int_equal(px_source_verifier_check(&v, 0, d[1] + 3 * 32, sig.data, sig.len), -1);

    /* more batches than slots, interleaved record by record: every verdict
     * still that of the uncached check */
    for (uint32_t i = 0; i < N; i++)
        for (int k = 0; k < NB; k++) {
            sig_of(&b[k], i, &sig);
            int bad = (i + (uint32_t)k) % 5 == 0;
            if (bad)
                sig.data[(i * 7) % 64] ^= 1;
            int want = px_source_verify(&s.pub, d[k] + i * 32, sig.data, sig.len);
            assert_int_equal(want, bad ? -1 : 0);
            assert_int_equal(px_source_verifier_check(&v, 0, d[k] + i * 32, sig.data, sig.len), want);
        }
    assert_int_equal(v.batches[0]->n, PX_VERIFIER_BATCHES);
    for (int k = 0; k < NB; k++)
        px_source_batch_free(&b[k]);
    px_buf_free(&sig);
    px_source_verifier_free(&v);
    px_source_signer_free(&s);
}

/* Against an independent implementation of docs/formats.md (Python's
 * hashlib and cryptography made the fuzz seeds tests/fuzz/corpus/pod_batch/
 * with this Ed25519 key): signing the same five digests gives the same
 * bytes, and those verify. */
static void test_known_answer(void **state) {
    (void)state;
    static const char key[] = "PRIVATE+KEY+fuzz-source+b29ee44b+AdKPCvuIZONeCb6UUC4fG75rUh1AnhFJOlulnbOprccF";
    px_err err = {0};
    px_source_signer s;
    px_assert_ok(px_source_signer_parse(&s, key, strlen(key), &err), &err);
    uint8_t d[5 * 32];
    for (int i = 0; i < 5; i++) {
        char m[32];
        snprintf(m, sizeof m, "fuzz record %d", i);
        px_sha256(d + i * 32, m, strlen(m));
    }
    px_source_batch b;
    px_assert_ok(px_source_batch_sign(&b, &s, d, 5, &err), &err);
    px_buf sig = PX_BUF_INIT, want = PX_BUF_INIT;
    for (uint32_t i = 0; i < 5; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "tests/fuzz/corpus/pod_batch/batch%u", i);
        want.len = 0;
        px_test_read(rel, &want);
        assert_int_equal(want.data[0], i);
        sig_of(&b, i, &sig);
        assert_int_equal(sig.len, want.len - 1);
        assert_memory_equal(sig.data, want.data + 1, sig.len);
        assert_int_equal(px_source_verify(&s.pub, d + i * 32, want.data + 1, want.len - 1), 0);
    }
    want.len = 0;
    px_test_read("tests/fuzz/corpus/pod_batch/own-digest", &want);
    assert_int_equal(want.len, 1 + 32 + 72);
    assert_memory_equal(want.data + 1, d + 3 * 32, 32);
    assert_int_equal(px_source_verify(&s.pub, d + 3 * 32, want.data + 33, 72), 0);
    want.len = 0;
    px_test_read("tests/fuzz/corpus/pod_batch/single", &want);
    assert_int_equal(px_source_verify(&s.pub, d, want.data + 1, 64), 0);
    want.len = 0;
    px_test_read("tests/fuzz/corpus/pod_batch/short-path", &want);
    assert_int_equal(px_source_verify(&s.pub, d + 4 * 32, want.data + 1, want.len - 1), -1);
    px_buf_free(&sig);
    px_buf_free(&want);
    px_source_batch_free(&b);
    px_source_signer_free(&s);
}

int main(void) {
    if (px_crypto_init(NULL))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_ed25519),
        cmocka_unit_test(test_good_p256),
        cmocka_unit_test(test_bad_trailers_ed25519),
        cmocka_unit_test(test_bad_trailers_p256),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_known_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
