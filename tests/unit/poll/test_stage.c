/* The tally as a trust-λ stage, through real in-process steps shown their
 * statements in a real log: the issuer's count and a ballot box's batch
 * in, sealed results out to the conductor only, and a proof whose report
 * states the counts anyone can check. Then the refusals: a tally before
 * the poll closed, more valid ballots than the issuer says it issued, a
 * batch from a box the survey does not name, no count from the issuer.
 * Also the poll statement's checks on the attested instance. */
#include "poll_fixture.h"
#include "px_testlog.h"

#include "pixiu/dp.h"
#include "pixiu/proof.h"

static const px_stage_kind *const table[] = {&px_stage_poll_tally, NULL};

typedef struct inst {
    px_lambda *l;
    uint8_t spk[32], bpk[32], m[32], nonce[32];
    px_buf config, evidence;
} inst;

static px_signer platform;
static uint8_t build_digest[32];
static px_tee_build build;

static void born(poll_fx *f, inst *in, const px_box_keypair *receiver) {
    px_err err = {0};
    memset(in, 0, sizeof *in);
    px_verifier lk = px_testlog_keyed()->vkey;
    px_assert_ok(px_poll_config_build(&in->config, &f->survey, receiver->pk, &lk, &err), &err);
    px_assert_ok(px_lambda_new(&in->l, table, build_digest, PX_POLL_TALLY_KIND, px_tee_builtin_code,
                               in->config.data, in->config.len, &err), &err);
    px_lambda_public(in->l, in->spk, in->bpk, in->m);
    px_evidence ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.node, sizeof ev.node, "exec-2");
    memcpy(ev.measurement, in->m, 32);
    ev.build = build;
    memcpy(ev.sign_pk, in->spk, 32);
    memcpy(ev.box_pk, in->bpk, 32);
    px_random(in->nonce, 32);
    memcpy(ev.nonce, in->nonce, 32);
    px_assert_ok(px_tee_process.attest(&ev, &platform, &in->evidence, &err), &err);
    px_assert_ok(px_lambda_set_evidence(in->l, in->evidence.data, in->evidence.len, &err), &err);
}

static void inst_free(inst *in) {
    px_lambda_free(in->l);
    px_buf_free(&in->config);
    px_buf_free(&in->evidence);
}

/* A payload sealed to the instance, and its release signed by `by`. */
static void release(const poll_fx *f, const inst *in, const px_signer *by, const char *from, const px_buf *payload,
                    px_buf *sealed, px_buf *rel) {
    px_err err = {0};
    uint8_t r[PX_COMMIT_RANDBYTES], c[32];
    px_commit_new(r, payload->data, payload->len, c);
    px_assert_ok(px_seal_committed(sealed, r, payload->data, payload->len, in->bpk, &err), &err);
    px_assert_ok(px_poll_release_sign(rel, f->survey.id, from, "ballots", c, 1, in->bpk, by, &err), &err);
}

static void issuer_payload(const poll_fx *f, uint64_t issued, px_buf *out) {
    px_err err = {0};
    px_poll_issued st = {.issued = issued, .not_eligible = 1, .again = 1, .closed = px_now_ms()};
    memcpy(st.poll, f->survey.id, 32);
    px_buf_append(out, PX_POLL_ISSUER_MAGIC, 4, NULL);
    px_assert_ok(px_poll_issued_sign(out, &st, &f->issuer, &err), &err);
}

static json_t *predicate_of(const px_buf *proof) {
    px_dsse env;
    px_err err = {0};
    px_assert_ok(px_dsse_parse(&env, proof->data, proof->len, &err), &err);
    json_t *st = px_json_parse(env.payload.data, env.payload.len, 1 << 20, &err);
    json_t *p = json_incref(json_object_get(st, "predicate"));
    json_decref(st);
    px_dsse_free(&env);
    return p;
}

typedef struct run {
    px_step_result res;
    int rc;
    px_err err;
} run;

/* One step with the issuer's count (issued) and one box of n ballots (of
 * which the first votes twice with one token). */
