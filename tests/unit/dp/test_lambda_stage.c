/* The DP stage as a trust-λ stage kind, through a real in-process step:
 * sealed POD release in, sealed noised vector out, and a signed execution
 * proof whose "dp" member states the spend and the enforcement. */
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

/* Run one step over users' vectors (concatenated in one release). */
static void step(const fixture *f, inst *a, const px_buf *data,
                 px_step_result *r) {
    px_buf rel = PX_BUF_INIT, sealed = PX_BUF_INIT;
    fx_release(f, &rel, &f->pod, data->data, data->len, a->bpk);
    fx_seal(&sealed, data, a->bpk);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_err err = {0};
    px_assert_ok(px_lambda_step(a->l, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, r, &err), &err);
    px_buf_free(&rel);
    px_buf_free(&sealed);
}

static void test_dp_step(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_buf cfg = PX_BUF_INIT, users = PX_BUF_INIT, opened = PX_BUF_INIT;
    dp_config(&f, &cfg, "{\"mechanism\":\"sum\",\"dim\":2,\"lower\":0,"
                        "\"upper\":10,\"epsilon\":\"0.5\"}");
    inst a;
    born(&f, &a, &cfg);
    /* Three honest users, one huge, one NaN, one of the wrong length. */
    const double v[][2] = {{1, 2}, {3, 4}, {5, 6}, {1e300, 1}, {NAN, 1}};
    px_err err = {0};
    for (int i = 0; i < 5; i++)
        px_assert_ok(px_vector_encode(&users, v[i], 2, &err), &err);
    px_assert_ok(px_vector_encode(&users, v[0], 1, &err), &err);
    px_step_result r;
    step(&f, &a, &users, &r);
    px_exec_proof p;
    px_assert_ok(px_exec_proof_verify(&p, r.proof.data, r.proof.len, a.spk,
                                      &err),
                 &err);
    assert_string_equal(p.status, PX_STATUS_OK);
    assert_string_equal(p.kind, "dp");
    json_t *dp = proof_dp(&r.proof);
    assert_string_equal(json_string_value(json_object_get(dp, "mechanism")),
                        "laplace");
    assert_string_equal(json_string_value(json_object_get(dp, "epsilon")),
                        "0.5");
    assert_string_equal(json_string_value(json_object_get(dp, "delta")), "0");
    assert_int_equal(json_integer_value(json_object_get(dp, "used")), 4);
    assert_int_equal(json_integer_value(json_object_get(dp, "clamped")), 1);
    assert_int_equal(json_integer_value(json_object_get(dp, "rejected")), 2);
    json_decref(dp);
    /* The noised vector opens for the successor and is a PXV1 of dim 2. */
    assert_int_equal(r.noutputs, 1);
    px_assert_ok(px_seal_open(&opened, r.outputs[0].data, r.outputs[0].len,
                              &f.successor, &err),
                 &err);
    double *out;
    uint32_t n;
    px_assert_ok(px_vector_decode(&out, &n, opened.data, opened.len, &err),
                 &err);
    assert_int_equal(n, 2);
    free(out);
    px_step_result_free(&r);
    px_lambda_free(a.l);
    px_buf_free(&a.evidence);
    px_buf_free(&cfg);
    px_buf_free(&users);
    px_buf_free(&opened);
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
    px_assert_fails(px_lambda_new(&l, table, f.worker, "dp",
                                  px_tee_builtin_code, cfg.data, cfg.len,
                                  &err),
                    &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "epsilon"));
    /* Sample-and-aggregate with the wrong number of blocks: a signed
     * failure proof, no output. */
    px_buf_reset(&cfg);
    dp_config(&f, &cfg, "{\"mechanism\":\"mean\",\"mode\":"
                        "\"sample-and-aggregate\",\"blocks\":4,\"dim\":1,"
                        "\"lower\":0,\"upper\":1,\"epsilon\":\"1\"}");
    inst a;
    born(&f, &a, &cfg);
    px_buf blocks = PX_BUF_INIT;
    fx_vector(&blocks, 1, 0.5);
    fx_vector(&blocks, 1, 0.25);
    px_step_result r;
    step(&f, &a, &blocks, &r);
    px_exec_proof p;
    px_assert_ok(px_exec_proof_verify(&p, r.proof.data, r.proof.len, a.spk,
                                      &err),
                 &err);
    assert_string_equal(p.status, PX_STATUS_BAD_INPUT);
    assert_int_equal(r.noutputs, 0);
    px_step_result_free(&r);
    px_lambda_free(a.l);
    px_buf_free(&a.evidence);
    px_buf_free(&blocks);
    px_buf_free(&cfg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dp_step),
        cmocka_unit_test(test_dp_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
