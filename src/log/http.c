/* The log's HTTP API (docs/log.md):
 *
 *   GET  /checkpoint                      signed checkpoint (text/plain)
 *   GET  /tile/<L>/<N>[.p/<W>]            C2SP tlog-tiles hash tiles
 *   GET  /tile/entries/<N>[.p/<W>]        entry bundles
 *   POST /add[?wait=1]                    body = one entry -> {"index"...}
 *   POST /add-bundle                      body = u16-length-prefixed entries
 *   GET  /entry/<N>                       one entry's bytes
 *   GET  /proof/inclusion?index=I&size=S  {"index","size","proof":[b64]}
 *   GET  /proof/consistency?from=A&to=B   {"size1","size2","proof":[b64]}
 *   GET  /lookup?subject|input|manifest=<hex sha256>[&from=N]   {"entries":[...]}
 */
#include <stdlib.h>
#include <string.h>

#include "pixiu/log.h"

#define BUNDLE_MAX_ENTRIES 20000
#define LOOKUP_PAGE 1000

static int status_of(px_code c) {
    switch (c) {
    case PX_E_INVALID: return 400;
    case PX_E_NOTFOUND: return 404;
    case PX_E_LIMIT: return 413;
    case PX_E_STATE: return 409;
    case PX_E_DENIED: return 403;
    case PX_E_VERIFY: return 422;
    case PX_E_UNAVAILABLE: return 503;
    default: return 500;
    }
}

static void fail(px_http_response *resp, const px_err *err) {
    px_http_error(resp, status_of(err->code), "%s", err->msg);
}

/* Value of key in a query string "a=1&b=2"; copies at most cap-1 bytes. */
static int query_get(const char *q, const char *key, char *out, size_t cap) {
    size_t klen = strlen(key);
    for (const char *p = q; p && *p;) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > klen && !strncmp(p, key, klen) && p[klen] == '=') {
            size_t vlen = n - klen - 1;
            if (vlen >= cap)
                return -1;
            memcpy(out, p + klen + 1, vlen);
            out[vlen] = '\0';
            return 0;
        }
        p = end ? end + 1 : NULL;
    }
    return -1;
}

/* A decimal u64 without sign, spaces or leading zeros. */
static int parse_u64(const char *s, uint64_t *out) {
    if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 20)
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int query_u64(const px_http_request *req, const char *key, uint64_t *out, px_http_response *resp) {
    char v[32];
    if (query_get(req->query, key, v, sizeof v) || parse_u64(v, out)) {
        px_http_error(resp, 400, "query parameter '%s' must be a decimal number", key);
        return -1;
    }
    return 0;
}

static int json_reply(px_http_response *resp, json_t *o) {
    int rc = o ? px_json_dump(o, &resp->body, NULL) : -1;
    json_decref(o);
    if (rc)
        px_http_error(resp, 500, "out of memory");
    return rc;
}

static json_t *proof_array(const px_buf *p) {
    json_t *a = json_array();
    for (size_t i = 0; a && i + PX_LOG_HASH_BYTES <= p->len; i += PX_LOG_HASH_BYTES) {
        char b64[45];
        px_b64_encode(b64, p->data + i, PX_LOG_HASH_BYTES);
        json_array_append_new(a, json_string(b64));
    }
    return a;
}

static void get_checkpoint(px_log *log, px_http_response *resp) {
    px_err err = {0};
    if (px_log_checkpoint(log, &resp->body, NULL, &err)) {
        fail(resp, &err);
        return;
    }
    resp->content_type = "text/plain; charset=utf-8";
    snprintf(resp->extra_header, sizeof resp->extra_header, "Cache-Control: no-store");
}

static void get_tile(px_log *log, const char *path, px_http_response *resp) {
    px_err err = {0};
    int level;
    uint64_t index;
    unsigned width;
    if (px_log_tile_path_parse(path, &level, &index, &width, &err) ||
        px_log_tile(log, level, index, width, &resp->body, &err)) {
        fail(resp, &err);
        return;
    }
    resp->content_type = "application/octet-stream";
    snprintf(resp->extra_header, sizeof resp->extra_header, "Cache-Control: public, max-age=31536000, immutable");
}

/* The answer to POST /add?wait=1: the index, the checkpoint note that
 * covers it and the inclusion proof against that checkpoint. */
static void proof_reply(px_log *log, uint64_t index, const px_buf *cp, px_http_response *resp) {
    px_err err = {0};
    px_buf proof = PX_BUF_INIT;
    /* The covering checkpoint's size is on its second line. */
    px_checkpoint c;
    px_note n = {0};
    if (px_note_parse(&n, (const char *)cp->data, cp->len, &err) ||
        px_checkpoint_parse(&c, n.text, n.text_len, &err)) {
        px_note_free(&n);
        fail(resp, &err);
        return;
    }
    px_note_free(&n);
    px_checkpoint_free(&c);
    if (px_log_inclusion(log, index, c.size, &proof, &err)) {
        fail(resp, &err);
    } else {
        json_reply(resp, json_pack("{s:I,s:I,s:s%,s:o}", "index", (json_int_t)index, "size",
                                   (json_int_t)c.size, "checkpoint", (const char *)cp->data, cp->len,
                                   "proof", proof_array(&proof)));
    }
    px_buf_free(&proof);
}

