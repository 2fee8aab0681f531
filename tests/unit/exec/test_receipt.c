/* Receipts: built from a real log (SQLite) and witness, checked offline;
 * any flipped byte, an untrusted log key or a failed task makes the check
 * fail. */
#include "scenario.h"

typedef struct lg {
    char dir[32];
    px_signer log_key, witness_key;
    px_log *log;
} lg;

static void lg_open(lg *l) {
    px_err err = {0};
    char path[64];
    strcpy(l->dir, "/tmp/px-receipt-XXXXXX");
    assert_non_null(mkdtemp(l->dir));
    l->log_key = px_testlog_keyed()->key; /* the log the fixture's instances answer to */
    px_assert_ok(px_signer_generate(&l->witness_key, "witness.example", &err), &err);
    snprintf(path, sizeof path, "%s/log.db", l->dir);
    px_log_opts o = {.store = path, .key = &l->log_key};
    px_assert_ok(px_log_open(&l->log, &o, &err), &err);
}

static void lg_close(lg *l) {
    px_log_close(l->log);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", l->dir);
    assert_int_equal(system(cmd), 0);
}

/* Append the scenario's entries, cosign the checkpoint as a witness does,
 * build the receipt. */
/* Keys a receipt may carry beyond what the task used: each must be refused. */
enum { EXTRA_NONE = 0, EXTRA_POD = 1, EXTRA_BUILD = 2 };

static void make_receipt_full(fx *f, lg *l, const tlog *t, const uint8_t result[32], const px_audit *failure,
                              uint64_t cosigned, px_buf *out, int extra);

static void make_receipt_x(fx *f, lg *l, const tlog *t, const uint8_t result[32], px_buf *out, int extra) {
    make_receipt_full(f, l, t, result, NULL, (uint64_t)(px_now_ms() / 1000), out, extra);
}

/* ts: the witness's cosignature time (s); failure: the verdict a failure
 * receipt states (result is then ignored). */
static void make_receipt_full(fx *f, lg *l, const tlog *t, const uint8_t result[32], const px_audit *failure,
                              uint64_t ts, px_buf *out, int extra) {
    px_err err = {0};
    const uint8_t *ents[MAXE];
    size_t lens[MAXE];
    for (size_t i = 0; i < t->n; i++) {
        ents[i] = t->raw[i].data;
        lens[i] = t->raw[i].len;
    }
    uint64_t first, size;
    px_buf cp = PX_BUF_INIT, cosigned = PX_BUF_INIT, proofs[MAXE];
    px_assert_ok(px_log_append(l->log, ents, lens, t->n, &first, NULL, &err), &err);
    px_assert_ok(px_log_checkpoint(l->log, &cp, &size, &err), &err);
    px_verifier lv;
    px_signer_verifier(&l->log_key, &lv);
    px_note note;
    px_assert_ok(px_note_parse(&note, (char *)cp.data, cp.len, &err), &err);
    px_assert_ok(px_cosig_sign(&note, &l->witness_key, ts, &err), &err);
    px_assert_ok(px_note_format(&note, &cosigned, &err), &err);
    px_note_free(&note);
    px_receipt_entry re[MAXE];
    for (size_t i = 0; i < t->n; i++) {
        memset(&proofs[i], 0, sizeof proofs[i]);
        px_assert_ok(px_log_inclusion(l->log, first + i, size, &proofs[i], &err), &err);
        re[i] = (px_receipt_entry){first + i, ents[i], lens[i], proofs[i].data, proofs[i].len / 32};
    }
    px_cosigner wit;
    px_cosig_from_signer(&l->witness_key, &wit);
    px_node_key pods[FX_PODS + 1];
    for (int i = 0; i < FX_PODS; i++) {
        snprintf(pods[i].id, sizeof pods[i].id, "pod-%d", i);
        px_signer_verifier(&f->pods[i], &pods[i].key);
    }
    size_t npods = FX_PODS;
    if (extra & EXTRA_POD) { /* a POD that released nothing for this task */
        px_signer idle;
        px_assert_ok(px_signer_generate(&idle, "pod-idle", &err), &err);
        snprintf(pods[npods].id, sizeof pods[npods].id, "pod-idle");
        px_signer_verifier(&idle, &pods[npods++].key);
    }
    uint8_t builds[2][32];
    memcpy(builds[0], f->build_digest, 32);
    px_random(builds[1], 32); /* a build that measured no instance */
    px_receipt_parts parts = {
        .manifest = f->m.id, .result = result, .failure = failure, .log_key = &lv, .checkpoint = (char *)cosigned.data,
        .checkpoint_len = cosigned.len, .witnesses = &wit, .nwitnesses = 1, .pods = pods, .npods = npods,
        .platforms = f->nodes, .nplatforms = FX_STAGES, .builds = (const uint8_t(*)[32])builds,
        .nbuilds = (extra & EXTRA_BUILD) ? 2 : 1, .entries = re, .nentries = t->n};
    px_assert_ok(px_receipt_build(out, &parts, &err), &err);
    for (size_t i = 0; i < t->n; i++)
        px_buf_free(&proofs[i]);
    px_buf_free(&cp);
    px_buf_free(&cosigned);
}

