/* The log service over a real store: appends from many threads, signed
 * checkpoints, inclusion and consistency proofs against them, tiles and
 * entry bundles, the lookup index, refusals that store nothing, and a
 * reopen; group commit of many concurrent single appends. The same suite
 * runs on SQLite and, through PX_TEST_PG_DSN, on PostgreSQL (which then
 * must be reachable: the test fails otherwise). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "pixiu/log.h"

typedef struct suite {
    char store[1024];
    char dir[256];
    px_signer key;
    px_verifier vkey;
} suite;

static px_log *open_log(suite *s) {
    px_log *log = NULL;
    px_err err = {0};
    px_log_opts o = {.store = s->store, .key = &s->key, .max_entry = 1000, .max_batch = 500};
    if (px_log_open(&log, &o, &err))
        fail_msg("open %s: %s", s->store, err.msg);
    return log;
}

static void checkpoint_of(px_log *log, suite *s, px_checkpoint *cp) {
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    uint64_t size;
    assert_int_equal(px_log_checkpoint(log, &b, &size, &err), 0);
    if (px_checkpoint_open(cp, (const char *)b.data, b.len, &s->vkey, s->key.name, &err))
        fail_msg("checkpoint: %s", err.msg);
    assert_int_equal(cp->size, size);
    px_buf_free(&b);
}

#define THREADS 6
#define PER_THREAD 40

typedef struct worker {
    px_log *log;
    int id;
    uint64_t idx[PER_THREAD];
} worker;

static void make_entry(char *buf, size_t cap, int thread, int i) {
    snprintf(buf, cap, "entry from thread %d number %d", thread, i);
}

static void *appender(void *arg) {
    worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char e[64];
        make_entry(e, sizeof e, w->id, i);
        const uint8_t *p = (const uint8_t *)e;
        size_t len = strlen(e);
        px_err err = {0};
        if (px_log_append(w->log, &p, &len, 1, &w->idx[i], NULL, &err))
            return (void *)1;
    }
    return NULL;
}

static void verify_all(px_log *log, suite *s, worker *w) {
    px_checkpoint cp;
    checkpoint_of(log, s, &cp);
    px_err err = {0};
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < PER_THREAD; i++) {
            char e[64];
            make_entry(e, sizeof e, t, i);
            uint8_t leaf[PX_LOG_HASH_BYTES];
            px_log_leaf_hash(leaf, e, strlen(e));
            px_buf p = PX_BUF_INIT;
            assert_int_equal(px_log_inclusion(log, w[t].idx[i], cp.size, &p, &err), 0);
            if (px_log_verify_inclusion(w[t].idx[i], cp.size, leaf, p.data, p.len / 32, cp.root, &err))
                fail_msg("entry %llu: %s", (unsigned long long)w[t].idx[i], err.msg);
            px_buf_reset(&p);
            assert_int_equal(px_log_entry(log, w[t].idx[i], &p, &err), 0);
            assert_int_equal(p.len, strlen(e));
            assert_memory_equal(p.data, e, p.len);
            px_buf_free(&p);
        }
    px_checkpoint_free(&cp);
}

/* Rebuild the root from the served level-0 tiles (and check the entry
 * bundles hash to them). */
static void check_tiles(px_log *log, const px_checkpoint *cp) {
    px_err err = {0};
    px_buf all = PX_BUF_INIT;
    for (uint64_t t = 0; t * 256 < cp->size; t++) {
        unsigned w = cp->size - t * 256 >= 256 ? 256 : (unsigned)(cp->size - t * 256);
        px_buf tile = PX_BUF_INIT, bundle = PX_BUF_INIT;
        assert_int_equal(px_log_tile(log, 0, t, w, &tile, &err), 0);
        assert_int_equal(tile.len, (size_t)w * 32);
        assert_int_equal(px_log_tile(log, -1, t, w, &bundle, &err), 0);
        size_t off = 0;
        for (unsigned i = 0; i < w; i++) {
            assert_true(off + 2 <= bundle.len);
            size_t len = (size_t)bundle.data[off] << 8 | bundle.data[off + 1];
            uint8_t leaf[32];
            px_log_leaf_hash(leaf, bundle.data + off + 2, len);
            assert_memory_equal(leaf, tile.data + i * 32, 32);
            off += 2 + len;
        }
        assert_int_equal(off, bundle.len);
        px_buf_append(&all, tile.data, tile.len, NULL);
        /* One hash past the checkpoint is not served. */
        if (w < 256)
            assert_int_equal(px_log_tile(log, 0, t, w + 1, &tile, &err), -1);
        px_buf_free(&tile);
        px_buf_free(&bundle);
    }
    uint8_t root[32];
    px_log_root_from_hashes(root, all.data, cp->size);
    assert_memory_equal(root, cp->root, 32);
    if (cp->size >= 256) {
        px_buf t1 = PX_BUF_INIT;
        assert_int_equal(px_log_tile(log, 1, 0, (unsigned)(cp->size / 256), &t1, &err), 0);
        uint8_t r0[32];
        px_log_root_from_hashes(r0, all.data, 256);
        assert_memory_equal(t1.data, r0, 32);
        px_buf_free(&t1);
    }
    px_buf_free(&all);
}

