/* POD throughput with signature verification, against the raw verify rate
 * of the same signature scheme measured in the same run:
 *   pod_prove_ed25519   records/s through the data-prover (all signed)
 *   pod_import_ed25519  records/s of a signed CSV import into SQLite
 *   pod_prove_p256      records/s through the prover, ECDSA P-256 sources
 * Baselines: libsodium crypto_sign_verify_detached over 32-byte digests,
 * and OpenSSL P-256 verification through the same EVP path PIXIU uses
 * (px_source_verify on a prehashed digest). Rounds of the baseline and the
 * measured path alternate and the best of BENCH_ROUNDS each is kept, so a
 * busy machine slows both alike. Everything is timed in thread CPU time,
 * since other jobs may share these cores; the import's one commit (and
 * its fsync) happens on this thread, its disk wait is not counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "pixiu/pod.h"

#define N_ED 20000
#define N_P256 4000
#define BENCH_ROUNDS 7

static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const px_err *e, const char *what) {
    fprintf(stderr, "bench pod: %s: %s\n", what, e->msg);
    exit(1);
}

static void report(const char *name, double value, double baseline) {
    printf("BENCH name=%s value=%.0f unit=records/s baseline=%.0f ratio=%.3f\n", name, value, baseline,
           value / baseline);
}

/* A demo bank dataset of n rows, all signed by s: CSV, schema, stream. */
static void make_data(const px_source_signer *s, uint32_t n, px_buf *csv, px_pod_schema *schema, px_buf *stream) {
    px_err e = {0};
    px_buf sj = PX_BUF_INIT;
    if (px_pod_demo_generate(csv, &sj, n / 20, 20, 11, s, 1000, &e) ||
        px_pod_schema_parse(schema, sj.data, sj.len, &e))
        die(&e, "generating data");
    px_buf_free(&sj);
    /* the prover's input: what a POD exports */
    char dir[] = "/tmp/px-bench-pod-XXXXXX", path[64];
    if (!mkdtemp(dir))
        exit(1);
    snprintf(path, sizeof path, "%s/pod.db", dir);
    px_pod *p;
    px_buf k = PX_BUF_INIT;
    if (px_pod_open(&p, path, &e) || px_pod_dataset_create(p, "bank", schema, &e) ||
        px_source_key_format(&s->pub, &k, &e) || !px_buf_cstr(&k, &e) || px_pod_trust_add(p, (char *)k.data, &e) ||
        px_pod_import(p, "bank", PX_POD_CSV, csv->data, csv->len, NULL, NULL, &e) ||
        px_pod_export(p, "bank", stream, NULL, &e))
        die(&e, "building the stream");
    px_pod_close(p);
    px_buf_free(&k);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        exit(1);
}

typedef struct raw_set {
    const px_source_signer *s;
    uint32_t n;
    uint8_t (*d)[32], (*sig)[64];
} raw_set;

static void raw_init(raw_set *r, const px_source_signer *s, uint32_t n) {
    px_err e = {0};
    r->s = s, r->n = n;
    r->d = malloc((size_t)n * 32);
    r->sig = malloc((size_t)n * 64);
    for (uint32_t i = 0; i < n; i++) {
        px_random(r->d[i], 32);
        if (px_source_sign(s, r->d[i], r->sig[i], &e))
            die(&e, "signing");
    }
}

static double raw_verify_rate(const raw_set *r) {
    uint64_t t0 = cpu_ns();
    for (uint32_t i = 0; i < r->n; i++) {
        int bad = r->s->pub.alg == PX_SRC_ED25519 ? crypto_sign_verify_detached(r->sig[i], r->d[i], 32, r->s->pub.pk)
                                                  : px_source_verify(&r->s->pub, r->d[i], r->sig[i], 64);
        if (bad)
            exit(1);
    }
    return r->n / ((cpu_ns() - t0) / 1e9);
}