/* ---- appends answered later ----------------------------------------------------
 *
 * On a server with polling threads, an append does not hold its thread
 * until the commit: the request is parked (px_http_later_begin) and the
 * log's committer answers it once the batch is durable. */

typedef struct later_add {
    px_http_later *later;
    px_log *log;
    const uint8_t *entry; /* /add: the request body */
    size_t len;
    const uint8_t **entries; /* /add-bundle */
    size_t *lens, n;
    /* /add?wait=1: the outcome, kept for proof_fill */
    int want_proof, rc;
    uint64_t first;
    px_err err;
    px_buf cp;
} later_add;

static void later_free(later_add *a) {
    free(a->entries);
    free(a->lens);
    px_buf_free(&a->cp);
    free(a);
}

/* On the request's polling thread: the proof needs store reads, which the
 * committer must not wait for. */
static void proof_fill(void *ctx, px_http_response *resp) {
    later_add *a = ctx;
    if (resp && a->rc)
        fail(resp, &a->err);
    else if (resp)
        proof_reply(a->log, a->first, &a->cp, resp);
    later_free(a);
}

/* The log's done callback, on its committer thread: format the answer
 * without jansson (this is per request, and the next commit waits). */
static void later_done(void *ctx, int rc, uint64_t first, const px_buf *note, const px_err *err) {
    later_add *a = ctx;
    if (a->want_proof) {
        a->rc = rc;
        a->first = first;
        if (rc)
            a->err = *err;
        else if (px_buf_append(&a->cp, note->data, note->len, &a->err))
            a->rc = -1;
        px_http_answer_fill(a->later, proof_fill, a);
        return;
    }
    px_http_response resp = {.status = 200};
    char body[96];
    int len = a->entries ? snprintf(body, sizeof body, "{\"first\":%llu,\"count\":%zu}", (unsigned long long)first, a->n)
                         : snprintf(body, sizeof body, "{\"index\":%llu}", (unsigned long long)first);
    if (rc)
        fail(&resp, err);
    else if (px_buf_append(&resp.body, body, (size_t)len, NULL))
        px_http_error(&resp, 500, "out of memory");
    px_http_answer(a->later, &resp);
    later_free(a);
}

/* Queue the append and answer later; 0 when the request was taken (the
 * answer follows, and a is freed with it), -1 when it must be answered
 * now, the usual way (a is still the caller's). */
static int add_later(px_log *log, const px_http_request *req, later_add *a, px_http_response *resp) {
    a->later = px_http_later_begin(req);
    if (!a->later)
        return -1;
    a->log = log;
    const uint8_t *const *entries = a->entries ? a->entries : &a->entry;
    const size_t *lens = a->entries ? a->lens : &a->len;
    size_t n = a->entries ? a->n : 1;
    px_err err = {0};
    if (px_log_append_async(log, entries, lens, n, later_done, a, &err) == 0)
        return 0;
    fail(resp, &err);
    px_http_answer(a->later, resp);
    later_free(a);
    return 0;
}

static void add_one(px_log *log, const px_http_request *req, px_http_response *resp) {
    px_err err = {0};
    char wait[8] = "";
    query_get(req->query, "wait", wait, sizeof wait);
    int want_proof = !strcmp(wait, "1") || !strcmp(wait, "true");
    const uint8_t *e = req->body;
    size_t len = req->body_len;
    later_add *a = req->later ? calloc(1, sizeof *a) : NULL;
    if (a) {
        a->entry = e;
        a->len = len;
        a->want_proof = want_proof;
        if (add_later(log, req, a, resp) == 0)
            return;
        free(a);
    }
    uint64_t index;
    px_buf cp = PX_BUF_INIT;
    if (px_log_append(log, &e, &len, 1, &index, want_proof ? &cp : NULL, &err))
        fail(resp, &err);
    else if (want_proof)
        proof_reply(log, index, &cp, resp);
    else
        json_reply(resp, json_pack("{s:I}", "index", (json_int_t)index));
    px_buf_free(&cp);
}

static void add_bundle(px_log *log, const px_http_request *req, px_http_response *resp) {
    const uint8_t **entries = malloc(BUNDLE_MAX_ENTRIES * sizeof *entries);
    size_t *lens = malloc(BUNDLE_MAX_ENTRIES * sizeof *lens);
    size_t n = 0;
    px_err err = {0};
    if (!entries || !lens) {
        px_http_error(resp, 500, "out of memory");
        goto out;
    }
    if (px_log_bundle_split(req->body, req->body_len, entries, lens, BUNDLE_MAX_ENTRIES, &n, &err)) {
        fail(resp, &err);
        goto out;
    }
    later_add *a = req->later ? calloc(1, sizeof *a) : NULL;
    if (a) {
        *a = (later_add){.entries = entries, .lens = lens, .n = n};
        if (add_later(log, req, a, resp) == 0)
            return; /* entries and lens are a's now */
        free(a);
    }
    uint64_t first;
    if (px_log_append(log, entries, lens, n, &first, NULL, &err))
        fail(resp, &err);
    else
        json_reply(resp, json_pack("{s:I,s:I}", "first", (json_int_t)first, "count", (json_int_t)n));
out:
    free(entries);
    free(lens);
}

