/* Membership files and signed requests between real sockets: a member's
 * request passes; unknown senders, bad signatures, tampered bodies, stale
 * times, requests signed before the server started and replays do not. */
#include "px_test.h"
#include "pixiu/net.h"

typedef struct world {
    px_signer alice, mallory, node_platform;
    px_membership m;
    px_replay *replay;
    px_http_server *srv;
    char base[64];
} world;

static void verify_handler(void *ctx, const px_http_request *req, px_http_response *resp) {
    world *w = ctx;
    px_err err = {0};
    const px_member *who;
    if (px_request_verify(&w->m, "server", w->replay, req, px_now_ms(), &who, &err)) {
        px_http_error(resp, px_request_refusal_status(err.code), "%s", err.msg);
        return;
    }
    px_buf_printf(&resp->body, NULL, "{\"from\":\"%s\"}", who->id);
}

static void membership_json(world *w, px_buf *out) {
    px_err err = {0};
    px_buf a = PX_BUF_INIT, p = PX_BUF_INIT;
    px_verifier va, vp;
    px_signer_verifier(&w->alice, &va);
    px_signer_verifier(&w->node_platform, &vp);
    px_assert_ok(px_verifier_format(&va, &a, &err), &err);
    px_assert_ok(px_verifier_format(&vp, &p, &err), &err);
    px_assert_ok(px_buf_printf(out, &err,
        "{\"schema\":\"urn:pixiu:membership:v1\",\"nodes\":[{\"id\":\"alice\",\"url\":\"http://127.0.0.1:1\","
        "\"signing_key\":\"%.*s\",\"platform_key\":\"%.*s\",\"tee\":\"process\",\"level\":1,"
        "\"roles\":[\"executor\",\"consumer\"]}]}", (int)a.len, (char *)a.data, (int)p.len, (char *)p.data), &err);
    px_buf_free(&a);
    px_buf_free(&p);
}

static int setup(void **state) {
    static world w;
    px_err err = {0};
    memset(&w, 0, sizeof w);
    px_assert_ok(px_crypto_init(&err), &err);
    px_assert_ok(px_signer_generate(&w.alice, "alice", &err), &err);
    px_assert_ok(px_signer_generate(&w.mallory, "mallory", &err), &err);
    px_assert_ok(px_signer_generate(&w.node_platform, "alice-platform", &err), &err);
    px_buf doc = PX_BUF_INIT;
    membership_json(&w, &doc);
    px_assert_ok(px_membership_parse(&w.m, doc.data, doc.len, &err), &err);
    px_buf_free(&doc);
    px_assert_ok(px_replay_new(&w.replay, 5000, px_now_ms() - 1000, 0, &err), &err);
    px_http_server_opts o = {.handler = verify_handler, .ctx = &w};
    px_assert_ok(px_http_server_start(&w.srv, &o, &err), &err);
    snprintf(w.base, sizeof w.base, "http://127.0.0.1:%u", px_http_server_port(w.srv));
    *state = &w;
    return 0;
}

static int teardown(void **state) {
    world *w = *state;
    px_http_server_stop(w->srv);
    px_replay_free(w->replay);
    px_membership_free(&w->m);
    return 0;
}

/* Send with explicit auth headers (to replay or tamper). */
static int send_raw(world *w, const px_request_auth *a, const char *path, const char *body, px_buf *resp) {
    px_err err = {0};
    char url[128];
    snprintf(url, sizeof url, "%s%s", w->base, path);
    px_http_header h[] = {{PX_REQ_HDR_NODE, a->node}, {PX_REQ_HDR_TIME, a->time}, {PX_REQ_HDR_NONCE, a->nonce},
                          {PX_REQ_HDR_SIG, a->sig}};
    int status = 0;
    px_buf_reset(resp);
    px_assert_ok(px_http_call("POST", url, h, 4, body, strlen(body), 5000, 1 << 16, &status, resp, &err), &err);
    return status;
}

