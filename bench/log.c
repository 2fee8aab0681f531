/* Log benchmarks (BENCH lines, baselines measured in the same run):
 *
 *  log_append_http: sustained durable appends of 256-byte entries over HTTP
 *    from many concurrent clients (entry bundles), SQLite store with
 *    synchronous=FULL; baseline: raw SQLite batched inserts of the same
 *    entries with the same durability settings.
 *  log_append_http_single: the same with one entry per request (POST /add)
 *    from more clients, each request a new connection.
 *  log_inclusion_verify_1m: checking one entry's inclusion proof in a tree
 *    of 2^20 entries (leaf hash, then the proof); baseline: the same SHA-256
 *    work done bare, the leaf hash and one node hash per proof element (21
 *    hashes).
 *  log_append_http_single_64c: 64 clients, each on one kept-alive
 *    connection, posting one entry per request (POST /add), acknowledged
 *    when durable; baseline: log_append_http of the same run (1,000-entry
 *    bundles), the rate the same store reaches when batching is free.
 *  log_append_http_single_64c_pg: the same on PostgreSQL, printed only
 *    when PX_TEST_PG_DSN names a server; baseline: 1,000-entry bundles on
 *    that server in the same run.
 *
 * Each append run also reports (stderr) the commits the store recorded and
 * the mean entries per commit.
 *
 * The log is served as `pixiu log serve` serves it, PX_LOG_HTTP_THREADS
 * polling threads (PX_BENCH_LOG_THREADS=0: a thread per connection, as
 * before appends were answered later). PX_BENCH_LOG_ONLY=single_64c runs
 * only the kept-alive single-entry lines (SQLite, and PostgreSQL when
 * configured), for measuring those repeatedly; their baselines are then 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "pixiu/log.h"

#define ENTRY_BYTES 256
#define CLIENTS 8
#define BUNDLE 1000
#define SINGLE_CLIENTS 32
#define KEEPALIVE_CLIENTS 64
#define KA_THREADS 4
#define APPEND_SECONDS 8
#define RAW_BATCH 2000
#define RAW_ROWS 400000
#define TREE_LOG2 20
#define PROOFS 20000

static double now_s(void) { return (double)px_mono_ns() / 1e9; }

static void bench_line(const char *name, double v, const char *unit, double base) {
    printf("BENCH name=%s value=%.3f unit=%s baseline=%.3f ratio=%.3f\n", name, v, unit, base, v / base);
    fflush(stdout);
}

/* ---- durable appends over HTTP ------------------------------------------------ */

typedef struct client {
    const char *url;
    double until;
    int id, bundle; /* bundle: entries per request, 0 = single /add */
    int keepalive;  /* one connection for all its requests (keepalive_run) */
    uint64_t appended;
    int failed;
} client;

static size_t sink_cb(char *p, size_t size, size_t n, void *ud) {
    px_buf_append(ud, p, size * n, NULL);
    return size * n;
}

/* The kept-alive clients: 64 curl easy handles, each with one request in
 * flight at a time, over 64 connections that stay open for the whole run
 * (a client that needs a new connection after its first request fails the
 * run). They are driven by KA_THREADS threads, each through a curl multi
 * handle for its share: the server sees the same 64 kept-alive connections
 * as with a thread per client, but the clients, which share this
 * machine's cores with the server, cost a wake-up per batch of answers
 * instead of a thread switch per answer (a thread per client took more CPU
 * than the log itself). Within a multi handle an idle connection is
 * reused by whichever of its handles asks next. */
typedef struct ka_client {
    CURL *h;
    px_buf resp;
    uint8_t e[ENTRY_BYTES];
    uint64_t seq;
} ka_client;

static void ka_next(ka_client *k, int id) {
    memset(k->e, 'k', sizeof k->e);
    snprintf((char *)k->e, sizeof k->e, "keep-alive client %d entry %llu", id, (unsigned long long)k->seq++);
    px_buf_reset(&k->resp);
}

/* Runs nclients kept-alive clients until `until`; counts their acknowledged
 * appends into cs[i].appended, and fails a client on any error or if a
 * client opened more than one connection. */
