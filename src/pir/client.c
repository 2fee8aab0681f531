/* The client side: a query for one column, and decoding the answer.
 *
 *   query  = A·s + e + Δ·u_col       s uniform in Z_q^n, e Gaussian
 *   answer − hint·s = DB·e + Δ·DB·u_col = Δ·(column col) + small
 *
 * so each entry of the column is round((answer − hint·s)[r] / Δ) mod p,
 * read back from its centred form by adding 128. */
#include <stdlib.h>
#include <string.h>

#include "pir/pir_int.h"

void px_pir_query_with(const px_pir_params *pp, uint32_t col, const uint32_t *s, const int32_t *e,
                       const uint32_t *as, uint32_t *query) {
    (void)s;
    for (uint32_t j = 0; j < pp->cols; j++)
        query[j] = as[j] + (uint32_t)e[j];
    query[col] += PX_PIR_DELTA;
}

int px_pir_query(const px_pir_params *pp, uint32_t record, px_pir_secret *sec, uint32_t *query, px_err *err) {
    if (record >= pp->records)
        return px_fail(err, PX_E_INVALID, "record %u is beyond the database's %u", record, pp->records);
    uint32_t *as = malloc((size_t)pp->cols * sizeof *as);
    int32_t *e = malloc((size_t)pp->cols * sizeof *e);
    if (!as || !e) {
        free(as);
        free(e);
        return px_fail(err, PX_E_NOMEM, "out of memory making a PIR query");
    }
    px_random(sec->s, sizeof sec->s);
    sec->col = px_pir_record_col(pp, record);
    int rc = px_pir_expand_as(pp, sec->s, as, err);
    if (rc == 0) {
        px_pir_gauss_fill(e, pp->cols);
        px_pir_query_with(pp, sec->col, sec->s, e, as, query);
    }
    px_memzero(as, (size_t)pp->cols * sizeof *as);
    px_memzero(e, (size_t)pp->cols * sizeof *e);
    free(as);
    free(e);
    if (rc)
        px_pir_secret_wipe(sec);
    return rc;
}

int px_pir_decode_column(const px_pir_params *pp, const uint32_t *hint, const px_pir_secret *sec,
                         const uint32_t *answer, uint8_t *out, int32_t *noise, px_err *err) {
    if (sec->col >= pp->cols)
        return px_fail(err, PX_E_INVALID, "the secret is for column %u of %u", sec->col, pp->cols);
    for (uint32_t r = 0; r < pp->rows; r++) {
        const uint32_t *h = hint + (size_t)r * PX_PIR_N;
        uint32_t hs = 0;
        for (uint32_t k = 0; k < PX_PIR_N; k++)
            hs += h[k] * sec->s[k];
        uint32_t v = answer[r] - hs;
        /* Round to the nearest multiple of Δ: the top byte after adding Δ/2. */
        uint32_t top = (v + PX_PIR_DELTA / 2) >> 24;
        if (noise)
            noise[r] = (int32_t)(v - (top << 24));
        out[r] = (uint8_t)(top ^ 0x80);
    }
    return 0;
}

int px_pir_decode(const px_pir_params *pp, const uint32_t *hint, const px_pir_secret *sec, const uint32_t *answer,
                  uint32_t record, uint8_t *out, px_err *err) {
    if (record >= pp->records || px_pir_record_col(pp, record) != sec->col)
        return px_fail(err, PX_E_INVALID, "record %u is not in the column the query asked for", record);
    uint8_t *col = malloc(pp->rows);
    if (!col)
        return px_fail(err, PX_E_NOMEM, "out of memory decoding a PIR answer");
    int rc = px_pir_decode_column(pp, hint, sec, answer, col, NULL, err);
    if (rc == 0)
        memcpy(out, col + px_pir_record_row(pp, record), pp->record_bytes);
    px_memzero(col, pp->rows);
    free(col);
    return rc;
}

void px_pir_secret_wipe(px_pir_secret *sec) {
    px_memzero(sec, sizeof *sec);
}
