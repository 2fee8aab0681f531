/* Policy, the budget ledger under concurrent admissions (processes and
 * threads at once), refunds, restarts, and release statements. */
#include "pod_test.h"

#include <pthread.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "pixiu/proof.h"

#define N_PROCS 8
#define N_THREADS 4
#define TRIES_EACH 12

static const char policy_json[] =
    "{\"consumers\":[\"analyst\",\"lab\"],\"code\":\"any-behind-dp\","
    "\"min_level\":{\"default\":1,\"wasm\":1},\"require_dp\":true,"
    "\"budget\":{\"epsilon\":\"3\",\"delta\":\"1e-6\",\"per_consumer\":{\"epsilon\":\"2\",\"delta\":\"1e-6\"}}}";

static const uint8_t code_a[32] = {0xaa}, code_b[32] = {0xbb};

static px_pod_stage_req stages_ok[3] = {
    {.kind = "prover", .code_digest = NULL, .level = 1},
    {.kind = "wasm", .code_digest = code_a, .level = 1},
    {.kind = "dp", .code_digest = NULL, .level = 1},
};

static void manifest_hex(char *out, unsigned tag, unsigned n) {
    uint8_t d[32];
    char in[32];
    snprintf(in, sizeof in, "m-%u-%u", tag, n);
    px_sha256(d, in, strlen(in));
    px_hex_encode(out, d, 32);
}

static void setup_pod(pod_fixture *f, const char *policy) {
    fixture_open(f);
    px_pod_schema s;
    test_schema(&s);
    px_err err = {0};
    px_assert_ok(px_pod_dataset_create(f->pod, "tx", &s, &err), &err);
    px_assert_ok(px_pod_import(f->pod, "tx", PX_POD_CSV, (const uint8_t *)"txn,user,amount,n,note\nt1,a,1,1,\n", 33,
                               NULL, NULL, &err),
                 &err);
    px_assert_ok(px_pod_policy_set(f->pod, "tx", policy, strlen(policy), &err), &err);
}

static int admit(px_pod *p, const char *m, const char *consumer, const char *eps, px_err *err) {
    px_pod_request req = {consumer, "tx", stages_ok, 3, NULL, 0};
    return px_pod_admit(p, m, &req, eps, "0", err);
}

