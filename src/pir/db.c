/* The server side: the database matrix, the answer (DB · query) and the
 * hint (DB · A).
 *
 * Entries are stored centred, as int8 = byte − 128 (the scheme wants them
 * in [−p/2, p/2) so the error Σ d_j e_j stays small). Rows are padded to a
 * multiple of 64 entries and their number to a multiple of 4, with zeros,
 * so the kernels never look at a partial block. The matrix lives in an
 * anonymous mapping: explicit huge pages when the system has some reserved,
 * else transparent huge pages on request (MADV_HUGEPAGE); either way fewer
 * TLB misses on a scan that touches every page once per query. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pir/pir_int.h"

#define HUGE_PAGE (2u << 20)
#define HINT_BLOCK 256 /* columns of A expanded at once for the hint */

static size_t round_up(size_t x, size_t a) {
    return (x + a - 1) / a * a;
}

int px_pir_db_new(px_pir_db *db, const px_pir_params *pp, px_err *err) {
    memset(db, 0, sizeof *db);
    size_t stride = round_up(pp->cols, PX_PIR_ALIGN);
    uint32_t rows = (uint32_t)round_up(pp->rows, 4);
    size_t len = round_up(stride * rows, HUGE_PAGE);
    void *p = MAP_FAILED;
    int huge = 0;
#ifdef MAP_HUGETLB
    if (len >= HUGE_PAGE) {
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        huge = p != MAP_FAILED;
    }
#endif
    if (p == MAP_FAILED) {
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return px_fail(err, PX_E_NOMEM, "cannot map %zu bytes for the PIR database", len);
#ifdef MADV_HUGEPAGE
        huge = len >= HUGE_PAGE && madvise(p, len, MADV_HUGEPAGE) == 0;
#endif
    }
    db->params = *pp;
    db->data = p;
    db->stride = stride;
    db->rows_alloc = rows;
    db->map_len = len;
    db->huge = huge;
    /* Every entry starts as the byte 0, centred: −128; padding stays 0. */
    for (uint32_t r = 0; r < pp->rows; r++)
        memset(db->data + (size_t)r * stride, -128, pp->cols);
    return 0;
}

void px_pir_db_free(px_pir_db *db) {
    if (db->data) {
        px_memzero(db->data, db->map_len);
        munmap(db->data, db->map_len);
    }
    memset(db, 0, sizeof *db);
}

int px_pir_db_set(px_pir_db *db, uint32_t i, const uint8_t *record, px_err *err) {
    const px_pir_params *pp = &db->params;
    if (i >= pp->records)
        return px_fail(err, PX_E_INVALID, "record %u is beyond the database's %u", i, pp->records);
    uint32_t c = px_pir_record_col(pp, i), r0 = px_pir_record_row(pp, i);
    for (uint32_t b = 0; b < pp->record_bytes; b++)
        db->data[(size_t)(r0 + b) * db->stride + c] = (int8_t)(record[b] ^ 0x80);
    return 0;
}

int px_pir_db_get(const px_pir_db *db, uint32_t i, uint8_t *record, px_err *err) {
    const px_pir_params *pp = &db->params;
    if (i >= pp->records)
        return px_fail(err, PX_E_INVALID, "record %u is beyond the database's %u", i, pp->records);
    uint32_t c = px_pir_record_col(pp, i), r0 = px_pir_record_row(pp, i);
    for (uint32_t b = 0; b < pp->record_bytes; b++)
        record[b] = (uint8_t)db->data[(size_t)(r0 + b) * db->stride + c] ^ 0x80;
    return 0;
}

/* A prepared vector: planes of plane_bytes, 64-byte aligned. */
static uint8_t *prep_alloc(const px_pir_ops *o, size_t stride, size_t *plane_bytes) {
    *plane_bytes = stride * o->elem;
    return aligned_alloc(PX_PIR_ALIGN, *plane_bytes * o->planes);
}

/* ---- answer ---------------------------------------------------------------- */

typedef struct answer_job {
    const px_pir_db *db;
    const px_pir_ops *ops;
    const uint8_t *prep;
    size_t plane_bytes;
    uint32_t *out;
} answer_job;

