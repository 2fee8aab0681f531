/* Test support for the DP unit tests: a seeded, reproducible byte source
 * (ChaCha20 keyed by a test seed; tests only, production draws from the
 * CSPRNG) and a chi-square goodness-of-fit check.
 *
 * False-failure rate: every statistical check below is set at
 * PX_TEST_ALPHA = 1e-6 per check (one-sided chi-square upper tail, or a
 * two-sided 5-sigma normal bound, 5.7e-7). The seeds are fixed, so a run is
 * reproducible; the rate states how unlucky a new seed would have to be. */
#ifndef PX_DP_TESTLIB_H
#define PX_DP_TESTLIB_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "pixiu/dp.h"

#define PX_TEST_Z_CHI 4.7534 /* one-sided normal quantile for 1e-6 */
#define PX_TEST_Z_TWO 5.0    /* two-sided bound for binomial checks */

typedef struct px_test_seed {
    uint8_t key[crypto_stream_chacha20_KEYBYTES];
    uint64_t block;
} px_test_seed;

static inline void px_test_fill(void *ctx, uint8_t *buf, size_t n) {
    px_test_seed *s = ctx;
    uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
    memcpy(nonce, &s->block, sizeof nonce);
    s->block++;
    crypto_stream_chacha20(buf, n, nonce, s->key);
}

static inline void px_test_rng(px_dp_rng *r, px_test_seed *s, uint64_t seed) {
    memset(s, 0, sizeof *s);
    memcpy(s->key, &seed, sizeof seed);
    px_dp_rng_init_with(r, px_test_fill, s);
}

/* Upper 1e-6 point of chi-square with k degrees of freedom
 * (Wilson-Hilferty; within a few percent for k >= 3, which only moves the
 * stated rate within the same order of magnitude). */
static inline double px_test_chi2_crit(int k) {
    double a = 2.0 / (9.0 * k);
    double c = 1 - a + PX_TEST_Z_CHI * sqrt(a);
    return k * c * c * c;
}

/* Chi-square statistic of observed counts against expected counts; prints
 * the verdict. Returns 1 when the fit is accepted. */
static inline int px_test_chi2(const char *what, const double *obs,
                        const double *exp_, int nbins) {
    double x2 = 0;
    for (int i = 0; i < nbins; i++) {
        double d = obs[i] - exp_[i];
        x2 += d * d / exp_[i];
    }
    double crit = px_test_chi2_crit(nbins - 1);
    printf("# %s: chi2 = %.2f, %d bins, critical(1e-6) = %.2f\n", what, x2,
           nbins, crit);
    return x2 <= crit;
}

/* |k - np| within 5 sigma of a binomial(n, p) count. */
static inline int px_test_binomial(const char *what, double k, double n, double p) {
    double sd = sqrt(n * p * (1 - p)) + 1e-9;
    double z = (k - n * p) / sd;
    printf("# %s: %.0f of %.0f, expected %.2f, z = %.2f\n", what, k, n, n * p,
           z);
    return fabs(z) <= PX_TEST_Z_TWO;
}

#endif
