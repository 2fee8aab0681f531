/* The trust-λ step in-process: validator, stage, proof generator. Every
 * refusal must come back as a signed, verifiable failure proof. */
#include "step_fixture.h"

typedef struct inst {
    px_lambda *l;
    uint8_t spk[32], bpk[32], m[32];
    px_buf evidence;
} inst;

static int trap_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    (void)ctx;
    out->status = PX_STATUS_TRAP;
    return px_fail(err, PX_E_LIMIT, "trap: out of bounds memory access\nsecond line");
}
static const px_stage_kind trap_kind = {.kind = "trapper", .run = trap_run};
static const px_stage_kind *const table[] = {&px_stage_aggregate, &trap_kind, NULL};

static void born(const fixture *f, inst *in, const char *kind, const px_buf *config) {
    px_err err = {0};
    px_assert_ok(px_lambda_new(&in->l, table, f->worker, kind, px_tee_builtin_code, config->data, config->len, &err),
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
    px_assert_ok(px_tee_process.attest(&ev, &f->platform, &in->evidence, &err), &err);
    px_assert_ok(px_lambda_set_evidence(in->l, in->evidence.data, in->evidence.len, &err), &err);
}

static void gone(inst *in) {
    px_lambda_free(in->l);
    px_buf_free(&in->evidence);
}

static void stage1(const fixture *f, inst *in, const uint8_t *to) {
    px_buf cfg = PX_BUF_INIT;
    fx_config(f, &cfg, 1, to ? to : f->successor.pk, 1);
    born(f, in, "aggregate", &cfg);
    px_buf_free(&cfg);
}

/* A proof that verifies under the instance key, with the given status. */
static px_exec_proof check_proof(const inst *in, const px_step_result *r, const char *status) {
    px_exec_proof p;
    px_err err = {0};
    px_assert_ok(px_exec_proof_verify(&p, r->proof.data, r->proof.len, in->spk, &err), &err);
    assert_string_equal(p.status, status);
    assert_string_equal(r->status, status);
    assert_int_equal(r->ok, !strcmp(status, PX_STATUS_OK));
    assert_memory_equal(p.measurement, in->m, 32);
    uint8_t evd[32];
    px_sha256(evd, in->evidence.data, in->evidence.len);
    assert_memory_equal(p.evidence, evd, 32);
    /* Any other key refuses it. */
    uint8_t other[32];
    px_random(other, 32);
    px_exec_proof q;
    assert_int_equal(px_exec_proof_verify(&q, r->proof.data, r->proof.len, other, &err), -1);
    assert_int_equal(err.code, PX_E_VERIFY);
    return p;
}

/* The predicate's members, in order, joined by commas. */
static void predicate_keys(const px_buf *proof, char *out, size_t cap) {
    px_dsse env;
    px_err err = {0};
    px_assert_ok(px_dsse_parse(&env, proof->data, proof->len, &err), &err);
    json_t *st = px_json_parse(env.payload.data, env.payload.len, 1 << 20, &err);
    assert_non_null(st);
    const char *k;
    json_t *v;
    out[0] = 0;
    json_object_foreach(json_object_get(st, "predicate"), k, v) {
        strncat(out, k, cap - strlen(out) - 2);
        strcat(out, ",");
    }
    json_decref(st);
    px_dsse_free(&env);
}

static void test_release_step_ok(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    inst a;
    stage1(&f, &a, NULL);
    px_buf vec = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, opened = PX_BUF_INIT;
    fx_vector(&vec, 127, 1.0); /* 1 KiB */
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, a.bpk);
    fx_seal(&sealed, &vec, a.bpk);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result r;
    px_err err = {0};
    px_assert_ok(px_lambda_step(a.l, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &r, &err), &err);
    px_exec_proof p = check_proof(&a, &r, PX_STATUS_OK);
    assert_int_equal(p.index, 1);
    assert_string_equal(p.kind, "aggregate");
    assert_int_equal(p.ninputs, 1);
    assert_memory_equal(p.manifest, f.manifest, 32);
    assert_true(p.finished >= p.started);
    char keys[256];
    predicate_keys(&r.proof, keys, sizeof keys); /* docs/formats.md order */
    assert_string_equal(keys, "manifest,stage,measurement,evidence,inputs,status,started,finished,");
    /* The output opens only for the configured successor. */
    assert_int_equal(r.noutputs, 1);
    uint8_t d[32];
    px_assert_ok(px_open_committed(&opened, d, r.outputs[0].data, r.outputs[0].len, &f.successor, &err), &err);
    assert_int_equal(opened.len, vec.len);
    assert_memory_equal(opened.data, vec.data, vec.len);
    assert_memory_equal(p.subject, d, 32);
    /* The public subject hides the output: it is not its plain digest,
     * so a guess at a small output cannot be confirmed from the log. */
    uint8_t plain[32];
    px_sha256(plain, vec.data, vec.len);
    assert_memory_not_equal(p.subject, plain, 32);
    px_box_keypair wrong;
    px_box_keygen(&wrong);
    px_buf_reset(&opened);
    px_assert_fails(px_seal_open(&opened, r.outputs[0].data, r.outputs[0].len, &wrong, &err), &err, PX_E_VERIFY);
    /* One step per instance. */
    px_step_result r2;
    px_assert_fails(px_lambda_step(a.l, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &r2, &err), &err, PX_E_STATE);
    px_step_result_free(&r);
    px_buf_free(&vec);
    px_buf_free(&rel);
    px_buf_free(&sealed);
    px_buf_free(&opened);
    gone(&a);
}

