/* The per-user bound, end to end, against the consumer's own code: a POD
 * release of bank records -> a per-user map stage running a real
 * WebAssembly task in a real pixiu_worker (sandbox, seccomp, per-group
 * runs) -> the DP stage. The attacks are the ones a consumer would try:
 *   - a task that ignores its input and writes the largest vector 100,000
 *     times (without the map: 100,000 users' worth of bound);
 *   - a task that writes one account's [n, spent] 200,000 times (without the
 *     map: divide the result by 200,000 and read the account's figures);
 *   - a task that keeps a counter across users (state carried between runs);
 *   - a task whose sealed pseudonym key does not match the attested one.
 * Each must end with a result bounded by what the real users could give,
 * or be refused; an honest per-user task must still get a useful answer. */
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include "lambda/step_fixture.h"
#include "pixiu/dp.h"
#include "pixiu/sandbox.h"

#define WORKER PX_BUILD_DIR "/pixiu_worker"
#define USERS 40
#define PER_USER 5 /* records each, amount 1..5 */

static const px_stage_kind *const dp_table[] = {&px_dp_stage_kind, NULL};

static const char honest_src[] =
    "#include \"pixiu_task.h\"\n"
    "int main(void) {\n"
    "  size_t n; uint8_t *in = px_task_read_input(&n); px_task_records r;\n"
    "  if (!in || px_task_records_open(&r, in, n)) px_task_fail(\"input\");\n"
    "  int f = px_task_find(&r, \"amount\"); px_task_value v[PX_TASK_MAX_FIELDS]; uint8_t fl;\n"
    "  double out[2] = {0, 0};\n"
    "  while (px_task_records_next(&r, v, &fl) == 1) { out[0] += 1; out[1] += (double)v[f].i; }\n"
    "  return px_task_write_vector(out, 2) ? 1 : 0;\n"
    "}\n";

static const char flood_src[] =
    "#include \"pixiu_task.h\"\n"
    "int main(void) {\n"
    "  double big[2] = {1e9, 1e9};\n"
    "  for (int i = 0; i < 100000; i++) if (px_task_write_vector(big, 2)) return 1;\n"
    "  return 0;\n"
    "}\n";

static const char copies_src[] =
    "#include \"pixiu_task.h\"\n"
    "int main(void) {\n"
    "  size_t n; uint8_t *in = px_task_read_input(&n); px_task_records r;\n"
    "  if (!in || px_task_records_open(&r, in, n)) px_task_fail(\"input\");\n"
    "  int f = px_task_find(&r, \"amount\"); px_task_value v[PX_TASK_MAX_FIELDS]; uint8_t fl;\n"
    "  double out[2] = {0, 0};\n"
    "  while (px_task_records_next(&r, v, &fl) == 1) { out[0] += 1; out[1] += (double)v[f].i; }\n"
    "  for (int i = 0; i < 200000; i++) if (px_task_write_vector(out, 2)) return 1;\n"
    "  return 0;\n"
    "}\n";

/* Emits how many users it has seen so far: 1 in every run if the runs are
 * really separate instances, 1, 2, 3, ... if state carries over. */
static const char counter_src[] =
    "#include \"pixiu_task.h\"\n"
    "static int seen;\n"
    "int main(void) {\n"
    "  seen++;\n"
    "  double out[2] = {(double)seen, 0};\n"
    "  return px_task_write_vector(out, 2) ? 1 : 0;\n"
    "}\n";

