/* Statistical tests of the exact samplers against their exact
 * distributions, tails included. Seeds are fixed; the false-failure rate of
 * each check is stated in dp_testlib.h (1e-6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "dp/dp_int.h"
#include "dp_testlib.h"

#define N_BERN 200000
#define N_DIST 200000
#define MIN_EXPECTED 20.0

/* ---- Bernoulli ----------------------------------------------------------- */

static void test_bernoulli_rational(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 1);
    const uint64_t cases[][2] = {{1, 2}, {1, 3}, {2, 7}, {999, 1000}, {1, 1000}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double k = 0;
        for (int i = 0; i < N_BERN; i++)
            k += px_dp_bernoulli(&r, cases[c][0], cases[c][1]);
        assert_true(px_test_binomial("bernoulli(p)", k, N_BERN,
                                     (double)cases[c][0] / cases[c][1]));
    }
    assert_int_equal(px_dp_bernoulli(&r, 0, 5), 0);
    assert_int_equal(px_dp_bernoulli(&r, 5, 5), 1);
}

static void test_bernoulli_exp(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 2);
    /* γ across [0,1), exactly 1, and several whole units (Algorithm 1's
     * second branch). */
    const uint64_t cases[][2] = {{0, 1}, {1, 3}, {1, 1}, {5, 2}, {7, 1},
                                 {1, 1000}, {123456789, 100000000}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double k = 0, k256 = 0;
        double p = exp(-(double)cases[c][0] / (double)cases[c][1]);
        /* The 256-bit path with the same γ scaled by 2^100. */
        px_u256 sc = px_u256_from((px_u128)1 << 100), num, den;
        px_u256 a = px_u256_from(cases[c][0]), b = px_u256_from(cases[c][1]);
        assert_int_equal(px_u256_mul(&num, &a, &sc), 0);
        assert_int_equal(px_u256_mul(&den, &b, &sc), 0);
        for (int i = 0; i < N_BERN; i++) {
            k += px_dp_bernoulli_exp(&r, cases[c][0], cases[c][1]);
            k256 += px_dp_bernoulli_exp256(&r, &num, &den);
        }
        assert_true(px_test_binomial("bernoulli(exp(-g))", k, N_BERN, p));
        assert_true(px_test_binomial("bernoulli256(exp(-g))", k256, N_BERN, p));
    }
}

static void test_uniform(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 3);
    enum { K = 7 };
    double obs[K] = {0}, ex[K];
    for (int i = 0; i < N_DIST; i++) {
        uint64_t v = px_dp_rng_below(&r, K);
        assert_true(v < K);
        obs[v]++;
    }
    for (int i = 0; i < K; i++)
        ex[i] = (double)N_DIST / K;
    assert_true(px_test_chi2("uniform(7)", obs, ex, K));
    /* A bound just above 2^63: the top half must hold about half. */
    uint64_t big = (UINT64_C(1) << 63) + 1;
    double hi = 0;
    for (int i = 0; i < N_BERN; i++)
        hi += px_dp_rng_below(&r, big) >= (UINT64_C(1) << 62);
    assert_true(px_test_binomial("uniform(2^63+1) top half", hi, N_BERN, 0.5));
    /* 2^32 is the largest bound served from the bit reservoir; 3 * 2^30
     * needs a rejection (2 bits -> 3 of 4 values kept). */
    double q = 0, t = 0;
    for (int i = 0; i < N_BERN; i++) {
        q += px_dp_rng_below(&r, UINT64_C(1) << 32) < (UINT64_C(1) << 30);
        t += px_dp_rng_below(&r, UINT64_C(3) << 30) >= (UINT64_C(1) << 31);
    }
    assert_true(px_test_binomial("uniform(2^32) first quarter", q, N_BERN, 0.25));
    assert_true(px_test_binomial("uniform(3*2^30) top third", t, N_BERN, 1.0 / 3));
}

/* ---- distributions ------------------------------------------------------- */

typedef double (*px_test_pmf)(int64_t x, const double *par);

static double px_laplace_pmf(int64_t x, const double *par) {
    double p = exp(-par[0]); /* par[0] = s/t */
    return (1 - p) / (1 + p) * pow(p, fabs((double)x));
}

static double px_gauss_pmf(int64_t x, const double *par) {
    /* par[0] = sigma^2, par[1] = normaliser */
    return exp(-(double)x * (double)x / (2 * par[0])) / par[1];
}

