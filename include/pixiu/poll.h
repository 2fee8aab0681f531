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
#include "pixiu/log.h"
#include "pixiu/records.h"
#include "pixiu/tee.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

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

/* ---- the survey ------------------------------------------------------------
 *
 * A JSON document (schema urn:pixiu:survey:v1, docs/polls.md) signed by the
 * conductor's node key as a DSSE envelope with payload type
 * PX_POLL_SURVEY_PAYLOAD_TYPE. The poll's id is the SHA-256 of the exact
 * envelope bytes: every token, ballot, statement and receipt names it.
 * Every object is closed (an unknown member is an error). */
#define PX_POLL_SURVEY_PAYLOAD_TYPE "application/vnd.pixiu.survey+json"
#define PX_POLL_SURVEY_SCHEMA "urn:pixiu:survey:v1"
#define PX_POLL_MEMBERS_SCHEMA "urn:pixiu:poll-members:v1"
#define PX_POLL_CREDENTIAL_PAYLOAD_TYPE "application/vnd.pixiu.credential+json"
#define PX_POLL_CREDENTIAL_SCHEMA "urn:pixiu:credential:v1"
#define PX_POLL_SURVEY_MAX_BYTES (256u << 10)
#define PX_POLL_NAME_MAX 64      /* names and node ids: [A-Za-z0-9._-] */
#define PX_POLL_QID_MAX 32       /* question and demographic ids */
#define PX_POLL_TEXT_MAX 500     /* question text, option labels, title */
#define PX_POLL_MAX_QUESTIONS 32
#define PX_POLL_MAX_OPTIONS 32   /* a multiple-choice answer is a 32-bit mask */
#define PX_POLL_MAX_DEMOGRAPHICS 8
#define PX_POLL_MAX_CATEGORIES 16
#define PX_POLL_MAX_CROSSTABS 64
#define PX_POLL_MAX_BOXES 16
#define PX_POLL_NUMERIC_BOUND (INT64_C(1) << 40)
#define PX_POLL_MAX_MEMBERS 1000000

typedef enum px_poll_qtype {
    PX_POLL_SINGLE = 1,   /* one option */
    PX_POLL_MULTIPLE = 2, /* up to max_choices options */
    PX_POLL_NUMERIC = 3   /* an integer in [min, max] */
} px_poll_qtype;

typedef struct px_poll_question {
    char id[PX_POLL_QID_MAX + 1];
    char *text;              /* owned */
    px_poll_qtype type;
    char **options;          /* owned; single and multiple */
    uint32_t noptions;
    uint32_t max_choices;    /* multiple: at most this many options */
    int64_t min, max;        /* numeric */
} px_poll_question;

/* A demographic field the survey asks the POD for: a band of a numeric
 * field or a category of a text field, never the value itself. */
typedef struct px_poll_demographic {
    char id[PX_POLL_QID_MAX + 1];
    char field[PX_POLL_NAME_MAX + 1]; /* in the POD's dataset */
    int numeric;                      /* bands (numeric) or categories (text) */
    int64_t (*bands)[2];              /* owned: [lo, hi] inclusive, ascending, disjoint */
    char **categories;                /* owned */
    char **labels;                    /* owned: one per band or category */
    uint32_t n;
} px_poll_demographic;

typedef struct px_poll_crosstab {
    uint32_t question, demographic; /* indices */
} px_poll_crosstab;

typedef struct px_poll_party {
    char id[PX_POLL_NAME_MAX + 1];
    px_verifier key;
} px_poll_party;

typedef enum px_poll_elig {
    PX_POLL_ELIG_LIST = 1,      /* members listed in a file named by digest */
    PX_POLL_ELIG_CREDENTIAL = 2 /* a credential signed by a named source */
} px_poll_elig;

typedef enum px_poll_cells {
    PX_POLL_CELLS_NOISE = 1,   /* every cell released, noised */
    PX_POLL_CELLS_SUPPRESS = 2 /* cells whose noisy count is below `below` withheld */
} px_poll_cells;

