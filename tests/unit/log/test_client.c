/* The log client against a real log served over HTTP on loopback: verified
 * appends, proofs, entries, paged lookups, and a lying server caught. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pixiu/log.h"

#define STATEMENTS 1003 /* more than one lookup page */

typedef struct fixture {
    char dir[64];
    px_signer key;
    px_verifier vkey;
    px_log *log;
    px_http_server *srv;
    char url[64];
    int lie; /* tamper with the proofs of appends */
} fixture;

/* The real handler, optionally flipping a proof byte in /add answers. */
static void handler(void *ctx, const px_http_request *req, px_http_response *resp) {
    fixture *f = ctx;
    px_log_http_handler(f->log, req, resp);
    if (!f->lie || strcmp(req->path, "/add") != 0 || resp->status != 200)
        return;
    json_t *j = px_json_parse(resp->body.data, resp->body.len, 1 << 20, NULL);
    json_t *p = json_array_get(json_object_get(j, "proof"), 0);
    if (p) {
        char h[45];
        snprintf(h, sizeof h, "%s", json_string_value(p));
        h[0] = h[0] == 'A' ? 'B' : 'A';
        json_array_set_new(json_object_get(j, "proof"), 0, json_string(h));
        px_buf_reset(&resp->body);
        px_json_dump(j, &resp->body, NULL);
    }
    json_decref(j);
}

static int setup(void **state) {
    static fixture f;
    px_err err = {0};
    snprintf(f.dir, sizeof f.dir, "/tmp/pixiu-log-client-XXXXXX");
    assert_non_null(mkdtemp(f.dir));
    char store[128];
    snprintf(store, sizeof store, "%s/log.db", f.dir);
    assert_int_equal(px_signer_generate(&f.key, "client.test/log", &err), 0);
    px_signer_verifier(&f.key, &f.vkey);
    assert_int_equal(px_log_open(&f.log, &(px_log_opts){.store = store, .key = &f.key}, &err), 0);
    assert_int_equal(px_http_server_start(&f.srv, &(px_http_server_opts){.handler = handler, .ctx = &f}, &err), 0);
    snprintf(f.url, sizeof f.url, "http://127.0.0.1:%u", px_http_server_port(f.srv));
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    px_http_server_stop(f->srv);
    px_log_close(f->log);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    return system(cmd);
}

static void test_append_and_read(void **state) {
    fixture *f = *state;
    px_err err = {0};
    px_log_receipt r[3];
    for (int i = 0; i < 3; i++) {
        char e[32];
        int n = snprintf(e, sizeof e, "remote entry %d", i);
        if (px_log_remote_append(f->url, (const uint8_t *)e, (size_t)n, &f->vkey, &r[i], &err))
            fail_msg("append: %s", err.msg);
        assert_int_equal(r[i].index, (uint64_t)i);
        assert_true(r[i].checkpoint.size > r[i].index);
    }
    px_buf note = PX_BUF_INIT, proof = PX_BUF_INIT, entry = PX_BUF_INIT;
    px_checkpoint cp;
    assert_int_equal(px_log_remote_checkpoint(f->url, &f->vkey, &note, &cp, &err), 0);
    assert_int_equal(cp.size, 3);
    assert_int_equal(px_log_remote_consistency(f->url, r[0].checkpoint.size, cp.size, &proof, &err), 0);
    if (r[0].checkpoint.size < cp.size)
        assert_int_equal(px_log_verify_consistency(r[0].checkpoint.size, cp.size, r[0].checkpoint.root, cp.root,
                                                   proof.data, proof.len / 32, &err),
                         0);
    px_buf_reset(&proof);
    assert_int_equal(px_log_remote_inclusion(f->url, 1, cp.size, &proof, &err), 0);
    assert_int_equal(px_log_remote_entry(f->url, 1, &entry, &err), 0);
    uint8_t leaf[32];
    px_log_leaf_hash(leaf, entry.data, entry.len);
    assert_int_equal(px_log_verify_inclusion(1, cp.size, leaf, proof.data, proof.len / 32, cp.root, &err), 0);
    /* A checkpoint under the wrong key, an entry that is not there. */
    px_signer other;
    px_verifier ov;
    px_signer_generate(&other, "client.test/log", &err);
    px_signer_verifier(&other, &ov);
    assert_int_equal(px_log_remote_checkpoint(f->url, &ov, &note, &cp, &err), -1);
    assert_int_equal(px_log_remote_entry(f->url, 99, &entry, &err), -1);
    assert_int_equal(err.code, PX_E_NOTFOUND);
    for (int i = 0; i < 3; i++)
        px_log_receipt_free(&r[i]);
    px_checkpoint_free(&cp);
    px_buf_free(&note);
    px_buf_free(&proof);
    px_buf_free(&entry);
}

