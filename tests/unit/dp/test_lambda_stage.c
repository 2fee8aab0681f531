/* The DP stage as a trust-λ stage kind, through real in-process steps: a
 * producer's sealed, proven output in, a sealed noised vector out, and a
 * signed execution proof whose "dp" member states the spend. The producer
 * stands in for the per-user map so that every way around the per-user
 * bound can be tried: raw vectors, a non-map producer, more entries than
 * attested users, a user twice. */
#include <math.h>

#include "lambda/step_fixture.h"
#include "pixiu/dp.h"


static const px_stage_kind *const table[] = {&px_dp_stage_kind, NULL};

/* A "dp" stage config with the given DP params. */
static void dp_config(const fixture *f, px_buf *out, const char *params) {
    char m[65], s[65];
    px_hex_encode(m, f->manifest, 32);
    px_hex_encode(s, f->successor.pk, 32);
    char *pv = fx_vkey(&f->platform_v), *dv = fx_vkey(&f->pod_v), *lv = px_testlog_vkey_text();
    px_err err = {0};
    px_assert_ok(px_buf_printf(out, &err,
                               "{\"manifest\":\"%s\",\"stage\":{\"index\":2,"
                               "\"kind\":\"dp\"},\"successors\":[\"%s\"],"
                               "\"predecessors\":{\"platform_keys\":[\"%s\"],"
                               "\"min_level\":1,\"pods\":[\"%s\"]},\"log\":\"%s\","
                               "\"params\":%s}",
                               m, s, pv, dv, lv, params),
                 &err);
    free(pv);
    free(dv);
    free(lv);
}

typedef struct inst {
    px_lambda *l;
    uint8_t spk[32], bpk[32], m[32];
    px_buf evidence;
} inst;

static void born(const fixture *f, inst *in, const px_buf *config) {
    px_err err = {0};
    px_assert_ok(px_lambda_new(&in->l, table, f->worker, "dp",
                               px_tee_builtin_code, config->data, config->len,
                               &err),
                 &err);
    px_lambda_public(in->l, in->spk, in->bpk, in->m);
    px_evidence ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.node, sizeof ev.node, "node-a");
    memcpy(ev.measurement, in->m, 32);
    ev.build = f->build;
    memcpy(ev.sign_pk, in->spk, 32);
    memcpy(ev.box_pk, in->bpk, 32);
    px_random(ev.nonce, 32);
    in->evidence = (px_buf)PX_BUF_INIT;
    px_assert_ok(px_tee_process.attest(&ev, &f->platform, &in->evidence, &err),
                 &err);
    px_assert_ok(px_lambda_set_evidence(in->l, in->evidence.data,
                                        in->evidence.len, &err),
                 &err);
}

/* The "dp" member of the proof's predicate (new reference). */
static json_t *proof_dp(const px_buf *proof) {
    px_dsse env;
    px_err err = {0};
    px_assert_ok(px_dsse_parse(&env, proof->data, proof->len, &err), &err);
    json_t *st = px_json_parse(env.payload.data, env.payload.len, 1 << 20, &err);
    assert_non_null(st);
    json_t *dp = json_incref(json_object_get(json_object_get(st, "predicate"), "dp"));
    json_decref(st);
    px_dsse_free(&env);
    return dp;
}

/* A stand-in for a producer stage, so the DP stage's own checks can be
 * driven with any output: its kind is whatever the table entry says, it
 * passes its POD input on unchanged and reports params.users as its count
 * of users (when given). Real keys, real proofs, real sealing. */
static int relay_check(const json_t *params, px_err *err) {
    (void)params, (void)err;
    return 0;
}

static int relay_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    const json_t *u = json_object_get(ctx->params, "users");
    if (u) {
        out->has_counts = 1;
        out->counts.has_users = 1;
        out->counts.users = (uint64_t)json_integer_value(u);
    }
    return px_buf_append(&out->output, ctx->inputs[0].data, ctx->inputs[0].len, err);
}

