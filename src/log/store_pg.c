/* The log's PostgreSQL store (libpq). Same tables and invariants as the
 * SQLite store; entries and index keys go in with binary COPY, and the
 * transaction takes an exclusive lock on the checkpoints table so that
 * two log processes sharing a database cannot fork it. The tables live in
 * the connection's search_path, so one database can hold several logs in
 * separate schemas. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log/store.h"

#define READERS_MAX 8

typedef struct pg_store {
    px_log_store base;
    char *conninfo;
    PGconn *w;
    pthread_mutex_t mu;
    PGconn *readers[READERS_MAX];
    size_t nreaders;
} pg_store;

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS entries(idx bigint PRIMARY KEY, data bytea NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tiles(level integer NOT NULL, idx bigint NOT NULL,"
    "  hashes bytea NOT NULL, PRIMARY KEY(level, idx));"
    "CREATE TABLE IF NOT EXISTS keys(kind integer NOT NULL, digest bytea NOT NULL,"
    "  idx bigint NOT NULL, PRIMARY KEY(kind, digest, idx));"
    "CREATE TABLE IF NOT EXISTS checkpoints(size bigint PRIMARY KEY, note bytea NOT NULL);";

static int pg_fail(px_err *err, PGconn *c, const char *what) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s", c ? PQerrorMessage(c) : "out of memory");
    char *nl = strchr(msg, '\n');
    if (nl)
        *nl = '\0';
    return px_fail(err, PX_E_IO, "log store (postgres): %s: %s", what, msg);
}

static int pg_connect(const char *conninfo, PGconn **out, px_err *err) {
    PGconn *c = PQconnectdb(conninfo);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        pg_fail(err, c, "connecting");
        PQfinish(c);
        return -1;
    }
    /* Quiet NOTICEs such as "relation already exists, skipping". */
    PGresult *r = PQexec(c, "SET client_min_messages = warning");
    PQclear(r);
    *out = c;
    return 0;
}

static int exec_ok(PGconn *c, const char *sql, px_err *err, const char *what) {
    PGresult *r = PQexec(c, sql);
    int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    PQclear(r);
    return ok ? 0 : pg_fail(err, c, what);
}

static PGconn *reader_get(pg_store *s, px_err *err) {
    PGconn *c = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->nreaders)
        c = s->readers[--s->nreaders];
    pthread_mutex_unlock(&s->mu);
    if (c && PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        c = NULL;
    }
    if (!c && pg_connect(s->conninfo, &c, err))
        return NULL;
    return c;
}

