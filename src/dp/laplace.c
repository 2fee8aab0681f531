/* Exact discrete Laplace sampler (Canonne, Kamath, Steinke 2020,
 * Algorithm 2). Output x in Z with P(x) = (1-p)/(1+p) p^|x|, p = exp(-s/t):
 * X = U + tV is geometric with parameter exp(-1/t) when U is uniform on
 * [0, t) kept with probability exp(-U/t) and V counts Bernoulli(exp(-1))
 * successes; floor(X/s) is then geometric with parameter exp(-s/t), and a
 * random sign with the negative zero rejected makes it two-sided. */
#include "dp_int.h"

int px_dp_laplace(px_dp_rng *r, uint64_t t, uint64_t s, int64_t *out,
                  px_err *err) {
    if (t == 0 || s == 0 || t > PX_DP_LAPLACE_T_MAX)
        return px_fail(err, PX_E_INVALID,
                       "discrete Laplace scale %llu/%llu out of range",
                       (unsigned long long)t, (unsigned long long)s);
    for (;;) {
        uint64_t u = px_dp_below(r, t);
        if (!px_dp_bernoulli_exp(r, u, t))
            continue;
        uint64_t v = 0;
        while (px_dp_bernoulli_exp(r, 1, 1))
            v++;
        /* X = U + tV must fit in int64. V beyond 2^23 (t <= 2^40) has
         * probability below exp(-2^23): treat it as the bug it would be. */
        uint64_t tv, x;
        if (__builtin_mul_overflow(t, v, &tv) ||
            __builtin_add_overflow(tv, u, &x) || x > (uint64_t)INT64_MAX)
            return px_fail(err, PX_E_INTERNAL,
                           "discrete Laplace sample overflowed int64");
        uint64_t y = x / s;
        int neg = (int)px_dp_bits(r, 1);
        if (neg && y == 0)
            continue;
        *out = neg ? -(int64_t)y : (int64_t)y;
        return 0;
    }
}
