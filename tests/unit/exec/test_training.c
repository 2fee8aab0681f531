/* Rounds of a training at a POD: the first round is charged for the whole
 * training and its charge is final; a later round is admitted only under
 * a first round this POD admitted for the same consumer, on the same terms
 * (only fl-agg's code, the round's model, may change), within the
 * training's rounds and once (across a restart); it charges nothing. */
#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"
#include "node/node.h"
#include "node/podside.h"

#define USER_CODE "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define OTHER_CODE "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* What one round's manifest says. */
typedef struct round_spec {
    uint32_t round, rounds;
    const uint8_t *first;  /* NULL in round 1 */
    char model[65];        /* fl-agg's code: the round's input model */
    const char *user_code; /* fl-user's code (the training module) */
    const char *epsilon;   /* the whole training's */
    const px_signer *consumer;
    const char *consumer_id;
} round_spec;

static round_spec spec_of(fx *f, uint32_t round, const uint8_t *first) {
    round_spec s = {round, 3, first, "", USER_CODE, "2", &f->consumer, "consumer-1"};
    /* Each round aggregates from another model. */
    for (int i = 0; i < 64; i++)
        s.model[i] = "0123456789abcdef"[(round * 7 + (unsigned)i) % 16];
    return s;
}

static void fl_manifest(fx *f, const round_spec *r, px_buf *env, px_manifest *m) {
    px_err err = {0};
    px_buf vk = PX_BUF_INIT, doc = PX_BUF_INIT;
    px_verifier v;
    px_signer_verifier(r->consumer, &v);
    px_assert_ok(px_verifier_format(&v, &vk, &err), &err);
    px_buf_cstr(&vk, &err);
    char rk[65], first[100] = "";
    px_hex_encode(rk, f->receiver.pk, 32);
    if (r->first) {
        char h[65];
        px_hex_encode(h, r->first, 32);
        snprintf(first, sizeof first, ",\"first\":\"%s\"", h);
    }
    int64_t now = px_now_ms();
    const char *shared = "\"dim\":4,\"scale\":1000,\"clip\":\"1\",\"neighbors\":2,\"threshold\":2";
    px_assert_ok(px_buf_printf(&doc, &err,
        "{\"schema\":\"urn:pixiu:manifest:v1\",\"name\":\"train\",\"consumer\":{\"id\":\"%s\",\"key\":\"%s\"},"
        "\"nonce\":\"%032x\",\"created\":%lld,\"deadline\":%lld,"
        "\"datasets\":[{\"name\":\"steps\",\"schema\":{\"fields\":[{\"name\":\"user\",\"type\":\"text\"},"
        "{\"name\":\"x\",\"type\":\"int\"}],\"user\":\"user\"},\"pods\":[\"pod-0\",\"pod-1\",\"pod-2\"]}],"
        "\"stages\":[{\"kind\":\"prover\",\"at\":\"pod\",\"params\":{\"require\":\"any\",\"sources\":[]}},"
        "{\"kind\":\"fl-user\",\"at\":\"pod\",\"code\":\"%s\","
        "\"params\":{%s}},"
        "{\"kind\":\"fl-agg\",\"code\":\"%s\",\"dp\":{\"mechanism\":\"gaussian\",\"epsilon\":\"%s\",\"delta\":\"1e-6\"},"
        "\"params\":{%s,\"min_survivors\":3,\"rounds\":%u,\"epsilon\":\"%s\",\"delta\":\"1e-6\"}}],"
        "\"receivers\":[{\"id\":\"%s\",\"key\":\"%s\"}],\"training\":{\"round\":%u,\"rounds\":%u%s}}",
        r->consumer_id, (char *)vk.data, f->serial++, (long long)now, (long long)now + 600000, r->user_code, shared,
        r->model, r->epsilon, shared, r->rounds, r->epsilon, r->consumer_id, rk, r->round, r->rounds, first), &err);
    px_buf_reset(env);
    px_assert_ok(px_manifest_sign(env, doc.data, doc.len, r->consumer, &err), &err);
    px_assert_ok(px_manifest_parse(m, env->data, env->len, &err), &err);
    px_buf_free(&vk);
    px_buf_free(&doc);
}

static void expect_refused(px_admissions *a, const px_manifest *m, px_code code, const char *why) {
    px_err err = {0};
    px_assert_fails(px_admissions_training_check(a, m, &err), &err, code);
    if (!strstr(err.msg, why))
        fail_msg("check: got \"%s\", want \"%s\"", err.msg, why);
    memset(&err, 0, sizeof err);
    px_assert_fails(px_admissions_training_admit(a, m, px_now_ms(), &err), &err, code);
    if (!strstr(err.msg, why))
        fail_msg("admit: got \"%s\", want \"%s\"", err.msg, why);
}

