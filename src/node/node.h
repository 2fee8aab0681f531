/* pixiud's internals shared with the pixiu command (not a public contract):
 * turning the membership into the trust the executor checks against. */
#ifndef PX_NODE_NODE_H
#define PX_NODE_NODE_H

#include <stdio.h>

#include "pixiu/exec.h"
#include "pixiu/lambda.h"
#include "pixiu/net.h"
#include "pixiu/node.h"

/* What an auditor or a POD trusts, derived from the membership: the
 * platform key of every node that has one, the signing key of every POD,
 * and the accepted builds (docs/tee.md). Owns its arrays. */
typedef struct px_node_trust {
    px_node_platform *platforms;
    size_t nplatforms;
    px_pod_key *pods;
    size_t npods;
    uint8_t (*builds)[PX_SHA256_BYTES];
    size_t nbuilds;
    px_exec_trust exec; /* points into the arrays above, and at reference */
} px_node_trust;

/* The log a reader (audit, trace) reads: the URL given, which may be a
 * log's or a node's (its log is under /log), or else the membership's log
 * node; out holds cap bytes. */
int px_node_log_url(const px_membership *m, const char *given, char *out, size_t cap, px_err *err);

/* builds: the accepted build digests (copied); reference (borrowed, may be
 * NULL) is the checking party's own build, against which a refusal names
 * the component that differs. */
int px_node_trust_init(px_node_trust *t, const px_membership *m, const uint8_t (*builds)[PX_SHA256_BYTES],
                       size_t nbuilds, const px_tee_build *reference, px_err *err);
void px_node_trust_free(px_node_trust *t);

/* The build this process would run instances with: the worker at worker
 * (NULL: pixiu_worker next to the running executable) and the sandbox's
 * tools found through the environment. *out is allocated; free it with
 * px_node_build_free. */
int px_node_build(px_lambda_build **out, const char *worker, px_err *err);
void px_node_build_free(px_lambda_build *b);
/* Print a build: "build <hex>", "version <v>", then one line per component
 * "<sha256 hex>  <name>  <path>"; or as JSON. */
void px_node_build_print(FILE *f, const px_lambda_build *b, int json);
/* Hex build digests from the command line (64 hex characters each). */
int px_node_builds_parse(uint8_t (*out)[PX_SHA256_BYTES], char *const *hex, size_t n, px_err *err);

/* The path of a PIXIU program (pixiu_worker, the runner): next to the
 * running executable, or in PREFIX/libexec/pixiu (px_file_installed). */
int px_node_sibling_path(char *out, size_t cap, const char *name, px_err *err);

#endif

/* ---- the node daemon ---------------------------------------------------------- */

#include <pthread.h>
#include <sys/stat.h>

#include "pixiu/explorer.h"
#include "pixiu/lambda.h"
#include "pixiu/log.h"
#include "pixiu/pod.h"
#include "pixiu/poll.h"

#define PX_NODE_PATH_MAX 1024
#define PX_NODE_MAX_INSTANCES 4096
#define PX_NODE_BODY_MAX (256u << 20)
#define PX_NODE_CALL_TIMEOUT_MS 120000

/* What one node grants (docs/reliability.md): connections per client
 * address and the time a request's header may take; per member, requests
 * and body bytes in flight and instances hosted; an instance's idle time
 * between recruitment and its step, and the furthest deadline a task may
 * set. Config key "limits"; 0 = default. */
typedef struct px_node_limits {
    unsigned per_address;
    unsigned member_requests;
    uint64_t member_bytes;
    unsigned member_instances;
    int64_t idle_ms;
    int64_t deadline_max_ms;
    unsigned header_ms; /* a request's whole header must arrive within this */
} px_node_limits;

