/* Settling a POD's charge from the log: spent when the DP stage logged an
 * ok proof signed by its attested instance, refunded otherwise with the
 * first step that failed (or that nothing was logged); what the POD kept at
 * admission survives a restart and is settled once. */
#include "scenario.h"

static void watch_of(fx *f, const tlog *l, px_settle_watch *w) {
    px_err err = {0};
    px_plan p;
    px_attested att[FX_STAGES];
    px_buf plan = PX_BUF_INIT;
    if (l && l->n)
        px_buf_append(&plan, l->raw[0].data, l->raw[0].len, &err);
    else
        fx_plan(f, &plan, -1);
    px_assert_ok(px_plan_parse(&p, plan.data, plan.len, &err), &err);
    px_assert_ok(px_plan_check(&p, fx_check, f, 0, f->m.created, att, &err), &err);
    px_assert_ok(px_settle_watch_from_plan(w, &p, att, &err), &err);
    px_plan_free(&p);
    px_buf_free(&plan);
}

static void judge(fx *f, faults x, uint64_t size, px_settlement *s) {
    px_err err = {0};
    tlog l;
    px_entry e[MAXE];
    px_settle_watch w;
    build(f, &l, x);
    watch_of(f, x.no_plan ? NULL : &l, &w);
    for (size_t i = 0; i < l.n; i++)
        px_assert_ok(px_entry_parse(&e[i], i, l.raw[i].data, l.raw[i].len, &err), &err);
    px_assert_ok(px_settle_judge(&w, e, l.n, size ? size : l.n, s, &err), &err);
    for (size_t i = 0; i < l.n; i++)
        px_entry_free(&e[i]);
    px_settle_watch_free(&w);
    free_log(&l);
}

static void expect(faults x, uint64_t size, int refund, const char *why) {
    fx f;
    px_settlement s;
    fx_init(&f);
    judge(&f, x, size, &s);
    if (s.refund != refund || !strstr(s.reason, why))
        fail_msg("got %s: %s\nwant %s: %s", s.refund ? "refund" : "spent", s.reason, refund ? "refund" : "spent", why);
    fx_free(&f);
}

static void test_judge(void **state) {
    (void)state;
    faults x = NONE;
    /* A task whose DP stage logged its ok proof: spent, never refunded. */
    expect(x, 0, 0, "stage 2 (dp) logged its ok proof at log entry 9");
    /* Its proof beyond the log size checked does not count. */
    expect(x, 9, 1, "among the log's first 9 entries");
    /* A wasm stage that trapped before the DP stage ran. */
    x.fail_stage = 1;
    x.fail_status = "trap";
    expect(x, 0, 1, "stage 1 (wasm) partition 0 failed: trap (log entry 7)");
    expect(x, 0, 1, "no ok proof of stage 2 (dp) among the log's first 8 entries after the deadline");
    /* The DP stage never answered; the consumer said so. */
    x = NONE;
    x.drop_stage = 2;
    expect(x, 0, 1, "stage 2 (dp) partition 0 logged no outcome");
    x.report_dropped = 1;
    expect(x, 0, 1, "the consumer reported: timeout");
    /* An impostor's ok proof for the DP stage is no proof. */
    x = NONE;
    x.drop_stage = 2;
    x.forge_stage = 2;
    expect(x, 0, 1, "stage 2 (dp) partition 0 logged no outcome");
    /* Nothing at all in the log (only the plan and releases). */
    x = NONE;
    x.drop_stage = 0;
    expect(x, 0, 1, "no stage logged an outcome");
}

/* The watch is kept with the admission, in one durable transaction; due
 * watches come back after a restart until they are settled, then never. */
static void test_watch_storage(void **state) {
    (void)state;
    fx f;
    px_err err = {0};
    fx_init(&f);
    char dir[] = "/tmp/px-settle-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/node.db", dir);
    px_admissions *a;
    px_assert_ok(px_admissions_open(&a, path, &err), &err);
    px_buf plan = PX_BUF_INIT;
    fx_plan(&f, &plan, -1);
    px_plan p;
    px_attested att[FX_STAGES];
    px_assert_ok(px_plan_parse(&p, plan.data, plan.len, &err), &err);
    px_assert_ok(px_plan_check(&p, fx_check, &f, 0, f.m.created, att, &err), &err);
    px_assert_ok(px_admissions_admit(a, &p, att, px_now_ms(), &err), &err);
    /* A replayed plan is refused and records nothing more. */
    px_assert_fails(px_admissions_admit(a, &p, att, px_now_ms(), &err), &err, PX_E_STATE);
    px_settle_watch *w;
    size_t n;
    px_assert_ok(px_admissions_due(a, f.m.deadline - 1, 16, &w, &n, &err), &err);
    assert_int_equal(n, 0);
    free(w);
    px_admissions_close(a);
    px_assert_ok(px_admissions_open(&a, path, &err), &err);
    px_assert_ok(px_admissions_due(a, f.m.deadline, 16, &w, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_memory_equal(w[0].manifest, f.m.id, 32);
    assert_int_equal(w[0].deadline, f.m.deadline);
    assert_int_equal(w[0].stage, 2);
    assert_int_equal(w[0].nstages, 3);
    assert_string_equal(w[0].kinds[2], "dp");
    assert_int_equal(w[0].ninst, 3);
    assert_memory_equal(w[0].inst[2].sign_pk, att[2].sign_pk, 32);
    px_settle_watch_free(&w[0]);
    free(w);
    px_assert_ok(px_admissions_settled(a, f.m.id, "refunded", px_now_ms(), &err), &err);
    px_assert_ok(px_admissions_due(a, f.m.deadline + 1000, 16, &w, &n, &err), &err);
    assert_int_equal(n, 0);
    free(w);
    assert_int_equal(px_admissions_has(a, f.m.id, &err), 1);
    px_admissions_close(a);
    px_plan_free(&p);
    px_buf_free(&plan);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_judge), cmocka_unit_test(test_watch_storage)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