static void test_member_passes_replay_refused(void **state) {
    world *w = *state;
    px_err err = {0};
    px_buf resp = PX_BUF_INIT;
    int status = 0;
    px_assert_ok(px_signed_call(&w->alice, "alice", "server", "POST", w->base, "/v1/task?x=1", "{}", 2, 5000, 1 << 16, &status,
                                &resp, &err), &err);
    assert_int_equal(status, 200);
    px_request_auth a;
    px_assert_ok(px_request_sign(&a, &w->alice, "alice", "server", "POST", "/v1/plan", "", "body", 4, px_now_ms(), &err), &err);
    assert_int_equal(send_raw(w, &a, "/v1/plan", "body", &resp), 200);
    assert_int_equal(send_raw(w, &a, "/v1/plan", "body", &resp), 409);
    px_buf_cstr(&resp, &err);
    assert_non_null(strstr((char *)resp.data, "replayed"));
    /* Same signature on another body or path. */
    px_assert_ok(px_request_sign(&a, &w->alice, "alice", "server", "POST", "/v1/plan", "", "body", 4, px_now_ms(), &err), &err);
    assert_int_equal(send_raw(w, &a, "/v1/plan", "bodY", &resp), 401);
    assert_int_equal(send_raw(w, &a, "/v1/other", "body", &resp), 401);
    /* Addressed to another node. */
    px_assert_ok(px_request_sign(&a, &w->alice, "alice", "other", "POST", "/v1/plan", "", "body", 4, px_now_ms(), &err),
                 &err);
    assert_int_equal(send_raw(w, &a, "/v1/plan", "body", &resp), 401);
    px_buf_free(&resp);
}

static void test_refusals(void **state) {
    world *w = *state;
    px_err err = {0};
    px_buf resp = PX_BUF_INIT;
    int status = 0;
    /* Not a member, or a member's name with another key. */
    px_assert_ok(px_signed_call(&w->mallory, "mallory", "server", "POST", w->base, "/v1/x", "", 0, 5000, 1 << 16, &status, &resp,
                                &err), &err);
    assert_int_equal(status, 403);
    px_assert_ok(px_signed_call(&w->mallory, "alice", "server", "POST", w->base, "/v1/x", "", 0, 5000, 1 << 16, &status, &resp,
                                &err), &err);
    assert_int_equal(status, 401);
    /* No signature at all. */
    char url[128];
    snprintf(url, sizeof url, "%s/v1/x", w->base);
    px_assert_ok(px_http_call("GET", url, NULL, 0, NULL, 0, 5000, 1 << 16, &status, &resp, &err), &err);
    assert_int_equal(status, 403);
    /* Too old, too far ahead, or signed before the server started. */
    px_request_auth a;
    int64_t times[] = {px_now_ms() - 60000, px_now_ms() + 60000, px_now_ms() - 3000};
    for (size_t i = 0; i < 3; i++) {
        px_assert_ok(px_request_sign(&a, &w->alice, "alice", "server", "POST", "/v1/x", "", "", 0, times[i], &err), &err);
        assert_int_equal(send_raw(w, &a, "/v1/x", "", &resp), 409);
    }
    /* Malformed headers. */
    px_assert_ok(px_request_sign(&a, &w->alice, "alice", "server", "POST", "/v1/x", "", "", 0, px_now_ms(), &err), &err);
    strcpy(a.time, "12x");
    assert_int_equal(send_raw(w, &a, "/v1/x", "", &resp), 401);
    px_buf_free(&resp);
}

/* Many distinct nonces pass; each is refused the second time, across the
 * cache's rebuilds. */