typedef struct px_poll_survey {
    uint8_t id[PX_POLL_ID_BYTES]; /* SHA-256 of the envelope */
    px_buf envelope;              /* the exact signed bytes */
    char name[PX_POLL_NAME_MAX + 1];
    char *title;                  /* owned */
    px_poll_party conductor;
    uint8_t nonce[16];
    int64_t opens, closes;        /* ms since the epoch */
    int64_t tally_by;             /* the tally λ's deadline: closes + grace */
    px_poll_party issuer;
    px_poll_party *boxes;         /* owned */
    size_t nboxes;
    px_poll_pub *key;             /* the token key; owned */
    px_poll_elig elig;
    uint8_t list_digest[PX_SHA256_BYTES]; /* LIST */
    px_verifier source;                   /* CREDENTIAL */
    char claim[PX_POLL_NAME_MAX + 1];     /* CREDENTIAL */
    uint64_t members;             /* eligible members (LIST: the list's size) */
    char dataset[PX_POLL_NAME_MAX + 1]; /* the POD dataset demographics come from */
    px_poll_question *questions;  /* owned */
    size_t nquestions;
    px_poll_demographic *demographics; /* owned */
    size_t ndemographics;
    px_poll_crosstab *crosstabs;  /* owned */
    size_t ncrosstabs;
    char epsilon[48];             /* decimal, exactly as written */
    px_poll_cells cells;
    uint64_t below;               /* SUPPRESS threshold */
} px_poll_survey;

/* Check a survey document strictly, then sign it with the conductor's key
 * (which must be the key the document names): appends the envelope. */
int px_poll_survey_sign(px_buf *out, const void *json, size_t len, const px_signer *conductor, px_err *err);
/* Parse and verify a signed survey. */
int px_poll_survey_parse(px_poll_survey *s, const void *envelope, size_t len, px_err *err);
/* Parse the unsigned document alone (no id, no envelope). */
int px_poll_survey_parse_doc(px_poll_survey *s, const void *json, size_t len, px_err *err);
void px_poll_survey_free(px_poll_survey *s);
/* Index of a question or demographic by id, or -1. */
int px_poll_survey_question(const px_poll_survey *s, const char *id);
int px_poll_survey_demographic(const px_poll_survey *s, const char *id);

/* The member list of a LIST poll: {"schema": PX_POLL_MEMBERS_SCHEMA,
 * "members": ["<verifier key>", ...]}, no duplicates; its digest is the
 * SHA-256 of the exact file bytes. */
typedef struct px_poll_members {
    px_verifier *keys; /* owned, sorted by public key */
    size_t n;
} px_poll_members;

int px_poll_members_parse(px_poll_members *m, const void *json, size_t len, px_err *err);
void px_poll_members_free(px_poll_members *m);
int px_poll_members_has(const px_poll_members *m, const uint8_t pk[PX_SIGN_PUBLICKEYBYTES]);

/* A credential: DSSE (PX_POLL_CREDENTIAL_PAYLOAD_TYPE) signed by a source,
 * payload {"schema", "subject": "<member's verifier key>", "claim",
 * "expires": ms}. Checked against the survey's source and claim, the
 * requester's key and the time. */
int px_poll_credential_sign(px_buf *out, const px_verifier *subject, const char *claim, int64_t expires,
                            const px_signer *source, px_err *err);
int px_poll_credential_check(const void *env, size_t len, const px_poll_survey *s,
                             const uint8_t requester[PX_SIGN_PUBLICKEYBYTES], int64_t now, px_err *err);

/* ---- ballots ---------------------------------------------------------------
 *
 * What the tally λ opens (sealed to its attested key with the PXC1
 * commitment header, px_seal_committed):
 *
 *   ballot = "PXB1" || poll (32) || token_len (u16le) || token
 *            || nq (u8) || nq x (present (u8) || value (i64le))
 *            || nd (u8) || nd x category (u8; 0xFF unknown)
 *
 * with the survey's questions and demographics in order: an option index
 * (single), a bit mask of options (multiple) or the number (numeric). Its
 * length depends only on the survey and the key size, so the sealed size
 * says nothing about the answers. */
