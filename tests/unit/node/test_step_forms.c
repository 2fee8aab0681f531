/* An executor node (pixiud's code in this process, real pixiu_worker
 * processes) takes a step's body in either form, JSON with base64 fields
 * or PXJB with attachments, and answers in PXJB only to a client that
 * asks for it (docs/network.md). The inputs here are not a POD's release,
 * so each instance signs a failure proof for them: what is checked is
 * that the body was read (the refusal is the worker's, about the input)
 * and how the reply is written. A PXJB body that breaks the format is
 * refused before any instance is taken. */
#include "exec/util.h"
#include "node_world.h"

static int setup(void **state) {
    static world w;
    nw_setup(&w, "10", PX_ROLE_LOG);
    nw_start_exec(&w);
    *state = &w;
    return 0;
}

static int teardown(void **state) {
    nw_teardown(*state);
    return 0;
}

/* Recruit a prover (stage 0) instance of a new manifest on exec-0. */
static void recruit(world *w, uint8_t id[32]) {
    px_err err = {0};
    px_buf cfg = PX_BUF_INIT, body = PX_BUF_INIT, out = PX_BUF_INIT;
    uint8_t succ[1][32], nonce[32];
    fx_new_manifest(&w->f, FX_STAGES_JSON);
    memcpy(succ[0], w->f.inst[1].box.pk, 32);
    fx_config(&w->f, &cfg, 0, succ);
    px_random(nonce, sizeof nonce);
    json_t *o = json_object();
    px_assert_ok(px_x_set_b64(o, "manifest", w->f.manifest_env.data, w->f.manifest_env.len, &err) ||
                     px_x_set(o, "stage", json_integer(0), &err) || px_x_set(o, "partition", json_integer(0), &err) ||
                     px_x_set_b64(o, "config", cfg.data, cfg.len, &err) ||
                     px_x_set_hex(o, "nonce", nonce, sizeof nonce, &err) || px_json_dump(o, &body, &err),
                 &err);
    int st = nw_call(&w->exec, &w->f.consumer, "consumer-1", "POST", "/v1/recruit", body.data, body.len, &out);
    if (st != 200)
        fail_msg("recruit: %d %s", st, (char *)out.data);
    json_t *r = px_json_parse(out.data, out.len, 1 << 24, &err);
    px_assert_ok(px_json_hex(r, "instance", id, 32, &err), &err);
    json_decref(r);
    json_decref(o);
    px_buf_free(&cfg);
    px_buf_free(&body);
    px_buf_free(&out);
}

/* The step's body for instance id: one input of junk sealed bytes and a
 * junk proof; PXJB (attachments) or JSON (base64). */
static void step_body(const uint8_t id[32], int jb_form, px_buf *out) {
    px_err err = {0};
    static uint8_t sealed[70000], proof[300];
    memset(sealed, 0x5a, sizeof sealed);
    memset(proof, 0xa5, sizeof proof);
    px_jb jb;
    json_t *inputs = json_array(), *in = json_object();
    px_assert_ok(px_jb_init(&jb, !jb_form, &err), &err);
    px_assert_ok(px_x_set_hex(jb.doc, "instance", id, 32, &err) || px_x_set(jb.doc, "inputs", inputs, &err) ||
                     px_x_append(inputs, in, &err) ||
                     px_jb_set_bytes(&jb, in, "sealed", sealed, sizeof sealed, &err) ||
                     px_jb_set_bytes(&jb, in, "proof", proof, sizeof proof, &err) || px_jb_encode(&jb, out, &err),
                 &err);
    px_jb_free(&jb);
}

/* POST a step to exec-0 with the given Content-Type and Accept (NULL: none). */
static int step(world *w, const px_buf *body, const char *ctype, const char *accept, px_buf *out) {
    px_err err = {0};
    char base[64];
    int status = 0;
    px_http_header h[2];
    size_t nh = 0;
    if (ctype)
        h[nh++] = (px_http_header){"Content-Type", ctype};
    if (accept)
        h[nh++] = (px_http_header){"Accept", accept};
    snprintf(base, sizeof base, "http://127.0.0.1:%u", px_http_server_port(w->exec.srv));
    px_buf_reset(out);
    px_assert_ok(px_signed_call_with(&w->f.consumer, "consumer-1", "exec-0", "POST", base, "/v1/step", h, nh,
                                     body->data, body->len, 60000, 1 << 24, &status, out, &err),
                 &err);
    px_buf_cstr(out, &err);
    return status;
}