static void test_policy_rules(void **state) {
    (void)state;
    px_pod_policy pol;
    px_err err = {0};
    px_assert_ok(px_pod_policy_parse(&pol, policy_json, strlen(policy_json), &err), &err);
    px_pod_request req = {"analyst", "tx", stages_ok, 3, NULL, 0};
    px_assert_ok(px_pod_policy_check(&pol, &req, &err), &err);
    req.consumer = "mallory";
    px_assert_fails(px_pod_policy_check(&pol, &req, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "consumer \"mallory\""));
    req.consumer = "lab";
    /* code after the DP stage (or no DP stage) is not behind DP */
    px_pod_stage_req late[3] = {{.kind = "prover", .code_digest = NULL, .level = 1}, {.kind = "dp", .code_digest = NULL, .level = 1}, {.kind = "wasm", .code_digest = code_a, .level = 1}};
    req.stages = late;
    px_assert_fails(px_pod_policy_check(&pol, &req, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "without a DP stage after it"));
    px_pod_stage_req nodp[2] = {{.kind = "prover", .code_digest = NULL, .level = 1}, {.kind = "wasm", .code_digest = code_a, .level = 1}};
    req.stages = nodp;
    req.nstages = 2;
    px_assert_fails(px_pod_policy_check(&pol, &req, &err), &err, PX_E_DENIED);
    /* TEE level too low */
    px_pod_stage_req low[3] = {{.kind = "prover", .code_digest = NULL, .level = 0}, {.kind = "wasm", .code_digest = code_a, .level = 1}, {.kind = "dp", .code_digest = NULL, .level = 1}};
    req.stages = low;
    req.nstages = 3;
    px_assert_fails(px_pod_policy_check(&pol, &req, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "TEE level 0"));
    px_pod_policy_free(&pol);

    /* an allow-list of code digests, a higher level for wasm */
    char pj[512], hex[65];
    px_hex_encode(hex, code_a, 32);
    snprintf(pj, sizeof pj,
             "{\"consumers\":[\"*\"],\"code\":[\"%s\"],\"min_level\":{\"wasm\":2},"
             "\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}",
             hex);
    px_assert_ok(px_pod_policy_parse(&pol, pj, strlen(pj), &err), &err);
    px_pod_stage_req listed[2] = {{.kind = "prover", .code_digest = NULL, .level = 1}, {.kind = "wasm", .code_digest = code_a, .level = 2}};
    req.consumer = "anyone";
    req.stages = listed;
    req.nstages = 2;
    px_assert_ok(px_pod_policy_check(&pol, &req, &err), &err);
    listed[1].level = 1;
    px_assert_fails(px_pod_policy_check(&pol, &req, &err), &err, PX_E_DENIED);
    listed[1].level = 2;
    listed[1].code_digest = code_b;
    px_assert_fails(px_pod_policy_check(&pol, &req, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "is not allowed"));
    px_pod_policy_free(&pol);

    const char *bad[] = {
        "{}",
        "{\"consumers\":[],\"code\":[]}",
        "{\"consumers\":[],\"code\":\"anything\",\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}",
        "{\"consumers\":[\"a b\"],\"code\":[],\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}",
        "{\"consumers\":[],\"code\":[\"zz\"],\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}",
        "{\"consumers\":[],\"code\":[],\"budget\":{\"epsilon\":\"-1\",\"delta\":\"0\"}}",
        "{\"consumers\":[],\"code\":[],\"budget\":{\"epsilon\":1,\"delta\":\"0\"}}",
        "{\"consumers\":[],\"code\":[],\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\",\"x\":1}}",
        "{\"consumers\":[],\"code\":[],\"min_level\":{\"wasm\":-1},\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}",
        "{\"consumers\":[],\"code\":[],\"require_dp\":1,\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}",
        "{\"consumers\":[],\"code\":[],\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"},\"other\":true}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (px_pod_policy_parse(&pol, bad[i], strlen(bad[i]), &err) != -1)
            fail_msg("policy %zu accepted", i);
}


/* A policy that needs a level, or lists the executors it accepts, refuses
 * a task naming the instance that breaks it. */
static void test_policy_instances(void **state) {
    (void)state;
    px_pod_policy pol;
    px_err err = {0};
    const char *pj = "{\"consumers\":[\"*\"],\"code\":\"any-behind-dp\",\"min_level\":{\"default\":1,\"wasm\":2},"
                     "\"executors\":[\"exec-1\",\"exec-2\"],\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}";
    px_assert_ok(px_pod_policy_parse(&pol, pj, strlen(pj), &err), &err);
    px_pod_stage_req st[3] = {{.kind = "prover", .code_digest = NULL, .level = 1}, {.kind = "wasm", .code_digest = code_a, .level = 2}, {.kind = "dp", .code_digest = NULL, .level = 1}};
    px_pod_instance_req in[4] = {{0, 0, "prover", "exec-1", 1}, {0, 1, "prover", "exec-2", 1},
                                 {1, 0, "wasm", "exec-2", 2}, {2, 0, "dp", "exec-1", 1}};
    px_pod_request req = {"analyst", "tx", st, 3, in, 4};
    px_assert_ok(px_pod_policy_check(&pol, &req, &err), &err);
    in[2].level = 1;
    px_assert_fails(px_pod_policy_check(&pol, &req, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "stage 1 (wasm) partition 0 on exec-2 runs at TEE level 1"));
    assert_non_null(strstr(err.msg, "needs 2"));
    in[2].level = 2;
    in[1].node = "exec-3";
    px_assert_fails(px_pod_policy_check(&pol, &req, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "stage 0 (prover) partition 1 runs on exec-3, not an executor the policy"));
    /* Without instances an executor list cannot be judged: refused. */
    req.instances = NULL;
    req.ninstances = 0;
    px_assert_fails(px_pod_policy_check(&pol, &req, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "accepts only listed executors"));
    px_pod_policy_free(&pol);
    const char *bad = "{\"consumers\":[],\"code\":[],\"executors\":[\"a b\"],\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}";
    px_assert_fails(px_pod_policy_parse(&pol, bad, strlen(bad), &err), &err, PX_E_INVALID);
    bad = "{\"consumers\":[],\"code\":[],\"executors\":\"exec-1\",\"budget\":{\"epsilon\":\"1\",\"delta\":\"0\"}}";
    px_assert_fails(px_pod_policy_parse(&pol, bad, strlen(bad), &err), &err, PX_E_INVALID);
}