static void open_db(char *dir, char *path, size_t cap, px_admissions **a) {
    px_err err = {0};
    assert_non_null(mkdtemp(dir));
    snprintf(path, cap, "%s/node.db", dir);
    px_assert_ok(px_admissions_open(a, path, &err), &err);
}

static void remove_db(const char *dir, const char *path) {
    char p[96];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    rmdir(dir);
}

/* The terms: the same for every round of one training whatever its model,
 * different when anything else of the training changes, with the cause. */
static void test_terms(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    px_buf env = PX_BUF_INIT, d1 = PX_BUF_INIT, d2 = PX_BUF_INIT;
    px_manifest m1, m2;
    uint8_t t1[32], t2[32];
    round_spec r = spec_of(&f, 1, NULL);
    fl_manifest(&f, &r, &env, &m1);
    px_assert_ok(px_manifest_training_terms(&m1, &d1, t1, &err), &err);
    /* Round 2: another model, another name-free payload; the same terms. */
    r = spec_of(&f, 2, m1.id);
    fl_manifest(&f, &r, &env, &m2);
    px_assert_ok(px_manifest_training_terms(&m2, &d2, t2, &err), &err);
    assert_memory_equal(t1, t2, 32);
    assert_null(memmem(d1.data, d1.len, r.model, 64));
    px_manifest_free(&m2);
    /* Another training module: the fl-user's code is a term. */
    r.user_code = OTHER_CODE;
    fl_manifest(&f, &r, &env, &m2);
    px_buf_reset(&d2);
    px_assert_ok(px_manifest_training_terms(&m2, &d2, t2, &err), &err);
    assert_memory_not_equal(t1, t2, 32);
    char why[240];
    px_manifest_training_terms_diff(d1.data, d1.len, d2.data, d2.len, why, sizeof why);
    assert_string_equal(why, "stage 1 (fl-user): its \"code\" differs");
    px_manifest_free(&m2);
    /* Another (epsilon, delta) for the whole training. */
    r = spec_of(&f, 2, m1.id);
    r.epsilon = "4";
    fl_manifest(&f, &r, &env, &m2);
    px_buf_reset(&d2);
    px_assert_ok(px_manifest_training_terms(&m2, &d2, t2, &err), &err);
    px_manifest_training_terms_diff(d1.data, d1.len, d2.data, d2.len, why, sizeof why);
    assert_string_equal(why, "stage 2 (fl-agg): its \"dp\" differs");
    px_manifest_free(&m2);
    /* Another number of rounds. */
    r = spec_of(&f, 2, m1.id);
    r.rounds = 5;
    fl_manifest(&f, &r, &env, &m2);
    px_buf_reset(&d2);
    px_assert_ok(px_manifest_training_terms(&m2, &d2, t2, &err), &err);
    px_manifest_training_terms_diff(d1.data, d1.len, d2.data, d2.len, why, sizeof why);
    assert_string_equal(why, "rounds 5, not 3");
    px_manifest_free(&m2);
    /* A task that is no training has no terms. */
    px_buf_reset(&d2);
    px_assert_fails(px_manifest_training_terms(&f.m, &d2, t2, &err), &err, PX_E_INVALID);
    px_manifest_free(&m1);
    px_buf_free(&env);
    px_buf_free(&d1);
    px_buf_free(&d2);
    fx_free(&f);
}

/* The trainings table: each refusal names its cause, nothing is written by
 * a refusal or a check, and a replayed round is refused after a reopen. */
