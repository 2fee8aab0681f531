/* The POD's record of admitted manifests. One row per manifest, written in
 * one durable transaction before the POD seals anything, so a replayed plan
 * (or a second plan for a manifest already running) is refused even after a
 * restart. */
#include <sqlite3.h>
#include <string.h>

#include "exec/util.h"

#define PX_ADMIT_BUSY_MS 5000

struct px_admissions {
    sqlite3 *db;
};

static int db_fail(px_admissions *a, px_err *err, const char *what) {
    return px_fail(err, PX_E_IO, "admissions: %s: %s", what, sqlite3_errmsg(a->db));
}

int px_admissions_open(px_admissions **out, const char *path, px_err *err) {
    px_admissions *a = calloc(1, sizeof *a);
    if (!a)
        return px_fail(err, PX_E_NOMEM, "out of memory opening admissions");
    if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        px_fail(err, PX_E_IO, "admissions: cannot open %s: %s", path, a->db ? sqlite3_errmsg(a->db) : "no memory");
        px_admissions_close(a);
        return -1;
    }
    sqlite3_busy_timeout(a->db, PX_ADMIT_BUSY_MS);
    if (sqlite3_exec(a->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS admitted(manifest BLOB PRIMARY KEY, plan BLOB NOT NULL,"
                     " consumer TEXT NOT NULL, at INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(a, err, "creating the table");
        px_admissions_close(a);
        return -1;
    }
    *out = a;
    return 0;
}

int px_admissions_record(px_admissions *a, const px_plan *p, int64_t now, px_err *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(a->db, "INSERT INTO admitted(manifest, plan, consumer, at) VALUES (?, ?, ?, ?)", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(a, err, "preparing");
    sqlite3_bind_blob(st, 1, p->manifest.id, PX_SHA256_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, p->id, PX_SHA256_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p->manifest.consumer_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) {
        char hex[17];
        px_hex_encode(hex, p->manifest.id, 8);
        return px_fail(err, PX_E_STATE, "plan refused: manifest %s... was already admitted (a replayed plan)", hex);
    }
    if (rc != SQLITE_DONE)
        return db_fail(a, err, "recording");
    return 0;
}

int px_admissions_has(px_admissions *a, const uint8_t manifest[PX_SHA256_BYTES], px_err *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(a->db, "SELECT 1 FROM admitted WHERE manifest = ?", -1, &st, NULL) != SQLITE_OK)
        return db_fail(a, err, "preparing");
    sqlite3_bind_blob(st, 1, manifest, PX_SHA256_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return db_fail(a, err, "reading");
}

void px_admissions_close(px_admissions *a) {
    if (!a)
        return;
    sqlite3_close(a->db);
    free(a);
}
