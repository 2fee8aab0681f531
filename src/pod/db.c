/* The POD database: opening it (creating the tables on first use) and the
 * small routines every POD file uses. WAL with synchronous=FULL: a commit
 * that returned is on disk, and a crash leaves the last committed state.
 * Each thread works on its own connection (core/sqldb.h), so concurrent
 * admissions are separate transactions that SQLite serialises; the file is
 * private (0600) and checked (`PRAGMA integrity_check`) before use. */
#include <string.h>

#include "pod/db.h"

#define POD_DB_VERSION 2
#define BUSY_TIMEOUT_MS 30000
#define POD_DB_WHAT "POD database"
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

/* The ledger: state 1 charged, 2 started (data released), 3 refunded,
 * 4 spent (the task's DP stage released: never refundable); reason says
 * why a charge was refunded or settled as spent. */
#define CHARGES_SQL(name)                                                                                          \
    "CREATE TABLE IF NOT EXISTS " name "("                                                                         \
    "  id INTEGER PRIMARY KEY, manifest TEXT NOT NULL, dataset TEXT NOT NULL, consumer TEXT NOT NULL,"             \
    "  eps INTEGER NOT NULL CHECK(eps >= 0), delta INTEGER NOT NULL CHECK(delta >= 0),"                            \
    "  state INTEGER NOT NULL CHECK(state IN (1, 2, 3, 4)), created INTEGER NOT NULL, updated INTEGER NOT NULL,"   \
    "  reason TEXT, UNIQUE(manifest, dataset));"

/* Version 1 to 2: the ledger gains the spent state and reasons. SQLite
 * cannot alter a CHECK constraint, so the table is copied. */
