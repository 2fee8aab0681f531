/* One POD's path through a plan: what it holds, and the paths a consumer
 * (or anyone between it and the POD) could forge, each refused by name. */
#include "fixture.h"

/* The fixture's stages with the prover in three partitions, one per POD. */
#define SPLIT_JSON                                                                                               \
    "[{\"kind\":\"prover\",\"min_level\":1,\"partitions\":3,\"params\":{\"require\":\"any\",\"sources\":[]}},"    \
    "{\"kind\":\"wasm\",\"code\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"min_level\":1," \
    "\"limits\":{\"cpu_ms\":5000,\"mem_mb\":64},\"params\":{\"map\":\"per-user\",\"dim\":1}},"                \
    "{\"kind\":\"dp\",\"min_level\":1,\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"0.5\",\"delta\":\"0\"},"   \
    "\"params\":{\"mechanism\":\"sum\",\"epsilon\":\"0.5\",\"dim\":1,\"lower\":0,\"upper\":1000}}]"
#define SPLIT_INSTANCES 5

/* One instance of stage `stage`, partition `part`, sealing to succ_key;
 * a first-stage instance trusts POD part's key. */
static void wide_instance(fx *f, px_plan_instance *in, uint32_t stage, uint32_t part, const uint8_t *succ_key) {
    px_err err = {0};
    px_verifier plat, pod;
    uint8_t succ[1][32];
    memcpy(succ[0], succ_key, 32);
    px_signer_verifier(&f->platform, &plat);
    px_signer_verifier(&f->pods[part % FX_PODS], &pod);
    in->stage = stage;
    in->partition = part;
    snprintf(in->node, sizeof in->node, "exec-%u", stage);
    px_random(in->nonce, sizeof in->nonce);
    px_assert_ok(px_plan_config_build(&in->config, &f->m, stage, part, (const uint8_t(*)[32])succ, 1,
                                      stage ? &plat : NULL, stage ? 1 : 0, stage ? NULL : &pod, stage ? 0 : 1,
                                      &px_testlog_keyed()->vkey, &err),
                 &err);
    fx_evidence(f, &f->inst[stage], &f->m.stages[stage], &in->config, in->nonce, &in->evidence);
}

/* A signed plan of the split manifest: prover partitions 0..2, then the
 * wasm and dp instances, each wired to the next; signed by `by`. */
static void split_plan(fx *f, px_buf *out, const px_signer *by) {
    px_err err = {0};
    px_plan_instance ins[SPLIT_INSTANCES];
    memset(ins, 0, sizeof ins);
    for (uint32_t i = 0; i < SPLIT_INSTANCES; i++) {
        uint32_t stage = i < 3 ? 0 : i - 2, part = i < 3 ? i : 0;
        wide_instance(f, &ins[i], stage, part, stage + 1 < FX_STAGES ? f->inst[stage + 1].box.pk : f->receiver.pk);
    }
    px_assert_ok(px_plan_sign(out, &f->m, ins, SPLIT_INSTANCES, by, &err), &err);
    for (uint32_t i = 0; i < SPLIT_INSTANCES; i++) {
        px_buf_free(&ins[i].config);
        px_buf_free(&ins[i].evidence);
    }
}

static void whole(const px_buf *env, px_plan *p) {
    px_err err = {0};
    px_assert_ok(px_plan_parse(p, env->data, env->len, &err), &err);
}

static void cut(const px_plan *p, const char *pod, px_buf *out) {
    px_err err = {0};
    px_assert_ok(px_plan_path(out, p, pod, &err), &err);
}

/* Re-serialise a path after edit() changed its JSON. */
static void edited(const px_buf *path, px_buf *out, void (*edit)(json_t *o, void *ctx), void *ctx) {
    px_err err = {0};
    json_t *o = px_json_parse(path->data, path->len, PX_PLAN_MAX_BYTES, &err);
    assert_non_null(o);
    edit(o, ctx);
    px_buf_reset(out);
    px_assert_ok(px_json_dump(o, out, &err), &err);
    json_decref(o);
}