static void test_rounds(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    char dir[] = "/tmp/px-training-XXXXXX", path[64];
    px_admissions *a;
    open_db(dir, path, sizeof path, &a);
    px_buf env = PX_BUF_INIT;
    px_manifest m1, m;
    round_spec r = spec_of(&f, 1, NULL);
    fl_manifest(&f, &r, &env, &m1);
    char hex[17];
    px_hex_encode(hex, m1.id, 8);

    /* A later round before its first one was admitted here. */
    r = spec_of(&f, 2, m1.id);
    fl_manifest(&f, &r, &env, &m);
    expect_refused(a, &m, PX_E_DENIED, "round 2 names a first round this POD never admitted for consumer consumer-1");
    px_assert_ok(px_admissions_training_check(a, &m1, &err), &err);
    px_assert_ok(px_admissions_training_admit(a, &m1, px_now_ms(), &err), &err);
    expect_refused(a, &m1, PX_E_STATE, "round 1 of training");
    /* Round 2 now; the check writes nothing, so admitting it still works. */
    px_assert_ok(px_admissions_training_check(a, &m, &err), &err);
    px_assert_ok(px_admissions_training_check(a, &m, &err), &err);
    px_assert_ok(px_admissions_training_admit(a, &m, px_now_ms(), &err), &err);
    px_manifest_free(&m);
    /* Round 2 again, in another manifest (another model, another nonce). */
    r = spec_of(&f, 2, m1.id);
    r.model[0] = 'f';
    fl_manifest(&f, &r, &env, &m);
    char want[128];
    snprintf(want, sizeof want, "round 2 of training %s...: already admitted (a replayed round)", hex);
    expect_refused(a, &m, PX_E_STATE, want);
    /* ... and after a restart. */
    px_admissions_close(a);
    px_assert_ok(px_admissions_open(&a, path, &err), &err);
    expect_refused(a, &m, PX_E_STATE, want);
    px_manifest_free(&m);
    /* Round 3 on other terms: another training module. */
    r = spec_of(&f, 3, m1.id);
    r.user_code = OTHER_CODE;
    fl_manifest(&f, &r, &env, &m);
    expect_refused(a, &m, PX_E_DENIED, "round 3's terms differ from round 1's");
    expect_refused(a, &m, PX_E_DENIED, "stage 1 (fl-user): its \"code\" differs");
    px_manifest_free(&m);
    /* ... or another budget for the training. */
    r = spec_of(&f, 3, m1.id);
    r.epsilon = "20";
    fl_manifest(&f, &r, &env, &m);
    expect_refused(a, &m, PX_E_DENIED, "stage 2 (fl-agg): its \"dp\" differs");
    px_manifest_free(&m);
    /* A round beyond the training's rounds (its manifest says more rounds,
     * but the first round's count is the one that holds). */
    r = spec_of(&f, 4, m1.id);
    r.rounds = 4;
    fl_manifest(&f, &r, &env, &m);
    snprintf(want, sizeof want, "round 4 of training %s...: beyond its 3 rounds", hex);
    expect_refused(a, &m, PX_E_DENIED, want);
    px_manifest_free(&m);
    /* Another consumer naming this consumer's first round. */
    px_signer other;
    px_assert_ok(px_signer_generate(&other, "consumer-2", &err), &err);
    r = spec_of(&f, 3, m1.id);
    r.consumer = &other;
    r.consumer_id = "consumer-2";
    fl_manifest(&f, &r, &env, &m);
    expect_refused(a, &m, PX_E_DENIED, "round 3 names a first round this POD never admitted for consumer consumer-2");
    px_manifest_free(&m);
    /* A first round nobody admitted. */
    uint8_t unknown[32];
    px_random(unknown, sizeof unknown);
    r = spec_of(&f, 2, unknown);
    fl_manifest(&f, &r, &env, &m);
    expect_refused(a, &m, PX_E_DENIED, "never admitted");
    px_manifest_free(&m);
    /* Round 3 on the same terms is admitted, once. */
    r = spec_of(&f, 3, m1.id);
    fl_manifest(&f, &r, &env, &m);
    px_assert_ok(px_admissions_training_admit(a, &m, px_now_ms(), &err), &err);
    expect_refused(a, &m, PX_E_STATE, "round 3 of training");
    px_manifest_free(&m);
    /* A task that is no training is not concerned. */
    px_assert_ok(px_admissions_training_check(a, &f.m, &err), &err);
    px_assert_ok(px_admissions_training_admit(a, &f.m, px_now_ms(), &err), &err);
    px_admissions_close(a);
    remove_db(dir, path);
    px_manifest_free(&m1);
    px_buf_free(&env);
    fx_free(&f);
}

/* A plan of the round, enough for the admission record: its fl-agg
 * instance with a key of its own. */
static void round_plan(px_plan *p, px_plan_instance *in, px_attested *att, const px_manifest *m) {
    memset(p, 0, sizeof *p);
    memset(in, 0, sizeof *in);
    memset(att, 0, sizeof *att);
    p->manifest = *m; /* borrowed: never px_plan_free'd */
    px_random(p->id, sizeof p->id);
    in->stage = 2;
    snprintf(in->node, sizeof in->node, "exec-0");
    px_random(att->sign_pk, sizeof att->sign_pk);
    p->instances = in;
    p->ninstances = 1;
}

/* The admission records the round in its own transaction: a refused
 * round leaves no admission; the first round's watch is final. */