static void make_receipt(fx *f, lg *l, const tlog *t, const uint8_t result[32], px_buf *out) {
    make_receipt_x(f, l, t, result, out, EXTRA_NONE);
}

static void test_receipt(void **state) {
    (void)state;
    fx f;
    lg l;
    tlog t;
    px_err err = {0};
    fx_init(&f);
    lg_open(&l);
    build(&f, &t, NONE);
    uint8_t result[32];
    digest_of(result, "output-2");
    px_buf r = PX_BUF_INIT;
    make_receipt(&f, &l, &t, result, &r);

    px_verifier lv;
    px_cosigner wv;
    px_signer_verifier(&l.log_key, &lv);
    px_cosig_from_signer(&l.witness_key, &wv);
    px_receipt_pins pins = {&lv, &wv, 1};
    px_receipt_summary s;
    px_assert_ok(px_receipt_check(r.data, r.len, &pins, &s, &err), &err);
    assert_memory_equal(s.result, result, 32);
    assert_memory_equal(s.manifest, f.m.id, 32);
    assert_int_equal(s.nentries, t.n);
    assert_int_equal(s.ncosigs, 1);
    assert_true(s.pinned);
    px_receipt_summary_free(&s);

    /* Another log key, or a witness that did not cosign, is refused. */
    px_signer other;
    px_assert_ok(px_signer_generate(&other, "log.example", &err), &err);
    px_verifier ov;
    px_signer_verifier(&other, &ov);
    px_receipt_pins bad_log = {&ov, NULL, 0};
    px_assert_fails(px_receipt_check(r.data, r.len, &bad_log, &s, &err), &err, PX_E_VERIFY);
    px_cosigner ow;
    px_cosig_from_signer(&other, &ow);
    px_receipt_pins bad_wit = {&lv, &ow, 1};
    px_assert_fails(px_receipt_check(r.data, r.len, &bad_wit, &s, &err), &err, PX_E_VERIFY);

    /* Any byte flipped: the check fails. */
    for (size_t i = 0; i < r.len; i++) {
        r.data[i] ^= 0x01;
        if (px_receipt_check(r.data, r.len, NULL, &s, &err) == 0)
            fail_msg("receipt with byte %zu flipped still checks: ...%.40s...", i,
                     (char *)r.data + (i > 20 ? i - 20 : 0));
        r.data[i] ^= 0x01;
    }
    px_buf_free(&r);
    free_log(&t);
    lg_close(&l);
    fx_free(&f);
}

/* A receipt for a task whose DP stage never answered does not check. */
static void test_failed_task(void **state) {
    (void)state;
    fx f;
    lg l;
    tlog t;
    px_err err = {0};
    fx_init(&f);
    lg_open(&l);
    faults x = NONE;
    x.drop_stage = 2;
    build(&f, &t, x);
    uint8_t result[32];
    digest_of(result, "output-1");
    px_buf r = PX_BUF_INIT;
    make_receipt(&f, &l, &t, result, &r);
    px_receipt_summary s;
    px_assert_fails(px_receipt_check(r.data, r.len, NULL, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "stage 2 (dp) partition 0 on exec-2 never accepted input"));
    px_buf_free(&r);
    free_log(&t);
    lg_close(&l);
    fx_free(&f);
}

/* A receipt that carries a key nothing in the task used is refused, naming
 * it: otherwise a receipt could lend a task the authority of a POD or a
 * build that had no part in it. */
static void test_unused_keys(void **state) {
    (void)state;
    fx f;
    lg l;
    tlog t;
    px_err err = {0};
    fx_init(&f);
    lg_open(&l);
    build(&f, &t, NONE);
    uint8_t result[32];
    digest_of(result, "output-2");
    px_receipt_summary s;
    px_buf r = PX_BUF_INIT;
    make_receipt_x(&f, &l, &t, result, &r, EXTRA_POD);
    px_assert_fails(px_receipt_check(r.data, r.len, NULL, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "POD key pod-idle signed no release of the task"));
    px_buf_free(&r);
    make_receipt_x(&f, &l, &t, result, &r, EXTRA_BUILD);
    px_assert_fails(px_receipt_check(r.data, r.len, NULL, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "build 1 measures no instance of the task"));
    px_buf_free(&r);
    free_log(&t);
    lg_close(&l);
    fx_free(&f);
}

