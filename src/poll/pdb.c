/* SQLite for the issuer's and the ballot box's state. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sqldb.h"
#include "poll/pdb.h"

#define BUSY_TIMEOUT_MS 30000

int px_pdb_fail(sqlite3 *db, const char *what, px_err *err) {
    int code = sqlite3_extended_errcode(db) & 0xff;
    px_code c = code == SQLITE_BUSY || code == SQLITE_LOCKED ? PX_E_UNAVAILABLE
              : code == SQLITE_CONSTRAINT                  ? PX_E_STATE
                                                           : PX_E_IO;
    return px_fail(err, c, "%s: %s", what, sqlite3_errmsg(db));
}

int px_pdb_exec(sqlite3 *db, const char *sql, px_err *err) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    int rc = px_fail(err, PX_E_IO, "poll database: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return rc;
}

int px_pdb_prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql, px_err *err) {
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK)
        return 0;
    *st = NULL;
    return px_pdb_fail(db, "poll database", err);
}

int px_pdb_open(sqlite3 **out, const char *path, const char *schema, px_err *err) {
    /* Create it owner-only before SQLite does (it holds a private key). */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return px_fail(err, PX_E_IO, "%s: %s", path, strerror(errno));
    close(fd);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        int rc = px_fail(err, PX_E_IO, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* A damaged store is refused by name, never served; the WAL and
     * shared-memory files are as private as the file (docs/reliability.md). */
    if (px_sqldb_check(db, "poll database", path, err)) {
        sqlite3_close(db);
        return -1;
    }
    if (px_pdb_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err) || px_pdb_exec(db, schema, err) ||
        px_private_store(path, err)) {
        sqlite3_close(db);
        return px_err_prefix(err, "%s: ", path);
    }
    *out = db;
    return 0;
}