static void test_admission(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    char dir[] = "/tmp/px-training-XXXXXX", path[64];
    px_admissions *a;
    open_db(dir, path, sizeof path, &a);
    px_buf env = PX_BUF_INIT;
    px_manifest m1, m2, m3;
    px_plan p;
    px_plan_instance in;
    px_attested att;
    uint8_t pod_key[32];
    px_random(pod_key, sizeof pod_key);
    round_spec r = spec_of(&f, 1, NULL);
    fl_manifest(&f, &r, &env, &m1);
    r = spec_of(&f, 2, m1.id);
    fl_manifest(&f, &r, &env, &m2);
    /* Round 2 first: refused, and not admitted either. */
    round_plan(&p, &in, &att, &m2);
    px_assert_fails(px_admissions_admit_pod(a, &p, &att, pod_key, px_now_ms(), &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "never admitted"));
    assert_int_equal(px_admissions_has(a, m2.id, &err), 0);
    /* Round 1, then round 2. */
    round_plan(&p, &in, &att, &m1);
    px_assert_ok(px_admissions_admit_pod(a, &p, &att, pod_key, px_now_ms(), &err), &err);
    round_plan(&p, &in, &att, &m2);
    px_assert_ok(px_admissions_admit_pod(a, &p, &att, pod_key, px_now_ms(), &err), &err);
    /* Round 2 again under another manifest: refused, nothing recorded. */
    r.model[0] = 'f';
    fl_manifest(&f, &r, &env, &m3);
    round_plan(&p, &in, &att, &m3);
    px_assert_fails(px_admissions_admit(a, &p, &att, px_now_ms(), &err), &err, PX_E_STATE);
    assert_non_null(strstr(err.msg, "a replayed round"));
    assert_int_equal(px_admissions_has(a, m3.id, &err), 0);
    /* The watches, across a reopen: round 1's is final, round 2's is not;
     * both watch the fl-agg stage (it spends). */
    px_admissions_close(a);
    px_assert_ok(px_admissions_open(&a, path, &err), &err);
    px_settle_watch *w = NULL;
    size_t n = 0;
    px_assert_ok(px_admissions_due(a, m1.deadline + 1000, 16, &w, &n, &err), &err);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        int first = px_ct_equal(w[i].manifest, m1.id, 32);
        assert_int_equal(w[i].final, first);
        assert_int_equal(w[i].stage, 2);
        assert_string_equal(w[i].kinds[2], "fl-agg");
        assert_true(w[i].pod_side);
        /* Whatever the log shows (here: nothing), round 1 is spent. */
        px_settlement s;
        px_assert_ok(px_settle_judge(&w[i], NULL, 0, 10, &s, &err), &err);
        assert_int_equal(s.refund, !first);
        if (first)
            assert_non_null(strstr(s.reason, "the first round of a training"));
        px_settle_watch_free(&w[i]);
    }
    free(w);
    px_admissions_close(a);
    remove_db(dir, path);
    px_manifest_free(&m1);
    px_manifest_free(&m2);
    px_manifest_free(&m3);
    px_buf_free(&env);
    fx_free(&f);
}

static int64_t eps_units(const char *s) {
    int64_t u = -1;
    px_err err = {0};
    px_assert_ok(px_eps_parse(&u, s, PX_ROUND_UP, &err), &err);
    return u;
}

/* What a POD charges: dp and fl-agg stages (the whole training, in round
 * 1), nothing in a later round. */
static void test_amount(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    char eps[PX_AMOUNT_TEXT_MAX], delta[PX_AMOUNT_TEXT_MAX];
    px_assert_ok(px_node_dp_amount(&f.m, eps, delta, &err), &err);
    assert_int_equal(eps_units(eps), eps_units("0.5"));
    px_buf env = PX_BUF_INIT;
    px_manifest m1, m2;
    round_spec r = spec_of(&f, 1, NULL);
    fl_manifest(&f, &r, &env, &m1);
    px_assert_ok(px_node_dp_amount(&m1, eps, delta, &err), &err);
    assert_int_equal(eps_units(eps), eps_units("2"));
    int64_t d = -1, want = -2;
    px_assert_ok(px_delta_parse(&d, delta, PX_ROUND_UP, &err), &err);
    px_assert_ok(px_delta_parse(&want, "1e-6", PX_ROUND_UP, &err), &err);
    assert_int_equal(d, want);
    r = spec_of(&f, 2, m1.id);
    fl_manifest(&f, &r, &env, &m2);
    px_assert_ok(px_node_dp_amount(&m2, eps, delta, &err), &err);
    assert_int_equal(eps_units(eps), 0);
    px_assert_ok(px_delta_parse(&d, delta, PX_ROUND_UP, &err), &err);
    assert_int_equal(d, 0);
    px_manifest_free(&m1);
    px_manifest_free(&m2);
    px_buf_free(&env);
    fx_free(&f);
}

/* The kinds whose last POD-side instance stays to serve its consumer. */
static void test_serving_kinds(void **state) {
    (void)state;
    assert_true(px_node_kind_serves(PX_STAGE_FL_USER));
    assert_true(px_node_kind_serves(PX_STAGE_PIR));
    assert_false(px_node_kind_serves(PX_STAGE_WASM));
    assert_false(px_node_kind_serves(PX_STAGE_PROVER));
    assert_false(px_node_kind_serves(PX_STAGE_FL_AGG));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_terms),     cmocka_unit_test(test_rounds),        cmocka_unit_test(test_admission),
        cmocka_unit_test(test_amount),    cmocka_unit_test(test_serving_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