static void keepalive_run(client *cs, int nclients, const char *url, double until) {
    CURLM *m = curl_multi_init();
    /* Room for every client's connection while it is idle: by default the
     * cache holds four per handle added at the moment, and while a batch
     * of answers is read most handles are out, so connections were closed
     * and new ones opened. */
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)nclients);
    ka_client *k = calloc((size_t)nclients, sizeof *k);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    for (int i = 0; i < nclients; i++) {
        k[i].h = curl_easy_init();
        curl_easy_setopt(k[i].h, CURLOPT_URL, url);
        curl_easy_setopt(k[i].h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(k[i].h, CURLOPT_TIMEOUT_MS, 60000L);
        curl_easy_setopt(k[i].h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(k[i].h, CURLOPT_WRITEFUNCTION, sink_cb);
        curl_easy_setopt(k[i].h, CURLOPT_WRITEDATA, &k[i].resp);
        curl_easy_setopt(k[i].h, CURLOPT_POSTFIELDS, k[i].e);
        curl_easy_setopt(k[i].h, CURLOPT_POSTFIELDSIZE, (long)sizeof k[i].e);
        curl_easy_setopt(k[i].h, CURLOPT_PRIVATE, (void *)(intptr_t)i);
        ka_next(&k[i], i);
        curl_multi_add_handle(m, k[i].h);
    }
    int running = nclients;
    while (running) {
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            void *priv = NULL;
            long status = 0, connects = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            int i = (int)(intptr_t)priv;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_NUM_CONNECTS, &connects);
            CURLcode rc = msg->data.result;
            curl_multi_remove_handle(m, k[i].h);
            /* A new connection after the first request: not kept alive. */
            if (rc != CURLE_OK || status != 200 || (connects && k[i].seq > 1)) {
                fprintf(stderr, "bench log: client %d, request %llu: %s, HTTP %ld, %ld new connections\n", i,
                        (unsigned long long)k[i].seq, curl_easy_strerror(rc), status, connects);
                cs[i].failed = 1;
                continue;
            }
            cs[i].appended++;
            if (now_s() < until) {
                ka_next(&k[i], i);
                curl_multi_add_handle(m, k[i].h);
                running++;
            }
        }
        if (running)
            curl_multi_poll(m, NULL, 0, 1000, NULL);
    }
    for (int i = 0; i < nclients; i++) {
        curl_easy_cleanup(k[i].h);
        px_buf_free(&k[i].resp);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdrs);
    free(k);
}

typedef struct ka_group {
    client *cs;
    int n;
    const char *url;
    double until;
} ka_group;

static void *ka_group_run(void *arg) {
    ka_group *g = arg;
    keepalive_run(g->cs, g->n, g->url, g->until);
    return NULL;
}

/* The kept-alive clients split over KA_THREADS threads (or
 * PX_BENCH_KA_THREADS; 64 is a thread per client). */
static void keepalive_group(client *cs, int nclients, const char *url, double until) {
    const char *v = getenv("PX_BENCH_KA_THREADS");
    int nt = v && atoi(v) > 0 ? atoi(v) : KA_THREADS;
    if (nt > KEEPALIVE_CLIENTS)
        nt = KEEPALIVE_CLIENTS;
    ka_group g[KEEPALIVE_CLIENTS];
    pthread_t th[KEEPALIVE_CLIENTS];
    int per = (nclients + nt - 1) / nt, k = 0;
    for (int t = 0; t < nt && t * per < nclients; t++, k++) {
        int n = nclients - t * per < per ? nclients - t * per : per;
        g[t] = (ka_group){.cs = cs + t * per, .n = n, .url = url, .until = until};
        pthread_create(&th[t], NULL, ka_group_run, &g[t]);
    }
    for (int t = 0; t < k; t++)
        pthread_join(th[t], NULL);
}

