/* The explorer on a node (docs/explorer.md): started on log and POD nodes,
 * handed the node's log, POD database and membership, and the trust
 * `pixiu audit` would use on this machine: the membership's keys and the
 * build this machine runs (computed once, the first time it is needed, on
 * a node that does not run instances). */
#include <string.h>

#include "node/node.h"

typedef struct ui_trust {
    px_node_trust t;
    px_tee_build reference; /* a copy: the node may refresh its own */
} ui_trust;

static int ui_members(void *ctx, px_membership *out, px_err *err) {
    return px_node_members(ctx, out, err);
}

/* The log view's cosignatures: this log node asks each witness to cosign
 * its checkpoint, as a log with witnesses does, signed with its node key
 * (the witness cosigns for members with the log role). */
#define PX_UI_WITNESS_TIMEOUT_MS 5000

typedef struct ui_witness {
    px_node *n;
    const px_member *w;
} ui_witness;

static int ui_post(void *ctx, const uint8_t *body, size_t len, int *status, px_buf *out, px_err *err) {
    const ui_witness *u = ctx;
    return px_signed_call(&u->n->key, u->n->cfg.id, u->w->id, "POST", u->w->url, "/witness/add-checkpoint", body, len,
                          PX_UI_WITNESS_TIMEOUT_MS, 1 << 16, status, out, err);
}

static int ui_consistency(void *ctx, uint64_t size1, uint64_t size2, px_buf *out, px_err *err) {
    px_node *n = ctx;
    return px_log_consistency(n->log, size1, size2, out, err);
}

static int ui_cosign(void *ctx, const char *note, size_t len, px_buf *out, px_err *err) {
    px_node *n = ctx;
    px_membership m;
    if (px_node_members(n, &m, err))
        return -1;
    int rc = px_buf_append(out, note, len, err);
    for (size_t i = 0; rc == 0 && i < m.n; i++) {
        if (!(m.nodes[i].roles & PX_ROLE_WITNESS))
            continue;
        ui_witness u = {n, &m.nodes[i]};
        uint64_t old = 0;
        size_t mark = out->len;
        /* A witness that is away, or ahead (a consumer had it cosign a
         * newer checkpoint meanwhile), adds no line this time. */
        if (px_witness_request_via(ui_post, &u, note, len, ui_consistency, n, &old, out, NULL))
            out->len = mark;
    }
    px_membership_free(&m);
    return rc;
}

/* The node's build, computed now if it has none; n->build_mu held. */
static const px_lambda_build *own_build(px_node *n, px_err *err) {
    if (n->build)
        return n->build;
    if (!n->ui_build && px_node_build(&n->ui_build, n->cfg.worker, err))
        return NULL;
    return n->ui_build;
}

static int ui_trust_get(void *ctx, px_explorer_trust *out, px_err *err) {
    px_node *n = ctx;
    ui_trust *u = calloc(1, sizeof *u);
    px_membership m;
    if (!u)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    if (px_node_members(n, &m, err)) {
        free(u);
        return -1;
    }
    pthread_mutex_lock(&n->build_mu);
    const px_lambda_build *b = own_build(n, err);
    uint8_t digest[PX_SHA256_BYTES];
    if (b) {
        u->reference = b->build;
        memcpy(digest, b->digest, sizeof digest);
    }
    pthread_mutex_unlock(&n->build_mu);
    int rc = b ? px_node_trust_init(&u->t, &m, (const uint8_t(*)[PX_SHA256_BYTES])digest, 1, &u->reference, err)
               : px_err_prefix(err, "the build of this machine: ");
    px_membership_free(&m);
    if (rc) {
        free(u);
        return -1;
    }
    out->pods = u->t.pods;
    out->npods = u->t.npods;
    out->exec = u->t.exec;
    out->owner = u;
    return 0;
}

static void ui_trust_put(void *ctx, px_explorer_trust *t) {
    ui_trust *u = t->owner;
    if (u) {
        px_node_trust_free(&u->t);
        free(u);
    }
    memset(t, 0, sizeof *t);
}

int px_node_ui_start(px_node *n, px_err *err) {
    if (!(n->cfg.roles & (PX_ROLE_LOG | PX_ROLE_POD)))
        return 0;
    px_explorer_opts o = {.node_id = n->cfg.id, .roles = n->cfg.roles, .log = n->log, .pod = n->pod,
                          .pod_mu = &n->pod_mu, .members = ui_members, .cosign = n->log ? ui_cosign : NULL,
                          .trust_get = ui_trust_get,
                          .trust_put = ui_trust_put, .ctx = n};
    return px_explorer_new(&n->explorer, &o, err);
}

void px_node_ui_stop(px_node *n) {
    px_explorer_free(n->explorer);
    n->explorer = NULL;
    if (n->ui_build)
        px_node_build_free(n->ui_build);
    n->ui_build = NULL;
}