/* Stage 0 (fed by a POD) feeds stage 1, which also takes a release: the
 * second stage checks an execution proof and its evidence. */
static void test_chain(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    inst b, a;
    stage1(&f, &b, NULL);
    px_buf cfg = PX_BUF_INIT;
    fx_config(&f, &cfg, 0, b.bpk, 1);
    born(&f, &a, "aggregate", &cfg);
    px_buf v1 = PX_BUF_INIT, v2 = PX_BUF_INIT, rel1 = PX_BUF_INIT, rel2 = PX_BUF_INIT, s1 = PX_BUF_INIT,
           s2 = PX_BUF_INIT, out = PX_BUF_INIT;
    fx_vector(&v1, 4, 1.0);
    fx_vector(&v2, 4, 10.0);
    fx_release(&f, &rel1, &f.pod, v1.data, v1.len, a.bpk);
    fx_release(&f, &rel2, &f.pod, v2.data, v2.len, b.bpk);
    fx_seal(&s1, &v1, a.bpk);
    fx_seal(&s2, &v2, b.bpk);
    px_err err = {0};
    px_step_input ia = {s1.data, s1.len, rel1.data, rel1.len, NULL, 0};
    px_step_result ra, rb;
    px_assert_ok(px_lambda_step(a.l, NULL, 0, &ia, 1, PX_TESTLOG_LAMBDA, &ra, &err), &err);
    check_proof(&a, &ra, PX_STATUS_OK);
    px_step_input ib[2] = {{ra.outputs[0].data, ra.outputs[0].len, ra.proof.data, ra.proof.len, a.evidence.data,
                            a.evidence.len},
                           {s2.data, s2.len, rel2.data, rel2.len, NULL, 0}};
    px_assert_ok(px_lambda_step(b.l, NULL, 0, ib, 2, PX_TESTLOG_LAMBDA, &rb, &err), &err);
    px_exec_proof p = check_proof(&b, &rb, PX_STATUS_OK);
    assert_int_equal(p.ninputs, 2);
    fx_open(&out, &rb.outputs[0], &f.successor);
    double *sum;
    uint32_t n;
    px_assert_ok(px_vector_decode(&sum, &n, out.data, out.len, &err), &err);
    assert_int_equal(n, 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_true(sum[i] == 11.0 + 2 * i);
    free(sum);
    /* The proof names each input's digest and producer. */
    px_dsse env;
    px_statement st;
    px_assert_ok(px_dsse_parse(&env, rb.proof.data, rb.proof.len, &err), &err);
    px_assert_ok(px_statement_parse(&st, env.payload.data, env.payload.len, &err), &err);
    json_t *inputs = json_object_get(st.predicate, "inputs");
    char want[65];
    uint8_t id[32];
    px_sha256(id, ra.proof.data, ra.proof.len);
    px_hex_encode(want, id, 32);
    assert_string_equal(json_string_value(json_object_get(json_array_get(inputs, 0), "proof")), want);
    px_statement_free(&st);
    px_dsse_free(&env);
    px_step_result_free(&ra);
    px_step_result_free(&rb);
    px_buf *bufs[] = {&cfg, &v1, &v2, &rel1, &rel2, &s1, &s2, &out};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        px_buf_free(bufs[i]);
    gone(&a);
    gone(&b);
}

/* Run a one-input step on stage 1 and expect a signed failure. */
static px_exec_proof expect_failure(const fixture *f, inst *a, const px_step_input *in, const char *status,
                                    const char *reason_part) {
    (void)f;
    px_step_result r;
    px_err err = {0};
    px_assert_ok(px_lambda_step(a->l, NULL, 0, in, 1, PX_TESTLOG_LAMBDA, &r, &err), &err);
    px_exec_proof p = check_proof(a, &r, status);
    assert_int_equal(r.noutputs, 0);
    char keys[256];
    predicate_keys(&r.proof, keys, sizeof keys);
    assert_non_null(strstr(keys, "status,reason,started,finished,"));
    if (reason_part) {
        /* The reason travels base64-encoded inside the envelope. */
        px_dsse env;
        px_assert_ok(px_dsse_parse(&env, r.proof.data, r.proof.len, &err), &err);
        char *payload = px_buf_cstr(&env.payload, &err);
        if (!strstr(payload, reason_part))
            fail_msg("reason does not mention \"%s\": %s", reason_part, payload);
        assert_null(strchr(payload, '\n'));
        px_dsse_free(&env);
    }
    px_step_result_free(&r);
    return p;
}

static void test_refusals(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_buf vec = PX_BUF_INIT, other = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, tmp = PX_BUF_INIT;
    fx_vector(&vec, 127, 1.0);
    fx_vector(&other, 127, 2.0);
    inst a;
    uint8_t d[32];

    /* Tampered sealed input: bad-input, subject = digest of what arrived. */
    stage1(&f, &a, NULL);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, a.bpk);
    fx_seal(&sealed, &vec, a.bpk);
    sealed.data[60] ^= 1;
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_exec_proof p = expect_failure(&f, &a, &in, PX_STATUS_BAD_INPUT, "does not open");
    px_sha256(d, sealed.data, sealed.len);
    assert_memory_equal(p.subject, d, 32);
    gone(&a);

    /* Input sealed for someone else. */
    stage1(&f, &a, NULL);
    px_buf_reset(&rel);
    px_buf_reset(&sealed);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, a.bpk);
    fx_seal(&sealed, &vec, f.successor.pk);
    in = (px_step_input){sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    expect_failure(&f, &a, &in, PX_STATUS_BAD_INPUT, "does not open");
    gone(&a);

    /* Input digest differs from the release's digest. */
    stage1(&f, &a, NULL);
    px_buf_reset(&rel);
    px_buf_reset(&sealed);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, a.bpk);
    fx_seal(&sealed, &other, a.bpk);
    in = (px_step_input){sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    p = expect_failure(&f, &a, &in, PX_STATUS_DIGEST_MISMATCH, "digest");
    fx_commit(d, other.data, other.len);
    assert_memory_equal(p.subject, d, 32);
    gone(&a);

    /* Release signed by an untrusted key. */
    stage1(&f, &a, NULL);
    px_buf_reset(&rel);
    px_buf_reset(&sealed);
    fx_release(&f, &rel, &f.stranger, vec.data, vec.len, a.bpk);
    fx_seal(&sealed, &vec, a.bpk);
    in = (px_step_input){sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    expect_failure(&f, &a, &in, PX_STATUS_BAD_PROOF, "trusted POD");
    gone(&a);

    /* Release made for another stage key. */
    stage1(&f, &a, NULL);
    px_buf_reset(&rel);
    px_buf_reset(&sealed);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, f.successor.pk);
    fx_seal(&sealed, &vec, a.bpk);
    in = (px_step_input){sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    expect_failure(&f, &a, &in, PX_STATUS_BAD_PROOF, "another stage key");
    gone(&a);

    /* Garbage where the proof should be. */
    stage1(&f, &a, NULL);
    px_buf_reset(&sealed);
    fx_seal(&sealed, &vec, a.bpk);
    in = (px_step_input){sealed.data, sealed.len, (const uint8_t *)"{}", 2, NULL, 0};
    expect_failure(&f, &a, &in, PX_STATUS_BAD_PROOF, NULL);
    /* ...and no input at all is refused by an instance that already
     * stepped: the state machine holds. */
    px_step_result r;
    px_err err = {0};
    px_assert_fails(px_lambda_step(a.l, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &r, &err), &err, PX_E_STATE);
    gone(&a);

    /* Zero inputs: a signed bad-input. */
    stage1(&f, &a, NULL);
    px_assert_ok(px_lambda_step(a.l, NULL, 0, NULL, 0, PX_TESTLOG_LAMBDA, &r, &err), &err);
    check_proof(&a, &r, PX_STATUS_BAD_INPUT);
    px_step_result_free(&r);
    gone(&a);

    /* Vectors of different lengths: the aggregate stage refuses. */
    stage1(&f, &a, NULL);
    fx_vector(&tmp, 3, 0.0);
    px_buf rel2 = PX_BUF_INIT, sealed2 = PX_BUF_INIT;
    px_buf_reset(&rel);
    px_buf_reset(&sealed);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, a.bpk);
    fx_release(&f, &rel2, &f.pod, tmp.data, tmp.len, a.bpk);
    fx_seal(&sealed, &vec, a.bpk);
    fx_seal(&sealed2, &tmp, a.bpk);
    px_step_input two[2] = {{sealed.data, sealed.len, rel.data, rel.len, NULL, 0},
                            {sealed2.data, sealed2.len, rel2.data, rel2.len, NULL, 0}};
    px_assert_ok(px_lambda_step(a.l, NULL, 0, two, 2, PX_TESTLOG_LAMBDA, &r, &err), &err);
    check_proof(&a, &r, PX_STATUS_BAD_INPUT);
    px_step_result_free(&r);
    gone(&a);
    px_buf *bufs[] = {&vec, &other, &rel, &sealed, &tmp, &rel2, &sealed2};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        px_buf_free(bufs[i]);
}