static void test_path_holds_what_the_pod_needs(void **state) {
    (void)state;
    fx f;
    fx_init_with(&f, SPLIT_JSON);
    px_err err = {0};
    split_plan(&f, &f.plan_env, &f.consumer);
    px_plan w, p;
    whole(&f.plan_env, &w);
    assert_int_equal(w.ninstances, SPLIT_INSTANCES);
    px_buf path = PX_BUF_INIT;
    cut(&w, "pod-1", &path);
    /* Only pod-1's prover partition, then every later instance. */
    px_assert_ok(px_plan_path_parse(&p, path.data, path.len, "pod-1", &err), &err);
    assert_true(p.is_path);
    assert_int_equal(p.total, SPLIT_INSTANCES);
    assert_int_equal(p.ninstances, 3);
    assert_int_equal(p.instances[0].stage, 0);
    assert_int_equal(p.instances[0].partition, 1);
    assert_int_equal(p.instances[0].index, 1);
    assert_int_equal(p.instances[1].stage, 1);
    assert_int_equal(p.instances[2].index, 4);
    assert_memory_equal(p.id, w.id, 32);
    assert_memory_equal(p.root, w.root, 32);
    assert_true(path.len < f.plan_env.len);
    /* The checks a POD runs take the path as they take the plan. */
    px_attested att[3];
    px_assert_ok(px_plan_check(&p, fx_check, &f, 1, px_now_ms(), att, &err), &err);
    assert_memory_equal(att[1].box_pk, f.inst[1].box.pk, 32);
    px_assert_ok(px_plan_check_log(&p, &px_testlog_keyed()->vkey, &err), &err);
    px_plan_free(&p);
    /* A path is cut from a whole plan only. */
    px_buf again = PX_BUF_INIT;
    px_assert_ok(px_plan_path_parse(&p, path.data, path.len, "pod-1", &err), &err);
    px_assert_fails(px_plan_path(&again, &p, "pod-1", &err), &err, PX_E_INVALID);
    px_plan_free(&p);
    /* A POD the manifest does not ask gets no path, and admits none. */
    px_assert_fails(px_plan_path(&again, &w, "pod-9", &err), &err, PX_E_INVALID);
    px_assert_fails(px_plan_path_parse(&p, path.data, path.len, "pod-9", &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "does not ask this POD"));
    px_buf_free(&again);
    px_buf_free(&path);
    px_plan_free(&w);
    fx_free(&f);
}

/* Another POD's path: it holds a partition this POD's data never enters
 * and lacks the one it does. */
static void test_path_of_another_pod(void **state) {
    (void)state;
    fx f;
    fx_init_with(&f, SPLIT_JSON);
    px_err err = {0};
    split_plan(&f, &f.plan_env, &f.consumer);
    px_plan w, p;
    whole(&f.plan_env, &w);
    px_buf path = PX_BUF_INIT;
    cut(&w, "pod-0", &path);
    px_assert_fails(px_plan_path_parse(&p, path.data, path.len, "pod-2", &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "leaves out stage 0 (prover) partition 2"));
    px_buf_free(&path);
    px_plan_free(&w);
    fx_free(&f);
}

static void drop_wasm(json_t *o, void *ctx) {
    (void)ctx;
    json_array_remove(json_object_get(o, "instances"), 1);
}

static void repeat_first(json_t *o, void *ctx) {
    (void)ctx;
    json_t *arr = json_object_get(o, "instances");
    json_array_insert_new(arr, 1, json_deep_copy(json_array_get(arr, 0)));
}

static void move_index(json_t *o, void *ctx) {
    json_t *in = json_array_get(json_object_get(o, "instances"), 0);
    json_object_set_new(in, "index", json_integer(*(int *)ctx));
}

/* The wasm instance's evidence swapped for that of another instance of
 * the same stage, which the consumer never put in this plan. */
static void swap_evidence(json_t *o, void *ctx) {
    json_t *in = json_object_get(json_array_get(json_object_get(o, "instances"), 1), "instance");
    json_object_set(in, "evidence", (json_t *)ctx);
}

static void swap_head(json_t *o, void *ctx) {
    json_object_set(o, "head", (json_t *)ctx);
}

