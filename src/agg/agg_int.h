/* Internals of the secure-aggregation module shared by its files (not a
 * public contract). Names are agg_* so that px_agg_* stays the API. */
#ifndef PX_AGG_INT_H
#define PX_AGG_INT_H

#include <string.h>

#include <sodium.h>

#include "pixiu/agg.h"

#define AGG_VERSION 1
#define AGG_SHARE_PLAIN 77 /* manifest[32] round from to x y[32] */

/* ctx = manifest id || round u32le, bound into every derived secret so a
 * seed of one round or task is useless in another. */
#define AGG_CTX_BYTES 36
void agg_ctx(const px_agg_params *p, uint8_t ctx[AGG_CTX_BYTES]);

/* ---- the graph (graph.c) ---------------------------------------------------- */

/* Users on a ring in a seeded random order; N(i) are the deg/2 nearest on
 * each side (or everyone else when deg = n-1). */
typedef struct agg_graph {
    uint32_t n, deg;
    uint32_t *pos;  /* pos[i]: ring position of user i */
    uint32_t *user; /* user[r]: user at ring position r */
    uint32_t off[PX_AGG_K_MAX / 2]; /* the deg/2 ring offsets of the links */
} agg_graph;

int agg_graph_build(agg_graph *g, const px_agg_params *p, px_err *err);
void agg_graph_free(agg_graph *g);
/* N(i) ascending into nbrs (deg entries). */
void agg_graph_neighbours(const agg_graph *g, uint32_t i, uint32_t *nbrs);
/* Position of v in N(i) ascending, or -1 when v is not a neighbour. */
int agg_graph_rank(const agg_graph *g, uint32_t i, uint32_t v);

/* ---- survivors (params.c) ------------------------------------------------ */

static inline int agg_bit(const uint8_t *bitmap, uint32_t i) {
    return bitmap[i / 8] >> (i % 8) & 1;
}
/* Checks the bitmap's length and padding and counts it. */
int agg_survivors_check(const px_agg_params *p, const uint8_t *bitmap, size_t len, uint32_t *count,
                        px_err *err);
/* Refuses fewer survivors than max(t, min_survivors). */
int agg_survivors_enough(const px_agg_params *p, uint32_t count, px_err *err);

/* ---- seeds and masks (prg.c) --------------------------------------------- */

/* s_uv from u's secret key and both public keys. -1 when the agreement
 * gives the zero point (a low-order key). */
int agg_pair_seed(const px_agg_params *p, const uint8_t sk_u[32], const uint8_t pk_u[32],
                  const uint8_t pk_v[32], uint8_t seed[32]);
void agg_self_commit(const px_agg_params *p, uint32_t u, const uint8_t b[32], uint8_t out[32]);

/* One keystream to add (sign +1) or subtract (-1). */
typedef struct agg_stream {
    uint8_t key[32];
    int sign;
} agg_stream;

/* Words per chunk: 8 KiB of keystream, generated and added while in L1. */
#define AGG_CHUNK_WORDS 2048

/* acc[i] += Σ_j sign_j PRG(key_j)[first + i] mod 2^32 for i < count; first
 * is a multiple of 16 (a keystream block). Callers that also read other
 * vectors pass a chunk at a time, so everything stays in cache. */
void agg_streams_apply(uint32_t *acc, size_t first, size_t count, const agg_stream *s, size_t ns);

/* ---- Shamir over GF(2^8) (shamir.c) ------------------------------------- */

uint8_t agg_gf_mul(uint8_t a, uint8_t b);
uint8_t agg_gf_inv(uint8_t a);
/* Shares of secret[32] at x = xs[0..m) (distinct, nonzero), threshold t:
 * out[j] = f(xs[j]) byte-wise, f random of degree t-1 with f(0) = secret. */
void agg_shamir_split(const uint8_t secret[32], uint32_t t, const uint8_t *xs, uint32_t m,
                      uint8_t (*out)[32]);
/* The secret from t shares (xs distinct, nonzero). */
void agg_shamir_combine(const uint8_t *xs, const uint8_t (*ys)[32], uint32_t t, uint8_t secret[32]);

/* ---- writers (wire.c) ------------------------------------------------------- */

int agg_put_header(px_buf *b, const char *magic, const px_agg_params *p, uint32_t index, px_err *err);

#endif
