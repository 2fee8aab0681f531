/* The POD's inbox: what stages at the POD delivered (docs/pod.md, "The
 * inbox"). A row per campaign the POD hosted, written alike whether the
 * person matched or not (the same columns, the same sizes), so the write
 * itself says nothing; the inbox lists the delivered ones. Each row keeps
 * what proves it: the consumer's signed manifest, the instance's config and
 * evidence, the proof and its log entry, and the opening of the delivery,
 * so that `pixiu pod inbox show` checks it again, offline. */
#include <string.h>

#include "pod/db.h"
#include "pod/row.h"

#define ITEM_MAX_BYTES (8u << 20)

static const char *const inbox_sql =
    "CREATE TABLE IF NOT EXISTS inbox(id INTEGER PRIMARY KEY, manifest TEXT NOT NULL UNIQUE, task TEXT NOT NULL,"
    "  consumer TEXT NOT NULL, received INTEGER NOT NULL, delivered INTEGER NOT NULL CHECK(delivered IN (0, 1)),"
    "  size INTEGER NOT NULL, stage INTEGER NOT NULL, log_index INTEGER NOT NULL, manifest_env BLOB NOT NULL,"
    "  config BLOB NOT NULL, evidence BLOB NOT NULL, platform TEXT NOT NULL, proof BLOB NOT NULL,"
    "  opening BLOB NOT NULL);";

static int ensure(px_pod *p, px_err *err) {
    return px_db_exec(p, inbox_sql, err);
}

void px_inbox_item_free(px_inbox_item *it) {
    if (!it)
        return;
    px_buf *b[] = {&it->manifest_env, &it->config, &it->evidence, &it->proof, &it->opening, &it->platform};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        px_buf_free(b[i]);
    memset(it, 0, sizeof *it);
}

void px_inbox_items_free(px_inbox_item *v, size_t n) {
    for (size_t i = 0; v && i < n; i++)
        px_inbox_item_free(&v[i]);
    free(v);
}

static int blob(sqlite3_stmt *st, int i, const px_buf *b) {
    return sqlite3_bind_blob(st, i, b->data ? (const void *)b->data : "", (int)b->len, SQLITE_STATIC);
}

