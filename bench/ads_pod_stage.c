/* The advertising example's POD-side step (docs/usecases.md, "Ads").
 *
 *   ads_pod_stage_ms   one POD-side instance of the targeting task: the
 *                      worker started under the process backend, keys and
 *                      evidence, then its one step over one person's proven
 *                      purchases (code, task key and content opened and
 *                      checked, the per-user run in the sandbox, output and
 *                      delivery sealed, both statements in a real log), with
 *                      no pad: the work a POD does, which the pad then hides.
 *                      Baseline: the same targeting code compiled natively,
 *                      run over the same records in this process.
 *
 * With --native DIR N it is the campaign bench's baseline instead
 * (bench/ads_campaign.sh): the same targeting code, natively, in one
 * process, over the datasets of the PODs DIR/pod-1 .. DIR/pod-N, each
 * exported and proven as the POD-side prover would; it prints the seconds
 * and the matches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pixiu/lambda.h"
#include "pixiu/log.h"
#include "pixiu/pod.h"
#include "pixiu/sandbox.h"

/* The targeting task itself, compiled natively into this program. */
#define main ads_target_main
#include "../examples/ads/console_buyers.c"
#undef main

#define RUNS 21
#define NATIVE_RUNS 201
#define TODAY 20089

static void die(const px_err *e, const char *what) {
    fprintf(stderr, "bench ads_pod_stage: %s: %s\n", what, e ? e->msg : "failed");
    exit(1);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_u64);
    return v[n / 2];
}

/* Run the native task on `in`: its standard input and output are memfds
 * for the call. Returns the value it wrote (its one vector). */
static double native_run(const px_buf *in) {
    int ifd = memfd_create("in", 0), ofd = memfd_create("out", 0), saved_in = dup(0), saved_out = dup(1);
    if (ifd < 0 || ofd < 0 || write(ifd, in->data, in->len) != (ssize_t)in->len || lseek(ifd, 0, SEEK_SET) != 0)
        die(NULL, "memfd");
    dup2(ifd, 0);
    dup2(ofd, 1);
    ads_target_main();
    fflush(stdout);
    dup2(saved_in, 0);
    dup2(saved_out, 1);
    uint8_t out[16] = {0};
    double v = -1;
    if (pread(ofd, out, sizeof out, 0) == (ssize_t)sizeof out)
        memcpy(&v, out + 8, sizeof v);
    close(ifd), close(ofd), close(saved_in), close(saved_out);
    return v;
}

/* A POD's dataset exported and proven as its stage-0 instance would. */
static void proven_records(px_pod *p, px_buf *out) {
    px_err e = {0};
    px_buf raw = PX_BUF_INIT, cfg = PX_BUF_INIT;
    px_pod_export_info info;
    px_source_key *keys = NULL;
    size_t nkeys = 0;
    px_prover_config pc;
    px_prover_counts counts;
    if (px_pod_export(p, "purchases", &raw, &info, &e) || px_pod_trust_list(p, &keys, &nkeys, &e) ||
        px_prover_config_format(&cfg, keys, nkeys, 0, &e) || px_prover_config_parse(&pc, cfg.data, cfg.len, &e) ||
        px_prover_run(&pc, raw.data, raw.len, out, &counts, &e))
        die(&e, "proving a POD's records");
    px_prover_config_free(&pc);
    px_source_keys_free(keys, nkeys);
    px_buf_free(&raw);
    px_buf_free(&cfg);
}

static int native_campaign(const char *dir, unsigned n) {
    px_err e = {0};
    if (px_crypto_init(&e))
        die(&e, "crypto");
    unsigned matched = 0;
    uint64_t t0 = px_mono_ns();
    for (unsigned i = 1; i <= n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/pod-%u/pod.db", dir, i);
        px_pod *p;
        px_buf rec = PX_BUF_INIT;
        if (px_pod_open(&p, path, &e))
            die(&e, path);
        proven_records(p, &rec);
        matched += native_run(&rec) == 1.0;
        px_pod_close(p);
        px_buf_free(&rec);
    }
    double s = (double)(px_mono_ns() - t0) / 1e9;
    printf("native_s=%.3f matched=%u\n", s, matched);
    return 0;
}

/* ---- the POD-side step ------------------------------------------------------- */

typedef struct world {
    char dir[64];
    px_signer platform, pod, log_key;
    px_log *log;
    px_lambda_build *build;
    uint8_t manifest[32], key[PX_TASK_KEY_BYTES], code_digest[32];
    px_box_keypair next, inbox;
    px_buf module, records, config, content;
    char worker[4200];
} world;

static void vkey(const px_signer *sg, px_buf *out) {
    px_verifier v;
    px_signer_verifier(sg, &v);
    px_verifier_format(&v, out, NULL);
    while (out->len && out->data[out->len - 1] == '\n')
        out->len--;
}