#define PX_POLL_BALLOT_MAGIC "PXB1"
#define PX_POLL_UNKNOWN 0xFF
#define PX_POLL_BALLOT_MAX (4 + 32 + 2 + PX_POLL_TOKEN_MAX + 1 + 9 * PX_POLL_MAX_QUESTIONS + 1 + \
                            PX_POLL_MAX_DEMOGRAPHICS)

typedef struct px_poll_answer {
    uint8_t present; /* 0: skipped */
    int64_t value;
} px_poll_answer;

typedef struct px_poll_ballot {
    uint8_t poll[PX_POLL_ID_BYTES];
    px_poll_token token;
    px_poll_answer answers[PX_POLL_MAX_QUESTIONS];
    size_t nanswers;
    uint8_t demo[PX_POLL_MAX_DEMOGRAPHICS];
    size_t ndemo;
} px_poll_ballot;

int px_poll_ballot_encode(const px_poll_ballot *b, px_buf *out, px_err *err);
/* Structure only (lengths, magic, the token's own format). */
int px_poll_ballot_parse(px_poll_ballot *b, const uint8_t *data, size_t len, px_err *err);
/* Against the survey: its poll, its number of questions and demographics,
 * each answer within its question (one option, 1..max_choices options of
 * the declared ones, a number within [min, max]), each category declared
 * or unknown. The token is not checked here. */
int px_poll_ballot_check(const px_poll_ballot *b, const px_poll_survey *s, px_err *err);

/* The member's answers, as JSON keyed by question id: an option label
 * (single), an array of labels (multiple), an integer (numeric); a
 * question left out is skipped. Fills b->answers. */
int px_poll_answers_parse(px_poll_ballot *b, const px_poll_survey *s, const void *json, size_t len, px_err *err);

/* The POD-side fill: from the POD's own records of the survey's dataset
 * (a PXR1 stream, one record for a per-person POD), the category of each
 * demographic the survey asks for: the band a numeric field falls in, the
 * category a text field equals, PX_POLL_UNKNOWN when the field is absent
 * or matches none. Only these indices leave; no value the survey did not
 * ask for is read into the ballot. */
int px_poll_fill(const px_poll_survey *s, const uint8_t *records, size_t len, uint8_t *demo, size_t *ndemo,
                 px_err *err);

/* ---- the tally ---------------------------------------------------------------
 *
 * The tally λ offers every ballot it received, in the order the ballot
 * boxes received them (time, then the sealed bytes' digest), to an
 * accumulator that accepts a ballot only when it opens, parses, is for
 * this poll, arrived between opening and closing, answers within the
 * survey, and carries a valid token not spent before; a token is spent by
 * the first ballot accepted with it. Everything else is refused and
 * counted by reason. The release adds discrete Laplace noise to every
 * table (pixiu/dp.h) with the survey's ε split evenly between the tables,
 * and applies the survey's small-cell rule to the noisy counts. */
#define PX_POLL_MAX_BALLOTS (1u << 22)
#define PX_POLL_RESULT_SCHEMA "urn:pixiu:poll-result:v1"

typedef enum px_poll_reason {
    PX_POLL_ACCEPTED = 0,
    PX_POLL_MALFORMED,  /* does not open, does not parse, answers outside the survey */
    PX_POLL_WRONG_POLL, /* ballot or token for another poll */
    PX_POLL_BAD_TOKEN,  /* token of another key, or its signature fails */
    PX_POLL_SPENT,      /* token already counted */
    PX_POLL_REPLAYED,   /* the same sealed ballot again */
    PX_POLL_LATE,       /* received after the poll closed */
    PX_POLL_EARLY,      /* received before it opened */
    PX_POLL_NREASONS
} px_poll_reason;

const char *px_poll_reason_name(px_poll_reason r);

typedef struct px_poll_tally px_poll_tally;

/* kp opens the sealed ballots (the tally instance's key); s is borrowed. */
int px_poll_tally_new(px_poll_tally **out, const px_poll_survey *s, const px_box_keypair *kp, px_err *err);
void px_poll_tally_free(px_poll_tally *t);
/* Offer one sealed ballot received at `received` (ms). why, when not
 * NULL, says why a refused ballot was refused. A full tally (more than
 * PX_POLL_MAX_BALLOTS) returns -1; otherwise 0 with *reason set. */
