/* Mechanisms with enforced sensitivity: adversarial task outputs are
 * clamped, rejected or fail safely, and the result says which. Statistical
 * checks use fixed seeds (false-failure rate in dp_testlib.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp/dp_int.h"
#include "dp_testlib.h"

static void config(px_dp_config *c, const char *json) {
    px_err err;
    if (px_dp_config_parse(c, json, strlen(json), &err) != 0)
        fail_msg("config %s: %s", json, err.msg);
}

static void release(const px_dp_config *c, const px_dp_vec *in, size_t n,
                    px_dp_rng *r, px_dp_result *res) {
    px_err err;
    if (px_dp_release(c, in, n, r, res, &err) != 0)
        fail_msg("release: %s", err.msg);
}

static void test_sum_adversarial(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 11);
    px_dp_config c;
    /* ε = 1000: noise about 2^-16 * 2 * 655360 / 1000 ~ 0.02 per value. */
    config(&c, "{\"mechanism\":\"sum\",\"dim\":2,\"lower\":0,\"upper\":10,"
               "\"epsilon\":\"1000\"}");
    assert_int_equal(c.grid, -16);
    double neg0 = -0.0;
    const double u[][3] = {
        {1e300, 3.0, 0},             /* huge: clamped to 10 */
        {INFINITY, -INFINITY, 0},    /* ±inf: clamped to 10 and 0 */
        {NAN, 1.0, 0},               /* NaN: whole vector dropped */
        {0, 0, 0},                   /* placeholder for -0 below */
        {2.5, 4.25, 0},              /* ordinary */
        {-5, 5e-320, 0},             /* below lower; subnormal rounds to 0 */
    };
    double v3[2] = {neg0, 7.0};
    px_dp_vec in[9] = {
        {u[0], 2}, {u[1], 2}, {u[2], 2}, {v3, 2}, {u[4], 2}, {u[5], 2},
        {u[4], 3},                          /* more values than declared */
        {u[4], 1},                          /* fewer */
        {NULL, PX_DP_VEC_UNDECODABLE},      /* not a vector at all */
    };
    px_dp_result res;
    release(&c, in, 9, &r, &res);
    assert_int_equal(res.n, 2);
    /* clamped sums: 10+10+0+2.5+0 = 22.5 and 3+0+7+4.25+0 = 14.25 */
    printf("# sum: %.4f %.4f\n", res.values[0], res.values[1]);
    assert_true(fabs(res.values[0] - 22.5) < 0.5);
    assert_true(fabs(res.values[1] - 14.25) < 0.5);
    const px_dp_enforced *e = &res.enforced;
    assert_int_equal(e->inputs, 9);
    assert_int_equal(e->used, 5);
    assert_int_equal(e->rejected_nan, 1);
    assert_int_equal(e->rejected_length, 2);
    assert_int_equal(e->rejected_decode, 1);
    assert_int_equal(e->clamped, 4); /* 1e300, +inf, -inf, -5 */
    assert_int_equal(e->infinite, 2);
    assert_int_equal(e->negative_zero, 1);
    assert_int_equal(res.spend.kind, PX_DP_PURE);
    px_dp_result_free(&res);
    px_dp_config_free(&c);
}

/* The released count's noise has the discrete Laplace law of scale 1/ε:
 * variance 2p/(1-p)², p = exp(-ε). 4000 releases at ε = 0.5. */
static void test_count_noise_law(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 12);
    px_dp_config c;
    config(&c, "{\"mechanism\":\"count\",\"epsilon\":\"0.5\"}");
    enum { USERS = 50, RUNS = 4000 };
    double one = 1, zero = 0, sum = 0, sq = 0;
    px_dp_vec in[USERS];
    for (int i = 0; i < USERS; i++) {
        in[i].v = i < 30 ? &one : &zero;
        in[i].n = 1;
    }
    for (int k = 0; k < RUNS; k++) {
        px_dp_result res;
        release(&c, in, USERS, &r, &res);
        double d = res.values[0] - 30;
        assert_true(d == floor(d)); /* counts stay integers */
        sum += d;
        sq += d * d;
        px_dp_result_free(&res);
    }
    double p = exp(-0.5), var = 2 * p / ((1 - p) * (1 - p));
    double m = sum / RUNS, v = sq / RUNS - m * m;
    printf("# count noise: mean %.3f var %.3f (exact %.3f)\n", m, v, var);
    assert_true(fabs(m) < 5 * sqrt(var / RUNS));
    /* Var of the variance estimate: (μ4 - σ⁴)/n; μ4 of this law is below
     * 10σ⁴ for p < 0.7, so 5 sigma is at most 5*3*σ²/sqrt(n). */
    assert_true(fabs(v - var) < 15 * var / sqrt(RUNS));
    px_dp_config_free(&c);
}