static void get_entry(px_log *log, const char *num, px_http_response *resp) {
    uint64_t index;
    px_err err = {0};
    if (parse_u64(num, &index)) {
        px_http_error(resp, 400, "entry index must be a decimal number");
        return;
    }
    if (px_log_entry(log, index, &resp->body, &err)) {
        fail(resp, &err);
        return;
    }
    resp->content_type = "application/octet-stream";
}

static void get_inclusion(px_log *log, const px_http_request *req, px_http_response *resp) {
    uint64_t index, size;
    if (query_u64(req, "index", &index, resp) || query_u64(req, "size", &size, resp))
        return;
    px_buf p = PX_BUF_INIT;
    px_err err = {0};
    if (px_log_inclusion(log, index, size, &p, &err))
        fail(resp, &err);
    else
        json_reply(resp, json_pack("{s:I,s:I,s:o}", "index", (json_int_t)index, "size", (json_int_t)size, "proof",
                                   proof_array(&p)));
    px_buf_free(&p);
}

static void get_consistency(px_log *log, const px_http_request *req, px_http_response *resp) {
    uint64_t from, to;
    if (query_u64(req, "from", &from, resp) || query_u64(req, "to", &to, resp))
        return;
    px_buf p = PX_BUF_INIT;
    px_err err = {0};
    if (px_log_consistency(log, from, to, &p, &err))
        fail(resp, &err);
    else
        json_reply(resp, json_pack("{s:I,s:I,s:o}", "size1", (json_int_t)from, "size2", (json_int_t)to, "proof",
                                   proof_array(&p)));
    px_buf_free(&p);
}

static void get_lookup(px_log *log, const px_http_request *req, px_http_response *resp) {
    static const struct {
        const char *name;
        px_log_key_kind kind;
    } kinds[] = {{"subject", PX_LOG_BY_SUBJECT}, {"input", PX_LOG_BY_INPUT}, {"manifest", PX_LOG_BY_MANIFEST}};
    char hex[80];
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        if (query_get(req->query, kinds[k].name, hex, sizeof hex))
            continue;
        uint8_t d[PX_SHA256_BYTES];
        px_err err = {0};
        if (px_hex_decode_exact(d, sizeof d, hex, strlen(hex), &err)) {
            px_http_error(resp, 400, "'%s' must be a hex SHA-256 digest", kinds[k].name);
            return;
        }
        uint64_t *hits = malloc(LOOKUP_PAGE * sizeof *hits);
        size_t n = 0;
        if (!hits) {
            px_http_error(resp, 500, "out of memory");
            return;
        }
        uint64_t from = 0;
        char fs[32];
        if (query_get(req->query, "from", fs, sizeof fs) == 0 && parse_u64(fs, &from)) {
            free(hits);
            px_http_error(resp, 400, "'from' must be a decimal entry index");
            return;
        }
        if (px_log_lookup(log, kinds[k].kind, d, from, hits, LOOKUP_PAGE, &n, &err)) {
            fail(resp, &err);
        } else {
            json_t *a = json_array();
            for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_integer((json_int_t)hits[i]));
            json_reply(resp, json_pack("{s:o}", "entries", a));
        }
        free(hits);
        return;
    }
    px_http_error(resp, 400, "lookup needs subject=, input= or manifest=");
}

void px_log_http_handler(void *ctx, const px_http_request *req, px_http_response *resp) {
    px_log *log = ctx;
    int get = !strcmp(req->method, "GET"), post = !strcmp(req->method, "POST");
    const char *p = req->path;
    if (get && !strcmp(p, "/checkpoint"))
        get_checkpoint(log, resp);
    else if (get && !strncmp(p, "/tile/", 6))
        get_tile(log, p + 6, resp);
    else if (post && !strcmp(p, "/add"))
        add_one(log, req, resp);
    else if (post && !strcmp(p, "/add-bundle"))
        add_bundle(log, req, resp);
    else if (get && !strncmp(p, "/entry/", 7))
        get_entry(log, p + 7, resp);
    else if (get && !strcmp(p, "/proof/inclusion"))
        get_inclusion(log, req, resp);
    else if (get && !strcmp(p, "/proof/consistency"))
        get_consistency(log, req, resp);
    else if (get && !strcmp(p, "/lookup"))
        get_lookup(log, req, resp);
    else
        px_http_error(resp, 404, "no such resource: %s %s", req->method, p);
}
