/* pixiud's front door: what it decides about a request from its headers
 * alone, before any of the body is read (docs/reliability.md).
 *
 * - Public reads (health, the log's tiles and proofs) carry no body.
 * - Everything else must be signed by a member: the signature covers the
 *   body's digest (declared in a header), so it is checked first; the body
 *   is then read up to the route's own limit and must have that digest.
 * - The witness cosigns for the members that need cosigned checkpoints
 *   (consumers and logs) and nobody else.
 * - Each member has quotas: requests in flight and body bytes in flight,
 *   so one member, however busy or hostile, cannot take the node's
 *   threads or memory from the others.
 * An unknown route, an unsigned request, a stranger, a body over its
 * route's limit and a member over quota are all answered before the body
 * is read. */
#include <string.h>

#include "node/node.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

/* A route: where it is, which role serves it, its body limit, and who may
 * call it (0: any member). */
typedef struct route_rule {
    const char *method, *path;
    int prefix;
    unsigned role;   /* the node must play it */
    size_t max_body;
    unsigned callers; /* roles the sender must have one of; 0: any member */
} route_rule;

static const route_rule rules[] = {
    {"POST", "/v1/admit", 0, PX_ROLE_POD, PX_PLAN_MAX_BYTES, 0},
    /* Stages at the POD: the code (and content) sealed to its instances. */
    {"POST", "/v1/pod-run", 0, PX_ROLE_POD, PX_NODE_BODY_MAX, 0},
    /* A request to a serving instance at the POD (fl-user), as /v1/pod-run. */
    {"POST", "/v1/pod-serve", 0, PX_ROLE_POD, PX_NODE_BODY_MAX, 0},
    {"POST", "/v1/recruit", 0, PX_ROLE_EXECUTOR, 4 * MIB, 0},
    {"POST", "/v1/step", 0, PX_ROLE_EXECUTOR, PX_NODE_BODY_MAX, 0},
    {"POST", "/v1/drop", 0, PX_ROLE_EXECUTOR, 64 * KIB, 0},
    /* A PIR query: one 32-bit word per column, base64 in JSON. */
    {"POST", "/v1/serve", 0, PX_ROLE_EXECUTOR, 8 * MIB, 0},
    {"POST", "/log/add", 0, PX_ROLE_LOG, MIB, 0},
    /* Polls (docs/polls.md): the conductor opens and closes its issuer and
     * boxes and recruits the tally; members ask the issuer for tokens. */
    {"POST", "/v1/poll/issuer/key", 0, PX_ROLE_ISSUER, MIB, 0},
    {"POST", "/v1/poll/issuer/open", 0, PX_ROLE_ISSUER, MIB, 0},
    {"POST", "/v1/poll/issue", 0, PX_ROLE_ISSUER, MIB, 0},
    {"POST", "/v1/poll/issuer/close", 0, PX_ROLE_ISSUER, MIB, 0},
    {"POST", "/v1/poll/box/open", 0, PX_ROLE_EXECUTOR, MIB, 0},
    {"POST", "/v1/poll/box/release", 0, PX_ROLE_EXECUTOR, MIB, 0},
    {"POST", "/v1/poll/recruit", 0, PX_ROLE_EXECUTOR, 4 * MIB, 0},
    {"POST", "/witness/add-checkpoint", 0, PX_ROLE_WITNESS, 64 * KIB, PX_ROLE_CONSUMER | PX_ROLE_LOG},
};

static const route_rule *find_rule(const px_node *n, const px_http_request *req) {
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if ((n->cfg.roles & rules[i].role) && !strcmp(req->method, rules[i].method) &&
            !strcmp(req->path, rules[i].path))
            return &rules[i];
    return NULL;
}

/* A ballot is the one unsigned write: a box must not learn which member
 * votes, so it is checked by its token, not its sender (docs/polls.md). */
#define BALLOT_MAX_BODY (64 * KIB)

static int is_ballot(const px_node *n, const px_http_request *req) {
    return (n->cfg.roles & PX_ROLE_EXECUTOR) && !strcmp(req->method, "POST") && !strcmp(req->path, "/v1/poll/ballot");
}

/* Public reads: no body, no signature. */
static int is_public(const px_node *n, const px_http_request *req) {
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
        return 0;
    return !strcmp(req->path, "/v1/health") || (n->log && !strncmp(req->path, "/log/", 5)) ||
           (n->explorer && px_explorer_path(req->path));
}

/* ---- quotas --------------------------------------------------------------------- */