static double prove_rate(const px_source_signer *s, const px_buf *stream, uint32_t n) {
    px_err e = {0};
    px_buf cfg = PX_BUF_INIT, out = PX_BUF_INIT;
    px_prover_config c;
    if (px_prover_config_format(&cfg, &s->pub, 1, 1, &e) || px_prover_config_parse(&c, cfg.data, cfg.len, &e))
        die(&e, "prover config");
    double best = 0;
    {
        px_prover_counts k;
        out.len = 0;
        uint64_t t0 = cpu_ns();
        if (px_prover_run(&c, stream->data, stream->len, &out, &k, &e))
            die(&e, "proving");
        double rate = n / ((cpu_ns() - t0) / 1e9);
        if (k.authenticated != n)
            exit(1);
        best = rate > best ? rate : best;
    }
    px_prover_config_free(&c);
    px_buf_free(&cfg);
    px_buf_free(&out);
    return best;
}

static double import_rate(const px_source_signer *s, const px_buf *csv, const px_pod_schema *schema, uint32_t n) {
    double best = 0;
    px_err e = {0};
    px_buf k = PX_BUF_INIT;
    if (px_source_key_format(&s->pub, &k, &e) || !px_buf_cstr(&k, &e))
        die(&e, "key");
    {
        char dir[] = "/tmp/px-bench-pod-XXXXXX", path[64], cmd[96];
        if (!mkdtemp(dir))
            exit(1);
        snprintf(path, sizeof path, "%s/pod.db", dir);
        px_pod *p;
        uint64_t added = 0;
        if (px_pod_open(&p, path, &e) || px_pod_dataset_create(p, "bank", schema, &e) ||
            px_pod_trust_add(p, (char *)k.data, &e))
            die(&e, "pod");
        uint64_t t0 = cpu_ns();
        if (px_pod_import(p, "bank", PX_POD_CSV, csv->data, csv->len, &added, NULL, &e))
            die(&e, "import");
        double rate = n / ((cpu_ns() - t0) / 1e9);
        if (added != n)
            exit(1);
        best = rate > best ? rate : best;
        px_pod_close(p);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            exit(1);
    }
    px_buf_free(&k);
    return best;
}

int main(void) {
    px_err e = {0};
    if (px_crypto_init(&e))
        die(&e, "init");
    px_source_signer ed, p256;
    if (px_source_signer_generate(&ed, "bank.example", PX_SRC_ED25519, &e) ||
        px_source_signer_generate(&p256, "bank.example", PX_SRC_P256, &e))
        die(&e, "keys");

    px_buf csv = PX_BUF_INIT, stream = PX_BUF_INIT;
    px_pod_schema schema;
    raw_set raw;
    double base = 0, prove = 0, import = 0, x;
    make_data(&ed, N_ED, &csv, &schema, &stream);
    raw_init(&raw, &ed, N_ED);
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        if ((x = raw_verify_rate(&raw)) > base)
            base = x;
        if ((x = prove_rate(&ed, &stream, N_ED)) > prove)
            prove = x;
        if (r < 3 && (x = import_rate(&ed, &csv, &schema, N_ED)) > import) /* SQLite files: fewer rounds */
            import = x;
    }
    report("pod_prove_ed25519", prove, base);
    report("pod_import_ed25519", import, base);
    free(raw.d);
    free(raw.sig);

    csv.len = stream.len = 0;
    make_data(&p256, N_P256, &csv, &schema, &stream);
    raw_init(&raw, &p256, N_P256);
    base = prove = 0;
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        if ((x = raw_verify_rate(&raw)) > base)
            base = x;
        if ((x = prove_rate(&p256, &stream, N_P256)) > prove)
            prove = x;
    }
    report("pod_prove_p256", prove, base);
    free(raw.d);
    free(raw.sig);

    px_buf_free(&csv);
    px_buf_free(&stream);
    px_source_signer_free(&ed);
    px_source_signer_free(&p256);
    return 0;
}