typedef struct world {
    fixture f;
    char dir[256];
    uint8_t key[PX_TASK_KEY_BYTES];
    char pseudonym[65];
    px_buf records;
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

/* USERS users, PER_USER records each, amounts 1..PER_USER; user field. */
static void bank_records(px_buf *b) {
    px_schema s;
    memset(&s, 0, sizeof s);
    s.nfields = 2;
    strcpy(s.fields[0].name, "account");
    s.fields[0].type = PX_FIELD_TEXT;
    strcpy(s.fields[1].name, "amount");
    s.fields[1].type = PX_FIELD_INT;
    s.user_field = 0;
    px_err err = {0};
    px_assert_ok(px_records_begin(b, &s, USERS * PER_USER, &err), &err);
    for (int k = 0; k < PER_USER; k++)
        for (int u = 0; u < USERS; u++) {
            char acct[16];
            snprintf(acct, sizeof acct, "acct-%03d", u);
            px_value v[2] = {{.type = PX_FIELD_TEXT, .p = (const uint8_t *)acct, .len = (uint32_t)strlen(acct)},
                             {.type = PX_FIELD_INT, .i = k + 1}};
            px_assert_ok(px_records_append(b, &s, v, 0, &err), &err);
        }
}

static int setup(void **state) {
    world *w = calloc(1, sizeof *w);
    fx_init(&w->f);
    snprintf(w->dir, sizeof w->dir, "%s/per-user-XXXXXX", PX_BUILD_DIR);
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
    bank_records(&w->records);
    *state = w;
    return 0;
}

static int teardown(void **state) {
    world *w = *state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
    int rc = system(cmd);
    px_buf_free(&w->records);
    free(w);
    return rc == 0 ? 0 : -1;
}

/* A DP instance (stage 2, in-process) summing [count, amount] per user. */
typedef struct dp_inst {
    px_lambda *l;
    uint8_t spk[32], bpk[32];
    px_buf evidence;
} dp_inst;

static void dp_born(const world *w, dp_inst *d) {
    px_buf cfg = PX_BUF_INIT;
    fx_config_kind(&w->f, &cfg, 2, w->f.successor.pk, 1, "dp",
                   "{\"mechanism\":\"sum\",\"dim\":2,\"lower\":0,\"upper\":[5,15],\"epsilon\":\"100\"}");
    px_err err = {0};
    uint8_t m[32];
    px_assert_ok(px_lambda_new(&d->l, dp_table, w->f.worker, "dp", px_tee_builtin_code, cfg.data, cfg.len, &err),
                 &err);
    px_evidence ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.node, sizeof ev.node, "node-a");
    ev.build = w->f.build;
    px_lambda_public(d->l, d->spk, d->bpk, m);
    memcpy(ev.sign_pk, d->spk, 32);
    memcpy(ev.box_pk, d->bpk, 32);
    memcpy(ev.measurement, m, 32);
    ev.build = w->f.build;
    px_random(ev.nonce, 32);
    d->evidence = (px_buf)PX_BUF_INIT;
    px_assert_ok(px_tee_process.attest(&ev, &w->f.platform, &d->evidence, &err), &err);
    px_assert_ok(px_lambda_set_evidence(d->l, d->evidence.data, d->evidence.len, &err), &err);
    px_buf_free(&cfg);
}

/* The map stage in a real worker; returns its step result (owned). The
 * sealed code carries `key` (the one committed to unless a test lies). */
static void map_step(const world *w, const px_buf *wasm, const uint8_t *key, const uint8_t to[32],
                     px_lambda_host *h, px_step_result *r) {
    char params[256];
    snprintf(params, sizeof params,
             "{\"map\":\"per-user\",\"dim\":2,\"pseudonym\":\"%s\"},\"limits\":{\"cpu_ms\":2000,\"mem_mb\":32}",
             w->pseudonym); /* params, then the stage's limits */
    px_buf cfg = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, code = PX_BUF_INIT, plain = PX_BUF_INIT;
    fx_config_kind(&w->f, &cfg, 1, to, 1, "wasm", params);
    uint8_t nonce[32], cd[32];
    px_random(nonce, 32);
    px_sha256(cd, wasm->data, wasm->len);
    px_lambda_host_req req = {&px_tee_process, WORKER, NULL, &w->f.platform, "node-a", "wasm", cd, cfg.data,
                              cfg.len, nonce, 0, 120, 120000, 0};
    px_err err = {0};
    px_assert_ok(px_lambda_host_start(h, &req, &err), &err);
    fx_release(&w->f, &rel, &w->f.pod, w->records.data, w->records.len, h->box_pk);
    fx_seal(&sealed, &w->records, h->box_pk);
    px_buf_append(&plain, PX_TASK_KEY_MAGIC, 4, &err);
    px_buf_append(&plain, key, PX_TASK_KEY_BYTES, &err);
    px_buf_append(&plain, wasm->data, wasm->len, &err);
    px_assert_ok(px_seal(&code, plain.data, plain.len, h->box_pk, &err), &err);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_assert_ok(px_lambda_host_step(h, code.data, code.len, &in, 1, PX_TESTLOG_LAMBDA, r, &err), &err);
    px_buf *bufs[] = {&cfg, &rel, &sealed, &code, &plain};
    for (size_t i = 0; i < 5; i++)
        px_buf_free(bufs[i]);
}

/* map -> DP; the released [count, amount] sums. Fails the test unless both
 * steps are ok. */