static void test_forged_paths(void **state) {
    (void)state;
    fx f;
    fx_init_with(&f, SPLIT_JSON);
    px_err err = {0};
    split_plan(&f, &f.plan_env, &f.consumer);
    px_plan w, p, other;
    whole(&f.plan_env, &w);
    px_buf path = PX_BUF_INIT, bad = PX_BUF_INIT, env2 = PX_BUF_INIT, path2 = PX_BUF_INIT;
    cut(&w, "pod-1", &path);
    /* A later stage's partition left out: the POD could not see where its
     * data may go. */
    edited(&path, &bad, drop_wasm, NULL);
    px_assert_fails(px_plan_path_parse(&p, bad.data, bad.len, "pod-1", &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "leaves out stage 1 (wasm) partition 0"));
    /* An instance listed twice. */
    edited(&path, &bad, repeat_first, NULL);
    px_assert_fails(px_plan_path_parse(&p, bad.data, bad.len, "pod-1", &err), &err, PX_E_INVALID);
    /* An instance claiming another instance's leaf. */
    int leaf = 0;
    edited(&path, &bad, move_index, &leaf);
    px_assert_fails(px_plan_path_parse(&p, bad.data, bad.len, "pod-1", &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "claims leaf 0, the manifest puts it at 1"));
    /* An instance from another recruitment of the same manifest: attested
     * and well configured, but not in the plan whose head the POD holds. */
    split_plan(&f, &env2, &f.consumer);
    whole(&env2, &other);
    cut(&other, "pod-1", &path2);
    json_t *p2 = px_json_parse(path2.data, path2.len, PX_PLAN_MAX_BYTES, &err);
    json_t *ev2 = json_object_get(json_object_get(json_array_get(json_object_get(p2, "instances"), 1), "instance"),
                                  "evidence");
    edited(&path, &bad, swap_evidence, ev2);
    px_assert_fails(px_plan_path_parse(&p, bad.data, bad.len, "pod-1", &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "stage 1 partition 0 is not in the plan its head signs"));
    /* The other plan's head over this plan's instances. */
    edited(&path, &bad, swap_head, json_object_get(p2, "head"));
    px_assert_fails(px_plan_path_parse(&p, bad.data, bad.len, "pod-1", &err), &err, PX_E_VERIFY);
    json_decref(p2);
    /* The same head, signed by someone else than the manifest's consumer
     * (here the platform key): its signature is what binds the root. */
    px_plan_free(&other);
    json_t *pj = px_json_parse(path.data, path.len, PX_PLAN_MAX_BYTES, &err);
    const char *h64 = json_string_value(json_object_get(pj, "head"));
    px_buf henv = PX_BUF_INIT, forged = PX_BUF_INIT;
    px_dsse d;
    px_assert_ok(px_b64_decode(&henv, h64, strlen(h64), &err), &err);
    px_assert_ok(px_dsse_parse(&d, henv.data, henv.len, &err), &err);
    px_assert_ok(px_dsse_sign(&forged, PX_INTOTO_PAYLOAD_TYPE, d.payload.data, d.payload.len, &f.platform, 1, &err),
                 &err);
    char *f64 = malloc(px_b64_encoded_len(forged.len) + 1);
    px_b64_encode(f64, forged.data, forged.len);
    json_t *fj = json_string(f64);
    edited(&path, &bad, swap_head, fj);
    px_assert_fails(px_plan_path_parse(&p, bad.data, bad.len, "pod-1", &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "head: not signed by the manifest's consumer"));
    json_decref(fj);
    free(f64);
    px_dsse_free(&d);
    px_buf_free(&henv);
    px_buf_free(&forged);
    json_decref(pj);
    /* A whole plan signed by someone else is refused as well. */
    px_buf_reset(&env2);
    px_buf_reset(&path2);
    split_plan(&f, &env2, &f.platform);
    px_assert_fails(px_plan_parse(&other, env2.data, env2.len, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "not signed by the manifest's consumer"));
    px_plan_free(&w);
    fx_free(&f);
    px_buf_free(&path);
    px_buf_free(&bad);
    px_buf_free(&env2);
    px_buf_free(&path2);
}

/* Whatever bytes of a path are flipped, it is refused or it is the path
 * it was (a flip the JSON reads the same, such as in a key's case, is not
 * possible: every member is checked). */
static void test_flipped_paths(void **state) {
    (void)state;
    fx f;
    fx_init_with(&f, SPLIT_JSON);
    px_err err = {0};
    split_plan(&f, &f.plan_env, &f.consumer);
    px_plan w, p;
    whole(&f.plan_env, &w);
    px_buf path = PX_BUF_INIT;
    cut(&w, "pod-2", &path);
    size_t accepted = 0;
    for (size_t i = 0; i < path.len; i += 7) {
        path.data[i] ^= 0x01;
        if (px_plan_path_parse(&p, path.data, path.len, "pod-2", &err) == 0) {
            accepted++;
            assert_memory_equal(p.id, w.id, 32);
            for (size_t k = 0; k < p.ninstances; k++) {
                uint8_t a[32], b[32];
                px_sha256(a, p.instances[k].config.data, p.instances[k].config.len);
                px_sha256(b, w.instances[p.instances[k].index].config.data,
                          w.instances[p.instances[k].index].config.len);
                assert_memory_equal(a, b, 32);
            }
            px_plan_free(&p);
        }
        path.data[i] ^= 0x01;
    }
    px_assert_ok(px_plan_path_parse(&p, path.data, path.len, "pod-2", &err), &err);
    px_plan_free(&p);
    px_buf_free(&path);
    px_plan_free(&w);
    fx_free(&f);
}

