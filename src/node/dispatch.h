/* The consumer's dispatcher, internals shared by its files: dispatch.c
 * (the manifest, recruitment, the whole task), dispatch_admit.c and
 * dispatch_pod.c (admission), dispatch_step.c (the stages' steps),
 * dispatch_fl.c (training rounds) and dispatch_receipt.c (prove the
 * outcome). */
#ifndef PX_NODE_DISPATCH_H
#define PX_NODE_DISPATCH_H

#include <stdarg.h>

#include "exec/util.h"
#include "node/node.h"

/* One instance of the task (a stage partition) as the dispatcher sees it. */
typedef struct px_slot {
    uint32_t stage, partition;
    const px_member *node;
    uint8_t nonce[PX_TEE_NONCE_BYTES];
    uint8_t instance[PX_SIGN_PUBLICKEYBYTES];
    px_buf config, evidence;
    px_attested att;
    px_buf proof;       /* after its step */
    px_buf *outputs;    /* one per successor */
    size_t noutputs;
    double ms;          /* its step's wall time */
    char failure[2 * PX_ERR_MSG_MAX]; /* why the task stops here, or "" */
} px_slot;

/* One POD's side of a task with stages at the PODs (dispatch_pod.c). */
typedef struct px_podside {
    const px_member *node;
    uint32_t pos;
    int admitted, ran;
    px_attested att[PX_MANIFEST_MAX_STAGES]; /* its instances, checked */
    px_buf proof, evidence, output;          /* what its last instance sent */
    /* A training round: its index in the roster (admitted PODs in order),
     * its SHARES and whether it is a survivor (ran and shared). */
    uint32_t fl_index;
    px_buf fl_shares;
    int fl_survivor;
    double ms;                               /* its admission and run, wall time */
    char failure[PX_ERR_MSG_MAX];
} px_podside;

/* One task being dispatched; owns everything but o and r. */
typedef struct px_job {
    const px_submit_opts *o;
    px_submit_result *r;
    px_manifest m;
    px_box_keypair receiver;
    uint8_t task_key[PX_TASK_KEY_BYTES]; /* the map stages' pseudonym key */
    px_lambda_build *own; /* this machine's build: the default and the reference */
    px_node_trust trust;
    const px_member *log;
    px_slot *s;
    size_t ns;
    px_buf plan;
    px_plan parsed; /* the plan, read back: paths are cut from it */
    px_buf *rel_sealed, *rel_env; /* per release */
    uint8_t (*rel_key)[PX_BOX_PUBLICKEYBYTES]; /* per release: the stage-0 key it is sealed to */
    size_t nrel;
    int published; /* the plan is in the log: every end gets a receipt */
    uint32_t kpod;    /* stages at the PODs (a prefix; 0: none) */
    px_podside *pods; /* kpod > 0: one per POD of the manifest, by position */
    size_t npods;
    px_buf fl_roster;  /* a training round: the users' box keys, n x 32 */
    uint32_t fl_n;
    uint32_t fl_round; /* checked against the model once, with the roster */
    px_buf fl_reveals; /* the PXFR block for the aggregator */
} px_job;

/* A reply that may be PXJB: doc's attachments are views into body. */
typedef struct px_dispatch_reply {
    px_buf body;
    json_t *doc;
    px_jb_view view;
} px_dispatch_reply;
void px_dispatch_reply_free(px_dispatch_reply *r);

double px_dispatch_ms_since(uint64_t t0);
/* Ask a POD to admit its path through the plan (POST /v1/admit), for a
 * PXJB reply. */
int px_dispatch_ask_admit(const px_job *j, const px_member *pod, px_dispatch_reply *out, px_err *err);
/* A signed call whose body may be PXJB, asking for a PXJB reply (HTTP 200
 * only), read in either form into *out. */
int px_dispatch_call_jb(const px_job *j, const px_member *to, const char *path, const void *body, size_t len,
                        long timeout_ms, px_dispatch_reply *out, px_err *err);
/* A signed JSON call to a member; the reply (HTTP 200 only) parsed into *out. */
int px_dispatch_call(const px_job *j, const px_member *to, const char *path, const void *body, size_t len,
                     json_t **out, px_err *err);
