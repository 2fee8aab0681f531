/* A POD-side instance that delivers (docs/lambda.md, "Delivery"): a real
 * pixiu_worker running a real targeting task, once for a person who
 * matches and once for one who does not. Nothing of what it sends may
 * tell them apart: the output to the next stage and the sealed delivery
 * have the same size, the proof the same shape and the same stated times.
 * The attacks are a task's: leak the match bit through its output's size
 * or value, through how long it computes, or by writing more than its one
 * vector. Each is equalised. Then the stage after the PODs takes one input
 * per POD node, and the content must be the one the params attest. */
#include <stdio.h>
#include <sys/stat.h>

#include "lambda/step_fixture.h"
#include "pixiu/sandbox.h"

#define WORKER PX_BUILD_DIR "/pixiu_worker"
#define PAD_MS 1500
#define CONTENT_BYTES 256

static const px_stage_kind *const gather_table[] = {&px_lambda_gather_kind, NULL};

/* Matches when any purchase is in category "console". */
#define MATCH_HEAD                                                                                                 \
    "#include \"pixiu_task.h\"\n"                                                                                  \
    "#include <string.h>\n"                                                                                        \
    "static int match(void) {\n"                                                                                   \
    "  size_t n; uint8_t *in = px_task_read_input(&n); px_task_records r;\n"                                      \
    "  if (!in || px_task_records_open(&r, in, n)) px_task_fail(\"input\");\n"                                    \
    "  int f = px_task_find(&r, \"category\"); px_task_value v[PX_TASK_MAX_FIELDS]; uint8_t fl; int m = 0;\n"     \
    "  while (px_task_records_next(&r, v, &fl) == 1)\n"                                                           \
    "    if (v[f].len == 7 && !memcmp(v[f].p, \"console\", 7)) m = 1;\n"                                          \
    "  return m;\n"                                                                                                \
    "}\n"

static const char honest_src[] = MATCH_HEAD "int main(void) {\n"
                                            "  double b = match() ? 1 : 0;\n"
                                            "  return px_task_write_vector(&b, 1) ? 1 : 0;\n"
                                            "}\n";

/* Computes a few hundred ms longer for a match. */
static const char slow_src[] = MATCH_HEAD "int main(void) {\n"
                                          "  int m = match(); double b = m ? 1 : 0;\n"
                                          "  volatile double x = 0;\n"
                                          "  if (m) for (long i = 0; i < 40000000L; i++) x += 1;\n"
                                          "  return px_task_write_vector(&b, 1) ? 1 : 0;\n"
                                          "}\n";

/* Writes more for a match, and a value that is not a bit. */
static const char loud_src[] = MATCH_HEAD "int main(void) {\n"
                                          "  double b = match() ? 1e9 : 0.5;\n"
                                          "  if (px_task_write_vector(&b, 1)) return 1;\n"
                                          "  if (b > 1) for (int i = 0; i < 1000; i++) px_task_write_vector(&b, 1);\n"
                                          "  return 0;\n"
                                          "}\n";

typedef struct world {
    fixture f;
    char dir[256];
    uint8_t key[PX_TASK_KEY_BYTES];
    char pseudonym[65];
    const char *content;
    char content_hex[65];
    px_box_keypair inbox;
    px_buf buyer, other; /* one person's purchases each */
} world;

static void build(world *w, const char *name, const char *src, px_buf *wasm) {
    char c[400], out[400];
    snprintf(c, sizeof c, "%s/%s.c", w->dir, name);
    snprintf(out, sizeof out, "%s/%s.wasm", w->dir, name);
    FILE *fp = fopen(c, "w");
    assert_non_null(fp);
    fputs(src, fp);
    fclose(fp);
    px_err err = {0};
    px_assert_ok(px_wasm_build(c, out, PX_SOURCE_DIR "/sdk", &err), &err);
    px_assert_ok(px_file_read(out, 16 << 20, wasm, &err), &err);
}