int px_poll_tally_offer(px_poll_tally *t, const uint8_t *sealed, size_t len, int64_t received,
                        px_poll_reason *reason, px_err *why);
/* Counts so far: per reason (index 0: accepted) and received in all. */
void px_poll_tally_counts(const px_poll_tally *t, uint64_t counts[PX_POLL_NREASONS], uint64_t *received);
/* The spent list: SHA-256("PIXIU-poll-spent-v1\n" || the accepted tokens
 * sorted by nonce), and the tokens themselves (appended). */
int px_poll_tally_spent(px_poll_tally *t, uint8_t digest[PX_SHA256_BYTES], px_buf *tokens, size_t *n,
                        px_err *err);
void px_poll_spent_digest(uint8_t digest[PX_SHA256_BYTES], const uint8_t *tokens, size_t len);

/* The DP release (result JSON, PX_POLL_RESULT_SCHEMA, appended to out;
 * it includes the spent tokens) and the public report for the tally's
 * proof: issued (from the issuer's statement), received, accepted,
 * refused by reason, the spent list's digest, ε. rng: px_dp_rng_init. */
struct px_dp_rng;
int px_poll_tally_release(px_poll_tally *t, struct px_dp_rng *rng, uint64_t issued, px_buf *out, json_t **report,
                          px_err *err);

/* ---- what the parties publish and hand on (docs/polls.md) --------------------
 *
 * Statements are in-toto Statement v1 in DSSE, subject "poll" = the poll
 * id, so the log indexes them under the poll:
 *   poll         the conductor: the survey and the attested tally instance
 *   poll-issue   the issuer, per token: the member (SHA-256 of its key) and
 *                the blinded message's digest
 *   poll-issued  the issuer, at close: tokens issued, requests refused
 *   poll-spent   the conductor: the tally's spent tokens, in parts
 * and release statements (urn:pixiu:predicate:release:v1) by the issuer
 * and each ballot box for what they seal to the tally instance. */
#define PX_POLL_TALLY_KIND "poll-tally"
#define PX_POLL_PREDICATE "urn:pixiu:predicate:poll:v1"
#define PX_POLL_ISSUE_PREDICATE "urn:pixiu:predicate:poll-issue:v1"
#define PX_POLL_ISSUED_PREDICATE "urn:pixiu:predicate:poll-issued:v1"
#define PX_POLL_SPENT_PREDICATE "urn:pixiu:predicate:poll-spent:v1"
#define PX_POLL_BALLOT_RECEIPT_TYPE "application/vnd.pixiu.ballot-receipt+json"
#define PX_POLL_ISSUER_MAGIC "PXIS" /* payload: "PXIS" || poll-issued envelope */
#define PX_POLL_BOX_MAGIC "PXBB"    /* payload: "PXBB" || n u32le || n x (received i64le || len u32le || sealed) */
/* A part is one log entry, and an entry is at most PX_LOG_ENTRY_MAX bytes
 * (tile bundles use 16-bit lengths): 48 tokens of the largest RSA size,
 * base64 in the statement and again in its DSSE envelope, are ~55 KB. */
#define PX_POLL_SPENT_PER_PART 48
#define PX_POLL_PLAN_MAX_BYTES (1u << 20)

/* The issuer's count at close. */
typedef struct px_poll_issued {
    uint8_t poll[PX_POLL_ID_BYTES];
    uint64_t issued;       /* tokens issued (first requests signed) */
    uint64_t not_eligible; /* refused: not on the list / no valid credential */
    uint64_t again;        /* refused: a second, different request of a member */
    uint64_t invalid;      /* refused: malformed requests */
    int64_t closed;        /* ms */
} px_poll_issued;

int px_poll_issued_sign(px_buf *out, const px_poll_issued *st, const px_signer *issuer, px_err *err);
int px_poll_issued_verify(px_poll_issued *out, const void *env, size_t len, const px_verifier *issuer,
                          px_err *err);
