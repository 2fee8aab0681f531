/* The plan and the wiring checks a POD runs before admitting it. */
#include "fixture.h"

static int parse_and_check(fx *f, const px_buf *env, int require_dp, px_attested *att, px_err *err) {
    px_plan p;
    if (px_plan_parse(&p, env->data, env->len, err))
        return -1;
    int rc = px_plan_check(&p, fx_check, f, require_dp, px_now_ms(), att, err);
    px_plan_free(&p);
    return rc;
}

static void test_good_plan(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    fx_plan(&f, &f.plan_env, -1);
    px_plan p;
    px_assert_ok(px_plan_parse(&p, f.plan_env.data, f.plan_env.len, &err), &err);
    assert_memory_equal(p.manifest.id, f.m.id, 32);
    assert_int_equal(p.ninstances, 3);
    assert_string_equal(p.instances[1].node, "exec-1");
    px_attested att[3];
    px_assert_ok(px_plan_check(&p, fx_check, &f, 1, px_now_ms(), att, &err), &err);
    assert_memory_equal(att[2].box_pk, f.inst[2].box.pk, 32);
    assert_memory_equal(att[0].sign_pk, f.inst[0].sign.kp.pk, 32);
    /* The stage config carries the successor key and the manifest's limits. */
    px_stage_config c;
    px_assert_ok(px_lambda_config_parse(&c, p.instances[1].config.data, p.instances[1].config.len, &err), &err);
    assert_string_equal(c.kind, "wasm");
    assert_int_equal(c.nplatform_keys, 1);
    assert_int_equal(c.nsuccessors, 1);
    assert_memory_equal(c.successors[0], f.inst[2].box.pk, 32);
    px_lambda_config_free(&c);
    /* Past the deadline the same plan is refused. */
    px_assert_fails(px_plan_check(&p, fx_check, &f, 1, p.manifest.deadline + 1, NULL, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "deadline"));
    px_plan_free(&p);
    fx_free(&f);
}

/* The task stage sends straight to the receiver: the DP stage is skipped. */
static void test_skips_dp(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    fx_plan(&f, &f.plan_env, 2);
    px_assert_fails(parse_and_check(&f, &f.plan_env, 1, NULL, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "stage 1 (wasm)"));
    assert_non_null(strstr(err.msg, "not an attested key of stage 2 (dp)"));
    fx_free(&f);
}

static void test_low_level_and_measurement(void **state) {
    (void)state;
    fx f;
    px_err err = {0};
    fx_init_with(&f, "[{\"kind\":\"prover\",\"min_level\":2},{\"kind\":\"aggregate\"}]");
    fx_plan(&f, &f.plan_env, -1);
    px_assert_fails(parse_and_check(&f, &f.plan_env, 0, NULL, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "below the manifest's minimum 2"));
    fx_free(&f);

    fx_init(&f);
    f.inst[1].bad_measurement = 1;
    fx_plan(&f, &f.plan_env, -1);
    px_assert_fails(parse_and_check(&f, &f.plan_env, 0, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "stage 1 (wasm)"));
    assert_non_null(strstr(err.msg, "build not accepted: component \"runner\" differs"));
    fx_free(&f);
}

/* A manifest with no DP stage passes the wiring, but not a POD that
 * requires DP. */
static void test_require_dp(void **state) {
    (void)state;
    fx f;
    px_err err = {0};
    fx_init_with(&f, "[{\"kind\":\"prover\"},{\"kind\":\"wasm\",\"code\":\""
                     "0000000000000000000000000000000000000000000000000000000000000000\"}]");
    fx_plan(&f, &f.plan_env, -1);
    px_assert_ok(parse_and_check(&f, &f.plan_env, 0, NULL, &err), &err);
    px_assert_fails(parse_and_check(&f, &f.plan_env, 1, NULL, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "dp"));
    fx_free(&f);
}

