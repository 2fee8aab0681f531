/* Internal to src/dp: wide unsigned integers for exact sampler arithmetic
 * and helpers shared by the mechanism files. */
#ifndef PIXIU_DP_INT_H
#define PIXIU_DP_INT_H

#include "pixiu/dp.h"

__extension__ typedef unsigned __int128 px_u128;
__extension__ typedef __int128 px_i128;

/* 256-bit unsigned integer, little-endian 64-bit limbs. Only what the
 * discrete Gaussian's acceptance test needs: its rationals outgrow 128 bits
 * (numerator up to 2^252, see gaussian.c). */
typedef struct px_u256 {
    uint64_t w[4];
} px_u256;

px_u256 px_u256_from(px_u128 x);
int px_u256_cmp(const px_u256 *a, const px_u256 *b);
/* a -= b; requires a >= b. */
void px_u256_sub(px_u256 *a, const px_u256 *b);
/* a * b; returns -1 if the product does not fit in 256 bits. */
int px_u256_mul(px_u256 *out, const px_u256 *a, const px_u256 *b);
unsigned px_u256_bits(const px_u256 *a); /* bit length, 0 for zero */
int px_u256_is_zero(const px_u256 *a);
/* q = a / d, *rem = a % d, for a 64-bit divisor d >= 1. */
px_u256 px_u256_divmod64(const px_u256 *a, uint64_t d, uint64_t *rem);
/* 1 if the value fits in 64 bits (and stores it). */
int px_u256_to_u64(const px_u256 *a, uint64_t *out);

/* The hot path of the bit reservoir, inlined into the samplers. */
void px_dp_rng_refill(px_dp_rng *r);
static inline uint32_t px_dp_bits(px_dp_rng *r, unsigned k) {
    if (r->nbits < k) {
        /* Leftover bits are dropped rather than spliced: simpler, and at
         * most 31 bits per 64 are lost. */
        r->bits = px_dp_rng_u64(r);
        r->nbits = 64;
    }
    uint32_t v = (uint32_t)(r->bits & ((UINT64_C(1) << k) - 1));
    r->bits >>= k;
    r->nbits -= k;
    return v;
}

/* Uniform in [0, n) for 1 <= n <= 2^32: the fewest bits covering n - 1,
 * rejected when >= n (each try succeeds with probability above 1/2). */
static inline uint64_t px_dp_below_small(px_dp_rng *r, uint64_t n) {
    if (n <= 1)
        return 0;
    unsigned k = 64 - (unsigned)__builtin_clzll(n - 1);
    for (;;) {
        uint64_t x = px_dp_bits(r, k);
        if (x < n)
            return x;
    }
}

static inline uint64_t px_dp_below(px_dp_rng *r, uint64_t n) {
    return n <= (UINT64_C(1) << 32) ? px_dp_below_small(r, n)
                                    : px_dp_rng_below(r, n);
}

/* Uniform in [0, n) for n >= 1. */
px_u256 px_dp_rng_below256(px_dp_rng *r, const px_u256 *n);
/* Bernoulli(num/den) with num <= den, den >= 1, 256-bit. */
int px_dp_bernoulli256(px_dp_rng *r, const px_u256 *num, const px_u256 *den);
/* Bernoulli(exp(-num/den)), 256-bit (Algorithm 1 of CKS20). */
int px_dp_bernoulli_exp256(px_dp_rng *r, const px_u256 *num,
                           const px_u256 *den);

uint64_t px_dp_gcd(uint64_t a, uint64_t b);
int64_t px_dp_sat_add(int64_t a, int64_t b);
int64_t px_dp_sat_i128(px_i128 x, int *saturated);

/* Grid helpers (grid.c). A value x is first judged (NaN refused, ±inf and
 * out-of-range clamped), then rounded to the nearest multiple of 2^grid. */
typedef struct px_dp_gbounds {
    int64_t lo, hi; /* on the grid */
} px_dp_gbounds;
int px_dp_grid_bounds(double lower, double upper, int grid, px_dp_gbounds *gb,
                      px_err *err);
/* Returns 0 and *out, or -1 for NaN. Counts into e. */
int px_dp_grid_value(double x, double lower, double upper, int grid,
                     const px_dp_gbounds *gb, int64_t *out,
                     px_dp_enforced *e);
/* 1 if v is usable: exactly dim values, no NaN; counts the reason if not. */
int px_dp_vec_usable(const px_dp_vec *v, uint32_t dim, px_dp_enforced *e);
/* Exact double of k * 2^grid (saturating magnitude at 2^53 steps is fine:
 * post-processing). */
double px_dp_grid_to_double(int64_t k, int grid);

/* Mechanism families (one file each). All take validated configs. */
int px_dp_mech_sum(const px_dp_config *c, const px_dp_vec *in, size_t n,
                   px_dp_rng *rng, px_dp_result *res, px_err *err);
int px_dp_mech_histogram(const px_dp_config *c, const px_dp_vec *in, size_t n,
                         px_dp_rng *rng, px_dp_result *res, px_err *err);
int px_dp_mech_keys(const px_dp_config *c, const px_dp_vec *in, size_t n,
                    px_dp_rng *rng, px_dp_result *res, px_err *err);
int px_dp_mech_topk(const px_dp_config *c, const px_dp_vec *in, size_t n,
                    px_dp_rng *rng, px_dp_result *res, px_err *err);

/* Per-user vector of counts over declared categories, clamped to
 * [0, upper] on the grid with the L0 limit applied (mech_histogram.c).
 * Returns 0 and fills acc (c->dim entries, int128), or 1 if the vector was
 * dropped. */
int px_dp_accumulate_counts(const px_dp_config *c, const px_dp_gbounds *gb,
                            const px_dp_vec *v, px_i128 *acc,
                            px_dp_enforced *e);
/* Sensitivities of the clamped-count query: L1 (l1) and squared L2 (l2sq)
 * with the L0 limit, and the largest per-coordinate change (linf). */
int px_dp_count_sensitivity(const px_dp_config *c, const px_dp_gbounds *gb,
                            uint64_t *l1, uint64_t *l2sq, uint64_t *linf,
                            px_err *err);
/* Split a budget in equal parts (ε/parts, δ/parts, ρ/parts). */
int px_dp_split_budget(const px_dp_config *c, uint32_t parts, px_dp_q *eps,
                       px_dp_q *delta, px_dp_q *rho, px_err *err);
int px_dp_q_mul_int(px_dp_q *out, px_dp_q a, uint64_t k, px_err *err);
int px_dp_q_div_int(px_dp_q *out, px_dp_q a, uint64_t k, px_err *err);
/* Calibrate noise from the config's budget (or ρ) part. */
int px_dp_calibrate(const px_dp_config *c, px_dp_q eps, px_dp_q delta,
                    px_dp_q rho, uint64_t l1, uint64_t l2sq, px_dp_noise *nz,
                    px_dp_spend *spend, px_err *err);

#endif
