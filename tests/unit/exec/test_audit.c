/* The audit names the first broken step; the trace walks back to releases.
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
    expect(x, PX_AUDIT_MISSING, 2, "missing", "stage 2 (dp) partition 0 on exec-2 never accepted input");
    x.forge_stage = 2; /* a proof by an impostor does not count */
    expect(x, PX_AUDIT_MISSING, 2, "missing", NULL);
    /* The consumer's report is quoted, never believed: no verdict rests on it. */
    x.report_dropped = 1;
    expect(x, PX_AUDIT_MISSING, 2, "missing", "the consumer reports timeout: no answer within 30000 ms, an unproven");
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
    expect(x, PX_AUDIT_FAILED, -1, "bad-plan", "stage 1 (wasm) partition 0 on exec-1: evidence: measurement");
}

/* ---- trace ------------------------------------------------------------------ */

typedef struct tctx {
    px_entry *e;
    size_t n;
} tctx;

static int lookup(void *ctx, const uint8_t d[32], px_entry **out, size_t *n, px_err *err) {
    tctx *t = ctx;
    *out = calloc(MAXE, sizeof **out);
    *n = 0;
    for (size_t i = 0; i < t->n; i++) {
        int hit = 0;
        for (size_t j = 0; j < t->e[i].st.nsubjects; j++)
            hit |= !memcmp(t->e[i].st.subjects[j].sha256, d, 32);
        if (hit && t->e[i].kind != PX_ENTRY_PLAN &&
            px_entry_parse(&(*out)[(*n)++], t->e[i].index, t->e[i].raw.data, t->e[i].raw.len, err))
            return -1;
    }
    return 0;
}

static void test_trace(void **state) {
    (void)state;
    fx f;
    tlog l;
    px_err err = {0};
    fx_init(&f);
    build(&f, &l, NONE);
    px_entry e[MAXE];
    for (size_t i = 0; i < l.n; i++)
        px_assert_ok(px_entry_parse(&e[i], i, l.raw[i].data, l.raw[i].len, &err), &err);
    tctx t = {e, l.n};
    uint8_t root[32];
    digest_of(root, "output-2");
    px_buf out = PX_BUF_INIT;
    px_assert_ok(px_trace(&out, root, lookup, &t, PX_TRACE_TEXT, &err), &err);
    px_buf_cstr(&out, &err);
    for (int i = 0; i < FX_PODS; i++) {
        char want[64];
        snprintf(want, sizeof want, "released by pod-%d dataset transactions", i);
        assert_non_null(strstr((char *)out.data, want));
    }
    assert_non_null(strstr((char *)out.data, "stage 1 (wasm) partition 0: ok"));
    px_buf_reset(&out);
    px_assert_ok(px_trace(&out, root, lookup, &t, PX_TRACE_JSON, &err), &err);
    json_t *j = px_json_parse(out.data, out.len, 1 << 20, &err);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "nodes")), 3 + FX_PODS);
    json_decref(j);
    px_buf_reset(&out);
    px_assert_ok(px_trace(&out, root, lookup, &t, PX_TRACE_DOT, &err), &err);
    px_buf_cstr(&out, &err);
    assert_int_equal(strncmp((char *)out.data, "digraph trace {", 15), 0);
    assert_non_null(strstr((char *)out.data, "-> s0_0;"));
    /* A digest the log never saw is a single unknown node. */
    px_buf_reset(&out);
    digest_of(root, "never seen");
    px_assert_ok(px_trace(&out, root, lookup, &t, PX_TRACE_TEXT, &err), &err);
    px_buf_cstr(&out, &err);
    assert_non_null(strstr((char *)out.data, "unknown to the log"));
    px_buf_free(&out);
    for (size_t i = 0; i < l.n; i++)
        px_entry_free(&e[i]);
    free_log(&l);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok),           cmocka_unit_test(test_failures), cmocka_unit_test(test_missing),
        cmocka_unit_test(test_broken_chain), cmocka_unit_test(test_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