static const px_stage_kind relay_wasm = {.kind = "wasm", .check = relay_check, .run = relay_run};
static const px_stage_kind relay_aggregate = {.kind = "aggregate", .check = relay_check, .run = relay_run};
static const px_stage_kind *const producers[] = {&relay_wasm, &relay_aggregate, NULL};

typedef struct prod {
    px_lambda *l;
    px_buf evidence;
    px_step_result r;
} prod;

static void attest(const fixture *f, px_lambda *l, px_buf *evidence) {
    px_err err = {0};
    px_evidence ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.node, sizeof ev.node, "node-a");
    ev.build = f->build;
    px_lambda_public(l, ev.sign_pk, ev.box_pk, ev.measurement);
    ev.build = f->build;
    px_random(ev.nonce, 32);
    *evidence = (px_buf)PX_BUF_INIT;
    px_assert_ok(px_tee_process.attest(&ev, &f->platform, evidence, &err), &err);
    px_assert_ok(px_lambda_set_evidence(l, evidence->data, evidence->len, &err), &err);
}

/* A producer of `kind` at stage 1 that hands `data` to the DP instance a. */
static void produce(const fixture *f, const inst *a, const char *kind, const char *params, const px_buf *data,
                    prod *p) {
    px_err err = {0};
    px_buf cfg = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT;
    fx_config_kind(f, &cfg, 1, a->bpk, 1, kind, params);
    px_assert_ok(px_lambda_new(&p->l, producers, f->worker, kind, px_tee_builtin_code, cfg.data, cfg.len, &err),
                 &err);
    attest(f, p->l, &p->evidence);
    uint8_t spk[32], bpk[32], m[32];
    px_lambda_public(p->l, spk, bpk, m);
    fx_release(f, &rel, &f->pod, data->data, data->len, bpk);
    fx_seal(&sealed, data, bpk);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_assert_ok(px_lambda_step(p->l, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &p->r, &err), &err);
    assert_true(p->r.ok);
    px_buf_free(&cfg);
    px_buf_free(&rel);
    px_buf_free(&sealed);
}

static void prod_free(prod *p) {
    px_lambda_free(p->l);
    px_buf_free(&p->evidence);
    px_step_result_free(&p->r);
}

/* The DP step over the producers' outputs; returns its proof. */
static px_exec_proof dp_step(const inst *a, prod *ps, size_t n, px_step_result *r) {
    px_step_input in[4];
    for (size_t i = 0; i < n; i++)
        in[i] = (px_step_input){ps[i].r.outputs[0].data, ps[i].r.outputs[0].len, ps[i].r.proof.data,
                                ps[i].r.proof.len, ps[i].evidence.data, ps[i].evidence.len};
    px_err err = {0};
    px_assert_ok(px_lambda_step(a->l, NULL, 0, in, n, PX_TESTLOG_LAMBDA, r, &err), &err);
    px_exec_proof p;
    px_assert_ok(px_lambda_proof_verify(&p, r->proof.data, r->proof.len, a->spk, &err), &err);
    return p;
}

/* A tagged stream of dim 2 with tags t[i] (one byte repeated) and values
 * v[i] (NULL: absent). */
static void tagged(px_buf *out, size_t n, const uint8_t *t, const double (*v)[2], const int *absent) {
    px_err err = {0};
    px_assert_ok(px_tagged_begin(out, 2, n, &err), &err);
    for (size_t i = 0; i < n; i++) {
        uint8_t tag[PX_TAG_BYTES];
        memset(tag, t[i], sizeof tag);
        px_assert_ok(px_tagged_append(out, 2, tag, absent && absent[i] ? NULL : v[i], &err), &err);
    }
}

static double released_sum(const px_step_result *r, const fixture *f, uint32_t j) {
    px_buf opened = PX_BUF_INIT;
    fx_open(&opened, &r->outputs[0], &f->successor);
    double *out, x;
    uint32_t n;
    px_err err = {0};
    px_assert_ok(px_vector_decode(&out, &n, opened.data, opened.len, &err), &err);
    assert_int_equal(n, 2);
    x = out[j];
    free(out);
    px_buf_free(&opened);
    return x;
}

