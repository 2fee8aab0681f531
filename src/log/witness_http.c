/* C2SP tlog-witness over HTTP: the add-checkpoint endpoint of a witness and
 * the client that talks to it.
 *
 *   POST <prefix>/add-checkpoint
 *   body: "old <size>\n" <base64 proof hash "\n">... "\n" <signed checkpoint>
 *
 * 200: the witness's cosignature line(s); 404 unknown origin; 403 no valid
 * log signature; 400 malformed or old > size; 409 old size is not the
 * witness's (body "<size>\n", text/x.tlog.size) or two roots for one size;
 * 422 the consistency proof fails. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/log.h"

#define WITNESS_PROOF_MAX 63
#define RESP_MAX (1u << 20)
#define TIMEOUT_MS 10000
#define WITNESS_ROUNDS 8

typedef struct add_req {
    uint64_t old;
    uint8_t proof[WITNESS_PROOF_MAX * PX_LOG_HASH_BYTES];
    size_t nproof;
    const char *note;
    size_t note_len;
} add_req;

static int parse_u64(const char *s, size_t n, uint64_t *out) {
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int parse_add(const uint8_t *body, size_t len, add_req *r, px_err *err) {
    const char *p = (const char *)body, *end = p + len;
    const char *nl = memchr(p, '\n', len);
    if (!nl || nl - p < 5 || strncmp(p, "old ", 4) || parse_u64(p + 4, (size_t)(nl - p - 4), &r->old))
        return px_fail(err, PX_E_INVALID, "add-checkpoint: first line must be 'old <decimal size>'");
    p = nl + 1;
    r->nproof = 0;
    for (;;) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return px_fail(err, PX_E_INVALID, "add-checkpoint: no empty line before the checkpoint");
        if (nl == p)
            break;
        if (r->nproof == WITNESS_PROOF_MAX)
            return px_fail(err, PX_E_INVALID, "add-checkpoint: more than %d proof lines", WITNESS_PROOF_MAX);
        if (px_b64_decode_exact(r->proof + r->nproof * PX_LOG_HASH_BYTES, PX_LOG_HASH_BYTES, p, (size_t)(nl - p), err))
            return px_fail(err, PX_E_INVALID, "add-checkpoint: proof line %zu is not base64 of %d bytes",
                           r->nproof + 1, PX_LOG_HASH_BYTES);
        r->nproof++;
        p = nl + 1;
    }
    r->note = nl + 1;
    r->note_len = (size_t)(end - r->note);
    return 0;
}

/* Origin of a signed checkpoint, without trusting anything yet. */
static int note_origin(const char *note, size_t len, char *origin, uint64_t *size, px_err *err) {
    px_note n = {0};
    px_checkpoint cp;
    if (px_note_parse(&n, note, len, err) || px_checkpoint_parse(&cp, n.text, n.text_len, err)) {
        px_note_free(&n);
        return -1;
    }
    memcpy(origin, cp.origin, sizeof cp.origin);
    *size = cp.size;
    px_checkpoint_free(&cp);
    px_note_free(&n);
    return 0;
}

static void conflict(px_witness *w, const char *origin, px_http_response *resp) {
    uint64_t have = 0;
    px_witness_size(w, origin, &have, NULL);
    resp->status = 409;
    resp->content_type = "text/x.tlog.size";
    px_buf_reset(&resp->body);
    px_buf_printf(&resp->body, NULL, "%llu\n", (unsigned long long)have);
}

static void handle_add(px_witness_service *svc, add_req *rq, const px_http_request *req, px_http_response *resp);

void px_witness_http_handler(void *ctx, const px_http_request *req, px_http_response *resp) {
    px_witness_service *svc = ctx;
    if (strcmp(req->path, "/add-checkpoint") != 0 || strcmp(req->method, "POST") != 0) {
        px_http_error(resp, 404, "no such resource: %s %s", req->method, req->path);
        return;
    }
    add_req *r = malloc(sizeof *r);
    if (!r) {
        px_http_error(resp, 500, "out of memory");
        return;
    }
    handle_add(svc, r, req, resp);
    free(r);
}

