/* Frequency caps of stages at the POD: how many campaigns (manifests) a
 * dataset hosts in any 24 hours, in all and per consumer. Every admitted
 * campaign counts, whatever became of it: the cap limits how often the
 * owner is targeted, not what was spent. The table lives in the POD
 * database and is made on first use; counting and recording happen inside
 * the ledger's IMMEDIATE transaction (budget.c). */
#include <string.h>

#include "pod/db.h"

static const char *const hosted_sql =
    "CREATE TABLE IF NOT EXISTS hosted(manifest TEXT NOT NULL, dataset TEXT NOT NULL, consumer TEXT NOT NULL,"
    "  at INTEGER NOT NULL, PRIMARY KEY(manifest, dataset));"
    "CREATE INDEX IF NOT EXISTS hosted_at ON hosted(dataset, at);";

static int count(px_pod *p, const char *dataset, const char *consumer, int64_t since, int64_t *n, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st,
                      "SELECT count(DISTINCT manifest) FROM hosted WHERE dataset = ?1 AND at > ?2 "
                      "AND (?3 IS NULL OR consumer = ?3)",
                      err))
        return -1;
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, since);
    if (consumer)
        sqlite3_bind_text(st, 3, consumer, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : px_db_fail(p, "counting hosted campaigns", err);
    *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int px_pod_hosting_take(px_pod *p, const px_pod_hosting *h, const char *manifest, const px_pod_request *req,
                        px_err *err) {
    int64_t now = px_now_ms(), since = now - PX_POD_DAY_MS, all = 0, mine = 0;
    if (px_db_exec(p, hosted_sql, err) || count(p, req->dataset, NULL, since, &all, err) ||
        count(p, req->dataset, req->consumer, since, &mine, err))
        return -1;
    if (h->per_day && all >= h->per_day)
        return px_fail(err, PX_E_DENIED, "frequency cap: dataset \"%s\" caps campaigns at %u a day and hosted "
                       "%lld in the last 24 hours", req->dataset, h->per_day, (long long)all);
    if (h->per_day_consumer && mine >= h->per_day_consumer)
        return px_fail(err, PX_E_DENIED, "frequency cap: dataset \"%s\" caps campaigns from consumer \"%s\" at %u "
                       "a day and hosted %lld in the last 24 hours", req->dataset, req->consumer,
                       h->per_day_consumer, (long long)mine);
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st, "INSERT OR IGNORE INTO hosted(manifest, dataset, consumer, at) VALUES(?, ?, ?, ?)", err))
        return -1;
    sqlite3_bind_text(st, 1, manifest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, req->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, req->consumer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_db_fail(p, "recording a hosted campaign", err);
    sqlite3_finalize(st);
    return rc;
}