static void dp_inst(fixture *f, inst *a, const char *params) {
    px_buf cfg = PX_BUF_INIT;
    dp_config(f, &cfg, params);
    born(f, a, &cfg);
    px_buf_free(&cfg);
}

#define SUM2 "{\"mechanism\":\"sum\",\"dim\":2,\"lower\":0,\"upper\":10,\"epsilon\":\"1000\"}"

static void test_dp_step(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    inst a;
    dp_inst(&f, &a, SUM2);
    /* Four users, one huge (clamped), one absent, one NaN (dropped). */
    const double v[][2] = {{1, 2}, {3, 4}, {1e300, 1}, {0, 0}, {NAN, 1}};
    const uint8_t t[] = {1, 2, 3, 4, 5};
    const int absent[] = {0, 0, 0, 1, 0};
    px_buf data = PX_BUF_INIT;
    tagged(&data, 5, t, v, absent);
    prod p;
    produce(&f, &a, "wasm", "{\"users\":5}", &data, &p);
    px_step_result r;
    px_exec_proof pr = dp_step(&a, &p, 1, &r);
    assert_string_equal(pr.status, PX_STATUS_OK);
    assert_string_equal(pr.kind, "dp");
    json_t *dp = proof_dp(&r.proof);
    assert_string_equal(json_string_value(json_object_get(dp, "mechanism")), "laplace");
    assert_string_equal(json_string_value(json_object_get(dp, "epsilon")), "1000");
    assert_string_equal(json_string_value(json_object_get(dp, "delta")), "0");
    /* What the task's output decided (clamped, dropped) is not published:
     * it would be an exact count of whatever predicate the task chose. */
    assert_null(json_object_get(dp, "used"));
    assert_null(json_object_get(dp, "clamped"));
    assert_null(json_object_get(dp, "rejected"));
    json_decref(dp);
    /* 1 + 3 + 10 (clamped) on the first coordinate, noise scale 10/1000. */
    assert_true(fabs(released_sum(&r, &f, 0) - 14.0) < 1.0);
    px_step_result_free(&r);
    prod_free(&p);
    px_lambda_free(a.l);
    px_buf_free(&a.evidence);
    px_buf_free(&data);
}

/* Each way a producer could hand the DP stage more than the users allow is
 * refused with a signed bad-input proof and no output. */
static void expect_refused(fixture *f, const char *kind, const char *params, const px_buf *data, const char *why) {
    inst a;
    dp_inst(f, &a, SUM2);
    prod p;
    produce(f, &a, kind, params, data, &p);
    px_step_result r;
    px_exec_proof pr = dp_step(&a, &p, 1, &r);
    assert_string_equal(pr.status, PX_STATUS_BAD_INPUT);
    assert_int_equal(r.noutputs, 0);
    px_dsse env;
    px_err err = {0};
    px_assert_ok(px_dsse_parse(&env, r.proof.data, r.proof.len, &err), &err);
    if (!memmem(env.payload.data, env.payload.len, why, strlen(why)))
        fail_msg("refusal does not say \"%s\": %.*s", why, (int)env.payload.len, (const char *)env.payload.data);
    px_dsse_free(&env);
    px_step_result_free(&r);
    prod_free(&p);
    px_lambda_free(a.l);
    px_buf_free(&a.evidence);
}