/* Gaussian noise at ρ = 1/2 on a count (L2² = 1): σ² = 1 exactly (CKS20
 * Theorem 14). The discrete Gaussian's variance at σ² = 1 is
 * Σ x² e^{-x²/2} / Σ e^{-x²/2}; the spend is known before the release. */
static void test_count_gaussian_law(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 18);
    px_dp_config c;
    config(&c, "{\"mechanism\":\"count\",\"noise\":\"gaussian\","
               "\"rho\":\"0.5\",\"delta\":\"0.00001\"}");
    px_dp_spend before;
    assert_int_equal(px_dp_config_spend(&c, &before, NULL), 0);
    enum { RUNS = 4000 };
    double one = 1, sum = 0, sq = 0, z = 0, m2 = 0;
    px_dp_vec in[3] = {{&one, 1}, {&one, 1}, {&one, 1}};
    for (int k = 0; k < RUNS; k++) {
        px_dp_result res;
        release(&c, in, 3, &r, &res);
        assert_true(res.noise.a == 1 && res.noise.b == 1);
        assert_int_equal(px_dp_q_cmp(res.spend.epsilon, before.epsilon), 0);
        assert_int_equal(px_dp_q_cmp(res.spend.rho, before.rho), 0);
        double d = res.values[0] - 3;
        sum += d;
        sq += d * d;
        px_dp_result_free(&res);
    }
    for (int x = -30; x <= 30; x++) {
        z += exp(-x * x / 2.0);
        m2 += x * x * exp(-x * x / 2.0);
    }
    double var = m2 / z, m = sum / RUNS, v = sq / RUNS - m * m;
    printf("# gaussian count noise: mean %.3f var %.3f (exact %.3f)\n", m, v,
           var);
    assert_true(fabs(m) < 5 * sqrt(var / RUNS));
    /* Kurtosis of a (discrete) Gaussian is about 3: Var(s²) ≈ 2σ⁴/n. */
    assert_true(fabs(v - var) < 5 * var * sqrt(3.0 / RUNS));
    assert_int_equal(before.kind, PX_DP_ZCDP);
    px_dp_config_free(&c);
}

static void test_mean(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 13);
    px_dp_config c;
    config(&c, "{\"mechanism\":\"mean\",\"dim\":1,\"lower\":-1,\"upper\":3,"
               "\"epsilon\":\"200\"}");
    enum { USERS = 400 };
    double vals[USERS], truth = 0;
    px_dp_vec in[USERS];
    for (int i = 0; i < USERS; i++) {
        vals[i] = (i % 9) * 0.5 - 1; /* in [-1, 3] */
        truth += vals[i];
        in[i].v = &vals[i];
        in[i].n = 1;
    }
    truth /= USERS;
    px_dp_result res;
    release(&c, in, USERS, &r, &res);
    printf("# mean %.5f, truth %.5f\n", res.values[0], truth);
    assert_true(fabs(res.values[0] - truth) < 0.02);
    px_dp_result_free(&res);
    px_dp_config_free(&c);
}