#define PX_NODE_PER_ADDRESS_DEFAULT 64
#define PX_NODE_MEMBER_REQUESTS_DEFAULT 64
#define PX_NODE_MEMBER_BYTES_DEFAULT (768ull << 20)
#define PX_NODE_MEMBER_INSTANCES_DEFAULT 64
#define PX_NODE_IDLE_MS_DEFAULT (10 * 60 * 1000LL)
#define PX_NODE_DEADLINE_MAX_MS_DEFAULT (24 * 3600 * 1000LL)
#define PX_NODE_HEADER_MS_DEFAULT 10000
#define PX_NODE_QUOTA_SLOTS 256

/* Fill the zero fields of l with the defaults. */
void px_node_limits_default(px_node_limits *l);

/* The node config file (docs/executor.md, "pixiud"). Paths are relative to
 * the node directory unless absolute. */
typedef struct px_node_config {
    char id[PX_MEMBER_ID_MAX + 1];
    char dir[PX_NODE_PATH_MAX];
    char listen[64];
    uint16_t port;
    char port_file[PX_NODE_PATH_MAX]; /* "" = none */
    char membership[PX_NODE_PATH_MAX];
    char key[PX_NODE_PATH_MAX];
    char platform_key[PX_NODE_PATH_MAX]; /* executors */
    char worker[PX_NODE_PATH_MAX];       /* "" = pixiu_worker next to pixiud */
    unsigned roles;
    /* POD role: settle charges this long after a task's deadline, checking
     * every settle_every_ms (docs/pod.md, "Refunds"). */
    int64_t settle_grace_ms, settle_every_ms;
    px_node_limits limits;
} px_node_config;

#define PX_SETTLE_GRACE_MS_DEFAULT 60000
#define PX_SETTLE_EVERY_MS_DEFAULT 10000

int px_node_config_load(px_node_config *c, const char *path, px_err *err);

typedef struct px_node_instance {
    int used;
    uint8_t id[PX_SIGN_PUBLICKEYBYTES]; /* the instance's signing key */
    uint8_t manifest[PX_SHA256_BYTES];
    char consumer[PX_MEMBER_ID_MAX + 1];
    /* Dropped, if it has not started its step, at the earlier of its
     * manifest's deadline and its recruitment + the node's idle limit. */
    int64_t expires;
    int64_t deadline; /* the manifest's: a serving instance answers until then */
    int busy;
    px_lambda_host host;
    /* A serving kind (pir) whose step succeeded stays, answering its
     * consumer's requests until the deadline (src/node/serve.c). */
    int serves, stepped;
    uint8_t output[PX_SHA256_BYTES]; /* the proof's subject */
} px_node_instance;

/* One member's use of the node, for its quotas. */
typedef struct px_node_quota {
    char member[PX_MEMBER_ID_MAX + 1];
    unsigned requests; /* 0: the slot is free */
    uint64_t bytes;
} px_node_quota;

/* What the front door established about a request (px_http_request.auth). */
typedef struct px_node_auth {
    px_member sender;
    uint8_t digest[PX_SHA256_BYTES]; /* of the body, as signed */
    uint64_t bytes;                  /* counted against the sender's quota */
} px_node_auth;

typedef struct px_node {
    px_node_config cfg;
    px_signer key, platform;
    pthread_mutex_t mu; /* membership, instances */
    px_membership members;
    struct stat members_st;
    px_replay *replay;
    px_http_server *srv;
    px_log *log;
    px_witness *witness;
    px_witness_log *wlogs;
    px_witness_service wsvc;
    px_pod *pod;
    pthread_mutex_t pod_mu; /* the POD database: one connection, many threads */
    px_admissions *admissions;
    pthread_t settler;      /* POD role: settles charges past their deadline */
    int settler_started, settler_stop;
    pthread_cond_t settler_cv;
    px_node_instance *inst;
    size_t ninst;
    pthread_t reaper; /* executor role: drops instances past their time */
    int reaper_started, reaper_stop;
    pthread_cond_t reaper_cv;
    pthread_mutex_t quota_mu;
    px_node_quota quotas[PX_NODE_QUOTA_SLOTS];
    /* The build its instances run (executor) and that it accepts by
     * default (POD); NULL when it could not be computed on a POD-only node.
     * build_mu guards its refresh. */
    px_lambda_build *build;
    pthread_mutex_t build_mu;
    /* Warm workers of the build's worker (docs/lambda.md "Warm instances"):
     * every instance this node starts, executor or POD side, takes one. */
    px_lambda_pool *pool;
    /* POD role with a platform key: it hosts stages placed at the POD
     * (podhost.c), one task slot per campaign admitted and not yet run (or
     * serving, until its deadline). */
    int hosts;
    struct px_pod_task *tasks;
    size_t ntasks;
    px_poll_issuer *issuer; /* issuer role: poll keys and tokens issued */
    px_poll_box *box;       /* executors: the ballots they collect */
    /* The explorer under /ui/ (log and POD nodes; src/node/ui.c), and the
     * build it audits with on a node that runs no instances. */
    px_explorer *explorer;
    px_lambda_build *ui_build;
} px_node;

