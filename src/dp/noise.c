/* The generic noise interface: calibrate a sampler to a sensitivity and a
 * budget, then draw from it. Laplace gives pure ε-DP for an integer query
 * of L1 sensitivity Δ at scale Δ/ε; the discrete Gaussian gives
 * (Δ₂²/(2σ²))-zCDP for L2 sensitivity Δ₂ (Canonne, Kamath, Steinke 2020,
 * Theorem 14 and Corollary 12 for vectors).
 *
 * When the exact scale (or variance) does not fit the samplers' bounds it
 * is rounded UP to a dyadic rational: more noise, never less, so the spend
 * stated (the requested one) stays an upper bound. */
#include <math.h>

#include "dp_int.h"

#define PX_DP_DYADIC_MAX_SHIFT 62

/* ceil(x * 2^j / d), or UINT64_MAX + more (returned as 0 with *big set). */
static uint64_t px_dp_ceil_shift_div(px_u128 x, unsigned j, uint64_t d,
                                     int *big) {
    px_u256 a = px_u256_from(x), p2 = px_u256_from((px_u128)1 << j), prod;
    px_u256_mul(&prod, &a, &p2); /* < 2^191: fits */
    uint64_t rem, q;
    px_u256 quo = px_u256_divmod64(&prod, d, &rem);
    if (!px_u256_to_u64(&quo, &q) || (rem && q == UINT64_MAX)) {
        *big = 1;
        return 0;
    }
    *big = 0;
    return q + (rem ? 1 : 0);
}

/* ρ for a pure ε (ε²/2), rounded up to 18 decimals. */
static px_dp_q px_dp_pure_rho(px_dp_q eps) {
    px_dp_q r;
    px_u128 num = (px_u128)eps.num * eps.num;
    px_u128 den = (px_u128)eps.den * eps.den;
    if (num <= UINT64_MAX && den <= UINT64_MAX / 2) {
        uint64_t g = px_dp_gcd((uint64_t)num, 2 * (uint64_t)den);
        r.num = (uint64_t)num / g;
        r.den = 2 * (uint64_t)den / g;
        return r;
    }
    long double e = (long double)eps.num / (long double)eps.den;
    long double v = e * e / 2 * (1 + 1e-15L);
    return px_dp_q_make((uint64_t)ceill(v * 1e18L) + 1, 1000000000000000000ULL);
}

static int px_dp_calibrate_laplace(px_dp_noise *nz, uint64_t l1, px_dp_q eps,
                                   px_dp_spend *spend, px_err *err) {
    if (eps.num == 0)
        return px_fail(err, PX_E_INVALID, "epsilon must be positive");
    /* scale = l1 / ε = (l1 * den) / num */
    px_u128 t = (px_u128)l1 * eps.den;
    uint64_t s = eps.num, g = px_dp_gcd((uint64_t)(t % s), s);
    g = g ? g : s; /* gcd(t, s) = gcd(t mod s, s) */
    t /= g;
    s /= g;
    if (t <= PX_DP_LAPLACE_T_MAX) {
        nz->a = (uint64_t)t;
        nz->b = s;
    } else {
        int big = 1;
        uint64_t tj = 0;
        int j = PX_DP_DYADIC_MAX_SHIFT;
        for (; j >= 0; j--) {
            tj = px_dp_ceil_shift_div(t, (unsigned)j, s, &big);
            if (!big && tj <= PX_DP_LAPLACE_T_MAX)
                break;
        }
        if (j < 0)
            return px_fail(err, PX_E_LIMIT,
                           "Laplace scale above 2^40 grid steps: use a "
                           "coarser grid or a larger epsilon");
        nz->a = tj;
        nz->b = UINT64_C(1) << j;
    }
    nz->kind = PX_DP_NOISE_LAPLACE;
    spend->kind = PX_DP_PURE;
    spend->epsilon = eps;
    spend->delta = px_dp_q_make(0, 1);
    spend->rho = px_dp_pure_rho(eps);
    return 0;
}

