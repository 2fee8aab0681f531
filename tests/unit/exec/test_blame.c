/* Accountability from the log alone: every instance signs an accepted-input
 * statement before its stage runs, so the audit can tell an executor that
 * went silent from a stage that never got its input, blame the executor by
 * name, and believe no consumer report. */
#include "scenario.h"

static void audit_at(fx *f, tlog *l, int64_t at, px_audit *a) {
    px_err err = {0};
    px_entry e[MAXE];
    for (size_t i = 0; i < l->n; i++)
        px_assert_ok(px_entry_parse(&e[i], i, l->raw[i].data, l->raw[i].len, &err), &err);
    px_assert_ok(px_audit_run_at(a, f->m.id, e, l->n, f->pod_keys, FX_PODS, fx_check, f, at, &err), &err);
    for (size_t i = 0; i < l->n; i++)
        px_entry_free(&e[i]);
}

static void want(const px_audit *a, px_verdict v, int64_t stage, const char *status, const char *blamed,
                 const char *why) {
    if (a->verdict != v || a->stage != stage || strcmp(a->status, status) || strcmp(a->blamed, blamed) ||
        (why && !strstr(a->why, why)))
        fail_msg("got %s at stage %lld status %s blamed \"%s\": %s\nwant %s at stage %lld status %s blamed \"%s\" "
                 "(%s)\nreport:\n%s", px_verdict_name(a->verdict), (long long)a->stage, a->status, a->blamed, a->why,
                 px_verdict_name(v), (long long)stage, status, blamed, why ? why : "", (char *)a->report.data);
}

/* The executor of stage 1 was killed after its instance accepted its input
 * (the accepted statement is in the log) and before it gave a proof. */
static void test_silent(void **state) {
    (void)state;
    fx f;
    tlog l;
    px_audit before, after, again, reported;
    fx_init(&f);
    faults x = NONE;
    x.drop_stage = 1;
    x.accept_dropped = 1;
    build(&f, &l, x);
    /* Before the deadline it may still answer: nobody is blamed yet. */
    audit_at(&f, &l, f.m.deadline - 1, &before);
    want(&before, PX_AUDIT_MISSING, 1, "running", "", "accepted its input (entry 6) and has logged no proof yet");
    /* After it, the log alone proves exec-1 silent. */
    audit_at(&f, &l, f.m.deadline + 1, &after);
    want(&after, PX_AUDIT_MISSING, 1, "silent", "exec-1",
         "stage 1 (wasm) partition 0 on exec-1 accepted its input (entry 6) and logged no proof by the manifest's "
         "deadline: exec-1 is silent");
    assert_int_equal(after.partition, 0);
    assert_string_equal(after.node, "exec-1");
    assert_non_null(strstr((char *)after.report.data, "\nblamed: exec-1\n"));
    /* Any party, any time after the deadline: the same report, byte for byte. */
    audit_at(&f, &l, f.m.deadline + 86400000, &again);
    assert_string_equal((char *)after.report.data, (char *)again.report.data);
    /* Without the consumer's word the verdict is the same; with it too. */
    consumer_report(&f, &l, 1, "exec-1");
    audit_at(&f, &l, f.m.deadline + 1, &reported);
    want(&reported, PX_AUDIT_MISSING, 1, "silent", "exec-1", NULL);
    assert_string_equal(after.why, reported.why);
    px_audit_free(&before);
    px_audit_free(&after);
    px_audit_free(&again);
    px_audit_free(&reported);
    free_log(&l);
    fx_free(&f);
}

/* No accepted statement: the stage never took input, which the log cannot
 * pin on anyone. The consumer's report is a claim, quoted as one. */
