/* The LWE error and what it does to answers: the Gaussian table against
 * the law recomputed here, the sampler's edges and a chi-square fit, the
 * error of decoded answers against its predicted spread, no decryption
 * failure in thousands of entries, the bound below 2^-40 for every shape,
 * and the rounding boundary at exactly Δ/2.
 *
 * Statistical checks are set at a false-failure rate of 1e-6 each, with
 * fixed seeds (as the DP sampler tests). */
#include <math.h>

#include "px_test.h"

#include "pir/gauss_table.h"
#include "pir_testlib.h"

#define SIGMA2 (1024.0L / 25.0L)
#define N_SAMPLES 400000

/* P(|X| <= k) for the discrete Gaussian, in long double. */
static long double cdf(int k) {
    long double total = 1, acc = 1;
    for (int x = 1; x <= 400; x++) {
        long double w = 2 * expl(-(long double)x * x / (2 * SIGMA2));
        total += w;
        if (x <= k)
            acc += w;
    }
    return acc / total;
}

static void test_table(void **state) {
    (void)state;
    assert_int_equal(px_pir_gauss_max(), PX_PIR_GAUSS_K);
    long double worst = 0;
    for (int k = 0; k < PX_PIR_GAUSS_K; k++) {
        long double t = ldexpl((long double)px_pir_gauss_cdt[k][0], -64) + ldexpl((long double)px_pir_gauss_cdt[k][1], -128);
        long double d = fabsl(t - cdf(k));
        if (d > worst)
            worst = d;
        if (k > 0) /* strictly increasing */
            assert_true(px_pir_gauss_cdt[k][0] > px_pir_gauss_cdt[k - 1][0] ||
                        (px_pir_gauss_cdt[k][0] == px_pir_gauss_cdt[k - 1][0] &&
                         px_pir_gauss_cdt[k][1] > px_pir_gauss_cdt[k - 1][1]));
    }
    printf("# table vs long double: largest difference %.3Lg\n", worst);
    assert_true(worst < 1e-17L); /* long double's own precision, not the table's */
    /* The mass the table leaves out (beyond K) is below 2^-128. */
    assert_true(1 - cdf(PX_PIR_GAUSS_K) < ldexpl(1, -120));
}

static void test_edges(void **state) {
    (void)state;
    uint8_t r[PX_PIR_GAUSS_BYTES];
    memset(r, 0, sizeof r);
    assert_int_equal(px_pir_gauss_from(r), 0);
    r[16] = 1; /* a negative zero is zero */
    assert_int_equal(px_pir_gauss_from(r), 0);
    memset(r, 0xff, 16);
    r[16] = 0;
    assert_int_equal(px_pir_gauss_from(r), PX_PIR_GAUSS_K);
    r[16] = 1;
    assert_int_equal(px_pir_gauss_from(r), -PX_PIR_GAUSS_K);
    /* Exactly at T[0] the magnitude becomes 1; one below it stays 0. */
    for (int i = 0; i < 8; i++) {
        r[i] = (uint8_t)(px_pir_gauss_cdt[0][1] >> (8 * i));
        r[8 + i] = (uint8_t)(px_pir_gauss_cdt[0][0] >> (8 * i));
    }
    r[16] = 0;
    assert_int_equal(px_pir_gauss_from(r), 1);
    r[0]--; /* the table's low word does not end in 0x00 */
    assert_int_equal(px_pir_gauss_from(r), 0);
}

