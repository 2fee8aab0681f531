/* Reading the public log's HTTP API: lookups by digest and entries by
 * index. The answers are not trusted: entries are parsed as hostile input
 * and signatures are checked by whoever uses them (audit, receipts). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "exec/util.h"

#define PX_LOGREAD_LOOKUP_MAX_BYTES (4u << 20)

static int get(const char *url, size_t max, px_buf *out, px_err *err) {
    int status = 0;
    if (px_http_call("GET", url, NULL, 0, NULL, 0, PX_LOGREAD_TIMEOUT_MS, max, &status, out, err))
        return px_err_prefix(err, "log %s: ", url);
    if (status != 200)
        return px_fail(err, PX_E_UNAVAILABLE, "log %s: HTTP status %d", url, status);
    return 0;
}

int px_logread_lookup(const char *base, const char *key, const uint8_t digest[PX_SHA256_BYTES], uint64_t **out,
                      size_t *n, px_err *err) {
    char hex[2 * PX_SHA256_BYTES + 1], url[1024];
    px_hex_encode(hex, digest, PX_SHA256_BYTES);
    if (snprintf(url, sizeof url, "%s/lookup?%s=%s", base, key, hex) >= (int)sizeof url)
        return px_fail(err, PX_E_LIMIT, "log URL too long");
    px_buf b = PX_BUF_INIT;
    json_t *doc = NULL, *arr, *v;
    size_t i;
    int rc = get(url, PX_LOGREAD_LOOKUP_MAX_BYTES, &b, err);
    if (rc == 0 && !(doc = px_json_parse(b.data, b.len, PX_LOGREAD_LOOKUP_MAX_BYTES, err)))
        rc = -1;
    if (rc == 0)
        rc = px_x_arr(doc, "entries", 0, PX_LOGREAD_MAX_ENTRIES, &arr, err);
    uint64_t *idx = NULL;
    size_t count = rc ? 0 : json_array_size(arr);
    if (rc == 0 && !(idx = calloc(json_array_size(arr) + 1, sizeof *idx)))
        rc = px_fail(err, PX_E_NOMEM, "out of memory reading a lookup");
    if (rc == 0)
        json_array_foreach(arr, i, v) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                (i && (uint64_t)json_integer_value(v) <= idx[i - 1])) {
                rc = px_fail(err, PX_E_INVALID, "log lookup answer is not ascending entry indices");
                break;
            }
            idx[i] = (uint64_t)json_integer_value(v);
        }
    json_decref(doc);
    px_buf_free(&b);
    if (rc) {
        free(idx);
        return -1;
    }
    *out = idx;
    *n = count;
    return 0;
}

int px_logread_entry(const char *base, uint64_t index, px_buf *out, px_err *err) {
    char url[1024];
    if (snprintf(url, sizeof url, "%s/entry/%" PRIu64, base, index) >= (int)sizeof url)
        return px_fail(err, PX_E_LIMIT, "log URL too long");
    return get(url, PX_LOG_ENTRY_MAX, out, err);
}

int px_logread_entries(const char *base, const char *key, const uint8_t digest[PX_SHA256_BYTES], px_entry **out,
                       size_t *n, px_err *err) {
    uint64_t *idx;
    size_t ni;
    if (px_logread_lookup(base, key, digest, &idx, &ni, err))
        return -1;
    px_entry *e = calloc(ni + 1, sizeof *e);
    size_t ne = 0;
    int rc = e ? 0 : px_fail(err, PX_E_NOMEM, "out of memory reading entries");
    for (size_t i = 0; rc == 0 && i < ni; i++) {
        px_buf b = PX_BUF_INIT;
        rc = px_logread_entry(base, idx[i], &b, err);
        if (rc == 0 && px_entry_parse(&e[ne], idx[i], b.data, b.len, NULL) == 0)
            ne++;
        px_buf_free(&b);
    }
    free(idx);
    if (rc) {
        for (size_t i = 0; i < ne; i++)
            px_entry_free(&e[i]);
        free(e);
        return -1;
    }
    *out = e;
    *n = ne;
    return 0;
}