/* Prover and wasm in three partitions each (partition q feeds partition q),
 * then one dp instance. Each wasm partition has keys of its own; with
 * miswire, prover partition 1 seals to wasm partition 2. */
#define WIDE_JSON                                                                                                \
    "[{\"kind\":\"prover\",\"min_level\":1,\"partitions\":3,\"params\":{\"require\":\"any\",\"sources\":[]}},"    \
    "{\"kind\":\"wasm\",\"code\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"min_level\":1," \
    "\"partitions\":3,\"limits\":{\"cpu_ms\":5000,\"mem_mb\":64},\"params\":{\"map\":\"per-user\",\"dim\":1}},"   \
    "{\"kind\":\"dp\",\"min_level\":1,\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"0.5\",\"delta\":\"0\"},"   \
    "\"params\":{\"mechanism\":\"sum\",\"epsilon\":\"0.5\",\"dim\":1,\"lower\":0,\"upper\":1000}}]"
#define WIDE_INSTANCES 7

static void wide_plan(fx *f, px_buf *out, int miswire) {
    px_err err = {0};
    px_plan_instance ins[WIDE_INSTANCES];
    memset(ins, 0, sizeof ins);
    fx_instance keep = f->inst[1];
    uint8_t wasm_box[3][32];
    /* The wasm partitions first (their keys are the provers' successors),
     * each attested under keys of its own. */
    for (uint32_t q = 0; q < 3; q++) {
        px_box_keygen(&f->inst[1].box);
        memcpy(wasm_box[q], f->inst[1].box.pk, 32);
        wide_instance(f, &ins[3 + q], 1, q, f->inst[2].box.pk);
    }
    f->inst[1] = keep;
    for (uint32_t q = 0; q < 3; q++)
        wide_instance(f, &ins[q], 0, q, wasm_box[miswire && q == 1 ? 2 : q]);
    wide_instance(f, &ins[6], 2, 0, f->receiver.pk);
    px_assert_ok(px_plan_sign(out, &f->m, ins, WIDE_INSTANCES, &f->consumer, &err), &err);
    for (uint32_t i = 0; i < WIDE_INSTANCES; i++) {
        px_buf_free(&ins[i].config);
        px_buf_free(&ins[i].evidence);
    }
}

/* Partition q feeds partition q: a POD's path is one instance a stage,
 * however many partitions the task has; a consumer that wires a POD's
 * partition elsewhere is refused by the POD. */
static void test_path_follows_the_wiring(void **state) {
    (void)state;
    fx f;
    fx_init_with(&f, WIDE_JSON);
    px_err err = {0};
    wide_plan(&f, &f.plan_env, 0);
    px_plan w, p;
    whole(&f.plan_env, &w);
    px_buf path = PX_BUF_INIT;
    cut(&w, "pod-1", &path);
    px_assert_ok(px_plan_path_parse(&p, path.data, path.len, "pod-1", &err), &err);
    assert_int_equal(p.ninstances, 3);
    assert_int_equal(p.instances[1].stage, 1);
    assert_int_equal(p.instances[1].partition, 1);
    assert_int_equal(p.instances[1].index, 4);
    px_assert_ok(px_plan_check(&p, fx_check, &f, 1, px_now_ms(), NULL, &err), &err);
    px_plan_free(&p);
    px_plan_free(&w);
    px_buf_reset(&path);
    fx_new_manifest(&f, WIDE_JSON);
    px_buf_reset(&f.plan_env);
    wide_plan(&f, &f.plan_env, 1);
    whole(&f.plan_env, &w);
    cut(&w, "pod-1", &path);
    px_assert_ok(px_plan_path_parse(&p, path.data, path.len, "pod-1", &err), &err);
    px_assert_fails(px_plan_check(&p, fx_check, &f, 1, px_now_ms(), NULL, &err), &err, PX_E_DENIED);
    assert_non_null(strstr(err.msg, "is not an attested key of stage 1 (wasm)"));
    px_plan_free(&p);
    /* The other PODs' paths are not affected by it. */
    px_buf_reset(&path);
    cut(&w, "pod-0", &path);
    px_assert_ok(px_plan_path_parse(&p, path.data, path.len, "pod-0", &err), &err);
    px_assert_ok(px_plan_check(&p, fx_check, &f, 1, px_now_ms(), NULL, &err), &err);
    px_plan_free(&p);
    px_plan_free(&w);
    px_buf_free(&path);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_holds_what_the_pod_needs),
        cmocka_unit_test(test_path_of_another_pod),
        cmocka_unit_test(test_forged_paths),
        cmocka_unit_test(test_flipped_paths),
        cmocka_unit_test(test_path_follows_the_wiring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