static void reader_put(pg_store *s, PGconn *c) {
    pthread_mutex_lock(&s->mu);
    if (s->nreaders < READERS_MAX && PQstatus(c) == CONNECTION_OK) {
        s->readers[s->nreaders++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    PQfinish(c);
}

/* ---- binary COPY ------------------------------------------------------------ */

static int put_i16(px_buf *b, int16_t v) {
    uint16_t n = htons((uint16_t)v);
    return px_buf_append(b, &n, 2, NULL);
}
static int put_i32(px_buf *b, int32_t v) {
    uint32_t n = htonl((uint32_t)v);
    return px_buf_append(b, &n, 4, NULL);
}
static int put_i64(px_buf *b, uint64_t v) {
    return put_i32(b, (int32_t)(v >> 32)) || put_i32(b, (int32_t)v);
}
static int put_field(px_buf *b, const void *p, size_t n) {
    return put_i32(b, (int32_t)n) || px_buf_append(b, p, n, NULL);
}

static const uint8_t COPY_HEADER[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};

static int copy_send(PGconn *c, const char *sql, const px_buf *data, px_err *err) {
    PGresult *r = PQexec(c, sql);
    int ok = r && PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (!ok)
        return pg_fail(err, c, "starting COPY");
    if (PQputCopyData(c, (const char *)data->data, (int)data->len) != 1 || PQputCopyEnd(c, NULL) != 1)
        return pg_fail(err, c, "sending COPY data");
    r = PQgetResult(c);
    ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    return ok ? 0 : pg_fail(err, c, "COPY");
}

static int copy_entries(PGconn *c, const px_log_commit *cm, px_err *err) {
    px_buf b = PX_BUF_INIT;
    int bad = px_buf_append(&b, COPY_HEADER, sizeof COPY_HEADER, NULL);
    for (size_t i = 0; i < cm->n && !bad; i++) {
        bad = put_i16(&b, 2) || put_i32(&b, 8) || put_i64(&b, cm->first + i) ||
              put_field(&b, cm->entries[i], cm->lens[i]);
    }
    bad = bad || put_i16(&b, -1);
    int rc = bad ? px_fail(err, PX_E_NOMEM, "out of memory")
                 : copy_send(c, "COPY entries(idx, data) FROM STDIN (FORMAT binary)", &b, err);
    px_buf_free(&b);
    return rc;
}

static int copy_keys(PGconn *c, const px_log_commit *cm, px_err *err) {
    px_buf b = PX_BUF_INIT;
    int bad = px_buf_append(&b, COPY_HEADER, sizeof COPY_HEADER, NULL);
    for (size_t i = 0; i < cm->nkeys && !bad; i++) {
        bad = put_i16(&b, 3) || put_i32(&b, 4) || put_i32(&b, (int32_t)cm->keys[i].kind) ||
              put_field(&b, cm->keys[i].digest, PX_SHA256_BYTES) || put_i32(&b, 8) ||
              put_i64(&b, cm->keys[i].index);
    }
    bad = bad || put_i16(&b, -1);
    /* Into the staging table keys_in (created by the commit's first round
     * trip), so that duplicate keys (one entry naming a digest twice)
     * collapse when the commit's last statement moves them into keys,
     * instead of failing the COPY. */
    int rc = bad ? px_fail(err, PX_E_NOMEM, "out of memory")
                 : copy_send(c, "COPY keys_in(kind, digest, idx) FROM STDIN (FORMAT binary)", &b, err);
    px_buf_free(&b);
    return rc;
}

/* ---- commit and reads ----------------------------------------------------- */

/* The commit's first round trip: open the transaction, take the lock that
 * keeps a second writer out, make sure the keys staging table exists, and
 * read the stored size, all in one simple-protocol string (PostgreSQL
 * stops at the first failing statement and reports it). */
static int begin_locked(PGconn *c, uint64_t *size, px_err *err) {
    PGresult *r = PQexec(c, "BEGIN; LOCK TABLE checkpoints IN EXCLUSIVE MODE;"
                            "CREATE TEMP TABLE IF NOT EXISTS keys_in(kind integer, digest bytea, idx bigint)"
                            " ON COMMIT DELETE ROWS;"
                            "SELECT coalesce(max(size), 0) FROM checkpoints");
    int ok = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok)
        *size = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return ok ? 0 : pg_fail(err, c, "beginning the commit");
}

/* Most tiles per statement (3 parameters each, far below the protocol's
 * 65,535); a commit of max_batch entries changes about max_batch/256 + 8. */
#define TILES_PER_STATEMENT 500

static void sql_add(px_buf *b, const char *fmt, unsigned a, unsigned c, unsigned d) {
    char piece[192];
    int n = snprintf(piece, sizeof piece, fmt, a, c, d);
    if (n > 0)
        px_buf_append(b, piece, (size_t)n < sizeof piece ? (size_t)n : sizeof piece - 1, NULL);
}

/* Tiles [from, to), and, when last, the staged keys and the checkpoint: one
 * statement, one round trip (data-modifying CTEs run whether or not the
 * outer statement reads them). Upserts, as partial tiles are rewritten
 * while they grow; a commit writes each tile once. */
static int write_rest(PGconn *c, const px_log_commit *cm, size_t from, size_t to, int last, px_err *err) {
    size_t nt = to - from, np = 3 * nt + (last ? 2 : 0);
    px_buf sql = PX_BUF_INIT;
    char (*num)[24] = calloc(2 * nt + 1, sizeof *num);
    const char **vals = calloc(np ? np : 1, sizeof *vals);
    int *lens = calloc(np ? np : 1, sizeof *lens), *fmts = calloc(np ? np : 1, sizeof *fmts);
    int rc = -1;
    if (!num || !vals || !lens || !fmts) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    unsigned p = 0;
    px_buf_append_str(&sql, "WITH ", NULL);
    if (last && cm->nkeys)
        px_buf_append_str(&sql, "k AS (INSERT INTO keys SELECT DISTINCT kind, digest, idx FROM keys_in"
                                " ON CONFLICT DO NOTHING), ", NULL);
    if (nt) {
        px_buf_append_str(&sql, "t AS (INSERT INTO tiles(level, idx, hashes) VALUES ", NULL);
        for (size_t i = 0; i < nt; i++) {
            const px_log_tile_write *t = &cm->tiles[from + i];
            snprintf(num[2 * i], sizeof num[0], "%d", t->level);
            snprintf(num[2 * i + 1], sizeof num[0], "%llu", (unsigned long long)t->index);
            vals[p] = num[2 * i];
            vals[p + 1] = num[2 * i + 1];
            vals[p + 2] = (const char *)t->hashes;
            lens[p + 2] = (int)(t->width * PX_LOG_HASH_BYTES);
            fmts[p + 2] = 1;
            sql_add(&sql, i ? ", ($%u, $%u, $%u)" : "($%u, $%u, $%u)", p + 1, p + 2, p + 3);
            p += 3;
        }
        px_buf_append_str(&sql, " ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes), ",
                          NULL);
    }
    /* The list of CTEs ends with a harmless one, so each above can end in ", ". */
    px_buf_append_str(&sql, "z AS (SELECT 1) ", NULL);
    if (last) {
        snprintf(num[2 * nt], sizeof num[0], "%llu", (unsigned long long)cm->size);
        vals[p] = num[2 * nt];
        vals[p + 1] = cm->checkpoint;
        lens[p + 1] = (int)cm->checkpoint_len;
        fmts[p + 1] = 1;
        sql_add(&sql, "INSERT INTO checkpoints(size, note) VALUES($%u, $%u) "
                      "ON CONFLICT (size) DO UPDATE SET note = excluded.note", p + 1, p + 2, 0);
        p += 2;
    } else {
        px_buf_append_str(&sql, "SELECT 1", NULL);
    }
    if (px_buf_append(&sql, "", 1, NULL)) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    PGresult *r = PQexecParams(c, (const char *)sql.data, (int)p, NULL, vals, lens, fmts, 0);
    int ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    PQclear(r);
    rc = ok ? 0 : pg_fail(err, c, last ? "storing tiles, keys and the checkpoint" : "storing tiles");
out:
    px_buf_free(&sql);
    free(num);
    free(vals);
    free(lens);
    free(fmts);
    return rc;
}

/* Round trips per commit: one to begin (with the lock and the size check),
 * two per COPY (entries, then keys if any), one for tiles, keys and the
 * checkpoint, one to COMMIT. They are what a commit costs beyond its
 * fsync, so a batch of appends pays them once. */
static int pg_commit_body(pg_store *s, const px_log_commit *cm, px_err *err) {
    uint64_t stored = 0;
    if (begin_locked(s->w, &stored, err))
        return -1;
    if (stored != cm->first)
        return px_fail(err, PX_E_STATE, "log store (postgres): stored size %llu is not %llu (another writer?)",
                       (unsigned long long)stored, (unsigned long long)cm->first);
    if (cm->n && copy_entries(s->w, cm, err))
        return -1;
    if (cm->nkeys && copy_keys(s->w, cm, err))
        return -1;
    size_t i = 0;
    for (; cm->ntiles - i > TILES_PER_STATEMENT; i += TILES_PER_STATEMENT)
        if (write_rest(s->w, cm, i, i + TILES_PER_STATEMENT, 0, err))
            return -1;
    return write_rest(s->w, cm, i, cm->ntiles, 1, err);
}

static int pg_commit(px_log_store *base, const px_log_commit *cm, px_err *err) {
    pg_store *s = (pg_store *)base;
    if (PQstatus(s->w) != CONNECTION_OK)
        PQreset(s->w);
    if (pg_commit_body(s, cm, err)) {
        PGresult *r = PQexec(s->w, "ROLLBACK");
        PQclear(r);
        return -1;
    }
    return exec_ok(s->w, "COMMIT", err, "commit");
}

/* One binary-result query with text parameters on a pooled reader. */
static PGresult *query(pg_store *s, PGconn **c, const char *sql, int n, const char *const *vals, px_err *err) {
    if (!(*c = reader_get(s, err)))
        return NULL;
    PGresult *r = PQexecParams(*c, sql, n, NULL, vals, NULL, NULL, 1);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_fail(err, *c, "query");
        PQclear(r);
        reader_put(s, *c);
        return NULL;
    }
    return r;
}