static void audit_log(fx *f, const tlog *t, int64_t at, px_audit *a) {
    px_err err = {0};
    px_entry e[MAXE];
    for (size_t i = 0; i < t->n; i++)
        px_assert_ok(px_entry_parse(&e[i], i, t->raw[i].data, t->raw[i].len, &err), &err);
    px_assert_ok(px_audit_run_at(a, f->m.id, e, t->n, f->pod_keys, FX_PODS, fx_check, f, at, &err), &err);
    for (size_t i = 0; i < t->n; i++)
        px_entry_free(&e[i]);
}

/* The executor of stage 1 was killed after its instance accepted its input:
 * the failure receipt states the audit's verdict, blaming it by name, and
 * checks offline; any flipped byte, another blamed party, or a checkpoint
 * cosigned before the deadline (when silence proves nothing yet) fails. */
static void test_failure_receipt(void **state) {
    (void)state;
    fx f;
    lg l;
    tlog t;
    px_err err = {0};
    fx_init(&f);
    lg_open(&l);
    faults x = NONE;
    x.drop_stage = 1;
    x.accept_dropped = 1;
    x.report_dropped = 1;
    build(&f, &t, x);
    uint64_t after = (uint64_t)(f.m.deadline / 1000) + 2;
    px_audit a;
    audit_log(&f, &t, (int64_t)after * 1000, &a);
    assert_string_equal(a.status, "silent");
    assert_string_equal(a.blamed, "exec-1");
    px_buf r = PX_BUF_INIT;
    make_receipt_full(&f, &l, &t, NULL, &a, after, &r, EXTRA_NONE);

    px_verifier lv;
    px_cosigner wv;
    px_signer_verifier(&l.log_key, &lv);
    px_cosig_from_signer(&l.witness_key, &wv);
    px_receipt_pins pins = {&lv, &wv, 1};
    px_receipt_summary s;
    px_assert_ok(px_receipt_check(r.data, r.len, &pins, &s, &err), &err);
    assert_true(s.failed);
    assert_int_equal(s.at, (int64_t)after * 1000);
    assert_int_equal(s.audit.verdict, PX_AUDIT_MISSING);
    assert_int_equal(s.audit.stage, 1);
    assert_string_equal(s.audit.status, "silent");
    assert_string_equal(s.audit.blamed, "exec-1");
    px_receipt_summary_free(&s);
    json_t *doc = px_json_parse(r.data, r.len, 1 << 24, &err);
    assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "failed");
    assert_null(json_object_get(doc, "result"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "failure"), "blamed")), "exec-1");
    json_decref(doc);

    /* Every byte of what it states, and of the rest one in five (the
     * success receipt above has every byte flipped). */
    const char *fs = strstr((char *)r.data, "\"failure\":"), *fe = fs ? strchr(fs, '}') : NULL;
    assert_non_null(fe);
    for (size_t i = 0; i < r.len; i++) {
        if (((const char *)r.data + i < fs || (const char *)r.data + i > fe) && i % 5)
            continue;
        r.data[i] ^= 0x01;
        if (px_receipt_check(r.data, r.len, NULL, &s, &err) == 0)
            fail_msg("failure receipt with byte %zu flipped still checks: ...%.40s...", i,
                     (char *)r.data + (i > 20 ? i - 20 : 0));
        r.data[i] ^= 0x01;
    }
    /* A receipt blaming another party than the log does. */
    px_audit lie = a;
    snprintf(lie.blamed, sizeof lie.blamed, "exec-0");
    px_buf_reset(&r);
    make_receipt_full(&f, &l, &t, NULL, &lie, after, &r, EXTRA_NONE);
    px_assert_fails(px_receipt_check(r.data, r.len, &pins, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "the receipt blames exec-0; the audit of its entries blames exec-1"));
    /* Cosigned before the deadline: the instance may still answer, so the
     * receipt cannot call it silent. */
    px_buf_reset(&r);
    make_receipt_full(&f, &l, &t, NULL, &a, (uint64_t)(f.m.deadline / 1000) - 5, &r, EXTRA_NONE);
    px_assert_fails(px_receipt_check(r.data, r.len, &pins, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "missing (running)"));
    px_audit_free(&a);
    px_buf_free(&r);
    free_log(&t);

    /* A task that succeeded cannot be passed off as failed. */
    build(&f, &t, NONE);
    audit_log(&f, &t, 0, &a);
    assert_int_equal(a.verdict, PX_AUDIT_OK);
    px_audit fake = a;
    fake.verdict = PX_AUDIT_MISSING;
    snprintf(fake.status, sizeof fake.status, "missing");
    make_receipt_full(&f, &l, &t, NULL, &fake, after, &r, EXTRA_NONE);
    px_assert_fails(px_receipt_check(r.data, r.len, &pins, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "the audit of its entries is ok"));
    px_audit_free(&a);
    px_buf_free(&r);
    free_log(&t);
    lg_close(&l);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_receipt), cmocka_unit_test(test_failed_task),
                                       cmocka_unit_test(test_unused_keys), cmocka_unit_test(test_failure_receipt)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
