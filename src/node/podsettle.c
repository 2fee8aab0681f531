/* The POD role's settler: after a task's deadline (plus a grace for the
 * last proofs to reach the log), read the task's entries from the log as of
 * a checkpoint signed by the log key, and settle the POD's charge: spent
 * when the watched stage (the first dp stage) logged an ok proof, refunded
 * otherwise, with the reason in the ledger. Every stage releases its output
 * only after its proof is in the log, so no such proof means no result left
 * the task (docs/pod.md, "Refunds"). The ledger and the admission record
 * only move forward, so a settlement interrupted by a crash is simply done
 * again, and nothing is refunded twice. */
#include <inttypes.h>
#include <string.h>

#include "node/node.h"

#define PX_SETTLE_BATCH 64

typedef struct logref {
    char url[PX_MEMBER_URL_MAX + 8];
    px_verifier key;
} logref;

static int log_of(px_node *n, logref *l, px_err *err) {
    px_membership m;
    if (px_node_members(n, &m, err))
        return -1;
    const px_member *log = px_node_find_role(&m, PX_ROLE_LOG);
    int rc = log ? 0 : px_fail(err, PX_E_UNAVAILABLE, "the membership has no log");
    if (log) {
        snprintf(l->url, sizeof l->url, "%s/log", log->url);
        l->key = log->signing;
    }
    px_membership_free(&m);
    return rc;
}

/* The size of the log's tree, from a checkpoint signed by its key: the
 * settlement counts only entries below it, so what it read is fixed. */
static int log_size(const logref *l, uint64_t *size, px_err *err) {
    char url[PX_MEMBER_URL_MAX + 32];
    snprintf(url, sizeof url, "%s/checkpoint", l->url);
    px_buf note = PX_BUF_INIT;
    int status = 0;
    int rc = px_http_call("GET", url, NULL, 0, NULL, 0, PX_NODE_CALL_TIMEOUT_MS, 1 << 20, &status, &note, err);
    if (rc == 0 && status != 200)
        rc = px_fail(err, PX_E_UNAVAILABLE, "%s: HTTP %d", url, status);
    px_checkpoint cp;
    if (rc == 0 && px_checkpoint_open(&cp, (const char *)note.data, note.len, &l->key, NULL, err) == 0) {
        *size = cp.size;
        px_checkpoint_free(&cp);
    } else {
        rc = -1;
    }
    px_buf_free(&note);
    return rc;
}

static int settle_one(px_node *n, const logref *l, uint64_t size, const px_settle_watch *w, px_err *err) {
    px_entry *e = NULL;
    size_t ne = 0, changed = 0;
    px_settlement s;
    char mid[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(mid, w->manifest, PX_SHA256_BYTES);
    int rc = px_logread_entries(l->url, "manifest", w->manifest, &e, &ne, err) ||
             px_settle_judge(w, e, ne, size, &s, err);
    for (size_t i = 0; i < ne; i++)
        px_entry_free(&e[i]);
    free(e);
    if (rc)
        return px_err_prefix(err, "task %.16s...: ", mid);
    pthread_mutex_lock(&n->pod_mu);
    rc = px_pod_budget_settle(n->pod, mid, s.refund, s.reason, &changed, err);
    pthread_mutex_unlock(&n->pod_mu);
    if (rc == 0)
        rc = px_admissions_settled(n->admissions, w->manifest, s.refund ? "refunded" : "spent", px_now_ms(), err);
    if (rc)
        return px_err_prefix(err, "task %.16s...: ", mid);
    fprintf(stderr, "pixiud: node %s: task %.16s...: %s (%zu charge%s): %s\n", n->cfg.id, mid,
            s.refund ? "refunded" : "spent", changed, changed == 1 ? "" : "s", s.reason);
    return 0;
}

int px_node_settle_due(px_node *n, int64_t now, px_err *err) {
    int64_t grace = n->cfg.settle_grace_ms > 0 ? n->cfg.settle_grace_ms : PX_SETTLE_GRACE_MS_DEFAULT;
    px_settle_watch *w = NULL;
    size_t nw = 0;
    if (px_admissions_due(n->admissions, now - grace, PX_SETTLE_BATCH, &w, &nw, err))
        return -1;
    logref l;
    uint64_t size = 0;
    int rc = nw ? log_of(n, &l, err) || log_size(&l, &size, err) : 0;
    for (size_t i = 0; rc == 0 && i < nw; i++)
        rc = settle_one(n, &l, size, &w[i], err);
    for (size_t i = 0; i < nw; i++)
        px_settle_watch_free(&w[i]);
    free(w);
    return rc;
}

static void *settler_main(void *arg) {
    px_node *n = arg;
    int64_t every = n->cfg.settle_every_ms > 0 ? n->cfg.settle_every_ms : PX_SETTLE_EVERY_MS_DEFAULT;
    pthread_mutex_lock(&n->mu);
    while (!n->settler_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += every / 1000;
        ts.tv_nsec += (every % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&n->settler_cv, &n->mu, &ts);
        if (n->settler_stop)
            break;
        pthread_mutex_unlock(&n->mu);
        px_err err = {0};
        if (px_node_settle_due(n, px_now_ms(), &err))
            fprintf(stderr, "pixiud: node %s: settling charges: %s (tried again later)\n", n->cfg.id, err.msg);
        /* Serving instances at the POD end at their deadline (podserve.c). */
        px_node_pod_tasks_reap(n, px_now_ms());
        pthread_mutex_lock(&n->mu);
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

int px_node_settler_start(px_node *n, px_err *err) {
    n->settler_stop = 0;
    if (pthread_create(&n->settler, NULL, settler_main, n))
        return px_fail(err, PX_E_IO, "cannot start the settler thread");
    n->settler_started = 1;
    return 0;
}

void px_node_settler_stop(px_node *n) {
    if (!n->settler_started)
        return;
    pthread_mutex_lock(&n->mu);
    n->settler_stop = 1;
    pthread_cond_signal(&n->settler_cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->settler, NULL);
    n->settler_started = 0;
}