int px_node_start(px_node *n, const px_node_config *cfg, px_err *err);
/* Stops serving (in-flight requests finish), kills instances, closes state. */
void px_node_stop(px_node *n);

/* Copy of the current membership (reloaded when its file changed). */
int px_node_members(px_node *n, px_membership *out, px_err *err);
/* Reload the membership if its file changed; n->mu held. */
int px_node_reload_members_locked(px_node *n, px_err *err);

/* The front door (frontdoor.c): px_http_gate_fn and px_http_done_fn. */
void px_node_gate(void *ctx, const px_http_request *req, px_http_gate *g);
void px_node_gate_done(void *ctx, void *token);
/* Append an entry to the network's log (the member with role log). */
int px_node_log_append(px_node *n, const uint8_t *entry, size_t len, uint64_t *index, px_err *err);

/* POD role: settle every admitted task whose deadline + grace has passed
 * by `now` (refund or spent, by the log); the settler thread calls it. */
int px_node_settle_due(px_node *n, int64_t now, px_err *err);
int px_node_settler_start(px_node *n, px_err *err);
void px_node_settler_stop(px_node *n);
/* Warm workers kept per kind profile (built-in, task code). */
#define PX_NODE_WARM_WORKERS 2
/* Executor role: a thread that drops expired idle instances every few s. */
#define PX_NODE_REAP_EVERY_S 1
int px_node_reaper_start(px_node *n, px_err *err);
void px_node_reaper_stop(px_node *n);

/* What a started instance is kept for. */
typedef struct px_node_instance_spec {
    const char *consumer;    /* the member that recruited it */
    const uint8_t *manifest; /* its task's manifest id, or NULL (a poll's tally) */
    int64_t deadline;        /* within the node's deadline_max_ms */
    int serves;              /* a serving kind: it stays after an ok step */
    /* Waits for its deadline by design (a poll's tally instance waits for
     * the close): the idle limit does not apply, the deadline cap and the
     * quota do. */
    int waits;
} px_node_instance_spec;

/* Keep a started instance (h is moved in on success) until its step or,
 * idle, until the earlier of its deadline and the node's idle limit: -1
 * with err when the deadline is beyond the node's reach, the consumer is
 * at its instance quota or the node hosts too many. */
int px_node_instance_add(px_node *n, const px_node_instance_spec *s, const px_lambda_host *h, px_err *err);

/* Role handlers: reply in resp; sender is the verified member. */
void px_node_recruit(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp);
void px_node_step(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp);
/* The consumer gives up instances it recruited (its plan was refused). */
void px_node_drop(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp);
void px_node_admit(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp);
/* POD role, stages at the POD (podhost.c): run the POD-side instances a
 * plan's admission started, with the code the consumer sealed to them. */
void px_node_pod_run(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp);
void px_node_pod_tasks_free(px_node *n);
/* A campaign (task) this POD hosts stages of, from its admission to its
 * run, or to its deadline when its last instance serves. */
