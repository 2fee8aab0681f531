/* SimplePIR answer throughput against memory read bandwidth, in one run.
 *
 *   pir_answer_1gib         GB/s of database scanned per query, one core;
 *                           baseline: one core reading the same memory
 *   pir_answer_1gib_2cores  the same with two threads; baseline: two
 *                           threads reading it
 *
 * plus the hint, query and answer sizes for that database. The database is
 * 2^30 one-byte records (2^15 x 2^15 entries) unless the machine's
 * available memory is under three times that; then the largest power of two
 * that fits is measured under the same names, and a comment line says so.
 * PX_PIR_BENCH_LOG2 (20..34) sets the size by hand. The hint itself is not
 * computed here (one pass of n = 1024 dot products per entry; see
 * docs/pir.md): only the answer is timed, with a random database. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <immintrin.h>

#include "pir/pir_int.h"

#define REPEATS 7

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

/* Available memory, from /proc/meminfo (0 if unknown). */
static unsigned long long mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb * 1024;
}

/* ---- memory read bandwidth ------------------------------------------------- */

typedef struct span {
    const uint8_t *p;
    size_t n;
    uint64_t sum;
} span;

__attribute__((target("avx2"))) static uint64_t read_avx2(const uint8_t *p, size_t n) {
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    for (size_t i = 0; i + 128 <= n; i += 128) {
        a = _mm256_xor_si256(a, _mm256_load_si256((const __m256i *)(const void *)(p + i)));
        b = _mm256_xor_si256(b, _mm256_load_si256((const __m256i *)(const void *)(p + i + 32)));
        c = _mm256_xor_si256(c, _mm256_load_si256((const __m256i *)(const void *)(p + i + 64)));
        d = _mm256_xor_si256(d, _mm256_load_si256((const __m256i *)(const void *)(p + i + 96)));
    }
    a = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
    return (uint64_t)_mm256_extract_epi64(a, 0) ^ (uint64_t)_mm256_extract_epi64(a, 3);
}

static uint64_t read_portable(const uint8_t *p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        s ^= v;
    }
    return s;
}

static void *read_main(void *arg) {
    span *s = arg;
    s->sum = __builtin_cpu_supports("avx2") ? read_avx2(s->p, s->n) : read_portable(s->p, s->n);
    return NULL;
}

/* Seconds to read n bytes at p with `threads` threads (each a contiguous
 * part). */
static double read_once(const uint8_t *p, size_t n, int threads, uint64_t *sink) {
    span s[2] = {{p, n / threads / 128 * 128, 0}, {p + n / 2, n / 2 / 128 * 128, 0}};
    pthread_t th;
    double t0 = now_s();
    int two = threads == 2 && pthread_create(&th, NULL, read_main, &s[1]) == 0;
    read_main(&s[0]);
    if (two)
        pthread_join(th, NULL);
    else if (threads == 2)
        read_main(&s[1]);
    *sink ^= s[0].sum ^ s[1].sum;
    return now_s() - t0;
}

/* ---- answers ------------------------------------------------------------------- */

