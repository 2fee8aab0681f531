/* The audit over proofs signed by real trust-λ instances (the TEE module's
 * in-process instances, the POD's prover and the aggregation stage): a POD whose
 * sealed records do not match its release statement, and an executor that
 * hands the next stage an output that is not the one its proof names, are
 * both detected by the next λ's validator and named by the audit. */
#include "fixture.h"
#include "pixiu/dp.h"
#include "pixiu/pod.h"

static const px_stage_kind *const table[] = {&px_pod_stage_kind, &px_dp_stage_kind, &px_lambda_aggregate_kind, NULL};

#define TWO_STAGES                                                                                               \
    "[{\"kind\":\"prover\",\"min_level\":1,\"params\":{\"require\":\"any\",\"sources\":[]}},"                  \
    "{\"kind\":\"aggregate\",\"min_level\":1}]"

typedef struct chain {
    px_lambda *l[2];
    px_buf plan;
} chain;

/* Recruit back to front with real instances; publish the plan. */
static void recruit(fx *f, chain *c) {
    px_err err = {0};
    px_plan_instance ins[2];
    memset(ins, 0, sizeof ins);
    uint8_t next[32];
    memcpy(next, f->receiver.pk, 32);
    for (int i = 1; i >= 0; i--) {
        uint8_t succ[1][32], sign_pk[32], box_pk[32], meas[32];
        memcpy(succ[0], next, 32);
        ins[i].stage = (uint32_t)i;
        snprintf(ins[i].node, sizeof ins[i].node, "exec-%d", i);
        px_random(ins[i].nonce, 32);
        fx_config(f, &ins[i].config, (uint32_t)i, succ);
        const char *kind = px_manifest_kind_name(f->m.stages[i].kind);
        px_assert_ok(px_lambda_new(&c->l[i], table, f->build_digest, kind, px_tee_builtin_code, ins[i].config.data,
                                   ins[i].config.len, &err), &err);
        px_lambda_public(c->l[i], sign_pk, box_pk, meas);
        px_evidence ev;
        memset(&ev, 0, sizeof ev);
        strcpy(ev.backend, "process");
        ev.level = 1;
        strcpy(ev.node, ins[i].node);
        memcpy(ev.measurement, meas, 32);
        ev.build = f->build;
        memcpy(ev.sign_pk, sign_pk, 32);
        memcpy(ev.box_pk, box_pk, 32);
        memcpy(ev.nonce, ins[i].nonce, 32);
        ev.isolation = PX_ISO_SECCOMP;
        ev.issued = px_now_ms();
        px_assert_ok(px_evidence_sign(&ins[i].evidence, &ev, &f->platform, &err), &err);
        px_assert_ok(px_lambda_set_evidence(c->l[i], ins[i].evidence.data, ins[i].evidence.len, &err), &err);
        memcpy(next, box_pk, 32);
    }
    px_assert_ok(px_plan_sign(&c->plan, &f->m, ins, 2, &f->consumer, &err), &err);
    for (int i = 0; i < 2; i++) {
        px_buf_free(&ins[i].config);
        px_buf_free(&ins[i].evidence);
    }
}

/* A POD export: the dataset's fields, then the (empty) provenance fields
 * the prover reads (docs/pod.md). */
static void records(const fx *f, px_buf *out, int64_t salt) {
    px_err err = {0};
    px_schema s = f->m.datasets[0].schema;
    strcpy(s.fields[s.nfields].name, PX_POD_FIELD_SOURCE);
    s.fields[s.nfields++].type = PX_FIELD_TEXT;
    strcpy(s.fields[s.nfields].name, PX_POD_FIELD_SIG);
    s.fields[s.nfields++].type = PX_FIELD_BLOB;
    px_buf_reset(out);
    px_assert_ok(px_records_begin(out, &s, 3, &err), &err);
    for (int i = 0; i < 3; i++) {
        px_value v[4] = {{.type = PX_FIELD_TEXT, .p = (const uint8_t *)"alice", .len = 5},
                         {.type = PX_FIELD_INT, .i = 10 * i + salt},
                         {.type = PX_FIELD_TEXT, .p = (const uint8_t *)"", .len = 0},
                         {.type = PX_FIELD_BLOB, .p = (const uint8_t *)"", .len = 0}};
        px_assert_ok(px_records_append(out, &s, v, 0, &err), &err);
    }
}

static void audit(fx *f, px_buf *entries, size_t n, px_audit *a) {
    px_err err = {0};
    px_entry e[8];
    for (size_t i = 0; i < n; i++)
        px_assert_ok(px_entry_parse(&e[i], i, entries[i].data, entries[i].len, &err), &err);
    px_assert_ok(px_audit_run(a, f->m.id, e, n, f->pod_keys, FX_PODS, fx_check, f, &err), &err);
    for (size_t i = 0; i < n; i++)
        px_entry_free(&e[i]);
}