/* The reply's proof: a failure the instance signed about its input. */
static void failed_on_input(const json_t *doc, const px_jb_view *v) {
    px_err err = {0};
    px_buf proof = PX_BUF_INIT;
    px_entry e;
    assert_true(json_is_false(json_object_get(doc, "ok")));
    px_assert_ok(px_jb_bytes(v, doc, "proof", &proof, &err), &err);
    px_assert_ok(px_entry_parse(&e, 0, proof.data, proof.len, &err), &err);
    assert_int_equal(e.kind, PX_ENTRY_EXEC);
    if (!strstr(e.reason, "input 0: input: sealed box does not open"))
        fail_msg("the failure is not about the input: %s", e.reason);
    px_entry_free(&e);
    px_buf_free(&proof);
}

/* A plain JSON step, as before PXJB: read, and answered in JSON. */
static void test_json_step(void **state) {
    world *w = *state;
    px_err err = {0};
    uint8_t id[32];
    px_buf body = PX_BUF_INIT, out = PX_BUF_INIT;
    recruit(w, id);
    step_body(id, 0, &body);
    assert_int_equal(body.data[0], '{');
    int st = step(w, &body, "application/json", NULL, &out);
    if (st != 200)
        fail_msg("step: %d %.*s", st, (int)out.len, (char *)out.data);
    assert_int_equal(out.data[0], '{');
    json_t *doc = px_json_parse(out.data, out.len, 1 << 24, &err);
    assert_non_null(doc);
    px_jb_view none = {0};
    failed_on_input(doc, &none);
    json_decref(doc);
    px_buf_free(&body);
    px_buf_free(&out);
}

/* A PXJB step asking for a PXJB reply gets one; the same body without
 * the Accept header, or refusing PXJB with q=0, gets JSON. */
static void test_jb_step(void **state) {
    world *w = *state;
    px_err err = {0};
    uint8_t id[32];
    px_buf body = PX_BUF_INIT, out = PX_BUF_INIT;
    const struct {
        const char *accept;
        int ask;
    } cases[] = {{"application/json, " PX_JB_CONTENT_TYPE ";q=1", 1},
                 {NULL, 0},
                 {"application/json, " PX_JB_CONTENT_TYPE "; q=0.0", 0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int ask = cases[c].ask;
        recruit(w, id);
        px_buf_reset(&body);
        step_body(id, 1, &body);
        assert_true(px_jb_is(body.data, body.len));
        int st = step(w, &body, PX_JB_CONTENT_TYPE, cases[c].accept, &out);
        if (st != 200)
            fail_msg("step: %d %.*s", st, (int)out.len, (char *)out.data);
        assert_int_equal(px_jb_is(out.data, out.len), ask);
        json_t *doc;
        px_jb_view v;
        px_assert_ok(px_jb_parse(out.data, out.len, 1 << 24, &doc, &v, &err), &err);
        assert_true(ask ? v.n >= 1 : v.n == 0);
        failed_on_input(doc, &v);
        json_decref(doc);
        px_jb_view_free(&v);
    }
    px_buf_free(&body);
    px_buf_free(&out);
}

/* A PXJB body that breaks the format: 400 naming the problem, and the
 * instance is still there for a good step. */
static void test_bad_jb_step(void **state) {
    world *w = *state;
    uint8_t id[32];
    px_buf body = PX_BUF_INIT, out = PX_BUF_INIT;
    recruit(w, id);
    step_body(id, 1, &body);
    px_buf_append(&body, "!", 1, NULL);
    assert_int_equal(step(w, &body, PX_JB_CONTENT_TYPE, PX_JB_CONTENT_TYPE, &out), 400);
    if (!strstr((char *)out.data, "PXJB: 1 bytes after the last attachment"))
        fail_msg("refusal: %.*s", (int)out.len, (char *)out.data);
    body.len--;
    assert_int_equal(step(w, &body, PX_JB_CONTENT_TYPE, PX_JB_CONTENT_TYPE, &out), 200);
    assert_true(px_jb_is(out.data, out.len));
    px_buf_free(&body);
    px_buf_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_json_step), cmocka_unit_test(test_jb_step),
                                       cmocka_unit_test(test_bad_jb_step)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