static void test_lying_server(void **state) {
    fixture *f = *state;
    px_err err = {0};
    px_log_receipt r;
    f->lie = 1;
    /* Enough entries that the proof is not empty. */
    int rc = px_log_remote_append(f->url, (const uint8_t *)"lied about", 10, &f->vkey, &r, &err);
    f->lie = 0;
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "not proven"));
}

static void test_paged_lookup(void **state) {
    fixture *f = *state;
    px_err err = {0};
    uint8_t manifest[32];
    memset(manifest, 0x5a, sizeof manifest);
    char mhex[65];
    px_hex_encode(mhex, manifest, 32);
    px_buf *envs = calloc(STATEMENTS, sizeof *envs);
    const uint8_t **ents = calloc(STATEMENTS, sizeof *ents);
    size_t *lens = calloc(STATEMENTS, sizeof *lens);
    for (int i = 0; i < STATEMENTS; i++) {
        px_subject s = {.name = "out"};
        memset(s.sha256, 0, 32);
        s.sha256[0] = (uint8_t)i;
        s.sha256[1] = (uint8_t)(i >> 8);
        json_t *pred = json_pack("{s:s,s:s}", "manifest", mhex, "status", "ok");
        px_buf st = PX_BUF_INIT;
        assert_int_equal(px_statement_build(&st, &s, 1, "urn:pixiu:predicate:execution:v1", pred, &err), 0);
        assert_int_equal(px_dsse_sign(&envs[i], PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, &f->key, 1, &err), 0);
        ents[i] = envs[i].data;
        lens[i] = envs[i].len;
        json_decref(pred);
        px_buf_free(&st);
    }
    uint64_t first;
    assert_int_equal(px_log_append(f->log, ents, lens, STATEMENTS, &first, NULL, &err), 0);
    uint64_t *hits = calloc(STATEMENTS + 10, sizeof *hits);
    size_t n = 0;
    if (px_log_remote_lookup(f->url, PX_LOG_BY_MANIFEST, manifest, hits, STATEMENTS + 10, &n, &err))
        fail_msg("lookup: %s", err.msg);
    assert_int_equal(n, STATEMENTS);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(hits[i], first + i);
    /* A caller's limit is respected with an error, not a silent cut. */
    assert_int_equal(px_log_remote_lookup(f->url, PX_LOG_BY_MANIFEST, manifest, hits, 10, &n, &err), -1);
    assert_int_equal(err.code, PX_E_LIMIT);
    for (int i = 0; i < STATEMENTS; i++)
        px_buf_free(&envs[i]);
    free(envs);
    free(ents);
    free(lens);
    free(hits);
}

/* ---- a server with polling threads: appends answered later ------------------------ */

#define POOL_CLIENTS 6
#define POOL_CALLS 20

typedef struct pool_client {
    const char *url;
    const px_verifier *vkey;
    int id;
    uint64_t index[3 * POOL_CALLS]; /* every index it was given */
    size_t n;
    long bad;
} pool_client;

/* Verified appends (wait=1, answered on the polling thread with a proof),
 * plain ones and two-entry bundles, interleaved. */