static void *client_run(void *arg) {
    client *c = arg;
    px_buf body = PX_BUF_INIT, resp = PX_BUF_INIT;
    uint8_t e[ENTRY_BYTES];
    for (uint64_t seq = 0; now_s() < c->until; seq++) {
        px_buf_reset(&body);
        for (int k = 0; k < (c->bundle ? c->bundle : 1); k++) {
            memset(e, 'a' + k % 26, sizeof e);
            snprintf((char *)e, sizeof e, "client %d bundle %llu entry %d", c->id, (unsigned long long)seq, k);
            uint8_t len[2] = {ENTRY_BYTES >> 8, ENTRY_BYTES & 0xff};
            if (c->bundle)
                px_buf_append(&body, len, 2, NULL);
            px_buf_append(&body, e, sizeof e, NULL);
        }
        int status = 0;
        px_buf_reset(&resp);
        if (px_http_call("POST", c->url, NULL, 0, body.data, body.len, 60000, 1 << 16, &status, &resp, NULL) ||
            status != 200) {
            c->failed = 1;
            break;
        }
        c->appended += c->bundle ? (uint64_t)c->bundle : 1;
    }
    px_buf_free(&body);
    px_buf_free(&resp);
    return NULL;
}

/* Rows in the store's checkpoints table: one per commit, plus the empty
 * tree's. */
