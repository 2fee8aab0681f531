/* Step overhead of a trust-λ for a 1 KiB input: a worker under the process
 * backend (namespaces, limits, seccomp), keys, evidence, then one
 * step (open the sealed input, hash, check the release, run, seal to the
 * successor, sign the proof) and the node's check of that proof.
 *   lambda_step_1k       a built-in stage (aggregate)
 *   lambda_step_wasm_1k  task code in the sandbox (an echo module, already
 *                        in the object cache): the code is sealed, opened,
 *                        checked and run in a fresh runner process, which
 *                        the worker starts once its keys are out, as on a
 *                        node: its spawn, exec and loading overlap the
 *                        attestation, within the timed start
 * Each step puts its accepted-input statement and its proof in a real log
 * (SQLite, in this process, durable before the append returns) and shows
 * the worker each before it goes on (release after log):
 *   lambda_step_log_1k   the two appends with their inclusion proofs alone,
 *                        against the whole built-in step as baseline
 * Both take the worker from a warm pool (docs/lambda.md "Warm instances")
 * of two per profile, as a node does: the pool refills between steps,
 * untimed, which is a node whose pool keeps up with its recruitments; the
 * exec a pooled worker cost is paid off the step's path, not saved. The
 * bench fails if a step did not get a warm worker.
 *   lambda_step_cold_1k, lambda_step_wasm_cold_1k
 *                        the same steps with a worker started for each
 *                        (no pool): the exec and loading are on the path
 * Baseline in the same run: fork+exec of a trivial program and waiting for
 * it. Medians; runs are interleaved so both see the same machine. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pixiu/lambda.h"
#include "pixiu/log.h"
#include "pixiu/records.h"

#define BENCH_RUNS 101
#define WASM_RUNS 31
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
    px_signer platform, pod, log_key;
    px_log *log;
    uint64_t log_ns; /* time spent appending in the current step */
    px_box_keypair successor;
    uint8_t manifest[32], nonce[32];
    px_lambda_build *build; /* as a node keeps it: computed once */
    px_lambda_pool *pool;   /* as a node keeps it: warm workers */
    px_buf config, wasm_config, vec, module;
    uint8_t module_digest[32];
    char worker_path[4096];
} setup;

static void die(const px_err *e, const char *what) {
    fprintf(stderr, "bench lambda_step: %s: %s\n", what, e->msg);
    exit(1);
}

static void vkey(const px_signer *sg, px_buf *out) {
    px_verifier v;
    px_err e = {0};
    px_signer_verifier(sg, &v);
    px_verifier_format(&v, out, &e);
    while (out->len && out->data[out->len - 1] == '\n')
        out->len--;
}

static void make_config(setup *s, px_buf *out, const char *kind) {
    px_buf p = PX_BUF_INIT, d = PX_BUF_INIT, l = PX_BUF_INIT;
    px_err e = {0};
    vkey(&s->platform, &p);
    vkey(&s->pod, &d);
    vkey(&s->log_key, &l);
    char m[65], k[65];
    px_hex_encode(m, s->manifest, 32);
    px_hex_encode(k, s->successor.pk, 32);
    px_buf_printf(out, &e,
                  "{\"manifest\":\"%s\",\"stage\":{\"index\":1,\"kind\":\"%s\"},\"successors\":[\"%s\"],"
                  "\"predecessors\":{\"platform_keys\":[\"%.*s\"],\"min_level\":1,\"pods\":[\"%.*s\"]},"
                  "\"log\":\"%.*s\"}",
                  m, kind, k, (int)p.len, (char *)p.data, (int)d.len, (char *)d.data, (int)l.len, (char *)l.data);
    px_buf_free(&p);
    px_buf_free(&d);
    px_buf_free(&l);
}

/* The log the instance is shown its statements in, timed. */
static int timed_append(void *ctx, const uint8_t *entry, size_t len, px_log_receipt *out, px_err *err) {
    setup *s = ctx;
    uint64_t t0 = px_mono_ns();
    int rc = px_log_append_proven(s->log, entry, len, out, err);
    s->log_ns += px_mono_ns() - t0;
    return rc;
}

