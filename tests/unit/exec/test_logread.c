/* Reading a task from a real log service over HTTP when its entries fill
 * more than one lookup page: the log answers at most 1,000 indices per
 * page, so the stage proofs here sit behind 1,100 other statements under
 * the same manifest and the audit must still find them. */
#include "scenario.h"

#define FILLER 1100

typedef struct env {
    char dir[32], base[64];
    px_signer log_key;
    px_log *log;
    px_http_server *srv;
} env;

static void env_open(env *e) {
    px_err err = {0};
    memset(e, 0, sizeof *e);
    strcpy(e->dir, "/tmp/px-logread-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    px_assert_ok(px_signer_generate(&e->log_key, "log.example", &err), &err);
    char path[96];
    snprintf(path, sizeof path, "%s/log.db", e->dir);
    px_log_opts o = {.store = path, .key = &e->log_key};
    px_assert_ok(px_log_open(&e->log, &o, &err), &err);
    px_http_server_opts so = {.handler = px_log_http_handler, .ctx = e->log};
    px_assert_ok(px_http_server_start(&e->srv, &so, &err), &err);
    snprintf(e->base, sizeof e->base, "http://127.0.0.1:%u", px_http_server_port(e->srv));
}

static void env_close(env *e) {
    px_http_server_stop(e->srv);
    px_log_close(e->log);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
    assert_int_equal(system(cmd), 0);
}

static void append(env *e, const px_buf *b, size_t n) {
    px_err err = {0};
    const uint8_t **p = calloc(n, sizeof *p);
    size_t *lens = calloc(n, sizeof *lens);
    assert_non_null(p);
    assert_non_null(lens);
    for (size_t i = 0; i < n; i++) {
        p[i] = b[i].data;
        lens[i] = b[i].len;
    }
    uint64_t first;
    px_assert_ok(px_log_append(e->log, p, lens, n, &first, NULL, &err), &err);
    free(p);
    free(lens);
}

/* Statements anyone may append under the manifest: not PIXIU's, ignored. */
static void filler(const fx *f, px_buf *out, size_t n) {
    px_err err = {0};
    px_signer stranger;
    px_assert_ok(px_signer_generate(&stranger, "stranger", &err), &err);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_object();
        json_object_set_new(p, "manifest", fx_hexstr(f->m.id, 32));
        json_object_set_new(p, "note", json_integer((json_int_t)i));
        memset(&out[i], 0, sizeof out[i]);
        fx_statement(&out[i], &stranger, "urn:example:note:v1", "manifest", f->m.id, p);
    }
}

static void test_audit_across_pages(void **state) {
    (void)state;
    env e;
    fx f;
    tlog t;
    px_err err = {0};
    env_open(&e);
    fx_init(&f);
    build(&f, &t, NONE);
    /* plan and releases, then the filler, then the stage proofs */
    size_t head = 1 + FX_PODS;
    append(&e, t.raw, head);
    px_buf *fill = calloc(FILLER, sizeof *fill);
    assert_non_null(fill);
    filler(&f, fill, FILLER);
    append(&e, fill, FILLER);
    append(&e, t.raw + head, t.n - head);

    char url[96];
    snprintf(url, sizeof url, "%s", e.base);
    uint64_t *idx = NULL;
    size_t n = 0;
    px_assert_ok(px_logread_lookup(url, "manifest", f.m.id, &idx, &n, &err), &err);
    assert_int_equal(n, t.n + FILLER);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(idx[i], i);
    free(idx);

    px_entry *es = NULL;
    px_assert_ok(px_logread_entries(url, "manifest", f.m.id, &es, &n, &err), &err);
    assert_int_equal(n, t.n + FILLER);
    assert_int_equal(es[n - 1].kind, PX_ENTRY_EXEC);
    assert_int_equal(es[n - 1].index, t.n + FILLER - 1);
    px_audit a;
    px_assert_ok(px_audit_run(&a, f.m.id, es, n, f.pod_keys, FX_PODS, fx_check, &f, &err), &err);
    if (a.verdict != PX_AUDIT_OK)
        fail_msg("verdict %s at stage %lld: %s", px_verdict_name(a.verdict), (long long)a.stage, a.why);
    assert_int_equal(a.releases, FX_PODS);
    px_audit_free(&a);
    for (size_t i = 0; i < n; i++)
        px_entry_free(&es[i]);
    free(es);

    /* An unknown lookup key is refused by name. */
    assert_int_equal(px_logread_lookup(url, "nonsense", f.m.id, &idx, &n, &err), -1);
    assert_non_null(strstr(err.msg, "nonsense"));

    for (size_t i = 0; i < FILLER; i++)
        px_buf_free(&fill[i]);
    free(fill);
    free_log(&t);
    fx_free(&f);
    env_close(&e);
}

/* A node's front: its log under /log, everything else refused as an
 * unsigned request would be (what a reader gets from a node's URL). */
static void node_front(void *ctx, const px_http_request *req, px_http_response *resp) {
    if (strncmp(req->path, "/log/", 5)) {
        px_http_error(resp, 403, "unsigned request");
        return;
    }
    px_http_request r = *req;
    r.path = req->path + 4;
    px_log_http_handler(ctx, &r, resp);
}

/* audit and trace take a log's URL or a node's: the reader finds the log. */
static void test_resolve(void **state) {
    (void)state;
    env e;
    env_open(&e);
    px_err err = {0};
    char out[1100], with[96];
    px_http_server *node;
    px_http_server_opts so = {.handler = node_front, .ctx = e.log};
    px_assert_ok(px_http_server_start(&node, &so, &err), &err);
    char nbase[64];
    snprintf(nbase, sizeof nbase, "http://127.0.0.1:%u", px_http_server_port(node));
    px_assert_ok(px_logread_resolve(e.base, out, sizeof out, &err), &err); /* `pixiu log serve` at its root */
    assert_string_equal(out, e.base);
    snprintf(with, sizeof with, "%s/", e.base);
    px_assert_ok(px_logread_resolve(with, out, sizeof out, &err), &err);
    assert_string_equal(out, e.base);
    px_assert_ok(px_logread_resolve(nbase, out, sizeof out, &err), &err); /* a node: its log is under /log */
    snprintf(with, sizeof with, "%s/log", nbase);
    assert_string_equal(out, with);
    px_assert_ok(px_logread_resolve(with, out, sizeof out, &err), &err);
    assert_string_equal(out, with);
    /* Neither: one message naming the URL, not a credentials problem. */
    snprintf(with, sizeof with, "%s/nothing", nbase);
    px_assert_fails(px_logread_resolve(with, out, sizeof out, &err), &err, PX_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "serves no log"));
    px_http_server_stop(node);
    px_assert_fails(px_logread_resolve(nbase, out, sizeof out, &err), &err, PX_E_UNAVAILABLE);
    env_close(&e);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_audit_across_pages),
                                       cmocka_unit_test(test_resolve)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
