/* PIXIU explorer: a read-only web view of a node, served by pixiud under
 * /ui/ (docs/explorer.md).
 *
 * On a log node it shows the log (size, checkpoint, cosignatures, appends
 * over time), the tasks found in it, each task's chain of proofs with
 * their inclusion proofs and the audit's verdict, the lineage of any digest
 * and a page that checks a receipt in the browser. On a POD node it shows
 * the POD's own releases and budget ledger to its owner, who signs in with
 * a link signed by the node's own key (`pixiu ui login`).
 *
 * Every view is one URL: a browser gets the page (static HTML, CSS and
 * JavaScript embedded in the binary, under a strict Content-Security-
 * Policy), a client asking for JSON (`?format=json` or `Accept:
 * application/json`) gets the data the page shows. Where the CLI has a
 * --json form of the same thing (`pixiu audit`, `pixiu trace`, `pixiu pod
 * budget show`, `pixiu pod releases`) the JSON is exactly that.
 *
 * Everything read from the log is hostile input: it is parsed by the same
 * code as the audit and rendered by the pages as text, never as markup.
 */
#ifndef PIXIU_EXPLORER_H
#define PIXIU_EXPLORER_H

#include <pthread.h>

#include "pixiu/exec.h"
#include "pixiu/http.h"
#include "pixiu/log.h"
#include "pixiu/net.h"
#include "pixiu/pod.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the explorer audits and traces with: the same trust as `pixiu
 * audit` run on the node's machine (the membership's keys, the node's own
 * build). Filled by the node; handed back to trust_put. */
typedef struct px_explorer_trust {
    const px_pod_key *pods;
    size_t npods;
    px_exec_trust exec;
    void *owner; /* the node's */
} px_explorer_trust;

typedef struct px_explorer_opts {
    const char *node_id;
    unsigned roles;         /* PX_ROLE_* of the node */
    px_log *log;            /* the log role's service, or NULL */
    px_pod *pod;            /* the POD role's database, or NULL */
    pthread_mutex_t *pod_mu; /* held around every use of pod */
    /* The current membership (a copy the explorer frees). */
    int (*members)(void *ctx, px_membership *out, px_err *err);
    /* Ask every witness of the membership to cosign the log's checkpoint
     * note (NULL: the log view shows only the cosignatures the note
     * carries); cosigned gets the note with their lines added. */
    int (*cosign)(void *ctx, const char *note, size_t len, px_buf *cosigned, px_err *err);
    int (*trust_get)(void *ctx, px_explorer_trust *t, px_err *err);
    void (*trust_put)(void *ctx, px_explorer_trust *t);
    void *ctx;
} px_explorer_opts;

typedef struct px_explorer px_explorer;

#define PX_EXPLORER_SESSION_MS (8 * 3600 * 1000LL) /* a POD owner's sign-in lasts this long */
#define PX_EXPLORER_SESSIONS_MAX 64
#define PX_EXPLORER_PAGE_MAX 100                    /* tasks per page */
#define PX_EXPLORER_COSIGN_EVERY_MS 30000           /* the log view asks the witnesses at most this often */

int px_explorer_new(px_explorer **out, const px_explorer_opts *o, px_err *err);
void px_explorer_free(px_explorer *x);

/* 1 if the explorer serves this path (GET /ui or below). */
int px_explorer_path(const char *path);
/* Answer one GET or HEAD request under /ui/ (thread-safe). */
void px_explorer_handle(px_explorer *x, const px_http_request *req, px_http_response *resp);

/* The sign-in link of a POD owner: a request from the node to itself,
 * GET /ui/pod/login, signed with the node's key (docs/network.md); the
 * signature travels in the query. Appends "/ui/pod/login?..." to out. */
int px_explorer_login_path(px_buf *out, const px_signer *key, const char *node_id, int64_t now_ms, px_err *err);

#ifdef __cplusplus
}
#endif
#endif
