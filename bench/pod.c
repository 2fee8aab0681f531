/* POD throughput with signature verification, against the raw verify rate
 * of the same signature scheme measured in the same run:
 *   pod_prove_ed25519        records/s through the data-prover on one
 *                            thread (all signed)
 *   pod_import_ed25519       records/s of a signed CSV import into SQLite
 *   pod_prove_p256           records/s through the prover on one thread,
 *                            ECDSA P-256 sources
 *   pod_prove_p256_2cores    records/s through the prover on two threads,
 *                            the stage as a worker runs it on two cores
 *   pod_prove_p256_batch1000_2cores
 *                            the same for records a P-256 source signed in
 *                            batches of 1,000 (one signature per batch,
 *                            each record with its inclusion proof)
 * Baselines: libsodium crypto_sign_verify_detached over 32-byte digests,
 * and OpenSSL P-256 verification through the same EVP path PIXIU uses
 * (px_source_verify on a prehashed digest). The two-thread line's baseline
 * is OpenSSL alone on two threads: the very signatures and digests of the
 * stream's records, DER-encoded beforehand, one verification context per
 * thread, nothing else (the fastest the EVP API goes). The batch line's
 * baseline is the two-thread prover on per-record signatures: what signing
 * in batches gains a source's records at the prover. Rounds of the
 * baseline and the measured path alternate and the best of BENCH_ROUNDS
 * each is kept, so a busy machine slows both alike. One-thread lines are
 * timed in thread CPU time, since other jobs may share these cores; the
 * two-thread line cannot be, and is timed in wall time (a loaded machine
 * shows there); the import's one commit (and its fsync) happens on this
 * thread, its disk wait is not counted. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "pixiu/pod.h"
#include "pod/prover_int.h"

#define N_ED 20000
#define N_P256 4000
/* Batches of 1,000: enough of them that the two threads share the work. */
#define N_BATCH 20000
#define BATCH 1000
#define BENCH_ROUNDS 7
/* Wall time on a shared machine: more, shorter chances to catch both
 * cores free. */
#define BENCH_ROUNDS_2CORES 15

static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t proc_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const px_err *e, const char *what) {
    fprintf(stderr, "bench pod: %s: %s\n", what, e->msg);
    exit(1);
}

static void report(const char *name, double value, double baseline) {
    printf("BENCH name=%s value=%.0f unit=records/s baseline=%.0f ratio=%.3f\n", name, value, baseline,
           value / baseline);
    fflush(stdout); /* before any note on stderr */
}

/* A demo bank dataset of n rows, all signed by s (batch rows at a time; 0:
 * each row on its own): CSV, schema, stream. */
