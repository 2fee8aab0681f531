/* Internal to src/pod: the POD's SQLite handle and small statement routines. */
#ifndef PIXIU_POD_DB_H
#define PIXIU_POD_DB_H

#include <sqlite3.h>

#include "core/sqldb.h"
#include "pixiu/pod.h"

/* The database, a connection per thread (core/sqldb.h): a transaction is
 * begun and ended by one thread, on its own connection. */
struct px_pod {
    px_sqldb *store;
};

/* The calling thread's connection (opened on first use; NULL only when it
 * cannot be opened, which the px_db_* routines report). */
sqlite3 *px_db(px_pod *p);

/* Run SQL without results. */
int px_db_exec(px_pod *p, const char *sql, px_err *err);
/* Prepare; on failure err names the SQLite message. */
int px_db_prepare(px_pod *p, sqlite3_stmt **st, const char *sql, px_err *err);
/* A failed step or bind: -1 with the SQLite message. */
int px_db_fail(px_pod *p, const char *what, px_err *err);
/* BEGIN IMMEDIATE (takes the write lock now, so the reads that follow see
 * what the write will be based on), COMMIT, ROLLBACK. */
int px_db_begin(px_pod *p, px_err *err);
int px_db_commit(px_pod *p, px_err *err);
void px_db_rollback(px_pod *p);
/* Look up a dataset: its id and (if s is not NULL) schema. */
int px_db_dataset(px_pod *p, const char *name, int64_t *id, px_pod_schema *s, px_err *err);
/* A borrowed text column as a bounded C string copy (dst holds cap bytes). */
void px_db_text(sqlite3_stmt *st, int col, char *dst, size_t cap);
/* Export inside a transaction the caller holds. */
int px_db_export(px_pod *p, const char *dataset, px_buf *out, px_pod_export_info *info, px_err *err);
/* The records of a PXR1 stream a stage at the POD may read: those whose
 * h->topic_field value is not an opted-out topic (hosting.c). */
int px_pod_hosting_filter(const px_pod_hosting *h, const px_buf *in, px_buf *out, uint64_t *kept, px_err *err);
/* The frequency caps of stages at the POD, counted and the campaign
 * recorded inside the caller's transaction (hosting_caps.c). */
int px_pod_hosting_take(px_pod *p, const px_pod_hosting *h, const char *manifest, const px_pod_request *req,
                        px_err *err);

#endif
