/* PIXIU PIR: single-server private information retrieval (SimplePIR,
 * Henzinger, Hong, Corrigan-Gibbs, Meiklejohn, Vaikuntanathan, USENIX
 * Security 2023), and the trust-λ stage kind `pir` that serves a DP table
 * with it.
 *
 * The database is an ℓ × m matrix of bytes (entries of Z_p, p = 256, kept
 * centred as int8). A record of R bytes occupies R consecutive rows of one
 * column, so one query (which selects a column) returns it whole. With LWE
 * secret dimension n = 1024, q = 2^32 and errors from the discrete
 * Gaussian of σ = 6.4:
 *
 *   A     = m × n matrix over Z_q, expanded from a public 32-byte seed
 *           (ChaCha20, one stream per column of A)
 *   hint  = DB · A                      (ℓ × n, computed once)
 *   query = A·s + e + Δ·u_i, Δ = q/p    (m values; s uniform, e Gaussian)
 *   answer = DB · query                 (ℓ values)
 *   column i = round((answer − hint·s) / Δ)
 *
 * All arithmetic is mod 2^32 (uint32 wrap-around). The answer loop runs at
 * near memory bandwidth: AVX-512 VNNI, AVX2 or portable C, chosen at run
 * time, over one or more threads. See docs/pir.md.
 */
#ifndef PIXIU_PIR_H
#define PIXIU_PIR_H

#include "pixiu/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PX_PIR_N 1024           /* LWE secret dimension */
#define PX_PIR_LOGQ 32          /* q = 2^32 */
#define PX_PIR_SIGMA "6.4"      /* the error's Gaussian parameter */
#define PX_PIR_P 256            /* plaintext modulus: one byte per entry */
#define PX_PIR_DELTA (1u << 24) /* q / p */
#define PX_PIR_SEED_BYTES 32
#define PX_PIR_MAX_COLS (1u << 20)   /* LWE samples the parameter table covers */
#define PX_PIR_MAX_ROWS (1u << 20)
#define PX_PIR_MAX_RECORD (1u << 16) /* bytes per record */
#define PX_PIR_MAX_DB_BYTES (1ull << 36)

/* ---- parameters and shape ---------------------------------------------- */

typedef struct px_pir_params {
    uint32_t rows;         /* ℓ: entries per column (a multiple of record_bytes) */
    uint32_t cols;         /* m: columns = query length = LWE samples */
    uint32_t record_bytes; /* R: entries per record */
    uint32_t records;      /* N: records stored */
    uint32_t p;            /* plaintext modulus (PX_PIR_P) */
    uint8_t seed[PX_PIR_SEED_BYTES];
} px_pir_params;

/* The plaintext modulus the SimplePIR parameter table gives for m LWE
 * samples (n = 1024, q = 2^32, σ = 6.4, correctness error 2^-40), or 0
 * when m is beyond the table. */
uint32_t px_pir_table_p(uint32_t cols);

/* Choose the shape for `records` records of `record_bytes` bytes: rows a
 * multiple of record_bytes, rows × cols about records × record_bytes and
 * close to square, p the largest power of two not above the table's p for
 * cols, at most 256 (one byte per entry). The shape is a function of
 * (records, record_bytes) alone; parsers refuse any other. */
int px_pir_params_choose(px_pir_params *pp, uint64_t records, uint32_t record_bytes,
                         const uint8_t seed[PX_PIR_SEED_BYTES], px_err *err);
/* Re-check a parsed shape against px_pir_params_choose. */
int px_pir_params_check(const px_pir_params *pp, px_err *err);

/* Where record i lives: its column and first row. */
static inline uint32_t px_pir_record_col(const px_pir_params *pp, uint32_t i) { return i % pp->cols; }
static inline uint32_t px_pir_record_row(const px_pir_params *pp, uint32_t i) {
    return (i / pp->cols) * pp->record_bytes;
}

/* An upper bound on log2 of the probability that one entry of one answer
 * decodes wrongly (subgaussian tail of Σ_j d_j e_j, |d_j| ≤ p/2). */
double px_pir_failure_log2(const px_pir_params *pp);

/* ---- the database (server) ---------------------------------------------- */

typedef struct px_pir_db {
    px_pir_params params;
    int8_t *data;    /* rows_alloc × stride centred entries (byte − 128) */
    size_t stride;   /* bytes per row: cols rounded up to 64 */
    uint32_t rows_alloc; /* rows rounded up to 4 (padding rows are 0) */
    size_t map_len;  /* the mapping's length */
    int huge;        /* 1: backed by huge pages (THP or hugetlb) */
} px_pir_db;

/* A zeroed database (every record all-zero bytes), in huge pages when the
 * kernel gives them. */
int px_pir_db_new(px_pir_db *db, const px_pir_params *pp, px_err *err);
/* Store record i (record_bytes bytes). */
int px_pir_db_set(px_pir_db *db, uint32_t i, const uint8_t *record, px_err *err);
/* Read record i back in plaintext (for tests and the demo's comparison). */
int px_pir_db_get(const px_pir_db *db, uint32_t i, uint8_t *record, px_err *err);
void px_pir_db_free(px_pir_db *db);