static void test_histogram_limits(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 14);
    px_dp_config c;
    config(&c, "{\"mechanism\":\"histogram\",\"dim\":4,\"max_contributions\":1,"
               "\"epsilon\":\"1000\"}");
    double greedy[4] = {1, 1, 1, 1}, a[4] = {0, 1, 0, 0}, big[4] = {0, 0, 9, 0};
    px_dp_vec in[3] = {{greedy, 4}, {a, 4}, {big, 4}};
    px_dp_result res;
    release(&c, in, 3, &r, &res);
    /* greedy keeps only its first category; big is clamped to 1. */
    const double want[4] = {1, 1, 1, 0};
    for (int j = 0; j < 4; j++)
        assert_true(fabs(res.values[j] - want[j]) < 0.5);
    assert_int_equal(res.enforced.limited, 1);
    assert_int_equal(res.enforced.clamped, 1);
    px_dp_result_free(&res);
    px_dp_config_free(&c);
    /* Sensitivity follows the limit: 3 categories of bound 2, L0 = 2 ->
     * L1 = 4 grid steps, L2² = 8. */
    config(&c, "{\"mechanism\":\"histogram\",\"dim\":3,\"upper\":[2,1,2],"
               "\"max_contributions\":2,\"epsilon\":\"1\"}");
    px_dp_gbounds gb[3];
    uint64_t l1, l2, li;
    for (int j = 0; j < 3; j++)
        assert_int_equal(px_dp_grid_bounds(c.lower[j], c.upper[j], c.grid,
                                           &gb[j], NULL), 0);
    assert_int_equal(px_dp_count_sensitivity(&c, gb, &l1, &l2, &li, NULL), 0);
    assert_true(l1 == 4 && l2 == 8 && li == 2);
    px_dp_config_free(&c);
}

static void test_keys_threshold(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 15);
    px_dp_config c;
    config(&c, "{\"mechanism\":\"keys\",\"dim\":3,\"max_contributions\":2,"
               "\"epsilon\":\"1\",\"delta\":\"0.000001\"}");
    enum { USERS = 300 };
    double rows[USERS][3];
    px_dp_vec in[USERS + 3];
    for (int i = 0; i < USERS; i++) {
        rows[i][0] = 42;    /* common key: must be released */
        rows[i][1] = 42;    /* duplicate within a user: counted once */
        rows[i][2] = 7 + (i == 0 ? 1000 : 0); /* rare key 1007 once */
        in[i].v = rows[i];
        in[i].n = 3;
    }
    double bad[3] = {1.5, NAN, -0.0}, many[4] = {1, 2, 3, 4};
    double lim[3] = {5, 6, 8};
    in[USERS] = (px_dp_vec){bad, 3};
    in[USERS + 1] = (px_dp_vec){many, 4}; /* more than dim: dropped */
    in[USERS + 2] = (px_dp_vec){lim, 3};  /* third key cut by the limit */
    int rare = 0;
    for (int k = 0; k < 200; k++) {
        px_dp_result res;
        release(&c, in, USERS + 3, &r, &res);
        int common = 0;
        for (uint32_t j = 0; j + 1 < res.n; j += 2) {
            common |= res.values[j] == 42;
            rare |= res.values[j] == 1007 || res.values[j] == 5 ||
                    res.values[j] == 0;
        }
        assert_true(common);
        if (k == 0) {
            assert_int_equal(res.enforced.rejected_values, 2);
            assert_int_equal(res.enforced.negative_zero, 1);
            assert_int_equal(res.enforced.rejected_length, 1);
            assert_int_equal(res.enforced.limited, 1);
            assert_int_equal(res.spend.kind, PX_DP_APPROX);
        }
        px_dp_result_free(&res);
    }
    /* A key one user holds is released with probability at most δ/L0 per
     * run: 200 runs at δ = 1e-6 must show none. */
    assert_false(rare);
    px_dp_config_free(&c);
}

/* A user listing 4096 keys, all distinct or all equal, costs O(n log n):
 * the contribution limit keeps the first distinct ones in listed order. */
static void test_keys_many(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 19);
    px_dp_config c;
    config(&c, "{\"mechanism\":\"keys\",\"dim\":4096,"
               "\"max_contributions\":3,\"epsilon\":\"50\","
               "\"delta\":\"0.001\"}");
    enum { USERS = 200 };
    double *big = malloc(4096 * sizeof *big), same[4096];
    for (int j = 0; j < 4096; j++) {
        big[j] = 4095 - j; /* first three distinct: 4095, 4094, 4093 */
        same[j] = 9;
    }
    px_dp_vec in[USERS];
    for (int i = 0; i < USERS; i++)
        in[i] = (px_dp_vec){i % 2 ? big : same, 4096};
    px_dp_result res;
    release(&c, in, USERS, &r, &res);
    assert_int_equal(res.enforced.limited, USERS / 2);
    assert_int_equal(res.n, 8); /* keys 9, 4093, 4094, 4095 with counts */
    const double keys[4] = {9, 4093, 4094, 4095};
    for (int j = 0; j < 4; j++) {
        assert_true(res.values[2 * j] == keys[j]);
        assert_true(fabs(res.values[2 * j + 1] - USERS / 2) < 5);
    }
    px_dp_result_free(&res);
    free(big);
    px_dp_config_free(&c);
}