static void *pool_run(void *arg) {
    pool_client *c = arg;
    char url[128];
    for (int i = 0; i < POOL_CALLS; i++) {
        char e[64];
        int n = snprintf(e, sizeof e, "pool client %d entry %d", c->id, i);
        px_log_receipt r;
        px_err err = {0};
        if (px_log_remote_append(c->url, (const uint8_t *)e, (size_t)n, c->vkey, &r, &err)) {
            c->bad++;
            continue;
        }
        c->index[c->n++] = r.index;
        px_log_receipt_free(&r);
        px_buf out = PX_BUF_INIT;
        int status = 0;
        snprintf(url, sizeof url, "%s/add", c->url);
        json_t *j = NULL;
        if (px_http_call("POST", url, NULL, 0, e, (size_t)n, 10000, 4096, &status, &out, NULL) == 0 && status == 200)
            j = px_json_parse(out.data, out.len, 4096, NULL);
        if (json_is_integer(json_object_get(j, "index")))
            c->index[c->n++] = (uint64_t)json_integer_value(json_object_get(j, "index"));
        else
            c->bad++;
        json_decref(j);
        px_buf_reset(&out);
        uint8_t bundle[2 * (2 + 8)];
        for (int k = 0; k < 2; k++) {
            bundle[k * 10] = 0;
            bundle[k * 10 + 1] = 8;
            memcpy(bundle + k * 10 + 2, k ? "bundle-b" : "bundle-a", 8);
        }
        snprintf(url, sizeof url, "%s/add-bundle", c->url);
        j = NULL;
        if (px_http_call("POST", url, NULL, 0, bundle, sizeof bundle, 10000, 4096, &status, &out, NULL) == 0 &&
            status == 200)
            j = px_json_parse(out.data, out.len, 4096, NULL);
        if (json_integer_value(json_object_get(j, "count")) == 2)
            c->index[c->n++] = (uint64_t)json_integer_value(json_object_get(j, "first"));
        else
            c->bad++;
        json_decref(j);
        px_buf_free(&out);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_pool_server(void **state) {
    fixture *f = *state;
    px_err err = {0};
    px_http_server *srv = NULL;
    assert_int_equal(px_http_server_start(&srv, &(px_http_server_opts){.handler = px_log_http_handler, .ctx = f->log,
                                                                        .threads = PX_LOG_HTTP_THREADS}, &err), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", px_http_server_port(srv));
    uint64_t before;
    px_buf cp = PX_BUF_INIT;
    assert_int_equal(px_log_checkpoint(f->log, &cp, &before, &err), 0);
    pool_client c[POOL_CLIENTS];
    pthread_t t[POOL_CLIENTS];
    for (int i = 0; i < POOL_CLIENTS; i++) {
        c[i] = (pool_client){.url = url, .vkey = &f->vkey, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, pool_run, &c[i]), 0);
    }
    /* Every answer names a distinct place: one index per single entry, two
     * per bundle, all of them together exactly the entries appended. */
    uint64_t all[POOL_CLIENTS * 3 * POOL_CALLS];
    size_t n = 0;
    for (int i = 0; i < POOL_CLIENTS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(c[i].bad, 0);
        memcpy(all + n, c[i].index, c[i].n * sizeof *all);
        n += c[i].n;
    }
    px_http_server_stop(srv);
    qsort(all, n, sizeof *all, cmp_u64);
    uint64_t next = before;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(all[i], next);
        px_buf e = PX_BUF_INIT;
        assert_int_equal(px_log_entry(f->log, all[i], &e, &err), 0);
        next += e.len == 8 && !memcmp(e.data, "bundle-a", 8) ? 2 : 1;
        px_buf_free(&e);
    }
    uint64_t after;
    px_buf_reset(&cp);
    assert_int_equal(px_log_checkpoint(f->log, &cp, &after, &err), 0);
    assert_int_equal(after, next);
    px_buf_free(&cp);
}

int main(void) {
    px_crypto_init(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_read),
        cmocka_unit_test(test_lying_server),
        cmocka_unit_test(test_paged_lookup),
        cmocka_unit_test(test_pool_server),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