/* Plans missing an instance, or signed by someone else, or tampered with. */
static void test_bad_plans(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    px_plan_instance ins[2];
    memset(ins, 0, sizeof ins);
    for (uint32_t i = 0; i < 2; i++) {
        uint8_t succ[1][32];
        memcpy(succ[0], f.inst[i + 1].box.pk, 32);
        ins[i].stage = i;
        strcpy(ins[i].node, "exec");
        fx_config(&f, &ins[i].config, i, succ);
        fx_evidence(&f, &f.inst[i], &f.m.stages[i], &ins[i].config, ins[i].nonce, &ins[i].evidence);
    }
    px_buf env = PX_BUF_INIT;
    px_assert_ok(px_plan_sign(&env, &f.m, ins, 2, &f.consumer, &err), &err);
    px_plan p;
    px_assert_fails(px_plan_parse(&p, env.data, env.len, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "no instance for stage 2 (dp)"));
    px_buf_reset(&env);
    px_assert_ok(px_plan_sign(&env, &f.m, ins, 2, &f.platform, &err), &err);
    px_assert_fails(px_plan_parse(&p, env.data, env.len, &err), &err, PX_E_VERIFY);
    for (int i = 0; i < 2; i++) {
        px_buf_free(&ins[i].config);
        px_buf_free(&ins[i].evidence);
    }
    /* Flip bytes of a good plan: parse fails, or what parses is the plan its
     * signed head names. */
    fx_plan(&f, &f.plan_env, -1);
    px_plan good;
    px_assert_ok(px_plan_parse(&good, f.plan_env.data, f.plan_env.len, &err), &err);
    for (size_t i = 0; i < f.plan_env.len; i += 11) {
        f.plan_env.data[i] ^= 0x04;
        if (px_plan_parse(&p, f.plan_env.data, f.plan_env.len, &err) == 0) {
            uint8_t id[32];
            px_sha256(id, p.head.data, p.head.len);
            assert_memory_equal(p.id, id, 32);
            assert_memory_equal(p.id, good.id, 32);
            assert_memory_equal(p.root, good.root, 32);
            px_plan_free(&p);
        }
        f.plan_env.data[i] ^= 0x04;
    }
    px_plan_free(&good);
    px_buf_free(&env);
    fx_free(&f);
}

/* A plan admitted once is refused the second time, also after reopening. */
/* The fixture's plan with stage 1's config edited (from -> to) before its
 * instance is attested: a consistent, signed plan around a bad config. */
static void plan_with_config_edit(fx *f, px_buf *out, const char *from, const char *to) {
    px_err err = {0};
    px_plan_instance ins[FX_STAGES];
    memset(ins, 0, sizeof ins);
    for (uint32_t i = 0; i < f->m.nstages; i++) {
        uint8_t succ[1][32];
        memcpy(succ[0], i + 1 == f->m.nstages ? f->receiver.pk : f->inst[i + 1].box.pk, 32);
        ins[i].stage = i;
        snprintf(ins[i].node, sizeof ins[i].node, "exec-%u", i);
        px_random(ins[i].nonce, sizeof ins[i].nonce);
        fx_config(f, &ins[i].config, i, succ);
        if (i == 1) {
            char *c = px_buf_cstr(&ins[i].config, &err), *at = strstr(c, from);
            assert_non_null(at);
            px_buf m = PX_BUF_INIT;
            px_buf_append(&m, c, (size_t)(at - c), &err);
            px_buf_append_str(&m, to, &err);
            px_buf_append_str(&m, at + strlen(from), &err);
            px_buf_free(&ins[i].config);
            ins[i].config = m;
        }
        fx_evidence(f, &f->inst[i], &f->m.stages[i], &ins[i].config, ins[i].nonce, &ins[i].evidence);
    }
    px_assert_ok(px_plan_sign(out, &f->m, ins, f->m.nstages, &f->consumer, &err), &err);
    for (uint32_t i = 0; i < f->m.nstages; i++) {
        px_buf_free(&ins[i].config);
        px_buf_free(&ins[i].evidence);
    }
}

/* A consumer recruits an instance under other numbers than the manifest a
 * POD reads: more CPU or memory for the task, other params (a DP stage's
 * params are what it spends). The evidence is genuine (it attests the
 * config it was born with), so only comparing config and manifest catches
 * it, before any POD releases or charges. */
static void test_config_not_manifest(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    px_buf env = PX_BUF_INIT;
    plan_with_config_edit(&f, &env, "\"cpu_ms\":5000", "\"cpu_ms\":500000");
    px_assert_fails(parse_and_check(&f, &env, 0, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "stage 1 (wasm) partition 0 on exec-1: its config's limits are not the manifest's"));
    px_buf_reset(&env);
    plan_with_config_edit(&f, &env, "\"mem_mb\":64}", "\"mem_mb\":64,\"timeout_ms\":86400000}");
    px_assert_fails(parse_and_check(&f, &env, 0, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "limits are not the manifest's"));
    px_buf_reset(&env);
    plan_with_config_edit(&f, &env, "\"dim\":1}", "\"dim\":2}");
    px_assert_fails(parse_and_check(&f, &env, 0, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "its config's params are not the manifest's"));
    px_buf_reset(&env);
    plan_with_config_edit(&f, &env, ",\"params\":{\"map\":\"per-user\",\"dim\":1}", "");
    px_assert_fails(parse_and_check(&f, &env, 0, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "params are not the manifest's"));
    px_buf_free(&env);
    fx_free(&f);
}