static void test_chi2(void **state) {
    (void)state;
    pir_rng rng;
    pir_rng_init(&rng, 21);
    enum { LIM = 24, NB = 2 * LIM + 1 };
    double obs[NB] = {0}, exp_[NB];
    double sum = 0, sum2 = 0;
    uint8_t buf[PX_PIR_GAUSS_BYTES * 1000];
    for (int done = 0; done < N_SAMPLES; done += 1000) {
        pir_rng_fill(&rng, buf, sizeof buf);
        for (int i = 0; i < 1000; i++) {
            int x = px_pir_gauss_from(buf + i * PX_PIR_GAUSS_BYTES);
            sum += x;
            sum2 += (double)x * x;
            obs[(x < -LIM ? -LIM : x > LIM ? LIM : x) + LIM]++;
        }
    }
    /* Expected counts, the two outer bins holding their tails. */
    long double total = 1;
    for (int x = 1; x <= 400; x++)
        total += 2 * expl(-(long double)x * x / (2 * SIGMA2));
    for (int b = 0; b < NB; b++) {
        int x = b - LIM;
        long double p = expl(-(long double)x * x / (2 * SIGMA2));
        if (x == -LIM || x == LIM)
            for (int y = LIM + 1; y <= 400; y++)
                p += expl(-(long double)y * y / (2 * SIGMA2));
        exp_[b] = (double)(p / total * N_SAMPLES);
    }
    double x2 = 0;
    for (int b = 0; b < NB; b++)
        x2 += (obs[b] - exp_[b]) * (obs[b] - exp_[b]) / exp_[b];
    double a = 2.0 / (9.0 * (NB - 1)), c = 1 - a + 4.7534 * sqrt(a), crit = (NB - 1) * c * c * c;
    double mean = sum / N_SAMPLES, var = sum2 / N_SAMPLES - mean * mean;
    printf("# gauss: chi2 = %.1f (%d bins, critical(1e-6) %.1f), mean %.4f, variance %.3f (sigma^2 = 40.96)\n", x2,
           NB, crit, mean, var);
    assert_true(x2 <= crit);
    assert_true(fabs(mean) < 5 * sqrt(40.96 / N_SAMPLES));
    /* Var of the sample variance ~ 2 sigma^4 / N for a near-normal law. */
    assert_true(fabs(var - 40.96) < 5 * sqrt(2 * 40.96 * 40.96 / N_SAMPLES));
}

/* Decoded answers: each entry's error is Σ_j d_j e_j, with variance
 * σ² Σ_j d_j². Normalised by that, the errors should have variance 1. */
static void test_answer_error(void **state) {
    (void)state;
    pir_rng r;
    pir_rng_init(&r, 22);
    const uint32_t records = 4096, rb = 4;
    uint8_t *plain = malloc(records * rb);
    px_pir_db db;
    pir_test_db(&db, records, rb, &r, plain);
    const px_pir_params *pp = &db.params;
    uint32_t *hint = malloc((size_t)pp->rows * PX_PIR_N * sizeof *hint), *q = malloc(pp->cols * sizeof *q),
             *a = malloc(pp->rows * sizeof *a);
    int32_t *noise = malloc(pp->rows * sizeof *noise);
    uint8_t *col = malloc(pp->rows);
    double *norm2 = malloc(pp->rows * sizeof *norm2);
    px_err err = {0};
    px_assert_ok(px_pir_hint(&db, hint, 0, &err), &err);
    for (uint32_t i = 0; i < pp->rows; i++) {
        norm2[i] = 0;
        for (uint32_t j = 0; j < pp->cols; j++) {
            double d = db.data[(size_t)i * db.stride + j];
            norm2[i] += d * d;
        }
    }
    double z2 = 0, worst = 0;
    size_t n = 0, wrong = 0;
    for (int t = 0; t < 40; t++) {
        uint32_t rec = pir_rng_u32(&r) % records;
        px_pir_secret sec;
        px_assert_ok(px_pir_query(pp, rec, &sec, q, &err), &err);
        px_assert_ok(px_pir_answer(&db, q, a, PX_PIR_KERNEL_AUTO, 0, &err), &err);
        px_assert_ok(px_pir_decode_column(pp, hint, &sec, a, col, noise, &err), &err);
        for (uint32_t i = 0; i < pp->rows; i++) {
            uint32_t rr = i / rb, byte = i % rb, idx = rr * pp->cols + sec.col;
            if (idx < records && col[i] != plain[(size_t)idx * rb + byte])
                wrong++;
            double z = noise[i] / sqrt(40.96 * norm2[i]);
            z2 += z * z;
            if (fabs((double)noise[i]) > worst)
                worst = fabs((double)noise[i]);
            n++;
        }
        px_pir_secret_wipe(&sec);
    }
    double var = z2 / n;
    printf("# answer error: %zu entries, normalised variance %.4f (1 expected), largest |error| %.0f = 2^%.1f, "
           "decoding fails beyond 2^23; wrong entries: %zu\n",
           n, var, worst, log2(worst), wrong);
    assert_int_equal(wrong, 0);
    assert_true(fabs(var - 1) < 5 * sqrt(2.0 / n));
    assert_true(worst < PX_PIR_DELTA / 2);
    free(plain);
    free(hint);
    free(q);
    free(a);
    free(noise);
    free(col);
    free(norm2);
    px_pir_db_free(&db);
}

