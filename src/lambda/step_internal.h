/* Internal to the trust-λ: the instance's state and the pieces of a step
 * (validator, proof generator, wire protocol) that share it. */
#ifndef PIXIU_LAMBDA_STEP_INTERNAL_H
#define PIXIU_LAMBDA_STEP_INTERNAL_H

#include "pixiu/lambda.h"

#define PX_LAMBDA_SIGNER_NAME "lambda"

struct px_lambda {
    const px_stage_kind *kind;
    px_stage_config config;
    px_signer signer;   /* Ed25519, born here, never exported */
    px_box_keypair box; /* X25519, born here, never exported */
    uint8_t code_digest[PX_SHA256_BYTES];
    uint8_t build_digest[PX_SHA256_BYTES];
    struct px_sandbox *sandbox; /* owned; NULL: the sandbox finds its tools */
    uint8_t measurement[PX_TEE_MEASUREMENT_BYTES];
    uint8_t evidence_digest[PX_SHA256_BYTES];
    int have_evidence;
    int phase;                      /* PX_PHASE_* */
    struct px_step_pending *pending; /* the step between its phases (step.c) */
    /* A serving kind after a released ok step (serve.c): the state its run
     * left and the commitment of the output it released. */
    void *serve_state;
    uint8_t serve_commit[PX_SHA256_BYTES];
};

/* Where an instance is in its one step. */
enum {
    PX_PHASE_BORN = 0, /* no evidence yet */
    PX_PHASE_READY,    /* evidence set, waiting for the step */
    PX_PHASE_ACCEPTED, /* accepted statement signed, waiting to be shown it in the log */
    PX_PHASE_DECIDED,  /* proof signed, output sealed, waiting to be shown the proof in the log */
    PX_PHASE_DONE      /* released (or refused for good) */
};

/* ---- validator --------------------------------------------------------- */

/* Open one sealed input and check it against its producer's proof. On
 * success *plain holds the plaintext and *out describes it (out->data
 * points into plain). On failure returns -1 with *status set to a
 * PX_STATUS_* value and *digest to the best digest known for the failed
 * input (plaintext if it opened, else the sealed bytes). */
int px_validate_input(const struct px_lambda *l, const px_step_input *in,
                      px_buf *plain, px_stage_input *out,
                      const char **status, px_err *err);

/* ---- proof generator --------------------------------------------------- */

typedef struct px_proof_draft {
    const struct px_lambda *l;
    const px_stage_input *inputs; /* digest and proof_id of each input */
    size_t ninputs;
    const px_stage_out *stage;    /* counts and dp, or NULL */
    const char *status;
    const char *reason;           /* NULL on success */
    const uint8_t *subject;       /* output digest or failed input */
    int64_t started, finished;
    const uint8_t *delivery;      /* ok and delivering: the delivery's commitment */
} px_proof_draft;

/* Build the statement, sign it with the instance key, append the DSSE
 * envelope to out. */
int px_proofgen_sign(px_buf *out, const px_proof_draft *d, px_err *err);

/* Pieces of the predicates both statements share (proofgen.c). */
json_t *px_proofgen_hex(const uint8_t *p, size_t n);
json_t *px_proofgen_inputs(const px_stage_input *in, size_t n);
json_t *px_proofgen_stage(const px_stage_config *c);
int px_proofgen_read_stage(const json_t *s, uint32_t *index, uint32_t *partition, char kind[PX_TEE_KIND_MAX + 1],
                           px_err *err);

/* ---- accepted-input statement (accepted.c) ---------------------------- */

/* Sign the statement that the instance opened and validated these inputs
 * at time `at` (ms), and append the DSSE envelope to out. */
int px_accepted_sign(px_buf *out, const struct px_lambda *l, const px_stage_input *inputs, size_t n, int64_t at,
                     px_err *err);

/* ---- release after log (step_log.c) ----------------------------------- */

/* 0 if shown proves that entry is in the log the config names: a
 * checkpoint signed by that key and an inclusion proof of exactly these
 * bytes at the shown index. PX_E_VERIFY naming what does not hold. */
int px_lambda_shown_check(const struct px_lambda *l, const uint8_t *entry, size_t len, const px_lambda_logged *shown,
                          px_err *err);

/* ---- step ---------------------------------------------------------- */

/* Sign a failure proof for a step that could not even be decoded: subject
 * is the digest of what arrived. Like px_lambda_accept refusing: the proof
 * is appended to out and must then be shown in the log to be released. */
int px_lambda_step_refuse(px_lambda *l, const char *status, const px_err *why,
                          const uint8_t subject[PX_SHA256_BYTES], px_buf *out, px_err *err);

/* An instance that accepted its inputs and runs task code with a warm
 * runner, while it waits to be shown its acceptance: make the module's
 * cached object ready (sandbox_warm.c); nothing of the task runs. */
void px_lambda_warm_run(px_lambda *l);

/* px_lambda_set_evidence for a worker that knows the build the evidence
 * should list (its INIT's): read without parsing that build again. */
int px_lambda_set_evidence_for(px_lambda *l, const void *ev, size_t len, const px_tee_build *expect, px_err *err);

#endif