static void pod_config(world *w) {
    px_buf d = PX_BUF_INIT, l = PX_BUF_INIT;
    vkey(&w->pod, &d);
    vkey(&w->log_key, &l);
    uint8_t c[32], cd[32];
    char m[65], s[65], ib[65], ps[65], ch[65];
    px_task_key_commit(c, w->key);
    px_sha256(cd, w->content.data, w->content.len);
    px_hex_encode(m, w->manifest, 32);
    px_hex_encode(s, w->next.pk, 32);
    px_hex_encode(ib, w->inbox.pk, 32);
    px_hex_encode(ps, c, 32);
    px_hex_encode(ch, cd, 32);
    px_buf_printf(&w->config, NULL,
                  "{\"manifest\":\"%s\",\"stage\":{\"index\":1,\"kind\":\"wasm\",\"partition\":0},"
                  "\"successors\":[\"%s\"],\"predecessors\":{\"platform_keys\":[],\"min_level\":0,\"pods\":[\"%.*s\"]},"
                  "\"log\":\"%.*s\",\"at\":\"pod\",\"inbox\":\"%s\",\"params\":{\"map\":\"per-user\",\"dim\":1,"
                  "\"pseudonym\":\"%s\",\"cpu_ms\":1000,\"mem_mb\":64,\"deliver\":{\"content\":\"%s\",\"bytes\":1024}}}",
                  m, s, (int)d.len, (char *)d.data, (int)l.len, (char *)l.data, ib, ps, ch);
    px_buf_free(&d);
    px_buf_free(&l);
}

static int append(void *ctx, const uint8_t *entry, size_t len, px_log_receipt *out, px_err *err) {
    return px_log_append_proven(((world *)ctx)->log, entry, len, out, err);
}

/* A release to the POD's own instance, as a POD signs it (no counts). */
static void release(world *w, const uint8_t r[PX_COMMIT_RANDBYTES], const uint8_t to[32], px_buf *out) {
    uint8_t d[32];
    px_commit_digest(d, r, w->records.data, w->records.len);
    char m[65], dh[65], k[65];
    px_hex_encode(m, w->manifest, 32);
    px_hex_encode(dh, d, 32);
    px_hex_encode(k, to, 32);
    json_t *pred = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i}", "manifest", m, "pod", "pod-1", "dataset",
                             "purchases", "dataset_digest", dh, "at", "pod", "epsilon", "1", "delta", "0",
                             "stage_key", k, "released", 1);
    px_subject subj = {(char *)"release", {0}};
    memcpy(subj.sha256, d, 32);
    px_buf st = PX_BUF_INIT;
    px_err e = {0};
    if (px_statement_build(&st, &subj, 1, PX_RELEASE_PREDICATE, pred, &e) ||
        px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, &w->pod, 1, &e))
        die(&e, "release");
    json_decref(pred);
    px_buf_free(&st);
}

static uint64_t pod_step(world *w) {
    px_err e = {0};
    uint8_t nonce[32];
    px_random(nonce, 32);
    px_lambda_host_req req = {&px_tee_process, w->worker, w->build, &w->platform, "pod-1", "wasm", w->code_digest,
                              w->config.data, w->config.len, nonce, 0, 0, 0};
    px_lambda_host h;
    uint64_t t0 = px_mono_ns();
    if (px_lambda_build_refresh(w->build, NULL, &e) || px_lambda_host_start(&h, &req, &e))
        die(&e, "start");
    uint64_t t1 = px_mono_ns();
    px_buf rel = PX_BUF_INIT, sealed = PX_BUF_INIT, code = PX_BUF_INIT, plain = PX_BUF_INIT;
    uint8_t r[PX_COMMIT_RANDBYTES], commit[32];
    px_commit_new(r, w->records.data, w->records.len, commit);
    release(w, r, h.box_pk, &rel);
    uint8_t n4[4] = {(uint8_t)w->content.len, (uint8_t)(w->content.len >> 8), 0, 0};
    if (px_seal_committed(&sealed, r, w->records.data, w->records.len, h.box_pk, &e) ||
        px_buf_append(&plain, PX_TASK_KEY_MAGIC, 4, &e) || px_buf_append(&plain, w->key, sizeof w->key, &e) ||
        px_buf_append(&plain, PX_CONTENT_MAGIC, 4, &e) || px_buf_append(&plain, n4, 4, &e) ||
        px_buf_append(&plain, w->content.data, w->content.len, &e) ||
        px_buf_append(&plain, w->module.data, w->module.len, &e) || px_seal(&code, plain.data, plain.len, h.box_pk, &e))
        die(&e, "seal");
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result res;
    px_lambda_log log = {append, w};
    uint64_t t2 = px_mono_ns();
    if (px_lambda_host_step(&h, code.data, code.len, &in, 1, &log, &res, &e) || !res.ok)
        die(&e, res.ok ? "step" : res.status);
    uint64_t t3 = px_mono_ns();
    px_step_result_free(&res);
    px_lambda_host_free(&h);
    px_buf *b[] = {&rel, &sealed, &code, &plain};
    for (size_t i = 0; i < 4; i++)
        px_buf_free(b[i]);
    return (t1 - t0) + (t3 - t2);
}

