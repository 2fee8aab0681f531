/* Privacy accounting: zCDP <-> (ε, δ) conversion and composition.
 *
 * Pure ε-DP and ρ-zCDP compose by adding ε and ρ (Dwork, Roth 2014,
 * Theorem 3.16; Bun, Steinke 2016, Lemma 1.7). ρ-zCDP implies
 * (ρ + 2 sqrt(ρ ln(1/δ)), δ)-DP for every δ > 0 (Bun, Steinke 2016,
 * Proposition 1.3), and ε-DP implies (ε²/2)-zCDP (Proposition 1.4).
 *
 * The conversion involves ln and sqrt, which no finite decimal holds
 * exactly. It is evaluated in long double (64-bit mantissa, error below
 * 1e-17 relative) and widened by PX_DP_CONV_MARGIN relative in the safe
 * direction, then rounded outward to a decimal grid: a converted ε is never
 * below the true value and a converted ρ never above it. This is
 * accounting only; no noise is ever drawn from floating point. */
#include <math.h>

#include "dp_int.h"

#define PX_DP_CONV_MARGIN 1e-9L
#define PX_DP_EPS_SCALE 1000000000000ULL    /* ε from ρ: 12 decimals */
#define PX_DP_RHO_SCALE 1000000000000000ULL /* ρ from ε: 15 decimals */
#define PX_DP_CONV_MAX 1e6L                 /* largest ε or ρ converted */

static long double px_dp_ld(px_dp_q q) {
    return (long double)q.num / (long double)q.den;
}

/* ln(1/δ) for 0 < δ < 1, rounded up by the margin. */
static int px_dp_log_inv(px_dp_q delta, long double *out, px_err *err) {
    if (delta.num == 0 || delta.num >= delta.den)
        return px_fail(err, PX_E_INVALID, "delta must be in (0, 1)");
    long double l = logl((long double)delta.den) - logl((long double)delta.num);
    *out = l * (1 + PX_DP_CONV_MARGIN) + 1e-18L;
    return 0;
}

int px_dp_zcdp_to_eps(px_dp_q rho, px_dp_q delta, px_dp_q *eps, px_err *err) {
    if (rho.num == 0) {
        *eps = px_dp_q_make(0, 1);
        return 0;
    }
    long double l = 0;
    if (px_dp_log_inv(delta, &l, err) != 0)
        return -1;
    long double r = px_dp_ld(rho);
    long double e = (r + 2 * sqrtl(r * l)) * (1 + PX_DP_CONV_MARGIN);
    if (!(e < PX_DP_CONV_MAX))
        return px_fail(err, PX_E_LIMIT, "converted epsilon too large");
    long double scaled = ceill(e * (long double)PX_DP_EPS_SCALE) + 1;
    *eps = px_dp_q_make((uint64_t)scaled, PX_DP_EPS_SCALE);
    return 0;
}

int px_dp_eps_to_zcdp(px_dp_q eps, px_dp_q delta, px_dp_q *rho, px_err *err) {
    long double l = 0;
    if (eps.num == 0)
        return px_fail(err, PX_E_INVALID, "epsilon must be positive");
    if (px_dp_log_inv(delta, &l, err) != 0)
        return -1;
    long double e = px_dp_ld(eps);
    if (!(e < PX_DP_CONV_MAX))
        return px_fail(err, PX_E_LIMIT, "epsilon too large to convert");
    /* Solve ρ + 2 sqrt(ρ L) = ε: sqrt(ρ) = sqrt(L + ε) - sqrt(L). */
    long double s = sqrtl(l + e) - sqrtl(l);
    /* 3x the margin: ε moves at least half as fast as ρ, so the
     * candidate clears the forward conversion's own margin. */
    long double r = s * s * (1 - 3 * PX_DP_CONV_MARGIN);
    uint64_t num = (uint64_t)floorl(r * (long double)PX_DP_RHO_SCALE);
    /* Accept only a ρ whose (rounded-up) conversion is within ε. */
    for (int tries = 0; tries < 64 && num > 0; tries++) {
        px_dp_q cand = px_dp_q_make(num, PX_DP_RHO_SCALE), back;
        if (px_dp_zcdp_to_eps(cand, delta, &back, err) != 0)
            return -1;
        if (px_dp_q_cmp(back, eps) <= 0) {
            *rho = cand;
            return 0;
        }
        num -= num / 100000000 + 1;
    }
    return px_fail(err, PX_E_LIMIT,
                   "epsilon too small for a zCDP budget at this delta");
}

