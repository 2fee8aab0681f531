/* A POD hosting stages at the POD (docs/pod.md, "Stages at the POD"): the
 * "at_pod" policy refuses, naming the rule, a POD that hosts nothing, a
 * consumer or code not on its lists, a pad below its minimum, limits above
 * its own, a campaign targeting a topic it opted out of; its frequency
 * caps hold inside the ledger's transaction, also for admissions at once;
 * a release to a POD-side instance states no counts and withholds the
 * records of opted-out topics; and the inbox keeps a row per campaign. */
#include <pthread.h>

#include "pod_test.h"
#include "pixiu/proof.h"

static const uint8_t code_a[32] = {0xaa}, code_b[32] = {0xbb};

static const char hosting_policy[] =
    "{\"consumers\":[\"adco\"],\"code\":\"any-behind-dp\",\"require_dp\":true,"
    "\"budget\":{\"epsilon\":\"100\",\"delta\":\"0\"},"
    "\"at_pod\":{\"consumers\":[\"adco\"],\"code\":[\"aa00000000000000000000000000000000000000000000000000000000000000\"],"
    "\"limits\":{\"cpu_ms\":1000,\"mem_mb\":64},\"min_pad_ms\":250,\"per_day\":3,\"per_day_consumer\":2,"
    "\"opt_out\":[\"health\"],\"topic_field\":\"note_topic\"}}";

static const char *const games[] = {"games"}, *const health[] = {"games", "health"};

static void stages(px_pod_stage_req st[2], const uint8_t *code, uint32_t pad, const char *const *topics, size_t nt) {
    memset(st, 0, 2 * sizeof *st);
    st[0] = (px_pod_stage_req){.kind = "wasm", .code_digest = code, .level = 1, .at_pod = 1, .pad_ms = pad,
                               .cpu_ms = 500, .mem_mb = 32, .topics = topics, .ntopics = nt};
    st[1] = (px_pod_stage_req){.kind = "dp", .level = 1};
}

static void refused(const px_pod_policy *pol, const px_pod_request *req, const char *why) {
    px_err err = {0};
    px_assert_fails(px_pod_policy_check(pol, req, &err), &err, PX_E_DENIED);
    if (!strstr(err.msg, why))
        fail_msg("refusal \"%s\" does not say \"%s\"", err.msg, why);
}

static void test_policy(void **state) {
    (void)state;
    px_pod_policy pol;
    px_err err = {0};
    px_assert_ok(px_pod_policy_parse(&pol, hosting_policy, strlen(hosting_policy), &err), &err);
    assert_true(pol.at_pod.present);
    px_pod_stage_req st[2];
    stages(st, code_a, 300, games, 1);
    px_pod_request req = {"adco", "tx", st, 2, NULL, 0};
    px_assert_ok(px_pod_policy_check(&pol, &req, &err), &err);
    req.consumer = "other";
    refused(&pol, &req, "consumer \"other\"");
    req.consumer = "adco";
    stages(st, code_b, 300, games, 1);
    refused(&pol, &req, "is not on the list of code dataset \"tx\" hosts at the POD");
    stages(st, code_a, 100, games, 1);
    refused(&pol, &req, "pads its timing to 100 ms; dataset \"tx\" needs at least 250");
    stages(st, code_a, 300, health, 2);
    refused(&pol, &req, "targets topic \"health\", which dataset \"tx\" opted out of");
    stages(st, code_a, 300, games, 1);
    st[0].cpu_ms = 5000;
    refused(&pol, &req, "asks 5000 ms of CPU per run; dataset \"tx\" hosts at most 1000");
    st[0].cpu_ms = 0;
    refused(&pol, &req, "asks an unstated amount of CPU per run");
    stages(st, code_a, 300, games, 1);
    st[0].mem_mb = 128;
    refused(&pol, &req, "asks 128 MB of memory per run; dataset \"tx\" hosts at most 64");
    st[0].mem_mb = 0;
    refused(&pol, &req, "asks an unstated amount of memory per run");
    px_pod_policy_free(&pol);
    /* Without "at_pod" a dataset hosts nothing. */
    const char *plain = "{\"consumers\":[\"adco\"],\"code\":\"any-behind-dp\",\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}";
    px_assert_ok(px_pod_policy_parse(&pol, plain, strlen(plain), &err), &err);
    stages(st, code_a, 300, games, 1);
    refused(&pol, &req, "hosts no stage (its policy has no \"at_pod\")");
    px_pod_policy_free(&pol);
    /* Strict parsing. */
    static const char *const bad[] = {
        "{\"consumers\":[],\"code\":[],\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"},\"at_pod\":{\"consumers\":[]}}",
        "{\"consumers\":[],\"code\":[],\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"},\"at_pod\":{\"consumers\":[],"
        "\"code\":[],\"per_dya\":1}}",
        "{\"consumers\":[],\"code\":[],\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"},\"at_pod\":{\"consumers\":[],"
        "\"code\":[\"zz\"]}}",
        "{\"consumers\":[],\"code\":[],\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"},\"at_pod\":{\"consumers\":[],"
        "\"code\":[],\"limits\":{\"gpu\":1}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        px_assert_fails(px_pod_policy_parse(&pol, bad[i], strlen(bad[i]), &err), &err, PX_E_INVALID);
}

