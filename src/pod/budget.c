/* The privacy-budget ledger. Admission reads the policy, sums what was
 * already spent and inserts the new charge inside one BEGIN IMMEDIATE
 * transaction: SQLite lets one writer in at a time, so two admissions,
 * from threads or from processes, can never both see the same remaining
 * budget. A charge is returned only when its task never started (the
 * owner's refund) or when the log shows its DP stage released nothing by
 * the deadline (px_pod_budget_settle, docs/pod.md "Refunds"); a settled
 * charge never changes again. */
#include <string.h>

#include "pod/db.h"

#define HEX_DIGEST_LEN (2 * PX_SHA256_BYTES)

const char *px_charge_state_name(px_charge_state s) {
    return s == PX_CHARGE_CHARGED    ? "charged"
           : s == PX_CHARGE_STARTED  ? "started"
           : s == PX_CHARGE_REFUNDED ? "refunded"
           : s == PX_CHARGE_SPENT    ? "spent"
                                     : "?";
}

static int manifest_check(const char *m, px_err *err) {
    size_t n = m ? strlen(m) : 0;
    if (n != HEX_DIGEST_LEN || strspn(m, "0123456789abcdef") != n)
        return px_fail(err, PX_E_INVALID, "manifest id must be %d lower-case hex digits", HEX_DIGEST_LEN);
    return 0;
}

static int load_policy(px_pod *p, const char *dataset, px_pod_policy *pol, px_err *err) {
    px_buf doc = PX_BUF_INIT;
    int rc = px_pod_policy_get(p, dataset, &doc, err);
    if (rc == 0)
        rc = px_pod_policy_parse(pol, doc.data, doc.len, err);
    px_buf_free(&doc);
    if (rc && err && err->code == PX_E_NOTFOUND)
        err->code = PX_E_DENIED;
    return rc;
}

/* Spent (charged, started or spent) on a dataset, by everyone (consumer NULL) or one consumer. */
static int spent(px_pod *p, const char *dataset, const char *consumer, int64_t *eps, int64_t *delta, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st,
                      "SELECT coalesce(sum(eps), 0), coalesce(sum(delta), 0) FROM charges "
                      "WHERE dataset = ?1 AND state IN (1, 2, 4) AND (?2 IS NULL OR consumer = ?2)",
                      err))
        return -1;
    sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    if (consumer)
        sqlite3_bind_text(st, 2, consumer, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : px_db_fail(p, "summing charges", err);
    *eps = sqlite3_column_int64(st, 0);
    *delta = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    return rc;
}

static int within(const char *who, int64_t spent_e, int64_t spent_d, int64_t e, int64_t d, int64_t lim_e,
                  int64_t lim_d, px_err *err) {
    char a[PX_AMOUNT_TEXT_MAX], b[PX_AMOUNT_TEXT_MAX], c[PX_AMOUNT_TEXT_MAX];
    if (e > lim_e - spent_e) {
        px_eps_format(a, e), px_eps_format(b, spent_e), px_eps_format(c, lim_e);
        return px_fail(err, PX_E_DENIED, "%s epsilon budget exhausted: asked %s, spent %s of %s", who, a, b, c);
    }
    if (d > lim_d - spent_d) {
        px_delta_format(a, d), px_delta_format(b, spent_d), px_delta_format(c, lim_d);
        return px_fail(err, PX_E_DENIED, "%s delta budget exhausted: asked %s, spent %s of %s", who, a, b, c);
    }
    return 0;
}

static int insert_charge(px_pod *p, const char *manifest, const px_pod_request *req, int64_t e, int64_t d,
                         px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st,
                      "INSERT INTO charges(manifest, dataset, consumer, eps, delta, state, created, updated) "
                      "VALUES(?, ?, ?, ?, ?, 1, ?, ?)",
                      err))
        return -1;
    int64_t now = px_now_ms();
    sqlite3_bind_text(st, 1, manifest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, req->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, req->consumer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, e);
    sqlite3_bind_int64(st, 5, d);
    sqlite3_bind_int64(st, 6, now);
    sqlite3_bind_int64(st, 7, now);
    int rc = 0;
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = (sqlite3_extended_errcode(px_db(p)) & 0xff) == SQLITE_CONSTRAINT
                 ? px_fail(err, PX_E_STATE, "manifest %.16s... was already admitted to dataset \"%s\"", manifest,
                           req->dataset)
                 : px_db_fail(p, "recording the charge", err);
    sqlite3_finalize(st);
    return rc;
}