/* Σ of one field (0 ε, 1 δ, 2 ρ) over the spends, or over the APPROX ones
 * only; ρ is summed over the PURE and ZCDP ones. */
static int px_dp_sum(const px_dp_spend *s, size_t n, int approx_only,
                     int which, px_dp_q *out, px_err *err) {
    px_dp_q acc = px_dp_q_make(0, 1);
    for (size_t i = 0; i < n; i++) {
        if (approx_only && s[i].kind != PX_DP_APPROX)
            continue;
        if (which == 2 && s[i].kind == PX_DP_APPROX)
            continue;
        px_dp_q v = which == 0 ? s[i].epsilon
                    : which == 1 ? s[i].delta
                                 : s[i].rho;
        if (px_dp_q_add(&acc, acc, v, err) != 0)
            return -1;
    }
    *out = acc;
    return 0;
}

int px_dp_compose(const px_dp_spend *s, size_t n, px_dp_q delta_target,
                  px_dp_q delta_max, px_dp_spend *total, px_err *err) {
    px_dp_spend basic = {PX_DP_PURE, {0, 1}, {0, 1}, {0, 1}};
    int any_approx = 0;
    for (size_t i = 0; i < n; i++)
        any_approx |= s[i].kind == PX_DP_APPROX;
    if (px_dp_sum(s, n, 0, 0, &basic.epsilon, err) != 0 ||
        px_dp_sum(s, n, 0, 1, &basic.delta, err) != 0 ||
        px_dp_sum(s, n, 0, 2, &basic.rho, err) != 0)
        return px_err_prefix(err, "composing: ");
    px_dp_q rho_sum = basic.rho, ae, ad; /* ρ of the PURE and ZCDP parts */
    if (any_approx || basic.delta.num) {
        basic.kind = any_approx ? PX_DP_APPROX : PX_DP_ZCDP;
        if (any_approx)
            basic.rho = px_dp_q_make(0, 1);
    }
    int basic_ok = px_dp_q_cmp(basic.delta, delta_max) <= 0;

    /* zCDP route: Σρ converted at delta_target, plus the APPROX parts. */
    px_dp_spend z = {PX_DP_ZCDP, {0, 1}, {0, 1}, {0, 1}};
    int z_ok = 0;
    if (rho_sum.num && delta_target.num && delta_target.num < delta_target.den) {
        if (px_dp_zcdp_to_eps(rho_sum, delta_target, &z.epsilon, err) != 0 ||
            px_dp_sum(s, n, 1, 0, &ae, err) != 0 ||
            px_dp_sum(s, n, 1, 1, &ad, err) != 0 ||
            px_dp_q_add(&z.epsilon, z.epsilon, ae, err) != 0 ||
            px_dp_q_add(&z.delta, delta_target, ad, err) != 0)
            return px_err_prefix(err, "composing: ");
        z.rho = any_approx ? px_dp_q_make(0, 1) : rho_sum;
        z.kind = any_approx ? PX_DP_APPROX : PX_DP_ZCDP;
        z_ok = px_dp_q_cmp(z.delta, delta_max) <= 0;
    }
    if (z_ok && (!basic_ok || px_dp_q_cmp(z.epsilon, basic.epsilon) < 0))
        *total = z;
    else if (basic_ok)
        *total = basic;
    else
        return px_fail(err, PX_E_DENIED,
                       "composition exceeds the allowed delta");
    return 0;
}
