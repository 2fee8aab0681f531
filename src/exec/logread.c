/* Reading the public log's HTTP API: lookups by digest and entries by
 * index. The answers are not trusted: entries are parsed as hostile input
 * and signatures are checked by whoever uses them (audit, receipts). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "exec/util.h"

static int get(const char *url, size_t max, px_buf *out, px_err *err) {
    int status = 0;
    if (px_http_call("GET", url, NULL, 0, NULL, 0, PX_LOGREAD_TIMEOUT_MS, max, &status, out, err))
        return px_err_prefix(err, "log %s: ", url);
    if (status != 200)
        return px_fail(err, PX_E_UNAVAILABLE, "log %s: HTTP status %d", url, status);
    return 0;
}

/* A log's checkpoint is a signed note whose first line is the origin. */
static int is_log(const char *base, px_err *err) {
    char url[1100];
    px_buf b = PX_BUF_INIT;
    if (snprintf(url, sizeof url, "%s/checkpoint", base) >= (int)sizeof url)
        return px_fail(err, PX_E_LIMIT, "log URL too long");
    int status = 0;
    int rc = px_http_call("GET", url, NULL, 0, NULL, 0, PX_LOGREAD_TIMEOUT_MS, 1u << 16, &status, &b, err)
                 ? px_err_prefix(err, "log %s: ", url)
                 : 0;
    /* A server that answers, but not with a log (a node's front door
     * refusing an unsigned request, a 404) has no log there; one that is
     * busy (429, 5xx) may have. */
    if (rc == 0 && status != 200)
        rc = px_fail(err, status / 100 == 4 && status != 429 ? PX_E_NOTFOUND : PX_E_UNAVAILABLE,
                     "%s: HTTP status %d", url, status);
    if (rc == 0) {
        px_note n = {0};
        if (px_note_parse(&n, (const char *)b.data, b.len, NULL))
            rc = px_fail(err, PX_E_NOTFOUND, "%s: not a checkpoint", url);
        px_note_free(&n);
    }
    px_buf_free(&b);
    return rc;
}

int px_logread_resolve(const char *url, char *out, size_t cap, px_err *err) {
    char base[1024];
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    if (n == 0 || n + 5 >= sizeof base || n + 5 >= cap)
        return px_fail(err, PX_E_INVALID, "log URL \"%.80s\" is empty or too long", url);
    memcpy(base, url, n);
    base[n] = 0;
    px_err first = {0}, second = {0};
    if (is_log(base, &first) == 0) {
        memcpy(out, base, n + 1);
        return 0;
    }
    char with[1100];
    snprintf(with, sizeof with, "%s/log", base);
    if (is_log(with, &second) == 0) {
        memcpy(out, with, n + 5);
        return 0;
    }
    /* Unreachable is worth trying again; a server that answers without
     * a log is not. */
    return px_fail(err, first.code == PX_E_UNAVAILABLE && second.code == PX_E_UNAVAILABLE ? PX_E_UNAVAILABLE
                                                                                       : PX_E_NOTFOUND,
                   "%.200s serves no log (%.100s; %.100s)", base, first.msg, second.msg);
}

/* The log answers a lookup in pages (docs/log.md); the log client follows
 * them and refuses answers that are not strictly ascending, so a task with
 * more entries than one page is read whole. */
int px_logread_lookup(const char *base, const char *key, const uint8_t digest[PX_SHA256_BYTES], uint64_t **out,
                      size_t *n, px_err *err) {
    px_log_key_kind kind;
    if (!strcmp(key, "subject"))
        kind = PX_LOG_BY_SUBJECT;
    else if (!strcmp(key, "input"))
        kind = PX_LOG_BY_INPUT;
    else if (!strcmp(key, "manifest"))
        kind = PX_LOG_BY_MANIFEST;
    else
        return px_fail(err, PX_E_INVALID, "unknown log lookup key \"%s\"", key);
    uint64_t *idx = malloc(PX_LOGREAD_MAX_ENTRIES * sizeof *idx);
    if (!idx)
        return px_fail(err, PX_E_NOMEM, "out of memory reading a lookup");
    size_t count = 0;
    if (px_log_remote_lookup(base, kind, digest, idx, PX_LOGREAD_MAX_ENTRIES, &count, err)) {
        free(idx);
        return px_err_prefix(err, "log %s: ", base);
    }
    uint64_t *fit = realloc(idx, (count + 1) * sizeof *idx);
    *out = fit ? fit : idx;
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
