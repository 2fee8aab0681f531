/* The PIR λ in its own worker process, as a node hosts it: spawned under
 * the process backend (seccomp, no threads), its step over the channel,
 * then kept to serve: queries in SERVE frames, answers back in SERVED
 * frames signed by the instance and checked by the host; a refused query
 * leaves it serving; a kind that does not serve is reaped after its step. */
#include "pir_table_fixture.h"

#define WORKER PX_BUILD_DIR "/pixiu_worker"

static void test_worker_serves(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    dp_task t;
    dp_task_make(&t, ROWS);
    px_err err = {0};
    px_buf doc = PX_BUF_INIT, stream = PX_BUF_INIT, cfg = PX_BUF_INIT;
    px_assert_ok(px_pir_table_build(&doc, t.receipt.data, t.receipt.len, t.opening.data, t.opening.len, t.rows, ROWS,
                                    t.cols, COLS, &err), &err);
    table_stream(&stream, &doc, 512);
    char params[128], hex[65];
    px_hex_encode(hex, t.result, 32);
    snprintf(params, sizeof params, "{\"table\":\"%s\"}", hex);
    fx_config_kind(&f, &cfg, 0, f.successor.pk, 1, "pir", params);
    uint8_t nonce[32];
    px_random(nonce, 32);
    px_lambda_host h;
    px_lambda_host_req req = {&px_tee_process, WORKER, NULL, &f.platform, "node-a", "pir", NULL,
                              cfg.data, cfg.len, nonce, 0, 10, 20000};
    px_assert_ok(px_lambda_host_start(&h, &req, &err), &err);
    h.serve = 1;
    px_buf rel = PX_BUF_INIT, sealed = PX_BUF_INIT, bundle = PX_BUF_INIT;
    fx_release(&f, &rel, &f.pod, stream.data, stream.len, h.box_pk);
    fx_seal(&sealed, &stream, h.box_pk);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result r;
    px_assert_ok(px_lambda_host_step(&h, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &r, &err), &err);
    assert_true(r.ok);
    assert_true(h.serving);
    px_exec_proof p;
    px_assert_ok(px_exec_proof_verify(&p, r.proof.data, r.proof.len, h.sign_pk, &err), &err);
    uint8_t commit[32];
    px_assert_ok(px_open_committed(&bundle, commit, r.outputs[0].data, r.outputs[0].len, &f.successor, &err), &err);
    px_pir_hint_view hv;
    uint32_t *hint = NULL;
    px_assert_ok(px_pir_hint_parse(&hv, bundle.data, bundle.len, &err), &err);
    px_assert_ok(px_pir_hint_copy(&hv, &hint, &err), &err);
    const px_pir_params *pp = &hv.params;
    uint32_t *q = malloc(pp->cols * 4), *ans = malloc(pp->rows * 4);
    for (uint32_t row = 0; row < ROWS; row += 9) {
        px_pir_secret sec;
        px_buf qb = PX_BUF_INIT, resp = PX_BUF_INIT;
        uint8_t sig[64], qd[32];
        px_assert_ok(px_pir_query(pp, row, &sec, q, &err), &err);
        px_assert_ok(px_pir_query_encode(&qb, commit, q, pp->cols, &err), &err);
        px_assert_ok(px_lambda_host_serve(&h, f.manifest, commit, qb.data, qb.len, &resp, sig, &err), &err);
        px_assert_ok(px_pir_answer_parse(resp.data, resp.len, pp->rows, qd, ans, &err), &err);
        uint8_t rec[COLS * 8];
        double v[COLS];
        px_assert_ok(px_pir_decode(pp, hint, &sec, ans, row, rec, &err), &err);
        memcpy(v, rec, sizeof v);
        assert_true(v[0] == row * 10 + 0.5 && v[1] == row * 10 + 1.5);
        /* A query for another hint is refused, and the worker goes on. */
        qb.data[8] ^= 1;
        px_buf_reset(&resp);
        px_assert_fails(px_lambda_host_serve(&h, f.manifest, commit, qb.data, qb.len, &resp, sig, &err), &err,
                        PX_E_INVALID);
        assert_non_null(strstr(err.msg, "another hint"));
        assert_true(h.serving);
        px_pir_secret_wipe(&sec);
        px_buf_free(&qb);
        px_buf_free(&resp);
    }
    /* The host checks the signature against another output: refused, and a
     * worker that signs for something else is dropped. */
    px_buf qb = PX_BUF_INIT, resp = PX_BUF_INIT;
    uint8_t sig[64], wrong[32];
    memcpy(wrong, commit, 32);
    wrong[5] ^= 1;
    px_pir_secret sec;
    px_assert_ok(px_pir_query(pp, 0, &sec, q, &err), &err);
    px_assert_ok(px_pir_query_encode(&qb, commit, q, pp->cols, &err), &err);
    px_assert_fails(px_lambda_host_serve(&h, f.manifest, wrong, qb.data, qb.len, &resp, sig, &err), &err, PX_E_VERIFY);
    assert_false(h.serving);
    px_assert_fails(px_lambda_host_serve(&h, f.manifest, commit, qb.data, qb.len, &resp, sig, &err), &err, PX_E_STATE);
    px_lambda_host_free(&h);
    px_step_result_free(&r);
    free(q);
    free(ans);
    free(hint);
    px_buf *bufs[] = {&doc, &stream, &cfg, &rel, &sealed, &bundle, &qb, &resp};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        px_buf_free(bufs[i]);
    dp_task_free(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_worker_serves)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
