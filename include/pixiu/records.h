/* PIXIU data formats between stages: the record stream (PXR1) that carries
 * dataset records into a trust-λ, and the numeric vector (PXV1) a task emits
 * for the DP stage. Both are binary-safe and versioned by their magic; the
 * byte layout is specified in docs/formats.md and mirrored, for code inside
 * the sandbox, by sdk/pixiu_task.h.
 *
 * Readers treat every stream as hostile: each malformed byte yields a
 * one-line error that names the field and offset.
 */
#ifndef PIXIU_RECORDS_H
#define PIXIU_RECORDS_H

#include "pixiu/core.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

#define PX_RECORDS_MAGIC "PXR1"
#define PX_VECTOR_MAGIC "PXV1"
#define PX_RECORDS_MAX_FIELDS 64
#define PX_FIELD_NAME_MAX 63
#define PX_VALUE_MAX_BYTES (1u << 20)
#define PX_VECTOR_MAX_DIM (1u << 20)
#define PX_NO_USER_FIELD 0xFFFFFFFFu

/* Record flags, set by the data-prover stage. */
#define PX_REC_AUTHENTICATED 0x01u

typedef enum px_field_type {
    PX_FIELD_INT = 1,  /* int64, little-endian */
    PX_FIELD_REAL = 2, /* IEEE-754 binary64, little-endian */
    PX_FIELD_TEXT = 3, /* u32 length + UTF-8 bytes */
    PX_FIELD_BLOB = 4  /* u32 length + bytes */
} px_field_type;

typedef struct px_field {
    char name[PX_FIELD_NAME_MAX + 1]; /* [A-Za-z0-9_]+ */
    px_field_type type;
} px_field;

typedef struct px_schema {
    px_field fields[PX_RECORDS_MAX_FIELDS];
    uint32_t nfields;
    uint32_t user_field; /* index of the user-id field or PX_NO_USER_FIELD */
} px_schema;

typedef struct px_value {
    px_field_type type;
    int64_t i;
    double r;
    const uint8_t *p; /* text/blob bytes, borrowed */
    uint32_t len;
} px_value;

/* 1 if the schema is well formed (names, types, user field). */
int px_schema_valid(const px_schema *s, px_err *err);
int px_schema_find(const px_schema *s, const char *name); /* index or -1 */
/* 1 if both have the same fields (names, types, order) and user field. */
int px_schema_equal(const px_schema *a, const px_schema *b);

/* ---- writing ------------------------------------------------------------ */

/* Append the header of a stream that will hold exactly count records. */
int px_records_begin(px_buf *out, const px_schema *s, uint64_t count,
                     px_err *err);
/* Append one record: values[i] must have the type of field i. */
int px_records_append(px_buf *out, const px_schema *s, const px_value *values,
                      uint8_t flags, px_err *err);
/* The canonical encoding of a record's values (no flags): what a source
 * signs the digest of. */
int px_record_encode_values(px_buf *out, const px_schema *s,
                            const px_value *values, px_err *err);

/* ---- reading ------------------------------------------------------------ */

typedef struct px_records_reader {
    const uint8_t *data; /* borrowed */
    size_t len;
    size_t off;
    px_schema schema;
    uint64_t count;
    uint64_t index;
    size_t record_start; /* offset of the record last returned */
} px_records_reader;

int px_records_open(px_records_reader *r, const uint8_t *data, size_t len,
                    px_err *err);
/* Returns 1 and fills values (nfields entries) and *flags, 0 at the end
 * (after checking nothing trails the last record), -1 on malformed input. */
int px_records_next(px_records_reader *r, px_value *values, uint8_t *flags,
                    px_err *err);

/* The bytes that identify a value when records are grouped by it (the user
 * field): int64 and float64 as their 8 bytes little-endian (written to num),
 * text and blob as they are. Returns the length; *bytes is borrowed. The
 * type is not included: hash it alongside. */
size_t px_value_key(const px_value *v, uint8_t num[8], const uint8_t **bytes);

/* ---- numeric vectors ---------------------------------------------------- */

int px_vector_encode(px_buf *out, const double *v, uint32_t n, px_err *err);
/* Decodes into a newly allocated array (*out, freed with free()). Values are
 * returned bit-exact; NaN and infinities are the DP stage's to judge. */
int px_vector_decode(double **out, uint32_t *n, const uint8_t *data,
                     size_t len, px_err *err);

/* ---- tagged vectors (PXT1) ---------------------------------------------
 *
 * What a per-user map stage hands the DP stage: one fixed-size entry per
 * user (or per block), each a 32-byte keyed pseudonym, a flag byte and dim
 * values. An entry whose run produced no usable vector is kept, marked
 * absent, with zero values, so the stream's size depends only on the number
 * of users. Layout in docs/formats.md. */

#define PX_TAGGED_MAGIC "PXT1"
#define PX_TAG_BYTES 32
#define PX_TAGGED_MAX_DIM 4096u
#define PX_TAGGED_PRESENT 0x01u
#define PX_TAGGED_HEADER_BYTES 16u /* magic, dim u32, count u64 */

/* Bytes of one entry of a stream of dim values. */
size_t px_tagged_entry_bytes(uint32_t dim);
int px_tagged_begin(px_buf *out, uint32_t dim, uint64_t count, px_err *err);
/* values NULL: an absent entry. */
int px_tagged_append(px_buf *out, uint32_t dim, const uint8_t tag[PX_TAG_BYTES], const double *values,
                     px_err *err);

typedef struct px_tagged_reader {
    const uint8_t *data; /* borrowed */
    size_t len, off;
    uint32_t dim;
    uint64_t count, index;
} px_tagged_reader;

/* Checks the header and that the length is exactly header + count entries. */
int px_tagged_open(px_tagged_reader *r, const uint8_t *data, size_t len, px_err *err);
/* Returns 1 with *tag borrowed, *present set and dim values written to
 * values (zeros when absent), 0 at the end, -1 on a malformed entry. */
int px_tagged_next(px_tagged_reader *r, const uint8_t **tag, int *present, double *values, px_err *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
