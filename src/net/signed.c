/* Signed requests: every request between nodes carries the sender's id, a
 * time, a nonce and an Ed25519 signature by the sender's node key over
 *
 *   "pixiu-request-v1\n" node "\n" to "\n" METHOD "\n" path "\n" query "\n"
 *   hex(SHA-256(body)) "\n" time "\n" hex(nonce) "\n"
 *
 * The receiver checks the key from the membership, the time against its
 * clock, and that the nonce was not used within the window. The body's
 * digest also travels as a header, so a receiver can check all of this
 * before it reads the body (and then that the body has that digest). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "pixiu/net.h"

#define PX_REQ_DOMAIN "pixiu-request-v1\n"
#define PX_REPLAY_KEY_BYTES 16
#define PX_REPLAY_MIN_SLOTS 1024u

int px_request_message(px_buf *out, const char *node, const char *to, const char *method, const char *path,
                       const char *query,
                       const uint8_t body_digest[PX_SHA256_BYTES], int64_t time_ms,
                       const uint8_t nonce[PX_REQ_NONCE_BYTES], px_err *err) {
    char dh[2 * PX_SHA256_BYTES + 1], nh[2 * PX_REQ_NONCE_BYTES + 1];
    px_hex_encode(dh, body_digest, PX_SHA256_BYTES);
    px_hex_encode(nh, nonce, PX_REQ_NONCE_BYTES);
    /* Newlines inside a field would let two requests share a message. */
    if (strchr(node, '\n') || strchr(to, '\n') || strchr(method, '\n') || strchr(path, '\n') || strchr(query, '\n'))
        return px_fail(err, PX_E_INVALID, "request field contains a newline");
    return px_buf_printf(out, err, PX_REQ_DOMAIN "%s\n%s\n%s\n%s\n%s\n%s\n%" PRId64 "\n%s\n", node, to, method, path,
                         query, dh, time_ms, nh);
}

int px_request_sign(px_request_auth *a, const px_signer *key, const char *node, const char *to, const char *method,
                    const char *path, const char *query, const void *body, size_t body_len, int64_t time_ms,
                    px_err *err) {
    uint8_t digest[PX_SHA256_BYTES], nonce[PX_REQ_NONCE_BYTES], sig[PX_SIGN_BYTES];
    if (strlen(node) > PX_MEMBER_ID_MAX)
        return px_fail(err, PX_E_INVALID, "node id too long");
    px_sha256(digest, body, body_len);
    px_random(nonce, sizeof nonce);
    px_buf msg = PX_BUF_INIT;
    if (px_request_message(&msg, node, to, method, path, query, digest, time_ms, nonce, err)) {
        px_buf_free(&msg);
        return -1;
    }
    px_sign_detached(sig, msg.data, msg.len, &key->kp);
    px_buf_free(&msg);
    strcpy(a->node, node);
    px_hex_encode(a->digest, digest, sizeof digest);
    snprintf(a->time, sizeof a->time, "%" PRId64, time_ms);
    px_hex_encode(a->nonce, nonce, sizeof nonce);
    px_b64_encode(a->sig, sig, sizeof sig);
    return 0;
}

/* ---- replay cache ------------------------------------------------------------ */

typedef struct slot {
    uint8_t key[PX_REPLAY_KEY_BYTES];
    int64_t expires; /* 0 = never used */
} slot;

struct px_replay {
    pthread_mutex_t mu;
    int64_t window, start;
    size_t max, cap, used; /* used counts slots ever filled since the last rebuild */
    slot *slots;
};

int px_replay_new(px_replay **out, int64_t window_ms, int64_t start_ms, size_t max_entries, px_err *err) {
    px_replay *r = calloc(1, sizeof *r);
    if (!r || !(r->slots = calloc(PX_REPLAY_MIN_SLOTS, sizeof *r->slots))) {
        free(r);
        return px_fail(err, PX_E_NOMEM, "out of memory for the replay cache");
    }
    pthread_mutex_init(&r->mu, NULL);
    r->window = window_ms > 0 ? window_ms : PX_REQ_WINDOW_MS_DEFAULT;
    r->start = start_ms;
    r->max = max_entries ? max_entries : PX_REPLAY_MAX_DEFAULT;
    r->cap = PX_REPLAY_MIN_SLOTS;
    *out = r;
    return 0;
}

void px_replay_free(px_replay *r) {
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r->slots);
    free(r);
}

static size_t slot_of(const px_replay *r, const uint8_t *key) {
    return (size_t)px_load_u64le(key) & (r->cap - 1);
}