static double answer_once(const px_pir_db *db, const uint32_t *q, uint32_t *a, px_pir_kernel k, unsigned threads) {
    px_err err = {0};
    double t0 = now_s();
    if (px_pir_answer(db, q, a, k, threads, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    return now_s() - t0;
}

/* Reading and answering alternate, so both see the same load on a shared
 * machine; each figure is the median of its REPEATS. */
static void measure(const px_pir_db *db, const uint32_t *q, uint32_t *a, int threads, double *read_s,
                    double *answer_s) {
    double tr[REPEATS], ta[REPEATS];
    uint64_t sink = 0;
    for (int r = 0; r < REPEATS; r++) {
        tr[r] = read_once((const uint8_t *)db->data, db->stride * db->params.rows, threads, &sink);
        ta[r] = answer_once(db, q, a, PX_PIR_KERNEL_AUTO, (unsigned)threads);
    }
    fprintf(stderr, "# read checksum %llx\n", (unsigned long long)sink);
    *read_s = median(tr, REPEATS);
    *answer_s = median(ta, REPEATS);
}

/* The hint's one-time cost, on a 16 MiB database (a comment line: n = 1024
 * dot products per entry; it scales with the database's size). */
static void hint_time(void) {
    px_err err = {0};
    uint8_t seed[PX_PIR_SEED_BYTES];
    px_random(seed, sizeof seed);
    px_pir_params pp;
    px_pir_db db;
    if (px_pir_params_choose(&pp, 1ull << 24, 1, seed, &err) || px_pir_db_new(&db, &pp, &err))
        return;
    uint32_t *h = malloc((size_t)pp.rows * PX_PIR_N * sizeof *h);
    if (h) {
        unsigned th = px_pir_threads(0, 1u << 30); /* what a large database gets */
        double t0 = now_s();
        if (px_pir_hint(&db, h, th, &err) == 0) {
            double t = now_s() - t0;
            printf("# hint of a 16 MiB database (%u x %u): %.2f s on %u core(s), %.1f G multiply-adds/s; "
                   "1 GiB would take about %.0f s\n", pp.rows, pp.cols, t, th,
                   (double)pp.rows * pp.cols * PX_PIR_N / t / 1e9, t * 64);
        }
        free(h);
    }
    px_pir_db_free(&db);
}

static void bench_line(const char *name, double v, const char *unit, double base) {
    printf("BENCH name=%s value=%.3f unit=%s baseline=%.3f ratio=%.3f\n", name, v, unit, base, v / base);
}

int main(void) {
    px_err err = {0};
    if (px_crypto_init(&err))
        return 1;
    unsigned logn = 30;
    const char *env = getenv("PX_PIR_BENCH_LOG2");
    if (env && atoi(env) >= 20 && atoi(env) <= 34)
        logn = (unsigned)atoi(env);
    unsigned long long avail = mem_available();
    if (!env && avail)
        while (logn > 20 && (3ull << logn) > avail)
            logn--;
    if (logn != 30)
        printf("# database of 2^%u bytes (%s), reported under the 1gib names\n", logn,
               env ? "PX_PIR_BENCH_LOG2" : "1 GiB does not fit three times in the available memory");
    uint8_t seed[PX_PIR_SEED_BYTES];
    px_random(seed, sizeof seed);
    px_pir_params pp;
    px_pir_db db;
    if (px_pir_params_choose(&pp, 1ull << logn, 1, seed, &err) || px_pir_db_new(&db, &pp, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    /* Random entries (the answer's speed does not depend on them). */
    for (uint32_t r = 0; r < pp.rows; r++)
        px_stream_chacha20((uint8_t *)db.data + (size_t)r * db.stride, pp.cols, seed, r, seed);
    size_t db_bytes = (size_t)pp.rows * pp.cols;
    uint32_t *q = malloc(pp.cols * sizeof *q), *a = malloc(pp.rows * sizeof *a);
    px_pir_secret sec;
    if (!q || !a || px_pir_query(&pp, 12345 % pp.records, &sec, q, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg[0] ? err.msg : "out of memory");
        return 1;
    }
    printf("# %u x %u entries (%zu MiB), kernel %s, huge pages %s\n", pp.rows, pp.cols, db_bytes >> 20,
           px_pir_kernel_name(PX_PIR_KERNEL_AUTO), db.huge ? "requested" : "no");

        double r1, a1, r2, a2;
    measure(&db, q, a, 1, &r1, &a1);
    measure(&db, q, a, 2, &r2, &a2);
    bench_line("pir_answer_1gib", db_bytes / a1 / 1e9, "GB/s", db_bytes / r1 / 1e9);
    bench_line("pir_answer_1gib_2cores", db_bytes / a2 / 1e9, "GB/s", db_bytes / r2 / 1e9);
    /* The other kernels, for comparison (fewer runs). */
    for (px_pir_kernel k = PX_PIR_KERNEL_PORTABLE; k <= PX_PIR_KERNEL_AVX512; k++)
        if (px_pir_kernel_supported(k))
            printf("# kernel %s, one core: %.2f GB/s\n", px_pir_kernel_name(k),
                   db_bytes / answer_once(&db, q, a, k, 1) / 1e9);

    /* Communication for this database. */
    size_t hint = 68 + (size_t)pp.rows * PX_PIR_N * 4, query = 44 + (size_t)pp.cols * 4,
           answer = 44 + (size_t)pp.rows * 4;
    printf("# sizes: hint %zu bytes (%.1f MiB, once), query %zu bytes, answer %zu bytes, database %zu bytes\n", hint,
           hint / 1048576.0, query, answer, db_bytes);
    bench_line("pir_hint_bytes_1gib", (double)hint, "bytes", (double)db_bytes);
    bench_line("pir_query_answer_bytes_1gib", (double)(query + answer), "bytes", (double)db_bytes);
    px_pir_secret_wipe(&sec);
    free(q);
    free(a);
    px_pir_db_free(&db);
    hint_time();
    return 0;
}