int px_dp_noise_calibrate_rho(px_dp_noise *nz, uint64_t l2sq, px_dp_q rho,
                              px_dp_q delta, px_dp_spend *spend, px_err *err) {
    if (rho.num == 0)
        return px_fail(err, PX_E_INVALID, "rho must be positive");
    if (l2sq == 0)
        return px_fail(err, PX_E_INVALID, "sensitivity must be positive");
    /* σ² = l2sq / (2ρ) = (l2sq * ρ.den) / (2 * ρ.num) */
    px_u128 n0 = (px_u128)l2sq * rho.den, d0 = (px_u128)2 * rho.num;
    px_u128 a = n0, b = d0;
    while (b) { /* gcd */
        px_u128 r = a % b;
        a = b;
        b = r;
    }
    px_u128 n = n0 / a, d = d0 / a;
    if (n <= PX_DP_GAUSS_SIGMA2_MAX && d <= PX_DP_GAUSS_DEN_MAX) {
        nz->a = (uint64_t)n;
        nz->b = (uint64_t)d;
    } else {
        /* σ² = (n0 * 2^j / ρ.num) / 2^(j+1), numerator rounded up. */
        int j = 31, big = 1;
        uint64_t nj = 0;
        for (; j >= 0; j--) {
            nj = px_dp_ceil_shift_div(n0, (unsigned)j, rho.num, &big);
            if (!big && nj <= PX_DP_GAUSS_SIGMA2_MAX)
                break;
        }
        if (j < 0)
            return px_fail(err, PX_E_LIMIT,
                           "Gaussian variance above 2^62 grid steps: use a "
                           "coarser grid or a larger budget");
        nz->a = nj ? nj : 1;
        nz->b = UINT64_C(1) << (j + 1);
    }
    nz->kind = PX_DP_NOISE_GAUSSIAN;
    spend->kind = PX_DP_ZCDP;
    spend->rho = rho;
    spend->delta = delta;
    if (px_dp_zcdp_to_eps(rho, delta, &spend->epsilon, err) != 0)
        return -1;
    return 0;
}

int px_dp_noise_calibrate(px_dp_noise *nz, px_dp_noise_kind kind, uint64_t l1,
                          uint64_t l2sq, px_dp_q eps, px_dp_q delta,
                          px_dp_spend *spend, px_err *err) {
    if (kind == PX_DP_NOISE_LAPLACE) {
        if (l1 == 0)
            return px_fail(err, PX_E_INVALID, "sensitivity must be positive");
        return px_dp_calibrate_laplace(nz, l1, eps, spend, err);
    }
    if (kind != PX_DP_NOISE_GAUSSIAN)
        return px_fail(err, PX_E_INVALID, "unknown noise kind %d", (int)kind);
    if (delta.num == 0)
        return px_fail(err, PX_E_INVALID, "Gaussian noise needs delta > 0");
    px_dp_q rho;
    if (px_dp_eps_to_zcdp(eps, delta, &rho, err) != 0)
        return -1;
    return px_dp_noise_calibrate_rho(nz, l2sq, rho, delta, spend, err);
}

int px_dp_noise_sample(const px_dp_noise *nz, px_dp_rng *r, int64_t *out,
                       px_err *err) {
    if (nz->kind == PX_DP_NOISE_LAPLACE)
        return px_dp_laplace(r, nz->a, nz->b, out, err);
    if (nz->kind == PX_DP_NOISE_GAUSSIAN)
        return px_dp_gaussian(r, nz->a, nz->b, out, err);
    return px_fail(err, PX_E_INVALID, "noise not calibrated");
}

int px_dp_noise_add(const px_dp_noise *nz, px_dp_rng *r, int64_t x,
                    int64_t *out, px_err *err) {
    int64_t z;
    if (px_dp_noise_sample(nz, r, &z, err) != 0)
        return -1;
    *out = px_dp_sat_add(x, z);
    return 0;
}

const char *px_dp_noise_name(px_dp_noise_kind kind) {
    return kind == PX_DP_NOISE_LAPLACE    ? "laplace"
           : kind == PX_DP_NOISE_GAUSSIAN ? "gaussian"
                                          : "none";
}
