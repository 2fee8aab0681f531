/* A plan larger than one log entry is published as a chain of plan parts.
 * The audit puts it back together from the entries alone; parts appended
 * by someone else neither block nor alter it; a missing part leaves no plan.
 * The log's entry limit is set small here so the fixture's plan needs many
 * parts. */
#include "scenario.h"

#define SMALL_ENTRY 4096
#define MAXP 64

typedef struct partlog {
    px_buf raw[MAXP + MAXE];
    size_t n;
} partlog;

/* The scenario's entries with its plan replaced by plan parts; `extra`
 * (may be NULL) goes before the parts. */
static void with_parts(fx *f, const tlog *t, partlog *pl, const px_buf *extra, int drop_part) {
    px_err err = {0};
    px_buf *parts = NULL;
    size_t np = 0;
    memset(pl, 0, sizeof *pl);
    px_assert_ok(px_plan_publish(&parts, &np, t->raw[0].data, t->raw[0].len, SMALL_ENTRY, &f->m, &f->consumer, &err),
                 &err);
    assert_true(np > 2 && np <= MAXP);
    if (extra)
        px_buf_append(&pl->raw[pl->n++], extra->data, extra->len, NULL);
    for (size_t i = 0; i < np; i++) {
        assert_true(parts[i].len <= SMALL_ENTRY);
        if ((int)i != drop_part)
            px_buf_append(&pl->raw[pl->n++], parts[i].data, parts[i].len, NULL);
        px_buf_free(&parts[i]);
    }
    free(parts);
    for (size_t i = 1; i < t->n; i++)
        px_buf_append(&pl->raw[pl->n++], t->raw[i].data, t->raw[i].len, NULL);
}

static void audit(fx *f, partlog *pl, px_audit *a) {
    px_err err = {0};
    px_entry *e = calloc(pl->n, sizeof *e);
    assert_non_null(e);
    for (size_t i = 0; i < pl->n; i++)
        px_assert_ok(px_entry_parse(&e[i], i, pl->raw[i].data, pl->raw[i].len, &err), &err);
    px_assert_ok(px_audit_run(a, f->m.id, e, pl->n, f->pod_keys, FX_PODS, fx_check, f, &err), &err);
    for (size_t i = 0; i < pl->n; i++)
        px_entry_free(&e[i]);
    free(e);
}

static void partlog_free(partlog *pl) {
    for (size_t i = 0; i < pl->n; i++)
        px_buf_free(&pl->raw[i]);
}

/* A part 0 for the real chain's head with other bytes, signed by someone. */
static void forged_part(fx *f, const partlog *real, px_buf *out) {
    px_err err = {0};
    px_entry e;
    px_assert_ok(px_entry_parse(&e, 0, real->raw[0].data, real->raw[0].len, &err), &err);
    assert_int_equal(e.kind, PX_ENTRY_PLAN_PART);
    px_signer stranger;
    px_assert_ok(px_signer_generate(&stranger, "stranger", &err), &err);
    json_t *p = json_object();
    json_object_set_new(p, "manifest", fx_hexstr(f->m.id, 32));
    json_object_set_new(p, "plan", fx_hexstr(e.part_of, 32));
    json_object_set_new(p, "part", json_integer(0));
    json_object_set_new(p, "parts", json_integer(e.parts));
    json_object_set_new(p, "next", fx_hexstr(e.part_next, 32));
    json_object_set_new(p, "bytes", json_string("AAAA"));
    fx_statement(out, &stranger, PX_PLAN_PART_PREDICATE, "manifest", f->m.id, p);
    px_entry_free(&e);
}

static void test_parts(void **state) {
    (void)state;
    fx f;
    tlog t;
    partlog pl, forged;
    px_audit a;
    fx_init(&f);
    build(&f, &t, NONE);

    with_parts(&f, &t, &pl, NULL, -1);
    audit(&f, &pl, &a);
    if (a.verdict != PX_AUDIT_OK)
        fail_msg("verdict %s: %s\n%s", px_verdict_name(a.verdict), a.why, (char *)a.report.data);
    assert_non_null(strstr((char *)a.report.data, "(last of its parts)"));
    px_audit_free(&a);

    /* A forged part for the same chain, before the real ones: ignored. */
    px_buf bad = PX_BUF_INIT;
    forged_part(&f, &pl, &bad);
    with_parts(&f, &t, &forged, &bad, -1);
    audit(&f, &forged, &a);
    assert_int_equal(a.verdict, PX_AUDIT_OK);
    px_audit_free(&a);
    partlog_free(&forged);
    px_buf_free(&bad);

    /* A missing part: no plan. */
    with_parts(&f, &t, &forged, NULL, 1);
    audit(&f, &forged, &a);
    assert_int_equal(a.verdict, PX_AUDIT_NO_PLAN);
    px_audit_free(&a);
    partlog_free(&forged);

    /* A plan that fits one entry is published whole. */
    px_err err = {0};
    px_buf *one = NULL;
    size_t n = 0;
    px_assert_ok(px_plan_publish(&one, &n, t.raw[0].data, t.raw[0].len, 0, &f.m, &f.consumer, &err), &err);
    assert_int_equal(n, 1);
    assert_int_equal(one[0].len, t.raw[0].len);
    assert_memory_equal(one[0].data, t.raw[0].data, one[0].len);
    px_buf_free(&one[0]);
    free(one);
    /* Entries too small for parts are refused by name. */
    assert_int_equal(px_plan_publish(&one, &n, t.raw[0].data, t.raw[0].len, 1500, &f.m, &f.consumer, &err), -1);
    assert_non_null(strstr(err.msg, "too small"));

    partlog_free(&pl);
    free_log(&t);
    fx_free(&f);
}

/* Hostile parts: out of range, empty, too large, unknown members. */
static void test_bad_parts(void **state) {
    (void)state;
    fx f;
    fx_init(&f);
    px_signer s;
    px_err err = {0};
    px_assert_ok(px_signer_generate(&s, "someone", &err), &err);
    static const struct { int part, parts; const char *bytes, *extra; } cases[] = {
        {2, 2, "AAAA", NULL}, {0, 1, "AAAA", NULL}, {-1, 3, "AAAA", NULL}, {0, 3, "", NULL},
        {0, 3, "AAAA", "x"}, {0, 100000, "AAAA", NULL}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *p = json_object();
        uint8_t z[32] = {0};
        json_object_set_new(p, "manifest", fx_hexstr(f.m.id, 32));
        json_object_set_new(p, "plan", fx_hexstr(z, 32));
        json_object_set_new(p, "part", json_integer(cases[i].part));
        json_object_set_new(p, "parts", json_integer(cases[i].parts));
        json_object_set_new(p, "next", fx_hexstr(z, 32));
        json_object_set_new(p, "bytes", json_string(cases[i].bytes));
        if (cases[i].extra)
            json_object_set_new(p, cases[i].extra, json_true());
        px_buf b = PX_BUF_INIT;
        fx_statement(&b, &s, PX_PLAN_PART_PREDICATE, "manifest", f.m.id, p);
        px_entry e;
        if (px_entry_parse(&e, 0, b.data, b.len, &err) == 0)
            fail_msg("case %zu parsed", i);
        px_buf_free(&b);
    }
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_parts), cmocka_unit_test(test_bad_parts)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