static uint64_t get_u64(const PGresult *r, int row, int col) {
    const uint8_t *p = (const uint8_t *)PQgetvalue(r, row, col);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int pg_latest(px_log_store *base, uint64_t *size, px_buf *note, px_err *err) {
    pg_store *s = (pg_store *)base;
    PGconn *c;
    PGresult *r = query(s, &c, "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1", 0, NULL, err);
    if (!r)
        return -1;
    int rc = 0;
    *size = 0;
    if (PQntuples(r) == 1) {
        *size = get_u64(r, 0, 0);
        rc = px_buf_append(note, PQgetvalue(r, 0, 1), (size_t)PQgetlength(r, 0, 1), err);
    }
    PQclear(r);
    reader_put(s, c);
    return rc;
}

static int pg_tile(px_log_store *base, int level, uint64_t index, px_buf *out, px_err *err) {
    pg_store *s = (pg_store *)base;
    char lv[16], ix[24];
    snprintf(lv, sizeof lv, "%d", level);
    snprintf(ix, sizeof ix, "%llu", (unsigned long long)index);
    const char *vals[2] = {lv, ix};
    PGconn *c;
    PGresult *r = query(s, &c, "SELECT hashes FROM tiles WHERE level=$1 AND idx=$2", 2, vals, err);
    if (!r)
        return -1;
    int rc = PQntuples(r) == 1
                 ? px_buf_append(out, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), err)
                 : px_fail(err, PX_E_NOTFOUND, "tile %d/%llu is not stored", level, (unsigned long long)index);
    PQclear(r);
    reader_put(s, c);
    return rc;
}

