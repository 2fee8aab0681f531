/* The prover as a trust-λ stage, end to end in-process: a POD admits a
 * task, releases its dataset sealed to an attested prover instance, the
 * instance validates the release, proves the records, seals the output to
 * its successor and signs an execution proof carrying the exact counts. */
#include "pod_test.h"
#include "px_testlog.h"

#include "pixiu/lambda.h"
#include "pixiu/proof.h"

/* The commitment an opened output carried (checked by the successor). */
static uint8_t commit_scratch[32];

static const px_stage_kind *const table[] = {&px_lambda_aggregate_kind, &px_pod_stage_kind, NULL};

typedef struct world {
    pod_fixture f;
    px_signer platform, pod_key;
    px_source_signer bank;
    px_box_keypair successor;
    uint8_t manifest[32], worker[32]; /* worker: the digest of build */
    px_tee_build build;
    char manifest_hex[65];
    px_buf trust_cfg;
    uint64_t nsigned, nrecords;
} world;

static char *vkey_text(const px_signer *s) {
    px_verifier v;
    px_signer_verifier(s, &v);
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_verifier_format(&v, &b, &err), &err);
    return px_buf_cstr(&b, &err);
}

static void world_init(world *w) {
    px_err err = {0};
    memset(w, 0, sizeof *w);
    fixture_open(&w->f);
    px_assert_ok(px_signer_generate(&w->platform, "node-a", &err), &err);
    px_assert_ok(px_signer_generate(&w->pod_key, "pod-1", &err), &err);
    px_assert_ok(px_source_signer_generate(&w->bank, "bank.example", PX_SRC_P256, &err), &err);
    px_box_keygen(&w->successor);
    px_random(w->manifest, 32);
    uint8_t d[32];
    px_random(d, 32);
    px_assert_ok(px_tee_build_init(&w->build, NULL, &err), &err);
    px_assert_ok(px_tee_build_add(&w->build, "worker", d, &err), &err);
    px_assert_ok(px_tee_build_digest(w->worker, &w->build, &err), &err);
    px_hex_encode(w->manifest_hex, w->manifest, 32);
    /* a bank dataset, 60 % signed */
    px_buf csv = PX_BUF_INIT, schema = PX_BUF_INIT, k = PX_BUF_INIT;
    px_assert_ok(px_pod_demo_generate(&csv, &schema, 10, 8, 3, &w->bank, 600, &err), &err);
    px_pod_schema s;
    px_assert_ok(px_pod_schema_parse(&s, schema.data, schema.len, &err), &err);
    px_assert_ok(px_pod_dataset_create(w->f.pod, "bank", &s, &err), &err);
    px_assert_ok(px_source_key_format(&w->bank.pub, &k, &err), &err);
    px_assert_ok(px_pod_trust_add(w->f.pod, px_buf_cstr(&k, &err), &err), &err);
    px_assert_ok(px_pod_import(w->f.pod, "bank", PX_POD_CSV, csv.data, csv.len, NULL, NULL, &err), &err);
    const char *policy = "{\"consumers\":[\"analyst\"],\"code\":\"any-behind-dp\","
                         "\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}";
    px_assert_ok(px_pod_policy_set(w->f.pod, "bank", policy, strlen(policy), &err), &err);
    px_pod_dataset_info *dl;
    size_t nd;
    px_assert_ok(px_pod_dataset_list(w->f.pod, &dl, &nd, &err), &err);
    w->nrecords = dl[0].records;
    w->nsigned = dl[0].signed_records;
    free(dl);
    px_source_key *keys;
    size_t nk;
    px_assert_ok(px_pod_trust_list(w->f.pod, &keys, &nk, &err), &err);
    px_assert_ok(px_prover_config_format(&w->trust_cfg, keys, nk, 0, &err), &err);
    px_source_keys_free(keys, nk);
    px_buf_free(&csv);
    px_buf_free(&schema);
    px_buf_free(&k);
}

static void world_free(world *w) {
    px_signer_wipe(&w->platform);
    px_signer_wipe(&w->pod_key);
    px_source_signer_free(&w->bank);
    px_buf_free(&w->trust_cfg);
    fixture_close(&w->f);
}