/* Rehash the live entries into a table sized for them (at most half full). */
static int rebuild(px_replay *r, int64_t now) {
    size_t live = 0;
    for (size_t i = 0; i < r->cap; i++)
        live += r->slots[i].expires > now;
    size_t cap = PX_REPLAY_MIN_SLOTS;
    while (cap < 4 * live)
        cap *= 2;
    slot *old = r->slots, *fresh = calloc(cap, sizeof *fresh);
    if (!fresh)
        return -1;
    size_t oldcap = r->cap;
    r->slots = fresh;
    r->cap = cap;
    r->used = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].expires <= now)
            continue;
        size_t j = slot_of(r, old[i].key);
        while (r->slots[j].expires)
            j = (j + 1) & (cap - 1);
        r->slots[j] = old[i];
        r->used++;
    }
    free(old);
    return 0;
}

/* 0 and remembered if new; -1 with err if seen or the cache is full. */
static int remember(px_replay *r, const uint8_t *key, int64_t now, px_err *err) {
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    if (2 * (r->used + 1) > r->cap && rebuild(r, now))
        rc = px_fail(err, PX_E_NOMEM, "out of memory in the replay cache");
    if (rc == 0 && r->used >= r->max && (rebuild(r, now) || r->used >= r->max))
        rc = px_fail(err, PX_E_LIMIT, "replay cache full (%zu requests within the window)", r->max);
    size_t i = rc ? 0 : slot_of(r, key);
    /* Expired slots still take part in probing so later keys stay found. */
    while (rc == 0 && r->slots[i].expires) {
        if (r->slots[i].expires > now && !memcmp(r->slots[i].key, key, PX_REPLAY_KEY_BYTES)) {
            rc = px_fail(err, PX_E_STATE, "replayed request: this nonce was already used");
            break;
        }
        i = (i + 1) & (r->cap - 1);
    }
    if (rc == 0) {
        memcpy(r->slots[i].key, key, PX_REPLAY_KEY_BYTES);
        /* Kept for twice the window: a request is valid from time-window
         * to time+window of the receiver's clock. */
        r->slots[i].expires = now + 2 * r->window + 1;
        r->used++;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* ---- verifying ------------------------------------------------------------------ */

static int parse_time(const char *s, int64_t *out) {
    size_t n = strlen(s);
    if (n == 0 || n > 18)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int headers(const px_http_request *req, const char **node, const char **time, const char **nonce,
                   const char **sig, px_err *err) {
    *node = px_http_request_header(req, PX_REQ_HDR_NODE);
    *time = px_http_request_header(req, PX_REQ_HDR_TIME);
    *nonce = px_http_request_header(req, PX_REQ_HDR_NONCE);
    *sig = px_http_request_header(req, PX_REQ_HDR_SIG);
    if (!*node || !*time || !*nonce || !*sig)
        return px_fail(err, PX_E_DENIED, "unsigned request: the %s, %s, %s and %s headers are required",
                       PX_REQ_HDR_NODE, PX_REQ_HDR_TIME, PX_REQ_HDR_NONCE, PX_REQ_HDR_SIG);
    return 0;
}

/* Everything but the body: the signature is checked over the given body
 * digest, then the time, then the nonce is remembered. */
static int verify_signed(const px_membership *m, const char *self, px_replay *r, const px_http_request *req,
                         const uint8_t digest[PX_SHA256_BYTES], int64_t now, const px_member **sender, px_err *err) {
    const char *node, *time, *nonce_hex, *sig_b64;
    if (headers(req, &node, &time, &nonce_hex, &sig_b64, err))
        return -1;
    const px_member *who = px_membership_find(m, node);
    if (!who)
        return px_fail(err, PX_E_DENIED, "request from \"%.64s\", which is not a member", node);
    int64_t t;
    uint8_t nonce[PX_REQ_NONCE_BYTES], sig[PX_SIGN_BYTES];
    if (parse_time(time, &t))
        return px_fail(err, PX_E_VERIFY, "request time is not a decimal number of milliseconds");
    if (px_hex_decode_exact(nonce, sizeof nonce, nonce_hex, strlen(nonce_hex), err) ||
        px_b64_decode_exact(sig, sizeof sig, sig_b64, strlen(sig_b64), err))
        return px_fail(err, PX_E_VERIFY, "request nonce or signature is malformed");
    px_buf msg = PX_BUF_INIT;
    int rc = px_request_message(&msg, node, self, req->method, req->path, req->query ? req->query : "", digest, t,
                                nonce, err);
    if (rc == 0 && px_sign_verify(sig, msg.data, msg.len, who->signing.pk, NULL))
        rc = px_fail(err, PX_E_VERIFY, "request signature by \"%s\" does not verify", node);
    px_buf_free(&msg);
    if (rc)
        return -1;
    if (t < now - r->window || t > now + r->window)
        return px_fail(err, PX_E_STATE, "request time is %" PRId64 " ms from this node's clock (window %" PRId64
                       " ms)", t - now, r->window);
    if (t < r->start)
        return px_fail(err, PX_E_STATE, "request was signed before this node started: refused as a possible replay");
    /* The key binds the nonce to its sender and time. */
    uint8_t key[PX_SHA256_BYTES];
    const void *parts[] = {node, "\n", nonce};
    size_t lens[] = {strlen(node), 1, sizeof nonce};
    px_sha256_parts(key, 3, parts, lens);
    if (remember(r, key, now, err))
        return -1;
    if (sender)
        *sender = who;
    return 0;
}

/* The declared body digest, if the header is there (1), malformed (-1). */
static int declared_digest(const px_http_request *req, uint8_t digest[PX_SHA256_BYTES], px_err *err) {
    const char *d = px_http_request_header(req, PX_REQ_HDR_DIGEST);
    if (!d)
        return 0;
    if (px_hex_decode_exact(digest, PX_SHA256_BYTES, d, strlen(d), err))
        return px_fail(err, PX_E_VERIFY, "the %s header is not a hex SHA-256 digest", PX_REQ_HDR_DIGEST);
    return 1;
}

int px_request_verify(const px_membership *m, const char *self, px_replay *r, const px_http_request *req,
                      int64_t now, const px_member **sender, px_err *err) {
    uint8_t digest[PX_SHA256_BYTES], declared[PX_SHA256_BYTES];
    px_sha256(digest, req->body, req->body_len);
    int d = declared_digest(req, declared, err);
    if (d < 0)
        return -1;
    if (d == 1 && !px_ct_equal(digest, declared, PX_SHA256_BYTES))
        return px_fail(err, PX_E_VERIFY, "the request body is not the one its signature covers");
    return verify_signed(m, self, r, req, digest, now, sender, err);
}

int px_request_verify_head(const px_membership *m, const char *self, px_replay *r, const px_http_request *req,
                           int64_t now, uint8_t body_digest[PX_SHA256_BYTES], const px_member **sender,
                           px_err *err) {
    int d = declared_digest(req, body_digest, err);
    if (d < 0)
        return -1;
    if (d == 0)
        return px_fail(err, PX_E_DENIED, "unsigned request: the %s header is required", PX_REQ_HDR_DIGEST);
    return verify_signed(m, self, r, req, body_digest, now, sender, err);
}

int px_request_body_check(const px_http_request *req, const uint8_t body_digest[PX_SHA256_BYTES], px_err *err) {
    uint8_t d[PX_SHA256_BYTES];
    px_sha256(d, req->body, req->body_len);
    if (!px_ct_equal(d, body_digest, PX_SHA256_BYTES))
        return px_fail(err, PX_E_VERIFY, "the request body is not the one its signature covers");
    return 0;
}

int px_request_refusal_status(px_code code) {
    switch (code) {
    case PX_E_VERIFY: return 401;
    case PX_E_DENIED: return 403;
    case PX_E_STATE: return 409;
    case PX_E_LIMIT: return 503;
    default: return 400;
    }
}

int px_signed_call(const px_signer *key, const char *node, const char *to, const char *method,
                   const char *base_url, const char *path, const void *body, size_t body_len, long timeout_ms, size_t max_resp, int *status,
                   px_buf *resp, px_err *err) {
    return px_signed_call_with(key, node, to, method, base_url, path, NULL, 0, body, body_len, timeout_ms, max_resp,
                               status, resp, err);
}

#define PX_SIGNED_EXTRA_MAX 4

int px_signed_call_with(const px_signer *key, const char *node, const char *to, const char *method,
                        const char *base_url, const char *path, const px_http_header *extra, size_t nextra,
                        const void *body, size_t body_len, long timeout_ms, size_t max_resp, int *status,
                        px_buf *resp, px_err *err) {
    char p[PX_MEMBER_URL_MAX * 4], url[PX_MEMBER_URL_MAX * 5];
    if (nextra > PX_SIGNED_EXTRA_MAX)
        return px_fail(err, PX_E_LIMIT, "more than %d extra headers", PX_SIGNED_EXTRA_MAX);
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p ||
        snprintf(url, sizeof url, "%s%s", base_url, path) >= (int)sizeof url)
        return px_fail(err, PX_E_LIMIT, "request path too long");
    char *q = strchr(p, '?');
    const char *query = "";
    if (q) {
        *q = 0;
        query = q + 1;
    }
    px_request_auth a;
    if (px_request_sign(&a, key, node, to, method, p, query, body, body_len, px_now_ms(), err))
        return -1;
    px_http_header h[5 + PX_SIGNED_EXTRA_MAX] = {{PX_REQ_HDR_NODE, a.node},
                                                 {PX_REQ_HDR_TIME, a.time},
                                                 {PX_REQ_HDR_NONCE, a.nonce},
                                                 {PX_REQ_HDR_SIG, a.sig},
                                                 {PX_REQ_HDR_DIGEST, a.digest}};
    for (size_t i = 0; i < nextra; i++)
        h[5 + i] = extra[i];
    return px_http_call(method, url, h, 5 + nextra, body, body_len, timeout_ms, max_resp, status, resp, err);
}