/* The same, waiting at most timeout_ms for the answer (px_dispatch_call:
 * PX_NODE_CALL_TIMEOUT_MS). */
int px_dispatch_call_within(const px_job *j, const px_member *to, const char *path, const void *body, size_t len,
                            long timeout_ms, json_t **out, px_err *err);
/* Ask every POD of the manifest to admit the plan (several at a time) and
 * keep their sealed releases, in membership order. */
int px_dispatch_admit(px_job *j, px_err *err);
void px_dispatch_progress(const px_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stages at the PODs: ask every POD to admit the plan and start its
 * instances, check each, seal the code to them and have each POD run them;
 * a POD that refuses, is offline or fails is left out, named. */
int px_dispatch_pods(px_job *j, px_err *err);
/* The inputs of partition sl of the stage after the PODs: one per POD
 * dealt to it whose instances ran, appended to arr (inside jb's document;
 * the bytes borrowed from j). */
int px_dispatch_pod_inputs(const px_job *j, const px_slot *sl, px_jb *jb, json_t *arr, px_err *err);
/* One input {sealed, proof[, evidence]} appended to arr, its bytes
 * attachments of jb (borrowed: they must outlive the encoding). */
int px_dispatch_add_input(px_jb *jb, json_t *arr, const px_buf *sealed, const px_buf *proof, const px_buf *ev,
                          px_err *err);
/* Which output of instance a (stage s) goes to instance b (stage s+1);
 * -1 when a does not feed b. */
int px_dispatch_output_for(const px_job *j, const px_slot *a, const px_slot *b);
/* Append a signed entry to the network's log. */
int px_dispatch_append_log(const px_job *j, const px_buf *entry, px_err *err);
/* Run the stages in order (dispatch_step.c). 1: the task stopped (its
 * failure in j->r), 0: the result is open in j->r, -1: an error. */
int px_dispatch_run_stages(px_job *j, px_err *err);
void px_dispatch_pods_free(px_job *j);

/* A training round (dispatch_fl.c, docs/fl.md). A template's fl-user or
 * fl-agg stage without "code" gets the digest of the training module or of
 * the round's model (other kinds: untouched). */
int px_dispatch_fl_code(const px_job *j, json_t *stage, const char *kind, size_t i, px_err *err);
/* After the admissions: the
 * roster, the admitted PODs' last instances in order. */
int px_dispatch_fl_roster(px_job *j, px_err *err);
/* The code and the round's broadcast (model, roster, its index) sealed to
 * a POD's fl-user instance. */
int px_dispatch_fl_seal_user(const px_job *j, const px_podside *ps, const uint8_t box_pk[PX_BOX_PUBLICKEYBYTES],
                             px_buf *out, px_err *err);
/* After the run: each POD's shares, the survivor set, each survivor's
 * reveal for it, and the reveals block for the aggregator. */
int px_dispatch_fl_unmask(px_job *j, px_err *err);
/* The model and the reveals sealed to the aggregator instance. */
int px_dispatch_fl_seal_agg(const px_job *j, const uint8_t box_pk[PX_BOX_PUBLICKEYBYTES], px_buf *out, px_err *err);
/* The task's pseudonym key, with the code (and the content) sealed to an
 * attested instance: "PXTK" || K [|| "PXAD" || len || content] || module. */
int px_dispatch_seal_code(const px_job *j, const px_stage_spec *spec, const uint8_t box_pk[PX_BOX_PUBLICKEYBYTES],
                          px_buf *out, px_err *err);

/* Cosign the log's checkpoint, collect the task's entries with inclusion
 * proofs, and build j->r->receipt: a success receipt, or with failure a
 * failure receipt stating that audit verdict. */
int px_dispatch_receipt(px_job *j, const px_audit *failure, px_err *err);
/* The failure receipt of a task that stopped: the audit over the log at
 * the time its checkpoint is cosigned. An instance that accepted its input
 * and gave no proof is silent only after the manifest's deadline, so when
 * the log shows one still "running", this waits for the deadline first.
 * Fills j->r's failure fields from the verdict. */
int px_dispatch_failure_receipt(px_job *j, px_err *err);
/* Check j->r->receipt as anyone would, and read the first stage's counts. */
int px_dispatch_check_receipt(px_job *j, px_err *err);

#endif