/* A predecessor that is not good enough: level below this stage's minimum,
 * a failed predecessor step, a proof whose digest is not the input's. */
static void test_bad_predecessors(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_buf vec = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, cfg = PX_BUF_INIT, other = PX_BUF_INIT;
    fx_vector(&vec, 8, 1.0);
    px_err err = {0};
    for (int scenario = 0; scenario < 4; scenario++) {
        inst a, b;
        /* b is stage 1; its minimum predecessor level is 2 in scenario 0. */
        px_buf_reset(&cfg);
        fx_config(&f, &cfg, 1, f.successor.pk, scenario == 0 ? 2 : 1);
        born(&f, &b, "aggregate", &cfg);
        px_buf_reset(&cfg);
        fx_config(&f, &cfg, 0, b.bpk, 1);
        born(&f, &a, "aggregate", &cfg);
        px_buf_reset(&rel);
        px_buf_reset(&sealed);
        fx_release(&f, &rel, &f.pod, vec.data, vec.len, a.bpk);
        fx_seal(&sealed, &vec, a.bpk);
        if (scenario == 1)
            sealed.data[50] ^= 1; /* a's step fails */
        px_step_input ia = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
        px_step_result ra, rb;
        px_assert_ok(px_lambda_step(a.l, NULL, 0, &ia, 1, PX_TESTLOG_LAMBDA, &ra, &err), &err);
        px_buf fwd = PX_BUF_INIT;
        if (ra.noutputs)
            px_buf_append(&fwd, ra.outputs[0].data, ra.outputs[0].len, &err);
        else
            fx_seal(&fwd, &vec, b.bpk);
        if (scenario == 2) { /* forward other bytes under a's valid proof */
            px_buf_reset(&fwd);
            px_buf_reset(&other);
            fx_vector(&other, 8, 5.0);
            fx_seal(&fwd, &other, b.bpk);
        }
        const px_buf *ev = scenario == 3 ? &b.evidence : &a.evidence; /* evidence of someone else */
        px_step_input ib = {fwd.data, fwd.len, ra.proof.data, ra.proof.len, ev->data, ev->len};
        px_assert_ok(px_lambda_step(b.l, NULL, 0, &ib, 1, PX_TESTLOG_LAMBDA, &rb, &err), &err);
        const char *want = scenario == 2 ? PX_STATUS_DIGEST_MISMATCH : PX_STATUS_BAD_PROOF;
        check_proof(&b, &rb, want);
        px_step_result_free(&ra);
        px_step_result_free(&rb);
        px_buf_free(&fwd);
        gone(&a);
        gone(&b);
    }
    px_buf *bufs[] = {&vec, &rel, &sealed, &cfg, &other};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        px_buf_free(bufs[i]);
}