static void test_dp_refuses_what_bypasses_users(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_err err = {0};
    const double big[][2] = {{10, 10}, {10, 10}, {10, 10}};
    const uint8_t t[] = {1, 2, 3}, same[] = {7, 7, 8};
    /* A task's own vectors, many copies of the largest: not a map's output. */
    px_buf raw = PX_BUF_INIT, three = PX_BUF_INIT, dup = PX_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        px_assert_ok(px_vector_encode(&raw, big[0], 2, &err), &err);
    expect_refused(&f, "wasm", "{\"users\":1000}", &raw, "tagged vectors");
    tagged(&three, 3, t, big, NULL);
    /* From a stage that is not a per-user map. */
    expect_refused(&f, "aggregate", "{\"users\":3}", &three, "not from a map stage");
    /* A map that attested no users, or fewer users than entries. */
    expect_refused(&f, "wasm", NULL, &three, "attested no user count");
    expect_refused(&f, "wasm", "{\"users\":2}", &three, "attested 2 users");
    /* One user twice in one input. */
    tagged(&dup, 3, same, big, NULL);
    expect_refused(&f, "wasm", "{\"users\":3}", &dup, "names one user twice");
    px_buf_free(&raw);
    px_buf_free(&three);
    px_buf_free(&dup);
}

/* The same user reaching the DP stage from two map partitions contributes
 * nothing: both copies are dropped, the others count. */
static void test_dp_drops_user_across_inputs(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    inst a;
    dp_inst(&f, &a, SUM2);
    const double v1[][2] = {{10, 0}, {1, 0}}, v2[][2] = {{10, 0}, {2, 0}};
    const uint8_t t1[] = {9, 1}, t2[] = {9, 2};
    px_buf d1 = PX_BUF_INIT, d2 = PX_BUF_INIT;
    tagged(&d1, 2, t1, v1, NULL);
    tagged(&d2, 2, t2, v2, NULL);
    prod p[2];
    produce(&f, &a, "wasm", "{\"users\":2}", &d1, &p[0]);
    produce(&f, &a, "wasm", "{\"users\":2}", &d2, &p[1]);
    px_step_result r;
    px_exec_proof pr = dp_step(&a, p, 2, &r);
    assert_string_equal(pr.status, PX_STATUS_OK);
    assert_true(fabs(released_sum(&r, &f, 0) - 3.0) < 1.0);
    px_step_result_free(&r);
    prod_free(&p[0]);
    prod_free(&p[1]);
    px_lambda_free(a.l);
    px_buf_free(&a.evidence);
    px_buf_free(&d1);
    px_buf_free(&d2);
}

static void test_dp_refusals(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_buf cfg = PX_BUF_INIT;
    px_err err = {0};
    px_lambda *l;
    /* Bad params are refused at birth, before any evidence exists. */
    dp_config(&f, &cfg, "{\"mechanism\":\"sum\",\"dim\":1,\"lower\":0,"
                        "\"upper\":1,\"epsilon\":\"0\"}");
    px_assert_fails(px_lambda_new(&l, table, f.worker, "dp", px_tee_builtin_code, cfg.data, cfg.len, &err), &err,
                    PX_E_INVALID);
    assert_non_null(strstr(err.msg, "epsilon"));
    px_buf_free(&cfg);
    /* Sample-and-aggregate with the wrong number of blocks: a signed
     * failure proof, no output. */
    const double v[][2] = {{0.5, 0}, {0.25, 0}};
    const uint8_t t[] = {1, 2};
    px_buf blocks = PX_BUF_INIT;
    tagged(&blocks, 2, t, v, NULL);
    inst a;
    dp_inst(&f, &a, "{\"mechanism\":\"mean\",\"mode\":\"sample-and-aggregate\",\"blocks\":4,\"dim\":2,"
                    "\"lower\":0,\"upper\":1,\"epsilon\":\"1\"}");
    prod p;
    produce(&f, &a, "wasm", "{\"users\":4}", &blocks, &p);
    px_step_result r;
    px_exec_proof pr = dp_step(&a, &p, 1, &r);
    assert_string_equal(pr.status, PX_STATUS_BAD_INPUT);
    assert_int_equal(r.noutputs, 0);
    px_step_result_free(&r);
    prod_free(&p);
    px_lambda_free(a.l);
    px_buf_free(&a.evidence);
    px_buf_free(&blocks);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dp_step),
        cmocka_unit_test(test_dp_refuses_what_bypasses_users),
        cmocka_unit_test(test_dp_drops_user_across_inputs),
        cmocka_unit_test(test_dp_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
