/* Client of a remote log over its HTTP API (docs/log.md). What comes back
 * is checked here, so callers get verified data or an error: checkpoints
 * against the log's key, appended entries against their inclusion proof,
 * proofs for well-formed 32-byte hashes. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/log.h"

#define URL_MAX 2048
#define RESP_MAX (16u << 20)
#define TIMEOUT_MS 60000
#define LOOKUP_PAGE 1000 /* the server's page size */

void px_log_receipt_free(px_log_receipt *r) {
    px_checkpoint_free(&r->checkpoint);
    px_buf_free(&r->note);
    px_buf_free(&r->proof);
    memset(r, 0, sizeof *r);
}

/* One request; any non-2xx status is an error carrying the server's reason. */
static int call(const char *method, const char *base, const char *path, const void *body, size_t len,
                px_buf *out, px_err *err) {
    char url[URL_MAX];
    int n = snprintf(url, sizeof url, "%s%s", base, path);
    if (n < 0 || (size_t)n >= sizeof url)
        return px_fail(err, PX_E_INVALID, "log client: URL too long");
    px_buf resp = PX_BUF_INIT;
    int status = 0, rc = -1;
    if (px_http_call(method, url, NULL, 0, body, len, TIMEOUT_MS, RESP_MAX, &status, &resp, err))
        goto out;
    if (status / 100 != 2) {
        json_t *j = px_json_parse(resp.data, resp.len, RESP_MAX, NULL);
        const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
        px_fail(err, status == 404 ? PX_E_NOTFOUND : status == 413 ? PX_E_LIMIT : status / 100 == 4 ? PX_E_INVALID
                                                                                                    : PX_E_UNAVAILABLE,
                "log %s: HTTP %d: %s", url, status, e ? e : "no reason given");
        json_decref(j);
        goto out;
    }
    rc = px_buf_append(out, resp.data, resp.len, err);
out:
    px_buf_free(&resp);
    return rc;
}

static json_t *call_json(const char *method, const char *base, const char *path, const void *body, size_t len,
                         px_err *err) {
    px_buf out = PX_BUF_INIT;
    json_t *j = NULL;
    if (call(method, base, path, body, len, &out, err) == 0)
        j = px_json_parse(out.data, out.len, RESP_MAX, err);
    px_buf_free(&out);
    if (j && !json_is_object(j)) {
        json_decref(j);
        px_fail(err, PX_E_INVALID, "log client: answer is not a JSON object");
        return NULL;
    }
    return j;
}

/* "proof": [base64 32-byte hashes] -> concatenated hashes. */
static int proof_of(const json_t *j, px_buf *out, px_err *err) {
    const json_t *a = json_object_get(j, "proof");
    if (!json_is_array(a) || json_array_size(a) > PX_LOG_MAX_PROOF)
        return px_fail(err, PX_E_INVALID, "log client: answer has no valid proof array");
    size_t start = out->len;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *h = json_array_get(a, i);
        if (!json_is_string(h) || px_buf_reserve(out, PX_LOG_HASH_BYTES, err) ||
            px_b64_decode_exact(out->data + out->len, PX_LOG_HASH_BYTES, json_string_value(h), json_string_length(h),
                                err)) {
            out->len = start;
            return px_fail(err, PX_E_INVALID, "log client: proof hash %zu is not base64 of %d bytes", i,
                           PX_LOG_HASH_BYTES);
        }
        out->len += PX_LOG_HASH_BYTES;
    }
    return 0;
}

int px_log_remote_checkpoint(const char *url, const px_verifier *log_key, px_buf *note, px_checkpoint *cp,
                             px_err *err) {
    size_t start = note->len;
    if (call("GET", url, "/checkpoint", NULL, 0, note, err))
        return -1;
    if (px_checkpoint_open(cp, (const char *)note->data + start, note->len - start, log_key, NULL, err)) {
        note->len = start;
        return -1;
    }
    return 0;
}