static void test_stage_failure(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_buf cfg = PX_BUF_INIT, vec = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT;
    fx_config(&f, &cfg, 1, f.successor.pk, 1);
    char *k = strstr((char *)cfg.data, "\"aggregate\"");
    px_buf c2 = PX_BUF_INIT;
    px_err err = {0};
    px_buf_append(&c2, cfg.data, (size_t)(k - (char *)cfg.data), &err);
    px_buf_append_str(&c2, "\"trapper\"", &err);
    px_buf_append_str(&c2, k + strlen("\"aggregate\""), &err);
    inst a;
    born(&f, &a, "trapper", &c2);
    fx_vector(&vec, 2, 0.0);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, a.bpk);
    fx_seal(&sealed, &vec, a.bpk);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_exec_proof p = expect_failure(&f, &a, &in, PX_STATUS_TRAP, "out of bounds memory access second line");
    uint8_t d[32];
    fx_commit(d, vec.data, vec.len);
    assert_memory_equal(p.subject, d, 32);
    gone(&a);
    px_buf *bufs[] = {&cfg, &c2, &vec, &rel, &sealed};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        px_buf_free(bufs[i]);
}

static void test_birth_and_evidence(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_buf cfg = PX_BUF_INIT;
    fx_config(&f, &cfg, 1, f.successor.pk, 1);
    px_lambda *l;
    px_err err = {0};
    uint8_t code[32] = {9};
    /* Kind must match the config, be in the table, and take no code. */
    px_assert_fails(px_lambda_new(&l, table, f.worker, "trapper", px_tee_builtin_code, cfg.data, cfg.len, &err), &err,
                    PX_E_INVALID);
    px_assert_fails(px_lambda_new(&l, table, f.worker, "dp", px_tee_builtin_code, cfg.data, cfg.len, &err), &err,
                    PX_E_NOTFOUND);
    px_assert_fails(px_lambda_new(&l, table, f.worker, "aggregate", code, cfg.data, cfg.len, &err), &err,
                    PX_E_INVALID);
    /* A successor key nothing can be sealed to. */
    uint8_t zero[32] = {0};
    px_buf zc = PX_BUF_INIT;
    fx_config(&f, &zc, 1, zero, 1);
    px_assert_fails(px_lambda_new(&l, table, f.worker, "aggregate", px_tee_builtin_code, zc.data, zc.len, &err),
                    &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "successor 0"));
    px_buf_free(&zc);
    /* A successor key changes the measurement: evidence pins where output
     * may go. */
    inst a, b;
    born(&f, &a, "aggregate", &cfg);
    px_box_keypair other;
    px_box_keygen(&other);
    px_buf cfg2 = PX_BUF_INIT;
    fx_config(&f, &cfg2, 1, other.pk, 1);
    born(&f, &b, "aggregate", &cfg2);
    assert_memory_not_equal(a.m, b.m, 32);
    /* Evidence for another instance is refused. */
    px_lambda *c;
    px_assert_ok(px_lambda_new(&c, table, f.worker, "aggregate", px_tee_builtin_code, cfg.data, cfg.len, &err), &err);
    px_assert_fails(px_lambda_set_evidence(c, a.evidence.data, a.evidence.len, &err), &err, PX_E_VERIFY);
    px_step_result r;
    px_assert_fails(px_lambda_step(c, NULL, 0, NULL, 0, PX_TESTLOG_LAMBDA, &r, &err), &err, PX_E_STATE);
    px_lambda_free(c);
    gone(&a);
    gone(&b);
    px_buf_free(&cfg);
    px_buf_free(&cfg2);
}