/* The bound for every width the parameters allow, and its meaning. */
static void test_failure_bound(void **state) {
    (void)state;
    px_pir_params pp = {0};
    pp.p = PX_PIR_P;
    for (uint32_t logm = 0; logm <= 20; logm++) {
        pp.cols = 1u << logm;
        double b = px_pir_failure_log2(&pp);
        if (logm == 15 || logm == 20)
            printf("# 2^%u columns: failure per entry below 2^%.0f\n", logm, b);
        assert_true(b < -40);
    }
}

/* With no error at all (e = 0) decoding is exact, and an error added to
 * the answer decodes to the same entry iff it lies in [-Δ/2, Δ/2). */
static void test_rounding_boundary(void **state) {
    (void)state;
    pir_rng r;
    pir_rng_init(&r, 23);
    const uint32_t records = 50;
    uint8_t plain[50], out[64];
    px_pir_db db;
    pir_test_db(&db, records, 1, &r, plain);
    const px_pir_params *pp = &db.params;
    uint32_t *hint = malloc((size_t)pp->rows * PX_PIR_N * sizeof *hint), q[64], a[64], as[64];
    int32_t e[64] = {0}, noise[64];
    px_err err = {0};
    px_assert_ok(px_pir_hint(&db, hint, 1, &err), &err);
    px_pir_secret sec;
    pir_rng_fill(&r, sec.s, sizeof sec.s);
    sec.col = 3;
    px_assert_ok(px_pir_expand_as(pp, sec.s, as, &err), &err);
    px_pir_query_with(pp, sec.col, sec.s, e, as, q);
    px_assert_ok(px_pir_answer(&db, q, a, PX_PIR_KERNEL_AUTO, 1, &err), &err);
    px_assert_ok(px_pir_decode_column(pp, hint, &sec, a, out, noise, &err), &err);
    for (uint32_t i = 0; i < pp->rows; i++)
        assert_int_equal(noise[i], 0);
    assert_int_equal(out[0], plain[3]);
    const int32_t shifts[] = {PX_PIR_DELTA / 2 - 1, -(int32_t)(PX_PIR_DELTA / 2)};
    for (size_t s = 0; s < 2; s++) {
        uint32_t b = a[0];
        a[0] = b + (uint32_t)shifts[s];
        px_assert_ok(px_pir_decode_column(pp, hint, &sec, a, out, noise, &err), &err);
        assert_int_equal(out[0], plain[3]);
        assert_int_equal(noise[0], shifts[s]);
        a[0] = b + (uint32_t)(shifts[s] > 0 ? shifts[s] + 1 : shifts[s] - 1);
        px_assert_ok(px_pir_decode_column(pp, hint, &sec, a, out, noise, &err), &err);
        assert_int_not_equal(out[0], plain[3]); /* one step past Δ/2: the next value */
        a[0] = b;
    }
    free(hint);
    px_pir_db_free(&db);
}

int main(void) {
    px_err err = {0};
    if (px_crypto_init(&err))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),         cmocka_unit_test(test_edges),
        cmocka_unit_test(test_chi2),          cmocka_unit_test(test_answer_error),
        cmocka_unit_test(test_failure_bound), cmocka_unit_test(test_rounding_boundary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