static void handle_add(px_witness_service *svc, add_req *rq, const px_http_request *req, px_http_response *resp) {
    px_err err = {0};
    char origin[PX_LOG_ORIGIN_MAX + 1];
    uint64_t size;
    if (parse_add(req->body, req->body_len, rq, &err) || note_origin(rq->note, rq->note_len, origin, &size, &err)) {
        px_http_error(resp, 400, "%s", err.msg);
        return;
    }
    const px_witness_log *log = NULL;
    for (size_t i = 0; i < svc->nlogs && !log; i++)
        if (!strcmp(svc->logs[i].origin, origin))
            log = &svc->logs[i];
    if (!log) {
        px_http_error(resp, 404, "unknown log origin '%s'", origin);
        return;
    }
    px_checkpoint cp;
    if (px_checkpoint_open(&cp, rq->note, rq->note_len, &log->key, origin, &err)) {
        px_http_error(resp, 403, "%s", err.msg);
        return;
    }
    px_checkpoint_free(&cp);
    if (rq->old > size) {
        px_http_error(resp, 400, "old size %llu is larger than the checkpoint size %llu", (unsigned long long)rq->old,
                      (unsigned long long)size);
        return;
    }
    if (rq->old == 0 && rq->nproof) {
        px_http_error(resp, 400, "a proof from size 0 must be empty");
        return;
    }
    px_buf cosigned = PX_BUF_INIT;
    if (px_witness_add(svc->witness, &log->key, rq->note, rq->note_len, rq->old, rq->proof, rq->nproof, &cosigned, &err)) {
        if (err.code == PX_E_STATE)
            conflict(svc->witness, origin, resp);
        else
            px_http_error(resp, err.code == PX_E_VERIFY ? 422 : 500, "%s", err.msg);
        px_buf_free(&cosigned);
        return;
    }
    px_note n = {0};
    px_cosigner c;
    resp->content_type = "text/plain; charset=utf-8";
    if (px_witness_cosigner(svc->witness, &c) ||
        px_note_parse(&n, (const char *)cosigned.data, cosigned.len, &err) || px_cosign_lines_append(&n, &c, &resp->body))
        px_http_error(resp, 500, "%s", err.msg);
    px_note_free(&n);
    px_buf_free(&cosigned);
}

/* ---- client -------------------------------------------------------------------- */

/* The plain C2SP transport: POST <url>/add-checkpoint. */
static int plain_post(void *ctx, const uint8_t *body, size_t len, int *status, px_buf *out, px_err *err) {
    char full[2048];
    if ((size_t)snprintf(full, sizeof full, "%s/add-checkpoint", (const char *)ctx) >= sizeof full)
        return px_fail(err, PX_E_INVALID, "witness URL too long");
    px_http_header h[] = {{"Content-Type", "text/plain; charset=utf-8"}};
    return px_http_call("POST", full, h, 1, body, len, TIMEOUT_MS, RESP_MAX, status, out, err);
}

typedef struct transport {
    px_witness_post_fn post;
    void *ctx;
} transport;

static int post(const transport *t, const px_buf *body, int *status, px_buf *out, px_err *err) {
    return t->post(t->ctx, body->data, body->len, status, out, err);
}

/* Proof lines for the request body: one base64 hash per line. */
static int proof_lines(px_log_proof_fn proof, void *ctx, uint64_t from, uint64_t to, px_buf *body, px_err *err) {
    px_buf hashes = PX_BUF_INIT;
    int rc = proof(ctx, from, to, &hashes, err);
    if (!rc && hashes.len % PX_LOG_HASH_BYTES)
        rc = px_fail(err, PX_E_VERIFY, "consistency proof is not a list of %d-byte hashes", PX_LOG_HASH_BYTES);
    for (size_t i = 0; !rc && i < hashes.len; i += PX_LOG_HASH_BYTES)
        rc = px_buf_append_b64(body, hashes.data + i, PX_LOG_HASH_BYTES, err) || px_buf_append_str(body, "\n", err) ? -1 : 0;
    px_buf_free(&hashes);
    return rc;
}