static void setup(world *w) {
    px_err e = {0};
    const char *build = getenv("PX_BUILD_DIR"), *src = getenv("PX_SOURCE_DIR");
    if (!build)
        build = ".";
    if (!src)
        src = PX_SOURCE_DIR;
    snprintf(w->worker, sizeof w->worker, "%s/pixiu_worker", build);
    snprintf(w->dir, sizeof w->dir, "/tmp/pixiu-bench-ads-XXXXXX");
    if (px_crypto_init(&e) || !mkdtemp(w->dir))
        die(&e, "setup");
    char path[4400], task[4400], runner[4400];
    snprintf(path, sizeof path, "%s/cache", w->dir);
    setenv("PIXIU_CACHE_DIR", path, 1);
    snprintf(runner, sizeof runner, "%s/pixiu-wasm-runner", build);
    setenv("PIXIU_WASM_RUNNER", runner, 1);
    snprintf(task, sizeof task, "%s/examples/ads/console_buyers.c", src);
    snprintf(path, sizeof path, "%s/task.wasm", w->dir);
    if (px_wasm_build(task, path, NULL, &e) || px_file_read(path, 16 << 20, &w->module, &e))
        die(&e, "building the task");
    px_sha256(w->code_digest, w->module.data, w->module.len);
    snprintf(path, sizeof path, "%s/ad.txt", src);
    snprintf(task, sizeof task, "%s/examples/ads/ad.txt", src);
    if (px_file_read(task, 1 << 20, &w->content, &e))
        die(&e, "the ad");
    /* One person's POD, a planted match (a console bought at the shop). */
    px_source_signer shop;
    px_buf csv = PX_BUF_INIT, schema = PX_BUF_INIT, vk = PX_BUF_INIT;
    px_pod_schema sch;
    px_pod *p;
    snprintf(path, sizeof path, "%s/pod.db", w->dir);
    if (px_source_signer_generate(&shop, "shop.example", PX_SRC_ED25519, &e) ||
        px_source_key_format(&shop.pub, &vk, &e) || !px_buf_cstr(&vk, &e) ||
        px_pod_demo_purchases(&csv, &schema, "person-1", 7, TODAY, &shop, 1, &e) ||
        px_pod_schema_parse(&sch, schema.data, schema.len, &e) || px_pod_open(&p, path, &e) ||
        px_pod_dataset_create(p, "purchases", &sch, &e) || px_pod_trust_add(p, (const char *)vk.data, &e) ||
        px_pod_import(p, "purchases", PX_POD_CSV, csv.data, csv.len, NULL, NULL, &e))
        die(&e, "the POD");
    proven_records(p, &w->records);
    px_pod_close(p);
    px_source_signer_free(&shop);
    px_buf_free(&csv), px_buf_free(&schema), px_buf_free(&vk);
    snprintf(path, sizeof path, "%s/log.db", w->dir);
    px_log_opts lo = {.store = path, .key = &w->log_key};
    if (px_signer_generate(&w->platform, "pod-1-platform", &e) || px_signer_generate(&w->pod, "pod-1", &e) ||
        px_signer_generate(&w->log_key, "log.bench/pixiu", &e) || px_log_open(&w->log, &lo, &e))
        die(&e, "keys and log");
    px_random(w->manifest, 32);
    px_random(w->key, sizeof w->key);
    px_box_keygen(&w->next);
    px_box_keygen(&w->inbox);
    pod_config(w);
    if (!(w->build = calloc(1, sizeof *w->build)) || px_lambda_build_init(w->build, w->worker, &e))
        die(&e, "the build");
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "--native"))
        return native_campaign(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
    world w;
    memset(&w, 0, sizeof w);
    setup(&w);
    if (native_run(&w.records) != 1.0)
        die(NULL, "the planted person does not match natively");
    static uint64_t step[RUNS], native[NATIVE_RUNS];
    pod_step(&w); /* compiles the module into the cache */
    for (int i = 0; i < RUNS; i++)
        step[i] = pod_step(&w);
    for (int i = 0; i < NATIVE_RUNS; i++) {
        uint64_t t0 = px_mono_ns();
        native_run(&w.records);
        native[i] = px_mono_ns() - t0;
    }
    double ms = (double)median(step, RUNS) / 1e6, base = (double)median(native, NATIVE_RUNS) / 1e6;
    printf("BENCH name=ads_pod_stage_ms value=%.2f unit=ms baseline=%.3f ratio=%.1f\n", ms, base, ms / base);
    px_log_close(w.log);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench ads_pod_stage: could not remove %s\n", w.dir);
    return 0;
}
