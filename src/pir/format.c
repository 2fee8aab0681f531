/* The PIR wire formats (docs/pir.md), little-endian, parsed strictly:
 * exact lengths, known versions, zero reserved bytes, and a shape that is
 * the one px_pir_params_choose gives, so a peer cannot make the other side
 * allocate or compute for a database that does not exist.
 *
 *   hint bundle  "PXPH" 01 20 00 00 | n u32 | p u32 | rows u32 | cols u32 |
 *                record_bytes u32 | records u32 | seed[32] | info_len u32 |
 *                info | hint (rows × n u32)
 *   query        "PXPQ" 01 00 00 00 | hint id[32] | cols u32 | cols × u32
 *   answer       "PXPA" 01 00 00 00 | query digest[32] | rows u32 | rows × u32
 */
#include <stdlib.h>
#include <string.h>

#include "pir/pir_int.h"

#define VERSION 1
#define HINT_FIXED (8 + 6 * 4 + PX_PIR_SEED_BYTES + 4)
#define VEC_FIXED (8 + 32 + 4)

static int put_vec(px_buf *out, const uint32_t *v, uint32_t n, px_err *err) {
    if (px_buf_reserve(out, (size_t)n * 4, err))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *p = out->data + out->len + (size_t)i * 4;
        p[0] = (uint8_t)v[i];
        p[1] = (uint8_t)(v[i] >> 8);
        p[2] = (uint8_t)(v[i] >> 16);
        p[3] = (uint8_t)(v[i] >> 24);
    }
    out->len += (size_t)n * 4;
    return 0;
}

static void get_vec(uint32_t *v, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        v[i] = px_load_u32le(p + i * 4);
}

static int put_header(px_buf *out, const char *magic, uint8_t b5, px_err *err) {
    uint8_t h[8] = {(uint8_t)magic[0], (uint8_t)magic[1], (uint8_t)magic[2], (uint8_t)magic[3], VERSION, b5, 0, 0};
    return px_buf_append(out, h, sizeof h, err);
}

static int check_header(const uint8_t *in, size_t len, const char *magic, uint8_t b5, const char *what, px_err *err) {
    if (len < 8 || memcmp(in, magic, 4))
        return px_fail(err, PX_E_INVALID, "not a PIR %s (no %s header)", what, magic);
    if (in[4] != VERSION)
        return px_fail(err, PX_E_INVALID, "PIR %s version %u is not supported (only %u)", what, in[4], VERSION);
    if (in[5] != b5 || in[6] || in[7])
        return px_fail(err, PX_E_INVALID, "PIR %s header has unknown flags", what);
    return 0;
}

/* ---- hint bundle --------------------------------------------------------------- */

int px_pir_hint_encode(px_buf *out, const px_pir_params *pp, const uint8_t *info, size_t info_len,
                       const uint32_t *hint, px_err *err) {
    if (info_len > PX_PIR_INFO_MAX)
        return px_fail(err, PX_E_LIMIT, "PIR hint info of %zu bytes is over %u", info_len, PX_PIR_INFO_MAX);
    size_t start = out->len;
    int rc = put_header(out, PX_PIR_HINT_MAGIC, PX_PIR_LOGQ, err) || px_buf_append_u32le(out, PX_PIR_N, err) ||
             px_buf_append_u32le(out, pp->p, err) || px_buf_append_u32le(out, pp->rows, err) ||
             px_buf_append_u32le(out, pp->cols, err) || px_buf_append_u32le(out, pp->record_bytes, err) ||
             px_buf_append_u32le(out, pp->records, err) || px_buf_append(out, pp->seed, PX_PIR_SEED_BYTES, err) ||
             px_buf_append_u32le(out, (uint32_t)info_len, err) || px_buf_append(out, info, info_len, err) ||
             put_vec(out, hint, pp->rows * PX_PIR_N, err);
    if (rc)
        out->len = start;
    return rc ? -1 : 0;
}