static double px_gauss_norm(double sigma2) {
    double z = 1, lim = 40 * sqrt(sigma2) + 10;
    for (double x = 1; x <= lim; x++)
        z += 2 * exp(-x * x / (2 * sigma2));
    return z;
}

static int px_cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Chi-square over single values with enough expected mass, neighbouring
 * values merged until each bin expects at least MIN_EXPECTED, and the two
 * tails beyond as their own bins: the tails are tested, not dropped. */
static int px_test_fit(const char *what, int64_t *xs, size_t n, px_test_pmf f,
                       const double *par, int64_t reach) {
    qsort(xs, n, sizeof *xs, px_cmp64);
    int64_t lo = 0, hi = 0;
    while (n * f(lo - 1, par) >= MIN_EXPECTED && lo > -reach)
        lo--;
    while (n * f(hi + 1, par) >= MIN_EXPECTED && hi < reach)
        hi++;
    double ptail_lo = 0, ptail_hi = 0;
    for (int64_t x = lo - 1; x > lo - 1 - 4 * reach - 200; x--)
        ptail_lo += f(x, par);
    for (int64_t x = hi + 1; x < hi + 1 + 4 * reach + 200; x++)
        ptail_hi += f(x, par);
    size_t cap = (size_t)(hi - lo + 3);
    double *obs = calloc(cap, sizeof *obs), *ex = calloc(cap, sizeof *ex);
    int nb = 0;
    obs[nb] = 0;
    ex[nb] = n * ptail_lo;
    for (size_t i = 0; i < n && xs[i] < lo; i++)
        obs[nb]++;
    nb++;
    double o = 0, e = 0;
    size_t i = 0;
    while (i < n && xs[i] < lo)
        i++;
    for (int64_t x = lo; x <= hi; x++) {
        while (i < n && xs[i] == x) {
            o++;
            i++;
        }
        e += n * f(x, par);
        if (e >= MIN_EXPECTED) {
            obs[nb] = o;
            ex[nb] = e;
            nb++;
            o = e = 0;
        }
    }
    obs[nb - 1] += o;
    ex[nb - 1] += e;
    obs[nb] = (double)(n - i);
    ex[nb] = n * ptail_hi;
    nb++;
    printf("#   range [%lld, %lld], tails expected %.1f / %.1f, seen %.0f / "
           "%.0f\n", (long long)lo, (long long)hi, ex[0], ex[nb - 1], obs[0],
           obs[nb - 1]);
    /* A tail too light for the chi-square approximation joins its
     * neighbour bin (it is still counted). */
    int first = 0;
    if (ex[0] < MIN_EXPECTED) {
        ex[1] += ex[0];
        obs[1] += obs[0];
        first = 1;
    }
    if (ex[nb - 1] < MIN_EXPECTED) {
        ex[nb - 2] += ex[nb - 1];
        obs[nb - 2] += obs[nb - 1];
        nb--;
    }
    int ok = px_test_chi2(what, obs + first, ex + first, nb - first);
    free(obs);
    free(ex);
    return ok;
}

static void test_laplace_fit(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 4);
    /* scale t/s: 1, 10/3, 1/3 (s > t: most mass at 0), 100, 7/2 */
    const uint64_t cases[][2] = {{1, 1}, {10, 3}, {1, 3}, {100, 1}, {7, 2}};
    int64_t *xs = malloc(N_DIST * sizeof *xs);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double par[1] = {(double)cases[c][1] / (double)cases[c][0]};
        for (int i = 0; i < N_DIST; i++)
            assert_int_equal(px_dp_laplace(&r, cases[c][0], cases[c][1],
                                           &xs[i], NULL), 0);
        char what[64];
        snprintf(what, sizeof what, "laplace(%llu/%llu)",
                 (unsigned long long)cases[c][0],
                 (unsigned long long)cases[c][1]);
        assert_true(px_test_fit(what, xs, N_DIST, px_laplace_pmf, par,
                                (int64_t)(40 * cases[c][0] / cases[c][1]) + 5));
    }
    free(xs);
}

static void test_laplace_far_tail(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 5);
    /* Scale 2: P(|X| >= 12) = 2 p^12 / (1 + p), p = e^-1/2, about 2e-3. */
    double p = exp(-0.5), pt = 2 * pow(p, 12) / (1 + p), k = 0;
    for (int i = 0; i < N_DIST; i++) {
        int64_t x;
        assert_int_equal(px_dp_laplace(&r, 2, 1, &x, NULL), 0);
        k += x >= 12 || x <= -12;
    }
    assert_true(px_test_binomial("laplace(2) |X| >= 12", k, N_DIST, pt));
}

