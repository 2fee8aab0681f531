/* The "pir" stage kind through real in-process trust-λ steps: a POD's
 * release of a table dataset in, the hint bundle out, a proof that names
 * the table's lineage ("derived"), then queries answered and signed by the
 * instance and decoded to exactly the table's rows. Every way of feeding it
 * the wrong table, and every bad query, is refused. */
#include <time.h>

#include "pir_table_fixture.h"

static const px_stage_kind *const table[] = {&px_pir_stage_kind, NULL};

typedef struct inst {
    px_lambda *l;
    uint8_t spk[32], bpk[32], m[32];
    px_buf evidence;
} inst;

static void born(const fixture *f, inst *in, const uint8_t table_result[32], int64_t deadline) {
    px_err err = {0};
    char params[128], hex[65];
    px_hex_encode(hex, table_result, 32);
    snprintf(params, sizeof params, "{\"table\":\"%s\"}", hex);
    px_buf cfg = PX_BUF_INIT;
    fx_config_kind(f, &cfg, 0, f->successor.pk, 1, "pir", params);
    if (deadline) { /* "...,\"log\":...,\"deadline\":N,\"params\":..." */
        char *p = strstr((char *)cfg.data, ",\"params\"");
        char tail[256];
        snprintf(tail, sizeof tail, ",\"deadline\":%lld%s", (long long)deadline, p);
        cfg.len = (size_t)(p - (char *)cfg.data);
        px_buf_append_str(&cfg, tail, &err);
    }
    px_assert_ok(px_lambda_new(&in->l, table, f->worker, "pir", px_tee_builtin_code, cfg.data, cfg.len, &err), &err);
    px_buf_free(&cfg);
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

/* One step of a pir instance on a POD's release of `stream`. */
static void step(const fixture *f, inst *a, const px_buf *stream, px_step_result *r, px_exec_proof *p) {
    px_buf rel = PX_BUF_INIT, sealed = PX_BUF_INIT;
    px_err err = {0};
    fx_release(f, &rel, &f->pod, stream->data, stream->len, a->bpk);
    fx_seal(&sealed, stream, a->bpk);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_assert_ok(px_lambda_step(a->l, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, r, &err), &err);
    px_assert_ok(px_exec_proof_verify(p, r->proof.data, r->proof.len, a->spk, &err), &err);
    px_buf_free(&rel);
    px_buf_free(&sealed);
}

/* A step that must fail with bad-input, its reason mentioning `why`. */
static void step_refused(const fixture *f, const uint8_t want[32], const px_buf *stream, const char *why) {
    inst a;
    born(f, &a, want, 0);
    px_step_result r;
    px_exec_proof p;
    step(f, &a, stream, &r, &p);
    assert_string_equal(p.status, PX_STATUS_BAD_INPUT);
    assert_false(px_lambda_serving(a.l));
    assert_int_equal(r.noutputs, 0);
    /* The reason, inside the signed statement. */
    px_dsse env;
    px_err err = {0};
    px_assert_ok(px_dsse_parse(&env, r.proof.data, r.proof.len, &err), &err);
    json_t *st = px_json_parse(env.payload.data, env.payload.len, 1 << 20, &err);
    const char *reason = json_string_value(json_object_get(json_object_get(st, "predicate"), "reason"));
    if (!reason || !strstr(reason, why))
        fail_msg("reason \"%s\" does not mention \"%s\"", reason ? reason : "", why);
    json_decref(st);
    px_dsse_free(&env);
    px_step_result_free(&r);
    gone(&a);
}

static void test_serve_table(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    dp_task t;
    dp_task_make(&t, ROWS);
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, stream = PX_BUF_INIT;
    px_assert_ok(px_pir_table_build(&doc, t.receipt.data, t.receipt.len, t.opening.data, t.opening.len, t.rows, ROWS,
                                    t.cols, COLS, &err), &err);
    table_stream(&stream, &doc, 700);
    inst a;
    born(&f, &a, t.result, 0);
    px_step_result r;
    px_exec_proof p;
    step(&f, &a, &stream, &r, &p);
    assert_string_equal(p.status, PX_STATUS_OK);
    /* The proof names the table's lineage. */
    assert_true(p.has_derived);
    assert_memory_equal(p.derived.manifest, t.manifest, 32);
    assert_memory_equal(p.derived.result, t.result, 32);
    uint8_t rd[32];
    px_sha256(rd, t.receipt.data, t.receipt.len);
    assert_memory_equal(p.derived.receipt, rd, 32);
    assert_true(px_lambda_serving(a.l));
    /* The hint bundle, opened by the successor (the querier). */
    px_buf bundle = PX_BUF_INIT;
    uint8_t commit[32];
    px_assert_ok(px_open_committed(&bundle, commit, r.outputs[0].data, r.outputs[0].len, &f.successor, &err), &err);
    assert_memory_equal(commit, p.subject, 32);
    px_pir_hint_view hv;
    px_pir_info info;
    uint32_t *hint = NULL;
    px_assert_ok(px_pir_hint_parse(&hv, bundle.data, bundle.len, &err), &err);
    px_assert_ok(px_pir_info_parse(&info, hv.info, hv.info_len, &err), &err);
    px_assert_ok(px_pir_hint_copy(&hv, &hint, &err), &err);
    assert_int_equal(info.nrows, ROWS);
    assert_memory_equal(info.table, t.result, 32);
    assert_int_equal(hv.params.record_bytes, COLS * 8);
    const px_pir_params *pp = &hv.params;
    uint32_t *q = malloc(pp->cols * 4), *ans = malloc(pp->rows * 4);
    for (int k = 0; k < 8; k++) {
        int64_t row = px_pir_info_find(&info, t.rows[(k * 11) % ROWS]);
        assert_true(row >= 0);
        px_pir_secret sec;
        px_buf qb = PX_BUF_INIT, resp = PX_BUF_INIT;
        uint8_t sig[64], qd[32], got_qd[32];
        px_assert_ok(px_pir_query(pp, (uint32_t)row, &sec, q, &err), &err);
        px_assert_ok(px_pir_query_encode(&qb, commit, q, pp->cols, &err), &err);
        px_assert_ok(px_lambda_serve(a.l, qb.data, qb.len, &resp, sig, &err), &err);
        px_assert_ok(px_serve_verify(sig, f.manifest, commit, qb.data, qb.len, resp.data, resp.len, a.spk, &err),
                     &err);
        /* The signature binds the request: another query does not verify. */
        qb.data[50] ^= 1;
        px_assert_fails(px_serve_verify(sig, f.manifest, commit, qb.data, qb.len, resp.data, resp.len, a.spk, &err),
                        &err, PX_E_VERIFY);
        qb.data[50] ^= 1;
        px_assert_ok(px_pir_answer_parse(resp.data, resp.len, pp->rows, got_qd, ans, &err), &err);
        px_sha256(qd, qb.data, qb.len);
        assert_memory_equal(got_qd, qd, 32);
        uint8_t rec[COLS * 8];
        px_assert_ok(px_pir_decode(pp, hint, &sec, ans, (uint32_t)row, rec, &err), &err);
        double v[COLS];
        memcpy(v, rec, sizeof v); /* little-endian doubles on this machine */
        assert_true(v[0] == row * 10 + 0.5 && v[1] == row * 10 + 1.5);
        px_pir_secret_wipe(&sec);
        px_buf_free(&qb);
        px_buf_free(&resp);
    }
    /* Bad queries: another hint, another width, truncated, not a query. */
    px_buf qb = PX_BUF_INIT, resp = PX_BUF_INIT;
    uint8_t sig[64], other[32];
    memset(q, 0, pp->cols * 4);
    memcpy(other, commit, 32);
    other[0] ^= 1;
    px_assert_ok(px_pir_query_encode(&qb, other, q, pp->cols, &err), &err);
    px_assert_fails(px_lambda_serve(a.l, qb.data, qb.len, &resp, sig, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "another hint"));
    px_buf_reset(&qb);
    px_assert_ok(px_pir_query_encode(&qb, commit, q, pp->cols - 1 ? pp->cols - 1 : 2, &err), &err);
    px_assert_fails(px_lambda_serve(a.l, qb.data, qb.len, &resp, sig, &err), &err, PX_E_INVALID);
    px_assert_fails(px_lambda_serve(a.l, qb.data, 10, &resp, sig, &err), &err, PX_E_INVALID);
    px_assert_fails(px_lambda_serve(a.l, (const uint8_t *)"hello", 5, &resp, sig, &err), &err, PX_E_INVALID);
    assert_int_equal(resp.len, 0);
    assert_true(px_lambda_serving(a.l)); /* refusals do not stop it */
    px_buf_free(&qb);
    free(q);
    free(ans);
    free(hint);
    px_pir_info_free(&info);
    px_buf_free(&bundle);
    px_step_result_free(&r);
    gone(&a);
    px_buf_free(&doc);
    px_buf_free(&stream);
    dp_task_free(&t);
}

/* The wrong table, in every way it can be wrong, is refused with a signed
 * bad-input proof, and such an instance serves nothing. */
static void test_wrong_tables(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    dp_task t;
    dp_task_make(&t, ROWS);
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, stream = PX_BUF_INIT;
    px_assert_ok(px_pir_table_build(&doc, t.receipt.data, t.receipt.len, t.opening.data, t.opening.len, t.rows, ROWS,
                                    t.cols, COLS, &err), &err);
    /* Another table than the manifest asks for. */
    uint8_t other[32];
    px_random(other, 32);
    table_stream(&stream, &doc, 1 << 20);
    step_refused(&f, other, &stream, "another table");
    /* A part missing. */
    px_buf_reset(&stream);
    px_buf cut = PX_BUF_INIT;
    px_buf_append(&cut, doc.data, doc.len - 1, &err);
    table_stream(&stream, &cut, 1 << 20);
    step_refused(&f, t.result, &stream, "invalid JSON");
    /* Values that are not the receipt's result. */
    px_buf bad = PX_BUF_INIT;
    t.opening.data[t.opening.len - 1] ^= 1;
    assert_int_equal(px_pir_table_build(&bad, t.receipt.data, t.receipt.len, t.opening.data, t.opening.len, t.rows,
                                        ROWS, t.cols, COLS, &err), -1);
    assert_non_null(strstr(err.msg, "not the result its receipt names"));
    t.opening.data[t.opening.len - 1] ^= 1;
    /* A failure receipt; a row named twice; the wrong number of values. */
    px_buf fr = PX_BUF_INIT;
    px_buf_append(&fr, t.receipt.data, t.receipt.len - 1, &err);
    px_buf_append_str(&fr, ",\"outcome\":\"failed\"}", &err);
    assert_int_equal(px_pir_table_build(&bad, fr.data, fr.len, t.opening.data, t.opening.len, t.rows, ROWS, t.cols,
                                        COLS, &err), -1);
    assert_non_null(strstr(err.msg, "failed"));
    char *keep = t.rows[3];
    t.rows[3] = t.rows[4];
    assert_int_equal(px_pir_table_build(&bad, t.receipt.data, t.receipt.len, t.opening.data, t.opening.len, t.rows,
                                        ROWS, t.cols, COLS, &err), -1);
    assert_non_null(strstr(err.msg, "appears twice"));
    t.rows[3] = keep;
    assert_int_equal(px_pir_table_build(&bad, t.receipt.data, t.receipt.len, t.opening.data, t.opening.len, t.rows,
                                        ROWS - 1, t.cols, COLS, &err), -1);
    assert_non_null(strstr(err.msg, "36 rows of 2 columns, but 74 values"));
    /* A stream that is not a table dataset (one blob field only). */
    px_schema s;
    memset(&s, 0, sizeof s);
    s.nfields = 1;
    snprintf(s.fields[0].name, sizeof s.fields[0].name, "bytes");
    s.fields[0].type = PX_FIELD_BLOB;
    s.user_field = PX_NO_USER_FIELD;
    px_buf_reset(&stream);
    px_value v = {PX_FIELD_BLOB, 0, 0, doc.data, (uint32_t)doc.len};
    px_assert_ok(px_records_begin(&stream, &s, 1, &err), &err);
    px_assert_ok(px_records_append(&stream, &s, &v, 0, &err), &err);
    step_refused(&f, t.result, &stream, "fields");
    px_buf_free(&fr);
    px_buf_free(&bad);
    px_buf_free(&cut);
    px_buf_free(&doc);
    px_buf_free(&stream);
    dp_task_free(&t);
}

/* After the manifest's deadline the instance answers nothing. */
static void test_deadline(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    dp_task t;
    dp_task_make(&t, ROWS);
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, stream = PX_BUF_INIT;
    px_assert_ok(px_pir_table_build(&doc, t.receipt.data, t.receipt.len, t.opening.data, t.opening.len, t.rows, ROWS,
                                    t.cols, COLS, &err), &err);
    table_stream(&stream, &doc, 4096);
    inst a;
    born(&f, &a, t.result, px_now_ms() + 1500);
    px_step_result r;
    px_exec_proof p;
    step(&f, &a, &stream, &r, &p);
    assert_string_equal(p.status, PX_STATUS_OK);
    assert_true(px_lambda_serving(a.l));
    while (px_lambda_serving(a.l)) {
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
    px_buf resp = PX_BUF_INIT;
    uint8_t sig[64];
    px_assert_fails(px_lambda_serve(a.l, (const uint8_t *)"x", 1, &resp, sig, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "deadline"));
    px_step_result_free(&r);
    gone(&a);
    px_buf_free(&doc);
    px_buf_free(&stream);
    dp_task_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_table),
        cmocka_unit_test(test_wrong_tables),
        cmocka_unit_test(test_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
