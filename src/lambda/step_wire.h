/* The framed protocol between a node and a λ worker, over a socketpair.
 *
 *   frame   = type u8 || length u32le || payload (length bytes)
 *   payload = count u32le || count times (len u32le || bytes)
 *
 *   host -> worker  INIT      kind, code digest, config, build version,
 *                             cache dir, then per build component: name,
 *                             sha256, path
 *   worker -> host  KEYS      sign key, box key, measurement, isolation u32le
 *   host -> worker  EVIDENCE  evidence envelope
 *   host -> worker  STEP      sealed code, then per input: sealed, proof,
 *                             evidence (empty for a POD release)
 *   worker -> host  ACCEPTED  the accepted-input statement (inputs valid)
 *   host -> worker  LOGGED    index u64le, checkpoint note, inclusion proof
 *   worker -> host  OUTCOME   the execution proof (ok or failure)
 *   host -> worker  LOGGED    the same, for the proof
 *   worker -> host  RESULT    proof, then one sealed output per successor
 *   worker -> host  ERROR     one line (no proof, or nothing shown in the log)
 *
 * before all of it, as soon as the worker has started:
 *   worker -> host  READY     no fields: exec'd and loaded, waiting for INIT
 *
 * then, for a serving kind whose step succeeded, until the deadline:
 *   host -> worker  SERVE     a request
 *   worker -> host  SERVED    the response, its signature by the instance
 *   worker -> host  ERROR     one line: that request is refused (the worker
 *                             goes on serving)
 *
 * Both sides treat every frame as hostile; see docs/lambda.md. */
#ifndef PIXIU_LAMBDA_STEP_WIRE_H
#define PIXIU_LAMBDA_STEP_WIRE_H

#include "pixiu/lambda.h"

enum {
    PX_MSG_INIT = 1,
    PX_MSG_KEYS = 2,
    PX_MSG_EVIDENCE = 3,
    PX_MSG_STEP = 4,
    PX_MSG_RESULT = 5,
    PX_MSG_ERROR = 6,
    PX_MSG_ACCEPTED = 7,
    PX_MSG_OUTCOME = 8,
    PX_MSG_LOGGED = 9,
    PX_MSG_SERVE = 10,
    PX_MSG_SERVED = 11,
    PX_MSG_READY = 12
};

#define PX_WIRE_CHECKPOINT_MAX (64u << 10) /* a checkpoint note with its cosignatures */

#define PX_WIRE_HEADER_BYTES 5
#define PX_WIRE_MAX_FRAME (512u << 20)
#define PX_WIRE_MAX_FIELDS (1 + 3 * PX_LAMBDA_MAX_INPUTS)
#define PX_WIRE_INIT_FIXED 5
#define PX_WIRE_INIT_MAX_FIELDS (PX_WIRE_INIT_FIXED + 3 * PX_TEE_BUILD_MAX)

typedef struct px_bytes {
    const uint8_t *p; /* borrowed */
    size_t n;
} px_bytes;

/* Send one frame (never raises SIGPIPE). */
int px_wire_send(int fd, int type, const px_bytes *fields, size_t n, px_err *err);
/* Send an already encoded payload as one frame. */
int px_wire_send_payload(int fd, int type, const px_buf *payload, px_err *err);
/* Receive one frame into payload (replacing its contents). timeout_ms < 0
 * waits forever. A closed channel is PX_E_UNAVAILABLE. */
int px_wire_recv(int fd, int timeout_ms, int *type, px_buf *payload, px_err *err);
/* Split a payload into at most max borrowed fields; nothing may trail. */
int px_wire_split(const uint8_t *p, size_t len, px_bytes *fields, size_t max, size_t *n, px_err *err);

/* INIT: what the worker is, and exactly which files it runs. */
int px_wire_init_encode(px_buf *out, const char *kind, const uint8_t code[PX_SHA256_BYTES], const void *config,
                        size_t config_len, const px_lambda_build *b, px_err *err);
/* Fills kind, code (borrowed), config (borrowed) and *b (its digest
 * computed; free with px_lambda_build_free). */
int px_wire_init_decode(const uint8_t *p, size_t len, char kind[PX_TEE_KIND_MAX + 1], const uint8_t **code,
                        px_bytes *config, px_lambda_build *b, px_err *err);

/* STEP: *inputs is allocated (free()), pointing into the payload. */
int px_wire_step_decode(const uint8_t *p, size_t len, px_bytes *code, px_step_input **inputs, size_t *ninputs,
                        px_err *err);
int px_wire_step_encode(px_buf *out, const uint8_t *code, size_t code_len, const px_step_input *inputs,
                        size_t ninputs, px_err *err);
/* STEP as one frame on the channel, the inputs sent from where they are. */
int px_wire_step_send(int fd, const uint8_t *code, size_t code_len, const px_step_input *inputs, size_t ninputs,
                      px_err *err);

/* LOGGED: what shows a statement in the log. The decoded view points into
 * the payload; the instance checks it (px_lambda_run / _release). */
int px_wire_logged_encode(px_buf *out, const px_log_receipt *r, px_err *err);
int px_wire_logged_decode(const uint8_t *p, size_t len, px_lambda_logged *out, px_err *err);

#endif
