/* Step overhead of a trust-λ for a 1 KiB input with a built-in stage:
 * spawn the worker under the process backend (namespaces, limits, seccomp),
 * keys, evidence, then one step (open the sealed input, hash, check the
 * release, run, seal to the successor, sign the proof) and the node's check
 * of that proof. Baseline in the same run: fork+exec of a trivial program
 * and waiting for it. Medians of BENCH_RUNS runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pixiu/lambda.h"
#include "pixiu/records.h"

#define BENCH_RUNS 101
#define INPUT_VALUES 127 /* 8 + 127 * 8 = 1024 bytes of PXV1 */

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_u64);
    return v[n / 2];
}

static uint64_t fork_exec_true(void) {
    uint64_t t0 = px_mono_ns();
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"/bin/true", NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return px_mono_ns() - t0;
}

typedef struct setup {
    px_signer platform, pod;
    px_box_keypair successor;
    uint8_t manifest[32], worker[32], nonce[32];
    px_buf config, vec;
    char worker_path[4096];
} setup;

static void die(const px_err *e, const char *what) {
    fprintf(stderr, "bench lambda_step: %s: %s\n", what, e->msg);
    exit(1);
}

static void make_config(setup *s) {
    px_verifier pv, dv;
    px_signer_verifier(&s->platform, &pv);
    px_signer_verifier(&s->pod, &dv);
    px_buf p = PX_BUF_INIT, d = PX_BUF_INIT;
    px_err e = {0};
    px_verifier_format(&pv, &p, &e);
    px_verifier_format(&dv, &d, &e);
    while (p.len && p.data[p.len - 1] == '\n')
        p.len--;
    while (d.len && d.data[d.len - 1] == '\n')
        d.len--;
    char m[65], k[65];
    px_hex_encode(m, s->manifest, 32);
    px_hex_encode(k, s->successor.pk, 32);
    px_buf_printf(&s->config, &e,
                  "{\"manifest\":\"%s\",\"stage\":{\"index\":1,\"kind\":\"aggregate\"},\"successors\":[\"%s\"],"
                  "\"predecessors\":{\"platform_keys\":[\"%.*s\"],\"min_level\":1,\"pods\":[\"%.*s\"]}}",
                  m, k, (int)p.len, (char *)p.data, (int)d.len, (char *)d.data);
    px_buf_free(&p);
    px_buf_free(&d);
}

static void make_release(const setup *s, const uint8_t to[32], px_buf *out) {
    uint8_t d[32];
    px_sha256(d, s->vec.data, s->vec.len);
    char m[65], dh[65], k[65];
    px_hex_encode(m, s->manifest, 32);
    px_hex_encode(dh, d, 32);
    px_hex_encode(k, to, 32);
    json_t *pred = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s, s:i}", "manifest", m, "pod", "p",
                             "dataset", "d", "dataset_digest", dh, "records", 1, "signed", 1, "unsigned", 0,
                             "epsilon", "1", "delta", "0", "stage_key", k, "released", 1);
    px_subject subj = {(char *)"release", {0}};
    memcpy(subj.sha256, d, 32);
    px_buf st = PX_BUF_INIT;
    px_err e = {0};
    if (px_statement_build(&st, &subj, 1, PX_RELEASE_PREDICATE, pred, &e) ||
        px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, &s->pod, 1, &e))
        die(&e, "release");
    json_decref(pred);
    px_buf_free(&st);
}

/* One instance's life; returns nanoseconds spent in node + worker work. */
static uint64_t one_step(setup *s) {
    px_err e = {0};
    px_lambda_host_req req = {&px_tee_process, s->worker_path, s->worker, &s->platform, "node-a", "aggregate", NULL,
                              s->config.data, s->config.len, s->nonce, 0, 0, 0};
    px_lambda_host h;
    uint64_t t0 = px_mono_ns();
    if (px_lambda_host_start(&h, &req, &e))
        die(&e, "start");
    uint64_t t1 = px_mono_ns();
    /* The predecessor's part (release and sealing) is not timed. */
    px_buf rel = PX_BUF_INIT, sealed = PX_BUF_INIT;
    make_release(s, h.box_pk, &rel);
    if (px_seal(&sealed, s->vec.data, s->vec.len, h.box_pk, &e))
        die(&e, "seal");
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result r;
    uint64_t t2 = px_mono_ns();
    if (px_lambda_host_step(&h, NULL, 0, &in, 1, &r, &e) || !r.ok)
        die(&e, "step");
    uint64_t t3 = px_mono_ns();
    px_step_result_free(&r);
    px_lambda_host_free(&h);
    px_buf_free(&rel);
    px_buf_free(&sealed);
    return (t1 - t0) + (t3 - t2);
}

int main(void) {
    px_err e = {0};
    setup s;
    memset(&s, 0, sizeof s);
    const char *build = getenv("PX_BUILD_DIR");
    snprintf(s.worker_path, sizeof s.worker_path, "%s/pixiu_worker", build ? build : ".");
    if (px_crypto_init(&e) || px_signer_generate(&s.platform, "node-a", &e) ||
        px_signer_generate(&s.pod, "pod-1", &e) || px_tee_file_digest(s.worker, s.worker_path, &e))
        die(&e, "setup");
    px_box_keygen(&s.successor);
    px_random(s.manifest, 32);
    px_random(s.nonce, 32);
    make_config(&s);
    double v[INPUT_VALUES];
    for (int i = 0; i < INPUT_VALUES; i++)
        v[i] = i;
    if (px_vector_encode(&s.vec, v, INPUT_VALUES, &e))
        die(&e, "vector");
    uint64_t base[BENCH_RUNS], step[BENCH_RUNS];
    one_step(&s); /* warm the page cache */
    fork_exec_true();
    for (int i = 0; i < BENCH_RUNS; i++) { /* interleaved: same conditions */
        base[i] = fork_exec_true();
        step[i] = one_step(&s);
    }
    double b = (double)median(base, BENCH_RUNS) / 1000.0, m = (double)median(step, BENCH_RUNS) / 1000.0;
    printf("BENCH name=lambda_step_1k value=%.1f unit=us baseline=%.1f ratio=%.2f\n", m, b, m / b);
    px_buf_free(&s.config);
    px_buf_free(&s.vec);
    return 0;
}