static void run_task(const world *w, const px_buf *wasm, double out[2], px_exec_proof *map_proof) {
    dp_inst d;
    dp_born(w, &d);
    px_lambda_host h;
    px_step_result mr, dr;
    map_step(w, wasm, w->key, d.bpk, &h, &mr);
    if (!mr.ok)
        fail_msg("map step: %s", mr.status);
    px_err err = {0};
    px_assert_ok(px_lambda_proof_verify(map_proof, mr.proof.data, mr.proof.len, h.sign_pk, &err), &err);
    px_step_input in = {mr.outputs[0].data, mr.outputs[0].len, mr.proof.data, mr.proof.len, h.evidence.data,
                        h.evidence.len};
    px_assert_ok(px_lambda_step(d.l, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &dr, &err), &err);
    if (!dr.ok)
        fail_msg("dp step: %s", dr.status);
    px_buf opened = PX_BUF_INIT;
    fx_open(&opened, &dr.outputs[0], &w->f.successor);
    double *v;
    uint32_t n;
    px_assert_ok(px_vector_decode(&v, &n, opened.data, opened.len, &err), &err);
    assert_int_equal(n, 2);
    out[0] = v[0], out[1] = v[1];
    free(v);
    px_buf_free(&opened);
    px_step_result_free(&mr);
    px_step_result_free(&dr);
    px_lambda_host_free(&h);
    px_lambda_free(d.l);
    px_buf_free(&d.evidence);
}

/* The map attests what it saw: every record, one entry per account. */
static void check_map_counts(const px_exec_proof *p) {
    assert_string_equal(p->kind, "wasm");
    assert_true(p->has_users);
    assert_int_equal(p->users, USERS);
}

static void test_honest_task_gets_a_useful_answer(void **state) {
    world *w = *state;
    px_buf wasm = PX_BUF_INIT;
    build(w, "honest", honest_src, &wasm);
    double out[2];
    px_exec_proof p;
    run_task(w, &wasm, out, &p);
    check_map_counts(&p);
    /* 40 users x 5 records, amounts 1..5: 200 records, 600 in total; the
     * noise at ε = 100 over bounds 5 and 15 is well under 2. */
    assert_true(fabs(out[0] - USERS * PER_USER) < 2.0);
    assert_true(fabs(out[1] - USERS * 15.0) < 2.0);
    px_buf_free(&wasm);
}

static void test_flood_is_bounded_by_the_users(void **state) {
    world *w = *state;
    px_buf wasm = PX_BUF_INIT;
    build(w, "flood", flood_src, &wasm);
    double out[2];
    px_exec_proof p;
    run_task(w, &wasm, out, &p);
    check_map_counts(&p);
    /* 100,000 vectors a run: each run's entry is absent. Whatever the task
     * writes, the sum is at most users x upper bound (5, 15) plus noise. */
    assert_true(out[0] <= USERS * 5.0 + 2.0);
    assert_true(out[1] <= USERS * 15.0 + 2.0);
    assert_true(fabs(out[0]) < 2.0 && fabs(out[1]) < 2.0);
    px_buf_free(&wasm);
}

static void test_copies_of_one_account_do_not_multiply(void **state) {
    world *w = *state;
    px_buf wasm = PX_BUF_INIT;
    build(w, "copies", copies_src, &wasm);
    double out[2];
    px_exec_proof p;
    run_task(w, &wasm, out, &p);
    check_map_counts(&p);
    /* Each run wrote 200,000 vectors: none counts; nothing to divide. */
    assert_true(fabs(out[0]) < 2.0 && fabs(out[1]) < 2.0);
    px_buf_free(&wasm);
}

static void test_no_state_between_users(void **state) {
    world *w = *state;
    px_buf wasm = PX_BUF_INIT;
    build(w, "counter", counter_src, &wasm);
    double out[2];
    px_exec_proof p;
    run_task(w, &wasm, out, &p);
    /* Each of the 40 runs saw seen == 1 (a shared counter would reach the
     * upper bound 5 for most users: sum near 190). */
    assert_true(fabs(out[0] - USERS) < 2.0);
    px_buf_free(&wasm);
}

static void test_task_key_must_match_the_commitment(void **state) {
    world *w = *state;
    px_buf wasm = PX_BUF_INIT;
    build(w, "honest", honest_src, &wasm);
    dp_inst d;
    dp_born(w, &d);
    uint8_t other[PX_TASK_KEY_BYTES];
    px_random(other, sizeof other);
    px_lambda_host h;
    px_step_result r;
    map_step(w, &wasm, other, d.bpk, &h, &r);
    assert_false(r.ok);
    assert_string_equal(r.status, PX_STATUS_BAD_INPUT);
    assert_int_equal(r.noutputs, 0);
    px_step_result_free(&r);
    px_lambda_host_free(&h);
    px_lambda_free(d.l);
    px_buf_free(&d.evidence);
    px_buf_free(&wasm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_honest_task_gets_a_useful_answer),
        cmocka_unit_test(test_flood_is_bounded_by_the_users),
        cmocka_unit_test(test_copies_of_one_account_do_not_multiply),
        cmocka_unit_test(test_no_state_between_users),
        cmocka_unit_test(test_task_key_must_match_the_commitment),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
