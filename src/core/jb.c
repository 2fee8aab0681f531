/* PXJB: a JSON object whose bulk byte fields travel as raw attachments
 * (docs/formats.md, "JSON with attachments"). Sealed data crosses several
 * nodes per task, and as base64 inside JSON every byte of it went through
 * jansson's per-character string code twice per hop; as an attachment it
 * is copied once. The reader is strict, since every body comes from
 * someone it does not trust: each attachment is referenced exactly once,
 * nothing follows the last one, and what is refused is refused whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pixiu/core.h"

#define HEAD 4 /* the magic */

static uint32_t load_u32be(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_u32be(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- writer ------------------------------------------------------------------ */

int px_jb_init(px_jb *jb, int inline_b64, px_err *err) {
    memset(jb, 0, sizeof *jb);
    jb->inline_b64 = inline_b64;
    if (!(jb->doc = json_object()))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    return 0;
}

void px_jb_free(px_jb *jb) {
    json_decref(jb->doc);
    free(jb->blobs);
    memset(jb, 0, sizeof *jb);
}

/* The JSON value standing for the n bytes at p: a reference to a new
 * attachment, or their base64 (ASCII, so jansson need not check it). */
static json_t *bytes_value(px_jb *jb, const void *p, size_t n, px_err *err) {
    if (jb->inline_b64) {
        size_t len = px_b64_encoded_len(n);
        char *s = malloc(len + 1);
        if (!s) {
            px_fail(err, PX_E_NOMEM, "out of memory encoding %zu bytes", n);
            return NULL;
        }
        px_b64_encode_public(s, p, n);
        json_t *v = json_stringn_nocheck(s, len);
        free(s);
        if (!v)
            px_fail(err, PX_E_NOMEM, "out of memory encoding %zu bytes", n);
        return v;
    }
    if (n > UINT32_MAX) {
        px_fail(err, PX_E_LIMIT, "PXJB: an attachment of %zu bytes is over the format's 4 GiB", n);
        return NULL;
    }
    if (jb->n >= PX_JB_BLOBS_MAX) {
        px_fail(err, PX_E_LIMIT, "PXJB: more than %u attachments", PX_JB_BLOBS_MAX);
        return NULL;
    }
    if (jb->n == jb->cap) {
        size_t cap = jb->cap ? 2 * jb->cap : 8;
        px_jb_blob *b = realloc(jb->blobs, cap * sizeof *b);
        if (!b) {
            px_fail(err, PX_E_NOMEM, "out of memory");
            return NULL;
        }
        jb->blobs = b;
        jb->cap = cap;
    }
    json_t *v = json_pack("{s:I}", "blob", (json_int_t)jb->n);
    if (!v) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        return NULL;
    }
    jb->blobs[jb->n++] = (px_jb_blob){p, n};
    return v;
}

int px_jb_set_bytes(px_jb *jb, json_t *obj, const char *key, const void *p, size_t n, px_err *err) {
    size_t had = jb->n;
    json_t *v = bytes_value(jb, p, n, err);
    if (!v)
        return px_err_prefix(err, "field \"%s\": ", key);
    if (json_object_set_new(obj, key, v)) {
        jb->n = had;
        return px_fail(err, PX_E_NOMEM, "cannot set field \"%s\"", key);
    }
    return 0;
}

int px_jb_append_bytes(px_jb *jb, json_t *arr, const void *p, size_t n, px_err *err) {
    size_t had = jb->n;
    json_t *v = bytes_value(jb, p, n, err);
    if (!v)
        return -1;
    if (json_array_append_new(arr, v)) {
        jb->n = had;
        return px_fail(err, PX_E_NOMEM, "cannot append to an array");
    }
    return 0;
}

int px_jb_encode(const px_jb *jb, px_buf *out, px_err *err) {
    if (jb->inline_b64)
        return px_json_dump(jb->doc, out, err);
    char *s = json_dumps(jb->doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s)
        return px_fail(err, PX_E_NOMEM, "could not serialise JSON");
    size_t nj = strlen(s);
    if (nj > PX_JB_JSON_MAX) {
        free(s);
        return px_fail(err, PX_E_LIMIT, "PXJB: JSON of %zu bytes is over the limit of %u", nj, PX_JB_JSON_MAX);
    }
    /* One size for the whole body, then each attachment copied once. */
    size_t total = HEAD + 4 + nj + 4;
    for (size_t i = 0; i < jb->n; i++) {
        if (jb->blobs[i].n > SIZE_MAX - 4 - total) {
            free(s);
            return px_fail(err, PX_E_LIMIT, "PXJB: the body is too large");
        }
        total += 4 + jb->blobs[i].n;
    }
    if (px_buf_reserve(out, total, err)) {
        free(s);
        return -1;
    }
    uint8_t *w = out->data + out->len;
    memcpy(w, PX_JB_MAGIC, HEAD);
    store_u32be(w + HEAD, (uint32_t)nj);
    memcpy(w + HEAD + 4, s, nj);
    w += HEAD + 4 + nj;
    free(s);
    store_u32be(w, (uint32_t)jb->n);
    w += 4;
    for (size_t i = 0; i < jb->n; i++) {
        store_u32be(w, (uint32_t)jb->blobs[i].n);
        if (jb->blobs[i].n)
            memcpy(w + 4, jb->blobs[i].p, jb->blobs[i].n);
        w += 4 + jb->blobs[i].n;
    }
    out->len += total;
    return 0;
}

/* ---- reader ------------------------------------------------------------------ */

int px_jb_is(const void *bytes, size_t len) {
    return len >= HEAD && memcmp(bytes, PX_JB_MAGIC, HEAD) == 0;
}

void px_jb_view_free(px_jb_view *view) {
    free(view->blobs);
    view->blobs = NULL;
    view->n = 0;
}

/* 1 if v is a reference: an object whose one member is "blob". */
static int is_ref(const json_t *v) {
    return json_is_object(v) && json_object_size(v) == 1 && json_object_get(v, "blob");
}

/* The index a reference names, checked against n attachments. */
static int ref_index(const json_t *v, size_t n, size_t *k, px_err *err) {
    const json_t *b = json_object_get(v, "blob");
    if (!json_is_integer(b))
        return px_fail(err, PX_E_INVALID, "PXJB: a {\"blob\": k} reference whose k is not an integer");
    json_int_t i = json_integer_value(b);
    if (i < 0 || (uint64_t)i >= n)
        return px_fail(err, PX_E_INVALID, "PXJB: reference to attachment %lld out of range (the body has %zu)",
                       (long long)i, n);
    *k = (size_t)i;
    return 0;
}

/* Every reference in the document, each attachment marked once. */
static int walk(const json_t *v, size_t n, uint8_t *seen, px_err *err) {
    if (is_ref(v)) {
        size_t k;
        if (ref_index(v, n, &k, err))
            return -1;
        if (seen[k]++)
            return px_fail(err, PX_E_INVALID, "PXJB: attachment %zu is referenced twice", k);
        return 0;
    }
    if (json_is_object(v)) {
        const char *key;
        json_t *m;
        json_object_foreach((json_t *)v, key, m) {
            if (walk(m, n, seen, err))
                return -1;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
            if (walk(m, n, seen, err))
                return -1;
        }
    }
    return 0;
}

/* The attachments after the JSON: count, then each length and bytes, and
 * nothing after the last. */
static int read_blobs(const uint8_t *p, size_t len, px_jb_view *view, px_err *err) {
    if (len < 4)
        return px_fail(err, PX_E_INVALID, "PXJB: the body ends before its attachment count");
    uint32_t nb = load_u32be(p);
    if (nb > PX_JB_BLOBS_MAX)
        return px_fail(err, PX_E_LIMIT, "PXJB: %u attachments, over the limit of %u", nb, PX_JB_BLOBS_MAX);
    p += 4;
    len -= 4;
    if (nb && !(view->blobs = calloc(nb, sizeof *view->blobs)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < nb; i++) {
        if (len < 4)
            return px_fail(err, PX_E_INVALID, "PXJB: the body ends before the length of attachment %u", i);
        uint32_t bn = load_u32be(p);
        if (bn > len - 4)
            return px_fail(err, PX_E_INVALID, "PXJB: attachment %u is short: %u bytes declared, %zu present", i, bn,
                           len - 4);
        view->blobs[i] = (px_jb_blob){p + 4, bn};
        p += 4 + (size_t)bn;
        len -= 4 + (size_t)bn;
    }
    view->n = nb;
    if (len)
        return px_fail(err, PX_E_INVALID, "PXJB: %zu bytes after the last attachment", len);
    return 0;
}

static int parse_jb(const uint8_t *b, size_t len, size_t max_json, json_t **doc, px_jb_view *view, px_err *err) {
    size_t lim = max_json < PX_JB_JSON_MAX ? max_json : PX_JB_JSON_MAX;
    if (len < HEAD + 4)
        return px_fail(err, PX_E_INVALID, "PXJB: the body ends before its JSON length");
    uint32_t nj = load_u32be(b + HEAD);
    if (nj < 2 || nj > lim)
        return px_fail(err, PX_E_LIMIT, "PXJB: JSON of %u bytes, outside 2..%zu", nj, lim);
    if (nj > len - HEAD - 4)
        return px_fail(err, PX_E_INVALID, "PXJB: the body ends inside its JSON (%u bytes declared)", nj);
    if (read_blobs(b + HEAD + 4 + nj, len - HEAD - 4 - nj, view, err))
        return -1;
    json_t *d = px_json_parse(b + HEAD + 4, nj, lim, err);
    if (!d)
        return px_err_prefix(err, "PXJB: ");
    int rc = 0;
    uint8_t *seen = view->n ? calloc(view->n, 1) : NULL;
    if (!json_is_object(d))
        rc = px_fail(err, PX_E_INVALID, "PXJB: the JSON is not an object");
    else if (view->n && !seen)
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    else
        rc = walk(d, view->n, seen, err);
    for (size_t i = 0; rc == 0 && i < view->n; i++)
        if (!seen[i])
            rc = px_fail(err, PX_E_INVALID, "PXJB: attachment %zu is never referenced", i);
    free(seen);
    if (rc) {
        json_decref(d);
        return -1;
    }
    *doc = d;
    return 0;
}

int px_jb_parse(const void *bytes, size_t len, size_t max_json, json_t **doc, px_jb_view *view, px_err *err) {
    px_jb_view v = {0};
    json_t *d = NULL;
    if (!px_jb_is(bytes, len)) {
        if (!(d = px_json_parse(bytes, len, max_json, err)))
            return -1;
    } else if (parse_jb(bytes, len, max_json, &d, &v, err)) {
        px_jb_view_free(&v);
        return -1;
    }
    *doc = d;
    *view = v;
    return 0;
}

int px_jb_value(const px_jb_view *view, const json_t *v, const char *what, px_buf *out, px_err *err) {
    if (is_ref(v)) {
        size_t k;
        if (ref_index(v, view->n, &k, err))
            return px_err_prefix(err, "%s: ", what);
        return px_buf_append(out, view->blobs[k].p, view->blobs[k].n, err);
    }
    if (!json_is_string(v))
        return px_fail(err, PX_E_INVALID, "%s must be base64 or an attachment", what);
    size_t had = out->len;
    if (px_b64_decode_public(out, json_string_value(v), json_string_length(v)) == 0)
        return 0;
    out->len = had;
    if (px_b64_decode(out, json_string_value(v), json_string_length(v), err))
        return px_err_prefix(err, "%s: ", what);
    return 0;
}

int px_jb_bytes(const px_jb_view *view, const json_t *obj, const char *key, px_buf *out, px_err *err) {
    if (!json_is_object(obj))
        return px_fail(err, PX_E_INVALID, "expected a JSON object holding \"%s\"", key);
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return px_fail(err, PX_E_INVALID, "missing field \"%s\"", key);
    char what[80];
    snprintf(what, sizeof what, "field \"%.60s\"", key);
    return px_jb_value(view, v, what, out, err);
}
