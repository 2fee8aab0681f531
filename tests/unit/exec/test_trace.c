/* The trace as lineage: only declared edges (an input's proof id), every
 * step checked against its signer, never through a failed step, never into
 * another task whose outputs happen to be equal. */
#include "scenario.h"

typedef struct tctx {
    px_entry e[4 * MAXE];
    size_t n;
} tctx;

static void add_log(tctx *t, const tlog *l) {
    px_err err = {0};
    for (size_t i = 0; i < l->n; i++, t->n++)
        px_assert_ok(px_entry_parse(&t->e[t->n], t->n, l->raw[i].data, l->raw[i].len, &err), &err);
}

static void tctx_free(tctx *t) {
    for (size_t i = 0; i < t->n; i++)
        px_entry_free(&t->e[i]);
}

/* As the log's indexes answer: by subject digest, or by manifest id. */
static int lookup(tctx *t, const uint8_t d[32], int by_manifest, px_entry **out, size_t *n, px_err *err) {
    *out = calloc(t->n + 1, sizeof **out);
    *n = 0;
    for (size_t i = 0; i < t->n; i++) {
        int hit = 0;
        if (by_manifest)
            hit = t->e[i].kind != PX_ENTRY_OTHER && !memcmp(t->e[i].manifest, d, 32);
        else
            for (size_t j = 0; j < t->e[i].st.nsubjects; j++)
                hit |= !memcmp(t->e[i].st.subjects[j].sha256, d, 32);
        if (hit && px_entry_parse(&(*out)[(*n)++], t->e[i].index, t->e[i].raw.data, t->e[i].raw.len, err))
            return -1;
    }
    return 0;
}

static int by_subject(void *ctx, const uint8_t d[32], px_entry **out, size_t *n, px_err *err) {
    return lookup(ctx, d, 0, out, n, err);
}

static int by_manifest(void *ctx, const uint8_t d[32], px_entry **out, size_t *n, px_err *err) {
    return lookup(ctx, d, 1, out, n, err);
}

static char *trace(fx *f, tctx *t, const char *label, const uint8_t *task, px_trace_format fmt, size_t *unverified) {
    px_err err = {0};
    uint8_t root[32];
    digest_of(root, label);
    px_trace_src src = {.subject = by_subject, .manifest = by_manifest, .ctx = t, .pods = f->pod_keys,
                        .npods = FX_PODS, .check = fx_check, .check_ctx = f, .task = task};
    px_buf out = PX_BUF_INIT;
    size_t u = 0;
    px_assert_ok(px_trace(&out, root, &src, fmt, &u, &err), &err);
    px_buf_cstr(&out, &err);
    if (unverified)
        *unverified = u;
    return (char *)out.data;
}

static void test_lineage(void **state) {
    (void)state;
    fx f;
    tlog l;
    tctx *t = calloc(1, sizeof *t);
    fx_init(&f);
    build(&f, &l, NONE);
    add_log(t, &l);
    size_t u = 1;
    char *out = trace(&f, t, "output-2", NULL, PX_TRACE_TEXT, &u);
    for (int i = 0; i < FX_PODS; i++) {
        char want[64];
        snprintf(want, sizeof want, "released by pod-%d dataset transactions", i);
        assert_non_null(strstr(out, want));
    }
    assert_non_null(strstr(out, "stage 1 (wasm) partition 0: ok"));
    assert_non_null(strstr(out, "[verified]"));
    assert_null(strstr(out, "UNVERIFIED"));
    assert_int_equal(u, 0);
    free(out);
    out = trace(&f, t, "output-2", NULL, PX_TRACE_JSON, NULL);
    px_err err = {0};
    json_t *j = px_json_parse(out, strlen(out), 1 << 20, &err);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "nodes")), 3 + FX_PODS);
    assert_int_equal(json_integer_value(json_object_get(j, "unverified")), 0);
    json_decref(j);
    free(out);
    out = trace(&f, t, "output-2", NULL, PX_TRACE_DOT, NULL);
    assert_int_equal(strncmp(out, "digraph trace {", 15), 0);
    assert_non_null(strstr(out, "s0 -> d0;"));
    assert_non_null(strstr(out, "d1 -> s0;"));
    free(out);
    /* A digest the log never saw is a single unknown node. */
    out = trace(&f, t, "never seen", NULL, PX_TRACE_TEXT, NULL);
    assert_non_null(strstr(out, "unknown to the log"));
    free(out);
    tctx_free(t);
    free(t);
    free_log(&l);
    fx_free(&f);
}

