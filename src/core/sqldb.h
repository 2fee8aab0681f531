/* Internal to PIXIU: a SQLite store shared by many threads, and the
 * private modes of what a node keeps on disk.
 *
 * A SQLite connection is not a unit of concurrency: two threads that run
 * BEGIN ... COMMIT on one connection interleave their statements inside one
 * transaction ("cannot start a transaction within a transaction", a
 * ROLLBACK that undoes the other thread's charge, a damaged file when the
 * connection was opened without SQLite's own mutex). So every thread gets
 * its own connection to the store, opened on first use; SQLite's file
 * locks then serialise the writers (BEGIN IMMEDIATE waits up to the busy
 * timeout), from threads and from other processes alike.
 *
 * Opening a store checks it first: the file (and its WAL and shared-memory
 * files) must be private to the owner (0600; a wider mode is narrowed with
 * a warning on stderr), and `PRAGMA integrity_check` must answer "ok": a
 * damaged store is refused with a message naming the file, never served.
 */
#ifndef PIXIU_CORE_SQLDB_H
#define PIXIU_CORE_SQLDB_H

#include <sqlite3.h>

#include "pixiu/core.h"

typedef struct px_sqldb px_sqldb;

typedef struct px_sqldb_opts {
    const char *what;     /* names the store in messages: "POD database" */
    const char *conn_sql; /* run on every new connection (per-connection pragmas), or NULL */
    /* Run once at open on the first connection (schema, migrations). */
    int (*init)(sqlite3 *db, void *ctx, px_err *err);
    void *ctx;
    int busy_ms; /* how long a writer waits for another; 0: 30 s */
} px_sqldb_opts;

/* Open (creating the file 0600 if missing), check and initialise. */
int px_sqldb_open(px_sqldb **out, const char *path, const px_sqldb_opts *o, px_err *err);
/* The calling thread's connection, opened on first use; NULL with err when
 * it cannot be opened. Valid until the thread exits or the store closes. */
sqlite3 *px_sqldb_conn(px_sqldb *d, px_err *err);
const char *px_sqldb_path(const px_sqldb *d);
/* Closes every thread's connection: call once no thread uses the store. */
void px_sqldb_close(px_sqldb *d);

/* `PRAGMA integrity_check` on db: 0 when it answers "ok", else -1 naming
 * the first problem (what names the store in the message). */
int px_sqldb_check(sqlite3 *db, const char *what, const char *path, px_err *err);

/* A directory that holds private state: created 0700 when missing (if
 * create), and narrowed to 0700 with a warning on stderr when group or
 * others may enter it. Refuses a path that is not a directory. */
int px_private_dir(const char *path, int create, px_err *err);
/* An existing file narrowed to 0600 (with a warning) when group or others
 * may read it; a missing file is not an error. */
int px_private_file(const char *path, px_err *err);

/* A SQLite file and the WAL, shared-memory and journal files beside it:
 * created empty 0600 when missing, narrowed to 0600 (with a warning) when
 * wider. For stores that manage their own connections. */
int px_private_store(const char *path, px_err *err);

#endif
