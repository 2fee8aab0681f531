/* The HTTP transport between real sockets on loopback: bodies, queries,
 * headers, size limits, status codes, concurrency and transport failures. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pixiu/http.h"

#define SMALL_LIMIT 1000

/* Echo: the reply names method, path, query, one header and the body. */
static void echo(void *ctx, const px_http_request *req, px_http_response *resp) {
    if (!strcmp(req->path, "/missing")) {
        px_http_error(resp, 404, "no such thing: %s", req->path);
        return;
    }
    if (!strcmp(req->path, "/bin")) {
        resp->content_type = "application/octet-stream";
        px_buf_append(&resp->body, req->body, req->body_len, NULL);
        snprintf(resp->extra_header, sizeof resp->extra_header, "X-Len: %zu", req->body_len);
        return;
    }
    const char *h = px_http_request_header(req, "x-test");
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s%}", "method", req->method, "path", req->path,
                          "query", req->query, "header", h ? h : "", "body",
                          (const char *)req->body, req->body_len);
    px_json_dump(o, &resp->body, NULL);
    json_decref(o);
}

typedef struct fixture {
    px_http_server *srv;
    char base[64];
} fixture;

static int setup(void **state) {
    static fixture f;
    px_err err = {0};
    px_http_server_opts o = {.handler = echo, .max_body = SMALL_LIMIT};
    assert_int_equal(px_http_server_start(&f.srv, &o, &err), 0);
    assert_true(px_http_server_port(f.srv) != 0);
    snprintf(f.base, sizeof f.base, "http://127.0.0.1:%u", px_http_server_port(f.srv));
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    px_http_server_stop(f->srv);
    return 0;
}

static json_t *call_json(fixture *f, const char *method, const char *path, const char *body,
                         int *status) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    px_buf out = PX_BUF_INIT;
    px_err err = {0};
    px_http_header h[] = {{"X-Test", "hello"}};
    assert_int_equal(px_http_call(method, url, h, 1, body, body ? strlen(body) : 0, 5000, 1 << 20,
                                  status, &out, &err),
                     0);
    json_t *j = px_json_parse(out.data, out.len, 1 << 20, &err);
    assert_non_null(j);
    px_buf_free(&out);
    return j;
}

static void test_echo(void **state) {
    int status = 0;
    json_t *j = call_json(*state, "POST", "/a/b?x=1&y=%2F", "{\"k\":1}", &status);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(j, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(j, "path")), "/a/b");
    assert_string_equal(json_string_value(json_object_get(j, "query")), "x=1&y=%2F");
    assert_string_equal(json_string_value(json_object_get(j, "header")), "hello");
    assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"k\":1}");
    json_decref(j);
    j = call_json(*state, "GET", "/plain", NULL, &status);
    assert_int_equal(status, 200);
    assert_string_equal(json_string_value(json_object_get(j, "query")), "");
    assert_string_equal(json_string_value(json_object_get(j, "body")), "");
    json_decref(j);
    j = call_json(*state, "PUT", "/put", "x", &status);
    assert_string_equal(json_string_value(json_object_get(j, "method")), "PUT");
    json_decref(j);
}

static void test_error_status(void **state) {
    int status = 0;
    json_t *j = call_json(*state, "GET", "/missing", NULL, &status);
    assert_int_equal(status, 404);
    assert_string_equal(json_string_value(json_object_get(j, "error")), "no such thing: /missing");
    json_decref(j);
}

static void test_binary_and_limit(void **state) {
    fixture *f = *state;
    char url[128];
    snprintf(url, sizeof url, "%s/bin", f->base);
    uint8_t body[SMALL_LIMIT + 1];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)i; /* includes NUL bytes */
    px_buf out = PX_BUF_INIT;
    px_err err = {0};
    int status = 0;
    assert_int_equal(px_http_call("POST", url, NULL, 0, body, SMALL_LIMIT, 5000, 1 << 20, &status,
                                  &out, &err),
                     0);
    assert_int_equal(status, 200);
    assert_int_equal(out.len, SMALL_LIMIT);
    assert_memory_equal(out.data, body, SMALL_LIMIT);
    px_buf_reset(&out);
    /* One byte over the limit: 413 naming the limit. */
    assert_int_equal(px_http_call("POST", url, NULL, 0, body, sizeof body, 5000, 1 << 20, &status,
                                  &out, &err),
                     0);
    assert_int_equal(status, 413);
    assert_non_null(strstr(px_buf_cstr(&out, NULL), "1000 bytes"));
    px_buf_reset(&out);
    /* The response limit on the client side. */
    assert_int_equal(px_http_call("POST", url, NULL, 0, body, 100, 5000, 10, &status, &out, &err),
                     -1);
    assert_int_equal(err.code, PX_E_LIMIT);
    assert_int_equal(out.len, 0);
    px_buf_free(&out);
}

static void test_header_injection_refused(void **state) {
    fixture *f = *state;
    px_buf out = PX_BUF_INIT;
    px_err err = {0};
    int status = 0;
    px_http_header h[] = {{"X-Test", "a\r\nX-Evil: 1"}};
    assert_int_equal(px_http_call("GET", f->base, h, 1, NULL, 0, 5000, 1 << 20, &status, &out, &err),
                     -1);
    assert_int_equal(err.code, PX_E_INVALID);
    px_buf_free(&out);
}

static void test_unreachable(void **state) {
    px_http_server *s = NULL;
    px_err err = {0};
    px_http_server_opts o = {.handler = echo};
    assert_int_equal(px_http_server_start(&s, &o, &err), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", px_http_server_port(s));
    px_http_server_stop(s); /* nothing listens there any more */
    px_buf out = PX_BUF_INIT;
    int status = 0;
    assert_int_equal(px_http_call("GET", url, NULL, 0, NULL, 0, 2000, 1024, &status, &out, &err), -1);
    assert_int_equal(err.code, PX_E_UNAVAILABLE);
    assert_int_equal(px_http_call("GET", "file:///etc/passwd", NULL, 0, NULL, 0, 2000, 1024, &status,
                                  &out, &err),
                     -1);
    px_buf_free(&out);
}

#define NTHREADS 8
#define NCALLS 25

static void *hammer(void *arg) {
    fixture *f = arg;
    char url[128], body[64];
    long bad = 0;
    for (int i = 0; i < NCALLS; i++) {
        snprintf(url, sizeof url, "%s/bin", f->base);
        int n = snprintf(body, sizeof body, "call %d of %p", i, (void *)&i);
        px_buf out = PX_BUF_INIT;
        int status = 0;
        if (px_http_call("POST", url, NULL, 0, body, (size_t)n, 5000, 1024, &status, &out, NULL) ||
            status != 200 || out.len != (size_t)n || memcmp(out.data, body, (size_t)n))
            bad++;
        px_buf_free(&out);
    }
    return (void *)bad;
}

static void test_concurrent(void **state) {
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, *state), 0);
    for (int i = 0; i < NTHREADS; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        assert_int_equal((long)bad, 0);
    }
}

static void test_pool_mode(void **state) {
    px_http_server *s = NULL;
    px_err err = {0};
    px_http_server_opts o = {.handler = echo, .threads = 2};
    assert_int_equal(px_http_server_start(&s, &o, &err), 0);
    fixture f = {.srv = s};
    snprintf(f.base, sizeof f.base, "http://127.0.0.1:%u", px_http_server_port(s));
    assert_null(hammer(&f));
    px_http_server_stop(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_error_status),
        cmocka_unit_test(test_binary_and_limit),
        cmocka_unit_test(test_header_injection_refused),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_pool_mode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
