/* The explorer's front, on a real log and a real POD database: which view a
 * path names, page or JSON, the headers every answer carries, refusals of
 * what is not a view, hostile paths and queries, and a POD owner's sign-in
 * links: a good one opens a session once, a replayed, stale, foreign or
 * forged one is refused. (Pages in a real browser: tests/browser/.) */
#include "px_test.h"

#include "explorer/ex.h"

typedef struct fixture {
    char dir[64];
    px_signer log_key, pod_key;
    char membership[4096];
    px_log *log;
    px_pod *pod;
    pthread_mutex_t pod_mu;
    px_explorer *xl, *xp; /* the log node's, the POD node's */
} fixture;

static fixture F;

static int members(void *ctx, px_membership *out, px_err *err) {
    fixture *f = ctx;
    return px_membership_parse(out, f->membership, strlen(f->membership), err);
}

typedef struct trust_box {
    px_pod_key pod;
    uint8_t builds[1][PX_SHA256_BYTES];
} trust_box;

static int trust_get(void *ctx, px_explorer_trust *t, px_err *err) {
    fixture *f = ctx;
    trust_box *b = calloc(1, sizeof *b);
    if (!b)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_verifier v;
    px_signer_verifier(&f->pod_key, &v);
    snprintf(b->pod.id, sizeof b->pod.id, "pod-1");
    memcpy(b->pod.sign_pk, v.pk, sizeof v.pk);
    *t = (px_explorer_trust){.pods = &b->pod, .npods = 1,
                             .exec = {NULL, 0, (const uint8_t(*)[PX_SHA256_BYTES])b->builds, 1, NULL}, .owner = b};
    return 0;
}

static void trust_put(void *ctx, px_explorer_trust *t) {
    free(t->owner);
}

static int setup(void **state) {
    px_err err = {0};
    snprintf(F.dir, sizeof F.dir, "/tmp/px-explorer-XXXXXX");
    assert_non_null(mkdtemp(F.dir));
    px_assert_ok(px_crypto_init(&err), &err);
    px_assert_ok(px_signer_generate(&F.log_key, "log-1", &err), &err);
    px_assert_ok(px_signer_generate(&F.pod_key, "pod-1", &err), &err);
    px_buf lk = PX_BUF_INIT, pk = PX_BUF_INIT;
    px_verifier v;
    px_signer_verifier(&F.log_key, &v);
    px_assert_ok(px_verifier_format(&v, &lk, &err), &err);
    px_signer_verifier(&F.pod_key, &v);
    px_assert_ok(px_verifier_format(&v, &pk, &err), &err);
    snprintf(F.membership, sizeof F.membership,
             "{\"schema\":\"urn:pixiu:membership:v1\",\"nodes\":["
             "{\"id\":\"log-1\",\"url\":\"http://127.0.0.1:1\",\"signing_key\":\"%.*s\",\"roles\":[\"log\"]},"
             "{\"id\":\"pod-1\",\"url\":\"http://127.0.0.1:2\",\"signing_key\":\"%.*s\",\"roles\":[\"pod\"]}]}",
             (int)lk.len, (char *)lk.data, (int)pk.len, (char *)pk.data);
    px_buf_free(&lk);
    px_buf_free(&pk);
    char path[128];
    snprintf(path, sizeof path, "%s/log.db", F.dir);
    px_log_opts lo = {.store = path, .key = &F.log_key};
    px_assert_ok(px_log_open(&F.log, &lo, &err), &err);
    snprintf(path, sizeof path, "%s/pod.db", F.dir);
    px_assert_ok(px_pod_open(&F.pod, path, &err), &err);
    pthread_mutex_init(&F.pod_mu, NULL);
    px_explorer_opts o = {.node_id = "log-1", .roles = PX_ROLE_LOG, .log = F.log, .members = members,
                          .trust_get = trust_get, .trust_put = trust_put, .ctx = &F};
    px_assert_ok(px_explorer_new(&F.xl, &o, &err), &err);
    o = (px_explorer_opts){.node_id = "pod-1", .roles = PX_ROLE_POD, .pod = F.pod, .pod_mu = &F.pod_mu,
                           .members = members, .trust_get = trust_get, .trust_put = trust_put, .ctx = &F};
    px_assert_ok(px_explorer_new(&F.xp, &o, &err), &err);
    /* Two entries: one that is no statement at all, one that is a DSSE
     * envelope of something else. */
    const uint8_t *e[2] = {(const uint8_t *)"not a statement", (const uint8_t *)"{\"payload\":\"\"}"};
    size_t lens[2] = {15, 14};
    uint64_t first;
    px_assert_ok(px_log_append(F.log, e, lens, 2, &first, NULL, &err), &err);
    (void)state;
    return 0;
}

