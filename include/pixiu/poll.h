/* PIXIU polls: anonymous, one-per-member ballots (docs/polls.md).
 *
 * Eligibility is an RFC 9474 blind RSA signature (RSABSSA-SHA384-PSS-
 * Randomized): a member asks the poll's issuer to sign a blinded token;
 * the issuer checks the member is eligible and signs at most once per
 * member; the member unblinds it into a token anyone can verify with the
 * poll's public key and that the issuer cannot link to the member. The
 * member's POD fills the demographic bands the survey asks for, seals the
 * ballot (token inside) to the poll's attested tally λ and hands it to a
 * ballot box on an executor; the tally λ counts each token once and
 * releases the results through differential privacy.
 *
 * OpenSSL's libcrypto does the RSA arithmetic (BIGNUM, and EVP for the
 * private-key operation with its blinding and constant-time code); the
 * protocol (prepare, EMSA-PSS, blind, finalize, verify) is written here.
 *
 * Layout: brsa.c (RFC 9474), token.c (tokens), survey*.c (the survey file),
 * ballot.c (ballots and the demographic fill), tally*.c (counting and the
 * DP release), stage_tally.c (the λ stage kind), issuer.c and box.c (the
 * issuer's and the ballot box's durable state), statements.c (what goes to
 * the log), receipt.c (the poll receipt).
 */
#ifndef PIXIU_POLL_H
#define PIXIU_POLL_H

#include "pixiu/crypto.h"
#include "pixiu/lambda.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- RFC 9474 blind RSA --------------------------------------------------- */

#define PX_POLL_RSA_MIN_BITS 2048
#define PX_POLL_RSA_MAX_BITS 4096
#define PX_POLL_RSA_MAX_BYTES (PX_POLL_RSA_MAX_BITS / 8)
#define PX_POLL_PREFIX_BYTES 32 /* the Randomized variants' message prefix */
#define PX_POLL_SALT_BYTES 48   /* sLen of the PSS variants: SHA-384's size */
#define PX_POLL_KEY_ID_BYTES 32 /* SHA-256 of the public key's SPKI DER */

/* The four variants of RFC 9474 section 5; polls use the first. */
typedef enum px_poll_variant {
    PX_POLL_SHA384_PSS_RANDOMIZED = 0,
    PX_POLL_SHA384_PSSZERO_RANDOMIZED = 1,
    PX_POLL_SHA384_PSS_DETERMINISTIC = 2,
    PX_POLL_SHA384_PSSZERO_DETERMINISTIC = 3
} px_poll_variant;

const char *px_poll_variant_name(px_poll_variant v);

/* A public key: modulus and exponent with a cached Montgomery context, its
 * SPKI DER and key id. A private key holds its public key. Both are
 * opaque; free with the matching *_free (NULL is fine). */
typedef struct px_poll_pub px_poll_pub;
typedef struct px_poll_key px_poll_key;

/* A fresh key pair of `bits` (2048..4096, a multiple of 8), e = 65537. */
int px_poll_key_generate(px_poll_key **out, unsigned bits, px_err *err);
/* From / to PKCS#8 DER (the issuer's store). */
int px_poll_key_parse(px_poll_key **out, const uint8_t *der, size_t len, px_err *err);
int px_poll_key_export(const px_poll_key *k, px_buf *der, px_err *err);
/* From the RSA parameters as big-endian bytes (test vectors): the CRT
 * values are computed here. */
int px_poll_key_from_params(px_poll_key **out, const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
                            const uint8_t *d, size_t dlen, const uint8_t *p, size_t plen, const uint8_t *q,
                            size_t qlen, px_err *err);
void px_poll_key_free(px_poll_key *k);
const px_poll_pub *px_poll_key_pub(const px_poll_key *k);

/* An RSA public key as SubjectPublicKeyInfo DER (rsaEncryption): modulus
 * of 2048..4096 bits, odd exponent from 3 to 2^32. */
int px_poll_pub_parse(px_poll_pub **out, const uint8_t *spki, size_t len, px_err *err);
int px_poll_pub_from_params(px_poll_pub **out, const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen,
                            px_err *err);
void px_poll_pub_free(px_poll_pub *p);
size_t px_poll_pub_bytes(const px_poll_pub *p); /* modulus length k */
const uint8_t *px_poll_pub_spki(const px_poll_pub *p, size_t *len);
void px_poll_pub_id(const px_poll_pub *p, uint8_t id[PX_POLL_KEY_ID_BYTES]);

/* Prepare (RFC 9474 4.1): the Randomized variants prepend 32 random bytes
 * (written to prefix, which may be NULL for the Deterministic ones); the
 * input message is appended to out. */
