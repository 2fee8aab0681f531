/* What the CSV and JSON Lines importers share: turning the text of a cell
 * into a typed value, the provenance cells, and the error report. Every
 * conversion is strict: a cell either is exactly a value of the declared
 * type or the row is rejected with a message naming the column. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pod/row.h"

#define NUM_TEXT_MAX 64
#define SAFE_NAME_MAX 64

void px_pod_report_free(px_pod_report *r) {
    if (r)
        px_buf_free(&r->text);
}

void px_row_report(px_pod_report *r, uint64_t line, const px_err *e) {
    if (!r)
        return;
    r->errors++;
    if (r->errors > PX_POD_MAX_REPORTED_ERRORS)
        return;
    if (line)
        px_buf_printf(&r->text, NULL, "line %llu: %s\n", (unsigned long long)line, e->msg);
    else
        px_buf_printf(&r->text, NULL, "%s\n", e->msg);
    if (r->errors == PX_POD_MAX_REPORTED_ERRORS)
        px_buf_append_str(&r->text, "(further errors not listed)\n", NULL);
}

const char *px_row_safe_name(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > SAFE_NAME_MAX)
        return "(unprintable name)";
    for (size_t i = 0; i < n; i++)
        if (name[i] <= 0x20 || name[i] >= 0x7f || name[i] == '"')
            return "(unprintable name)";
    return name;
}

void px_row_error(px_pod_report *report, px_err *first, int *nerr, uint64_t line, const px_err *e) {
    px_row_report(report, line, e);
    if ((*nerr)++ == 0 && first) {
        *first = *e;
        if (line)
            px_err_prefix(first, "line %llu: ", (unsigned long long)line);
    }
}

/* A NUL-terminated copy of a short numeric cell for strtoll/strtod. */
static int num_text(char *dst, const char *p, size_t n, const char *col, const char *allowed, px_err *err) {
    if (n == 0)
        return px_fail(err, PX_E_INVALID, "column %s: empty value", col);
    if (n >= NUM_TEXT_MAX)
        return px_fail(err, PX_E_INVALID, "column %s: number is too long", col);
    for (size_t i = 0; i < n; i++)
        if (!p[i] || !strchr(allowed, p[i]))
            return px_fail(err, PX_E_INVALID, "column %s: not a number of the declared type", col);
    memcpy(dst, p, n);
    dst[n] = 0;
    return 0;
}

int px_row_parse_int(int64_t *out, const char *p, size_t n, const char *col, px_err *err) {
    char t[NUM_TEXT_MAX];
    if (num_text(t, p, n, col, "-0123456789", err))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    if (*end || end == t || strchr(t + 1, '-'))
        return px_fail(err, PX_E_INVALID, "column %s: \"%s\" is not an integer", col, t);
    if (errno == ERANGE)
        return px_fail(err, PX_E_INVALID, "column %s: %s does not fit in 64 bits", col, t);
    *out = v;
    return 0;
}

int px_row_parse_real(double *out, const char *p, size_t n, const char *col, px_err *err) {
    char t[NUM_TEXT_MAX];
    if (num_text(t, p, n, col, "-+.eE0123456789", err))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(t, &end);
    if (*end || end == t)
        return px_fail(err, PX_E_INVALID, "column %s: \"%s\" is not a number", col, t);
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
        return px_fail(err, PX_E_INVALID, "column %s: %s is out of range", col, t);
    *out = v;
    return 0;
}

int px_row_check_text(const char *p, size_t n, const char *col, px_err *err) {
    /* An empty cell is not a value: in CSV it cannot be told from a
     * missing one, and a grouping by an empty user would merge strangers. */
    if (n == 0)
        return px_fail(err, PX_E_INVALID, "column %s: empty value", col);
    if (n > PX_VALUE_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "column %s: value of %zu bytes exceeds %u", col, n, PX_VALUE_MAX_BYTES);
    if (memchr(p, 0, n) || !px_utf8_valid((const uint8_t *)p, n))
        return px_fail(err, PX_E_INVALID, "column %s: text is not valid UTF-8 without NUL bytes", col);
    return 0;
}

int px_row_parse_blob(px_buf *arena, size_t *off, uint32_t *len, const char *p, size_t n, const char *col,
                      px_err *err) {
    *off = arena->len;
    if (n / 4 * 3 > PX_VALUE_MAX_BYTES + 3)
        return px_fail(err, PX_E_LIMIT, "column %s: value exceeds %u bytes", col, PX_VALUE_MAX_BYTES);
    if (px_b64_decode(arena, p, n, err))
        return px_err_prefix(err, "column %s: ", col);
    if (arena->len - *off > PX_VALUE_MAX_BYTES) {
        arena->len = *off;
        return px_fail(err, PX_E_LIMIT, "column %s: value exceeds %u bytes", col, PX_VALUE_MAX_BYTES);
    }
    *len = (uint32_t)(arena->len - *off);
    return 0;
}

int px_row_provenance(px_row_prov *pv, const char *src, size_t srclen, const char *sig, size_t siglen, px_err *err) {
    pv->source[0] = 0;
    pv->sig_len = 0;
    if (srclen == 0 && siglen == 0)
        return 0;
    if (srclen == 0 || siglen == 0)
        return px_fail(err, PX_E_INVALID, "px_source and px_sig must be both present or both empty");
    const char *plus = memchr(src, '+', srclen);
    if (srclen > PX_SRC_REF_MAX || !plus || srclen - (size_t)(plus - src) != 9 ||
        !px_key_name_valid(src, (size_t)(plus - src)))
        return px_fail(err, PX_E_INVALID, "px_source must be <key name>+<8 hex digits>");
    uint8_t idb[4];
    if (px_hex_decode_exact(idb, 4, plus + 1, 8, err))
        return px_err_prefix(err, "px_source key id: ");
    /* 64 bytes, or a batch signature: whether it is well formed and
     * verifies is the signature check's to say, as for any bad signature. */
    size_t n = siglen % 4 ? 0 : siglen / 4 * 3 - (sig[siglen - 1] == '=') - (sig[siglen - 2] == '=');
    if (n < PX_SRC_SIG_BYTES || n > PX_SRC_SIG_MAX || px_b64_decode_exact(pv->sig, n, sig, siglen, err))
        return px_fail(err, PX_E_INVALID, "px_sig must be base64 of a signature of %d to %d bytes", PX_SRC_SIG_BYTES,
                       PX_SRC_SIG_MAX);
    memcpy(pv->source, src, srclen);
    pv->source[srclen] = 0;
    pv->sig_len = n;
    return 0;
}