int px_poll_issue_sign(px_buf *out, const uint8_t poll[PX_POLL_ID_BYTES], const uint8_t member_pk[32],
                       const uint8_t *blinded, size_t blen, int64_t issued, const px_signer *issuer, px_err *err);

/* A release statement for a payload sealed to the tally instance. */
int px_poll_release_sign(px_buf *out, const uint8_t poll[PX_POLL_ID_BYTES], const char *from, const char *dataset,
                         const uint8_t commit[PX_SHA256_BYTES], uint64_t records,
                         const uint8_t stage_key[PX_BOX_PUBLICKEYBYTES], const px_signer *key, px_err *err);

/* A ballot box's batch. */
typedef struct px_poll_boxed {
    int64_t received;
    const uint8_t *sealed; /* borrowed from the payload */
    size_t len;
} px_poll_boxed;

int px_poll_box_append(px_buf *payload, int64_t received, const uint8_t *sealed, size_t len, px_err *err);
/* payload must start with an empty "PXBB" header from px_poll_box_begin. */
int px_poll_box_begin(px_buf *payload, px_err *err);
int px_poll_box_parse(const uint8_t *p, size_t len, px_poll_boxed **out, size_t *n, px_err *err);

/* What a box hands a voter: its signature over the poll, the sealed
 * ballot's digest and when it was received. */
int px_poll_ballot_receipt_sign(px_buf *out, const uint8_t poll[PX_POLL_ID_BYTES],
                                const uint8_t ballot[PX_SHA256_BYTES], int64_t received, const px_signer *box,
                                px_err *err);
int px_poll_ballot_receipt_verify(const void *env, size_t len, const px_verifier *box,
                                  const uint8_t poll[PX_POLL_ID_BYTES], const uint8_t ballot[PX_SHA256_BYTES],
                                  int64_t *received, px_err *err);

/* The spent list in the log: parts of at most PX_POLL_SPENT_PER_PART
 * tokens, signed by the conductor. *out (n buffers) is malloc'd. */
int px_poll_spent_parts(px_buf **out, size_t *n, const uint8_t poll[PX_POLL_ID_BYTES], const uint8_t *tokens,
                        size_t len, const px_signer *conductor, px_err *err);
int px_poll_spent_part_read(const void *env, size_t len, const px_verifier *conductor,
                            const uint8_t poll[PX_POLL_ID_BYTES], uint32_t *part, uint32_t *parts, px_buf *tokens,
                            px_err *err);

/* ---- the poll statement: the survey and its attested tally instance ------- */

typedef struct px_poll_plan {
    uint8_t id[PX_SHA256_BYTES]; /* SHA-256 of the statement envelope */
    px_buf envelope;
    px_poll_survey survey;
    char node[PX_POLL_NAME_MAX + 1]; /* the executor hosting the tally */
    uint8_t nonce[PX_TEE_NONCE_BYTES];
    px_buf config, evidence;
    int64_t created;
} px_poll_plan;

int px_poll_plan_sign(px_buf *out, const px_buf *survey_env, const char *node,
                      const uint8_t nonce[PX_TEE_NONCE_BYTES], const px_buf *config, const px_buf *evidence,
                      const px_signer *conductor, px_err *err);
/* Parses, and verifies the conductor's signature (the survey's key). */
int px_poll_plan_parse(px_poll_plan *p, const void *env, size_t len, px_err *err);
void px_poll_plan_free(px_poll_plan *p);

/* The tally instance's attested config for a survey (the conductor builds
 * it before recruiting): stage 0 of kind poll-tally, its output sealed to
 * the receiver, input from the issuer and the boxes, the network's log,
 * the survey's tally_by as deadline, params {"survey": "<base64>"}. */
int px_poll_config_build(px_buf *out, const px_poll_survey *s, const uint8_t receiver[PX_BOX_PUBLICKEYBYTES],
                         const px_verifier *log_key, px_err *err);

/* A config is exactly what px_poll_config_build makes for the survey on
 * this log, with any single receiver. */
int px_poll_config_check(const px_poll_survey *s, const uint8_t *config, size_t len, const px_verifier *log_key,
                         px_err *err);

