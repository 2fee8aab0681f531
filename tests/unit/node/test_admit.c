/* A POD node and a log node (pixiud's code, in this process) over real
 * HTTP: the POD admits a good plan and releases its data sealed to the
 * attested first stage; it refuses a replayed plan, a plan that skips the
 * DP stage, an instance whose build is not the POD's own (naming the
 * component that differs) until the POD's owner adds that build, and a
 * plan sent by someone who is not the manifest's consumer. It answers in
 * PXJB to a client that asks for it. */
#include "node_world.h"

static int setup(void **state) {
    static world w;
    nw_setup(&w, "10", PX_ROLE_LOG);
    *state = &w;
    return 0;
}

static int teardown(void **state) {
    nw_teardown(*state);
    return 0;
}

#define admit nw_admit

static void test_admit_release_replay(void **state) {
    world *w = *state;
    px_err err = {0};
    px_buf plan = PX_BUF_INIT, out = PX_BUF_INIT, sealed = PX_BUF_INIT, stream = PX_BUF_INIT;
    fx_plan(&w->f, &plan, -1);
    int st = admit(w, &w->f.consumer, &plan, &out);
    if (st != 200)
        fail_msg("admit: %d %s", st, (char *)out.data);
    assert_int_equal(out.data[0], '{'); /* no Accept: JSON, as ever */
    json_t *o = px_json_parse(out.data, out.len, 1 << 24, &err);
    json_t *rel = json_array_get(json_object_get(o, "releases"), 0);
    assert_non_null(rel);
    /* Sealed to the attested stage-0 instance: it, and only it, opens it. */
    px_assert_ok(px_json_b64(rel, "sealed", &sealed, &err), &err);
    px_assert_fails(px_seal_open(&stream, sealed.data, sealed.len, &w->f.inst[1].box, &err), &err, PX_E_VERIFY);
    uint8_t commit[32];
    px_assert_ok(px_open_committed(&stream, commit, sealed.data, sealed.len, &w->f.inst[0].box, &err), &err);
    px_records_reader r;
    px_assert_ok(px_records_open(&r, stream.data, stream.len, &err), &err);
    assert_int_equal(r.count, 3);
    /* The release statement is in the log, signed by the POD. */
    px_buf env = PX_BUF_INIT;
    px_assert_ok(px_json_b64(rel, "release", &env, &err), &err);
    px_entry e;
    px_assert_ok(px_entry_parse(&e, 0, env.data, env.len, &err), &err);
    assert_int_equal(e.kind, PX_ENTRY_RELEASE);
    /* The public statement names the sealed payload by its commitment,
     * not by a digest of the records. */
    assert_memory_equal(e.st.subjects[0].sha256, commit, 32);
    uint8_t plain[32];
    px_sha256(plain, stream.data, stream.len);
    assert_memory_not_equal(e.st.subjects[0].sha256, plain, 32);
    px_assert_ok(px_dsse_verify_pk(&e.env, w->f.pods[0].kp.pk, &err), &err);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u/log", px_http_server_port(w->log.srv));
    px_entry *found;
    size_t n;
    px_assert_ok(px_logread_entries(base, "manifest", w->f.m.id, &found, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_memory_equal(found[0].id, e.id, 32);
    px_entry_free(&found[0]);
    free(found);
    px_entry_free(&e);
    json_decref(o);
    /* The same plan again, and a new plan for the same manifest. */
    assert_int_equal(admit(w, &w->f.consumer, &plan, &out), 409);
    assert_non_null(strstr((char *)out.data, "replayed"));
    px_buf_reset(&plan);
    fx_plan(&w->f, &plan, -1);
    assert_int_equal(admit(w, &w->f.consumer, &plan, &out), 409);
    px_buf_free(&plan);
    px_buf_free(&out);
    px_buf_free(&sealed);
    px_buf_free(&stream);
    px_buf_free(&env);
}

static void test_refusals(void **state) {
    world *w = *state;
    px_buf plan = PX_BUF_INIT, out = PX_BUF_INIT;
    /* The task stage seals straight to the receiver: DP is skipped. */
    fx_new_manifest(&w->f, FX_STAGES_JSON);
    fx_plan(&w->f, &plan, 2);
    assert_int_equal(admit(w, &w->f.consumer, &plan, &out), 403);
    assert_non_null(strstr((char *)out.data, "not an attested key of stage 2 (dp)"));
    /* An instance whose sandbox runner is not the POD's. */
    px_buf_reset(&plan);
    fx_new_manifest(&w->f, FX_STAGES_JSON);
    w->f.inst[1].bad_measurement = 1;
    fx_plan(&w->f, &plan, -1);
    w->f.inst[1].bad_measurement = 0;
    assert_int_equal(admit(w, &w->f.consumer, &plan, &out), 422);
    if (!strstr((char *)out.data, "stage 1 (wasm) partition 0 on exec-1: evidence: build not accepted: "
                                  "component \\\"runner\\\" differs (sha256 ")) /* JSON */
        fail_msg("refusal: %s", (char *)out.data);
    /* Instances that answer to a log other than the network's: their
     * silence there would prove nothing to anyone reading this log. */
    px_buf_reset(&plan);
    fx_new_manifest(&w->f, FX_STAGES_JSON);
    px_verifier elsewhere;
    px_signer_verifier(&w->stranger, &elsewhere);
    w->f.other_log = &elsewhere;
    fx_plan(&w->f, &plan, -1);
    w->f.other_log = NULL;
    assert_int_equal(admit(w, &w->f.consumer, &plan, &out), 403);
    assert_non_null(strstr((char *)out.data, "not in the network's log"));
    /* A whole plan is not what a POD admits: it is asked for its path. */
    px_buf_reset(&plan);
    fx_new_manifest(&w->f, FX_STAGES_JSON);
    fx_plan(&w->f, &plan, -1);
    assert_int_equal(nw_admit_raw(w, &w->f.consumer, &plan, &out), 400);
    assert_non_null(strstr((char *)out.data, "plan path: "));
    /* Someone else's node key under the consumer's name. */
    px_buf_reset(&plan);
    fx_new_manifest(&w->f, FX_STAGES_JSON);
    fx_plan(&w->f, &plan, -1);
    assert_int_equal(admit(w, &w->stranger, &plan, &out), 401);
    /* None of these was charged: the budget holds one task's ε. */
    px_err err = {0};
    px_pod_budget_status st;
    px_assert_ok(px_pod_budget_status_get(w->pod.pod, "transactions", NULL, &st, &err), &err);
    assert_int_equal(st.eps_spent, 500000000); /* 0.5 in units of 1e-9 */
    px_buf_free(&plan);
    px_buf_free(&out);
}

/* The POD's owner accepts another build (`pixiu pod policy build add`):
 * an instance running it is admitted; removed again, it is refused. */
static void test_accepted_build(void **state) {
    world *w = *state;
    px_err err = {0};
    px_buf plan = PX_BUF_INIT, out = PX_BUF_INIT;
    static px_tee_build other;
    uint8_t d[32];
    other = w->f.build;
    other.c[1].sha256[0] ^= 1; /* as fx_evidence does for bad_measurement */
    px_assert_ok(px_tee_build_digest(d, &other, &err), &err);
    px_assert_ok(px_pod_build_add(w->pod.pod, d, &err), &err);
    px_assert_ok(px_pod_build_add(w->pod.pod, d, &err), &err); /* again: no-op */
    uint8_t(*list)[32];
    size_t n;
    px_assert_ok(px_pod_build_list(w->pod.pod, &list, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_memory_equal(list[0], d, 32);
    free(list);
    fx_new_manifest(&w->f, FX_STAGES_JSON);
    w->f.inst[1].bad_measurement = 1;
    fx_plan(&w->f, &plan, -1);
    int st = admit(w, &w->f.consumer, &plan, &out);
    if (st != 200)
        fail_msg("admit with an added build: %d %s", st, (char *)out.data);
    px_assert_ok(px_pod_build_remove(w->pod.pod, d, &err), &err);
    px_assert_fails(px_pod_build_remove(w->pod.pod, d, &err), &err, PX_E_NOTFOUND);
    px_buf_reset(&plan);
    fx_new_manifest(&w->f, FX_STAGES_JSON);
    fx_plan(&w->f, &plan, -1);
    w->f.inst[1].bad_measurement = 0;
    assert_int_equal(admit(w, &w->f.consumer, &plan, &out), 422);
    assert_non_null(strstr((char *)out.data, "component \\\"runner\\\" differs"));
    px_buf_free(&plan);
    px_buf_free(&out);
}

/* A client that asks for PXJB (as the dispatcher does) gets the release
 * as attachments: the same sealed data, opened by the same instance; one
 * that does not ask gets JSON (test_admit_release_replay). */
static void test_admit_jb_reply(void **state) {
    world *w = *state;
    px_err err = {0};
    px_buf plan = PX_BUF_INIT, path = PX_BUF_INIT, out = PX_BUF_INIT, sealed = PX_BUF_INIT, env = PX_BUF_INIT,
           stream = PX_BUF_INIT;
    px_plan p;
    fx_new_manifest(&w->f, FX_STAGES_JSON);
    fx_plan(&w->f, &plan, -1);
    px_assert_ok(px_plan_parse(&p, plan.data, plan.len, &err), &err);
    px_assert_ok(px_plan_path(&path, &p, "pod-0", &err), &err);
    px_plan_free(&p);
    char base[64];
    int status = 0;
    snprintf(base, sizeof base, "http://127.0.0.1:%u", px_http_server_port(w->pod.srv));
    px_http_header h[] = {{"Content-Type", "application/json"}, {"Accept", PX_JB_CONTENT_TYPE}};
    px_assert_ok(px_signed_call_with(&w->f.consumer, "consumer-1", "pod-0", "POST", base, "/v1/admit", h, 2, path.data,
                                     path.len, 30000, 1 << 24, &status, &out, &err),
                 &err);
    if (status != 200)
        fail_msg("admit: %d %.*s", status, (int)out.len, (char *)out.data);
    assert_true(px_jb_is(out.data, out.len));
    json_t *doc;
    px_jb_view v;
    px_assert_ok(px_jb_parse(out.data, out.len, 1 << 24, &doc, &v, &err), &err);
    assert_int_equal(v.n, 2);
    json_t *rel = json_array_get(json_object_get(doc, "releases"), 0);
    assert_true(json_is_object(json_object_get(rel, "sealed"))); /* {"blob": k}, not base64 */
    px_assert_ok(px_jb_bytes(&v, rel, "sealed", &sealed, &err), &err);
    px_assert_ok(px_jb_bytes(&v, rel, "release", &env, &err), &err);
    uint8_t commit[32];
    px_assert_ok(px_open_committed(&stream, commit, sealed.data, sealed.len, &w->f.inst[0].box, &err), &err);
    px_entry e;
    px_assert_ok(px_entry_parse(&e, 0, env.data, env.len, &err), &err);
    assert_int_equal(e.kind, PX_ENTRY_RELEASE);
    assert_memory_equal(e.st.subjects[0].sha256, commit, 32);
    px_entry_free(&e);
    json_decref(doc);
    px_jb_view_free(&v);
    /* A refusal stays JSON whatever was asked: the same path replayed. */
    px_assert_ok(px_signed_call_with(&w->f.consumer, "consumer-1", "pod-0", "POST", base, "/v1/admit", h, 2, path.data,
                                     path.len, 30000, 1 << 24, &status, (px_buf_reset(&out), &out), &err),
                 &err);
    assert_int_equal(status, 409);
    assert_int_equal(out.data[0], '{');
    px_buf_free(&plan);
    px_buf_free(&path);
    px_buf_free(&out);
    px_buf_free(&sealed);
    px_buf_free(&env);
    px_buf_free(&stream);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_admit_release_replay), cmocka_unit_test(test_refusals),
                                       cmocka_unit_test(test_accepted_build), cmocka_unit_test(test_admit_jb_reply)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
