/* Secure aggregation against the keystream it is made of, in one run.
 *
 *   secagg_mask_1m   MB/s of keystream turned into masks: one user masking
 *                    a 2^20-word update with k = 8 neighbours (its self
 *                    mask and 8 pairwise masks, 9 PRG expansions) and the
 *                    aggregator unmasking the round of 9 users (adding the
 *                    9 masked updates, removing 9 self masks), counted as
 *                    4 MiB per PRG expansion over the time of both;
 *                    baseline: crypto_stream_chacha20_ietf writing the
 *                    same 18 keystreams of 4 MiB
 *
 * The ratio is what masking costs beyond generating the keystream (the
 * X25519 agreements, Shamir, sealing, the additions, parsing and the
 * commitment checks). A comment line gives the same run as plain update
 * throughput (4 MiB masked and unmasked per second per user). Each figure
 * is the median of REPEATS, measured in alternation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pixiu/agg.h"

#define REPEATS 7
#define N 9
#define K 8
#define DIM (1u << 20)
#define STREAMS ((K + 1) + N) /* user 0's masks, then the round's self masks */

static double now_s(void) {
    return (double)px_mono_ns() / 1e9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void die(const char *what, const px_err *err) {
    fprintf(stderr, "bench: %s: %s\n", what, err->msg);
    exit(1);
}

int main(void) {
    px_err err = {0};
    if (px_crypto_init(&err))
        die("init", &err);
    px_agg_params p = {.n = N, .k = K, .t = K / 2 + 1, .dim = DIM, .round = 1};
    memset(p.manifest, 7, sizeof p.manifest);
    static uint8_t roster[N * 32], sk[N][32];
    for (int i = 0; i < N; i++)
        crypto_box_keypair(roster + 32 * i, sk[i]);
    uint32_t *q = malloc((size_t)DIM * 4), *sum = malloc((size_t)DIM * 4);
    uint8_t *ks = malloc((size_t)DIM * 4);
    if (!q || !sum || !ks)
        return 1;
    for (uint32_t i = 0; i < DIM; i++)
        q[i] = (uint32_t)(int32_t)((int)(i % 2001) - 1000);

    /* One round's messages from users 1..8 (not timed); user 0 is timed. */
    px_buf masked[N], shares[N], reveal[N];
    memset(masked, 0, sizeof masked);
    memset(shares, 0, sizeof shares);
    memset(reveal, 0, sizeof reveal);
    px_agg_user *users[N];
    for (int i = 1; i < N; i++) {
        users[i] = px_agg_user_new(&p, roster, (uint32_t)i, sk[i], &err);
        if (!users[i] || px_agg_user_mask(users[i], q, &masked[i], &shares[i], &err))
            die("mask", &err);
    }
    uint8_t bitmap[(N + 7) / 8] = {0xff, 0x01};
    px_agg_msg mm[N], sm[N], rm[N];

    double base[REPEATS], mask_s[REPEATS], unmask_s[REPEATS];
    static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
    uint8_t key[32];
    randombytes_buf(key, sizeof key);
    uint32_t check = 0;
    for (int r = 0; r < REPEATS; r++) {
        double t0 = now_s();
        for (int j = 0; j < STREAMS; j++) {
            key[0] = (uint8_t)j;
            crypto_stream_chacha20_ietf(ks, (size_t)DIM * 4, nonce, key);
            check ^= ks[j];
        }
        base[r] = (now_s() - t0) / STREAMS;

        px_buf_reset(&masked[0]);
        px_buf_reset(&shares[0]);
        users[0] = px_agg_user_new(&p, roster, 0, sk[0], &err);
        if (!users[0])
            die("user", &err);
        t0 = now_s();
        if (px_agg_user_mask(users[0], q, &masked[0], &shares[0], &err))
            die("mask", &err);
        mask_s[r] = now_s() - t0;

        /* Reveals are not timed: they are 37 bytes per neighbour. */
        for (int i = 0; i < N; i++)
            sm[i] = (px_agg_msg){shares[i].data, shares[i].len};
        for (int i = 0; i < N; i++) {
            if (i) {
                px_agg_user_free(users[i]);
                users[i] = px_agg_user_new(&p, roster, (uint32_t)i, sk[i], &err);
                if (!users[i])
                    die("user", &err);
            }
            px_buf_reset(&reveal[i]);
            if (px_agg_user_reveal(users[i], bitmap, sizeof bitmap, sm, N, &reveal[i], &err))
                die("reveal", &err);
            mm[i] = (px_agg_msg){masked[i].data, masked[i].len};
            rm[i] = (px_agg_msg){reveal[i].data, reveal[i].len};
        }
        t0 = now_s();
        if (px_agg_unmask(&p, roster, bitmap, sizeof bitmap, mm, N, rm, N, sum, &err))
            die("unmask", &err);
        unmask_s[r] = now_s() - t0;
        for (uint32_t i = 0; i < DIM; i++)
            if (sum[i] != q[i] * N) {
                fprintf(stderr, "bench: word %u of the sum is wrong\n", i);
                return 1;
            }
        px_agg_user_free(users[0]);
    }
    double bytes = (double)DIM * 4;
    double b = bytes / median(base, REPEATS) / 1e6;
    double tm = median(mask_s, REPEATS), tu = median(unmask_s, REPEATS);
    double v = bytes * STREAMS / (tm + tu) / 1e6;
    printf("# secagg: 2^20 words, k = %d: mask %.1f ms (%d streams), unmask of %d users %.1f ms (%d streams); "
           "%.1f MB/s of update masked and unmasked per user\n",
           K, tm * 1e3, K + 1, N, tu * 1e3, N, bytes / (tm + tu / N) / 1e6);
    printf("BENCH name=secagg_mask_1m value=%.1f unit=MB/s baseline=%.1f ratio=%.3f\n", v, b, v / b);
    fprintf(stderr, "# checksum %u\n", check);
    for (int i = 0; i < N; i++) {
        if (i)
            px_agg_user_free(users[i]);
        px_buf_free(&masked[i]);
        px_buf_free(&shares[i]);
        px_buf_free(&reveal[i]);
    }
    free(q);
    free(sum);
    free(ks);
    return 0;
}