static int teardown(void **state) {
    px_explorer_free(F.xl);
    px_explorer_free(F.xp);
    px_log_close(F.log);
    px_pod_close(F.pod);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", F.dir);
    assert_int_equal(system(cmd), 0);
    (void)state;
    return 0;
}

typedef struct answer {
    int status;
    char type[64];
    char body[8192];
    char extra[128];
    const char *const *headers;
} answer;

static answer get(px_explorer *x, const char *method, const char *path, const char *query) {
    px_http_request req = {.method = method, .path = path, .query = query ? query : ""};
    px_http_response resp = {0};
    px_explorer_handle(x, &req, &resp);
    answer a = {.status = resp.status, .headers = resp.headers};
    snprintf(a.type, sizeof a.type, "%s", resp.content_type ? resp.content_type : "application/json");
    snprintf(a.body, sizeof a.body, "%.*s", (int)resp.body.len, resp.body.data ? (char *)resp.body.data : "");
    snprintf(a.extra, sizeof a.extra, "%s", resp.extra_header);
    px_buf_free(&resp.body);
    return a;
}

static int has_header(const answer *a, const char *prefix) {
    for (size_t i = 0; a->headers && a->headers[i]; i++)
        if (!strncmp(a->headers[i], prefix, strlen(prefix)))
            return 1;
    return 0;
}

static void test_pages_and_json(void **state) {
    answer a = get(F.xl, "GET", "/ui/", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.type, "text/html; charset=utf-8");
    assert_true(has_header(&a, "Content-Security-Policy: default-src 'none'; script-src 'self';"));
    assert_true(has_header(&a, "X-Frame-Options: DENY"));
    assert_null(strstr(a.body, "<script>")); /* no inline script: the CSP would refuse it anyway */
    a = get(F.xl, "GET", "/ui/", "format=json");
    assert_int_equal(a.status, 200);
    assert_string_equal(a.type, "application/json");
    assert_non_null(strstr(a.body, "\"node\":\"log-1\""));
    assert_non_null(strstr(a.body, "\"size\":2"));
    assert_true(has_header(&a, "X-Content-Type-Options: nosniff"));
    a = get(F.xl, "GET", "/ui/log", "format=json");
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.body, "\"signed\":true"));
    a = get(F.xl, "GET", "/ui/tasks", "format=json");
    assert_non_null(strstr(a.body, "\"total\":0"));
    a = get(F.xl, "GET", "/ui/entry/1", "format=json");
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.body, "\"kind\":\"other\""));
    a = get(F.xl, "GET", "/ui/assets/app.js", NULL);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.type, "text/javascript; charset=utf-8");
    a = get(F.xl, "GET", "/ui", NULL);
    assert_int_equal(a.status, 301);
    assert_string_equal(a.extra, "Location: /ui/");
    (void)state;
}

static void test_refusals(void **state) {
    static const struct {
        const char *path, *query;
        int status;
    } cases[] = {
        {"/ui/nothing", "format=json", 404},
        {"/ui/assets/index.html", NULL, 404},
        {"/ui/assets/../../etc/passwd", NULL, 404},
        {"/ui/entry/2", "format=json", 404},  /* beyond the checkpoint */
        {"/ui/entry/01", "format=json", 404}, /* one spelling per index */
        {"/ui/entry/-1", "format=json", 404},
        {"/ui/entry/99999999999999999999", "format=json", 404},
        {"/ui/task/xyz", "format=json", 404},
        {"/ui/task/00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff", "format=json", 404},
        {"/ui/task/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", "format=json", 404},
        {"/ui/task/00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff/other", "format=json", 404},
        {"/ui/digest/0011", "format=json", 404},
        {"/ui/tasks", "format=json&page=-1", 400},
        {"/ui/tasks", "format=json&page=1x", 400},
        {"/ui/search", "format=json", 400},
        {"/ui/node/nobody", "format=json", 404},
        {"/ui/node/..", "format=json", 404},
        {"/ui/pod", "format=json", 404}, /* the log node is no POD */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        answer a = get(F.xl, "GET", cases[i].path, cases[i].query);
        if (a.status != cases[i].status)
            fail_msg("%s?%s: %d, expected %d: %s", cases[i].path, cases[i].query ? cases[i].query : "", a.status,
                     cases[i].status, a.body);
        assert_non_null(strstr(a.body, "{\"error\":\""));
    }
    assert_int_equal(get(F.xl, "POST", "/ui/", NULL).status, 405);
    /* The page of an unknown view still comes with its status. */
    assert_int_equal(get(F.xl, "GET", "/ui/nothing", NULL).status, 404);
    /* The POD node shows no log. */
    assert_int_equal(get(F.xp, "GET", "/ui/log", "format=json").status, 404);
    (void)state;
}

