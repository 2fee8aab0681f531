/* A real public log for tests that run trust-λ steps: a trust-λ runs its
 * stage and releases its output only when shown its statements in the log
 * its config names (docs/lambda.md, "Release after log"). One log per test
 * program: its key is made at first use, the log (SQLite in a temporary
 * directory) is opened when first needed, served over HTTP on loopback when
 * asked, and closed and removed at exit. */
#ifndef PX_TESTLOG_H
#define PX_TESTLOG_H

#include <stdlib.h>

#include "px_test.h"
#include "pixiu/http.h"
#include "pixiu/lambda.h"

typedef struct px_testlog {
    int keyed, opened;
    char dir[64];
    px_signer key;
    px_verifier vkey;
    px_log *log;
    px_http_server *srv;
    char url[64];
} px_testlog;

static px_testlog px_testlog_g;

static inline void px_testlog_close(void) {
    px_testlog *t = &px_testlog_g;
    if (t->srv)
        px_http_server_stop(t->srv);
    if (t->log)
        px_log_close(t->log);
    if (t->opened) {
        char cmd[96];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", t->dir);
    }
    px_signer_wipe(&t->key);
    memset(t, 0, sizeof *t);
}

/* The log's key (the log itself is not opened for it). */
static inline px_testlog *px_testlog_keyed(void) {
    px_testlog *t = &px_testlog_g;
    if (!t->keyed) {
        px_err err = {0};
        px_assert_ok(px_crypto_init(&err), &err);
        px_assert_ok(px_signer_generate(&t->key, "log.test/pixiu", &err), &err);
        px_signer_verifier(&t->key, &t->vkey);
        t->keyed = 1;
        atexit(px_testlog_close);
    }
    return t;
}

static inline px_testlog *px_testlog_get(void) {
    px_testlog *t = px_testlog_keyed();
    if (!t->opened) {
        px_err err = {0};
        snprintf(t->dir, sizeof t->dir, "/tmp/px-testlog-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        t->opened = 1;
        char store[96];
        snprintf(store, sizeof store, "%s/log.db", t->dir);
        px_log_opts o = {.store = store, .key = &t->key};
        px_assert_ok(px_log_open(&t->log, &o, &err), &err);
    }
    return t;
}

/* What a λ step puts its statements in. */
static inline px_lambda_log px_testlog_lambda(void) {
    px_lambda_log l = {px_lambda_log_local, px_testlog_get()->log};
    return l;
}

/* The same, as an argument to px_lambda_step / px_lambda_host_step. */
#define PX_TESTLOG_LAMBDA (&(const px_lambda_log){px_lambda_log_local, px_testlog_get()->log})

/* The log served over HTTP (docs/log.md): its base URL. */
static inline const char *px_testlog_url(void) {
    px_testlog *t = px_testlog_get();
    if (!t->srv) {
        px_err err = {0};
        px_http_server_opts o = {.handler = px_log_http_handler, .ctx = t->log};
        px_assert_ok(px_http_server_start(&t->srv, &o, &err), &err);
        snprintf(t->url, sizeof t->url, "http://127.0.0.1:%u", px_http_server_port(t->srv));
    }
    return t->url;
}

/* The verifier key as a stage config names it (malloc'd). */
static inline char *px_testlog_vkey_text(void) {
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_verifier_format(&px_testlog_keyed()->vkey, &b, &err), &err);
    while (b.len && b.data[b.len - 1] == '\n')
        b.len--;
    return px_buf_cstr(&b, &err);
}

#endif