/* The config with "deadline" set (ms since the epoch). */
static void with_deadline(px_buf *cfg, int64_t deadline) {
    px_err err = {0};
    char *s = px_buf_cstr(cfg, &err), *at = strstr(s, "\"log\":");
    assert_non_null(at);
    px_buf m = PX_BUF_INIT;
    px_buf_append(&m, s, (size_t)(at - s), &err);
    px_buf_printf(&m, &err, "\"deadline\":%lld,", (long long)deadline);
    px_buf_append_str(&m, at, &err);
    px_buf_reset(cfg);
    px_buf_append(cfg, m.data, m.len, &err);
    px_buf_free(&m);
}

/* The three phases by hand: the instance signs its acceptance first, runs
 * only when shown that statement in the log its config names, and
 * releases only when shown its proof there. */
static void test_release_after_log(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_err err = {0};
    inst a;
    stage1(&f, &a, NULL);
    px_buf vec = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, acc = PX_BUF_INIT, proof = PX_BUF_INIT;
    fx_vector(&vec, 127, 1.0);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, a.bpk);
    fx_seal(&sealed, &vec, a.bpk);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    int accepted = 0;
    px_assert_ok(px_lambda_accept(a.l, NULL, 0, &in, 1, &acc, &accepted, &err), &err);
    assert_true(accepted);
    /* The statement: this instance, this evidence, the input its proof will name. */
    px_accepted st;
    px_assert_ok(px_accepted_verify(&st, acc.data, acc.len, a.spk, &err), &err);
    uint8_t evd[32], rid[32];
    px_sha256(evd, a.evidence.data, a.evidence.len);
    px_sha256(rid, rel.data, rel.len);
    assert_memory_equal(st.evidence, evd, 32);
    assert_memory_equal(st.measurement, a.m, 32);
    assert_memory_equal(st.manifest, f.manifest, 32);
    assert_int_equal(st.index, 1);
    assert_int_equal(st.ninputs, 1);
    char keys[256];
    predicate_keys(&acc, keys, sizeof keys);
    assert_string_equal(keys, "manifest,stage,measurement,evidence,inputs,accepted,");
    uint8_t other[32];
    px_random(other, 32);
    px_assert_fails(px_accepted_verify(&st, acc.data, acc.len, other, &err), &err, PX_E_VERIFY);
    /* Not shown anything, or shown another entry: it does not run, and
     * can still be shown the right one. */
    px_step_result r;
    px_assert_fails(px_lambda_run(a.l, NULL, &proof, &err), &err, PX_E_VERIFY);
    px_log_receipt wrong, ra, rp;
    px_assert_ok(px_log_append_proven(px_testlog_get()->log, rel.data, rel.len, &wrong, &err), &err);
    px_lambda_logged shown = px_lambda_logged_of(&wrong);
    px_assert_fails(px_lambda_run(a.l, &shown, &proof, &err), &err, PX_E_VERIFY);
    px_assert_fails(px_lambda_release(a.l, &shown, &r, &err), &err, PX_E_STATE);
    px_assert_ok(px_log_append_proven(px_testlog_get()->log, acc.data, acc.len, &ra, &err), &err);
    shown = px_lambda_logged_of(&ra);
    px_assert_ok(px_lambda_run(a.l, &shown, &proof, &err), &err);
    px_exec_proof p;
    px_assert_ok(px_exec_proof_verify(&p, proof.data, proof.len, a.spk, &err), &err);
    assert_string_equal(p.status, PX_STATUS_OK);
    /* The proof signed but not shown in the log: nothing leaves. */
    shown = px_lambda_logged_of(&ra);
    px_assert_fails(px_lambda_release(a.l, &shown, &r, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "releasing nothing"));
    px_assert_ok(px_log_append_proven(px_testlog_get()->log, proof.data, proof.len, &rp, &err), &err);
    shown = px_lambda_logged_of(&rp);
    px_assert_ok(px_lambda_release(a.l, &shown, &r, &err), &err);
    assert_true(r.ok);
    assert_int_equal(r.noutputs, 1);
    assert_int_equal(r.proof_index, rp.index);
    assert_int_equal(r.accepted.len, acc.len);
    px_step_result_free(&r);
    px_assert_fails(px_lambda_release(a.l, &shown, &r, &err), &err, PX_E_STATE); /* once */
    px_log_receipt_free(&wrong);
    px_log_receipt_free(&ra);
    px_log_receipt_free(&rp);
    gone(&a);
    px_buf *bufs[] = {&vec, &rel, &sealed, &acc, &proof};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        px_buf_free(bufs[i]);
}