static void test_search(void **state) {
    answer a = get(F.xl, "GET", "/ui/search", "q=1&format=json");
    assert_non_null(strstr(a.body, "\"kind\":\"entry\""));
    a = get(F.xl, "GET", "/ui/search", "q=+pod-1+&format=json");
    assert_non_null(strstr(a.body, "\"url\":\"/ui/node/pod-1\""));
    a = get(F.xl, "GET", "/ui/search", "q=%3Cscript%3E&format=json");
    assert_int_equal(a.status, 200);
    assert_non_null(strstr(a.body, "\"results\":[]"));
    a = get(F.xl, "GET", "/ui/search", "q=a%00b&format=json"); /* a NUL is refused, not cut */
    assert_int_equal(a.status, 400);
    (void)state;
}

static void test_query(void **state) {
    char out[16];
    px_http_request r = {.query = "a=1&b=x%41y+z&c&d=%zz&long=0123456789abcdefg"};
    assert_string_equal(ex_query(&r, "a", out, sizeof out), "1");
    assert_string_equal(ex_query(&r, "b", out, sizeof out), "xAy z");
    assert_string_equal(ex_query(&r, "c", out, sizeof out), "");
    assert_string_equal(ex_query(&r, "d", out, sizeof out), "%zz");
    assert_null(ex_query(&r, "long", out, sizeof out));
    assert_null(ex_query(&r, "e", out, sizeof out));
    r.query = "x=%4";
    assert_string_equal(ex_query(&r, "x", out, sizeof out), "%4");
    (void)state;
}

static answer login(px_explorer *x, const char *path_and_query) {
    char path[64], *q = strchr(path_and_query, '?');
    snprintf(path, sizeof path, "%.*s", (int)(q - path_and_query), path_and_query);
    return get(x, "GET", path, q + 1);
}

static void test_pod_sign_in(void **state) {
    px_err err = {0};
    answer a = get(F.xp, "GET", "/ui/pod", "format=json");
    assert_int_equal(a.status, 401);
    a = get(F.xp, "GET", "/ui/pod", NULL);
    assert_int_equal(a.status, 401);
    assert_string_equal(a.type, "text/html; charset=utf-8");
    assert_int_equal(get(F.xp, "GET", "/ui/pod/budget", NULL).status, 401);
    /* A link signed by the node's key opens a session, once. */
    px_buf link = PX_BUF_INIT;
    px_assert_ok(px_explorer_login_path(&link, &F.pod_key, "pod-1", px_now_ms(), &err), &err);
    assert_true(px_buf_cstr(&link, &err) != NULL);
    a = login(F.xp, (char *)link.data);
    assert_int_equal(a.status, 303);
    assert_true(has_header(&a, "Location: /ui/pod"));
    assert_non_null(strstr(a.extra, "Set-Cookie: pixiu_ui="));
    assert_non_null(strstr(a.extra, "HttpOnly; SameSite=Strict"));
    assert_int_equal(login(F.xp, (char *)link.data).status, 403);
    px_buf_reset(&link);
    /* Another key, another node, a stale time, a link before the start. */
    px_assert_ok(px_explorer_login_path(&link, &F.log_key, "pod-1", px_now_ms(), &err), &err);
    assert_true(px_buf_cstr(&link, &err) != NULL);
    a = login(F.xp, (char *)link.data);
    assert_int_equal(a.status, 403);
    assert_non_null(strstr(a.body, "not signed by this node's key"));
    px_buf_reset(&link);
    px_assert_ok(px_explorer_login_path(&link, &F.pod_key, "log-1", px_now_ms(), &err), &err);
    assert_true(px_buf_cstr(&link, &err) != NULL);
    assert_int_equal(login(F.xp, (char *)link.data).status, 403);
    assert_int_equal(login(F.xl, (char *)link.data).status, 404); /* the log node has no POD views */
    px_buf_reset(&link);
    px_assert_ok(px_explorer_login_path(&link, &F.pod_key, "pod-1", px_now_ms() - 10 * 60 * 1000, &err), &err);
    assert_true(px_buf_cstr(&link, &err) != NULL);
    a = login(F.xp, (char *)link.data);
    assert_int_equal(a.status, 403);
    px_buf_free(&link);
    /* Malformed links. */
    static const char *const bad[] = {"node=pod-1", "node=pod-1&time=x&nonce=00&sig=00",
                                      "node=pod-1&time=1&nonce=00112233445566778899aabbccddeeff&sig=zz", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(get(F.xp, "GET", "/ui/pod/login", bad[i]).status, 400);
    (void)state;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_and_json), cmocka_unit_test(test_refusals), cmocka_unit_test(test_search),
        cmocka_unit_test(test_query), cmocka_unit_test(test_pod_sign_in),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
