/* Exact Bernoulli samplers: Bernoulli(p) for rational p, and
 * Bernoulli(exp(-γ)) for rational γ >= 0 by Canonne, Kamath, Steinke 2020,
 * Algorithm 1: for γ in [0,1], draw A_k ~ Bernoulli(γ/k) for k = 1, 2, ...
 * until the first A_K = 0; P(K odd) = exp(-γ). For γ > 1, exp(-γ) =
 * exp(-1)^floor(γ) * exp(-(γ - floor(γ))), each factor an independent
 * trial, stopping at the first failure. */
#include "dp_int.h"

int px_dp_bernoulli(px_dp_rng *r, uint64_t num, uint64_t den) {
    if (num == 0)
        return 0;
    if (num >= den)
        return 1;
    return px_dp_below(r, den) < num;
}

/* Bernoulli(num / (den * k)): the product of independent Bernoulli(num/den)
 * and Bernoulli(1/k) when den * k does not fit in 64 bits. */
static int px_dp_bernoulli_div(px_dp_rng *r, uint64_t num, uint64_t den,
                               uint64_t k) {
    uint64_t dk;
    if (!__builtin_mul_overflow(den, k, &dk))
        return px_dp_bernoulli(r, num, dk);
    return px_dp_bernoulli(r, num, den) && px_dp_bernoulli(r, 1, k);
}

/* Bernoulli(exp(-1)): Algorithm 1 with γ = 1, where Bernoulli(1/k) is
 * "uniform below k is 0". The hot loop of the discrete Laplace. */
static int px_dp_bernoulli_exp1(px_dp_rng *r) {
    uint64_t k = 2; /* A_1 ~ Bernoulli(1) is always 1 */
    while (px_dp_below(r, k) == 0)
        k++;
    return (int)(k & 1);
}

/* Algorithm 1 for γ = num/den in [0, 1]. */
static int px_dp_bernoulli_exp_unit(px_dp_rng *r, uint64_t num, uint64_t den) {
    uint64_t k = 1;
    while (px_dp_bernoulli_div(r, num, den, k))
        k++;
    return (int)(k & 1);
}

int px_dp_bernoulli_exp(px_dp_rng *r, uint64_t num, uint64_t den) {
    uint64_t whole = num / den;
    for (uint64_t i = 0; i < whole; i++) {
        if (!px_dp_bernoulli_exp1(r))
            return 0;
    }
    return px_dp_bernoulli_exp_unit(r, num % den, den);
}

int px_dp_bernoulli256(px_dp_rng *r, const px_u256 *num, const px_u256 *den) {
    if (px_u256_is_zero(num))
        return 0;
    if (px_u256_cmp(num, den) >= 0)
        return 1;
    px_u256 x = px_dp_rng_below256(r, den);
    return px_u256_cmp(&x, num) < 0;
}

int px_dp_bernoulli_exp256(px_dp_rng *r, const px_u256 *num,
                           const px_u256 *den) {
    px_u256 rem = *num;
    /* Whole part one unit at a time: each unit stops the loop with
     * probability 1 - 1/e, so this ends quickly even for huge γ. */
    while (px_u256_cmp(&rem, den) >= 0) {
        if (!px_dp_bernoulli_exp1(r))
            return 0;
        px_u256_sub(&rem, den);
    }
    uint64_t k = 1;
    for (;;) {
        px_u256 kk = px_u256_from(k), dk;
        int a;
        if (px_u256_mul(&dk, den, &kk) == 0)
            a = px_dp_bernoulli256(r, &rem, &dk);
        else
            a = px_dp_bernoulli256(r, &rem, den) && px_dp_bernoulli(r, 1, k);
        if (!a)
            break;
        k++;
    }
    return (int)(k & 1);
}