/* Two unrelated tasks whose stages output equal digests (the scenario's
 * digests do not depend on the task): each lineage stays in its task. */
static void test_unrelated_tasks(void **state) {
    (void)state;
    fx f;
    tlog a, b;
    tctx *t = calloc(1, sizeof *t);
    fx_init(&f);
    build(&f, &a, NONE);
    uint8_t task_a[32];
    memcpy(task_a, f.m.id, 32);
    fx_new_manifest(&f, FX_STAGES_JSON);
    build(&f, &b, NONE);
    char hb[17];
    px_hex_encode(hb, f.m.id, 8);
    add_log(t, &a);
    add_log(t, &b);
    /* Task A's result: nothing of task B. */
    char *out = trace(&f, t, "output-2", task_a, PX_TRACE_TEXT, NULL);
    assert_null(strstr(out, hb));
    assert_non_null(strstr(out, "released by pod-2 dataset transactions"));
    free(out);
    /* Both tasks output the root: two lineages, each in its own task. */
    out = trace(&f, t, "output-2", NULL, PX_TRACE_JSON, NULL);
    px_err err = {0};
    json_t *j = px_json_parse(out, strlen(out), 1 << 20, &err), *nodes = json_object_get(j, "nodes"), *n, *p, *in;
    assert_non_null(j);
    size_t i, k, q, steps = 0;
    json_array_foreach(nodes, i, n) {
        json_array_foreach(json_object_get(n, "producers"), k, p) {
            steps++;
            assert_true(json_is_true(json_object_get(p, "verified")));
            const char *m = json_string_value(json_object_get(p, "manifest"));
            json_array_foreach(json_object_get(p, "inputs"), q, in) {
                json_t *child = json_array_get(nodes, (size_t)json_integer_value(json_object_get(in, "node")));
                json_t *cp = json_array_get(json_object_get(child, "producers"), 0);
                assert_int_equal(json_array_size(json_object_get(child, "producers")), 1);
                assert_string_equal(json_string_value(json_object_get(cp, "manifest")), m);
            }
        }
    }
    assert_int_equal(steps, 2 * (FX_STAGES + FX_PODS));
    json_decref(j);
    free(out);
    tctx_free(t);
    free(t);
    free_log(&a);
    free_log(&b);
    fx_free(&f);
}

/* A failed step names its input as its subject: it is not a producer of
 * that input, and a step that names a failed step as its producer leads
 * nowhere. */
static void test_failed_step(void **state) {
    (void)state;
    fx f;
    tlog l;
    tctx *t = calloc(1, sizeof *t);
    faults x = NONE;
    x.fail_stage = 1;
    x.fail_status = "trap";
    fx_init(&f);
    build(&f, &l, x);
    /* After the failure, the stage-2 instance signs a proof naming the
     * failed step's entry as the producer of its input. */
    px_input_ref in;
    digest_of(in.digest, "output-0");
    entry_id(&l, l.n - 1, in.proof);
    uint8_t out2[32];
    digest_of(out2, "output-2x");
    fx_proof(&f, &l.raw[l.n++], &f.inst[2].sign, 2, "ok", &in, 1, out2);
    add_log(t, &l);
    char *out = trace(&f, t, "output-0", NULL, PX_TRACE_TEXT, NULL);
    assert_null(strstr(out, "trap"));
    assert_non_null(strstr(out, "stage 0 (prover) partition 0: ok"));
    assert_non_null(strstr(out, "1 failed step(s)"));
    free(out);
    out = trace(&f, t, "output-2x", NULL, PX_TRACE_TEXT, NULL);
    assert_non_null(strstr(out, "stage 2 (dp) partition 0: ok"));
    assert_non_null(strstr(out, "failed (trap): a failed step produces nothing"));
    assert_null(strstr(out, "stage 1 (wasm) partition 0: trap"));
    assert_null(strstr(out, "released by"));
    free(out);
    tctx_free(t);
    free(t);
    free_log(&l);
    fx_free(&f);
}