static void add_statement(px_log *log, suite *s, const char *out_hex, const char *in_hex,
                          const char *manifest_hex, uint64_t *idx) {
    px_err err = {0};
    px_subject subj = {.name = "output"};
    px_hex_decode_exact(subj.sha256, 32, out_hex, 64, &err);
    json_t *pred = json_pack("{s:s,s:[{s:{s:s},s:s}],s:s}", "manifest", manifest_hex, "inputs", "digest",
                             "sha256", in_hex, "proof", "x", "status", "ok");
    px_buf st = PX_BUF_INIT, env = PX_BUF_INIT;
    assert_int_equal(px_statement_build(&st, &subj, 1, "urn:pixiu:predicate:execution:v1", pred, &err), 0);
    assert_int_equal(px_dsse_sign(&env, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, &s->key, 1, &err), 0);
    const uint8_t *p = env.data;
    size_t len = env.len;
    px_log_opts o; (void)o;
    if (px_log_append(log, &p, &len, 1, idx, NULL, &err))
        fail_msg("append statement: %s", err.msg);
    json_decref(pred);
    px_buf_free(&st);
    px_buf_free(&env);
}

static void run_suite(suite *s) {
    px_err err = {0};
    px_log *log = open_log(s);
    px_checkpoint cp0;
    checkpoint_of(log, s, &cp0);
    assert_int_equal(cp0.size, 0);
    uint8_t empty[32];
    px_log_empty_root(empty);
    assert_memory_equal(cp0.root, empty, 32);

    worker w[THREADS];
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker){.log = log, .id = t};
        assert_int_equal(pthread_create(&th[t], NULL, appender, &w[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        void *rc;
        pthread_join(th[t], &rc);
        assert_null(rc);
    }
    px_checkpoint cp1;
    checkpoint_of(log, s, &cp1);
    assert_int_equal(cp1.size, THREADS * PER_THREAD);
    /* Every index handed out exactly once. */
    char seen[THREADS * PER_THREAD] = {0};
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < PER_THREAD; i++) {
            assert_true(w[t].idx[i] < cp1.size);
            assert_int_equal(seen[w[t].idx[i]]++, 0);
        }
    verify_all(log, s, w);

    /* A batch append, with the covering checkpoint returned. */
    const uint8_t *many[300];
    size_t lens[300];
    char bufs[300][16];
    for (int i = 0; i < 300; i++) {
        snprintf(bufs[i], sizeof bufs[i], "batch %d", i);
        many[i] = (const uint8_t *)bufs[i];
        lens[i] = strlen(bufs[i]);
    }
    uint64_t first;
    px_buf note = PX_BUF_INIT;
    assert_int_equal(px_log_append(log, many, lens, 300, &first, &note, &err), 0);
    assert_int_equal(first, cp1.size);
    px_checkpoint cp2;
    assert_int_equal(px_checkpoint_open(&cp2, (const char *)note.data, note.len, &s->vkey, NULL, &err), 0);
    assert_true(cp2.size >= first + 300);
    px_buf_free(&note);

    /* Consistency of every old checkpoint with the new one. */
    px_buf p = PX_BUF_INIT;
    assert_int_equal(px_log_consistency(log, cp1.size, cp2.size, &p, &err), 0);
    if (px_log_verify_consistency(cp1.size, cp2.size, cp1.root, cp2.root, p.data, p.len / 32, &err))
        fail_msg("consistency: %s", err.msg);
    px_buf_reset(&p);
    check_tiles(log, &cp2);

    /* Refused appends store nothing. */
    uint8_t big[1001] = {0};
    const uint8_t *bp[2] = {(const uint8_t *)"ok", big};
    size_t bl[2] = {2, sizeof big};
    assert_int_equal(px_log_append(log, bp, bl, 2, &first, NULL, &err), -1);
    assert_int_equal(err.code, PX_E_LIMIT);
    assert_non_null(strstr(err.msg, "1000 bytes"));
    bl[1] = 0;
    assert_int_equal(px_log_append(log, bp, bl, 2, &first, NULL, &err), -1);
    px_checkpoint cp3;
    checkpoint_of(log, s, &cp3);
    assert_int_equal(cp3.size, cp2.size);
    assert_int_equal(px_log_inclusion(log, 0, cp3.size + 1, &p, &err), -1);

    /* The lookup index. */
    const char *out = "1111111111111111111111111111111111111111111111111111111111111111";
    const char *in = "2222222222222222222222222222222222222222222222222222222222222222";
    const char *man = "3333333333333333333333333333333333333333333333333333333333333333";
    uint64_t i1, i2;
    add_statement(log, s, out, in, man, &i1);
    add_statement(log, s, in, "4444444444444444444444444444444444444444444444444444444444444444", man, &i2);
    uint8_t d[32];
    uint64_t hits[8];
    size_t nh;
    px_hex_decode_exact(d, 32, in, 64, &err);
    assert_int_equal(px_log_lookup(log, PX_LOG_BY_INPUT, d, 0, hits, 8, &nh, &err), 0);
    assert_int_equal(nh, 1);
    assert_int_equal(hits[0], i1);
    assert_int_equal(px_log_lookup(log, PX_LOG_BY_SUBJECT, d, 0, hits, 8, &nh, &err), 0);
    assert_int_equal(nh, 1);
    assert_int_equal(hits[0], i2);
    px_hex_decode_exact(d, 32, man, 64, &err);
    assert_int_equal(px_log_lookup(log, PX_LOG_BY_MANIFEST, d, 0, hits, 8, &nh, &err), 0);
    assert_int_equal(nh, 2);
    /* Paging: from the second hit on. */
    assert_int_equal(px_log_lookup(log, PX_LOG_BY_MANIFEST, d, hits[0] + 1, hits, 8, &nh, &err), 0);
    assert_int_equal(nh, 1);
    assert_int_equal(hits[0], i2);
    px_hex_decode_exact(d, 32, out, 64, &err);
    assert_int_equal(px_log_lookup(log, PX_LOG_BY_INPUT, d, 0, hits, 8, &nh, &err), 0);
    assert_int_equal(nh, 0);

    px_checkpoint before;
    checkpoint_of(log, s, &before);
    px_log_close(log);

    /* Reopen: same checkpoint, and appends continue consistently. */
    log = open_log(s);
    px_checkpoint again;
    checkpoint_of(log, s, &again);
    assert_int_equal(again.size, before.size);
    assert_memory_equal(again.root, before.root, 32);
    const uint8_t *one = (const uint8_t *)"after reopen";
    size_t onel = 12;
    assert_int_equal(px_log_append(log, &one, &onel, 1, &first, NULL, &err), 0);
    assert_int_equal(first, before.size);
    px_checkpoint last;
    checkpoint_of(log, s, &last);
    assert_int_equal(px_log_consistency(log, cp1.size, last.size, &p, &err), 0);
    assert_int_equal(px_log_verify_consistency(cp1.size, last.size, cp1.root, last.root, p.data, p.len / 32, &err), 0);
    px_buf_free(&p);
    px_log_close(log);

    px_checkpoint_free(&cp0);
    px_checkpoint_free(&cp1);
    px_checkpoint_free(&cp2);
    px_checkpoint_free(&cp3);
    px_checkpoint_free(&before);
    px_checkpoint_free(&again);
    px_checkpoint_free(&last);
}