static void test_topk(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 16);
    px_dp_config c;
    config(&c, "{\"mechanism\":\"top-k\",\"dim\":5,\"k\":2,"
               "\"max_contributions\":1,\"epsilon\":\"20\"}");
    enum { USERS = 500 };
    double rows[USERS][5];
    px_dp_vec in[USERS];
    for (int i = 0; i < USERS; i++) {
        memset(rows[i], 0, sizeof rows[i]);
        rows[i][i % 10 < 6 ? 3 : i % 10 < 9 ? 1 : 0] = 1;
        in[i] = (px_dp_vec){rows[i], 5};
    }
    px_dp_result res;
    release(&c, in, USERS, &r, &res);
    assert_int_equal(res.n, 2);
    assert_true(res.values[0] == 3 && res.values[1] == 1);
    px_dp_result_free(&res);
    px_dp_config_free(&c);
}

static void test_sample_and_aggregate(void **state) {
    (void)state;
    px_test_seed s;
    px_dp_rng r;
    px_test_rng(&r, &s, 17);
    px_dp_config c;
    config(&c, "{\"mechanism\":\"mean\",\"mode\":\"sample-and-aggregate\","
               "\"blocks\":8,\"dim\":1,\"lower\":0,\"upper\":1,"
               "\"epsilon\":\"100\"}");
    double b[8] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, NAN, 7};
    px_dp_vec in[8];
    for (int i = 0; i < 8; i++)
        in[i] = (px_dp_vec){&b[i], 1};
    px_dp_result res;
    release(&c, in, 8, &r, &res);
    /* NaN block -> midpoint 0.5 (missing), 7 -> clamped to 1: mean 0.5625 */
    printf("# s&a mean %.5f\n", res.values[0]);
    assert_true(fabs(res.values[0] - 0.5625) < 0.01);
    assert_int_equal(res.enforced.blocks_missing, 1);
    assert_int_equal(res.enforced.clamped, 1);
    px_dp_result_free(&res);
    px_err err;
    assert_int_equal(px_dp_release(&c, in, 7, &r, &res, &err), -1);
    assert_non_null(strstr(err.msg, "expected 8 block outputs"));
    px_dp_config_free(&c);
}

static void test_block_assignment(void **state) {
    (void)state;
    uint8_t k1[32] = {1}, k2[32] = {2};
    enum { B = 8, USERS = 8000 };
    double obs[B] = {0}, ex[B];
    int moved = 0;
    for (int i = 0; i < USERS; i++) {
        char id[32];
        int n = snprintf(id, sizeof id, "user-%d", i);
        uint32_t a, a2, b;
        assert_int_equal(px_dp_block_of(k1, id, (size_t)n, B, &a, NULL), 0);
        assert_int_equal(px_dp_block_of(k1, id, (size_t)n, B, &a2, NULL), 0);
        assert_int_equal(px_dp_block_of(k2, id, (size_t)n, B, &b, NULL), 0);
        assert_true(a < B && a == a2);
        moved += a != b;
        obs[a]++;
    }
    for (int j = 0; j < B; j++)
        ex[j] = (double)USERS / B;
    assert_true(px_test_chi2("blocks", obs, ex, B));
    assert_true(moved > USERS / 2); /* another key, another partition */
    assert_int_equal(px_dp_block_of(k1, "x", 1, 0, NULL, NULL), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_adversarial),
        cmocka_unit_test(test_count_noise_law),
        cmocka_unit_test(test_count_gaussian_law),
        cmocka_unit_test(test_mean),
        cmocka_unit_test(test_histogram_limits),
        cmocka_unit_test(test_keys_threshold),
        cmocka_unit_test(test_keys_many),
        cmocka_unit_test(test_topk),
        cmocka_unit_test(test_sample_and_aggregate),
        cmocka_unit_test(test_block_assignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