int px_poll_prepare(px_poll_variant v, const uint8_t *msg, size_t len, uint8_t prefix[PX_POLL_PREFIX_BYTES],
                    px_buf *out, px_err *err);
/* Blind (4.2): blinded and inv receive k bytes each; inv is the secret the
 * requester keeps to finalize. Fails on a message not coprime to n. */
int px_poll_blind(const px_poll_pub *pk, px_poll_variant v, const uint8_t *input, size_t len, uint8_t *blinded,
                  uint8_t *inv, px_err *err);
/* BlindSign (4.3): k bytes in, k bytes out. The RSA private-key operation
 * is OpenSSL's (CRT with base blinding and constant-time exponentiation);
 * its result is checked against the public key before it is returned, so
 * a faulty computation never leaves (RFC 9474 4.3, and 7.3 on faults). */
int px_poll_blind_sign(const px_poll_key *sk, const uint8_t *blinded, size_t len, uint8_t *blind_sig,
                       px_err *err);
/* Finalize (4.4): unblind and verify; sig receives k bytes. */
int px_poll_finalize(const px_poll_pub *pk, px_poll_variant v, const uint8_t *input, size_t len,
                     const uint8_t *blind_sig, size_t sig_len, const uint8_t *inv, uint8_t *sig, px_err *err);
/* Verify (RSASSA-PSS-VERIFY with SHA-384, MGF1-SHA-384 and the variant's
 * salt length) of a signature over a prepared input: 0 valid, -1 not. */
int px_poll_verify(const px_poll_pub *pk, px_poll_variant v, const uint8_t *input, size_t len, const uint8_t *sig,
                   size_t sig_len, px_err *err);

/* ---- tokens ----------------------------------------------------------------
 *
 * token = "PXPT" || version 1 (u8) || poll (32) || key id (32)
 *         || prefix (32) || nonce (32) || sig_len (u16le) || sig
 *
 * The signed message is "PIXIU-poll-token-v1\n" || poll || key id || nonce,
 * prepared with the prefix (RSABSSA-SHA384-PSS-Randomized). The nonce is
 * the member's random choice and the token's identity in the spent list. */
#define PX_POLL_TOKEN_MAGIC "PXPT"
#define PX_POLL_TOKEN_VERSION 1
#define PX_POLL_TOKEN_FIXED (4 + 1 + 4 * 32 + 2)
#define PX_POLL_TOKEN_MAX (PX_POLL_TOKEN_FIXED + PX_POLL_RSA_MAX_BYTES)
#define PX_POLL_ID_BYTES PX_SHA256_BYTES

typedef struct px_poll_token {
    uint8_t poll[PX_POLL_ID_BYTES];
    uint8_t key_id[PX_POLL_KEY_ID_BYTES];
    uint8_t prefix[PX_POLL_PREFIX_BYTES];
    uint8_t nonce[32];
    uint8_t sig[PX_POLL_RSA_MAX_BYTES];
    size_t sig_len;
} px_poll_token;

int px_poll_token_encode(const px_poll_token *t, px_buf *out, px_err *err);
/* Strict: exact length, magic, version, a signature of 256..512 bytes. */
int px_poll_token_parse(px_poll_token *t, const uint8_t *b, size_t len, px_err *err);
/* The token is for this poll and key and its signature verifies. A token
 * of another poll is PX_E_DENIED, one of another key or with a bad
 * signature PX_E_VERIFY. */
int px_poll_token_verify(const px_poll_token *t, const px_poll_pub *pk, const uint8_t poll[PX_POLL_ID_BYTES],
                         px_err *err);

/* A member's side of issuance: a fresh nonce and prefix, the blinded
 * message to send, and the inverse to keep. */
typedef struct px_poll_request {
    px_poll_token token; /* poll, key id, prefix, nonce; no signature yet */
    uint8_t blinded[PX_POLL_RSA_MAX_BYTES];
    uint8_t inv[PX_POLL_RSA_MAX_BYTES];
    size_t k;
} px_poll_request;

int px_poll_request_new(px_poll_request *r, const px_poll_pub *pk, const uint8_t poll[PX_POLL_ID_BYTES],
                        px_err *err);
/* Unblind the issuer's answer into r->token (verified). */
int px_poll_request_finish(px_poll_request *r, const px_poll_pub *pk, const uint8_t *blind_sig, size_t len,
                           px_err *err);
/* Wipe the inverse. */
void px_poll_request_wipe(px_poll_request *r);

#ifdef __cplusplus
}
#endif
#endif