static void test_never_accepted(void **state) {
    (void)state;
    fx f;
    tlog l;
    px_audit a;
    fx_init(&f);
    faults x = NONE;
    x.drop_stage = 1;
    x.report_dropped = 1;
    build(&f, &l, x);
    audit_at(&f, &l, f.m.deadline + 1, &a);
    want(&a, PX_AUDIT_MISSING, 1, "missing", "",
         "stage 1 (wasm) partition 0 on exec-1 never accepted input (no accepted-input statement in the log); the "
         "consumer reports timeout: no answer within 30000 ms, an unproven claim");
    assert_non_null(strstr((char *)a.report.data, "blamed: nobody"));
    px_audit_free(&a);
    /* An accepted statement nobody attested (an impostor's key, or naming
     * other evidence) does not make the stage accountable either. */
    px_signer impostor;
    px_err err = {0};
    px_assert_ok(px_signer_generate(&impostor, "instance", &err), &err);
    px_input_ref in;
    memset(&in, 0, sizeof in);
    fx_accepted(&f, &l.raw[l.n++], &impostor, 1, &in, 1, f.inst[1].evidence_digest);
    uint8_t other[32];
    digest_of(other, "other evidence");
    fx_accepted(&f, &l.raw[l.n++], &f.inst[1].sign, 1, &in, 1, other);
    audit_at(&f, &l, f.m.deadline + 1, &a);
    want(&a, PX_AUDIT_MISSING, 1, "missing", "", NULL);
    assert_non_null(strstr((char *)a.report.data, "accepted-input statement not signed by the attested instance"));
    assert_non_null(strstr((char *)a.report.data, "accepted-input statement names other evidence"));
    px_audit_free(&a);
    free_log(&l);
    fx_free(&f);
}

/* A consumer blames an innocent executor that did log its proof: the audit
 * notes the report and ignores it. */
static void test_fake_report(void **state) {
    (void)state;
    fx f;
    tlog l;
    px_audit a;
    fx_init(&f);
    faults x = NONE;
    x.report_ok_stage = 1;
    build(&f, &l, x);
    audit_at(&f, &l, f.m.deadline + 1, &a);
    assert_int_equal(a.verdict, PX_AUDIT_OK);
    assert_string_equal(a.blamed, "");
    if (!strstr((char *)a.report.data, "ignored: the consumer reports stage 1 partition 0 on exec-1 timeout, but the "
                                       "instance logged its proof"))
        fail_msg("report does not set the claim aside:\n%s", (char *)a.report.data);
    px_audit_free(&a);
    free_log(&l);
    fx_free(&f);
}

/* A proof with no accepted-input statement before it: the instance ran
 * without being on record, which an attested worker never does. */
static void test_unaccepted(void **state) {
    (void)state;
    fx f;
    tlog l;
    px_audit a;
    fx_init(&f);
    faults x = NONE;
    x.unaccepted_stage = 1;
    build(&f, &l, x);
    audit_at(&f, &l, 0, &a);
    want(&a, PX_AUDIT_FAILED, 1, "unaccepted", "exec-1", "without an accepted-input statement");
    px_audit_free(&a);
    free_log(&l);
    fx_free(&f);
}

/* Who else the log proves at fault. */
static void test_blamed_parties(void **state) {
    (void)state;
    struct {
        faults x;
        const char *status, *blamed;
    } cases[] = {
        {NONE, "trap", "consumer-1"},        /* the task's own code trapped */
        {NONE, "digest-mismatch", ""},       /* producer or relay: a sealed box does not say */
        {NONE, "internal", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx f;
        tlog l;
        px_audit a;
        fx_init(&f);
        faults x = cases[i].x;
        x.fail_stage = 1;
        x.fail_status = cases[i].status;
        build(&f, &l, x);
        audit_at(&f, &l, f.m.deadline + 1, &a);
        want(&a, PX_AUDIT_FAILED, 1, cases[i].status, cases[i].blamed, NULL);
        px_audit_free(&a);
        free_log(&l);
        fx_free(&f);
    }
    fx f;
    tlog l;
    px_audit a;
    fx_init(&f);
    faults x = NONE;
    x.release_bad_key = 1;
    build(&f, &l, x);
    audit_at(&f, &l, 0, &a);
    want(&a, PX_AUDIT_FAILED, -1, "bad-release", "pod-1", NULL);
    px_audit_free(&a);
    free_log(&l);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent),      cmocka_unit_test(test_never_accepted),
        cmocka_unit_test(test_fake_report), cmocka_unit_test(test_unaccepted),
        cmocka_unit_test(test_blamed_parties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
