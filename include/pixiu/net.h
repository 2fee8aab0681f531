/* PIXIU network membership and signed requests.
 *
 * The network is fixed: a membership file lists every node, its URL, its
 * node signing key, its TEE platform key, its TEE backend and security
 * level, and the roles it plays. Every request between nodes is signed by
 * the sender's node key over the method, path, query, body digest, time and
 * a nonce; a receiver refuses unknown senders, bad signatures, stale times
 * and replayed nonces. The transport itself stays untrusted: what matters
 * (data, code, results) is sealed to attested keys and proven by signed
 * statements. Formats in docs/network.md.
 */
#ifndef PIXIU_NET_H
#define PIXIU_NET_H

#include "pixiu/crypto.h"
#include "pixiu/http.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

#define PX_MEMBERSHIP_SCHEMA "urn:pixiu:membership:v1"
#define PX_MEMBERSHIP_MAX_BYTES (16u << 20)
#define PX_MEMBERSHIP_MAX_NODES 10000
#define PX_MEMBER_ID_MAX PX_ID_MAX
#define PX_MEMBER_URL_MAX 256
#define PX_MEMBER_TEE_MAX 31

/* Roles a node can play (bits). */
enum {
    PX_ROLE_POD = 1u << 0,
    PX_ROLE_EXECUTOR = 1u << 1,
    PX_ROLE_LOG = 1u << 2,
    PX_ROLE_WITNESS = 1u << 3,
    PX_ROLE_CONSUMER = 1u << 4,
    PX_ROLE_ISSUER = 1u << 5 /* issues poll tokens (docs/polls.md) */
};
#define PX_ROLE_LAST PX_ROLE_ISSUER

/* Parse a role name ("pod", "executor", "log", "witness", "consumer",
 * "issuer"). */
int px_role_parse(const char *name, unsigned *bit);
const char *px_role_name(unsigned bit);
/* The "roles" member of o (a membership node or a node config): a non-empty
 * array of role names, none twice, into a bit set. */
int px_roles_read(const json_t *o, unsigned *roles, px_err *err);

typedef struct px_member {
    char id[PX_MEMBER_ID_MAX + 1];
    char url[PX_MEMBER_URL_MAX + 1]; /* http(s)://host:port, no trailing '/' */
    px_verifier signing;             /* node key: requests, releases, plans */
    int has_platform;
    px_verifier platform;            /* TEE platform key: evidence */
    int has_box;
    uint8_t box_pk[PX_BOX_PUBLICKEYBYTES]; /* node X25519 key (receivers) */
    char tee[PX_MEMBER_TEE_MAX + 1]; /* backend name, "" if none */
    int level;                       /* TEE security level */
    unsigned roles;                  /* PX_ROLE_* bits */
} px_member;

typedef struct px_membership {
    px_member *nodes; /* owned */
    size_t n;
} px_membership;

/* Strict parse: unknown fields, duplicate ids or signing keys, bad URLs,
 * executors without a platform key: each a one-line error. */
int px_membership_parse(px_membership *m, const void *json, size_t len,
                        px_err *err);
int px_membership_load(px_membership *m, const char *path, px_err *err);
void px_membership_free(px_membership *m);
const px_member *px_membership_find(const px_membership *m, const char *id);

/* ---- signed requests ------------------------------------------------------ */

#define PX_REQ_HDR_NODE "Pixiu-Node"
#define PX_REQ_HDR_TIME "Pixiu-Time"
#define PX_REQ_HDR_NONCE "Pixiu-Nonce"
#define PX_REQ_HDR_SIG "Pixiu-Signature"
#define PX_REQ_HDR_DIGEST "Pixiu-Body-Digest" /* hex SHA-256 of the body, as signed */
#define PX_REQ_NONCE_BYTES 16
#define PX_REQ_WINDOW_MS_DEFAULT 120000 /* accepted clock difference */
#define PX_REPLAY_MAX_DEFAULT (1u << 20) /* nonces remembered at once */

/* The exact bytes a request signature covers (docs/network.md). */
int px_request_message(px_buf *out, const char *node, const char *to,
                       const char *method,
                       const char *path, const char *query,
                       const uint8_t body_digest[PX_SHA256_BYTES],
                       int64_t time_ms, const uint8_t nonce[PX_REQ_NONCE_BYTES],
                       px_err *err);

/* The four header values of a signed request. */
typedef struct px_request_auth {
    char node[PX_MEMBER_ID_MAX + 1];
    char time[24];
    char nonce[2 * PX_REQ_NONCE_BYTES + 1];
    char sig[96];
    char digest[2 * PX_SHA256_BYTES + 1];
} px_request_auth;

/* Sign a request from node `node` to node `to` with node's key, at time_ms
 * with a fresh nonce. query is "" when there is none. */
int px_request_sign(px_request_auth *a, const px_signer *key, const char *node,
                    const char *to, const char *method, const char *path, const char *query,
                    const void *body, size_t body_len, int64_t time_ms,
                    px_err *err);

/* Remembers the nonces seen within the time window; thread-safe. Requests
 * signed before start_ms are refused, so a restart cannot open a window for
 * replaying requests captured earlier. */
typedef struct px_replay px_replay;

int px_replay_new(px_replay **out, int64_t window_ms, int64_t start_ms,
                  size_t max_entries, px_err *err);
void px_replay_free(px_replay *r);

/* Check a request addressed to node `self`: known sender, valid signature, time
 * within the window of now, nonce not seen before (then remembered).
 * *sender (may be NULL) points into m. Refusals are PX_E_DENIED (unknown
 * sender), PX_E_VERIFY (signature), PX_E_STATE (stale or replayed) or
 * PX_E_LIMIT (the replay cache is full). */
int px_request_verify(const px_membership *m, const char *self, px_replay *r,
                      const px_http_request *req, int64_t now,
                      const px_member **sender, px_err *err);

/* The same checks from the headers alone, before the body is read: the
 * signature covers the body digest the Pixiu-Body-Digest header declares
 * (required here), which *body_digest receives; the nonce is remembered.
 * Check the body once it has arrived with px_request_body_check. */
int px_request_verify_head(const px_membership *m, const char *self, px_replay *r, const px_http_request *req,
                           int64_t now, uint8_t body_digest[PX_SHA256_BYTES], const px_member **sender,
                           px_err *err);
/* PX_E_VERIFY unless the request's body has the digest its signature covers. */
int px_request_body_check(const px_http_request *req, const uint8_t body_digest[PX_SHA256_BYTES], px_err *err);

/* HTTP status for a refusal's code: 401, 403, 409, 503. */
int px_request_refusal_status(px_code code);

/* A signed call from node `node` to member `to`: base_url + path with the
 * signature headers. Other arguments as px_http_call. */
int px_signed_call(const px_signer *key, const char *node, const char *to,
                   const char *method,
                   const char *base_url, const char *path, const void *body,
                   size_t body_len, long timeout_ms, size_t max_resp,
                   int *status, px_buf *resp, px_err *err);
/* The same with up to 4 more headers (e.g. Content-Type, Accept), which
 * the signature does not cover: they only say how the body is written,
 * and the body itself is signed. */
int px_signed_call_with(const px_signer *key, const char *node, const char *to, const char *method,
                        const char *base_url, const char *path, const px_http_header *extra, size_t nextra,
                        const void *body, size_t body_len, long timeout_ms, size_t max_resp, int *status,
                        px_buf *resp, px_err *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