static const char *const migrate_v2_sql =
    CHARGES_SQL("charges_v2")
    "INSERT INTO charges_v2(id, manifest, dataset, consumer, eps, delta, state, created, updated)"
    "  SELECT id, manifest, dataset, consumer, eps, delta, state, created, updated FROM charges;"
    "DROP TABLE charges;"
    "ALTER TABLE charges_v2 RENAME TO charges;"
    "CREATE INDEX IF NOT EXISTS charges_by_consumer ON charges(dataset, consumer, state);"
    "PRAGMA user_version = 2;";

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS datasets("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, schema TEXT NOT NULL, created INTEGER NOT NULL);"
    /* vals is the canonical value encoding (records.h); digest is the
     * record digest a source signs; ukey the encoded unique-key value */
    "CREATE TABLE IF NOT EXISTS records("
    "  dataset INTEGER NOT NULL REFERENCES datasets(id), seq INTEGER NOT NULL, vals BLOB NOT NULL,"
    "  digest BLOB NOT NULL, ukey BLOB, source TEXT, sig BLOB,"
    "  PRIMARY KEY(dataset, seq), UNIQUE(dataset, ukey)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS trust("
    "  name TEXT PRIMARY KEY, keyid INTEGER NOT NULL, alg INTEGER NOT NULL, pk BLOB NOT NULL,"
    "  key TEXT NOT NULL, added INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS policy("
    "  dataset TEXT PRIMARY KEY, doc TEXT NOT NULL, updated INTEGER NOT NULL);"
    CHARGES_SQL("charges")
    "CREATE INDEX IF NOT EXISTS charges_by_consumer ON charges(dataset, consumer, state);"
    "CREATE TABLE IF NOT EXISTS releases("
    "  id TEXT PRIMARY KEY, manifest TEXT NOT NULL, pod TEXT NOT NULL, dataset TEXT NOT NULL,"
    "  digest TEXT NOT NULL, records INTEGER NOT NULL, signed INTEGER NOT NULL, unsigned INTEGER NOT NULL,"
    "  eps INTEGER NOT NULL, delta INTEGER NOT NULL, stage_key TEXT NOT NULL, released INTEGER NOT NULL,"
    "  envelope BLOB NOT NULL);";

/* Version 2: the builds the owner accepts besides the node's own. */
static const char *const builds_sql =
    "CREATE TABLE IF NOT EXISTS builds(digest TEXT PRIMARY KEY, added INTEGER NOT NULL);";

sqlite3 *px_db(px_pod *p) { return px_sqldb_conn(p->store, NULL); }

/* The code of a SQLite failure: a writer that waited out the busy timeout
 * is a service that did not answer, a constraint is a state conflict. */
static px_code fail_code(int code) {
    return (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED ? PX_E_UNAVAILABLE
           : (code & 0xff) == SQLITE_CONSTRAINT                            ? PX_E_STATE
                                                                            : PX_E_IO;
}

int px_db_fail(px_pod *p, const char *what, px_err *err) {
    sqlite3 *db = px_db(p);
    if (!db)
        return px_fail(err, PX_E_IO, "%s: no connection to the POD database", what);
    return px_fail(err, fail_code(sqlite3_extended_errcode(db)), "%s: %s", what, sqlite3_errmsg(db));
}

int px_db_exec(px_pod *p, const char *sql, px_err *err) {
    char *msg = NULL;
    sqlite3 *db = px_sqldb_conn(p->store, err);
    if (!db)
        return -1;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    int rc = px_fail(err, fail_code(sqlite3_extended_errcode(db)), "POD database: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return rc;
}

int px_db_prepare(px_pod *p, sqlite3_stmt **st, const char *sql, px_err *err) {
    *st = NULL;
    sqlite3 *db = px_sqldb_conn(p->store, err);
    if (!db)
        return -1;
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK)
        return 0;
    *st = NULL;
    return px_db_fail(p, "POD database", err);
}

int px_db_begin(px_pod *p, px_err *err) {
    return px_db_exec(p, "BEGIN IMMEDIATE", err);
}

int px_db_commit(px_pod *p, px_err *err) {
    if (px_db_exec(p, "COMMIT", err)) {
        px_db_rollback(p);
        return -1;
    }
    return 0;
}

void px_db_rollback(px_pod *p) {
    sqlite3 *db = px_db(p);
    if (db && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

void px_db_text(sqlite3_stmt *st, int col, char *dst, size_t cap) {
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

int px_pod_name_check(const char *what, const char *name, px_err *err) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > PX_KEY_NAME_MAX || strspn(name, NAME_CHARS) != n)
        return px_fail(err, PX_E_INVALID, "%s name must be 1-%d characters of [A-Za-z0-9_.-]", what, PX_KEY_NAME_MAX);
    return 0;
}

static int exec_raw(sqlite3 *db, const char *sql, px_err *err) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    int rc = px_fail(err, PX_E_IO, "POD database: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return rc;
}

/* The schema, created or upgraded in one transaction on the opening
 * connection (px_sqldb_opts.init). */
static int check_version(sqlite3 *db, void *ctx, px_err *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return px_fail(err, PX_E_IO, "POD database: %s", sqlite3_errmsg(db));
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (v == POD_DB_VERSION)
        return 0;
    if (v != 0 && v != 1)
        return px_fail(err, PX_E_STATE, "POD database has version %d, this PIXIU reads %d", v, POD_DB_VERSION);
    if (exec_raw(db, "BEGIN IMMEDIATE", err))
        return -1;
    /* Version 1 to 2: the ledger's spent state and reasons, and the table
     * of builds the POD accepts besides its own. Another process may have
     * done either while this one waited for the lock: read again. */
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK ? 0 : -1;
    v = rc == 0 && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (v == 1)
        rc = exec_raw(db, migrate_v2_sql, err) || exec_raw(db, builds_sql, err);
    else if (v == 0)
        rc = exec_raw(db, schema_sql, err) || exec_raw(db, builds_sql, err) ||
             exec_raw(db, "PRAGMA user_version = 2", err);
    else if (v != POD_DB_VERSION)
        rc = px_fail(err, PX_E_STATE, "POD database has version %d, this PIXIU reads %d", v, POD_DB_VERSION);
    if (rc == 0 && exec_raw(db, "COMMIT", err) == 0)
        return 0;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return v == 1 ? px_err_prefix(err, "upgrading the POD database to version 2: ") : -1;
}

int px_pod_open(px_pod **out, const char *path, px_err *err) {
    px_pod *p = calloc(1, sizeof *p);
    if (!p)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_sqldb_opts o = {.what = POD_DB_WHAT,
                       .conn_sql = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON",
                       .init = check_version,
                       .busy_ms = BUSY_TIMEOUT_MS};
    if (px_sqldb_open(&p->store, path, &o, err)) {
        free(p);
        return err && strstr(err->msg, path) ? -1 : px_err_prefix(err, "%s: ", path);
    }
    *out = p;
    return 0;
}

void px_pod_close(px_pod *p) {
    if (!p)
        return;
    px_sqldb_close(p->store);
    free(p);
}

int px_db_dataset(px_pod *p, const char *name, int64_t *id, px_pod_schema *s, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st, "SELECT id, schema FROM datasets WHERE name = ?", err))
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        rc = px_fail(err, PX_E_NOTFOUND, "no dataset named \"%s\"", name);
    else if (rc != SQLITE_ROW)
        rc = px_db_fail(p, "reading datasets", err);
    else {
        *id = sqlite3_column_int64(st, 0);
        rc = 0;
        if (s && px_pod_schema_parse(s, sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1), err))
            rc = px_err_prefix(err, "stored schema of \"%s\": ", name);
    }
    sqlite3_finalize(st);
    return rc;
}