static int admit_locked(px_pod *p, const char *manifest, const px_pod_request *req, int64_t e, int64_t d,
                        px_err *err) {
    px_pod_policy pol;
    int64_t id, se, sd;
    if (px_db_dataset(p, req->dataset, &id, NULL, err) || load_policy(p, req->dataset, &pol, err))
        return -1;
    int rc = px_pod_policy_check(&pol, req, err);
    if (rc == 0 && (spent(p, req->dataset, NULL, &se, &sd, err) ||
                    within("dataset", se, sd, e, d, pol.eps_total, pol.delta_total, err)))
        rc = -1;
    if (rc == 0 && (spent(p, req->dataset, req->consumer, &se, &sd, err) ||
                    within("consumer", se, sd, e, d, pol.eps_consumer, pol.delta_consumer, err)))
        rc = -1;
    /* Stages at the POD: the dataset's frequency caps, in this transaction. */
    if (rc == 0 && px_pod_request_at_pod(req))
        rc = px_pod_hosting_take(p, &pol.at_pod, manifest, req, err);
    px_pod_policy_free(&pol);
    return rc ? -1 : insert_charge(p, manifest, req, e, d, err);
}

int px_pod_admit(px_pod *p, const char *manifest_hex, const px_pod_request *req, const char *epsilon,
                 const char *delta, px_err *err) {
    int64_t e, d;
    if (manifest_check(manifest_hex, err) || px_id_check("dataset", req->dataset, err) ||
        px_id_check("consumer", req->consumer, err) || px_eps_parse(&e, epsilon, PX_ROUND_UP, err) ||
        px_delta_parse(&d, delta, PX_ROUND_UP, err))
        return px_err_prefix(err, "admission: ");
    if (px_db_begin(p, err))
        return -1;
    if (admit_locked(p, manifest_hex, req, e, d, err)) {
        px_db_rollback(p);
        return px_err_prefix(err, "admission refused: ");
    }
    return px_db_commit(p, err);
}

int px_pod_budget_refund(px_pod *p, const char *manifest_hex, const char *dataset, px_err *err) {
    if (manifest_check(manifest_hex, err))
        return -1;
    sqlite3_stmt *st;
    if (px_db_begin(p, err))
        return -1;
    if (px_db_prepare(p, &st, "SELECT state FROM charges WHERE manifest = ? AND dataset = ?", err))
        return px_db_rollback(p), -1;
    sqlite3_bind_text(st, 1, manifest_hex, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, dataset, -1, SQLITE_STATIC);
    int sr = sqlite3_step(st), rc = -1;
    int state = sr == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (sr == SQLITE_DONE)
        px_fail(err, PX_E_NOTFOUND, "no charge for manifest %.16s... on dataset \"%s\"", manifest_hex, dataset);
    else if (sr != SQLITE_ROW)
        px_db_fail(p, "reading charges", err);
    else if (state != PX_CHARGE_CHARGED)
        px_fail(err, PX_E_STATE, "charge for manifest %.16s... is %s: only a task that never started is refunded",
                manifest_hex, px_charge_state_name((px_charge_state)state));
    else if (px_db_prepare(p, &st,
                           "UPDATE charges SET state = 3, updated = ?, reason = 'refunded by the owner: the task "
                           "never started' WHERE manifest = ? AND dataset = ?",
                           err) == 0) {
        sqlite3_bind_int64(st, 1, px_now_ms());
        sqlite3_bind_text(st, 2, manifest_hex, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, dataset, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_db_fail(p, "refunding", err);
        sqlite3_finalize(st);
    }
    if (rc)
        return px_db_rollback(p), -1;
    return px_db_commit(p, err);
}

int px_pod_budget_settle(px_pod *p, const char *manifest_hex, int refund, const char *reason, size_t *changed,
                         px_err *err) {
    if (manifest_check(manifest_hex, err))
        return -1;
    if (!reason || !reason[0] || strlen(reason) > PX_CHARGE_REASON_MAX)
        return px_fail(err, PX_E_INVALID, "a settlement needs a reason of 1 to %d bytes", PX_CHARGE_REASON_MAX);
    sqlite3_stmt *st;
    if (px_db_begin(p, err))
        return -1;
    if (px_db_prepare(p, &st,
                      "UPDATE charges SET state = ?, reason = ?, updated = ? WHERE manifest = ? AND state IN (1, 2)",
                      err))
        return px_db_rollback(p), -1;
    sqlite3_bind_int(st, 1, refund ? PX_CHARGE_REFUNDED : PX_CHARGE_SPENT);
    sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, px_now_ms());
    sqlite3_bind_text(st, 4, manifest_hex, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_db_fail(p, "settling charges", err);
    sqlite3_finalize(st);
    if (rc == 0 && changed)
        *changed = (size_t)sqlite3_changes(px_db(p));
    if (rc)
        return px_db_rollback(p), -1;
    return px_db_commit(p, err);
}

int px_pod_budget_datasets(px_pod *p, char (**out)[PX_KEY_NAME_MAX + 1], size_t *n, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st, "SELECT dataset FROM policy ORDER BY dataset", err))
        return -1;
    char(*v)[PX_KEY_NAME_MAX + 1] = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char(*nv)[PX_KEY_NAME_MAX + 1] = realloc(v, (cnt + 1) * sizeof *v);
        if (!nv)
            break;
        v = nv;
        px_db_text(st, 0, v[cnt++], sizeof *v);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return rc == SQLITE_ROW ? px_fail(err, PX_E_NOMEM, "out of memory") : px_db_fail(p, "listing datasets", err);
    }
    *out = v;
    *n = cnt;
    return 0;
}