static void step(poll_fx *f, inst *in, uint64_t issued, int nballots, const px_signer *box, run *out) {
    px_err err = {0};
    px_buf ip = PX_BUF_INIT, is = PX_BUF_INIT, ir = PX_BUF_INIT, bp = PX_BUF_INIT, bs = PX_BUF_INIT,
           br = PX_BUF_INIT;
    issuer_payload(f, issued, &ip);
    release(f, in, &f->issuer, "acme", &ip, &is, &ir);
    px_assert_ok(px_poll_box_begin(&bp, &err), &err);
    px_poll_token first;
    for (int i = 0; i < nballots; i++) {
        px_poll_token t;
        fx_token(&f->survey, f->key, &t);
        if (i == 0)
            first = t;
        px_buf b = PX_BUF_INIT;
        fx_ballot_to(f, &t, i % 2 ? "{\"satisfied\":\"happy\",\"spend\":10}" : "{\"satisfied\":\"unhappy\"}",
                     (uint8_t)(i % 3), (uint8_t)(i % 2), in->bpk, &b);
        px_assert_ok(px_poll_box_append(&bp, f->survey.closes - 1000 + i, b.data, b.len, &err), &err);
        px_buf_free(&b);
    }
    if (nballots) {
        px_buf again = PX_BUF_INIT;
        fx_ballot_to(f, &first, "{\"satisfied\":\"happy\"}", 0, 0, in->bpk, &again);
        px_assert_ok(px_poll_box_append(&bp, f->survey.closes - 10, again.data, again.len, &err), &err);
        px_buf_free(&again);
    }
    release(f, in, box, "exec-1", &bp, &bs, &br);
    px_step_input inputs[2] = {{is.data, is.len, ir.data, ir.len, NULL, 0}, {bs.data, bs.len, br.data, br.len, NULL, 0}};
    memset(&out->res, 0, sizeof out->res);
    px_lambda_log log = px_testlog_lambda();
    out->rc = px_lambda_step(in->l, NULL, 0, inputs, 2, &log, &out->res, &out->err);
    px_buf *bufs[] = {&ip, &is, &ir, &bp, &bs, &br};
    for (size_t i = 0; i < 6; i++)
        px_buf_free(bufs[i]);
}

static int setup(void **state) {
    (void)state;
    px_err err = {0};
    uint8_t d[32];
    if (px_crypto_init(&err) || px_signer_generate(&platform, "exec-2-platform", &err))
        return -1;
    px_random(d, sizeof d);
    if (px_tee_build_init(&build, NULL, &err) || px_tee_build_add(&build, "worker", d, &err) ||
        px_tee_build_digest(build_digest, &build, &err))
        return -1;
    return 0;
}

static void test_tally_step(void **state) {
    (void)state;
    poll_fx f;
    int64_t now = px_now_ms();
    fx_init_at(&f, "{\"epsilon\":\"1\",\"small_cells\":{\"rule\":\"suppress\",\"below\":3}}", now - 7200000,
               now - 1000);
    px_box_keypair receiver;
    px_box_keygen(&receiver);
    inst in;
    born(&f, &in, &receiver);
    run r;
    step(&f, &in, 12, 10, &f.box, &r);
    px_assert_ok(r.rc, &r.err);
    assert_true(r.res.ok);
    json_t *p = predicate_of(&r.res.proof), *rep = json_object_get(p, "report");
    assert_non_null(rep);
    assert_int_equal(json_integer_value(json_object_get(rep, "issued")), 12);
    assert_int_equal(json_integer_value(json_object_get(rep, "received")), 11);
    assert_int_equal(json_integer_value(json_object_get(rep, "accepted")), 10);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(rep, "refused"), "spent")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(rep, "issuer"), "refused"),
                                                        "again")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "dp"), "epsilon")), "1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "dp"), "rho")), "0.5");
    /* The proof verifies under the instance key; the result opens with the
     * receiver's key, and its commitment is the proof's subject. */
    px_err err = {0};
    px_exec_proof ep;
    px_assert_ok(px_exec_proof_verify(&ep, r.res.proof.data, r.res.proof.len, in.spk, &err), &err);
    assert_int_equal(r.res.noutputs, 1);
    px_buf result = PX_BUF_INIT;
    uint8_t c[32];
    px_assert_ok(px_open_committed(&result, c, r.res.outputs[0].data, r.res.outputs[0].len, &receiver, &err), &err);
    assert_memory_equal(c, ep.subject, 32);
    json_t *doc = px_json_parse(result.data, result.len, 1 << 24, &err);
    assert_int_equal(json_array_size(json_object_get(doc, "spent")), 10);
    assert_int_equal(json_integer_value(json_object_get(doc, "accepted")), 10);
    json_decref(doc);
    json_decref(p);
    px_buf_free(&result);
    px_step_result_free(&r.res);
    inst_free(&in);

    /* More valid ballots than the issuer says it issued: nothing released. */
    born(&f, &in, &receiver);
    step(&f, &in, 3, 5, &f.box, &r);
    assert_false(r.res.ok);
    assert_string_equal(r.res.status, PX_STATUS_BAD_INPUT);
    assert_int_equal(r.res.noutputs, 0);
    px_step_result_free(&r.res);
    inst_free(&in);

    /* A batch released by a box the survey does not name. */
    px_signer stranger;
    px_assert_ok(px_signer_generate(&stranger, "exec-9", &err), &err);
    born(&f, &in, &receiver);
    step(&f, &in, 12, 2, &stranger, &r);
    assert_false(r.res.ok);
    assert_string_equal(r.res.status, PX_STATUS_BAD_PROOF);
    px_step_result_free(&r.res);
    inst_free(&in);
    fx_free(&f);
}