int px_pir_hint_parse(px_pir_hint_view *v, const uint8_t *in, size_t len, px_err *err) {
    if (check_header(in, len, PX_PIR_HINT_MAGIC, PX_PIR_LOGQ, "hint", err))
        return -1;
    if (len < HINT_FIXED)
        return px_fail(err, PX_E_INVALID, "PIR hint is truncated (%zu bytes)", len);
    px_pir_params pp;
    memset(&pp, 0, sizeof pp);
    uint32_t n = px_load_u32le(in + 8);
    pp.p = px_load_u32le(in + 12);
    pp.rows = px_load_u32le(in + 16);
    pp.cols = px_load_u32le(in + 20);
    pp.record_bytes = px_load_u32le(in + 24);
    pp.records = px_load_u32le(in + 28);
    memcpy(pp.seed, in + 32, PX_PIR_SEED_BYTES);
    uint32_t info_len = px_load_u32le(in + 32 + PX_PIR_SEED_BYTES);
    if (n != PX_PIR_N)
        return px_fail(err, PX_E_INVALID, "PIR hint for LWE dimension %u, not %u", n, PX_PIR_N);
    if (px_pir_params_check(&pp, err))
        return px_err_prefix(err, "PIR hint: ");
    if (info_len > PX_PIR_INFO_MAX)
        return px_fail(err, PX_E_LIMIT, "PIR hint info of %u bytes is over %u", info_len, PX_PIR_INFO_MAX);
    uint64_t want = (uint64_t)HINT_FIXED + info_len + (uint64_t)pp.rows * PX_PIR_N * 4;
    if ((uint64_t)len != want)
        return px_fail(err, PX_E_INVALID, "PIR hint is %zu bytes, its header says %llu", len,
                       (unsigned long long)want);
    v->params = pp;
    v->info = in + HINT_FIXED;
    v->info_len = info_len;
    v->hint = in + HINT_FIXED + info_len;
    return 0;
}

int px_pir_hint_copy(const px_pir_hint_view *v, uint32_t **out, px_err *err) {
    size_t n = (size_t)v->params.rows * PX_PIR_N;
    uint32_t *h = malloc(n * sizeof *h);
    if (!h)
        return px_fail(err, PX_E_NOMEM, "out of memory reading a PIR hint");
    get_vec(h, v->hint, n);
    *out = h;
    return 0;
}

/* ---- query and answer ------------------------------------------------------------ */

static int vec_encode(px_buf *out, const char *magic, const uint8_t id[32], const uint32_t *v, uint32_t n,
                      px_err *err) {
    size_t start = out->len;
    int rc = put_header(out, magic, 0, err) || px_buf_append(out, id, 32, err) || px_buf_append_u32le(out, n, err) ||
             put_vec(out, v, n, err);
    if (rc)
        out->len = start;
    return rc ? -1 : 0;
}

static int vec_parse(const uint8_t *in, size_t len, const char *magic, const char *what, uint32_t want_n,
                     uint8_t id[32], uint32_t *v, px_err *err) {
    if (check_header(in, len, magic, 0, what, err))
        return -1;
    if (len < VEC_FIXED)
        return px_fail(err, PX_E_INVALID, "PIR %s is truncated (%zu bytes)", what, len);
    uint32_t n = px_load_u32le(in + 40);
    if (n != want_n)
        return px_fail(err, PX_E_INVALID, "PIR %s has %u values, the database needs %u", what, n, want_n);
    if ((uint64_t)len != VEC_FIXED + (uint64_t)n * 4)
        return px_fail(err, PX_E_INVALID, "PIR %s is %zu bytes, %u values need %llu", what, len, n,
                       (unsigned long long)(VEC_FIXED + (uint64_t)n * 4));
    memcpy(id, in + 8, 32);
    get_vec(v, in + VEC_FIXED, n);
    return 0;
}

int px_pir_query_encode(px_buf *out, const uint8_t hint_id[32], const uint32_t *query, uint32_t cols, px_err *err) {
    return vec_encode(out, PX_PIR_QUERY_MAGIC, hint_id, query, cols, err);
}

int px_pir_query_parse(const uint8_t *in, size_t len, uint32_t cols, uint8_t hint_id[32], uint32_t *query,
                       px_err *err) {
    return vec_parse(in, len, PX_PIR_QUERY_MAGIC, "query", cols, hint_id, query, err);
}

int px_pir_answer_encode(px_buf *out, const uint8_t query_digest[32], const uint32_t *answer, uint32_t rows,
                         px_err *err) {
    return vec_encode(out, PX_PIR_ANSWER_MAGIC, query_digest, answer, rows, err);
}

int px_pir_answer_parse(const uint8_t *in, size_t len, uint32_t rows, uint8_t query_digest[32], uint32_t *answer,
                        px_err *err) {
    return vec_parse(in, len, PX_PIR_ANSWER_MAGIC, "answer", rows, query_digest, answer, err);
}
