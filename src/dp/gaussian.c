/* Exact discrete Gaussian sampler (Canonne, Kamath, Steinke 2020,
 * Algorithm 3): propose Y from the discrete Laplace with scale
 * t = floor(σ) + 1 and accept with probability
 * exp(-(|Y| - σ²/t)² / (2σ²)).
 *
 * With σ² = n/d the acceptance exponent is the rational
 *     (|Y|·t·d - n)² / (2·n·d·t²).
 * Bounds: |Y| < 2^63, t <= 2^31 + 1, d <= 2^32, n <= 2^62, so the base
 * |Y|·t·d - n stays below 2^127 (u128), its square below 2^254 and the
 * denominator below 2^160: both fit the 256-bit helpers exactly. */
#include "dp_int.h"

static uint64_t px_dp_isqrt(uint64_t x) {
    uint64_t lo = 0, hi = UINT64_C(1) << 32; /* sqrt(x) < 2^32 */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if ((px_u128)mid * mid <= x)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int px_dp_gaussian(px_dp_rng *r, uint64_t n, uint64_t d, int64_t *out,
                   px_err *err) {
    if (n == 0 || d == 0 || n > PX_DP_GAUSS_SIGMA2_MAX ||
        d > PX_DP_GAUSS_DEN_MAX)
        return px_fail(err, PX_E_INVALID,
                       "discrete Gaussian variance %llu/%llu out of range",
                       (unsigned long long)n, (unsigned long long)d);
    /* floor(sqrt(n/d)) = floor(sqrt(floor(n/d))). */
    uint64_t t = px_dp_isqrt(n / d) + 1;
    px_u256 den, tmp;
    px_u256 two_nd = px_u256_from((px_u128)2 * n * d);
    px_u256 tt = px_u256_from((px_u128)t * t);
    if (px_u256_mul(&den, &two_nd, &tt) != 0)
        return px_fail(err, PX_E_INTERNAL, "discrete Gaussian overflow");
    for (;;) {
        int64_t y;
        if (px_dp_laplace(r, t, 1, &y, err) != 0)
            return -1;
        uint64_t ay = y < 0 ? (uint64_t)0 - (uint64_t)y : (uint64_t)y;
        px_u128 ytd = (px_u128)ay * t * d; /* < 2^127 by the bounds */
        px_u128 base = ytd >= n ? ytd - n : n - ytd;
        px_u256 b = px_u256_from(base), num;
        if (px_u256_mul(&num, &b, &b) != 0)
            return px_fail(err, PX_E_INTERNAL, "discrete Gaussian overflow");
        tmp = num;
        if (px_dp_bernoulli_exp256(r, &tmp, &den)) {
            *out = y;
            return 0;
        }
    }
}