static void purchases(px_buf *b, const char *person, const char *const *cats, int n) {
    px_schema s;
    memset(&s, 0, sizeof s);
    s.nfields = 3;
    strcpy(s.fields[0].name, "person");
    s.fields[0].type = PX_FIELD_TEXT;
    strcpy(s.fields[1].name, "category");
    s.fields[1].type = PX_FIELD_TEXT;
    strcpy(s.fields[2].name, "price");
    s.fields[2].type = PX_FIELD_REAL;
    s.user_field = 0;
    px_err err = {0};
    px_assert_ok(px_records_begin(b, &s, (uint64_t)n, &err), &err);
    for (int i = 0; i < n; i++) {
        px_value v[3] = {{.type = PX_FIELD_TEXT, .p = (const uint8_t *)person, .len = (uint32_t)strlen(person)},
                         {.type = PX_FIELD_TEXT, .p = (const uint8_t *)cats[i], .len = (uint32_t)strlen(cats[i])},
                         {.type = PX_FIELD_REAL, .r = 10.0 + i}};
        px_assert_ok(px_records_append(b, &s, v, 0, &err), &err);
    }
}

static int setup(void **state) {
    world *w = calloc(1, sizeof *w);
    fx_init(&w->f);
    snprintf(w->dir, sizeof w->dir, "%s/deliver-XXXXXX", PX_BUILD_DIR);
    if (!mkdtemp(w->dir))
        return -1;
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", w->dir);
    setenv("PIXIU_CACHE_DIR", cache, 1);
    setenv("PIXIU_WASM_RUNNER", PX_BUILD_DIR "/pixiu-wasm-runner", 1);
    px_random(w->key, sizeof w->key);
    uint8_t c[32];
    px_task_key_commit(c, w->key);
    px_hex_encode(w->pseudonym, c, sizeof c);
    w->content = "Level up: 20% off every game this week at Example Games.";
    px_sha256(c, w->content, strlen(w->content));
    px_hex_encode(w->content_hex, c, sizeof c);
    px_box_keygen(&w->inbox);
    static const char *const buys[] = {"books", "console", "groceries"}, *const not[] = {"books", "garden"};
    purchases(&w->buyer, "alice", buys, 3);
    purchases(&w->other, "bob", not, 2);
    *state = w;
    return 0;
}

static int teardown(void **state) {
    world *w = *state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
    int rc = system(cmd);
    px_buf_free(&w->buyer);
    px_buf_free(&w->other);
    free(w);
    return rc == 0 ? 0 : -1;
}

/* The config a POD builds for its delivering instance (stage 1, at the POD
 * in position `pos`), its output going to `to`. */
static void pod_config(const world *w, px_buf *out, uint32_t pos, const uint8_t to[32], const char *content_hex) {
    char m[65], s[65], ib[65];
    px_hex_encode(m, w->f.manifest, 32);
    px_hex_encode(s, to, 32);
    px_hex_encode(ib, w->inbox.pk, 32);
    char *dv = fx_vkey(&w->f.pod_v), *lv = px_testlog_vkey_text();
    px_err err = {0};
    px_assert_ok(px_buf_printf(out, &err,
                               "{\"manifest\":\"%s\",\"stage\":{\"index\":1,\"kind\":\"wasm\",\"partition\":%u},"
                               "\"successors\":[\"%s\"],\"predecessors\":{\"platform_keys\":[],\"min_level\":0,"
                               "\"pods\":[\"%s\"]},\"log\":\"%s\",\"at\":\"pod\",\"pad_ms\":%d,\"inbox\":\"%s\","
                               "\"limits\":{\"cpu_ms\":500,\"mem_mb\":32},"
                               "\"params\":{\"map\":\"per-user\",\"dim\":1,\"pseudonym\":\"%s\",\"deliver\":{\"content\":\"%s\",\"bytes\":%d}}}",
                               m, pos, s, dv, lv, PAD_MS, ib, w->pseudonym, content_hex, CONTENT_BYTES),
                 &err);
    free(dv);
    free(lv);
}

typedef struct pod_run {
    px_lambda_host h;
    px_step_result r;
    px_exec_proof p;
    double ms;
} pod_run;

/* One POD-side step on a person's records; the sealed code carries the
 * task key and `content`. */