/* An attested prover instance whose config trusts w's platform and POD. */
static px_lambda *prover_instance(world *w, const char *params, uint8_t spk[32], uint8_t bpk[32], px_buf *evidence) {
    char succ[65];
    px_hex_encode(succ, w->successor.pk, 32);
    char *pv = vkey_text(&w->platform), *dv = vkey_text(&w->pod_key), *lv = px_testlog_vkey_text();
    px_buf cfg = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_buf_printf(&cfg, &err,
                               "{\"manifest\":\"%s\",\"stage\":{\"index\":0,\"kind\":\"prover\"},"
                               "\"successors\":[\"%s\"],\"predecessors\":{\"platform_keys\":[\"%s\"],"
                               "\"min_level\":1,\"pods\":[\"%s\"]},\"log\":\"%s\",\"params\":%s}",
                               w->manifest_hex, succ, pv, dv, lv, params),
                 &err);
    free(pv);
    free(dv);
    free(lv);
    px_lambda *l;
    int rc = px_lambda_new(&l, table, w->worker, "prover", px_tee_builtin_code, cfg.data, cfg.len, &err);
    px_buf_free(&cfg);
    if (rc)
        return NULL;
    uint8_t m[32];
    px_lambda_public(l, spk, bpk, m);
    px_evidence ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.node, sizeof ev.node, "node-a");
    memcpy(ev.measurement, m, 32);
    ev.build = w->build;
    memcpy(ev.sign_pk, spk, 32);
    memcpy(ev.box_pk, bpk, 32);
    px_random(ev.nonce, 32);
    px_assert_ok(px_tee_process.attest(&ev, &w->platform, evidence, &err), &err);
    px_assert_ok(px_lambda_set_evidence(l, evidence->data, evidence->len, &err), &err);
    return l;
}

static json_t *proof_predicate(const px_buf *proof) {
    px_dsse e;
    px_statement st;
    px_err err = {0};
    px_assert_ok(px_dsse_parse(&e, proof->data, proof->len, &err), &err);
    px_assert_ok(px_statement_parse(&st, e.payload.data, e.payload.len, &err), &err);
    json_t *pred = json_incref(st.predicate);
    px_statement_free(&st);
    px_dsse_free(&e);
    return pred;
}

static int64_t count_of(json_t *pred, const char *name) {
    return (int64_t)json_integer_value(json_object_get(json_object_get(pred, "counts"), name));
}

static void run_world(int require) {
    world w;
    world_init(&w);
    px_err err = {0};
    uint8_t spk[32], bpk[32];
    px_buf evidence = PX_BUF_INIT, params = PX_BUF_INIT;
    /* the prover's params: the POD's trust store, in the chosen mode */
    px_assert_ok(px_buf_append(&params, w.trust_cfg.data, w.trust_cfg.len, &err), &err);
    if (require) {
        char *p = strstr(px_buf_cstr(&params, &err), "\"any\"");
        assert_non_null(p);
        px_buf fixed = PX_BUF_INIT;
        px_assert_ok(px_buf_printf(&fixed, &err, "%.*s\"authenticated\"%s", (int)(p - (char *)params.data),
                                   (char *)params.data, p + 5),
                     &err);
        px_buf_free(&params);
        params = fixed;
    }
    px_lambda *l = prover_instance(&w, px_buf_cstr(&params, &err), spk, bpk, &evidence);
    assert_non_null(l);

    /* admission and release to the attested key */
    px_pod_stage_req stages[3] = {{.kind = "prover", .code_digest = NULL, .level = 1}, {.kind = "wasm", .code_digest = (const uint8_t *)"01234567890123456789012345678901", .level = 1},
                                  {.kind = "dp", .code_digest = NULL, .level = 1}};
    px_pod_request req = {"analyst", "bank", stages, 3, NULL, 0};
    px_assert_ok(px_pod_admit(w.f.pod, w.manifest_hex, &req, "0.5", "0", &err), &err);
    px_buf stream = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, opened = PX_BUF_INIT;
    px_assert_ok(px_pod_release(w.f.pod, &w.pod_key, "pod-1", w.manifest_hex, "bank", bpk, &stream, &rel, &err), &err);
    px_assert_ok(px_seal(&sealed, stream.data, stream.len, bpk, &err), &err);

    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result r;
    px_assert_ok(px_lambda_step(l, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &r, &err), &err);
    if (!r.ok)
        fail_msg("prover step failed: %s", r.status);
    px_exec_proof p;
    px_assert_ok(px_lambda_proof_verify(&p, r.proof.data, r.proof.len, spk, &err), &err);
    assert_string_equal(p.kind, "prover");
    json_t *pred = proof_predicate(&r.proof);
    uint64_t alleged = w.nrecords - w.nsigned;
    assert_int_equal(count_of(pred, "records"), w.nrecords);
    assert_int_equal(count_of(pred, "authenticated"), w.nsigned);
    assert_int_equal(count_of(pred, "alleged"), require ? 0 : alleged);
    assert_int_equal(count_of(pred, "dropped"), require ? alleged : 0);
    json_decref(pred);

    /* the successor gets the proven records */
    assert_int_equal(r.noutputs, 1);
    px_assert_ok(px_open_committed(&opened, commit_scratch, r.outputs[0].data, r.outputs[0].len, &w.successor, &err), &err);
    px_records_reader rd;
    px_assert_ok(px_records_open(&rd, opened.data, opened.len, &err), &err);
    assert_int_equal(rd.count, require ? w.nsigned : w.nrecords);
    assert_int_equal(rd.schema.nfields, 8);
    uint64_t flagged = 0;
    px_value v[8];
    uint8_t flags;
    while (px_records_next(&rd, v, &flags, &err) == 1)
        flagged += flags == PX_REC_AUTHENTICATED;
    assert_int_equal(flagged, w.nsigned);

    px_step_result_free(&r);
    px_lambda_free(l);
    px_buf_free(&stream);
    px_buf_free(&rel);
    px_buf_free(&sealed);
    px_buf_free(&opened);
    px_buf_free(&evidence);
    px_buf_free(&params);
    world_free(&w);
}