int px_pod_budget_status_get(px_pod *p, const char *dataset, const char *consumer, px_pod_budget_status *out,
                             px_err *err) {
    px_pod_policy pol;
    px_pod_budget_status st;
    if (px_db_exec(p, "BEGIN", err))
        return -1;
    int rc = load_policy(p, dataset, &pol, err);
    if (rc == 0) {
        rc = spent(p, dataset, consumer, &st.eps_spent, &st.delta_spent, err);
        st.eps_limit = consumer ? pol.eps_consumer : pol.eps_total;
        st.delta_limit = consumer ? pol.delta_consumer : pol.delta_total;
        px_pod_policy_free(&pol);
    }
    px_db_rollback(p);
    if (rc == 0)
        *out = st;
    return rc;
}

int px_pod_budget_history(px_pod *p, const char *dataset, px_pod_charge **out, size_t *n, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st,
                      "SELECT id, manifest, dataset, consumer, eps, delta, state, created, updated, reason "
                      "FROM charges WHERE ?1 IS NULL OR dataset = ?1 ORDER BY id",
                      err))
        return -1;
    if (dataset)
        sqlite3_bind_text(st, 1, dataset, -1, SQLITE_STATIC);
    px_pod_charge *v = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        px_pod_charge *nv = realloc(v, (cnt + 1) * sizeof *v);
        if (!nv)
            break;
        v = nv;
        px_pod_charge *c = &v[cnt++];
        c->id = sqlite3_column_int64(st, 0);
        px_db_text(st, 1, c->manifest, sizeof c->manifest);
        px_db_text(st, 2, c->dataset, sizeof c->dataset);
        px_db_text(st, 3, c->consumer, sizeof c->consumer);
        c->eps = sqlite3_column_int64(st, 4);
        c->delta = sqlite3_column_int64(st, 5);
        c->state = (px_charge_state)sqlite3_column_int(st, 6);
        c->created_ms = sqlite3_column_int64(st, 7);
        c->updated_ms = sqlite3_column_int64(st, 8);
        px_db_text(st, 9, c->reason, sizeof c->reason);
    }
    if (rc != SQLITE_DONE) {
        rc = rc == SQLITE_ROW ? px_fail(err, PX_E_NOMEM, "out of memory") : px_db_fail(p, "listing charges", err);
        free(v);
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    *out = v;
    *n = cnt;
    return 0;
}