static void pod_step(const world *w, const px_buf *wasm, const px_buf *records, uint32_t pos, const char *content,
                     const uint8_t to[32], pod_run *run) {
    px_buf cfg = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, code = PX_BUF_INIT, plain = PX_BUF_INIT;
    pod_config(w, &cfg, pos, to, w->content_hex);
    uint8_t nonce[32], cd[32];
    px_random(nonce, 32);
    px_sha256(cd, wasm->data, wasm->len);
    px_lambda_host_req req = {&px_tee_process, WORKER, NULL, &w->f.platform, "node-a", "wasm", cd, cfg.data,
                              cfg.len, nonce, 0, 120, 120000, 0};
    px_err err = {0};
    px_assert_ok(px_lambda_host_start(&run->h, &req, &err), &err);
    fx_release(&w->f, &rel, &w->f.pod, records->data, records->len, run->h.box_pk);
    fx_seal(&sealed, records, run->h.box_pk);
    uint8_t n4[4] = {(uint8_t)strlen(content), 0, 0, 0};
    px_buf_append(&plain, PX_TASK_KEY_MAGIC, 4, &err);
    px_buf_append(&plain, w->key, PX_TASK_KEY_BYTES, &err);
    px_buf_append(&plain, PX_CONTENT_MAGIC, 4, &err);
    px_buf_append(&plain, n4, 4, &err);
    px_buf_append(&plain, content, strlen(content), &err);
    px_buf_append(&plain, wasm->data, wasm->len, &err);
    px_assert_ok(px_seal(&code, plain.data, plain.len, run->h.box_pk, &err), &err);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    uint64_t t0 = px_mono_ns();
    px_assert_ok(px_lambda_host_step(&run->h, code.data, code.len, &in, 1, PX_TESTLOG_LAMBDA, &run->r, &err), &err);
    run->ms = (double)(px_mono_ns() - t0) / 1e6;
    if (run->r.ok)
        px_assert_ok(px_lambda_proof_verify(&run->p, run->r.proof.data, run->r.proof.len, run->h.sign_pk, &err), &err);
    px_buf *bufs[] = {&cfg, &rel, &sealed, &code, &plain};
    for (size_t i = 0; i < 5; i++)
        px_buf_free(bufs[i]);
}

static void run_free(pod_run *run) {
    px_step_result_free(&run->r);
    px_lambda_host_free(&run->h);
}

/* The delivery a POD opens: delivered or not, and the content. */
static int open_delivery(const world *w, const pod_run *run, px_buf *content) {
    px_err err = {0};
    px_buf plain = PX_BUF_INIT;
    uint8_t commit[32];
    px_assert_ok(px_open_committed(&plain, commit, run->r.delivery.data, run->r.delivery.len, &w->inbox, &err), &err);
    assert_true(run->p.has_delivery);
    assert_memory_equal(commit, run->p.delivery, 32);
    assert_int_equal(plain.len, PX_DELIVERY_HEADER_BYTES + CONTENT_BYTES);
    assert_memory_equal(plain.data, PX_DELIVERY_MAGIC, 4);
    int delivered = plain.data[4];
    uint32_t n = px_load_u32le(plain.data + 5);
    assert_true(delivered ? n > 0 : n == 0);
    for (size_t i = PX_DELIVERY_HEADER_BYTES + n; i < plain.len; i++)
        assert_int_equal(plain.data[i], 0);
    px_buf_append(content, plain.data + PX_DELIVERY_HEADER_BYTES, n, &err);
    px_buf_free(&plain);
    return delivered;
}

/* The value the next stage receives for the one person. */
static double entry_value(const world *w, const pod_run *run) {
    px_buf plain = PX_BUF_INIT;
    fx_open(&plain, &run->r.outputs[0], &w->f.successor);
    px_tagged_reader tr;
    px_err err = {0};
    px_assert_ok(px_tagged_open(&tr, plain.data, plain.len, &err), &err);
    assert_int_equal(tr.count, 1);
    const uint8_t *tag;
    int present;
    double v = -1;
    assert_int_equal(px_tagged_next(&tr, &tag, &present, &v, &err), 1);
    assert_true(present);
    px_buf_free(&plain);
    return v;
}

/* The two runs look alike from outside: sizes, proof shape, times. */
static void alike(const pod_run *a, const pod_run *b) {
    assert_true(a->r.ok && b->r.ok);
    assert_int_equal(a->r.noutputs, 1);
    assert_int_equal(b->r.noutputs, 1);
    assert_int_equal(a->r.outputs[0].len, b->r.outputs[0].len);
    assert_int_equal(a->r.delivery.len, b->r.delivery.len);
    assert_int_equal(a->r.proof.len, b->r.proof.len);
    assert_int_equal(a->p.finished - a->p.started, PAD_MS);
    assert_int_equal(b->p.finished - b->p.started, PAD_MS);
    /* No record counts in a POD-side proof; the user count stays. */
    assert_true(a->p.has_users && a->p.users == 1);
    assert_null(memmem(a->r.proof.data, a->r.proof.len, "records", 7));
}

