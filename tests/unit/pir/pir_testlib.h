/* Test support for the PIR unit tests: reproducible bytes (ChaCha20 under a
 * test seed; production code draws from the CSPRNG) and a naive reference
 * for the matrix products. */
#ifndef PX_PIR_TESTLIB_H
#define PX_PIR_TESTLIB_H

#include <string.h>

#include <sodium.h>

#include "pir/pir_int.h"

typedef struct pir_rng {
    uint8_t key[32];
    uint64_t block;
} pir_rng;

static inline void pir_rng_init(pir_rng *r, uint64_t seed) {
    memset(r, 0, sizeof *r);
    memcpy(r->key, &seed, sizeof seed);
}

static inline void pir_rng_fill(pir_rng *r, void *buf, size_t n) {
    uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
    memcpy(nonce, &r->block, sizeof nonce);
    r->block++;
    crypto_stream_chacha20(buf, n, nonce, r->key);
}

static inline uint32_t pir_rng_u32(pir_rng *r) {
    uint32_t v;
    pir_rng_fill(r, &v, sizeof v);
    return v;
}

/* A database of the given shape filled with reproducible bytes; records[]
 * (records × record_bytes) receives the plaintext. */
static inline void pir_test_db(px_pir_db *db, uint64_t records, uint32_t rb, pir_rng *r, uint8_t *plain) {
    px_err err = {0};
    uint8_t seed[PX_PIR_SEED_BYTES];
    px_pir_params pp;
    pir_rng_fill(r, seed, sizeof seed);
    if (px_pir_params_choose(&pp, records, rb, seed, &err) || px_pir_db_new(db, &pp, &err))
        fail_msg("db: %s", err.msg);
    pir_rng_fill(r, plain, records * rb);
    for (uint64_t i = 0; i < records; i++)
        if (px_pir_db_set(db, (uint32_t)i, plain + i * rb, &err))
            fail_msg("db set: %s", err.msg);
}

/* Σ_j DB[row][j] · v[j] mod 2^32, from the plaintext layout. */
static inline uint32_t pir_naive_dot(const px_pir_db *db, uint32_t row, const uint32_t *v) {
    uint32_t acc = 0;
    for (uint32_t j = 0; j < db->params.cols; j++)
        acc += (uint32_t)(int32_t)db->data[(size_t)row * db->stride + j] * v[j];
    return acc;
}

#endif