static int answer_read(const json_t *j, const uint8_t *entry, size_t len, const px_verifier *log_key,
                       px_log_receipt *r, px_err *err) {
    int64_t index;
    const char *note;
    if (px_json_int(j, "index", &index, err) || px_json_str(j, "checkpoint", &note, err) ||
        proof_of(j, &r->proof, err))
        return -1;
    if (index < 0)
        return px_fail(err, PX_E_INVALID, "log client: negative entry index");
    r->index = (uint64_t)index;
    size_t note_len = json_string_length(json_object_get(j, "checkpoint"));
    if (px_buf_append(&r->note, note, note_len, err) ||
        px_checkpoint_open(&r->checkpoint, note, note_len, log_key, NULL, err))
        return -1;
    if (px_log_receipt_check(r, entry, len, log_key, err))
        return px_err_prefix(err, "log client: appended entry not proven: ");
    return 0;
}

int px_log_append_answer(const uint8_t *answer, size_t answer_len, const uint8_t *entry, size_t len,
                         const px_verifier *log_key, px_log_receipt *out, px_err *err) {
    json_t *j = px_json_parse(answer, answer_len, RESP_MAX, err);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return px_fail(err, PX_E_INVALID, "log client: answer is not a JSON object");
    }
    if (!j)
        return -1;
    px_log_receipt r;
    memset(&r, 0, sizeof r);
    int rc = answer_read(j, entry, len, log_key, &r, err);
    json_decref(j);
    if (rc) {
        px_log_receipt_free(&r);
        return -1;
    }
    *out = r;
    return 0;
}

int px_log_remote_append(const char *url, const uint8_t *entry, size_t len, const px_verifier *log_key,
                         px_log_receipt *out, px_err *err) {
    px_buf b = PX_BUF_INIT;
    int rc = call("POST", url, "/add?wait=1", entry, len, &b, err);
    if (rc == 0)
        rc = px_log_append_answer(b.data, b.len, entry, len, log_key, out, err);
    px_buf_free(&b);
    return rc;
}

static int get_proof(const char *url, const char *path, px_buf *proof, px_err *err) {
    json_t *j = call_json("GET", url, path, NULL, 0, err);
    int rc = j ? proof_of(j, proof, err) : -1;
    json_decref(j);
    return rc;
}

int px_log_remote_inclusion(const char *url, uint64_t index, uint64_t size, px_buf *proof, px_err *err) {
    char path[96];
    snprintf(path, sizeof path, "/proof/inclusion?index=%llu&size=%llu", (unsigned long long)index,
             (unsigned long long)size);
    return get_proof(url, path, proof, err);
}

int px_log_remote_consistency(const char *url, uint64_t size1, uint64_t size2, px_buf *proof, px_err *err) {
    char path[96];
    snprintf(path, sizeof path, "/proof/consistency?from=%llu&to=%llu", (unsigned long long)size1,
             (unsigned long long)size2);
    return get_proof(url, path, proof, err);
}

int px_log_remote_entry(const char *url, uint64_t index, px_buf *out, px_err *err) {
    char path[48];
    snprintf(path, sizeof path, "/entry/%llu", (unsigned long long)index);
    return call("GET", url, path, NULL, 0, out, err);
}

int px_log_remote_lookup(const char *url, px_log_key_kind kind, const uint8_t digest[PX_SHA256_BYTES],
                         uint64_t *out, size_t max, size_t *n, px_err *err) {
    static const char *const names[] = {NULL, "subject", "input", "manifest"};
    if (kind < PX_LOG_BY_SUBJECT || kind > PX_LOG_BY_MANIFEST)
        return px_fail(err, PX_E_INVALID, "log client: unknown lookup kind");
    char hex[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(hex, digest, PX_SHA256_BYTES);
    size_t got = 0;
    uint64_t from = 0;
    for (;;) {
        char path[160];
        snprintf(path, sizeof path, "/lookup?%s=%s&from=%llu", names[kind], hex, (unsigned long long)from);
        json_t *j = call_json("GET", url, path, NULL, 0, err);
        if (!j)
            return -1;
        const json_t *a = json_object_get(j, "entries");
        size_t k = json_array_size(a);
        for (size_t i = 0; i < k; i++) {
            const json_t *v = json_array_get(a, i);
            if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < from) {
                json_decref(j);
                return px_fail(err, PX_E_INVALID, "log client: lookup answer is not ascending entry indices");
            }
            if (got == max) {
                json_decref(j);
                return px_fail(err, PX_E_LIMIT, "log client: more than %zu entries match", max);
            }
            from = (uint64_t)json_integer_value(v) + 1;
            out[got++] = from - 1;
        }
        json_decref(j);
        if (k < LOOKUP_PAGE)
            break;
    }
    *n = got;
    return 0;
}