/* The release names the input by its hiding commitment under r. */
static void make_release(const setup *s, const uint8_t r[PX_COMMIT_RANDBYTES], const uint8_t to[32], px_buf *out) {
    uint8_t d[32];
    px_commit_digest(d, r, s->vec.data, s->vec.len);
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
static uint64_t one_step(setup *s, int wasm, px_lambda_pool *pool) {
    px_err e = {0};
    /* The pool refills in the background; here it is let catch up first. */
    if (pool && px_lambda_pool_wait_full(pool, 10000, &e))
        die(&e, "warm pool");
    const px_buf *cfg = wasm ? &s->wasm_config : &s->config;
    px_lambda_host_req req = {&px_tee_process, s->worker_path, s->build, &s->platform, "node-a",
                              wasm ? "wasm" : "aggregate", wasm ? s->module_digest : NULL, cfg->data, cfg->len,
                              s->nonce, 0, 0, 0, 0};
    px_lambda_host h;
    uint64_t t0 = px_mono_ns();
    /* A node checks its build's files before each recruitment. */
    if (px_lambda_build_refresh(s->build, NULL, &e) || px_lambda_host_start_from(&h, &req, pool, &e))
        die(&e, "start");
    uint64_t t1 = px_mono_ns();
    /* The predecessor's part (release and sealing) is not timed. */
    px_buf rel = PX_BUF_INIT, sealed = PX_BUF_INIT, code = PX_BUF_INIT;
    uint8_t r_in[PX_COMMIT_RANDBYTES], commit[PX_SHA256_BYTES];
    px_commit_new(r_in, s->vec.data, s->vec.len, commit);
    make_release(s, r_in, h.box_pk, &rel);
    if (px_seal_committed(&sealed, r_in, s->vec.data, s->vec.len, h.box_pk, &e) ||
        (wasm && px_seal(&code, s->module.data, s->module.len, h.box_pk, &e)))
        die(&e, "seal");
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result r;
    uint64_t t2 = px_mono_ns();
    px_lambda_log log = {timed_append, s};
    s->log_ns = 0;
    if (px_lambda_host_step(&h, code.data, code.len, &in, 1, &log, &r, &e))
        die(&e, "step");
    if (!r.ok) {
        px_dsse env;
        if (px_dsse_parse(&env, r.proof.data, r.proof.len, &e) == 0) {
            fprintf(stderr, "bench lambda_step: step failed: %.*s\n", (int)env.payload.len,
                    (const char *)env.payload.data);
            px_dsse_free(&env);
        }
        exit(1);
    }
    uint64_t t3 = px_mono_ns();
    px_step_result_free(&r);
    px_lambda_host_free(&h);
    px_buf_free(&rel);
    px_buf_free(&sealed);
    px_buf_free(&code);
    return (t1 - t0) + (t3 - t2);
}

#define WASI "(import \"wasi_snapshot_preview1\" "
static const char echo_wat[] =
    "(module " WASI "\"fd_read\" (func $read (param i32 i32 i32 i32) (result i32)))"
    WASI "\"fd_write\" (func $write (param i32 i32 i32 i32) (result i32)))"
    "(memory (export \"memory\") 2)"
    "(func (export \"_start\") (local $n i32)"
    " (block $done (loop $l"
    "  (i32.store (i32.const 0) (i32.const 1024))"
    "  (i32.store (i32.const 4) (i32.const 60000))"
    "  (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))"
    "  (local.set $n (i32.load (i32.const 8)))"
    "  (br_if $done (i32.eqz (local.get $n)))"
    "  (i32.store (i32.const 4) (local.get $n))"
    "  (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))"
    "  (br $l)))))";

/* The echo module, assembled by wabt's wat2wasm, and a private cache. */
static void make_module(setup *s, char *dir) {
    px_err e = {0};
    if (!mkdtemp(dir))
        die(&e, "mkdtemp");
    char path[256], cmd[600];
    snprintf(path, sizeof path, "%s/echo.wat", dir);
    if (px_file_write_atomic(path, echo_wat, strlen(echo_wat), 0600, &e))
        die(&e, "echo.wat");
    snprintf(cmd, sizeof cmd, "wat2wasm '%s' -o '%s/echo.wasm'", path, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench lambda_step: wat2wasm failed\n");
        exit(1);
    }
    snprintf(path, sizeof path, "%s/echo.wasm", dir);
    if (px_file_read(path, 1 << 20, &s->module, &e))
        die(&e, "echo.wasm");
    px_sha256(s->module_digest, s->module.data, s->module.len);
    snprintf(path, sizeof path, "%s/cache", dir);
    setenv("PIXIU_CACHE_DIR", path, 1);
}

static void report(const char *name, uint64_t *v, uint64_t *base, size_t n) {
    double b = (double)median(base, n) / 1000.0, m = (double)median(v, n) / 1000.0;
    printf("BENCH name=%s value=%.1f unit=us baseline=%.1f ratio=%.2f\n", name, m, b, m / b);
}

int main(void) {
    px_err e = {0};
    setup s;
    memset(&s, 0, sizeof s);
    const char *build = getenv("PX_BUILD_DIR");
    /* The build names its worker by absolute path, and the pool hands out
     * a worker only for the path it started it from: a relative path here
     * would have every step start cold while looking warm. */
    char dirpath[PATH_MAX];
    if (!realpath(build ? build : ".", dirpath)) {
        fprintf(stderr, "bench lambda_step: the build directory %s: %s\n", build ? build : ".", strerror(errno));
        return 1;
    }
    size_t n = strlen(dirpath);
    if (n + sizeof "/pixiu_worker" > sizeof s.worker_path) {
        fprintf(stderr, "bench lambda_step: the build directory's path is too long\n");
        return 1;
    }
    memcpy(s.worker_path, dirpath, n);
    memcpy(s.worker_path + n, "/pixiu_worker", sizeof "/pixiu_worker");
    if (px_crypto_init(&e) || px_signer_generate(&s.platform, "node-a", &e) ||
        px_signer_generate(&s.pod, "pod-1", &e) || px_signer_generate(&s.log_key, "log.bench/pixiu", &e))
        die(&e, "setup");
    char dir[] = "/tmp/pixiu-bench-XXXXXX";
    make_module(&s, dir);
    char store[300];
    snprintf(store, sizeof store, "%s/log.db", dir);
    px_log_opts lo = {.store = store, .key = &s.log_key};
    if (px_log_open(&s.log, &lo, &e))
        die(&e, "log");
    px_box_keygen(&s.successor);
    px_random(s.manifest, 32);
    px_random(s.nonce, 32);
    make_config(&s, &s.config, "aggregate");
    make_config(&s, &s.wasm_config, "wasm");
    char runner[4200];
    snprintf(runner, sizeof runner, "%s/pixiu-wasm-runner", build ? build : ".");
    setenv("PIXIU_WASM_RUNNER", runner, 1);
    if (!(s.build = calloc(1, sizeof *s.build)) || px_lambda_build_init(s.build, s.worker_path, &e))
        die(&e, "the build");
    double v[INPUT_VALUES];
    for (int i = 0; i < INPUT_VALUES; i++)
        v[i] = i;
    if (px_vector_encode(&s.vec, v, INPUT_VALUES, &e))
        die(&e, "vector");
    /* Two of each profile, as a node keeps them (PX_NODE_WARM_WORKERS). */
    if (px_lambda_pool_new(&s.pool, &px_tee_process, s.worker_path, 2, &e))
        die(&e, "warm pool");
    static uint64_t base[BENCH_RUNS], step[BENCH_RUNS], logged[BENCH_RUNS], cold[BENCH_RUNS], wbase[WASM_RUNS],
        wstep[WASM_RUNS], wcold[WASM_RUNS];
    one_step(&s, 0, s.pool); /* warm the page cache */
    one_step(&s, 1, s.pool); /* compile the module into the cache */
    fork_exec_true();
    for (int i = 0; i < BENCH_RUNS; i++) {
        base[i] = fork_exec_true();
        step[i] = one_step(&s, 0, s.pool);
        logged[i] = s.log_ns;
        cold[i] = one_step(&s, 0, NULL);
    }
    static uint64_t whole[BENCH_RUNS];
    memcpy(whole, step, sizeof whole);
    for (int i = 0; i < WASM_RUNS; i++) {
        wbase[i] = fork_exec_true();
        wstep[i] = one_step(&s, 1, s.pool);
        wcold[i] = one_step(&s, 1, NULL);
    }
    report("lambda_step_1k", step, base, BENCH_RUNS);
    report("lambda_step_wasm_1k", wstep, wbase, WASM_RUNS);
    report("lambda_step_log_1k", logged, whole, BENCH_RUNS);
    report("lambda_step_cold_1k", cold, base, BENCH_RUNS);
    report("lambda_step_wasm_cold_1k", wcold, wbase, WASM_RUNS);
    px_lambda_pool_stats ps;
    px_lambda_pool_stats_get(s.pool, &ps);
    if (ps.missed || ps.discarded) {
        fprintf(stderr, "bench lambda_step: steps did not all get a warm worker (%llu taken, %llu missed, "
                        "%llu discarded)\n",
                (unsigned long long)ps.taken, (unsigned long long)ps.missed, (unsigned long long)ps.discarded);
        return 1;
    }
    px_lambda_pool_free(s.pool);
    px_log_close(s.log);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench lambda_step: could not remove %s\n", dir);
    px_buf_free(&s.config);
    px_buf_free(&s.wasm_config);
    px_buf_free(&s.vec);
    px_buf_free(&s.module);
    return 0;
}
