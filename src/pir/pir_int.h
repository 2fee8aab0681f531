/* Internals of the PIR module shared by its files (not a public contract). */
#ifndef PX_PIR_INT_H
#define PX_PIR_INT_H

#include "pixiu/pir.h"

/* Columns are processed in blocks of this many entries; rows of the
 * database are padded to it, and so are prepared vectors. */
#define PX_PIR_ALIGN 64

/* A vector over the columns (a query, or a column of A) in the form a
 * kernel reads: 4 bytes per column, split into planes of plane_bytes each.
 *   portable: 1 plane of uint32
 *   avx2:     2 planes of int16 (q = lo + 2^16 hi, both read as signed)
 *   avx512:   4 planes of uint8 (byte k of each value)
 * Padding columns are zero in every plane. */
typedef struct px_pir_ops {
    px_pir_kernel kind;
    const char *name;
    unsigned elem;   /* bytes per column in one plane */
    unsigned planes;
    /* q[0..len) into the planes of out (plane_bytes apart), from column 0. */
    void (*prepare)(const uint32_t *q, size_t len, uint8_t *out, size_t plane_bytes);
    /* out[i] = Σ_{j<len} row_i[j] · v[j] mod 2^32 for the 4 rows starting
     * at row0 (stride apart), v prepared; len a multiple of PX_PIR_ALIGN;
     * plane points at column 0 of the range in plane 0. */
    void (*dot4)(const int8_t *row0, size_t stride, const uint8_t *plane, size_t plane_bytes, size_t len,
                 uint32_t out[4]);
} px_pir_ops;

extern const px_pir_ops px_pir_ops_portable;
extern const px_pir_ops px_pir_ops_avx2;
extern const px_pir_ops px_pir_ops_avx512;

/* The ops for k (AUTO: the best supported), or NULL if not supported. */
const px_pir_ops *px_pir_ops_get(px_pir_kernel k);

/* Column k of A, entries [j0, j0 + len) (j0 a multiple of 16). */
void px_pir_a_column(const uint8_t seed[PX_PIR_SEED_BYTES], uint32_t k, uint32_t j0, uint32_t len, uint32_t *out);

/* Rows [r0, r1) of the work split among threads; fn(ctx, r0, r1). */
int px_pir_parallel(unsigned threads, uint32_t rows, void (*fn)(void *ctx, uint32_t r0, uint32_t r1), void *ctx,
                    px_err *err);
/* Threads to use: 0 = auto (every CPU for at least 64 MiB of database). */
unsigned px_pir_threads(unsigned asked, size_t db_bytes);

#endif
