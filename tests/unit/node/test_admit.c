/* A POD node and a log node (pixiud's code, in this process) over real
 * HTTP: the POD admits a good plan and releases its data sealed to the
 * attested first stage; it refuses a replayed plan, a plan that skips the
 * DP stage, an instance whose build is not the POD's own (naming the
 * component that differs) until the POD's owner adds that build, and a
 * plan sent by someone who is not the manifest's consumer. */
#include "../exec/fixture.h"
#include "node/node.h"

typedef struct world {
    fx f;
    char dir[40];
    px_signer log_key, stranger;
    px_node pod, log;
} world;

static void write_key(const char *path, const px_signer *s) {
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    px_assert_ok(px_signer_format(s, &b, &err), &err);
    px_assert_ok(px_file_write_atomic(path, b.data, b.len, 0600, &err), &err);
    px_buf_free(&b);
}

static void add_member(px_buf *b, const char *id, const char *url, const px_signer *s, const px_signer *platform,
                       const char *roles) {
    px_err err = {0};
    px_verifier v;
    px_signer_verifier(s, &v);
    px_buf_printf(b, &err, "%s{\"id\":\"%s\",\"url\":\"%s\",\"signing_key\":\"", b->len > 60 ? "," : "", id, url);
    px_assert_ok(px_verifier_format(&v, b, &err), &err);
    if (platform) {
        px_signer_verifier(platform, &v);
        px_buf_append_str(b, "\",\"platform_key\":\"", &err);
        px_assert_ok(px_verifier_format(&v, b, &err), &err);
        px_buf_append_str(b, "\",\"tee\":\"process\",\"level\":1", &err);
    } else {
        px_buf_append_str(b, "\"", &err);
    }
    px_buf_printf(b, &err, ",\"roles\":[%s]}", roles);
}

