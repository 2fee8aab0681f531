/* PIXIU proof formats: C2SP signed notes, DSSE v1 envelopes and in-toto
 * Statement v1. These are the standard containers every PIXIU claim travels
 * in, so that existing tools can check them.
 */
#ifndef PIXIU_PROOF_H
#define PIXIU_PROOF_H

#include "pixiu/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

/* ---- C2SP signed-note v1 ------------------------------------------------ */

#define PX_NOTE_MAX_BYTES (1u << 20)
#define PX_NOTE_MAX_SIGS 100

typedef struct px_note_sig {
    char name[PX_KEY_NAME_MAX + 1];
    uint32_t id;
    uint8_t *sig;   /* signature bytes after the 4-byte key id; owned */
    size_t sig_len;
} px_note_sig;

typedef struct px_note {
    char *text;     /* the signed text, ends with '\n'; owned, NUL-ended */
    size_t text_len;
    px_note_sig *sigs; /* every signature line, known or not; owned */
    size_t nsigs;
} px_note;

/* Split and validate a signed note. Unknown signatures are kept. */
int px_note_parse(px_note *n, const char *msg, size_t len, px_err *err);
/* Check the note against a set of verifiers. Succeeds when at least one
 * signature verifies and no signature by a known key (same name and id)
 * fails; *nverified (if not NULL) counts the valid ones. */
int px_note_verify(const px_note *n, const px_verifier *vs, size_t nv,
                   size_t *nverified, px_err *err);
/* Sign text (valid note text ending in '\n') with each signer; appends the
 * whole signed note to out. */
int px_note_sign(px_buf *out, const char *text, size_t len,
                 const px_signer *signers, size_t nsigners, px_err *err);
/* Add one signature to a parsed note (replacing one by the same key). */
int px_note_add_sig(px_note *n, const px_signer *s, px_err *err);
/* Serialise text and all signatures. */
int px_note_format(const px_note *n, px_buf *out, px_err *err);
void px_note_free(px_note *n);

/* ---- DSSE v1 ------------------------------------------------------------ */

#define PX_DSSE_MAX_BYTES (16u << 20)
#define PX_DSSE_MAX_SIGS 64

typedef struct px_dsse_sig {
    char *keyid; /* owned, may be "" (a hint only, never trusted) */
    uint8_t *sig;
    size_t sig_len;
} px_dsse_sig;

typedef struct px_dsse {
    char *payload_type; /* owned */
    px_buf payload;
    px_dsse_sig *sigs;
    size_t nsigs;
} px_dsse;

/* PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
int px_dsse_pae(px_buf *out, const char *type, const uint8_t *body,
                size_t len, px_err *err);
/* Appends the JSON envelope signed by each signer; the keyid is the signer's
 * verifier-key prefix "<name>+<hex id>". */
int px_dsse_sign(px_buf *out, const char *type, const uint8_t *body,
                 size_t len, const px_signer *signers, size_t nsigners,
                 px_err *err);
int px_dsse_parse(px_dsse *e, const void *json, size_t len, px_err *err);
/* 0 if at least one signature verifies under v and its keyid is empty or
 * "<name>+<hex id>" of v (the keyid is not signed; binding it this way
 * makes a changed keyid fail instead of passing unnoticed). */
int px_dsse_verify(const px_dsse *e, const px_verifier *v, px_err *err);
/* Same for a raw Ed25519 public key (instance keys born in a TEE); any
 * keyid is accepted. */
int px_dsse_verify_pk(const px_dsse *e, const uint8_t pk[PX_SIGN_PUBLICKEYBYTES],
                      px_err *err);
void px_dsse_free(px_dsse *e);

/* ---- in-toto Statement v1 ------------------------------------------------ */

#define PX_INTOTO_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define PX_INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"

typedef struct px_subject {
    char *name;               /* owned */
    uint8_t sha256[PX_SHA256_BYTES];
} px_subject;

typedef struct px_statement {
    px_subject *subjects; /* owned; every subject carries a sha256 digest */
    size_t nsubjects;
    char *predicate_type; /* owned */
    json_t *predicate;    /* owned reference (an object) */
} px_statement;

/* Serialise a statement; predicate is borrowed. */
int px_statement_build(px_buf *out, const px_subject *subjects, size_t n,
                       const char *predicate_type, const json_t *predicate,
                       px_err *err);
int px_statement_parse(px_statement *st, const void *json, size_t len,
                       px_err *err);
void px_statement_free(px_statement *st);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
