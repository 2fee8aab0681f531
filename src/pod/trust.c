/* The trust store: the named source keys whose signatures this POD accepts
 * at import and hands to the data-prover. A name maps to one key; adding a
 * second key under a trusted name is refused rather than silently replacing
 * the first (remove it first). Keys are re-checked whenever they are read,
 * so an entry edited behind PIXIU's back is reported, not used. */
#include <string.h>

#include "pod/db.h"

int px_pod_trust_add(px_pod *p, const char *key_text, px_err *err) {
    px_source_key k;
    if (px_source_key_parse(&k, key_text, strlen(key_text), err))
        return -1;
    px_buf canon = PX_BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (px_source_key_format(&k, &canon, err) || !px_buf_cstr(&canon, err) || px_db_begin(p, err))
        goto done;
    if (px_db_prepare(p, &st, "SELECT key FROM trust WHERE name = ?", err))
        goto done;
    sqlite3_bind_text(st, 1, k.name, -1, SQLITE_STATIC);
    int sr = sqlite3_step(st);
    if (sr == SQLITE_ROW) {
        if (strcmp((const char *)sqlite3_column_text(st, 0), (const char *)canon.data) == 0)
            rc = 0; /* already trusted: nothing to do */
        else
            px_fail(err, PX_E_STATE, "source \"%s\" is already trusted with a different key (remove it first)",
                    k.name);
        goto done;
    }
    if (sr != SQLITE_DONE) {
        px_db_fail(p, "reading the trust store", err);
        goto done;
    }
    sqlite3_finalize(st);
    if (px_db_prepare(p, &st, "INSERT INTO trust(name, keyid, alg, pk, key, added) VALUES(?,?,?,?,?,?)", err))
        goto done;
    sqlite3_bind_text(st, 1, k.name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, k.id);
    sqlite3_bind_int(st, 3, k.alg);
    sqlite3_bind_blob(st, 4, k.pk, (int)k.pk_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, (const char *)canon.data, (int)canon.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, px_now_ms());
    if (sqlite3_step(st) != SQLITE_DONE)
        px_db_fail(p, "adding to the trust store", err);
    else
        rc = 1;
done:
    sqlite3_finalize(st);
    if (rc == 1)
        rc = px_db_commit(p, err);
    else
        px_db_rollback(p);
    px_buf_free(&canon);
    px_source_key_free(&k);
    return rc;
}

int px_pod_trust_remove(px_pod *p, const char *name, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st, "DELETE FROM trust WHERE name = ?", err))
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_db_fail(p, "removing from the trust store", err);
    if (rc == 0 && sqlite3_changes(px_db(p)) == 0)
        rc = px_fail(err, PX_E_NOTFOUND, "source \"%s\" is not in the trust store", name);
    sqlite3_finalize(st);
    return rc;
}

int px_pod_trust_list(px_pod *p, px_source_key **out, size_t *n, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st, "SELECT name, key FROM trust ORDER BY name", err))
        return -1;
    px_source_key *v = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        px_source_key *nv = realloc(v, (cnt + 1) * sizeof *v);
        if (!nv) {
            px_fail(err, PX_E_NOMEM, "out of memory");
            break;
        }
        v = nv;
        const char *text = (const char *)sqlite3_column_text(st, 1);
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (!text || !name || px_source_key_parse(&v[cnt], text, strlen(text), err)) {
            px_err_prefix(err, "trust store entry \"%s\": ", name ? name : "");
            break;
        }
        cnt++;
        if (strcmp(v[cnt - 1].name, name)) {
            px_fail(err, PX_E_VERIFY, "trust store entry \"%s\" holds a key named \"%s\"", name, v[cnt - 1].name);
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        if (rc != SQLITE_ROW)
            px_db_fail(p, "reading the trust store", err);
        px_source_keys_free(v, cnt);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    *out = v;
    *n = cnt;
    return 0;
}
