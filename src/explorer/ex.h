/* The explorer's internals, shared by its files (not a public contract):
 *   explorer.c  routing, pages, assets, headers, JSON or HTML
 *   ex_index.c  the tasks and append times found by reading the log once
 *   ex_log.c    the log, one entry, a digest's lineage, search, a node
 *   ex_task.c   a task: summary, chain of proofs, audit
 *   ex_pod.c    a POD's own views and its owner's sign-in */
#ifndef PX_EXPLORER_EX_H
#define PX_EXPLORER_EX_H

#include "exec/util.h"
#include "pixiu/explorer.h"

/* A task seen in the log: a manifest with a plan (or plan part) entry. */
typedef struct ex_task {
    uint8_t id[PX_SHA256_BYTES];
    uint64_t first; /* its first plan or plan-part entry */
    json_t *summary; /* cached once its verdict is final (ok or failed), else NULL */
} ex_task;

#define EX_NONCES 256 /* sign-in links remembered at once */

typedef struct ex_session {
    uint8_t token_hash[PX_SHA256_BYTES];
    int64_t expires; /* 0: free */
} ex_session;

struct px_explorer {
    px_explorer_opts o;
    char node_id[PX_MEMBER_ID_MAX + 1];
    pthread_mutex_t mu; /* everything below */
    uint64_t scanned;   /* entries read into the index */
    int64_t *times;     /* per entry: the time its statement states (ms), or the previous entry's */
    size_t cap_times;
    ex_task *tasks;     /* in order of first appearance */
    size_t ntasks, cap_tasks;
    size_t *slots;      /* open addressing over tasks by id: index + 1, 0 empty */
    size_t nslots;
    ex_session sessions[PX_EXPLORER_SESSIONS_MAX];
    px_buf cosigned;    /* the checkpoint as the witnesses last cosigned it for the log view */
    int64_t cosigned_at; /* when they were asked (ms), 0 never */
    int cosigning;       /* a request to them is under way */
    int64_t started; /* sign-in links signed before are refused */
    uint8_t nonces[EX_NONCES][PX_REQ_NONCE_BYTES];
    int64_t nonce_time[EX_NONCES]; /* 0: free */
};

/* ---- a view's answer ------------------------------------------------------------ */

typedef struct ex_req {
    px_explorer *x;
    const px_http_request *req;
    px_http_response *resp;
    const char *rest; /* the path after the view's prefix */
} ex_req;

/* Reply with JSON o (consumed), 200. */
void ex_json(ex_req *r, json_t *o);
/* Reply 200 with body (taken) of the given type. */
void ex_reply(ex_req *r, const char *type, px_buf *body);
/* Reply with the error's status and {"error": msg}. */
void ex_fail(ex_req *r, const px_err *err);
/* The value of query parameter name (decoded, at most cap-1 bytes), or NULL. */
const char *ex_query(const px_http_request *req, const char *name, char *out, size_t cap);

/* ---- the index (ex_index.c) ----------------------------------------------------- */

/* Read the entries appended since the last call; x->mu held. */
int ex_index_update(px_explorer *x, px_err *err);
/* The task with this id, or NULL; x->mu held. */
ex_task *ex_index_find(px_explorer *x, const uint8_t id[PX_SHA256_BYTES]);
void ex_index_free(px_explorer *x);

/* ---- reading the local log ------------------------------------------------------ */

/* Entries under (kind, digest), parsed (those that do not parse skipped).
 * Free with ex_entries_free. */
int ex_entries(px_explorer *x, px_log_key_kind kind, const uint8_t digest[PX_SHA256_BYTES], px_entry **out,
               size_t *n, px_err *err);
void ex_entries_free(px_entry *e, size_t n);
/* The current checkpoint's size. */
int ex_size(px_explorer *x, uint64_t *size, px_err *err);
/* {"index", "size", "proof": [b64...]}: entry index's inclusion in the tree of size. */
json_t *ex_inclusion(px_explorer *x, uint64_t index, uint64_t size, px_err *err);
const char *ex_kind_name(px_entry_kind k);

/* ---- views ---------------------------------------------------------------------- */

void ex_view_overview(ex_req *r);
void ex_view_log(ex_req *r);
void ex_view_entry(ex_req *r);
void ex_view_digest(ex_req *r);
void ex_view_search(ex_req *r);
void ex_view_node(ex_req *r);
void ex_view_verify(ex_req *r);
void ex_view_tasks(ex_req *r);
void ex_view_task(ex_req *r);
void ex_view_pod(ex_req *r);

/* A task's one-line summary (ex_task.c): cached when final. x->mu held. */
json_t *ex_task_summary(px_explorer *x, ex_task *t, int64_t now, px_err *err);

/* POD views answer 401 unless the request carries a live session, and
 * the sign-in link (a signed request from the node to itself) opens one. */
void ex_pod_login(ex_req *r);
int ex_pod_authorized(px_explorer *x, const px_http_request *req);

/* Hex of a digest, for JSON. */
void ex_hex(char out[2 * PX_SHA256_BYTES + 1], const uint8_t d[PX_SHA256_BYTES]);
/* A 64-hex path segment (exactly, nothing after it but end or '/'). */
int ex_parse_digest(const char *s, uint8_t out[PX_SHA256_BYTES], const char **after);

#endif