static void test_match_and_no_match_look_alike(void **state) {
    world *w = *state;
    px_buf wasm = PX_BUF_INIT, got = PX_BUF_INIT, none = PX_BUF_INIT;
    build(w, "honest", honest_src, &wasm);
    pod_run a, b;
    memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
    pod_step(w, &wasm, &w->buyer, 3, w->content, w->f.successor.pk, &a);
    pod_step(w, &wasm, &w->other, 4, w->content, w->f.successor.pk, &b);
    alike(&a, &b);
    assert_true(open_delivery(w, &a, &got));
    assert_int_equal(got.len, strlen(w->content));
    assert_memory_equal(got.data, w->content, got.len);
    assert_false(open_delivery(w, &b, &none));
    assert_int_equal(none.len, 0);
    assert_true(entry_value(w, &a) == 1.0);
    assert_true(entry_value(w, &b) == 0.0);
    run_free(&a), run_free(&b);
    px_buf_free(&wasm), px_buf_free(&got), px_buf_free(&none);
}

/* A task that computes 400 ms longer for a match: the instance signs its
 * proof at the end of its pad either way, and states the same times. */
static void test_timing_is_padded(void **state) {
    world *w = *state;
    px_buf wasm = PX_BUF_INIT, got = PX_BUF_INIT;
    build(w, "slow", slow_src, &wasm);
    pod_run a, b;
    memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
    pod_step(w, &wasm, &w->buyer, 3, w->content, w->f.successor.pk, &a);
    pod_step(w, &wasm, &w->other, 4, w->content, w->f.successor.pk, &b);
    alike(&a, &b);
    assert_true(open_delivery(w, &a, &got));
    assert_true(a.ms >= PAD_MS && b.ms >= PAD_MS);
    run_free(&a), run_free(&b);
    px_buf_free(&wasm), px_buf_free(&got);
}

/* Louder output for a match (a huge value, then 1,000 more vectors) and a
 * non-bit otherwise: the run's output is cut at one vector, the platform
 * writes the entry (0 or 1), and only the vector [1] delivers. */
static void test_output_cannot_carry_the_bit(void **state) {
    world *w = *state;
    px_buf wasm = PX_BUF_INIT, c1 = PX_BUF_INIT, c2 = PX_BUF_INIT;
    build(w, "loud", loud_src, &wasm);
    pod_run a, b;
    memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
    pod_step(w, &wasm, &w->buyer, 3, w->content, w->f.successor.pk, &a);
    pod_step(w, &wasm, &w->other, 4, w->content, w->f.successor.pk, &b);
    alike(&a, &b);
    assert_false(open_delivery(w, &a, &c1));
    assert_false(open_delivery(w, &b, &c2));
    assert_true(entry_value(w, &a) == 0.0);
    assert_true(entry_value(w, &b) == 0.0);
    run_free(&a), run_free(&b);
    px_buf_free(&wasm), px_buf_free(&c1), px_buf_free(&c2);
}

/* The content must be the one whose digest the attested params name: a
 * consumer cannot deliver other content than it signed for. */
static void test_content_must_be_attested(void **state) {
    world *w = *state;
    px_buf wasm = PX_BUF_INIT;
    build(w, "honest", honest_src, &wasm);
    pod_run a;
    memset(&a, 0, sizeof a);
    pod_step(w, &wasm, &w->buyer, 3, "Something else entirely", w->f.successor.pk, &a);
    assert_false(a.r.ok);
    assert_string_equal(a.r.status, PX_STATUS_BAD_INPUT);
    assert_int_equal(a.r.delivery.len, 0);
    assert_int_equal(a.r.noutputs, 0);
    run_free(&a);
    px_buf_free(&wasm);
}

/* The stage after the PODs (here a gather) takes one input per POD node:
 * the same POD's output twice, or two instances on one node, is refused. */