/* One add-checkpoint round: 0 on success (lines appended to out), 1 when
 * the witness is at another size (*have set), -1 on refusal or error. */
static int request_round(const transport *url, const char *note, size_t len, px_log_proof_fn proof, void *ctx,
                         uint64_t old, uint64_t size, uint64_t *have, px_buf *out, px_err *err) {
    px_buf body = PX_BUF_INIT, resp = PX_BUF_INIT;
    int status = 0, rc = -1;
    if (px_buf_printf(&body, err, "old %llu\n", (unsigned long long)old) ||
        (old > 0 && old < size && proof_lines(proof, ctx, old, size, &body, err)) ||
        px_buf_append_str(&body, "\n", err) || px_buf_append(&body, note, len, err) ||
        post(url, &body, &status, &resp, err))
        goto out;
    if (status == 200) {
        rc = px_buf_append(out, resp.data, resp.len, err);
        goto out;
    }
    if (status == 409 && resp.len > 1 && resp.data[resp.len - 1] == '\n' &&
        parse_u64((const char *)resp.data, resp.len - 1, have) == 0) {
        rc = 1;
        goto out;
    }
    json_t *j = px_json_parse(resp.data, resp.len, RESP_MAX, NULL);
    const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
    px_fail(err, status == 422 || status == 409 || status == 403 ? PX_E_VERIFY : PX_E_UNAVAILABLE,
            "witness refused (HTTP %d): %s", status, e ? e : "no reason given");
    json_decref(j);
out:
    px_buf_free(&body);
    px_buf_free(&resp);
    return rc;
}

int px_witness_request(const char *url, const char *note, size_t len, px_log_proof_fn proof, void *ctx,
                       uint64_t *old, px_buf *out, px_err *err) {
    return px_witness_request_via(plain_post, (void *)url, note, len, proof, ctx, old, out, err);
}

int px_witness_request_via(px_witness_post_fn send, void *send_ctx, const char *note, size_t len,
                           px_log_proof_fn proof, void *ctx, uint64_t *old, px_buf *out, px_err *err) {
    transport t = {send, send_ctx}, *url = &t;
    char origin[PX_LOG_ORIGIN_MAX + 1];
    uint64_t size, have = 0;
    if (note_origin(note, len, origin, &size, err))
        return -1;
    if (*old > size)
        *old = 0;
    /* A 409 tells the witness's real size: go on from there. Other parties
     * asking the same witness at the same time move it on between our
     * rounds (a race, not a fork), so a size that changed is followed a
     * few times; the same size twice is a real conflict. */
    int rc = request_round(url, note, len, proof, ctx, *old, size, &have, out, err);
    for (int round = 0; rc == 1 && round < WITNESS_ROUNDS; round++) {
        if (have > size)
            return px_fail(err, PX_E_STATE, "witness has cosigned size %llu, larger than this checkpoint (%llu)",
                           (unsigned long long)have, (unsigned long long)size);
        if (have == *old)
            return px_fail(err, PX_E_VERIFY, "witness conflict at size %llu: two roots for one size",
                           (unsigned long long)have);
        *old = have;
        rc = request_round(url, note, len, proof, ctx, have, size, &have, out, err);
    }
    if (rc == 1)
        return px_fail(err, PX_E_STATE, "witness kept moving (now at size %llu) while asked to cosign size %llu",
                       (unsigned long long)have, (unsigned long long)size);
    if (rc == 0)
        *old = size;
    return rc;
}