static void test_admit_refund_history(void **state) {
    (void)state;
    pod_fixture f;
    setup_pod(&f, policy_json);
    px_err err = {0};
    char m1[65], m2[65], m3[65], m4[65];
    manifest_hex(m1, 0, 1);
    manifest_hex(m2, 0, 2);
    manifest_hex(m3, 0, 3);
    manifest_hex(m4, 0, 4);
    px_assert_ok(admit(f.pod, m1, "analyst", "1.5", &err), &err);
    px_assert_fails(admit(f.pod, m1, "analyst", "0.1", &err), &err, PX_E_STATE); /* replayed */
    /* per-consumer limit 2: 1.5 + 0.6 is too much, 0.5 fits exactly */
    px_assert_fails(admit(f.pod, m2, "analyst", "0.6", &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "consumer epsilon budget exhausted"));
    px_assert_ok(admit(f.pod, m2, "analyst", "0.5", &err), &err);
    /* total limit 3: lab can only get 1 */
    px_assert_fails(admit(f.pod, m3, "lab", "1.000000001", &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "dataset epsilon budget exhausted"));
    px_assert_fails(px_pod_admit(f.pod, m3, &(px_pod_request){"lab", "tx", stages_ok, 3, NULL, 0}, "0", "2e-6", &err), &err,
                    PX_E_DENIED);
    assert_non_null(strstr(err.msg, "delta"));
    px_assert_fails(admit(f.pod, "abc", "lab", "1", &err), &err, PX_E_INVALID);
    px_assert_fails(admit(f.pod, m3, "lab", "-1", &err), &err, PX_E_INVALID);

    /* refund: only a task that never started */
    uint8_t stage_key[32] = {1, 2, 3};
    px_signer pod_key;
    px_assert_ok(px_signer_generate(&pod_key, "pod1.example", &err), &err);
    px_buf stream = PX_BUF_INIT, env = PX_BUF_INIT;
    px_assert_ok(px_pod_release(f.pod, &pod_key, "pod1", m1, "tx", stage_key, &stream, &env, &err), &err);
    px_assert_fails(px_pod_budget_refund(f.pod, m1, "tx", &err), &err, PX_E_STATE);
    px_assert_fails(px_pod_release(f.pod, &pod_key, "pod1", m1, "tx", stage_key, &stream, &env, &err), &err,
                    PX_E_STATE);
    px_assert_fails(px_pod_release(f.pod, &pod_key, "pod1", m4, "tx", stage_key, &stream, &env, &err), &err,
                    PX_E_DENIED);
    px_assert_ok(px_pod_budget_refund(f.pod, m2, "tx", &err), &err);
    px_assert_fails(px_pod_budget_refund(f.pod, m2, "tx", &err), &err, PX_E_STATE);
    px_assert_fails(px_pod_budget_refund(f.pod, m4, "tx", &err), &err, PX_E_NOTFOUND);
    px_assert_fails(px_pod_release(f.pod, &pod_key, "pod1", m2, "tx", stage_key, &stream, &env, &err), &err,
                    PX_E_STATE);
    /* the refunded 0.5 is available again */
    px_assert_ok(admit(f.pod, m3, "lab", "1.5", &err), &err);

    /* kept across restarts */
    px_pod_close(f.pod);
    px_assert_ok(px_pod_open(&f.pod, f.path, &err), &err);
    px_pod_budget_status st;
    px_assert_ok(px_pod_budget_status_get(f.pod, "tx", NULL, &st, &err), &err);
    assert_int_equal(st.eps_spent, 3000000000LL);
    assert_int_equal(st.eps_limit, 3000000000LL);
    px_assert_ok(px_pod_budget_status_get(f.pod, "tx", "analyst", &st, &err), &err);
    assert_int_equal(st.eps_spent, 1500000000LL);
    assert_int_equal(st.eps_limit, 2000000000LL);
    px_pod_charge *h;
    size_t n;
    px_assert_ok(px_pod_budget_history(f.pod, "tx", &h, &n, &err), &err);
    assert_int_equal(n, 3);
    assert_string_equal(h[0].manifest, m1);
    assert_int_equal(h[0].state, PX_CHARGE_STARTED);
    assert_int_equal(h[1].state, PX_CHARGE_REFUNDED);
    assert_int_equal(h[2].state, PX_CHARGE_CHARGED);
    assert_string_equal(h[2].consumer, "lab");
    free(h);

    px_pod_release_row *rel;
    px_assert_ok(px_pod_release_list(f.pod, &rel, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_string_equal(rel[0].info.manifest, m1);
    assert_int_equal(rel[0].info.records, 1);
    assert_int_equal(rel[0].info.eps, 1500000000LL);
    px_buf env2 = PX_BUF_INIT;
    px_assert_ok(px_pod_release_get(f.pod, rel[0].id, &env2, &err), &err);
    assert_int_equal(env2.len, env.len);
    assert_memory_equal(env2.data, env.data, env.len);
    free(rel);
    px_buf_free(&env2);
    px_buf_free(&stream);
    px_buf_free(&env);
    px_signer_wipe(&pod_key);
    fixture_close(&f);
}


/* Settling: a released task whose DP stage never logged an ok proof is
 * refunded with its reason, once; a task whose DP stage did is spent for
 * good; neither ever changes again. */
static void test_settle(void **state) {
    (void)state;
    pod_fixture f;
    setup_pod(&f, policy_json);
    px_err err = {0};
    char m1[65], m2[65], m3[65];
    manifest_hex(m1, 7, 1);
    manifest_hex(m2, 7, 2);
    manifest_hex(m3, 7, 3);
    uint8_t stage_key[32] = {9};
    px_signer pod_key;
    px_assert_ok(px_signer_generate(&pod_key, "pod1.example", &err), &err);
    px_buf stream = PX_BUF_INIT, env = PX_BUF_INIT;
    px_assert_ok(admit(f.pod, m1, "analyst", "1", &err), &err);
    px_assert_ok(px_pod_release(f.pod, &pod_key, "pod1", m1, "tx", stage_key, &stream, &env, &err), &err);
    px_assert_ok(admit(f.pod, m2, "analyst", "0.5", &err), &err);
    px_assert_ok(admit(f.pod, m3, "lab", "1", &err), &err);
    px_pod_budget_status st;
    px_assert_ok(px_pod_budget_status_get(f.pod, "tx", NULL, &st, &err), &err);
    assert_int_equal(st.eps_spent, 2500000000LL);

    size_t changed = 9;
    px_assert_ok(px_pod_budget_settle(f.pod, m1, 1, "stage 1 (wasm) partition 0 failed: trap", &changed, &err), &err);
    assert_int_equal(changed, 1);
    px_assert_ok(px_pod_budget_settle(f.pod, m1, 1, "again", &changed, &err), &err);
    assert_int_equal(changed, 0);
    px_assert_ok(px_pod_budget_settle(f.pod, m1, 0, "a proof appeared", &changed, &err), &err);
    assert_int_equal(changed, 0);
    px_assert_ok(px_pod_budget_settle(f.pod, m2, 0, "stage 2 (dp) logged its ok proof", &changed, &err), &err);
    assert_int_equal(changed, 1);
    px_assert_ok(px_pod_budget_settle(f.pod, m2, 1, "no proof", &changed, &err), &err);
    assert_int_equal(changed, 0);
    px_assert_fails(px_pod_budget_settle(f.pod, m3, 1, "", &changed, &err), &err, PX_E_INVALID);
    px_assert_fails(px_pod_budget_settle(f.pod, "nothex", 1, "x", &changed, &err), &err, PX_E_INVALID);
    /* The owner's refund cannot touch a settled charge either. */
    px_assert_fails(px_pod_budget_refund(f.pod, m2, "tx", &err), &err, PX_E_STATE);

    /* Spent counts what is charged, started or spent: m2 and m3. */
    px_pod_close(f.pod);
    px_assert_ok(px_pod_open(&f.pod, f.path, &err), &err);
    px_assert_ok(px_pod_budget_status_get(f.pod, "tx", NULL, &st, &err), &err);
    assert_int_equal(st.eps_spent, 1500000000LL);
    px_pod_charge *h;
    size_t n;
    px_assert_ok(px_pod_budget_history(f.pod, NULL, &h, &n, &err), &err);
    assert_int_equal(n, 3);
    assert_int_equal(h[0].state, PX_CHARGE_REFUNDED);
    assert_string_equal(h[0].reason, "stage 1 (wasm) partition 0 failed: trap");
    assert_int_equal(h[1].state, PX_CHARGE_SPENT);
    assert_string_equal(px_charge_state_name(h[1].state), "spent");
    assert_string_equal(h[1].reason, "stage 2 (dp) logged its ok proof");
    assert_int_equal(h[2].state, PX_CHARGE_CHARGED);
    assert_string_equal(h[2].reason, "");
    free(h);
    char(*names)[PX_KEY_NAME_MAX + 1];
    px_assert_ok(px_pod_budget_datasets(f.pod, &names, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_string_equal(names[0], "tx");
    free(names);
    px_buf_free(&stream);
    px_buf_free(&env);
    px_signer_wipe(&pod_key);
    fixture_close(&f);
}

/* A POD database of version 1 (three charge states, no reasons) is upgraded
 * in place, its ledger intact. */
static void test_ledger_upgrade(void **state) {
    (void)state;
    char dir[] = "/tmp/px-pod-v1-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/pod.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "CREATE TABLE datasets(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, schema TEXT NOT NULL,"
        " created INTEGER NOT NULL);"
        "CREATE TABLE records(dataset INTEGER NOT NULL REFERENCES datasets(id), seq INTEGER NOT NULL, vals BLOB NOT NULL,"
        " digest BLOB NOT NULL, ukey BLOB, source TEXT, sig BLOB, PRIMARY KEY(dataset, seq), UNIQUE(dataset, ukey))"
        " WITHOUT ROWID;"
        "CREATE TABLE trust(name TEXT PRIMARY KEY, keyid INTEGER NOT NULL, alg INTEGER NOT NULL, pk BLOB NOT NULL,"
        " key TEXT NOT NULL, added INTEGER NOT NULL);"
        "CREATE TABLE policy(dataset TEXT PRIMARY KEY, doc TEXT NOT NULL, updated INTEGER NOT NULL);"
        "CREATE TABLE charges(id INTEGER PRIMARY KEY, manifest TEXT NOT NULL, dataset TEXT NOT NULL,"
        " consumer TEXT NOT NULL, eps INTEGER NOT NULL CHECK(eps >= 0), delta INTEGER NOT NULL CHECK(delta >= 0),"
        " state INTEGER NOT NULL CHECK(state IN (1, 2, 3)), created INTEGER NOT NULL, updated INTEGER NOT NULL,"
        " UNIQUE(manifest, dataset));"
        "CREATE INDEX charges_by_consumer ON charges(dataset, consumer, state);"
        "CREATE TABLE releases(id TEXT PRIMARY KEY, manifest TEXT NOT NULL, pod TEXT NOT NULL, dataset TEXT NOT NULL,"
        " digest TEXT NOT NULL, records INTEGER NOT NULL, signed INTEGER NOT NULL, unsigned INTEGER NOT NULL,"
        " eps INTEGER NOT NULL, delta INTEGER NOT NULL, stage_key TEXT NOT NULL, released INTEGER NOT NULL,"
        " envelope BLOB NOT NULL);"
        "INSERT INTO charges VALUES(1, '" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        "', 'tx', 'analyst', 1000000000, 0, 2, 1, 1);"
        "PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    px_pod *p;
    px_err err = {0};
    px_assert_ok(px_pod_open(&p, path, &err), &err);
    size_t changed = 0;
    px_assert_ok(px_pod_budget_settle(p, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0,
                                      "stage 2 (dp) logged its ok proof", &changed, &err), &err);
    assert_int_equal(changed, 1);
    px_pod_charge *h;
    size_t n;
    px_assert_ok(px_pod_budget_history(p, NULL, &h, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].state, PX_CHARGE_SPENT);
    assert_int_equal(h[0].eps, 1000000000LL);
    free(h);
    px_pod_close(p);
    px_assert_ok(px_pod_open(&p, path, &err), &err);
    px_pod_close(p);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_release_statement(void **state) {
    (void)state;
    pod_fixture f;
    setup_pod(&f, policy_json);
    px_err err = {0};
    char m[65];
    manifest_hex(m, 9, 9);
    px_assert_ok(admit(f.pod, m, "lab", "0.25", &err), &err);
    px_signer pod_key;
    px_assert_ok(px_signer_generate(&pod_key, "pod1.example", &err), &err);
    uint8_t stage_key[32];
    px_random(stage_key, 32);
    px_buf stream = PX_BUF_INIT, env = PX_BUF_INIT;
    px_assert_ok(px_pod_release(f.pod, &pod_key, "pod1", m, "tx", stage_key, &stream, &env, &err), &err);
    px_dsse e;
    px_assert_ok(px_dsse_parse(&e, env.data, env.len, &err), &err);
    px_verifier v;
    px_signer_verifier(&pod_key, &v);
    px_assert_ok(px_dsse_verify(&e, &v, &err), &err);
    assert_string_equal(e.payload_type, PX_INTOTO_PAYLOAD_TYPE);
    px_statement st;
    px_assert_ok(px_statement_parse(&st, e.payload.data, e.payload.len, &err), &err);
    assert_string_equal(st.predicate_type, PX_RELEASE_PREDICATE);
    assert_int_equal(st.nsubjects, 1);
    assert_string_equal(st.subjects[0].name, "release");
    /* The subject is the commitment to the payload ("PXC1" || r || records). */
    uint8_t d[32];
    assert_true(stream.len >= PX_COMMIT_HEADERBYTES);
    assert_memory_equal(stream.data, PX_COMMIT_MAGIC, 4);
    px_commit_digest(d, stream.data + 4, stream.data + PX_COMMIT_HEADERBYTES, stream.len - PX_COMMIT_HEADERBYTES);
    assert_memory_equal(st.subjects[0].sha256, d, 32);
    const char *s;
    int64_t i;
    px_assert_ok(px_json_str(st.predicate, "manifest", &s, &err), &err);
    assert_string_equal(s, m);
    px_assert_ok(px_json_str(st.predicate, "pod", &s, &err), &err);
    assert_string_equal(s, "pod1");
    px_assert_ok(px_json_str(st.predicate, "epsilon", &s, &err), &err);
    assert_string_equal(s, "0.25");
    px_assert_ok(px_json_str(st.predicate, "delta", &s, &err), &err);
    assert_string_equal(s, "0");
    px_assert_ok(px_json_int(st.predicate, "records", &i, &err), &err);
    assert_int_equal(i, 1);
    px_assert_ok(px_json_int(st.predicate, "unsigned", &i, &err), &err);
    assert_int_equal(i, 1);
    char hex[65];
    px_hex_encode(hex, stage_key, 32);
    px_assert_ok(px_json_str(st.predicate, "stage_key", &s, &err), &err);
    assert_string_equal(s, hex);
    px_hex_encode(hex, d, 32);
    px_assert_ok(px_json_str(st.predicate, "dataset_digest", &s, &err), &err);
    assert_string_equal(s, hex);
    px_statement_free(&st);
    px_dsse_free(&e);
    px_buf_free(&stream);
    px_buf_free(&env);
    px_signer_wipe(&pod_key);
    fixture_close(&f);
}

/* ---- concurrency ------------------------------------------------------------ */

/* Every worker tries TRIES_EACH admissions of 0.1 for one of two consumers
 * against a total of 3 (2 per consumer): exactly 30 may succeed overall. */
static int worker_admissions(const char *path, unsigned tag) {
    px_pod *p;
    px_err err = {0};
    if (px_pod_open(&p, path, &err))
        return -1;
    int ok = 0;
    for (unsigned i = 0; i < TRIES_EACH; i++) {
        char m[65];
        manifest_hex(m, tag, i);
        if (admit(p, m, tag % 2 ? "analyst" : "lab", "0.1", &err) == 0)
            ok++;
        else if (err.code != PX_E_DENIED) {
            fprintf(stderr, "worker %u: %s\n", tag, err.msg);
            ok = -1000;
        }
    }
    px_pod_close(p);
    return ok;
}

typedef struct thread_arg {
    const char *path;
    unsigned tag;
    int ok;
} thread_arg;

static void *thread_main(void *a) {
    thread_arg *t = a;
    t->ok = worker_admissions(t->path, t->tag);
    return NULL;
}

static void test_concurrent_admissions(void **state) {
    (void)state;
    pod_fixture f;
    setup_pod(&f, policy_json);
    pid_t pids[N_PROCS];
    int pipes[N_PROCS][2];
    for (unsigned i = 0; i < N_PROCS; i++) {
        assert_int_equal(pipe(pipes[i]), 0);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            int ok = worker_admissions(f.path, 100 + i);
            ssize_t w = write(pipes[i][1], &ok, sizeof ok);
            _exit(w == sizeof ok ? 0 : 1);
        }
        close(pipes[i][1]);
    }
    pthread_t th[N_THREADS];
    thread_arg ta[N_THREADS];
    for (unsigned i = 0; i < N_THREADS; i++) {
        ta[i] = (thread_arg){f.path, 200 + i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &ta[i]), 0);
    }
    int total = 0;
    for (unsigned i = 0; i < N_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_true(ta[i].ok >= 0);
        total += ta[i].ok;
    }
    for (unsigned i = 0; i < N_PROCS; i++) {
        int ok = -1, status;
        assert_int_equal(read(pipes[i][0], &ok, sizeof ok), sizeof ok);
        close(pipes[i][0]);
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_true(ok >= 0);
        total += ok;
    }
    /* 144 attempts of 0.1 against a total of 3: exactly 30 admitted */
    assert_int_equal(total, 30);
    px_err err = {0};
    px_pod_budget_status st;
    px_assert_ok(px_pod_budget_status_get(f.pod, "tx", NULL, &st, &err), &err);
    assert_int_equal(st.eps_spent, 3000000000LL);
    px_assert_ok(px_pod_budget_status_get(f.pod, "tx", "lab", &st, &err), &err);
    assert_true(st.eps_spent <= st.eps_limit);
    px_assert_ok(px_pod_budget_status_get(f.pod, "tx", "analyst", &st, &err), &err);
    assert_true(st.eps_spent <= st.eps_limit);
    px_pod_charge *h;
    size_t n;
    px_assert_ok(px_pod_budget_history(f.pod, NULL, &h, &n, &err), &err);
    assert_int_equal(n, 30);
    free(h);
    fixture_close(&f);
}

int main(void) {
    px_err err = {0};
    if (px_crypto_init(&err))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_rules), cmocka_unit_test(test_policy_instances),
        cmocka_unit_test(test_admit_refund_history), cmocka_unit_test(test_settle),
        cmocka_unit_test(test_ledger_upgrade),
        cmocka_unit_test(test_release_statement),
        cmocka_unit_test(test_concurrent_admissions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