static void test_one_input_per_pod_node(void **state) {
    world *w = *state;
    px_buf wasm = PX_BUF_INIT, cfg = PX_BUF_INIT;
    build(w, "honest", honest_src, &wasm);
    char m[65], s[65];
    px_hex_encode(m, w->f.manifest, 32);
    px_hex_encode(s, w->f.successor.pk, 32);
    char *pv = fx_vkey(&w->f.platform_v), *lv = px_testlog_vkey_text();
    px_err err = {0};
    px_assert_ok(px_buf_printf(&cfg, &err,
                               "{\"manifest\":\"%s\",\"stage\":{\"index\":2,\"kind\":\"gather\"},\"successors\":[\"%s\"],"
                               "\"predecessors\":{\"platform_keys\":[\"%s\"],\"min_level\":1,\"pods\":[],\"one_per_node\":true},"
                               "\"log\":\"%s\"}", m, s, pv, lv), &err);
    free(pv), free(lv);
    uint8_t pk[32], bk[32], meas[32];
    px_lambda *g;
    px_assert_ok(px_lambda_new(&g, gather_table, w->f.worker, "gather", px_tee_builtin_code, cfg.data, cfg.len, &err),
                 &err);
    px_lambda_public(g, pk, bk, meas);
    px_evidence ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.node, sizeof ev.node, "exec-1");
    ev.build = w->f.build;
    memcpy(ev.sign_pk, pk, 32), memcpy(ev.box_pk, bk, 32), memcpy(ev.measurement, meas, 32);
    px_random(ev.nonce, 32);
    px_buf gev = PX_BUF_INIT;
    px_assert_ok(px_tee_process.attest(&ev, &w->f.platform, &gev, &err), &err);
    px_assert_ok(px_lambda_set_evidence(g, gev.data, gev.len, &err), &err);
    pod_run a, b;
    memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
    pod_step(w, &wasm, &w->buyer, 3, w->content, bk, &a);
    pod_step(w, &wasm, &w->other, 4, w->content, bk, &b); /* same node "node-a" */
    px_step_input in[2] = {{a.r.outputs[0].data, a.r.outputs[0].len, a.r.proof.data, a.r.proof.len,
                            a.h.evidence.data, a.h.evidence.len},
                           {b.r.outputs[0].data, b.r.outputs[0].len, b.r.proof.data, b.r.proof.len,
                            b.h.evidence.data, b.h.evidence.len}};
    px_step_result gr;
    px_assert_ok(px_lambda_step(g, NULL, 0, in, 2, PX_TESTLOG_LAMBDA, &gr, &err), &err);
    assert_false(gr.ok);
    assert_string_equal(gr.status, PX_STATUS_BAD_INPUT);
    px_step_result_free(&gr);
    px_lambda_free(g);
    /* One input from that node is fine, and the gather passes the entry on. */
    px_assert_ok(px_lambda_new(&g, gather_table, w->f.worker, "gather", px_tee_builtin_code, cfg.data, cfg.len, &err),
                 &err);
    px_lambda_public(g, pk, bk, meas);
    memcpy(ev.sign_pk, pk, 32), memcpy(ev.box_pk, bk, 32), memcpy(ev.measurement, meas, 32);
    px_buf_reset(&gev);
    px_assert_ok(px_tee_process.attest(&ev, &w->f.platform, &gev, &err), &err);
    px_assert_ok(px_lambda_set_evidence(g, gev.data, gev.len, &err), &err);
    run_free(&a);
    memset(&a, 0, sizeof a);
    pod_step(w, &wasm, &w->buyer, 3, w->content, bk, &a);
    px_step_input one = {a.r.outputs[0].data, a.r.outputs[0].len, a.r.proof.data, a.r.proof.len, a.h.evidence.data,
                         a.h.evidence.len};
    px_assert_ok(px_lambda_step(g, NULL, 0, &one, 1, PX_TESTLOG_LAMBDA, &gr, &err), &err);
    assert_true(gr.ok);
    px_exec_proof gp;
    px_assert_ok(px_lambda_proof_verify(&gp, gr.proof.data, gr.proof.len, pk, &err), &err);
    assert_true(gp.has_users && gp.users == 1);
    px_step_result_free(&gr);
    px_lambda_free(g);
    run_free(&a), run_free(&b);
    px_buf_free(&wasm), px_buf_free(&cfg), px_buf_free(&gev);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_and_no_match_look_alike),
        cmocka_unit_test(test_timing_is_padded),
        cmocka_unit_test(test_output_cannot_carry_the_bit),
        cmocka_unit_test(test_content_must_be_attested),
        cmocka_unit_test(test_one_input_per_pod_node),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