static void test_replay_cache(void **state) {
    world *w = *state;
    px_err err = {0};
    enum { N = 6000, SMALL = 10 };
    static px_request_auth a[N];
    int64_t now = px_now_ms();
    for (int i = 0; i < N; i++)
        px_assert_ok(px_request_sign(&a[i], &w->alice, "alice", "server", "POST", "/p", "", "", 0, now, &err), &err);
    size_t sizes[] = {N + 10, SMALL};
    for (int round = 0; round < 2; round++) {
        world local = *w;
        px_http_server *srv;
        px_assert_ok(px_replay_new(&local.replay, 600000, 0, sizes[round], &err), &err);
        px_http_server_opts o = {.handler = verify_handler, .ctx = &local};
        px_assert_ok(px_http_server_start(&srv, &o, &err), &err);
        snprintf(local.base, sizeof local.base, "http://127.0.0.1:%u", px_http_server_port(srv));
        px_buf resp = PX_BUF_INIT;
        if (round == 0) {
            for (int i = 0; i < N; i++)
                assert_int_equal(send_raw(&local, &a[i], "/p", "", &resp), 200);
            for (int i = 0; i < N; i += 97)
                assert_int_equal(send_raw(&local, &a[i], "/p", "", &resp), 409);
        } else {
            /* A full cache refuses rather than forgets. */
            for (int i = 0; i < SMALL; i++)
                assert_int_equal(send_raw(&local, &a[i], "/p", "", &resp), 200);
            assert_int_equal(send_raw(&local, &a[SMALL], "/p", "", &resp), 503);
        }
        px_http_server_stop(srv);
        px_replay_free(local.replay);
        px_buf_free(&resp);
    }
}

static void expect_bad(const char *doc, const char *needle) {
    px_err err = {0};
    px_membership m;
    if (px_membership_parse(&m, doc, strlen(doc), &err) == 0)
        fail_msg("membership accepted: %s", doc);
    if (!strstr(err.msg, needle))
        fail_msg("\"%s\" does not mention \"%s\"", err.msg, needle);
}

static void test_membership(void **state) {
    world *w = *state;
    assert_int_equal(w->m.n, 1);
    const px_member *a = px_membership_find(&w->m, "alice");
    assert_non_null(a);
    assert_true(a->roles & PX_ROLE_EXECUTOR);
    assert_true(a->roles & PX_ROLE_CONSUMER);
    assert_false(a->roles & PX_ROLE_POD);
    assert_true(a->has_platform);
    assert_int_equal(a->level, 1);
    assert_null(px_membership_find(&w->m, "bob"));
    px_buf doc = PX_BUF_INIT;
    membership_json(w, &doc);
    px_buf_cstr(&doc, NULL);
    char *s = (char *)doc.data, bad[4096];
    /* Executor without platform key. */
    snprintf(bad, sizeof bad, "%s", s);
    char *pk = strstr(bad, ",\"platform_key\"");
    char *tee = strstr(bad, ",\"tee\"");
    memmove(pk, tee, strlen(tee) + 1);
    expect_bad(bad, "executor needs");
    /* Unknown field, bad url, duplicate id, unknown role. */
    snprintf(bad, sizeof bad, "%.*s,\"colour\":\"red\"}]}", (int)(strlen(s) - 3), s);
    expect_bad(bad, "unknown field \"colour\"");
    expect_bad("{\"schema\":\"urn:pixiu:membership:v1\",\"nodes\":[]}", "1 to");
    expect_bad("{\"schema\":\"urn:pixiu:membership:v2\",\"nodes\":[]}", "schema");
    snprintf(bad, sizeof bad, "%s", s);
    memcpy(strstr(bad, "http://"), "ftp://1", 7);
    expect_bad(bad, "url");
    snprintf(bad, sizeof bad, "%s", s);
    memcpy(strstr(bad, "\"consumer\""), "\"consumex\"", 10);
    expect_bad(bad, "role 1");
    const char *node = strstr(s, "{\"id\"");
    snprintf(bad, sizeof bad, "%.*s,%.*s", (int)(strlen(s) - 2), s, (int)(strlen(node)), node);
    expect_bad(bad, "listed twice");
    /* The same node under another id: its key is shared. */
    char *last = bad, *hit;
    while ((hit = strstr(last + 1, "{\"id\":\"")))
        last = hit;
    last[7] = 'Z';
    expect_bad(bad, "share a signing key");
    px_buf_free(&doc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_passes_replay_refused), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_replay_cache), cmocka_unit_test(test_membership)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
