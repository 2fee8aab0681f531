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
    px_assert_ok(px_stage_config_parse(&c, p.instances[1].config.data, p.instances[1].config.len, &err), &err);
    assert_string_equal(c.kind, "wasm");
    assert_int_equal(c.nplatform_keys, 1);
    assert_int_equal(c.nsuccessors, 1);
    assert_memory_equal(c.successors[0], f.inst[2].box.pk, 32);
    px_stage_config_free(&c);
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
    /* Flip bytes of a good plan: parse or check fails, or the id changes. */
    fx_plan(&f, &f.plan_env, -1);
    for (size_t i = 0; i < f.plan_env.len; i += 11) {
        f.plan_env.data[i] ^= 0x04;
        if (px_plan_parse(&p, f.plan_env.data, f.plan_env.len, &err) == 0) {
            uint8_t id[32];
            px_sha256(id, f.plan_env.data, f.plan_env.len);
            assert_memory_equal(p.id, id, 32);
            px_plan_free(&p);
        }
        f.plan_env.data[i] ^= 0x04;
    }
    px_buf_free(&env);
    fx_free(&f);
}

/* A plan admitted once is refused the second time, also after reopening. */
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