/* A forged step on a declared edge is shown unverified and not followed:
 * an impostor's stage-1 proof, and a release claiming pod-1 signed by
 * another key. */
static void test_forged_entry(void **state) {
    (void)state;
    fx f;
    tlog l;
    px_err err = {0};
    tctx *t = calloc(1, sizeof *t);
    fx_init(&f);
    memset(&l, 0, sizeof l);
    fx_plan(&f, &l.raw[l.n++], -1);
    px_input_ref rel[FX_PODS], mid[1];
    for (int i = 0; i < FX_PODS; i++) {
        char label[16];
        snprintf(label, sizeof label, "release-%d", i);
        digest_of(rel[i].digest, label);
        if (i == 1) { /* pod-1's release, signed by pod-0 */
            px_signer keep = f.pods[1];
            f.pods[1] = f.pods[0];
            fx_release(&f, &l.raw[l.n], 1, rel[i].digest, f.inst[0].box.pk);
            f.pods[1] = keep;
        } else {
            fx_release(&f, &l.raw[l.n], i, rel[i].digest, f.inst[0].box.pk);
        }
        entry_id(&l, l.n++, rel[i].proof);
    }
    uint8_t o0[32], o1[32], o2[32];
    digest_of(o0, "output-0");
    digest_of(o1, "output-1");
    digest_of(o2, "output-2");
    fx_proof(&f, &l.raw[l.n], &f.inst[0].sign, 0, "ok", rel, FX_PODS, o0);
    memcpy(mid[0].digest, o0, 32);
    entry_id(&l, l.n++, mid[0].proof);
    px_signer impostor;
    px_assert_ok(px_signer_generate(&impostor, "instance", &err), &err);
    fx_proof(&f, &l.raw[l.n], &impostor, 1, "ok", mid, 1, o1);
    memcpy(mid[0].digest, o1, 32);
    entry_id(&l, l.n++, mid[0].proof);
    fx_proof(&f, &l.raw[l.n++], &f.inst[2].sign, 2, "ok", mid, 1, o2);
    add_log(t, &l);
    size_t u = 0;
    char *out = trace(&f, t, "output-2", NULL, PX_TRACE_TEXT, &u);
    assert_non_null(strstr(out, "stage 2 (dp) partition 0: ok"));
    assert_non_null(strstr(out, "stage 1 (wasm) partition 0: ok"));
    assert_non_null(strstr(out, "[UNVERIFIED: not signed by the attested instance of stage 1 partition 0 (on exec-1); "
                                "not followed]"));
    assert_null(strstr(out, "stage 0 (prover)"));
    assert_int_equal(u, 1);
    free(out);
    out = trace(&f, t, "output-0", NULL, PX_TRACE_TEXT, &u);
    assert_non_null(strstr(out, "released by pod-0"));
    assert_non_null(strstr(out, "[UNVERIFIED: not signed by pod-1's key; not followed]"));
    assert_int_equal(u, 1);
    free(out);
    out = trace(&f, t, "output-2", NULL, PX_TRACE_JSON, NULL);
    assert_non_null(strstr(out, "\"verified\":false"));
    assert_non_null(strstr(out, "\"node\":null"));
    free(out);
    tctx_free(t);
    free(t);
    free_log(&l);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_lineage), cmocka_unit_test(test_unrelated_tasks),
                                       cmocka_unit_test(test_failed_step), cmocka_unit_test(test_forged_entry)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
