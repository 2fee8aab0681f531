/* A DP table as a PIR λ gets it, for the stage and worker tests: a DP
 * result with its opening, a success receipt naming it, row and column
 * names, and the table dataset stream a POD releases. */
#ifndef PX_PIR_TABLE_FIXTURE_H
#define PX_PIR_TABLE_FIXTURE_H

#include "lambda/step_fixture.h"
#include "pixiu/pir.h"

#define ROWS 37
#define COLS 2

/* A DP result (opening "PXC1" || r || PXV1) and a success receipt naming
 * its commitment; the values are row*10 + column + 0.5. */
typedef struct dp_task {
    uint8_t manifest[32], result[32];
    px_buf receipt, opening;
    char *rows[ROWS], *cols[COLS];
} dp_task;

static inline void dp_task_make(dp_task *t, int nrows) {
    px_err err = {0};
    double v[ROWS * COLS];
    for (int i = 0; i < nrows * COLS; i++)
        v[i] = (i / COLS) * 10 + (i % COLS) + 0.5;
    px_buf vec = PX_BUF_INIT;
    px_assert_ok(px_vector_encode(&vec, v, (uint32_t)(nrows * COLS), &err), &err);
    uint8_t r[PX_COMMIT_RANDBYTES];
    px_commit_new(r, vec.data, vec.len, t->result);
    t->opening = (px_buf)PX_BUF_INIT;
    px_buf_append(&t->opening, PX_COMMIT_MAGIC, 4, &err);
    px_buf_append(&t->opening, r, sizeof r, &err);
    px_buf_append(&t->opening, vec.data, vec.len, &err);
    px_random(t->manifest, 32);
    char m[65], res[65];
    px_hex_encode(m, t->manifest, 32);
    px_hex_encode(res, t->result, 32);
    t->receipt = (px_buf)PX_BUF_INIT;
    px_assert_ok(px_buf_printf(&t->receipt, &err, "{\"type\":\"urn:pixiu:receipt:v1\",\"manifest\":\"%s\","
                                                   "\"result\":\"%s\",\"entries\":[]}", m, res), &err);
    for (int i = 0; i < ROWS; i++) {
        t->rows[i] = malloc(32);
        snprintf(t->rows[i], 32, "region-%d/age-%d", i / 5, i % 5);
    }
    t->cols[0] = strdup("count");
    t->cols[1] = strdup("spent");
    px_buf_free(&vec);
}

static inline void dp_task_free(dp_task *t) {
    px_buf_free(&t->receipt);
    px_buf_free(&t->opening);
    for (int i = 0; i < ROWS; i++)
        free(t->rows[i]);
    free(t->cols[0]);
    free(t->cols[1]);
}

/* The table dataset a POD releases: the document cut in parts of `part`
 * bytes, stored last part first (order is the part numbers', not the
 * stream's). */
static inline void table_stream(px_buf *out, const px_buf *doc, size_t part) {
    px_err err = {0};
    px_schema s;
    memset(&s, 0, sizeof s);
    s.nfields = 2;
    snprintf(s.fields[0].name, sizeof s.fields[0].name, PX_PIR_DATASET_PART);
    s.fields[0].type = PX_FIELD_INT;
    snprintf(s.fields[1].name, sizeof s.fields[1].name, PX_PIR_DATASET_BYTES);
    s.fields[1].type = PX_FIELD_BLOB;
    s.user_field = PX_NO_USER_FIELD;
    size_t n = (doc->len + part - 1) / part;
    px_assert_ok(px_records_begin(out, &s, n, &err), &err);
    for (size_t k = n; k-- > 0;) {
        size_t len = k + 1 < n ? part : doc->len - k * part;
        px_value v[2] = {{PX_FIELD_INT, (int64_t)k, 0, NULL, 0}, {PX_FIELD_BLOB, 0, 0, doc->data + k * part, (uint32_t)len}};
        px_assert_ok(px_records_append(out, &s, v, 0, &err), &err);
    }
}

#endif
