/* pixiud's internals shared with the pixiu command (not a public contract):
 * turning the membership into the trust the executor checks against. */
#ifndef PX_NODE_NODE_H
#define PX_NODE_NODE_H

#include "pixiu/exec.h"
#include "pixiu/net.h"

/* What an auditor or a POD trusts, derived from the membership: the
 * platform key of every node that has one, the signing key of every POD,
 * and the accepted worker builds. Owns its arrays. */
typedef struct px_node_trust {
    px_node_platform *platforms;
    size_t nplatforms;
    px_pod_key *pods;
    size_t npods;
    uint8_t (*workers)[PX_SHA256_BYTES];
    size_t nworkers;
    px_exec_trust exec; /* points into the arrays above */
} px_node_trust;

/* workers: worker binary paths or hex digests; none means the pixiu_worker
 * next to the running executable. */
int px_node_trust_init(px_node_trust *t, const px_membership *m, char *const *workers, size_t nworkers,
                       px_err *err);
void px_node_trust_free(px_node_trust *t);

/* The path of a program installed next to the running executable. */
int px_node_sibling_path(char *out, size_t cap, const char *name, px_err *err);

#endif

/* ---- the node daemon ---------------------------------------------------------- */

#include <pthread.h>
#include <sys/stat.h>

#include "pixiu/lambda.h"
#include "pixiu/log.h"
#include "pixiu/pod.h"

#define PX_NODE_PATH_MAX 1024
#define PX_NODE_MAX_INSTANCES 4096
#define PX_NODE_BODY_MAX (256u << 20)
#define PX_NODE_CALL_TIMEOUT_MS 120000

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
} px_node_config;

int px_node_config_load(px_node_config *c, const char *path, px_err *err);

typedef struct px_node_instance {
    int used;
    uint8_t id[PX_SIGN_PUBLICKEYBYTES]; /* the instance's signing key */
    char consumer[PX_MEMBER_ID_MAX + 1];
    int64_t deadline; /* the manifest's: an idle instance is dropped after it */
    int busy;
    px_lambda_host host;
} px_node_instance;

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
    px_admissions *admissions;
    px_node_instance *inst;
    size_t ninst;
} px_node;

int px_node_start(px_node *n, const px_node_config *cfg, px_err *err);
/* Stops serving (in-flight requests finish), kills instances, closes state. */
void px_node_stop(px_node *n);

/* Copy of the current membership (reloaded when its file changed). */
int px_node_members(px_node *n, px_membership *out, px_err *err);
/* Append an entry to the network's log (the member with role log). */
int px_node_log_append(px_node *n, const uint8_t *entry, size_t len, uint64_t *index, px_err *err);

/* Role handlers: reply in resp; sender is the verified member. */
void px_node_recruit(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp);
void px_node_step(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp);
void px_node_admit(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp);

/* A copy of membership m's nodes into a JSON array of verifier keys. */
const px_member *px_node_find_role(const px_membership *m, unsigned role);

/* Replies. */
void px_node_reply_json(px_http_response *resp, json_t *o);
void px_node_reply_err(px_http_response *resp, const px_err *err);

/* ---- the consumer's dispatcher ------------------------------------------------ */

typedef struct px_submit_opts {
    const char *id;              /* the consumer node's id */
    const px_signer *key;        /* its node key */
    const px_membership *members;
    const uint8_t *code;         /* the task module, for wasm stages */
    size_t code_len;
    char *const *workers;        /* accepted worker builds (see px_node_trust_init) */
    size_t nworkers;
    FILE *progress;              /* stage-by-stage lines, or NULL */
} px_submit_opts;

typedef struct px_submit_result {
    int ok;                          /* the task completed and the receipt checks */
    uint8_t manifest[PX_SHA256_BYTES];
    px_buf manifest_env;             /* the signed manifest */
    px_buf result;                   /* the opened result (last stage output) */
    uint8_t result_digest[PX_SHA256_BYTES];
    px_buf receipt;                  /* JSON: success or failure receipt (once the plan was published) */
    /* A failure receipt's verdict: what the log proves (docs/executor.md). */
    int receipt_failed;
    int64_t failed_stage;
    uint32_t failed_partition;
    char failed_node[PX_NODE_ID_MAX + 1];
    char failed_status[32];
    char blamed[PX_NODE_ID_MAX + 1];  /* "" when the log proves nobody at fault */
    char verdict_why[PX_ERR_MSG_MAX];
    uint64_t records, authenticated, alleged; /* from the first stage's proof */
    size_t releases, refusals;
    char failure[2 * PX_ERR_MSG_MAX]; /* why not ok */
    /* Wall time of each phase, milliseconds. */
    double recruit_ms, admit_ms, receipt_ms;
    double stage_ms[PX_MANIFEST_MAX_STAGES];
    size_t nstages;
} px_submit_result;

/* Complete the manifest template (consumer, nonce, times, receivers, code
 * digest), sign it, recruit back to front, publish the plan, ask each POD
 * to admit it, drive the stages, open the result and build the receipt.
 * Returns 0 when the task ran to a verdict (see r->ok), -1 on errors that
 * stop the consumer itself (bad template, no log, ...). */
int px_submit(const px_submit_opts *o, const void *manifest_template, size_t len, px_submit_result *r,
              px_err *err);
void px_submit_result_free(px_submit_result *r);