static long long stored_checkpoints(const char *store) {
    long long n = -1;
    if (!strncmp(store, "sqlite:", 7)) {
        sqlite3 *db;
        sqlite3_stmt *st;
        if (sqlite3_open(store + 7, &db) == SQLITE_OK &&
            sqlite3_prepare_v2(db, "SELECT count(*) FROM checkpoints", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
    } else if (!strncmp(store, "postgres:", 9)) {
        PGconn *c = PQconnectdb(store + 9);
        PGresult *r = PQexec(c, "SELECT count(*) FROM checkpoints");
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            n = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
        PQfinish(c);
    }
    return n;
}

/* Remove a SQLite store once its run is measured: a run of bundles leaves
 * hundreds of MB of dirty pages, and their writeback would otherwise
 * land on the fsyncs of the runs after it. */
static void drop_store(const char *store) {
    if (strncmp(store, "sqlite:", 7))
        return;
    char path[600];
    unlink(store + 7);
    snprintf(path, sizeof path, "%s-wal", store + 7);
    unlink(path);
    snprintf(path, sizeof path, "%s-shm", store + 7);
    unlink(path);
}

/* The log server's polling threads, as `pixiu log serve` runs it;
 * PX_BENCH_LOG_THREADS=0 measures a thread per connection instead. */
static unsigned server_threads(void) {
    const char *v = getenv("PX_BENCH_LOG_THREADS");
    return v && *v ? (unsigned)strtoul(v, NULL, 10) : PX_LOG_HTTP_THREADS;
}

static double http_appends(const char *store, int nclients, int bundle, int keepalive, double seconds) {
    px_signer key;
    px_err err = {0};
    px_log *log = NULL;
    px_http_server *srv = NULL;
    if (px_signer_generate(&key, "bench.log", &err) ||
        px_log_open(&log, &(px_log_opts){.store = store, .key = &key}, &err) ||
        px_http_server_start(&srv, &(px_http_server_opts){.handler = px_log_http_handler, .ctx = log,
                                                          .max_body = 4u << 20,
                                                          .threads = server_threads()}, &err)) {
        fprintf(stderr, "bench log: %s\n", err.msg);
        exit(1);
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/%s", px_http_server_port(srv), bundle ? "add-bundle" : "add");
    client cs[KEEPALIVE_CLIENTS];
    pthread_t th[KEEPALIVE_CLIENTS];
    double t0 = now_s();
    for (int i = 0; i < nclients; i++) {
        cs[i] = (client){.url = url, .until = t0 + seconds, .id = i, .bundle = bundle, .keepalive = keepalive};
        if (!keepalive)
            pthread_create(&th[i], NULL, client_run, &cs[i]);
    }
    if (keepalive)
        keepalive_group(cs, nclients, url, t0 + seconds);
    if (px_http_server_cut(srv))
        fprintf(stderr, "bench log: the server cut %lu connections for a late header\n", px_http_server_cut(srv));
    uint64_t total = 0;
    for (int i = 0; i < nclients; i++) {
        if (!keepalive)
            pthread_join(th[i], NULL);
        if (cs[i].failed) {
            fprintf(stderr, "bench log: client %d failed\n", i);
            exit(1);
        }
        total += cs[i].appended;
    }
    double dt = now_s() - t0;
    uint64_t size;
    px_buf cp = PX_BUF_INIT;
    px_log_checkpoint(log, &cp, &size, NULL);
    if (size != total) {
        fprintf(stderr, "bench log: checkpoint size %llu, appended %llu\n", (unsigned long long)size,
                (unsigned long long)total);
        exit(1);
    }
    px_buf_free(&cp);
    px_http_server_stop(srv);
    px_log_close(log);
    long long commits = stored_checkpoints(store) - 1;
    drop_store(store);
    fprintf(stderr, "log (%.*s): %llu entries in %.2f s over HTTP from %d clients, %d per request%s; "
            "%lld commits, %.1f entries per commit\n", (int)strcspn(store, ":"), store,
            (unsigned long long)total, dt, nclients, bundle ? bundle : 1, keepalive ? ", kept-alive connections" : "",
            commits, commits > 0 ? (double)total / (double)commits : 0.0);
    return (double)total / dt;
}

static double raw_sqlite(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/bench-raw.db", dir);
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         "CREATE TABLE t(idx INTEGER PRIMARY KEY, data BLOB NOT NULL);", NULL, NULL, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO t(idx, data) VALUES(?1, ?2)", -1, &st, NULL)) {
        fprintf(stderr, "bench log: raw sqlite: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    uint8_t e[ENTRY_BYTES];
    memset(e, 'r', sizeof e);
    double t0 = now_s();
    for (int i = 0; i < RAW_ROWS; i += RAW_BATCH) {
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        for (int k = 0; k < RAW_BATCH; k++) {
            snprintf((char *)e, sizeof e, "row %d", i + k);
            sqlite3_bind_int64(st, 1, i + k);
            sqlite3_bind_blob(st, 2, e, sizeof e, SQLITE_STATIC);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double dt = now_s() - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    char store[600];
    snprintf(store, sizeof store, "sqlite:%s", path);
    drop_store(store);
    return RAW_ROWS / dt;
}

/* ---- inclusion proof verification at 1M entries --------------------------------- */

typedef struct levels {
    uint8_t *h[TREE_LOG2 + 1]; /* h[k]: hashes of complete subtrees of height k */
} levels;

static int level_node(void *ctx, unsigned height, uint64_t index, uint8_t out[32], px_err *err) {
    memcpy(out, ((levels *)ctx)->h[height] + index * 32, 32);
    return 0;
}

static void inclusion_verify(void) {
    const uint64_t n = 1ull << TREE_LOG2;
    levels lv;
    for (int k = 0; k <= TREE_LOG2; k++)
        lv.h[k] = malloc((n >> k) * 32);
    for (uint64_t i = 0; i < n; i++) {
        char e[32];
        int len = snprintf(e, sizeof e, "entry %llu", (unsigned long long)i);
        px_log_leaf_hash(lv.h[0] + i * 32, e, (size_t)len);
    }
    for (int k = 1; k <= TREE_LOG2; k++)
        for (uint64_t i = 0; i < (n >> k); i++)
            px_log_node_hash(lv.h[k] + i * 32, lv.h[k - 1] + 2 * i * 32, lv.h[k - 1] + (2 * i + 1) * 32);
    const uint8_t *root = lv.h[TREE_LOG2];
    /* Proofs for spread-out indices, made first, then timed verification. */
    uint8_t *proofs = malloc((size_t)PROOFS * TREE_LOG2 * 32);
    uint64_t *idx = malloc(PROOFS * sizeof *idx);
    for (int p = 0; p < PROOFS; p++) {
        idx[p] = ((uint64_t)p * 2654435761u) % n;
        px_buf b = PX_BUF_INIT;
        if (px_log_prove_inclusion(level_node, &lv, idx[p], n, &b, NULL) || b.len != TREE_LOG2 * 32)
            exit(1);
        memcpy(proofs + (size_t)p * TREE_LOG2 * 32, b.data, b.len);
        px_buf_free(&b);
    }
    /* Timed: what a verifier holding an entry does, leaf hash then proof. */
    double t0 = now_s();
    for (int p = 0; p < PROOFS; p++) {
        char e[32];
        int len = snprintf(e, sizeof e, "entry %llu", (unsigned long long)idx[p]);
        uint8_t leaf[PX_LOG_HASH_BYTES];
        px_log_leaf_hash(leaf, e, (size_t)len);
        if (px_log_verify_inclusion(idx[p], n, leaf, proofs + (size_t)p * TREE_LOG2 * 32, TREE_LOG2, root, NULL))
            exit(1);
    }
    double us_proof = (now_s() - t0) * 1e6 / PROOFS;
    /* Baseline: the same SHA-256 work done bare, for the same proofs: the
     * leaf hash (1 + entry bytes) and one 65-byte node hash per proof
     * element, each input depending on the previous output. */
    uint8_t node[65] = {1}, out[32] = {0};
    t0 = now_s();
    for (int p = 0; p < PROOFS; p++) {
        char e[33];
        int len = snprintf(e + 1, sizeof e - 1, "entry %llu", (unsigned long long)idx[p]);
        e[0] = 0;
        px_sha256(out, e, (size_t)len + 1);
        for (int k = 0; k < TREE_LOG2; k++) {
            memcpy(node + 1 + (k & 1) * 32, out, 32);
            memcpy(node + 33 - (k & 1) * 32, proofs + ((size_t)p * TREE_LOG2 + k) * 32, 32);
            px_sha256(out, node, sizeof node);
        }
    }
    double us_hash = (now_s() - t0) * 1e6 / PROOFS;
    bench_line("log_inclusion_verify_1m", us_proof, "us/proof", us_hash);
    for (int k = 0; k <= TREE_LOG2; k++)
        free(lv.h[k]);
    free(proofs);
    free(idx);
}

/* The same single-entry figure on PostgreSQL (when PX_TEST_PG_DSN names a
 * server), against the bundled rate on the same server: each run in a
 * schema of its own, dropped afterwards. */
static int postgres_appends(const char *dsn) {
    PGconn *c = PQconnectdb(dsn);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench log: PX_TEST_PG_DSN is set but PostgreSQL is unreachable: %s", PQerrorMessage(c));
        PQfinish(c);
        return -1;
    }
    char sql[256], store[1024];
    int pid = (int)getpid();
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; CREATE SCHEMA bench_log_%d_b; CREATE SCHEMA bench_log_%d_s",
             pid, pid);
    PQclear(PQexec(c, sql));
    snprintf(store, sizeof store, "postgres:%s options='-csearch_path=bench_log_%d_b'", dsn, pid);
    const char *only = getenv("PX_BENCH_LOG_ONLY");
    double bundled = only && !strcmp(only, "single_64c") ? 0 : http_appends(store, CLIENTS, BUNDLE, 0, APPEND_SECONDS / 2);
    snprintf(store, sizeof store, "postgres:%s options='-csearch_path=bench_log_%d_s'", dsn, pid);
    double single64 = http_appends(store, KEEPALIVE_CLIENTS, 0, 1, APPEND_SECONDS / 2);
    bench_line("log_append_http_single_64c_pg", single64, "entries/s", bundled);
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA bench_log_%d_b CASCADE; "
             "DROP SCHEMA bench_log_%d_s CASCADE", pid, pid);
    PQclear(PQexec(c, sql));
    PQfinish(c);
    return 0;
}

int main(void) {
    if (px_crypto_init(NULL) || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    char dir[] = "/tmp/pixiu-bench-log-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    const char *only = getenv("PX_BENCH_LOG_ONLY");
    int all = !only || strcmp(only, "single_64c");
    char store[512];
    double log = 0;
    if (all) {
        inclusion_verify();
        double raw = raw_sqlite(dir);
        snprintf(store, sizeof store, "sqlite:%s/bench-log-bundle.db", dir);
        log = http_appends(store, CLIENTS, BUNDLE, 0, APPEND_SECONDS);
        bench_line("log_append_http", log, "entries/s", raw);
        snprintf(store, sizeof store, "sqlite:%s/bench-log-single.db", dir);
        double single = http_appends(store, SINGLE_CLIENTS, 0, 0, APPEND_SECONDS / 2);
        bench_line("log_append_http_single", single, "entries/s", raw);
    }
    snprintf(store, sizeof store, "sqlite:%s/bench-log-single-64c.db", dir);
    double single64 = http_appends(store, KEEPALIVE_CLIENTS, 0, 1, APPEND_SECONDS / 2);
    bench_line("log_append_http_single_64c", single64, "entries/s", log);
    const char *dsn = getenv("PX_TEST_PG_DSN");
    if (dsn && *dsn && postgres_appends(dsn))
        return 1;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