static void test_release_to_prover_any(void **state) {
    (void)state;
    run_world(0);
}

static void test_release_to_prover_authenticated(void **state) {
    (void)state;
    run_world(1);
}

/* The same in a real worker process under the process backend (seccomp,
 * namespaces, limits): the prover, OpenSSL's P-256 included, must run
 * inside the filter. */
#define WORKER PX_BUILD_DIR "/pixiu_worker"

static void test_prover_in_worker(void **state) {
    (void)state;
    world w;
    world_init(&w);
    px_err err = {0};
    char succ[65];
    px_hex_encode(succ, w.successor.pk, 32);
    char *pv = vkey_text(&w.platform), *dv = vkey_text(&w.pod_key), *lv = px_testlog_vkey_text();
    px_buf cfg = PX_BUF_INIT;
    px_assert_ok(px_buf_printf(&cfg, &err,
                               "{\"manifest\":\"%s\",\"stage\":{\"index\":0,\"kind\":\"prover\"},"
                               "\"successors\":[\"%s\"],\"predecessors\":{\"platform_keys\":[\"%s\"],"
                               "\"min_level\":1,\"pods\":[\"%s\"]},\"log\":\"%s\",\"params\":%.*s}",
                               w.manifest_hex, succ, pv, dv, lv, (int)w.trust_cfg.len, (char *)w.trust_cfg.data),
                 &err);
    free(pv);
    free(dv);
    free(lv);
    uint8_t nonce[32];
    px_random(nonce, 32);
    px_lambda_host h;
    px_lambda_host_req req = {&px_tee_process, WORKER, NULL, &w.platform, "node-a", "prover", NULL,
                              cfg.data, cfg.len, nonce, 0, 10, 20000, 0};
    px_assert_ok(px_lambda_host_start(&h, &req, &err), &err);

    px_pod_stage_req stages[1] = {{.kind = "prover", .code_digest = NULL, .level = 1}};
    px_pod_request preq = {"analyst", "bank", stages, 1, NULL, 0};
    const char *policy = "{\"consumers\":[\"analyst\"],\"code\":[],\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}";
    px_assert_ok(px_pod_policy_set(w.f.pod, "bank", policy, strlen(policy), &err), &err);
    px_assert_ok(px_pod_admit(w.f.pod, w.manifest_hex, &preq, "0", "0", &err), &err);
    px_buf stream = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, opened = PX_BUF_INIT;
    px_assert_ok(px_pod_release(w.f.pod, &w.pod_key, "pod-1", w.manifest_hex, "bank", h.box_pk, &stream, &rel, &err),
                 &err);
    px_assert_ok(px_seal(&sealed, stream.data, stream.len, h.box_pk, &err), &err);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result r;
    px_assert_ok(px_lambda_host_step(&h, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &r, &err), &err);
    if (!r.ok)
        fail_msg("prover step in the worker failed: %s", r.status);
    json_t *pred = proof_predicate(&r.proof);
    assert_int_equal(count_of(pred, "authenticated"), w.nsigned);
    assert_int_equal(count_of(pred, "alleged"), w.nrecords - w.nsigned);
    json_decref(pred);
    px_assert_ok(px_open_committed(&opened, commit_scratch, r.outputs[0].data, r.outputs[0].len, &w.successor, &err), &err);
    px_records_reader rd;
    px_assert_ok(px_records_open(&rd, opened.data, opened.len, &err), &err);
    assert_int_equal(rd.count, w.nrecords);
    px_step_result_free(&r);
    px_lambda_host_free(&h);
    px_buf_free(&cfg);
    px_buf_free(&stream);
    px_buf_free(&rel);
    px_buf_free(&sealed);
    px_buf_free(&opened);
    world_free(&w);
}

/* Bad params are refused at birth, before any evidence exists. */
static void test_bad_params_refused_at_birth(void **state) {
    (void)state;
    world w;
    world_init(&w);
    uint8_t spk[32], bpk[32];
    px_buf evidence = PX_BUF_INIT;
    assert_null(prover_instance(&w, "{\"require\":\"maybe\",\"sources\":[]}", spk, bpk, &evidence));
    assert_null(
        prover_instance(&w, "{\"require\":\"any\",\"sources\":[\"forged+00000000+AQ==\"]}", spk, bpk, &evidence));
    px_buf_free(&evidence);
    world_free(&w);
}

int main(void) {
    px_err err = {0};
    if (px_crypto_init(&err))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_to_prover_any),
        cmocka_unit_test(test_release_to_prover_authenticated),
        cmocka_unit_test(test_bad_params_refused_at_birth),
        cmocka_unit_test(test_prover_in_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