int px_pod_inbox_put(px_pod *p, const px_inbox_item *it, px_err *err) {
    size_t total = it->manifest_env.len + it->config.len + it->evidence.len + it->proof.len + it->opening.len;
    if (total > ITEM_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "inbox item of %zu bytes exceeds %u", total, ITEM_MAX_BYTES);
    if (strlen(it->manifest) != 2 * PX_SHA256_BYTES || px_id_check("consumer", it->consumer, err) ||
        px_id_check("task", it->task, err))
        return px_fail(err, PX_E_INVALID, "inbox item: bad manifest id, consumer or task name");
    sqlite3_stmt *st;
    if (px_db_begin(p, err))
        return -1;
    int rc = ensure(p, err) ||
             px_db_prepare(p, &st,
                           "INSERT INTO inbox(manifest, task, consumer, received, delivered, size, stage, log_index,"
                           " manifest_env, config, evidence, platform, proof, opening)"
                           " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           err);
    if (rc == 0) {
        sqlite3_bind_text(st, 1, it->manifest, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, it->task, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, it->consumer, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, it->received_ms);
        sqlite3_bind_int(st, 5, it->delivered ? 1 : 0);
        sqlite3_bind_int64(st, 6, (int64_t)it->size);
        sqlite3_bind_int64(st, 7, it->stage);
        sqlite3_bind_int64(st, 8, (int64_t)it->log_index);
        blob(st, 9, &it->manifest_env);
        blob(st, 10, &it->config);
        blob(st, 11, &it->evidence);
        sqlite3_bind_text(st, 12, it->platform.data ? (const char *)it->platform.data : "", (int)it->platform.len,
                          SQLITE_STATIC);
        blob(st, 13, &it->proof);
        blob(st, 14, &it->opening);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_db_fail(p, "storing an inbox item", err);
        sqlite3_finalize(st);
    }
    if (rc)
        return px_db_rollback(p), -1;
    return px_db_commit(p, err);
}

#define SUMMARY "id, manifest, task, consumer, received, delivered, size, stage, log_index"

static void summary(sqlite3_stmt *st, px_inbox_item *it) {
    memset(it, 0, sizeof *it);
    it->id = sqlite3_column_int64(st, 0);
    px_db_text(st, 1, it->manifest, sizeof it->manifest);
    px_db_text(st, 2, it->task, sizeof it->task);
    px_db_text(st, 3, it->consumer, sizeof it->consumer);
    it->received_ms = sqlite3_column_int64(st, 4);
    it->delivered = sqlite3_column_int(st, 5);
    it->size = (uint64_t)sqlite3_column_int64(st, 6);
    it->stage = (uint32_t)sqlite3_column_int64(st, 7);
    it->log_index = (uint64_t)sqlite3_column_int64(st, 8);
}

int px_pod_inbox_list(px_pod *p, int all, px_inbox_item **out, size_t *n, px_err *err) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (ensure(p, err) ||
        px_db_prepare(p, &st,
                      all ? "SELECT " SUMMARY " FROM inbox ORDER BY received DESC, id DESC"
                          : "SELECT " SUMMARY " FROM inbox WHERE delivered = 1 ORDER BY received DESC, id DESC",
                      err))
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        px_inbox_item *v = realloc(*out, (*n + 1) * sizeof *v);
        if (!v) {
            rc = SQLITE_NOMEM;
            break;
        }
        *out = v;
        summary(st, &v[(*n)++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        px_inbox_items_free(*out, *n);
        *out = NULL;
        *n = 0;
        return rc == SQLITE_NOMEM ? px_fail(err, PX_E_NOMEM, "out of memory") : px_db_fail(p, "listing the inbox", err);
    }
    return 0;
}

static int column(sqlite3_stmt *st, int i, px_buf *b, px_err *err) {
    return px_buf_append(b, sqlite3_column_blob(st, i), (size_t)sqlite3_column_bytes(st, i), err);
}

int px_pod_inbox_get(px_pod *p, int64_t id, px_inbox_item *out, px_err *err) {
    sqlite3_stmt *st;
    memset(out, 0, sizeof *out);
    if (ensure(p, err) ||
        px_db_prepare(p, &st,
                      "SELECT " SUMMARY ", manifest_env, config, evidence, platform, proof, opening FROM inbox "
                      "WHERE id = ?",
                      err))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int sr = sqlite3_step(st), rc;
    if (sr == SQLITE_ROW) {
        summary(st, out);
        rc = column(st, 9, &out->manifest_env, err) || column(st, 10, &out->config, err) ||
             column(st, 11, &out->evidence, err) || column(st, 12, &out->platform, err) ||
             column(st, 13, &out->proof, err) || column(st, 14, &out->opening, err);
    } else {
        rc = sr == SQLITE_DONE ? px_fail(err, PX_E_NOTFOUND, "no inbox item %lld", (long long)id)
                               : px_db_fail(p, "reading the inbox", err);
    }
    sqlite3_finalize(st);
    if (rc)
        px_inbox_item_free(out);
    return rc ? -1 : 0;
}

int px_pod_inbox_delete(px_pod *p, int64_t id, px_err *err) {
    sqlite3_stmt *st;
    if (ensure(p, err) || px_db_prepare(p, &st, "DELETE FROM inbox WHERE id = ?", err))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_db_fail(p, "deleting an inbox item", err);
    sqlite3_finalize(st);
    if (rc == 0 && sqlite3_changes(px_db(p)) == 0)
        rc = px_fail(err, PX_E_NOTFOUND, "no inbox item %lld", (long long)id);
    return rc;
}
