/* The noise source: a pool of CSPRNG bytes refilled in PX_DP_RNG_POOL
 * chunks, so each draw costs a copy rather than a libsodium call. Small
 * draws (signs, Bernoulli(1/k), uniforms below 2^32) take only the bits
 * they need from a 64-bit reservoir, so a discrete Laplace sample costs a
 * few bytes of CSPRNG output rather than several words. */
#include <string.h>

#include "dp_int.h"

static void px_dp_fill_csprng(void *ctx, uint8_t *buf, size_t n) {
    (void)ctx;
    px_random(buf, n);
}

void px_dp_rng_init_with(px_dp_rng *r, px_dp_fill_fn fill, void *ctx) {
    r->fill = fill;
    r->ctx = ctx;
    r->pos = PX_DP_RNG_POOL; /* empty: filled on first draw */
    r->bits = 0;
    r->nbits = 0;
    r->bytes_used = 0;
}

void px_dp_rng_init(px_dp_rng *r) {
    px_dp_rng_init_with(r, px_dp_fill_csprng, NULL);
}

void px_dp_rng_wipe(px_dp_rng *r) {
    px_memzero(r->pool, sizeof r->pool);
    r->pos = PX_DP_RNG_POOL;
    r->bits = 0;
    r->nbits = 0;
}

void px_dp_rng_refill(px_dp_rng *r) {
    r->fill(r->ctx, r->pool, PX_DP_RNG_POOL);
    r->pos = 0;
}

uint64_t px_dp_rng_u64(px_dp_rng *r) {
    if (r->pos > PX_DP_RNG_POOL - 8)
        px_dp_rng_refill(r);
    uint64_t v = px_load_u64le(r->pool + r->pos);
    /* Used bytes are erased so a later memory disclosure cannot replay
     * noise that was already added to a release. */
    memset(r->pool + r->pos, 0, 8);
    r->pos += 8;
    r->bytes_used += 8;
    return v;
}

uint32_t px_dp_rng_bits(px_dp_rng *r, unsigned k) {
    return px_dp_bits(r, k);
}

uint64_t px_dp_rng_below(px_dp_rng *r, uint64_t n) {
    if (n <= (UINT64_C(1) << 32))
        return px_dp_below_small(r, n);
    /* Lemire 2019, "Fast random integer generation in an interval": the
     * high word of x*n is uniform once the low word's biased zone is
     * rejected. n == 0 never happens: callers pass n >= 1. */
    px_u128 m = (px_u128)px_dp_rng_u64(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t thresh = (0 - n) % n;
        while (lo < thresh) {
            m = (px_u128)px_dp_rng_u64(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

px_u256 px_dp_rng_below256(px_dp_rng *r, const px_u256 *n) {
    /* Rejection from the smallest enclosing power of two: fewer than two
     * tries on average. */
    unsigned bits = px_u256_bits(n);
    for (;;) {
        px_u256 x = {{0, 0, 0, 0}};
        for (unsigned i = 0; i * 64 < bits; i++)
            x.w[i] = px_dp_rng_u64(r);
        unsigned top = bits % 64;
        if (top)
            x.w[(bits - 1) / 64] &= (UINT64_C(1) << top) - 1;
        if (px_u256_cmp(&x, n) < 0)
            return x;
    }
}