/* What an instance's evidence vouches for, once checked. */
typedef struct px_poll_attested {
    uint32_t level;
    uint8_t build[PX_SHA256_BYTES];
    uint8_t measurement[PX_SHA256_BYTES];
    uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES];
    uint8_t box_pk[PX_BOX_PUBLICKEYBYTES];
    uint8_t evidence_digest[PX_SHA256_BYTES];
} px_poll_attested;

/* The checks every party runs before trusting a poll's tally instance:
 * the evidence is signed by the platform key of the node the plan names,
 * answers its nonce, names an accepted build and measures exactly a
 * poll-tally stage with this config; the config is exactly the one
 * px_poll_config_build makes for this survey (any receiver) on this log. */
int px_poll_plan_check(const px_poll_plan *p, const px_verifier *platform, const uint8_t (*builds)[PX_SHA256_BYTES],
                       size_t nbuilds, const px_verifier *log_key, px_poll_attested *out, px_err *err);

/* The tally as a trust-λ stage kind (built in, registered in pixiu_worker). */
extern const px_stage_kind px_poll_stage_kind;
/* OpenSSL's SHA-384 fetched before a worker's syscall filter. */
int px_poll_preload(px_err *err);

/* ---- the issuer's state (a node role, docs/polls.md) -------------------------
 *
 * SQLite under the issuer node's directory: the poll keys it made (each
 * for one conductor, bound to one poll once opened), each open poll's
 * statement and member list, and one row per member who got a token. A
 * token is signed only after the row is durable; a member asking again
 * with the same blinded message gets the same answer (a lost reply), with
 * any other message a refusal. Refusals are counted durably. */
typedef struct px_poll_issuer px_poll_issuer;

int px_poll_issuer_open(px_poll_issuer **out, const char *path, px_err *err);
void px_poll_issuer_close(px_poll_issuer *is);
/* A fresh RSA key of `bits` for a poll `owner` (a conductor's node id) is
 * preparing; its SPKI is appended to spki. */
int px_poll_issuer_new_key(px_poll_issuer *is, const char *owner, unsigned bits, px_buf *spki, px_err *err);
/* Open a poll from its statement (already checked by the caller against
 * the membership): the survey's issuer key must be `self`, its token key
 * one this issuer made for `owner` and not bound to another poll; for a
 * list poll, members is the list whose digest the survey names. */
int px_poll_issuer_open_poll(px_poll_issuer *is, const char *owner, const px_verifier *self, const uint8_t *plan,
                             size_t len, const uint8_t *members, size_t mlen, px_err *err);

typedef struct px_poll_issue_req {
    const uint8_t *poll;      /* 32 bytes */
    const uint8_t *member;    /* the requester's Ed25519 key (its signed request) */
    const uint8_t *blinded;
    size_t blen;
    const uint8_t *credential; /* credential polls: the DSSE credential */
    size_t clen;
    int64_t now;
} px_poll_issue_req;

/* The blind signature (appended to blind_sig), or a refusal naming why:
 * PX_E_NOTFOUND no such poll, PX_E_DENIED not eligible or closed,
 * PX_E_STATE the member already holds a token, PX_E_INVALID malformed.
 * *issued_at receives when the member's token was issued; *fresh is 1 when
 * this call issued it (0 for a repeated answer). */
int px_poll_issuer_issue(px_poll_issuer *is, const px_poll_issue_req *r, px_buf *blind_sig, int64_t *issued_at,
                         int *fresh, px_err *err);
/* Close issuance (not before the poll closes): the count at close. A
 * second close returns the same count. */
int px_poll_issuer_close_poll(px_poll_issuer *is, const uint8_t poll[PX_POLL_ID_BYTES], int64_t now,
                              px_poll_issued *out, px_err *err);
/* The poll statement the poll was opened with. */
int px_poll_issuer_plan(px_poll_issuer *is, const uint8_t poll[PX_POLL_ID_BYTES], px_buf *plan, px_err *err);