/* pod-0 releases one stream but seals another to the first stage. */
static void test_pod_lies(void **state) {
    (void)state;
    fx f;
    chain c;
    px_err err = {0};
    fx_init_with(&f, TWO_STAGES);
    memset(&c, 0, sizeof c);
    recruit(&f, &c);
    px_buf told = PX_BUF_INIT, sent = PX_BUF_INIT, sealed = PX_BUF_INIT, ent[3];
    memset(ent, 0, sizeof ent);
    records(&f, &told, 0);
    records(&f, &sent, 1);
    uint8_t d[32], box0[32], sk[32], m[32], r[PX_COMMIT_RANDBYTES];
    px_commit_new(r, told.data, told.len, d);
    px_lambda_public(c.l[0], sk, box0, m);
    px_buf_append(&ent[0], c.plan.data, c.plan.len, &err);
    fx_release(&f, &ent[1], 0, d, box0);
    px_assert_ok(px_seal_committed(&sealed, r, sent.data, sent.len, box0, &err), &err);
    px_step_input in = {sealed.data, sealed.len, ent[1].data, ent[1].len, NULL, 0};
    px_step_result res;
    memset(&res, 0, sizeof res);
    px_assert_ok(px_lambda_step(c.l[0], NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &res, &err), &err);
    assert_false(res.ok);
    assert_string_equal(res.status, "digest-mismatch");
    px_buf_append(&ent[2], res.proof.data, res.proof.len, &err);
    px_audit a;
    audit(&f, ent, 3, &a);
    assert_int_equal(a.verdict, PX_AUDIT_FAILED);
    assert_int_equal(a.stage, 0);
    assert_string_equal(a.status, "digest-mismatch");
    assert_non_null(strstr(a.why, "did not match the POD releases"));
    px_audit_free(&a);
    px_step_result_free(&res);
    for (int i = 0; i < 2; i++)
        px_lambda_free(c.l[i]);
    for (int i = 0; i < 3; i++)
        px_buf_free(&ent[i]);
    px_buf_free(&c.plan);
    px_buf_free(&told);
    px_buf_free(&sent);
    px_buf_free(&sealed);
    fx_free(&f);
}

/* The first stage is honest; its host hands the next stage something else. */
static void test_executor_swaps_output(void **state) {
    (void)state;
    fx f;
    chain c;
    px_err err = {0};
    fx_init_with(&f, TWO_STAGES);
    memset(&c, 0, sizeof c);
    recruit(&f, &c);
    px_buf stream = PX_BUF_INIT, sealed = PX_BUF_INIT, other = PX_BUF_INIT, ent[5];
    memset(ent, 0, sizeof ent);
    records(&f, &stream, 0);
    uint8_t d[32], box0[32], box1[32], sk[32], m[32], r[PX_COMMIT_RANDBYTES];
    px_commit_new(r, stream.data, stream.len, d);
    px_lambda_public(c.l[0], sk, box0, m);
    px_lambda_public(c.l[1], sk, box1, m);
    px_buf_append(&ent[0], c.plan.data, c.plan.len, &err);
    fx_release(&f, &ent[1], 0, d, box0);
    px_assert_ok(px_seal_committed(&sealed, r, stream.data, stream.len, box0, &err), &err);
    px_step_input in = {sealed.data, sealed.len, ent[1].data, ent[1].len, NULL, 0};
    px_step_result r0, r1;
    memset(&r0, 0, sizeof r0);
    memset(&r1, 0, sizeof r1);
    px_assert_ok(px_lambda_step(c.l[0], NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &r0, &err), &err);
    if (!r0.ok)
        fail_msg("the honest first stage failed: %s", r0.status);
    /* The instance's own accepted-input statement, then its proof. */
    assert_true(r0.accepted.len > 0);
    assert_true(r0.accepted_index < r0.proof_index);
    px_buf_append(&ent[2], r0.accepted.data, r0.accepted.len, &err);
    px_buf_append(&ent[3], r0.proof.data, r0.proof.len, &err);
    /* Not what the proof names, though properly sealed to the next stage. */
    records(&f, &stream, 7);
    px_commit_new(r, stream.data, stream.len, d);
    px_assert_ok(px_seal_committed(&other, r, stream.data, stream.len, box1, &err), &err);
    px_buf ev0 = PX_BUF_INIT;
    px_plan p;
    px_assert_ok(px_plan_parse(&p, c.plan.data, c.plan.len, &err), &err);
    px_buf_append(&ev0, p.instances[0].evidence.data, p.instances[0].evidence.len, &err);
    px_plan_free(&p);
    px_step_input in1 = {other.data, other.len, r0.proof.data, r0.proof.len, ev0.data, ev0.len};
    px_assert_ok(px_lambda_step(c.l[1], NULL, 0, &in1, 1, PX_TESTLOG_LAMBDA, &r1, &err), &err);
    assert_false(r1.ok);
    px_buf_append(&ent[4], r1.proof.data, r1.proof.len, &err);
    px_audit a;
    audit(&f, ent, 5, &a);
    assert_int_equal(a.verdict, PX_AUDIT_FAILED);
    assert_int_equal(a.stage, 1);
    assert_string_equal(a.status, r1.status);
    assert_non_null(strstr(a.why, "did not match the previous stage's proof"));
    px_audit_free(&a);
    px_step_result_free(&r0);
    px_step_result_free(&r1);
    for (int i = 0; i < 2; i++)
        px_lambda_free(c.l[i]);
    for (int i = 0; i < 5; i++)
        px_buf_free(&ent[i]);
    px_buf_free(&c.plan);
    px_buf_free(&stream);
    px_buf_free(&sealed);
    px_buf_free(&other);
    px_buf_free(&ev0);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pod_lies), cmocka_unit_test(test_executor_swaps_output)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