/* Every instance answers to one log, released nothing after the manifest's
 * deadline, and a POD can require that log to be the network's. */
static void test_log_and_deadline(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    px_buf env = PX_BUF_INIT;
    char from[64], to[64];
    snprintf(from, sizeof from, "\"deadline\":%lld", (long long)f.m.deadline);
    snprintf(to, sizeof to, "\"deadline\":%lld", (long long)f.m.deadline + 60000);
    plan_with_config_edit(&f, &env, from, to);
    px_assert_fails(parse_and_check(&f, &env, 0, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "stage 1 (wasm) partition 0 on exec-1: its config's deadline"));
    px_buf_reset(&env);
    plan_with_config_edit(&f, &env, ",\"deadline\"", ",\"x\":0,\"deadline\"");
    px_assert_fails(parse_and_check(&f, &env, 0, NULL, &err), &err, PX_E_INVALID);
    /* One instance on another log. */
    px_signer other;
    px_assert_ok(px_signer_generate(&other, "log.elsewhere", &err), &err);
    px_buf vk = PX_BUF_INIT, tk = PX_BUF_INIT;
    px_verifier ov;
    px_signer_verifier(&other, &ov);
    px_assert_ok(px_verifier_format(&ov, &vk, &err), &err);
    px_assert_ok(px_verifier_format(&px_testlog_keyed()->vkey, &tk, &err), &err);
    while (vk.len && vk.data[vk.len - 1] == '\n')
        vk.len--;
    while (tk.len && tk.data[tk.len - 1] == '\n')
        tk.len--;
    px_buf_reset(&env);
    plan_with_config_edit(&f, &env, px_buf_cstr(&tk, &err), px_buf_cstr(&vk, &err));
    px_assert_fails(parse_and_check(&f, &env, 0, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "its config names log log.elsewhere, the first instance's names log.test/pixiu"));
    /* The fixture's own plan: one log, the test log; not the network's if
     * the network's is another. */
    px_buf_reset(&env);
    fx_plan(&f, &env, -1);
    px_plan p;
    px_assert_ok(px_plan_parse(&p, env.data, env.len, &err), &err);
    px_assert_ok(px_plan_check(&p, fx_check, &f, 0, px_now_ms(), NULL, &err), &err);
    px_assert_ok(px_plan_check_log(&p, &px_testlog_keyed()->vkey, &err), &err);
    px_assert_fails(px_plan_check_log(&p, &ov, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "not in the network's log log.elsewhere"));
    px_plan_free(&p);
    px_buf_free(&env);
    px_buf_free(&vk);
    px_buf_free(&tk);
    fx_free(&f);
}

static void test_replay(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_err err = {0};
    char dir[] = "/tmp/px-admit-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/pod.db", dir);
    fx_plan(&f, &f.plan_env, -1);
    px_plan p;
    px_assert_ok(px_plan_parse(&p, f.plan_env.data, f.plan_env.len, &err), &err);
    px_admissions *a;
    px_assert_ok(px_admissions_open(&a, path, &err), &err);
    assert_int_equal(px_admissions_has(a, p.manifest.id, &err), 0);
    px_assert_ok(px_admissions_record(a, &p, px_now_ms(), &err), &err);
    px_assert_fails(px_admissions_record(a, &p, px_now_ms(), &err), &err, PX_E_STATE);
    assert_non_null(strstr(err.msg, "replayed"));
    px_admissions_close(a);
    /* A fresh plan for the same manifest, after a restart. */
    px_buf again = PX_BUF_INIT;
    fx_plan(&f, &again, -1);
    px_plan q;
    px_assert_ok(px_plan_parse(&q, again.data, again.len, &err), &err);
    assert_memory_not_equal(p.id, q.id, 32);
    px_assert_ok(px_admissions_open(&a, path, &err), &err);
    assert_int_equal(px_admissions_has(a, p.manifest.id, &err), 1);
    px_assert_fails(px_admissions_record(a, &q, px_now_ms(), &err), &err, PX_E_STATE);
    px_admissions_close(a);
    px_plan_free(&p);
    px_plan_free(&q);
    px_buf_free(&again);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_plan),    cmocka_unit_test(test_skips_dp),
        cmocka_unit_test(test_low_level_and_measurement), cmocka_unit_test(test_require_dp),
        cmocka_unit_test(test_bad_plans),    cmocka_unit_test(test_replay),
        cmocka_unit_test(test_log_and_deadline), cmocka_unit_test(test_config_not_manifest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