/* A dataset with a topic field, one record per topic. */
static void topic_pod(pod_fixture *f) {
    fixture_open(f);
    static const char schema[] =
        "{\"fields\":[{\"name\":\"id\",\"type\":\"text\"},{\"name\":\"user\",\"type\":\"text\"},"
        "{\"name\":\"note_topic\",\"type\":\"text\"}],\"user\":\"user\",\"key\":\"id\"}";
    static const char csv[] = "id,user,note_topic\n1,alice,games\n2,alice,health\n3,alice,books\n4,alice,health\n";
    px_pod_schema s;
    px_err err = {0};
    px_assert_ok(px_pod_schema_parse(&s, schema, strlen(schema), &err), &err);
    px_assert_ok(px_pod_dataset_create(f->pod, "tx", &s, &err), &err);
    px_assert_ok(px_pod_import(f->pod, "tx", PX_POD_CSV, (const uint8_t *)csv, strlen(csv), NULL, NULL, &err), &err);
    px_assert_ok(px_pod_policy_set(f->pod, "tx", hosting_policy, strlen(hosting_policy), &err), &err);
}

static int admit(px_pod *p, unsigned i, const char *consumer, px_err *err) {
    char m[65];
    uint8_t d[32];
    px_sha256(d, &i, sizeof i);
    px_hex_encode(m, d, 32);
    px_pod_stage_req st[2];
    stages(st, code_a, 300, games, 1);
    px_pod_request req = {consumer, "tx", st, 2, NULL, 0};
    return px_pod_admit(p, m, &req, "1", "0", err);
}

static void test_frequency_caps(void **state) {
    (void)state;
    pod_fixture f;
    px_err err = {0};
    topic_pod(&f);
    const char *consumers_json =
        "{\"consumers\":[\"adco\",\"other\"],\"code\":\"any-behind-dp\",\"budget\":{\"epsilon\":\"100\",\"delta\":\"0\"},"
        "\"at_pod\":{\"consumers\":[\"*\"],\"code\":[\"aa00000000000000000000000000000000000000000000000000000000000000\"],"
        "\"per_day\":3,\"per_day_consumer\":2}}";
    px_assert_ok(px_pod_policy_set(f.pod, "tx", consumers_json, strlen(consumers_json), &err), &err);
    px_assert_ok(admit(f.pod, 1, "adco", &err), &err);
    px_assert_ok(admit(f.pod, 2, "adco", &err), &err);
    px_assert_fails(admit(f.pod, 3, "adco", &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "frequency cap: dataset \"tx\" caps campaigns from consumer \"adco\" at 2"));
    px_assert_ok(admit(f.pod, 4, "other", &err), &err);
    px_assert_fails(admit(f.pod, 5, "other", &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "caps campaigns at 3 a day"));
    /* A refused campaign was not charged. */
    px_pod_budget_status bs;
    px_assert_ok(px_pod_budget_status_get(f.pod, "tx", NULL, &bs, &err), &err);
    assert_int_equal(bs.eps_spent, 3 * 1000000000LL);
    fixture_close(&f);
}

/* Eight admissions at once, a cap of three: exactly three get in. */
typedef struct race {
    const char *path;
    unsigned i;
    int ok;
} race;

static void *race_one(void *arg) {
    race *r = arg;
    px_pod *p;
    px_err err = {0};
    if (px_pod_open(&p, r->path, &err) == 0) {
        r->ok = admit(p, r->i, "adco", &err) == 0;
        px_pod_close(p);
    }
    return NULL;
}

static void test_caps_hold_at_once(void **state) {
    (void)state;
    pod_fixture f;
    px_err err = {0};
    topic_pod(&f);
    const char *cap =
        "{\"consumers\":[\"adco\"],\"code\":\"any-behind-dp\",\"budget\":{\"epsilon\":\"100\",\"delta\":\"0\"},"
        "\"at_pod\":{\"consumers\":[\"adco\"],\"code\":[\"aa00000000000000000000000000000000000000000000000000000000000000\"],"
        "\"per_day\":3}}";
    px_assert_ok(px_pod_policy_set(f.pod, "tx", cap, strlen(cap), &err), &err);
    race r[8];
    pthread_t th[8];
    for (unsigned i = 0; i < 8; i++) {
        r[i] = (race){f.path, 100 + i, 0};
        pthread_create(&th[i], NULL, race_one, &r[i]);
    }
    int ok = 0;
    for (unsigned i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ok += r[i].ok;
    }
    assert_int_equal(ok, 3);
    fixture_close(&f);
}

