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

/* ---- the DP table a PIR λ serves (docs/pir.md) --------------------------- */

/* A table document: the DP result of an earlier task, its receipt and the
 * opening of the receipt's result commitment, with a name for every row
 * and column. JSON, closed:
 *   {"type": "urn:pixiu:pir-table:v1", "receipt": base64, "opening":
 *    base64 of "PXC1" || r || PXV1 vector, "rows": [...], "columns": [...]}
 * Row i of the table is values[i·ncolumns .. (i+1)·ncolumns). */
#define PX_PIR_TABLE_TYPE "urn:pixiu:pir-table:v1"
#define PX_PIR_TABLE_MAX_BYTES (64u << 20)
#define PX_PIR_TABLE_MAX_ROWS (1u << 20)
#define PX_PIR_TABLE_MAX_COLUMNS 64
#define PX_PIR_NAME_MAX 128

typedef struct px_pir_table {
    uint8_t manifest[PX_SHA256_BYTES]; /* the task that made it */
    uint8_t result[PX_SHA256_BYTES];   /* its result commitment (the receipt's) */
    uint8_t receipt[PX_SHA256_BYTES];  /* SHA-256 of the receipt bytes */
    px_buf receipt_json;               /* the receipt, as given */
    double *values;
    uint32_t nrows, ncolumns;
    char **rows, **columns;
} px_pir_table;

/* Make a table document from a receipt, the opening of its result and the
 * names; checks what px_pir_table_parse checks. */
int px_pir_table_build(px_buf *out, const uint8_t *receipt, size_t receipt_len, const uint8_t *opening,
                       size_t opening_len, char *const *rows, uint32_t nrows, char *const *columns,
                       uint32_t ncolumns, px_err *err);
/* Strict: the receipt is a success receipt whose result the opening opens
 * (its full check against a trust root is the querier's, which has one),
 * the vector has nrows × ncolumns finite values, names are unique. */
int px_pir_table_parse(px_pir_table *t, const uint8_t *doc, size_t len, px_err *err);
void px_pir_table_free(px_pir_table *t);
/* Row i as the bytes the PIR database stores: ncolumns doubles, LE. */
void px_pir_table_row(const px_pir_table *t, uint32_t i, uint8_t *out);

/* What the hint bundle's info says about the table (JSON, closed):
 *   {"table", "manifest", "receipt": hex, "rows": [...], "columns": [...]} */
typedef struct px_pir_info {
    uint8_t table[PX_SHA256_BYTES], manifest[PX_SHA256_BYTES], receipt[PX_SHA256_BYTES];
    uint32_t nrows, ncolumns;
    char **rows, **columns;
} px_pir_info;
int px_pir_info_encode(px_buf *out, const px_pir_table *t, px_err *err);
int px_pir_info_parse(px_pir_info *i, const uint8_t *in, size_t len, px_err *err);
void px_pir_info_free(px_pir_info *i);
/* The row named key, or -1. */
int64_t px_pir_info_find(const px_pir_info *i, const char *key);

/* The seed of A for a table: SHA-256("PIXIU-pir-seed-v1\n" || result), so
 * no party chooses A and every instance serving a table shares its hint. */
void px_pir_table_seed(uint8_t seed[PX_PIR_SEED_BYTES], const uint8_t result[PX_SHA256_BYTES]);

/* The trust-λ stage kind "pir" (docs/pir.md): params {"table": hex of the
 * DP result commitment it must serve}; its one input is a POD's release of
 * a table dataset (fields part:int, bytes:blob; the parts' bytes in order
 * are a table document). Output: the hint bundle. Then it answers queries
 * (px_lambda_serve) until the deadline. */
#define PX_PIR_DATASET_PART "part"
#define PX_PIR_DATASET_BYTES "bytes"
#define PX_PIR_PART_MAX (512u << 10) /* bytes per part a table dataset stores */
struct px_stage_kind;
extern const struct px_stage_kind px_pir_stage_kind;

#ifdef __cplusplus
}
#endif
#endif