static void answer_rows(void *ctx, uint32_t r0, uint32_t r1) {
    answer_job *j = ctx;
    const px_pir_db *db = j->db;
    uint32_t o[4];
    for (uint32_t r = r0; r < r1; r += 4) {
        j->ops->dot4(db->data + (size_t)r * db->stride, db->stride, j->prep, j->plane_bytes, db->stride, o);
        for (uint32_t k = 0; k < 4 && r + k < db->params.rows; k++)
            j->out[r + k] = o[k];
    }
}

int px_pir_answer(const px_pir_db *db, const uint32_t *query, uint32_t *answer, px_pir_kernel k, unsigned threads,
                  px_err *err) {
    const px_pir_ops *ops = px_pir_ops_get(k);
    if (!ops)
        return px_fail(err, PX_E_INVALID, "the PIR kernel %d does not run on this CPU", (int)k);
    answer_job j = {db, ops, NULL, 0, answer};
    uint8_t *prep = prep_alloc(ops, db->stride, &j.plane_bytes);
    if (!prep)
        return px_fail(err, PX_E_NOMEM, "out of memory preparing a PIR query");
    ops->prepare(query, db->params.cols, prep, j.plane_bytes);
    j.prep = prep;
    int rc = px_pir_parallel(px_pir_threads(threads, db->stride * db->rows_alloc), db->params.rows, answer_rows, &j,
                             err);
    free(prep);
    return rc;
}

/* ---- hint ------------------------------------------------------------------ */

/* For a block of HINT_BLOCK columns at a time, A's rows for those columns
 * are expanded (all n columns of A) and prepared once; every row of the
 * database then adds its dot product with each of them. */
typedef struct hint_job {
    const px_pir_db *db;
    const px_pir_ops *ops;
    const uint8_t *prep; /* PX_PIR_N prepared vectors of the block */
    size_t plane_bytes, vec_bytes;
    uint32_t c0, clen; /* the block; clen a multiple of PX_PIR_ALIGN */
    uint32_t *hint;
} hint_job;

static void hint_rows(void *ctx, uint32_t r0, uint32_t r1) {
    hint_job *j = ctx;
    const px_pir_db *db = j->db;
    uint32_t o[4];
    for (uint32_t r = r0; r < r1; r += 4) {
        const int8_t *rows = db->data + (size_t)r * db->stride + j->c0;
        for (uint32_t k = 0; k < PX_PIR_N; k++) {
            j->ops->dot4(rows, db->stride, j->prep + (size_t)k * j->vec_bytes, j->plane_bytes, j->clen, o);
            for (uint32_t i = 0; i < 4 && r + i < db->params.rows; i++)
                j->hint[(size_t)(r + i) * PX_PIR_N + k] += o[i];
        }
    }
}

int px_pir_hint(const px_pir_db *db, uint32_t *hint, unsigned threads, px_err *err) {
    const px_pir_ops *ops = px_pir_ops_get(PX_PIR_KERNEL_AUTO);
    const px_pir_params *pp = &db->params;
    hint_job j = {db, ops, NULL, 0, 0, 0, 0, hint};
    j.plane_bytes = (size_t)HINT_BLOCK * ops->elem;
    j.vec_bytes = j.plane_bytes * ops->planes;
    uint8_t *prep = aligned_alloc(PX_PIR_ALIGN, j.vec_bytes * PX_PIR_N);
    uint32_t *col = malloc(HINT_BLOCK * sizeof *col);
    if (!prep || !col) {
        free(prep);
        free(col);
        return px_fail(err, PX_E_NOMEM, "out of memory computing the PIR hint");
    }
    memset(hint, 0, (size_t)pp->rows * PX_PIR_N * sizeof *hint);
    unsigned nt = px_pir_threads(threads, db->stride * db->rows_alloc);
    int rc = 0;
    for (uint32_t c0 = 0; rc == 0 && c0 < pp->cols; c0 += HINT_BLOCK) {
        uint32_t len = pp->cols - c0 < HINT_BLOCK ? pp->cols - c0 : HINT_BLOCK;
        for (uint32_t k = 0; k < PX_PIR_N; k++) {
            px_pir_a_column(pp->seed, k, c0, len, col);
            ops->prepare(col, len, prep + (size_t)k * j.vec_bytes, j.plane_bytes);
        }
        j.prep = prep;
        j.c0 = c0;
        j.clen = (uint32_t)round_up(len, PX_PIR_ALIGN);
        rc = px_pir_parallel(nt, pp->rows, hint_rows, &j, err);
    }
    free(prep);
    free(col);
    return rc;
}