/* ---- a ballot box's state (executors, docs/polls.md) -------------------------
 *
 * Sealed ballots as they arrived, durably, per poll, until the box
 * releases them to the tally instance; a ballot of the wrong size (a
 * sealed ballot's size is fixed by the survey) or for an unknown or
 * released poll is refused; one received after the poll closed is kept
 * (the tally counts it as refused, late) and the submitter told so. */
typedef struct px_poll_box px_poll_box;

int px_poll_box_open(px_poll_box **out, const char *path, px_err *err);
void px_poll_box_close(px_poll_box *b);
int px_poll_box_open_poll(px_poll_box *b, const uint8_t *plan, size_t len, px_err *err);
/* Keep a sealed ballot: 0 kept in time, -1 with PX_E_DENIED kept but late,
 * other codes refused. *received: the time recorded. */
int px_poll_box_accept(px_poll_box *b, const uint8_t poll[PX_POLL_ID_BYTES], const uint8_t *sealed, size_t len,
                       int64_t now, int64_t *received, px_err *err);
/* Close the box for this poll and build its batch (PXBB). */
int px_poll_box_release(px_poll_box *b, const uint8_t poll[PX_POLL_ID_BYTES], int64_t now, px_buf *payload,
                        uint64_t *n, px_err *err);
int px_poll_box_plan(px_poll_box *b, const uint8_t poll[PX_POLL_ID_BYTES], px_buf *plan, px_err *err);
/* The size of every sealed ballot of a survey. */
size_t px_poll_ballot_sealed_size(const px_poll_survey *s);

/* ---- the poll receipt ------------------------------------------------------
 *
 * JSON (PX_POLL_RECEIPT_TYPE): the log entries that make the poll's
 * outcome (its statement, the issuer's count, every release to the tally,
 * the tally's accepted statement and proof, the spent list's parts), each
 * with its inclusion proof against one checkpoint the witnesses cosigned,
 * and the released result with its commitment randomness, so a reader can
 * check offline: who was eligible and how many tokens were issued, every
 * ballot received, accepted or refused and why, that no token counted
 * twice and each was the poll key's, and that the result is what the
 * attested tally released. */
#define PX_POLL_RECEIPT_TYPE "urn:pixiu:poll-receipt:v1"
#define PX_POLL_RECEIPT_MAX_ENTRIES 100000

typedef struct px_poll_entry {
    const char *role; /* "poll", "issued", "release", "accepted", "proof", "spent" */
    uint64_t index;
    const uint8_t *entry;
    size_t len;
    const uint8_t *proof; /* inclusion proof, 32-byte hashes */
    size_t nproof;
} px_poll_entry;

int px_poll_receipt_build(px_buf *out, const uint8_t poll[PX_POLL_ID_BYTES], const char *checkpoint, size_t clen,
                          const px_poll_entry *entries, size_t n, const uint8_t *result, size_t rlen,
                          const uint8_t r[PX_COMMIT_RANDBYTES], px_err *err);

/* What a reader trusts: the log's key, the witnesses that must all have
 * cosigned, and how the poll statement is judged (the membership's keys
 * and accepted builds: px_node_poll_check). */
typedef int (*px_poll_plan_fn)(void *ctx, const uint8_t *plan, size_t len, px_poll_plan *out,
                               px_poll_attested *att, px_err *err);

typedef struct px_poll_trust {
    const px_verifier *log_key;
    const px_cosigner *witnesses;
    size_t nwitnesses;
    px_poll_plan_fn check_plan;
    void *ctx;
} px_poll_trust;

typedef struct px_poll_summary {
    uint8_t poll[PX_POLL_ID_BYTES];
    char name[PX_POLL_NAME_MAX + 1];
    px_poll_issued issuer;
    uint64_t members; /* eligible, when the survey says */
    uint64_t received, accepted;
    uint64_t refused[PX_POLL_NREASONS];
    uint64_t spent;
    size_t releases;   /* the issuer's and the boxes' */
    char epsilon[48];
    uint64_t log_size;
    size_t witnesses;
    px_buf result;     /* the result JSON */
} px_poll_summary;

int px_poll_receipt_verify(const void *json, size_t len, const px_poll_trust *t, px_poll_summary *s, px_err *err);
void px_poll_summary_free(px_poll_summary *s);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
