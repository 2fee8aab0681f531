/* The audit names the first broken step (the trace: test_trace.c).
 * Each scenario builds a task's log entries the way the stages sign them. */
#include "scenario.h"

static void run_audit(fx *f, tlog *l, px_audit *a) {
    px_err err = {0};
    px_entry e[MAXE];
    for (size_t i = 0; i < l->n; i++)
        px_assert_ok(px_entry_parse(&e[i], i, l->raw[i].data, l->raw[i].len, &err), &err);
    px_assert_ok(px_audit_run(a, f->m.id, e, l->n, f->pod_keys, FX_PODS, fx_check, f, &err), &err);
    for (size_t i = 0; i < l->n; i++)
        px_entry_free(&e[i]);
}

static void expect(faults x, px_verdict v, int64_t stage, const char *status, const char *why) {
    fx f;
    tlog l;
    px_audit a;
    fx_init(&f);
    build(&f, &l, x);
    run_audit(&f, &l, &a);
    if (a.verdict != v || a.stage != stage || strcmp(a.status, status) || (why && !strstr(a.why, why)))
        fail_msg("got %s at stage %lld status %s: %s\nwant %s at stage %lld status %s (%s)\nreport:\n%s",
                 px_verdict_name(a.verdict), (long long)a.stage, a.status, a.why, px_verdict_name(v),
                 (long long)stage, status, why ? why : "", (char *)a.report.data);
    px_audit_free(&a);
    free_log(&l);
    fx_free(&f);
}

static void test_ok(void **state) {
    (void)state;
    fx f;
    tlog l;
    px_audit a, b;
    fx_init(&f);
    build(&f, &l, NONE);
    run_audit(&f, &l, &a);
    assert_int_equal(a.verdict, PX_AUDIT_OK);
    assert_int_equal(a.releases, 3);
    uint8_t want[32];
    digest_of(want, "output-2");
    assert_memory_equal(a.result, want, 32);
    assert_non_null(strstr((char *)a.report.data, "verdict: ok"));
    /* Same entries, same answer, byte for byte. */
    run_audit(&f, &l, &b);
    assert_string_equal((char *)a.report.data, (char *)b.report.data);
    px_audit_free(&a);
    px_audit_free(&b);
    free_log(&l);
    fx_free(&f);
}

static void test_failures(void **state) {
    (void)state;
    faults x = NONE;
    x.fail_stage = 1;
    x.fail_status = "trap";
    expect(x, PX_AUDIT_FAILED, 1, "trap", "stage 1 (wasm) on exec-1 signed a failure: trap");
    x.fail_status = "digest-mismatch";
    expect(x, PX_AUDIT_FAILED, 1, "digest-mismatch", "did not match the previous stage's proof");
    x.fail_stage = 0;
    x.fail_status = "bad-input";
    expect(x, PX_AUDIT_FAILED, 0, "bad-input", "did not match the POD releases");
}

static void test_missing(void **state) {
    (void)state;
    faults x = NONE;
    x.drop_stage = 2;
    expect(x, PX_AUDIT_MISSING, 2, "missing", "stage 2 (dp) partition 0 on exec-2 left no proof");
    x.forge_stage = 2; /* a proof by an impostor does not count */
    expect(x, PX_AUDIT_MISSING, 2, "missing", NULL);
    x.report_dropped = 1;
    expect(x, PX_AUDIT_MISSING, 2, "timeout", "the consumer reported: timeout");
}

static void test_broken_chain(void **state) {
    (void)state;
    faults x = NONE;
    x.release_bad_key = 1;
    expect(x, PX_AUDIT_FAILED, -1, "bad-release", "pod-1 released transactions to key");
    x = NONE;
    x.wrong_input = 1;
    expect(x, PX_AUDIT_FAILED, 1, "unproven-input", "stage 1 (wasm) on exec-1 used input");
    x = NONE;
    x.equivocate = 1;
    expect(x, PX_AUDIT_FAILED, 0, "equivocation", "two different outputs");
    x = NONE;
    x.no_plan = 1;
    expect(x, PX_AUDIT_NO_PLAN, -1, "no-plan", NULL);
    x = NONE;
    x.bad_measurement = 1;
    expect(x, PX_AUDIT_FAILED, -1, "bad-plan",
           "stage 1 (wasm) partition 0 on exec-1: evidence: build not accepted: component \"runner\" differs");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok),           cmocka_unit_test(test_failures), cmocka_unit_test(test_missing),
        cmocka_unit_test(test_broken_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