static int pg_entries(px_log_store *base, uint64_t start, uint64_t n, px_buf *out, px_err *err) {
    pg_store *s = (pg_store *)base;
    char a[24], b[24];
    snprintf(a, sizeof a, "%llu", (unsigned long long)start);
    snprintf(b, sizeof b, "%llu", (unsigned long long)(start + n));
    const char *vals[2] = {a, b};
    PGconn *c;
    PGresult *r = query(s, &c, "SELECT data FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx", 2, vals, err);
    if (!r)
        return -1;
    size_t mark = out->len;
    int rc = 0;
    if ((uint64_t)PQntuples(r) != n)
        rc = px_fail(err, PX_E_NOTFOUND, "entries %llu..%llu are not all stored", (unsigned long long)start,
                     (unsigned long long)(start + n - 1));
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        size_t len = (size_t)PQgetlength(r, i, 0);
        uint8_t pre[2] = {(uint8_t)(len >> 8), (uint8_t)len};
        rc = px_buf_append(out, pre, 2, err) || px_buf_append(out, PQgetvalue(r, i, 0), len, err) ? -1 : 0;
    }
    if (rc)
        out->len = mark;
    PQclear(r);
    reader_put(s, c);
    return rc;
}

static int pg_lookup(px_log_store *base, px_log_key_kind kind, const uint8_t digest[PX_SHA256_BYTES], uint64_t from,
                     uint64_t *out, size_t max, size_t *n, px_err *err) {
    pg_store *s = (pg_store *)base;
    char k[16], hex[2 * PX_SHA256_BYTES + 3], lim[24], fr[24];
    snprintf(k, sizeof k, "%d", (int)kind);
    hex[0] = '\\';
    hex[1] = 'x';
    px_hex_encode(hex + 2, digest, PX_SHA256_BYTES);
    snprintf(lim, sizeof lim, "%zu", max);
    snprintf(fr, sizeof fr, "%llu", (unsigned long long)(from > INT64_MAX ? INT64_MAX : from));
    const char *vals[4] = {k, hex, lim, fr};
    PGconn *c;
    PGresult *r = query(s, &c, "SELECT idx FROM keys WHERE kind=$1 AND digest=$2::bytea AND idx >= $4 ORDER BY idx LIMIT $3",
                        4, vals, err);
    if (!r)
        return -1;
    size_t got = 0;
    for (int i = 0; i < PQntuples(r) && got < max; i++)
        out[got++] = get_u64(r, i, 0);
    *n = got;
    PQclear(r);
    reader_put(s, c);
    return 0;
}

static int pg_history(px_log_store *base, int (*fn)(void *, uint64_t, const char *, size_t, px_err *),
                      void *ctx, px_err *err) {
    pg_store *s = (pg_store *)base;
    PGconn *c;
    PGresult *r = query(s, &c, "SELECT size, note FROM checkpoints ORDER BY size", 0, NULL, err);
    if (!r)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && !rc; i++)
        rc = fn(ctx, get_u64(r, i, 0), PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1), err);
    PQclear(r);
    reader_put(s, c);
    return rc;
}

static void pg_close(px_log_store *base) {
    pg_store *s = (pg_store *)base;
    if (!s)
        return;
    PQfinish(s->w);
    for (size_t i = 0; i < s->nreaders; i++)
        PQfinish(s->readers[i]);
    pthread_mutex_destroy(&s->mu);
    free(s->conninfo);
    free(s);
}

static const px_log_store_ops PG_OPS = {
    "postgres", pg_commit, pg_latest, pg_tile, pg_entries, pg_lookup, pg_history, pg_close,
};

int px_log_store_pg_open(px_log_store **out, const char *conninfo, px_err *err) {
    pg_store *s = calloc(1, sizeof *s);
    if (!s || !(s->conninfo = strdup(conninfo))) {
        free(s);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    s->base.ops = &PG_OPS;
    pthread_mutex_init(&s->mu, NULL);
    if (pg_connect(conninfo, &s->w, err) || exec_ok(s->w, SCHEMA, err, "creating tables")) {
        pg_close(&s->base);
        return -1;
    }
    *out = &s->base;
    return 0;
}