/* ---- group commit -------------------------------------------------------- */

#define GC_THREADS 32
#define GC_PER_THREAD 15

typedef struct gc_worker {
    px_log *log;
    suite *s;
    int id;
    uint64_t idx[GC_PER_THREAD], size[GC_PER_THREAD]; /* index, size of the checkpoint that acknowledged it */
    uint8_t root[GC_PER_THREAD][32];                  /* and its root */
} gc_worker;

static void *gc_appender(void *arg) {
    gc_worker *w = arg;
    for (int i = 0; i < GC_PER_THREAD; i++) {
        char e[64];
        snprintf(e, sizeof e, "group commit %d/%d", w->id, i);
        const uint8_t *p = (const uint8_t *)e;
        size_t len = strlen(e);
        px_buf cp = PX_BUF_INIT;
        px_checkpoint c;
        px_err err = {0};
        if (px_log_append(w->log, &p, &len, 1, &w->idx[i], &cp, &err) ||
            px_checkpoint_open(&c, (const char *)cp.data, cp.len, &w->s->vkey, w->s->key.name, &err))
            return (void *)1;
        w->size[i] = c.size;
        memcpy(w->root[i], c.root, 32);
        px_checkpoint_free(&c);
        px_buf_free(&cp);
    }
    return NULL;
}