static void write_membership(world *w, uint16_t pod_port, uint16_t log_port) {
    px_buf b = PX_BUF_INIT;
    char url[64], path[96];
    px_buf_append_str(&b, "{\"schema\":\"urn:pixiu:membership:v1\",\"nodes\":[", NULL);
    add_member(&b, "consumer-1", "http://127.0.0.1:1", &w->f.consumer, NULL, "\"consumer\"");
    for (int i = 0; i < FX_PODS; i++) {
        char id[16];
        snprintf(id, sizeof id, "pod-%d", i);
        snprintf(url, sizeof url, "http://127.0.0.1:%u", i == 0 ? pod_port : 1);
        add_member(&b, id, url, &w->f.pods[i], NULL, "\"pod\"");
    }
    for (int i = 0; i < FX_STAGES; i++) {
        char id[16];
        snprintf(id, sizeof id, "exec-%d", i);
        px_signer node;
        px_err err = {0};
        px_assert_ok(px_signer_generate(&node, id, &err), &err);
        add_member(&b, id, "http://127.0.0.1:1", &node, &w->f.platform, "\"executor\"");
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u", log_port);
    add_member(&b, "log-1", url, &w->log_key, NULL, "\"log\"");
    px_buf_append_str(&b, "]}", NULL);
    snprintf(path, sizeof path, "%s/membership.json", w->dir);
    px_err err = {0};
    px_assert_ok(px_file_write_atomic(path, b.data, b.len, 0644, &err), &err);
    px_buf_free(&b);
}

/* The POD's dataset, the same schema as the fixture's manifest, with a
 * policy allowing the consumer any code behind DP. */
static void make_pod_db(world *w) {
    px_err err = {0};
    char path[96];
    snprintf(path, sizeof path, "%s/pod-0", w->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/pod-0/pod.db", w->dir);
    px_pod *p;
    px_pod_schema s;
    const char *schema = "{\"fields\":[{\"name\":\"user\",\"type\":\"text\"},{\"name\":\"amount\",\"type\":\"int\"}],"
                         "\"user\":\"user\"}";
    const char *csv = "user,amount\nalice,10\nbob,20\ncarol,30\n";
    const char *policy = "{\"consumers\":[\"consumer-1\"],\"code\":\"any-behind-dp\",\"require_dp\":true,"
                         "\"budget\":{\"epsilon\":\"10\",\"delta\":\"0\"}}";
    px_assert_ok(px_pod_open(&p, path, &err), &err);
    px_assert_ok(px_pod_schema_parse(&s, schema, strlen(schema), &err), &err);
    px_assert_ok(px_pod_dataset_create(p, "transactions", &s, &err), &err);
    px_assert_ok(px_pod_import(p, "transactions", PX_POD_CSV, (const uint8_t *)csv, strlen(csv), NULL, NULL, &err),
                 &err);
    px_assert_ok(px_pod_policy_set(p, "transactions", policy, strlen(policy), &err), &err);
    px_pod_close(p);
}

static void start_node(world *w, px_node *n, const char *id, const px_signer *key, unsigned roles) {
    px_err err = {0};
    px_node_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.dir, sizeof c.dir, "%s/%s", w->dir, id);
    snprintf(c.membership, sizeof c.membership, "%s/membership.json", w->dir);
    snprintf(c.key, sizeof c.key, "%s/%s.key", w->dir, id);
    snprintf(c.listen, sizeof c.listen, "127.0.0.1");
    c.roles = roles;
    write_key(c.key, key);
    px_assert_ok(px_node_start(n, &c, &err), &err);
}

static int setup(void **state) {
    static world w;
    px_err err = {0};
    memset(&w, 0, sizeof w);
    fx_init(&w.f);
    strcpy(w.dir, "/tmp/px-admit-node-XXXXXX");
    assert_non_null(mkdtemp(w.dir));
    px_assert_ok(px_signer_generate(&w.log_key, "log-1", &err), &err);
    px_assert_ok(px_signer_generate(&w.stranger, "consumer-1", &err), &err);
    /* The instances run this machine's build, which the POD node (started
     * from the same directory) runs too and so accepts by default. */
    static px_lambda_build own;
    px_assert_ok(px_lambda_build_init(&own, PX_BUILD_DIR "/pixiu_worker", &err), &err);
    w.f.build = own.build;
    memcpy(w.f.build_digest, own.digest, 32);
    px_lambda_build_free(&own);
    make_pod_db(&w);
    write_membership(&w, 1, 1);
    start_node(&w, &w.log, "log-1", &w.log_key, PX_ROLE_LOG);
    start_node(&w, &w.pod, "pod-0", &w.f.pods[0], PX_ROLE_POD);
    /* Now the ports are known; the nodes reload the membership. */
    usleep(20000); /* a new mtime */
    write_membership(&w, px_http_server_port(w.pod.srv), px_http_server_port(w.log.srv));
    *state = &w;
    return 0;
}

static int teardown(void **state) {
    world *w = *state;
    px_node_stop(&w->pod);
    px_node_stop(&w->log);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
    assert_int_equal(system(cmd), 0);
    fx_free(&w->f);
    return 0;
}

/* POST the plan to the POD as `who`; the status, and the reply in out. */
static int admit(world *w, const px_signer *who, const px_buf *plan, px_buf *out) {
    px_err err = {0};
    char base[64];
    int status = 0;
    snprintf(base, sizeof base, "http://127.0.0.1:%u", px_http_server_port(w->pod.srv));
    px_buf_reset(out);
    px_assert_ok(px_signed_call(who, "consumer-1", "pod-0", "POST", base, "/v1/admit", plan->data, plan->len, 30000,
                                1 << 24, &status, out, &err), &err);
    px_buf_cstr(out, &err);
    return status;
}

static void test_admit_release_replay(void **state) {
    world *w = *state;
    px_err err = {0};
    px_buf plan = PX_BUF_INIT, out = PX_BUF_INIT, sealed = PX_BUF_INIT, stream = PX_BUF_INIT;
    fx_plan(&w->f, &plan, -1);
    int st = admit(w, &w->f.consumer, &plan, &out);
    if (st != 200)
        fail_msg("admit: %d %s", st, (char *)out.data);
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

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_admit_release_replay), cmocka_unit_test(test_refusals),
                                       cmocka_unit_test(test_accepted_build)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