static void test_tally_before_close(void **state) {
    (void)state;
    poll_fx f;
    fx_init(&f, NULL); /* closes in an hour */
    px_box_keypair receiver;
    px_box_keygen(&receiver);
    inst in;
    born(&f, &in, &receiver);
    run r;
    step(&f, &in, 5, 0, &f.box, &r);
    assert_false(r.res.ok);
    assert_string_equal(r.res.status, PX_STATUS_BAD_INPUT);
    px_step_result_free(&r.res);
    inst_free(&in);
    fx_free(&f);
}

static void test_plan_check(void **state) {
    (void)state;
    poll_fx f;
    fx_init(&f, NULL);
    px_err err = {0};
    px_box_keypair receiver;
    px_box_keygen(&receiver);
    inst in;
    born(&f, &in, &receiver);
    px_buf plan = PX_BUF_INIT;
    px_assert_ok(px_poll_plan_sign(&plan, &f.envelope, "exec-2", in.nonce, &in.config, &in.evidence, &f.conductor,
                                   &err), &err);
    px_poll_plan p;
    px_assert_ok(px_poll_plan_parse(&p, plan.data, plan.len, &err), &err);
    px_verifier pv, lk = px_testlog_keyed()->vkey;
    px_signer_verifier(&platform, &pv);
    px_poll_attested att;
    const uint8_t(*builds)[32] = (const uint8_t(*)[32])build_digest;
    px_assert_ok(px_poll_plan_check(&p, &pv, builds, 1, &lk, &att, &err), &err);
    assert_memory_equal(att.box_pk, in.bpk, 32);
    /* Another log, another platform key, another build: refused. */
    px_signer other;
    px_verifier ov;
    px_assert_ok(px_signer_generate(&other, "other", &err), &err);
    px_signer_verifier(&other, &ov);
    px_assert_fails(px_poll_plan_check(&p, &pv, builds, 1, &ov, &att, &err), &err, PX_E_VERIFY);
    px_assert_fails(px_poll_plan_check(&p, &ov, builds, 1, &lk, &att, &err), &err, PX_E_VERIFY);
    uint8_t nb[1][32] = {{1}};
    px_assert_fails(px_poll_plan_check(&p, &pv, (const uint8_t(*)[32])nb, 1, &lk, &att, &err), &err, PX_E_VERIFY);
    px_poll_plan_free(&p);
    /* A plan signed by someone else than the survey's conductor. */
    px_buf forged = PX_BUF_INIT;
    px_assert_ok(px_poll_plan_sign(&forged, &f.envelope, "exec-2", in.nonce, &in.config, &in.evidence, &other, &err),
                 &err);
    px_assert_fails(px_poll_plan_parse(&p, forged.data, forged.len, &err), &err, PX_E_VERIFY);
    /* An instance whose config names another receiver count or log. */
    px_buf cfg = PX_BUF_INIT;
    px_assert_ok(px_poll_config_build(&cfg, &f.survey, receiver.pk, &ov, &err), &err);
    px_buf plan2 = PX_BUF_INIT;
    px_assert_ok(px_poll_plan_sign(&plan2, &f.envelope, "exec-2", in.nonce, &cfg, &in.evidence, &f.conductor, &err),
                 &err);
    px_assert_ok(px_poll_plan_parse(&p, plan2.data, plan2.len, &err), &err);
    px_assert_fails(px_poll_plan_check(&p, &pv, builds, 1, &lk, &att, &err), &err, PX_E_VERIFY);
    px_poll_plan_free(&p);
    px_buf_free(&plan);
    px_buf_free(&plan2);
    px_buf_free(&forged);
    px_buf_free(&cfg);
    inst_free(&in);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tally_step),
        cmocka_unit_test(test_tally_before_close),
        cmocka_unit_test(test_plan_check),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