/* The answer loop's implementations; AUTO picks the best the CPU runs. */
typedef enum px_pir_kernel {
    PX_PIR_KERNEL_AUTO = 0,
    PX_PIR_KERNEL_PORTABLE,
    PX_PIR_KERNEL_AVX2,
    PX_PIR_KERNEL_AVX512 /* AVX-512 BW + VNNI */
} px_pir_kernel;

int px_pir_kernel_supported(px_pir_kernel k);
const char *px_pir_kernel_name(px_pir_kernel k); /* AUTO: the one it picks */

/* hint = DB · A (rows × PX_PIR_N values, row-major). threads: 0 = all the
 * machine has for large databases, else that many. */
int px_pir_hint(const px_pir_db *db, uint32_t *hint, unsigned threads, px_err *err);
/* answer = DB · query (rows values). */
int px_pir_answer(const px_pir_db *db, const uint32_t *query, uint32_t *answer, px_pir_kernel k,
                  unsigned threads, px_err *err);

/* ---- the client ------------------------------------------------------------ */

/* The secret behind one query: never leaves the client, wiped on free. */
typedef struct px_pir_secret {
    uint32_t s[PX_PIR_N];
    uint32_t col; /* the column asked for */
} px_pir_secret;

/* A·s for the seed's A (cols values). */
int px_pir_expand_as(const px_pir_params *pp, const uint32_t *s, uint32_t *out, px_err *err);
/* A query for record i: query (cols values) and its secret. */
int px_pir_query(const px_pir_params *pp, uint32_t record, px_pir_secret *sec, uint32_t *query, px_err *err);
/* The same with a given s and error e (tests: error and failure rates). */
void px_pir_query_with(const px_pir_params *pp, uint32_t col, const uint32_t *s, const int32_t *e,
                       const uint32_t *as, uint32_t *query);
/* Decode the whole column: out[r] = the byte at row r of the asked column
 * (rows bytes); noise (may be NULL) receives each entry's signed error
 * before rounding, in units of 1 (|noise| < Δ/2 decodes correctly). */
int px_pir_decode_column(const px_pir_params *pp, const uint32_t *hint, const px_pir_secret *sec,
                         const uint32_t *answer, uint8_t *out, int32_t *noise, px_err *err);
/* Decode record i from the answer to a query for it. */
int px_pir_decode(const px_pir_params *pp, const uint32_t *hint, const px_pir_secret *sec,
                  const uint32_t *answer, uint32_t record, uint8_t *out, px_err *err);
void px_pir_secret_wipe(px_pir_secret *sec);

/* The error distribution: the discrete Gaussian with σ = 6.4 by inversion
 * of a 128-bit cumulative table (docs/pir.md), constant time. A sample
 * takes 17 uniform bytes: 16 for the magnitude, the low bit of the last for
 * the sign. */
#define PX_PIR_GAUSS_BYTES 17
int32_t px_pir_gauss_from(const uint8_t r[PX_PIR_GAUSS_BYTES]);
void px_pir_gauss_fill(int32_t *e, size_t n); /* from the CSPRNG */
/* The largest magnitude a sample can have (the table's length). */
unsigned px_pir_gauss_max(void);

/* ---- wire formats (docs/pir.md) ------------------------------------------ */

#define PX_PIR_HINT_MAGIC "PXPH"
#define PX_PIR_QUERY_MAGIC "PXPQ"
#define PX_PIR_ANSWER_MAGIC "PXPA"
#define PX_PIR_INFO_MAX (16u << 20)

/* Hint bundle: "PXPH" v1, the params, an info blob (opaque here; the stage
 * puts the table's JSON description there) and the hint. */
int px_pir_hint_encode(px_buf *out, const px_pir_params *pp, const uint8_t *info, size_t info_len,
                       const uint32_t *hint, px_err *err);
/* Parses strictly: exact length, a shape px_pir_params_choose would give,
 * info and hint borrowed from the input (hint may be unaligned: use
 * px_pir_hint_copy). */
typedef struct px_pir_hint_view {
    px_pir_params params;
    const uint8_t *info;
    size_t info_len;
    const uint8_t *hint; /* rows × PX_PIR_N little-endian uint32 */
} px_pir_hint_view;
int px_pir_hint_parse(px_pir_hint_view *v, const uint8_t *in, size_t len, px_err *err);
/* The hint as aligned uint32 (rows × PX_PIR_N), malloc'd. */
int px_pir_hint_copy(const px_pir_hint_view *v, uint32_t **out, px_err *err);

/* Query: "PXPQ" v1, the 32-byte id of the hint it was made for, cols
 * values. */
int px_pir_query_encode(px_buf *out, const uint8_t hint_id[32], const uint32_t *query, uint32_t cols,
                        px_err *err);
/* cols is what the server expects: any other length is refused. query
 * (cols values) is written only on success. */
int px_pir_query_parse(const uint8_t *in, size_t len, uint32_t cols, uint8_t hint_id[32], uint32_t *query,
                       px_err *err);

/* Answer: "PXPA" v1, SHA-256 of the query bytes it answers, rows values. */
int px_pir_answer_encode(px_buf *out, const uint8_t query_digest[32], const uint32_t *answer, uint32_t rows,
                         px_err *err);
int px_pir_answer_parse(const uint8_t *in, size_t len, uint32_t rows, uint8_t query_digest[32],
                        uint32_t *answer, px_err *err);

#ifdef __cplusplus
}
#endif
#endif
