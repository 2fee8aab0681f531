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
    int stepped;
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
} px_proof_draft;

/* Build the statement, sign it with the instance key, append the DSSE
 * envelope to out. */
int px_proofgen_sign(px_buf *out, const px_proof_draft *d, px_err *err);

/* ---- step ---------------------------------------------------------- */

/* Sign a failure proof for a step that could not even be decoded: subject
 * is the digest of what arrived. Same return convention as px_lambda_step. */
int px_lambda_step_refuse(px_lambda *l, const char *status, const px_err *why,
                          const uint8_t subject[PX_SHA256_BYTES],
                          px_step_result *res, px_err *err);

#endif
