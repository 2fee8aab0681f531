/* PIXIU node: run a task on a PIXIU network as its consumer, and check
 * what comes back.
 *
 * A consumer is a node of the network's membership with the consumer role
 * (`pixiu node init`, docs/network.md). px_node_submit takes a manifest
 * template (docs/manifest.md, "Example") and the task's WebAssembly
 * module, does everything `pixiu task submit` does (complete and sign the
 * manifest, recruit an instance per stage back to front, publish the plan,
 * have each POD admit it, drive the stages, open the result, build and
 * check the receipt) and returns the outcome. px_node_receipt_verify checks
 * a receipt offline against the network's membership, as `pixiu verify
 * --membership` does. A small program using both is examples/submit.c
 * (docs/api.md).
 */
#ifndef PIXIU_NODE_H
#define PIXIU_NODE_H

#include <stdio.h>

#include "pixiu/exec.h"
#include "pixiu/net.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

typedef struct px_submit_opts {
    const char *id;              /* the consumer node's id */
    const px_signer *key;        /* its node key */
    const px_membership *members;
    const uint8_t *code;         /* the task module, for wasm stages */
    size_t code_len;
    const uint8_t (*builds)[PX_SHA256_BYTES]; /* accepted builds; none: this machine's own */
    size_t nbuilds;
    FILE *progress;              /* stage-by-stage lines, or NULL */
    /* What a delivering stage at the PODs delivers (its digest goes into
     * the manifest's params.deliver.content when the template leaves it). */
    const uint8_t *content;
    size_t content_len;
    /* A round of a training (docs/fl.md): the model (a PXFM block) the
     * round starts from; its digest is the fl-agg stage's "code". */
    const uint8_t *model;
    size_t model_len;
} px_submit_opts;

typedef struct px_submit_result {
    int ok;                          /* the task completed and the receipt checks */
    uint8_t manifest[PX_SHA256_BYTES];
    px_buf manifest_env;             /* the signed manifest */
    px_buf result;                   /* the opened result (last stage output) */
    px_buf opening;                  /* the same as sealed: "PXC1" || r || result, which opens the
                                        receipt's result commitment for whoever is shown it */
    uint8_t result_digest[PX_SHA256_BYTES];
    px_buf receipt;                  /* JSON: success or failure receipt (once the plan was published) */
    /* A failure receipt's verdict: what the log proves (docs/executor.md). */
    int receipt_failed;
    /* The log proves every step (the receipt is an ordinary one, naming
     * the result by result_digest) but the last instance's answer never
     * came: the result is lost with it (docs/reliability.md). */
    int undelivered;
    int64_t failed_stage;
    uint32_t failed_partition;
    char failed_node[PX_NODE_ID_MAX + 1];
    char failed_status[32];
    char blamed[PX_NODE_ID_MAX + 1];  /* "" when the log proves nobody at fault */
    char verdict_why[PX_ERR_MSG_MAX];
    uint64_t records, authenticated, alleged; /* from the first stage's proof */
    size_t releases, refusals;
    /* Stages at the PODs: PODs asked, PODs whose instances ran to an ok
     * proof, and whose did not (refused, offline, failed). */
    size_t pods, pods_ran, pods_missing;
    double pods_ms; /* the PODs' admissions and runs, summed (each POD's own wall time) */
    /* A training round: users in the round's roster, and the survivors
     * whose masked updates the aggregator was given. */
    size_t fl_users, fl_survivors;
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

/* ---- a training (docs/fl.md) ----------------------------------------------- */

/* One finished round, for progress: its submission's result and the model
 * it produced (a PXFM block, when r->ok) and how far the model moved. */
typedef struct px_train_round {
    uint32_t round, rounds;
    const px_submit_result *r;
    const uint8_t *model;
    size_t model_len;
    double change; /* L2 norm of the model's move */
} px_train_round;
/* Called after each round; non-zero stops the training (as an error). */
typedef int (*px_train_round_fn)(void *ctx, const px_train_round *round);

typedef struct px_train_result {
    uint32_t rounds;    /* rounds completed */
    int stopped_early;  /* the model moved less than training.min_change */
    int failed;         /* a round failed: its failure receipt is in the training receipt */
    char failure[2 * PX_ERR_MSG_MAX];
} px_train_result;

/* Run the rounds of the training template tmpl (a manifest template with
 * "training": {"rounds": N[, "min_change": "..."]} and fl-user / fl-agg
 * stages): each round is submitted as a task with o and the current model.
 * model holds the initial model (PXFM) and ends holding the last one;
 * receipt gets the training receipt (JSON: each round's manifest, model in
 * and out and receipt). 0 when every round ran to a verdict (see
 * out->failed), -1 on errors that stop the consumer. */
int px_train(const px_submit_opts *o, const void *tmpl, size_t len, px_buf *model, px_buf *receipt,
             px_train_round_fn cb, void *ctx, px_train_result *out, px_err *err);

/* px_submit as the consumer node whose config file (JSON, docs/network.md)
 * is node_config: its id, its key and its membership are read from there;
 * executors must run the build of this machine (see `pixiu build`). code
 * is the task module (NULL when no stage runs one); progress lines go to
 * progress (or nowhere when NULL). */
int px_node_submit(const char *node_config, const void *manifest_template, size_t len, const uint8_t *code,
                   size_t code_len, FILE *progress, px_submit_result *r, px_err *err);

/* Check a receipt offline against the membership file: the log's key, every
 * POD's and executor's key, every witness's cosignature and the build of
 * this machine are pinned (`pixiu verify --membership`). 0 for a receipt
 * that holds, of a task that succeeded or failed (s->failed says which;
 * free s with px_receipt_summary_free); -1 naming what does not hold. */
int px_node_receipt_verify(const char *membership, const void *receipt, size_t len, px_receipt_summary *s,
                           px_err *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