static px_node_quota *quota_of(px_node *n, const char *member) {
    px_node_quota *free_slot = NULL;
    for (size_t i = 0; i < PX_NODE_QUOTA_SLOTS; i++) {
        px_node_quota *q = &n->quotas[i];
        if (q->requests && !strcmp(q->member, member))
            return q;
        if (!q->requests && !free_slot)
            free_slot = q;
    }
    if (free_slot)
        snprintf(free_slot->member, sizeof free_slot->member, "%s", member);
    return free_slot;
}

static int quota_take(px_node *n, const char *member, uint64_t bytes, px_err *err) {
    const px_node_limits *l = &n->cfg.limits;
    int rc = 0;
    pthread_mutex_lock(&n->quota_mu);
    px_node_quota *q = quota_of(n, member);
    if (!q)
        rc = px_fail(err, PX_E_LIMIT, "node %s serves too many members at once", n->cfg.id);
    else if (q->requests >= l->member_requests)
        rc = px_fail(err, PX_E_LIMIT, "member %s has %u requests in flight on node %s, its quota", member,
                     q->requests, n->cfg.id);
    else if (q->bytes + bytes > l->member_bytes)
        rc = px_fail(err, PX_E_LIMIT,
                     "member %s would have %llu body bytes in flight on node %s, over its quota of %llu", member,
                     (unsigned long long)(q->bytes + bytes), n->cfg.id, (unsigned long long)l->member_bytes);
    else {
        q->requests++;
        q->bytes += bytes;
    }
    pthread_mutex_unlock(&n->quota_mu);
    return rc;
}

static void quota_give(px_node *n, const char *member, uint64_t bytes) {
    pthread_mutex_lock(&n->quota_mu);
    for (size_t i = 0; i < PX_NODE_QUOTA_SLOTS; i++) {
        px_node_quota *q = &n->quotas[i];
        if (q->requests && !strcmp(q->member, member)) {
            q->requests--;
            q->bytes -= bytes <= q->bytes ? bytes : q->bytes;
            break;
        }
    }
    pthread_mutex_unlock(&n->quota_mu);
}

/* ---- the gate ------------------------------------------------------------------- */

static void refuse(px_http_gate *g, int status, const px_err *err) {
    g->status = status;
    snprintf(g->msg, sizeof g->msg, "%s", err->msg);
}

static int verify_head(px_node *n, const px_http_request *req, px_member *sender, uint8_t digest[PX_SHA256_BYTES],
                       px_err *err) {
    const px_member *who = NULL;
    pthread_mutex_lock(&n->mu);
    int rc = px_node_reload_members_locked(n, err);
    if (rc == 0)
        rc = px_request_verify_head(&n->members, n->cfg.id, n->replay, req, px_now_ms(), digest, &who, err);
    if (rc == 0)
        *sender = *who;
    pthread_mutex_unlock(&n->mu);
    return rc;
}

void px_node_gate(void *ctx, const px_http_request *req, px_http_gate *g) {
    px_node *n = ctx;
    px_err err = {0};
    if (is_public(n, req)) {
        g->max_body = 0;
        return;
    }
    if (is_ballot(n, req)) {
        g->max_body = BALLOT_MAX_BODY;
        return;
    }
    const route_rule *r = find_rule(n, req);
    if (!r) {
        px_fail(&err, PX_E_NOTFOUND, "no such resource on node %s: %s %s", n->cfg.id, req->method, req->path);
        return refuse(g, 404, &err);
    }
    px_node_auth *a = calloc(1, sizeof *a);
    if (!a) {
        px_fail(&err, PX_E_NOMEM, "out of memory");
        return refuse(g, 503, &err);
    }
    if (verify_head(n, req, &a->sender, a->digest, &err)) {
        free(a);
        return refuse(g, px_request_refusal_status(err.code), &err);
    }
    if (r->callers && !(a->sender.roles & r->callers)) {
        px_fail(&err, PX_E_DENIED, "member %s may not ask for %s on node %s", a->sender.id, req->path, n->cfg.id);
        free(a);
        return refuse(g, 403, &err);
    }
    /* Bytes in flight are counted at the declared length (the body cannot
     * grow past it: the server stops at the limit). */
    const char *cl = px_http_request_header(req, "Content-Length");
    uint64_t len = cl ? strtoull(cl, NULL, 10) : r->max_body;
    if (len > r->max_body)
        len = r->max_body;
    if (quota_take(n, a->sender.id, len, &err)) {
        free(a);
        return refuse(g, 429, &err);
    }
    a->bytes = len;
    g->max_body = r->max_body;
    g->token = a;
}

void px_node_gate_done(void *ctx, void *token) {
    px_node *n = ctx;
    px_node_auth *a = token;
    if (!a)
        return;
    quota_give(n, a->sender.id, a->bytes);
    free(a);
}
