/* The log's SQLite store: WAL journal with synchronous=FULL, so a commit
 * that returned is on disk. One write connection (used only by the log's
 * committer) and a small pool of read connections, which WAL lets run
 * alongside the writer. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/sqldb.h"
#include "log/store.h"

#define READERS_MAX 8
#define BUSY_TIMEOUT_MS 10000

typedef struct sq_store {
    px_log_store base;
    char *path;
    sqlite3 *w;
    sqlite3_stmt *ins_entry, *ins_tile, *ins_key, *ins_cp, *cur_size;
    pthread_mutex_t mu; /* guards the reader pool */
    sqlite3 *readers[READERS_MAX];
    size_t nreaders;
} sq_store;

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS entries(idx INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tiles(level INTEGER NOT NULL, idx INTEGER NOT NULL,"
    "  hashes BLOB NOT NULL, PRIMARY KEY(level, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS keys(kind INTEGER NOT NULL, digest BLOB NOT NULL,"
    "  idx INTEGER NOT NULL, PRIMARY KEY(kind, digest, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS checkpoints(size INTEGER PRIMARY KEY, note BLOB NOT NULL);";

static int sq_fail(px_err *err, sqlite3 *db, const char *what) {
    return px_fail(err, PX_E_IO, "log store (sqlite): %s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static int sq_open_conn(const char *path, sqlite3 **out, px_err *err) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        sq_fail(err, db, path);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK) {
        sq_fail(err, db, "setting WAL mode");
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

static sqlite3 *reader_get(sq_store *s, px_err *err) {
    sqlite3 *db = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->nreaders)
        db = s->readers[--s->nreaders];
    pthread_mutex_unlock(&s->mu);
    if (!db && sq_open_conn(s->path, &db, err))
        return NULL;
    return db;
}

static void reader_put(sq_store *s, sqlite3 *db) {
    pthread_mutex_lock(&s->mu);
    if (s->nreaders < READERS_MAX) {
        s->readers[s->nreaders++] = db;
        db = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    sqlite3_close(db);
}

static int step_done(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int sq_commit(px_log_store *base, const px_log_commit *c, px_err *err) {
    sq_store *s = (sq_store *)base;
    if (sqlite3_exec(s->w, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(err, s->w, "begin");
    /* The stored size must be where this commit starts: a second writer on
     * the same file would otherwise fork the log. */
    uint64_t stored = 0;
    if (sqlite3_step(s->cur_size) == SQLITE_ROW)
        stored = (uint64_t)sqlite3_column_int64(s->cur_size, 0);
    sqlite3_reset(s->cur_size);
    if (stored != c->first) {
        sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
        return px_fail(err, PX_E_STATE, "log store (sqlite): stored size %llu is not %llu (another writer?)",
                       (unsigned long long)stored, (unsigned long long)c->first);
    }
    const char *what = NULL;
    for (size_t i = 0; i < c->n && !what; i++) {
        sqlite3_bind_int64(s->ins_entry, 1, (sqlite3_int64)(c->first + i));
        sqlite3_bind_blob(s->ins_entry, 2, c->entries[i], (int)c->lens[i], SQLITE_STATIC);
        if (step_done(s->ins_entry))
            what = "inserting an entry";
    }
    for (size_t i = 0; i < c->ntiles && !what; i++) {
        const px_log_tile_write *t = &c->tiles[i];
        sqlite3_bind_int(s->ins_tile, 1, t->level);
        sqlite3_bind_int64(s->ins_tile, 2, (sqlite3_int64)t->index);
        sqlite3_bind_blob(s->ins_tile, 3, t->hashes, (int)(t->width * PX_LOG_HASH_BYTES), SQLITE_STATIC);
        if (step_done(s->ins_tile))
            what = "writing a tile";
    }
    for (size_t i = 0; i < c->nkeys && !what; i++) {
        sqlite3_bind_int(s->ins_key, 1, (int)c->keys[i].kind);
        sqlite3_bind_blob(s->ins_key, 2, c->keys[i].digest, PX_SHA256_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(s->ins_key, 3, (sqlite3_int64)c->keys[i].index);
        if (step_done(s->ins_key))
            what = "indexing an entry";
    }
    if (!what) {
        sqlite3_bind_int64(s->ins_cp, 1, (sqlite3_int64)c->size);
        sqlite3_bind_blob(s->ins_cp, 2, c->checkpoint, (int)c->checkpoint_len, SQLITE_STATIC);
        if (step_done(s->ins_cp))
            what = "storing the checkpoint";
    }
    if (!what && sqlite3_exec(s->w, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        what = "commit";
    if (what) {
        sq_fail(err, s->w, what);
        sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* Run one read query with up to two integer/blob parameters set by bind. */
static int sq_latest(px_log_store *base, uint64_t *size, px_buf *note, px_err *err) {
    sq_store *s = (sq_store *)base;
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
        sq_fail(err, db, "reading the checkpoint");
        goto out;
    }
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        rc = px_buf_append(note, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), err);
    } else if (r == SQLITE_DONE) {
        *size = 0;
        rc = 0;
    } else {
        sq_fail(err, db, "reading the checkpoint");
    }
out:
    sqlite3_finalize(st);
    reader_put(s, db);
    return rc;
}

static int sq_tile(px_log_store *base, int level, uint64_t index, px_buf *out, px_err *err) {
    sq_store *s = (sq_store *)base;
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT hashes FROM tiles WHERE level=?1 AND idx=?2", -1, &st, NULL) != SQLITE_OK) {
        sq_fail(err, db, "reading a tile");
        goto out;
    }
    sqlite3_bind_int(st, 1, level);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        rc = px_buf_append(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), err);
    else if (r == SQLITE_DONE)
        px_fail(err, PX_E_NOTFOUND, "tile %d/%llu is not stored", level, (unsigned long long)index);
    else
        sq_fail(err, db, "reading a tile");
out:
    sqlite3_finalize(st);
    reader_put(s, db);
    return rc;
}

static int sq_entries(px_log_store *base, uint64_t start, uint64_t n, px_buf *out, px_err *err) {
    sq_store *s = (sq_store *)base;
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    size_t mark = out->len;
    uint64_t got = 0;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT data FROM entries WHERE idx>=?1 AND idx<?2 ORDER BY idx", -1, &st, NULL) != SQLITE_OK) {
        sq_fail(err, db, "reading entries");
        goto out;
    }
    sqlite3_bind_int64(st, 1, (sqlite3_int64)start);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)(start + n));
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        uint8_t pre[2] = {(uint8_t)(len >> 8), (uint8_t)len};
        if (px_buf_append(out, pre, 2, err) ||
            px_buf_append(out, sqlite3_column_blob(st, 0), len, err))
            goto out;
        got++;
    }
    if (r != SQLITE_DONE) {
        sq_fail(err, db, "reading entries");
        goto out;
    }
    if (got != n) {
        px_fail(err, PX_E_NOTFOUND, "entries %llu..%llu are not all stored", (unsigned long long)start,
                (unsigned long long)(start + n - 1));
        goto out;
    }
    rc = 0;
out:
    if (rc)
        out->len = mark;
    sqlite3_finalize(st);
    reader_put(s, db);
    return rc;
}

static int sq_lookup(px_log_store *base, px_log_key_kind kind, const uint8_t digest[PX_SHA256_BYTES], uint64_t from,
                     uint64_t *out, size_t max, size_t *n, px_err *err) {
    sq_store *s = (sq_store *)base;
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    size_t k = 0;
    if (sqlite3_prepare_v2(db, "SELECT idx FROM keys WHERE kind=?1 AND digest=?2 AND idx>=?4 ORDER BY idx LIMIT ?3", -1, &st, NULL) != SQLITE_OK) {
        sq_fail(err, db, "looking up");
        goto out;
    }
    sqlite3_bind_int(st, 1, (int)kind);
    sqlite3_bind_blob(st, 2, digest, PX_SHA256_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
    sqlite3_bind_int64(st, 4, from > INT64_MAX ? INT64_MAX : (sqlite3_int64)from);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW && k < max)
        out[k++] = (uint64_t)sqlite3_column_int64(st, 0);
    if (r != SQLITE_DONE && r != SQLITE_ROW) {
        sq_fail(err, db, "looking up");
        goto out;
    }
    *n = k;
    rc = 0;
out:
    sqlite3_finalize(st);
    reader_put(s, db);
    return rc;
}

static int sq_history(px_log_store *base, int (*fn)(void *, uint64_t, const char *, size_t, px_err *),
                      void *ctx, px_err *err) {
    sq_store *s = (sq_store *)base;
    sqlite3 *db = reader_get(s, err);
    if (!db)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = -1, r;
    if (sqlite3_prepare_v2(db, "SELECT size, note FROM checkpoints ORDER BY size", -1, &st, NULL) != SQLITE_OK) {
        sq_fail(err, db, "reading checkpoints");
        goto out;
    }
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(ctx, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
               (size_t)sqlite3_column_bytes(st, 1), err))
            goto out;
    if (r != SQLITE_DONE) {
        sq_fail(err, db, "reading checkpoints");
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    reader_put(s, db);
    return rc;
}

static void sq_close(px_log_store *base) {
    sq_store *s = (sq_store *)base;
    if (!s)
        return;
    sqlite3_finalize(s->ins_entry);
    sqlite3_finalize(s->ins_tile);
    sqlite3_finalize(s->ins_key);
    sqlite3_finalize(s->ins_cp);
    sqlite3_finalize(s->cur_size);
    sqlite3_close(s->w);
    for (size_t i = 0; i < s->nreaders; i++)
        sqlite3_close(s->readers[i]);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

static const px_log_store_ops SQ_OPS = {
    "sqlite", sq_commit, sq_latest, sq_tile, sq_entries, sq_lookup, sq_history, sq_close,
};

int px_log_store_sqlite_open(px_log_store **out, const char *path, px_err *err) {
    sq_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    s->base.ops = &SQ_OPS;
    pthread_mutex_init(&s->mu, NULL);
    /* Private, and checked before anything is served from it: a damaged
     * log is refused, never extended. */
    if (px_private_store(path, err) || sq_open_conn(path, &s->w, err) ||
        px_sqldb_check(s->w, "log store", path, err))
        goto fail;
    if (sqlite3_exec(s->w, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
        sq_fail(err, s->w, "creating tables");
        goto fail;
    }
    if (sqlite3_prepare_v2(s->w, "INSERT INTO entries(idx, data) VALUES(?1, ?2)", -1, &s->ins_entry, NULL) ||
        sqlite3_prepare_v2(s->w, "INSERT OR REPLACE INTO tiles(level, idx, hashes) VALUES(?1, ?2, ?3)", -1, &s->ins_tile, NULL) ||
        sqlite3_prepare_v2(s->w, "INSERT OR IGNORE INTO keys(kind, digest, idx) VALUES(?1, ?2, ?3)", -1, &s->ins_key, NULL) ||
        sqlite3_prepare_v2(s->w, "INSERT OR REPLACE INTO checkpoints(size, note) VALUES(?1, ?2)", -1, &s->ins_cp, NULL) ||
        sqlite3_prepare_v2(s->w, "SELECT coalesce(max(size), 0) FROM checkpoints", -1, &s->cur_size, NULL)) {
        sq_fail(err, s->w, "preparing statements");
        goto fail;
    }
    *out = &s->base;
    return 0;
fail:
    if (err && !strstr(err->msg, path))
        px_err_prefix(err, "%s: ", path);
    sq_close(&s->base);
    return -1;
}