static void test_gaussian_fit(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 6);
    /* sigma^2 = 1/2 (t = 1), 1, 25/3, 400 */
    const uint64_t cases[][2] = {{1, 2}, {1, 1}, {25, 3}, {400, 1}};
    int64_t *xs = malloc(N_DIST * sizeof *xs);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double s2 = (double)cases[c][0] / (double)cases[c][1];
        double par[2] = {s2, px_gauss_norm(s2)};
        for (int i = 0; i < N_DIST; i++)
            assert_int_equal(px_dp_gaussian(&r, cases[c][0], cases[c][1],
                                            &xs[i], NULL), 0);
        char what[64];
        snprintf(what, sizeof what, "gaussian(%llu/%llu)",
                 (unsigned long long)cases[c][0],
                 (unsigned long long)cases[c][1]);
        assert_true(px_test_fit(what, xs, N_DIST, px_gauss_pmf, par,
                                (int64_t)(12 * sqrt(s2)) + 5));
    }
    free(xs);
}

static void test_gaussian_wide(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 7);
    /* sigma^2 = 2^62 / 3: exercises the 256-bit acceptance path near its
     * bounds. Moments: the sample variance of N draws has relative
     * standard deviation sqrt(2/N); both checks are 5-sigma. */
    enum { N = 20000 };
    uint64_t n = UINT64_C(1) << 62, d = 3;
    double s2 = (double)n / d, sum = 0, sq = 0;
    for (int i = 0; i < N; i++) {
        int64_t x;
        assert_int_equal(px_dp_gaussian(&r, n, d, &x, NULL), 0);
        sum += (double)x;
        sq += (double)x * (double)x;
    }
    double mean = sum / N, var = sq / N - mean * mean;
    printf("# gaussian(2^62/3): mean/sigma = %.4f, var/sigma^2 = %.4f\n",
           mean / sqrt(s2), var / s2);
    assert_true(fabs(mean) <= 5 * sqrt(s2 / N));
    assert_true(fabs(var / s2 - 1) <= 5 * sqrt(2.0 / N));
}

static void test_sampler_params(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_err err;
    int64_t x;
    px_test_rng(&r, &s, 8);
    assert_int_equal(px_dp_laplace(&r, 0, 1, &x, &err), -1);
    assert_int_equal(err.code, PX_E_INVALID);
    assert_int_equal(px_dp_laplace(&r, 1, 0, &x, &err), -1);
    assert_int_equal(px_dp_laplace(&r, PX_DP_LAPLACE_T_MAX + 1, 1, &x, &err), -1);
    assert_int_equal(px_dp_gaussian(&r, 0, 1, &x, &err), -1);
    assert_int_equal(px_dp_gaussian(&r, 1, PX_DP_GAUSS_DEN_MAX + 1, &x, &err), -1);
    assert_int_equal(px_dp_gaussian(&r, PX_DP_GAUSS_SIGMA2_MAX + 1, 1, &x, &err), -1);
    assert_non_null(strstr(err.msg, "variance"));
}

static void test_rng_reproducible_and_counted(void **state) {
    (void)state;
    px_test_seed s1, s2;
    px_dp_rng a, b;
    px_test_rng(&a, &s1, 9);
    px_test_rng(&b, &s2, 9);
    for (int i = 0; i < 2000; i++) /* crosses several pool refills */
        assert_true(px_dp_rng_u64(&a) == px_dp_rng_u64(&b));
    assert_true(a.bytes_used == 16000);
    px_dp_rng c;
    px_dp_rng_init(&c); /* CSPRNG: two draws differ (2^-64 chance not) */
    assert_true(px_dp_rng_u64(&c) != px_dp_rng_u64(&c));
    px_dp_rng_wipe(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bernoulli_rational),
        cmocka_unit_test(test_bernoulli_exp),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_laplace_fit),
        cmocka_unit_test(test_laplace_far_tail),
        cmocka_unit_test(test_gaussian_fit),
        cmocka_unit_test(test_gaussian_wide),
        cmocka_unit_test(test_sampler_params),
        cmocka_unit_test(test_rng_reproducible_and_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
