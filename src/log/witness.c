/* A witness: cosigns a log's checkpoint only when it is consistent with the
 * last checkpoint it cosigned for that origin, so a log cannot show two
 * histories to parties that check for the witness's cosignature.
 *
 * State (origin -> size, root) lives in SQLite; the check and the update
 * happen in one BEGIN IMMEDIATE transaction, so concurrent requests (or
 * processes) cannot both advance from the same old state, and a cosignature
 * is returned only once the new state is durable. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>
#include <sqlite3.h>

#include "core/sqldb.h"
#include "pixiu/log.h"

#define BUSY_TIMEOUT_MS 30000

/* A connection per thread (core/sqldb.h); add() is also serialised by mu,
 * so concurrent requests for one origin queue behind each other instead of
 * failing the busy timeout, and the second sees the first's state. */
struct px_witness {
    px_sqldb *store;
    pthread_mutex_t mu;
    px_signer key;
};

static int db_fail(px_err *err, sqlite3 *db, const char *what) {
    return px_fail(err, PX_E_IO, "witness: %s: %s", what, sqlite3_errmsg(db));
}

static int init(sqlite3 *db, void *ctx, px_err *err) {
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS witnessed(origin TEXT PRIMARY KEY, size INTEGER NOT NULL,"
                     "  root BLOB NOT NULL, note BLOB NOT NULL);",
                     NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(err, db, "creating the table");
    return 0;
}

int px_witness_open(px_witness **out, const char *path, const px_signer *key, px_err *err) {
    px_witness *w = calloc(1, sizeof *w);
    if (!w)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_sqldb_opts o = {.what = "witness database",
                       .conn_sql = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
                       .init = init,
                       .busy_ms = BUSY_TIMEOUT_MS};
    if (px_sqldb_open(&w->store, path, &o, err)) {
        free(w);
        return -1;
    }
    pthread_mutex_init(&w->mu, NULL);
    w->key = *key;
    *out = w;
    return 0;
}

void px_witness_close(px_witness *w) {
    if (!w)
        return;
    px_sqldb_close(w->store);
    pthread_mutex_destroy(&w->mu);
    px_signer_wipe(&w->key);
    free(w);
}

/* The stored (size, root) for origin; *found = 0 when none. */
static int load_state(sqlite3 *db, const char *origin, int *found, uint64_t *size,
                      uint8_t root[PX_LOG_HASH_BYTES], px_err *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT size, root FROM witnessed WHERE origin=?1", -1, &st, NULL) != SQLITE_OK)
        return db_fail(err, db, "reading state");
    sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
    int r = sqlite3_step(st), rc = 0;
    *found = 0;
    if (r == SQLITE_ROW && sqlite3_column_bytes(st, 1) == PX_LOG_HASH_BYTES) {
        *found = 1;
        *size = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(root, sqlite3_column_blob(st, 1), PX_LOG_HASH_BYTES);
    } else if (r != SQLITE_DONE) {
        rc = db_fail(err, db, "reading state");
    }
    sqlite3_finalize(st);
    return rc;
}

static int save_state(sqlite3 *db, const px_checkpoint *cp, const char *note, size_t len, px_err *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO witnessed(origin, size, root, note) VALUES(?1, ?2, ?3, ?4)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(err, db, "saving state");
    sqlite3_bind_text(st, 1, cp->origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)cp->size);
    sqlite3_bind_blob(st, 3, cp->root, PX_LOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, note, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(err, db, "saving state");
    sqlite3_finalize(st);
    return rc;
}

/* Is cp an allowed successor of the stored state? */
static int check_successor(int found, uint64_t size, const uint8_t root[PX_LOG_HASH_BYTES],
                           const px_checkpoint *cp, uint64_t old_size, const uint8_t *proof,
                           size_t nproof, px_err *err) {
    uint64_t have = found ? size : 0;
    if (old_size != have)
        return px_fail(err, PX_E_STATE, "witness: last cosigned size for %s is %llu, not %llu", cp->origin,
                       (unsigned long long)have, (unsigned long long)old_size);
    if (!found || size == 0)
        return 0; /* the first checkpoint (or the empty tree) is taken on trust */
    if (cp->size < size)
        return px_fail(err, PX_E_STATE, "witness: refusing rollback of %s from size %llu to %llu", cp->origin,
                       (unsigned long long)size, (unsigned long long)cp->size);
    if (cp->size == size) {
        if (!px_ct_equal(cp->root, root, PX_LOG_HASH_BYTES))
            return px_fail(err, PX_E_STATE, "witness: forked history: %s has two roots for size %llu", cp->origin,
                           (unsigned long long)size);
        return 0;
    }
    px_err why = {0};
    if (px_log_verify_consistency(size, cp->size, root, cp->root, proof, nproof, &why))
        return px_fail(err, PX_E_VERIFY,
                       "witness: forked history: %s at size %llu is not consistent with size %llu cosigned before (%s)",
                       cp->origin, (unsigned long long)cp->size, (unsigned long long)size, why.msg);
    return 0;
}

int px_witness_add(px_witness *w, const px_verifier *log_key, const char *note, size_t len,
                   uint64_t old_size, const uint8_t *proof, size_t nproof, px_buf *out, px_err *err) {
    px_checkpoint cp;
    if (px_checkpoint_open(&cp, note, len, log_key, NULL, err))
        return px_err_prefix(err, "witness: ");
    px_note n = {0};
    int rc = -1, in_tx = 0, locked = 0;
    sqlite3 *db = NULL;
    if (px_note_parse(&n, note, len, err))
        goto out;
    if (!(db = px_sqldb_conn(w->store, err)))
        goto out;
    pthread_mutex_lock(&w->mu);
    locked = 1;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(err, db, "begin");
        goto out;
    }
    in_tx = 1;
    int found;
    uint64_t size = 0;
    uint8_t root[PX_LOG_HASH_BYTES];
    if (load_state(db, cp.origin, &found, &size, root, err) ||
        check_successor(found, size, root, &cp, old_size, proof, nproof, err) ||
        px_cosign_note(&n, &w->key, (uint64_t)time(NULL), err))
        goto out;
    px_buf signed_note = PX_BUF_INIT;
    if (px_note_format(&n, &signed_note, err) ||
        save_state(db, &cp, (const char *)signed_note.data, signed_note.len, err)) {
        px_buf_free(&signed_note);
        goto out;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        px_buf_free(&signed_note);
        db_fail(err, db, "commit");
        goto out;
    }
    in_tx = 0;
    rc = px_buf_append(out, signed_note.data, signed_note.len, err);
    px_buf_free(&signed_note);
out:
    if (in_tx)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    if (locked)
        pthread_mutex_unlock(&w->mu);
    px_note_free(&n);
    px_checkpoint_free(&cp);
    return rc;
}

int px_witness_size(px_witness *w, const char *origin, uint64_t *size, px_err *err) {
    int found;
    uint8_t root[PX_LOG_HASH_BYTES];
    *size = 0;
    sqlite3 *db = px_sqldb_conn(w->store, err);
    return db ? load_state(db, origin, &found, size, root, err) : -1;
}

int px_witness_cosigner(px_witness *w, px_cosigner *c) {
    px_cosigner_from_signer(&w->key, c);
    return 0;
}