static void make_data(const px_source_signer *s, uint32_t n, uint32_t batch, px_buf *csv, px_pod_schema *schema,
                      px_buf *stream) {
    px_err e = {0};
    px_buf sj = PX_BUF_INIT;
    if (px_pod_demo_generate_batch(csv, &sj, n / 20, 20, 11, s, 1000, batch, &e) ||
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

/* threads 1: thread CPU time; more: wall time. */
static double prove_rate(const px_source_signer *s, const px_buf *stream, uint32_t n, unsigned threads) {
    px_err e = {0};
    px_buf cfg = PX_BUF_INIT, out = PX_BUF_INIT;
    px_prover_config c;
    if (px_prover_config_format(&cfg, &s->pub, 1, 1, &e) || px_prover_config_parse(&c, cfg.data, cfg.len, &e))
        die(&e, "prover config");
    double best = 0;
    {
        px_prover_counts k;
        out.len = 0;
        const uint8_t *in = stream->data;
        size_t len = stream->len;
        uint64_t t0 = threads == 1 ? cpu_ns() : wall_ns();
        if (px_prover_run_many_threads(&c, &in, &len, 1, threads, &out, &k, &e))
            die(&e, "proving");
        double rate = n / (((threads == 1 ? cpu_ns() : wall_ns()) - t0) / 1e9);
        if (k.authenticated != n)
            exit(1);
        best = rate > best ? rate : best;
    }
    px_prover_config_free(&c);
    px_buf_free(&cfg);
    px_buf_free(&out);
    return best;
}

/* ---- raw P-256 on two threads ---------------------------------------------- */

/* The stream's own signatures, as OpenSSL takes them: DER, with the
 * record digests they sign. */
typedef struct der_set {
    EVP_PKEY *pkey;
    uint32_t n;
    uint8_t (*d)[32], (*der)[72];
    size_t *len;
} der_set;

static void der_init(der_set *r, const px_source_signer *s, const px_buf *stream) {
    px_err e = {0};
    px_records_reader rd;
    if (px_records_open(&rd, stream->data, stream->len, &e))
        die(&e, "stream");
    px_schema data = rd.schema;
    data.nfields -= 2;
    r->pkey = s->pub.ossl;
    r->n = 0;
    r->d = malloc((size_t)rd.count * sizeof *r->d);
    r->der = malloc((size_t)rd.count * sizeof *r->der);
    r->len = malloc((size_t)rd.count * sizeof *r->len);
    px_value v[PX_RECORDS_MAX_FIELDS];
    while (px_records_next(&rd, v, NULL, &e) == 1) {
        const px_value *sig = &v[data.nfields + 1];
        if (sig->len != 64 || px_source_record_digest(r->d[r->n], &data, v, &e))
            die(&e, "stream record");
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *br = BN_bin2bn(sig->p, 32, NULL), *bs = BN_bin2bn(sig->p + 32, 32, NULL);
        uint8_t *p = r->der[r->n];
        if (!es || !br || !bs || ECDSA_SIG_set0(es, br, bs) != 1 || i2d_ECDSA_SIG(es, NULL) > 72)
            exit(1);
        r->len[r->n] = (size_t)i2d_ECDSA_SIG(es, &p);
        ECDSA_SIG_free(es);
        r->n++;
    }
}

typedef struct der_part {
    const der_set *r;
    uint32_t lo, hi;
    int bad;
} der_part;

static void *der_verify(void *arg) {
    der_part *p = arg;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, p->r->pkey, NULL);
    if (!ctx || EVP_PKEY_verify_init(ctx) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1)
        p->bad = 1;
    for (uint32_t i = p->lo; !p->bad && i < p->hi; i++)
        p->bad = EVP_PKEY_verify(ctx, p->r->der[i], p->r->len[i], p->r->d[i], 32) != 1;
    EVP_PKEY_CTX_free(ctx);
    return NULL;
}

static double der_rate_2threads(const der_set *r) {
    der_part parts[2] = {{r, 0, r->n / 2, 0}, {r, r->n / 2, r->n, 0}};
    pthread_t t;
    uint64_t t0 = wall_ns();
    if (pthread_create(&t, NULL, der_verify, &parts[1]))
        exit(1);
    der_verify(&parts[0]);
    pthread_join(t, NULL);
    double rate = r->n / ((wall_ns() - t0) / 1e9);
    if (parts[0].bad || parts[1].bad)
        exit(1);
    return rate;
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
    make_data(&ed, N_ED, 0, &csv, &schema, &stream);
    raw_init(&raw, &ed, N_ED);
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        if ((x = raw_verify_rate(&raw)) > base)
            base = x;
        if ((x = prove_rate(&ed, &stream, N_ED, 1)) > prove)
            prove = x;
        if (r < 3 && (x = import_rate(&ed, &csv, &schema, N_ED)) > import) /* SQLite files: fewer rounds */
            import = x;
    }
    report("pod_prove_ed25519", prove, base);
    report("pod_import_ed25519", import, base);
    free(raw.d);
    free(raw.sig);

    csv.len = stream.len = 0;
    make_data(&p256, N_P256, 0, &csv, &schema, &stream);
    raw_init(&raw, &p256, N_P256);
    base = prove = 0;
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        if ((x = raw_verify_rate(&raw)) > base)
            base = x;
        if ((x = prove_rate(&p256, &stream, N_P256, 1)) > prove)
            prove = x;
    }
    report("pod_prove_p256", prove, base);
    free(raw.d);
    free(raw.sig);

    der_set der;
    der_init(&der, &p256, &stream);
    base = prove = 0;
    for (int r = 0; r < BENCH_ROUNDS_2CORES; r++) {
        if ((x = der_rate_2threads(&der)) > base)
            base = x;
        if ((x = prove_rate(&p256, &stream, N_P256, 2)) > prove)
            prove = x;
    }
    report("pod_prove_p256_2cores", prove, base);
    /* Wall time depends on what else runs; CPU time says how much work
     * each path does, both threads counted. */
    uint64_t c1 = proc_ns();
    for (int r = 0; r < 3; r++)
        der_rate_2threads(&der);
    uint64_t c2 = proc_ns();
    for (int r = 0; r < 3; r++)
        prove_rate(&p256, &stream, N_P256, 2);
    uint64_t c3 = proc_ns();
    fprintf(stderr, "# pod_prove_p256_2cores per CPU second: prover %.0f records/s, raw OpenSSL %.0f/s\n",
            3.0 * N_P256 / ((c3 - c2) / 1e9), 3.0 * der.n / ((c2 - c1) / 1e9));
    free(der.d);
    free(der.der);
    free(der.len);

    /* the same source signing in batches of 1,000, against its per-record
     * records on the same two threads */
    px_buf bcsv = PX_BUF_INIT, bstream = PX_BUF_INIT;
    make_data(&p256, N_BATCH, BATCH, &bcsv, &schema, &bstream);
    base = prove = 0;
    for (int r = 0; r < BENCH_ROUNDS_2CORES; r++) {
        if ((x = prove_rate(&p256, &stream, N_P256, 2)) > base)
            base = x;
        if ((x = prove_rate(&p256, &bstream, N_BATCH, 2)) > prove)
            prove = x;
    }
    report("pod_prove_p256_batch1000_2cores", prove, base);
    c1 = proc_ns();
    for (int r = 0; r < 3; r++)
        prove_rate(&p256, &bstream, N_BATCH, 2);
    c2 = proc_ns();
    fprintf(stderr, "# pod_prove_p256_batch1000_2cores per CPU second: prover %.0f records/s\n",
            3.0 * N_BATCH / ((c2 - c1) / 1e9));
    px_buf_free(&bcsv);
    px_buf_free(&bstream);

    px_buf_free(&csv);
    px_buf_free(&stream);
    px_source_signer_free(&ed);
    px_source_signer_free(&p256);
    return 0;
}
