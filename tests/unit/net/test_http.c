/* The HTTP transport between real sockets on loopback: bodies, queries,
 * headers, size limits, status codes, concurrency and transport failures. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- answering later ---------------------------------------------------------- */

/* Requests a handler took off its thread, answered by another thread. */
typedef struct answerer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    px_http_later *q[64];
    px_buf body[64];
    size_t n, taken;
    int stop, delay_ms, refused; /* refused: px_http_later_begin said answer now */
    pthread_t th;
} answerer;

static answerer ans = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* /later: answered by the answerer thread with the body; /later-now:
 * answered before the handler even returns. */
static void later_handler(void *ctx, const px_http_request *req, px_http_response *resp) {
    px_http_later *l = px_http_later_begin(req);
    if (!l) {
        pthread_mutex_lock(&ans.mu);
        ans.refused++;
        pthread_mutex_unlock(&ans.mu);
        px_buf_append(&resp->body, req->body, req->body_len, NULL);
        return;
    }
    if (!strcmp(req->path, "/later-now")) {
        px_http_response r = {.status = 200};
        px_buf_append(&r.body, req->body, req->body_len, NULL);
        px_http_answer(l, &r);
        return;
    }
    pthread_mutex_lock(&ans.mu);
    assert_true(ans.n < 64);
    ans.body[ans.n] = (px_buf)PX_BUF_INIT;
    px_buf_append(&ans.body[ans.n], req->body, req->body_len, NULL);
    ans.q[ans.n++] = l;
    ans.taken++;
    pthread_cond_broadcast(&ans.cv);
    pthread_mutex_unlock(&ans.mu);
}

/* The answer made on the connection's thread (px_http_answer_fill). */
static void fill_body(void *ctx, px_http_response *resp) {
    px_buf *b = ctx;
    if (resp) {
        resp->status = 201;
        resp->content_type = "application/octet-stream";
        px_buf_append(&resp->body, b->data, b->len, NULL);
    }
    px_buf_free(b);
    free(b);
}

static void *answer_run(void *arg) {
    unsigned k = 0;
    pthread_mutex_lock(&ans.mu);
    for (;;) {
        while (!ans.n && !ans.stop)
            pthread_cond_wait(&ans.cv, &ans.mu);
        if (!ans.n)
            break;
        px_http_later *l = ans.q[--ans.n];
        px_buf b = ans.body[ans.n];
        pthread_mutex_unlock(&ans.mu);
        if (ans.delay_ms)
            usleep((useconds_t)ans.delay_ms * 1000);
        if (k++ % 2) {
            px_buf *heap = malloc(sizeof *heap);
            assert_non_null(heap);
            *heap = b;
            px_http_answer_fill(l, fill_body, heap);
        } else {
            px_http_response r = {.status = 201, .content_type = "application/octet-stream", .body = b};
            px_http_answer(l, &r);
            px_buf_free(&r.body);
        }
        pthread_mutex_lock(&ans.mu);
    }
    pthread_mutex_unlock(&ans.mu);
    return NULL;
}

typedef struct later_client {
    char url[128];
    long bad;
} later_client;

static void *later_calls(void *arg) {
    later_client *c = arg;
    for (int i = 0; i < NCALLS; i++) {
        char body[64];
        int n = snprintf(body, sizeof body, "later %d of %p", i, (void *)c);
        px_buf out = PX_BUF_INIT;
        int status = 0;
        int want = strstr(c->url, "later-now") ? 200 : 201;
        if (px_http_call("POST", c->url, NULL, 0, body, (size_t)n, 5000, 1024, &status, &out, NULL) ||
            status != want || out.len != (size_t)n || memcmp(out.data, body, (size_t)n))
            c->bad++;
        px_buf_free(&out);
    }
    return NULL;
}

/* A pool server parks requests and sends each answer when it comes, from
 * whichever thread, whether before or after the handler returned. */
static void test_answer_later(void **state) {
    px_http_server *s = NULL;
    px_err err = {0};
    px_http_server_opts o = {.handler = later_handler, .threads = 2};
    assert_int_equal(px_http_server_start(&s, &o, &err), 0);
    ans.stop = 0;
    ans.delay_ms = 0;
    ans.refused = 0;
    assert_int_equal(pthread_create(&ans.th, NULL, answer_run, NULL), 0);
    later_client c[NTHREADS] = {0};
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        snprintf(c[i].url, sizeof c[i].url, "http://127.0.0.1:%u/%s", px_http_server_port(s),
                 i % 2 ? "later" : "later-now");
        assert_int_equal(pthread_create(&t[i], NULL, later_calls, &c[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(c[i].bad, 0);
    }
    assert_int_equal(ans.refused, 0);

    /* Stopping waits for a parked request's answer, and a thread per
     * connection (where waiting is fine) never parks. */
    ans.delay_ms = 300;
    size_t before = ans.taken;
    later_client slow = {0};
    snprintf(slow.url, sizeof slow.url, "http://127.0.0.1:%u/later", px_http_server_port(s));
    pthread_t st;
    assert_int_equal(pthread_create(&st, NULL, later_calls, &slow), 0);
    pthread_mutex_lock(&ans.mu);
    while (ans.taken == before)
        pthread_cond_wait(&ans.cv, &ans.mu);
    pthread_mutex_unlock(&ans.mu);
    uint64_t t0 = px_mono_ns();
    px_http_server_stop(s);
    assert_true(px_mono_ns() - t0 >= 200u * 1000000u);
    pthread_join(st, NULL); /* its later calls fail: nothing listens */
    assert_true(slow.bad > 0);

    /* The slow client's next request may have reached the stopping server,
     * which refuses to park it: count only the direct server's refusals. */
    pthread_mutex_lock(&ans.mu);
    int refused_before = ans.refused;
    pthread_mutex_unlock(&ans.mu);
    o.threads = 0;
    assert_int_equal(px_http_server_start(&s, &o, &err), 0);
    later_client direct = {0};
    snprintf(direct.url, sizeof direct.url, "http://127.0.0.1:%u/later-now", px_http_server_port(s));
    later_calls(&direct);
    assert_int_equal(direct.bad, 0);
    assert_int_equal(ans.refused - refused_before, NCALLS);
    px_http_server_stop(s);

    pthread_mutex_lock(&ans.mu);
    ans.stop = 1;
    pthread_cond_broadcast(&ans.cv);
    pthread_mutex_unlock(&ans.mu);
    pthread_join(ans.th, NULL);
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
        cmocka_unit_test(test_answer_later),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