/* Many single-entry appenders at once: each is acknowledged with a signed
 * checkpoint that covers its entry and proves it, and appenders share
 * commits (fewer checkpoints than entries), which is the point of group
 * commit. */
static void group_commit(suite *s) {
    px_log *log = open_log(s);
    px_checkpoint start;
    checkpoint_of(log, s, &start);
    static gc_worker w[GC_THREADS];
    pthread_t th[GC_THREADS];
    for (int t = 0; t < GC_THREADS; t++) {
        w[t] = (gc_worker){.log = log, .s = s, .id = t};
        assert_int_equal(pthread_create(&th[t], NULL, gc_appender, &w[t]), 0);
    }
    for (int t = 0; t < GC_THREADS; t++) {
        void *rc;
        pthread_join(th[t], &rc);
        assert_null(rc);
    }
    const uint64_t total = GC_THREADS * GC_PER_THREAD;
    px_checkpoint end;
    checkpoint_of(log, s, &end);
    assert_int_equal(end.size, start.size + total);
    static char batch_end[GC_THREADS * GC_PER_THREAD + 1];
    memset(batch_end, 0, sizeof batch_end);
    uint64_t batches = 0;
    for (int t = 0; t < GC_THREADS; t++)
        for (int i = 0; i < GC_PER_THREAD; i++) {
            uint64_t idx = w[t].idx[i], size = w[t].size[i];
            assert_true(idx >= start.size && idx < size && size <= end.size);
            batches += !batch_end[size - start.size]++;
            px_buf proof = PX_BUF_INIT;
            px_err err = {0};
            char e[64];
            snprintf(e, sizeof e, "group commit %d/%d", t, i);
            uint8_t leaf[32];
            px_log_leaf_hash(leaf, e, strlen(e));
            if (px_log_inclusion(log, idx, size, &proof, &err) ||
                px_log_verify_inclusion(idx, size, leaf, proof.data, proof.len / 32, w[t].root[i], &err))
                fail_msg("entry %llu in its acknowledging checkpoint: %s", (unsigned long long)idx, err.msg);
            px_buf_free(&proof);
        }
    print_message("group commit: %llu single appends from %d threads in %llu commits\n",
                  (unsigned long long)total, GC_THREADS, (unsigned long long)batches);
    assert_true(batches < total);
    px_log_close(log);
}

static void new_key(suite *s) {
    px_err err = {0};
    assert_int_equal(px_signer_generate(&s->key, "log.test.pixiu", &err), 0);
    px_signer_verifier(&s->key, &s->vkey);
}

static void test_sqlite(void **state) {
    suite s = {0};
    new_key(&s);
    snprintf(s.dir, sizeof s.dir, "/tmp/pixiu-log-test-XXXXXX");
    assert_non_null(mkdtemp(s.dir));
    snprintf(s.store, sizeof s.store, "sqlite:%s/log.db", s.dir);
    run_suite(&s);
    group_commit(&s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s.dir);
    assert_int_equal(system(cmd), 0);
}

/* The committer keeps the roots of complete subtrees of each partial tile
 * as hashes arrive, and rebuilds them when it loads the edge: its
 * checkpoints must match the root of all leaves hashed from scratch, at
 * odd sizes, at tile boundaries of levels 0 and 1 (past 65,536 entries,
 * level 2 starts) and across reopens. */
#define ROOT_ENTRIES 66000

static void check_root(px_log *log, suite *s, const uint8_t *leaves, uint64_t n) {
    px_checkpoint cp;
    checkpoint_of(log, s, &cp);
    assert_int_equal(cp.size, n);
    uint8_t root[32];
    px_log_root_from_hashes(root, leaves, n);
    assert_memory_equal(root, cp.root, 32);
    px_checkpoint_free(&cp);
}

