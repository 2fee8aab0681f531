/* Exact discrete Laplace (and Gaussian) sampling speed against the CSPRNG
 * byte rate measured in the same run.
 *
 *   ceiling  = CSPRNG bytes/s / random bytes used per sample
 *   fraction = samples/s / ceiling
 *
 * The ceiling is the rate a sampler drawing the same bytes would reach if
 * its arithmetic were free; the fraction is the share of time spent in the
 * CSPRNG itself. Bytes per sample are also set against the distribution's
 * Shannon entropy, the least any exact sampler must draw on average. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "pixiu/dp.h"

#define BENCH_SECONDS 2.0

static double now_s(void) {
    return (double)px_mono_ns() / 1e9;
}

static double csprng_rate(void) {
    static uint8_t buf[PX_DP_RNG_POOL];
    uint64_t bytes = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 256; i++)
            px_random(buf, sizeof buf);
        bytes += 256 * sizeof buf;
        t = now_s();
    } while (t - t0 < BENCH_SECONDS);
    return (double)bytes / (t - t0);
}

/* Entropy in bytes of the discrete Laplace with p = exp(-s/t). */
static double laplace_entropy_bytes(double scale) {
    double p = exp(-1 / scale), h = 0;
    for (long x = -(long)(60 * scale) - 60; x <= (long)(60 * scale) + 60; x++) {
        double q = (1 - p) / (1 + p) * pow(p, labs(x));
        if (q > 0)
            h -= q * log2(q);
    }
    return h / 8;
}

typedef struct run {
    double per_s, bytes_per_sample;
} run;

static int sample_rate(int gaussian, uint64_t a, uint64_t b, run *out) {
    px_dp_rng *r = malloc(sizeof *r);
    if (!r)
        return -1;
    px_dp_rng_init(r);
    uint64_t n = 0;
    int64_t x, sink = 0;
    double t0 = now_s(), t;
    do {
        for (int i = 0; i < 4096; i++) {
            int rc = gaussian ? px_dp_gaussian(r, a, b, &x, NULL)
                              : px_dp_laplace(r, a, b, &x, NULL);
            if (rc != 0) {
                free(r);
                return -1;
            }
            sink += x;
        }
        n += 4096;
        t = now_s();
    } while (t - t0 < BENCH_SECONDS);
    out->per_s = (double)n / (t - t0);
    out->bytes_per_sample = (double)r->bytes_used / (double)n;
    fprintf(stderr, "# checksum %lld\n", (long long)sink);
    px_dp_rng_wipe(r);
    free(r);
    return 0;
}

int main(void) {
    if (px_crypto_init(NULL) != 0)
        return 1;
    double rate = csprng_rate();
    printf("# CSPRNG: %.1f MB/s in %d-byte calls\n", rate / 1e6,
           PX_DP_RNG_POOL);
    const struct {
        const char *name;
        int gaussian;
        uint64_t a, b;
        double scale;
    } cases[] = {
        {"dp_laplace_scale1", 0, 1, 1, 1},
        {"dp_laplace_scale10", 0, 10, 1, 10},
        {"dp_laplace_scale1000_3", 0, 1000, 3, 1000.0 / 3},
        {"dp_gaussian_sigma2_100", 1, 100, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run r;
        if (sample_rate(cases[i].gaussian, cases[i].a, cases[i].b, &r) != 0)
            return 1;
        double ceiling = rate / r.bytes_per_sample;
        printf("# %s: %.2fM samples/s, %.2f random bytes/sample\n",
               cases[i].name, r.per_s / 1e6, r.bytes_per_sample);
        printf("BENCH name=%s value=%.0f unit=samples/s baseline=%.0f "
               "ratio=%.3f\n", cases[i].name, r.per_s, ceiling,
               r.per_s / ceiling);
        if (!cases[i].gaussian) {
            double h = laplace_entropy_bytes(cases[i].scale);
            printf("BENCH name=%s_bytes value=%.3f unit=bytes/sample "
                   "baseline=%.3f ratio=%.2f\n", cases[i].name,
                   r.bytes_per_sample, h, r.bytes_per_sample / h);
        }
    }
    return 0;
}