typedef struct px_pod_task {
    int used, busy;
    uint8_t manifest[PX_SHA256_BYTES];
    char consumer[PX_MEMBER_ID_MAX + 1];
    int64_t deadline;
    uint32_t k, pos;
    px_lambda_host host[PX_MANIFEST_MAX_STAGES];
    int started[PX_MANIFEST_MAX_STAGES]; /* a worker to reap */
    px_buf config[PX_MANIFEST_MAX_STAGES];
    uint8_t nonce[PX_MANIFEST_MAX_STAGES][PX_TEE_NONCE_BYTES];
    int has_inbox;
    px_box_keypair inbox;
    px_manifest m; /* owned: the manifest it runs */
    /* Ran (never again); its last instance (host[k - 1]) serves requests
     * over the output its ok proof names until the deadline (podserve.c). */
    int ran, serving;
    uint8_t output[PX_SHA256_BYTES];
} px_pod_task;
/* Free a task slot's workers and state; n->mu held (or the node stopping). */
void px_node_pod_task_clear(px_pod_task *t);
/* The task of manifest mid at this POD, if sender is its consumer; NULL
 * naming why not. The caller holds n->mu. */
px_pod_task *px_node_pod_task_find(px_node *n, const uint8_t *mid, const px_member *sender, px_err *err);
/* Drop the tasks past their deadline that nothing is using (serving ones
 * included); the POD's settler calls it every settle_every_ms. */
void px_node_pod_tasks_reap(px_node *n, int64_t now);
/* 1 for the kinds whose instance stays after an ok step to serve its
 * consumer (px_stage_kind.serve): pir, fl-user. */
int px_node_kind_serves(px_stage_type k);
/* After the run of t: its last instance serves if its ok proof (res)
 * verifies under its key; sets t->serving and t->output. */
void px_node_pod_serving_keep(px_pod_task *t, const px_step_result *res);
/* POST /v1/pod-serve {"manifest": hex, "request": b64} from the task's
 * consumer: one request to the serving instance, {"response", "signature"}
 * back (podserve.c). */
void px_node_pod_serve(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp);
void px_node_serve(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp);
/* After a serving instance's ok step: keep it (1) with the output its proof
 * names, or 0 when the proof does not read (then it is dropped). */
int px_node_serving_keep(px_node *n, px_node_instance *in, const px_step_result *res);

/* Polls (pollrole.c, docs/polls.md): the issuer's and the ballot box's
 * endpoints and the tally's recruitment; /v1/poll/ballot is the one
 * request taken unsigned (sender NULL), so a box is not told who votes. */
void px_node_poll(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp);

/* A poll statement checked against the membership (pollcheck.c): the
 * survey's conductor, issuer and boxes are members with those keys, and
 * the tally instance's evidence verifies under its node's platform key
 * with an accepted build, on the membership's log. */
int px_node_poll_check(const px_membership *m, const uint8_t (*builds)[PX_SHA256_BYTES], size_t nbuilds,
                       const void *plan, size_t len, px_poll_plan *out, px_poll_attested *att, px_err *err);

/* A copy of membership m's nodes into a JSON array of verifier keys. */
const px_member *px_node_find_role(const px_membership *m, unsigned role);

/* The explorer (ui.c): started after the roles are open, stopped after
 * the server. */
int px_node_ui_start(px_node *n, px_err *err);
void px_node_ui_stop(px_node *n);

/* Replies. */
void px_node_reply_json(px_http_response *resp, json_t *o);
void px_node_reply_err(px_http_response *resp, const px_err *err);
/* Replies to /v1/admit and /v1/step are PXJB only for a client whose
 * Accept header asks for it (docs/network.md); anyone else gets JSON. */
int px_node_wants_jb(const px_http_request *req);
/* 200 with jb encoded (PXJB or JSON, as jb was set up); frees jb. */
void px_node_reply_jb(px_http_response *resp, px_jb *jb);

/* The consumer's dispatcher (px_submit) is public: pixiu/node.h. */