static void test_release_at_pod(void **state) {
    (void)state;
    pod_fixture f;
    px_err err = {0};
    topic_pod(&f);
    px_assert_ok(admit(f.pod, 1, "adco", &err), &err);
    px_signer key;
    px_assert_ok(px_signer_generate(&key, "pod-1", &err), &err);
    px_pod_policy pol;
    px_assert_ok(px_pod_policy_parse(&pol, hosting_policy, strlen(hosting_policy), &err), &err);
    px_box_keypair stage;
    px_box_keygen(&stage);
    char m[65];
    unsigned one = 1;
    uint8_t d[32];
    px_sha256(d, &one, sizeof one);
    px_hex_encode(m, d, 32);
    px_buf stream = PX_BUF_INIT, env = PX_BUF_INIT;
    px_assert_ok(px_pod_release_at_pod(f.pod, &key, "pod-1", m, "tx", stage.pk, &pol.at_pod, &stream, &env, &err),
                 &err);
    /* The health records stay home. */
    px_records_reader r;
    px_assert_ok(px_records_open(&r, stream.data + PX_COMMIT_HEADERBYTES, stream.len - PX_COMMIT_HEADERBYTES, &err),
                 &err);
    assert_int_equal(r.count, 2);
    px_value v[8];
    int f_topic = px_schema_find(&r.schema, "note_topic"), rc;
    while ((rc = px_records_next(&r, v, NULL, &err)) == 1)
        assert_false(v[f_topic].len == 6 && !memcmp(v[f_topic].p, "health", 6));
    assert_int_equal(rc, 0);
    /* The statement says "at": "pod" and no counts. */
    px_dsse e;
    px_assert_ok(px_dsse_parse(&e, env.data, env.len, &err), &err);
    px_buf_cstr(&e.payload, &err);
    assert_non_null(strstr((char *)e.payload.data, "\"at\":\"pod\""));
    assert_null(strstr((char *)e.payload.data, "\"records\""));
    px_dsse_free(&e);
    px_pod_policy_free(&pol);
    px_buf_free(&stream);
    px_buf_free(&env);
    fixture_close(&f);
}

static void item(px_inbox_item *it, unsigned i, int delivered) {
    px_err err = {0};
    memset(it, 0, sizeof *it);
    uint8_t d[32];
    px_sha256(d, &i, sizeof i);
    px_hex_encode(it->manifest, d, 32);
    strcpy(it->task, "campaign");
    strcpy(it->consumer, "adco");
    it->received_ms = 1000 + i;
    it->delivered = delivered;
    it->size = delivered ? 5 : 0;
    it->log_index = i;
    px_buf *b[] = {&it->manifest_env, &it->config, &it->evidence, &it->proof, &it->opening, &it->platform};
    for (size_t k = 0; k < 6; k++)
        px_assert_ok(px_buf_append(b[k], "x", 1, &err), &err);
}

static void test_inbox(void **state) {
    (void)state;
    pod_fixture f;
    px_err err = {0};
    fixture_open(&f);
    px_inbox_item a, b, *v;
    size_t n;
    item(&a, 1, 1);
    item(&b, 2, 0);
    px_assert_ok(px_pod_inbox_put(f.pod, &a, &err), &err);
    px_assert_ok(px_pod_inbox_put(f.pod, &b, &err), &err);
    /* A campaign is kept once. */
    px_assert_fails(px_pod_inbox_put(f.pod, &a, &err), &err, PX_E_STATE);
    px_assert_ok(px_pod_inbox_list(f.pod, 0, &v, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_true(v[0].delivered);
    int64_t id = v[0].id;
    px_inbox_items_free(v, n);
    px_assert_ok(px_pod_inbox_list(f.pod, 1, &v, &n, &err), &err);
    assert_int_equal(n, 2);
    px_inbox_items_free(v, n);
    px_inbox_item got;
    px_assert_ok(px_pod_inbox_get(f.pod, id, &got, &err), &err);
    assert_string_equal(got.manifest, a.manifest);
    assert_int_equal(got.opening.len, 1);
    px_inbox_item_free(&got);
    px_assert_ok(px_pod_inbox_delete(f.pod, id, &err), &err);
    px_assert_fails(px_pod_inbox_get(f.pod, id, &got, &err), &err, PX_E_NOTFOUND);
    px_assert_fails(px_pod_inbox_delete(f.pod, id, &err), &err, PX_E_NOTFOUND);
    px_inbox_item_free(&a);
    px_inbox_item_free(&b);
    fixture_close(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy),         cmocka_unit_test(test_frequency_caps),
        cmocka_unit_test(test_caps_hold_at_once), cmocka_unit_test(test_release_at_pod),
        cmocka_unit_test(test_inbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