/* After the deadline an instance accepts nothing (a signed "timeout"), and
 * one whose proof reaches the log after it releases nothing. */
static void test_deadline(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_err err = {0};
    px_buf cfg = PX_BUF_INIT, vec = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, acc = PX_BUF_INIT,
           proof = PX_BUF_INIT;
    fx_vector(&vec, 8, 1.0);
    /* Past already. */
    inst a;
    fx_config(&f, &cfg, 1, f.successor.pk, 1);
    with_deadline(&cfg, px_now_ms() - 1000);
    born(&f, &a, "aggregate", &cfg);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, a.bpk);
    fx_seal(&sealed, &vec, a.bpk);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result r;
    px_assert_ok(px_lambda_step(a.l, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &r, &err), &err);
    check_proof(&a, &r, PX_STATUS_TIMEOUT);
    assert_int_equal(r.accepted.len, 0);
    assert_int_equal(r.noutputs, 0);
    px_step_result_free(&r);
    gone(&a);
    /* Passes between the proof and its showing. */
    px_buf_reset(&cfg);
    fx_config(&f, &cfg, 1, f.successor.pk, 1);
    with_deadline(&cfg, px_now_ms() + 1500);
    born(&f, &a, "aggregate", &cfg);
    px_buf_reset(&rel);
    px_buf_reset(&sealed);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, a.bpk);
    fx_seal(&sealed, &vec, a.bpk);
    in = (px_step_input){sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    int accepted = 0;
    px_log_receipt ra, rp;
    px_assert_ok(px_lambda_accept(a.l, NULL, 0, &in, 1, &acc, &accepted, &err), &err);
    assert_true(accepted);
    px_assert_ok(px_log_append_proven(px_testlog_get()->log, acc.data, acc.len, &ra, &err), &err);
    px_lambda_logged shown = px_lambda_logged_of(&ra);
    px_assert_ok(px_lambda_run(a.l, &shown, &proof, &err), &err);
    px_assert_ok(px_log_append_proven(px_testlog_get()->log, proof.data, proof.len, &rp, &err), &err);
    int64_t deadline = 0;
    px_stage_config c;
    px_assert_ok(px_stage_config_parse(&c, cfg.data, cfg.len, &err), &err);
    deadline = c.deadline;
    px_stage_config_free(&c);
    while (px_now_ms() <= deadline)
        usleep(50 * 1000);
    shown = px_lambda_logged_of(&rp);
    px_assert_fails(px_lambda_release(a.l, &shown, &r, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "deadline"));
    px_log_receipt_free(&ra);
    px_log_receipt_free(&rp);
    gone(&a);
    px_buf *bufs[] = {&cfg, &vec, &rel, &sealed, &acc, &proof};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        px_buf_free(bufs[i]);
}