static void test_roots_across_tiles(void **state) {
    suite s = {0};
    new_key(&s);
    snprintf(s.dir, sizeof s.dir, "/tmp/pixiu-log-test-XXXXXX");
    assert_non_null(mkdtemp(s.dir));
    snprintf(s.store, sizeof s.store, "sqlite:%s/log.db", s.dir);
    uint8_t *leaves = malloc((size_t)ROOT_ENTRIES * 32);
    char (*text)[24] = malloc(500 * sizeof *text);
    const uint8_t *ents[500];
    size_t lens[500];
    assert_non_null(leaves);
    assert_non_null(text);
    px_log *log = open_log(&s);
    px_err err = {0};
    uint64_t n = 0, step = 0;
    while (n < ROOT_ENTRIES) {
        /* 1, 2, ... then runs of up to the batch limit, never tile-aligned. */
        size_t k = n < 600 ? (size_t)(step % 7) + 1 : (size_t)(311 + step * 37 % 189);
        if (n + k > ROOT_ENTRIES)
            k = (size_t)(ROOT_ENTRIES - n);
        for (size_t i = 0; i < k; i++) {
            lens[i] = (size_t)snprintf(text[i], sizeof text[i], "root entry %llu", (unsigned long long)(n + i));
            ents[i] = (const uint8_t *)text[i];
            px_log_leaf_hash(leaves + (n + i) * 32, ents[i], lens[i]);
        }
        uint64_t first;
        assert_int_equal(px_log_append(log, ents, lens, k, &first, NULL, &err), 0);
        assert_int_equal(first, n);
        uint64_t before = n;
        n += k;
        int crossed = before / 256 != n / 256 || before / 65536 != n / 65536;
        if (n < 600 || (crossed && (n / 256) % 16 == 0) || before / 65536 != n / 65536 || n == ROOT_ENTRIES)
            check_root(log, &s, leaves, n);
        if (step % 60 == 5 || before / 65536 != n / 65536) { /* reopen: the edge is loaded from the store */
            px_log_close(log);
            log = open_log(&s);
            check_root(log, &s, leaves, n);
        }
        step++;
    }
    px_log_close(log);
    free(leaves);
    free(text);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s.dir);
    assert_int_equal(system(cmd), 0);
}

static void test_wrong_key_refused(void **state) {
    suite s = {0};
    new_key(&s);
    snprintf(s.dir, sizeof s.dir, "/tmp/pixiu-log-test-XXXXXX");
    assert_non_null(mkdtemp(s.dir));
    snprintf(s.store, sizeof s.store, "%s/log.db", s.dir);
    px_log_close(open_log(&s));
    suite other = s;
    new_key(&other);
    px_log *log = NULL;
    px_err err = {0};
    px_log_opts o = {.store = other.store, .key = &other.key};
    assert_int_equal(px_log_open(&log, &o, &err), -1);
    assert_non_null(strstr(err.msg, "checkpoint"));
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s.dir);
    assert_int_equal(system(cmd), 0);
}

static void test_postgres(void **state) {
    const char *dsn = getenv("PX_TEST_PG_DSN");
    if (!dsn || !*dsn) {
        print_message("PX_TEST_PG_DSN is not set: PostgreSQL store not tested\n");
        skip();
    }
    PGconn *c = PQconnectdb(dsn);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("PX_TEST_PG_DSN is set but PostgreSQL is unreachable: %s", PQerrorMessage(c));
    PQclear(PQexec(c, "SET client_min_messages = warning"));
    char schema[64], sql[160];
    snprintf(schema, sizeof schema, "log_test_%d_%u", (int)getpid(), px_random_uniform(1u << 30));
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    suite s = {0};
    new_key(&s);
    snprintf(s.store, sizeof s.store, "postgres:%s options='-csearch_path=%s'", dsn, schema);
    run_suite(&s);
    group_commit(&s);
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", schema);
    r = PQexec(c, sql);
    PQclear(r);
    PQfinish(c);
}

int main(void) {
    px_crypto_init(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite),
        cmocka_unit_test(test_wrong_key_refused),
        cmocka_unit_test(test_roots_across_tiles),
        cmocka_unit_test(test_postgres),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
