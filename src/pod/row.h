/* Internal to src/pod: cell conversion shared by the import parsers. */
#ifndef PIXIU_POD_ROW_H
#define PIXIU_POD_ROW_H

#include "pixiu/pod.h"

/* The provenance of one row, parsed from its px_source and px_sig cells. */
typedef struct px_row_prov {
    char source[PX_SRC_REF_MAX + 1]; /* "" when unsigned */
    uint8_t sig[PX_SRC_SIG_MAX]; /* the per-record or the batch form */
    size_t sig_len;
} px_row_prov;

/* Record one error (line 0: not tied to a line) in the report, if any. */
void px_row_report(px_pod_report *r, uint64_t line, const px_err *e);

/* name itself if it is short printable ASCII, else a placeholder: error
 * messages stay one clean line whatever the input holds. */
const char *px_row_safe_name(const char *name);

/* Report an error and keep the first one, prefixed with its line, in first. */
void px_row_error(px_pod_report *report, px_err *first, int *nerr, uint64_t line, const px_err *e);

int px_row_parse_int(int64_t *out, const char *p, size_t n, const char *col, px_err *err);
int px_row_parse_real(double *out, const char *p, size_t n, const char *col, px_err *err);
int px_row_check_text(const char *p, size_t n, const char *col, px_err *err);
/* Decode base64 into arena; the value is at arena->data + *off (the arena
 * may move while a row is built, so offsets, not pointers). */
int px_row_parse_blob(px_buf *arena, size_t *off, uint32_t *len, const char *p, size_t n, const char *col,
                      px_err *err);
int px_row_provenance(px_row_prov *pv, const char *src, size_t srclen, const char *sig, size_t siglen,
                      px_err *err);

#endif