static void test_config_parser(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_buf cfg = PX_BUF_INIT;
    fx_config(&f, &cfg, 1, f.successor.pk, 1);
    px_stage_config c;
    px_err err = {0};
    px_assert_ok(px_stage_config_parse(&c, cfg.data, cfg.len, &err), &err);
    assert_int_equal(c.index, 1);
    assert_int_equal(c.nsuccessors, 1);
    assert_int_equal(c.nplatform_keys, 1);
    assert_int_equal(c.npods, 1);
    assert_true(json_is_object(c.params));
    px_stage_config_free(&c);
    const char *bad[] = {
        "{}",
        "[]",
        "{\"manifest\":\"00\",\"stage\":{\"index\":1,\"kind\":\"x\"},\"successors\":[],\"predecessors\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        px_assert_fails(px_stage_config_parse(&c, bad[i], strlen(bad[i]), &err), &err, PX_E_INVALID);
    /* Each mutation of the good config is refused. */
    struct {
        const char *from, *to;
    } mut[] = {
        {"\"stage\":{", "\"extra\":1,\"stage\":{"},
        {"\"index\":1", "\"index\":-1"},
        {"\"kind\":\"aggregate\"", "\"kind\":\"Agg\""},
        {"\"min_level\":1", "\"min_level\":1,\"x\":2"},
        {"\"min_level\":1", "\"min_level\":256"},
        {"\"successors\":[\"", "\"successors\":[\"zz"},
        {"\"log\":", "\"params\":[],\"log\":"},
        {"\"pods\":[\"", "\"pods\":[\"x"},
        {"\"log\":\"", "\"log\":\"x"},          /* not a verifier key */
        {"\"log\":", "\"lag\":"},                  /* no log: nothing could ever be released */
        {"\"log\":", "\"deadline\":-5,\"log\":"},
        {"\"log\":", "\"deadline\":\"soon\",\"log\":"},
    };
    for (size_t i = 0; i < sizeof mut / sizeof mut[0]; i++) {
        char *s = px_buf_cstr(&cfg, &err), *at = strstr(s, mut[i].from);
        assert_non_null(at);
        px_buf m = PX_BUF_INIT;
        px_buf_append(&m, s, (size_t)(at - s), &err);
        px_buf_append_str(&m, mut[i].to, &err);
        px_buf_append_str(&m, at + strlen(mut[i].from), &err);
        if (px_stage_config_parse(&c, m.data, m.len, &err) == 0)
            fail_msg("mutation %zu accepted: %.*s", i, (int)m.len, (char *)m.data);
        px_buf_free(&m);
    }
    px_buf_free(&cfg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_step_ok),  cmocka_unit_test(test_chain),
        cmocka_unit_test(test_refusals),         cmocka_unit_test(test_bad_predecessors),
        cmocka_unit_test(test_stage_failure),    cmocka_unit_test(test_birth_and_evidence),
        cmocka_unit_test(test_config_parser),    cmocka_unit_test(test_release_after_log),
        cmocka_unit_test(test_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
