/* The DP table a PIR λ serves, and the description of it that travels in
 * the hint bundle (docs/pir.md). Both are JSON parsed strictly: closed
 * objects, names checked and unique, and the table's values must be the
 * ones its receipt's result commitment names. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pir/pir_int.h"
#include "pixiu/records.h"

#define RECEIPT_TYPE "urn:pixiu:receipt:v1"
#define SEED_TAG "PIXIU-pir-seed-v1\n"

void px_pir_table_seed(uint8_t seed[PX_PIR_SEED_BYTES], const uint8_t result[PX_SHA256_BYTES]) {
    const void *parts[2] = {SEED_TAG, result};
    size_t lens[2] = {sizeof SEED_TAG - 1, PX_SHA256_BYTES};
    px_sha256_parts(seed, 2, parts, lens);
}

/* ---- names ------------------------------------------------------------------ */

static void names_free(char **v, uint32_t n) {
    for (uint32_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1..max names of 1..PX_PIR_NAME_MAX printable UTF-8 bytes, all different. */
static int names_check(const char *what, char *const *v, size_t n, size_t max, px_err *err) {
    if (n == 0 || n > max)
        return px_fail(err, PX_E_INVALID, "a PIR table has 1..%zu %s, not %zu", max, what, n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]);
        if (len == 0 || len > PX_PIR_NAME_MAX || !px_utf8_valid((const uint8_t *)v[i], len))
            return px_fail(err, PX_E_INVALID, "%s %zu: a name is 1..%d bytes of UTF-8", what, i, PX_PIR_NAME_MAX);
        for (size_t k = 0; k < len; k++)
            if ((unsigned char)v[i][k] < 0x20 || v[i][k] == 0x7f)
                return px_fail(err, PX_E_INVALID, "%s %zu: a name has no control characters", what, i);
    }
    char **sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return px_fail(err, PX_E_NOMEM, "out of memory checking names");
    memcpy(sorted, v, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_str);
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++)
        if (!strcmp(sorted[i - 1], sorted[i]))
            rc = px_fail(err, PX_E_INVALID, "%s: the name \"%.64s\" appears twice", what, sorted[i]);
    free(sorted);
    return rc;
}

/* A JSON array of strings into a new array of copies. */
static int names_read(const json_t *a, const char *what, size_t max, char ***out, uint32_t *n, px_err *err) {
    if (!json_is_array(a))
        return px_fail(err, PX_E_INVALID, "a PIR table's \"%s\" must be an array of names", what);
    size_t len = json_array_size(a);
    if (len == 0 || len > max)
        return px_fail(err, PX_E_INVALID, "a PIR table has 1..%zu %s, not %zu", max, what, len);
    char **v = calloc(len, sizeof *v);
    if (!v)
        return px_fail(err, PX_E_NOMEM, "out of memory reading names");
    for (size_t i = 0; i < len; i++) {
        const json_t *s = json_array_get(a, i);
        if (!json_is_string(s) || !(v[i] = strdup(json_string_value(s)))) {
            names_free(v, (uint32_t)len);
            return px_fail(err, PX_E_INVALID, "%s %zu: not a string", what, i);
        }
    }
    if (names_check(what, v, len, max, err)) {
        names_free(v, (uint32_t)len);
        return -1;
    }
    *out = v;
    *n = (uint32_t)len;
    return 0;
}

static json_t *names_json(char *const *v, uint32_t n) {
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Exactly these members, nothing else. */
static int closed(const json_t *o, const char *const *keys, size_t n, const char *what, px_err *err) {
    if (!json_is_object(o))
        return px_fail(err, PX_E_INVALID, "%s must be a JSON object", what);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        size_t i = 0;
        while (i < n && strcmp(k, keys[i]))
            i++;
        if (i == n)
            return px_fail(err, PX_E_INVALID, "%s has an unknown member \"%.40s\"", what, k);
    }
    for (size_t i = 0; i < n; i++)
        if (!json_object_get(o, keys[i]))
            return px_fail(err, PX_E_INVALID, "%s lacks \"%s\"", what, keys[i]);
    return 0;
}

/* ---- the table document --------------------------------------------------------- */

/* The receipt's own claims: a success receipt, its manifest and result.
 * Whether it verifies against a network is for whoever holds a trust root
 * (the querier: `pixiu pir query`). */
static int receipt_claims(px_pir_table *t, const uint8_t *r, size_t len, px_err *err) {
    json_t *o = px_json_parse(r, len, PX_PIR_TABLE_MAX_BYTES, err);
    if (!o)
        return px_err_prefix(err, "the table's receipt: ");
    const char *type = json_string_value(json_object_get(o, "type"));
    const json_t *outcome = json_object_get(o, "outcome");
    int rc = 0;
    if (!json_is_object(o) || !type || strcmp(type, RECEIPT_TYPE))
        rc = px_fail(err, PX_E_INVALID, "the table's receipt is not a %s", RECEIPT_TYPE);
    else if (outcome && (!json_is_string(outcome) || strcmp(json_string_value(outcome), "ok")))
        rc = px_fail(err, PX_E_INVALID, "the table's receipt is for a task that failed");
    else if (px_json_hex(o, "manifest", t->manifest, PX_SHA256_BYTES, err) ||
             px_json_hex(o, "result", t->result, PX_SHA256_BYTES, err))
        rc = px_err_prefix(err, "the table's receipt: ");
    json_decref(o);
    px_sha256(t->receipt, r, len);
    return rc;
}

/* "PXC1" || r || data must open the receipt's result; data is the vector. */
static int opening_values(px_pir_table *t, const uint8_t *o, size_t len, px_err *err) {
    if (len < 4 + PX_COMMIT_RANDBYTES || memcmp(o, PX_COMMIT_MAGIC, 4))
        return px_fail(err, PX_E_INVALID, "the table's opening is not \"" PX_COMMIT_MAGIC "\" || r || data");
    uint8_t c[PX_SHA256_BYTES];
    const uint8_t *data = o + 4 + PX_COMMIT_RANDBYTES;
    size_t dlen = len - 4 - PX_COMMIT_RANDBYTES;
    px_commit_digest(c, o + 4, data, dlen);
    if (!px_ct_equal(c, t->result, PX_SHA256_BYTES))
        return px_fail(err, PX_E_VERIFY, "the table's values are not the result its receipt names (commitment "
                                         "differs)");
    uint32_t n = 0;
    if (px_vector_decode(&t->values, &n, data, dlen, err))
        return px_err_prefix(err, "the table's values: ");
    if ((uint64_t)t->nrows * t->ncolumns != n)
        return px_fail(err, PX_E_INVALID, "the table has %u rows of %u columns, but %u values", t->nrows, t->ncolumns,
                       n);
    for (uint32_t i = 0; i < n; i++)
        if (!isfinite(t->values[i]))
            return px_fail(err, PX_E_INVALID, "the table's value %u is not a finite number", i);
    return 0;
}

int px_pir_table_parse(px_pir_table *t, const uint8_t *doc, size_t len, px_err *err) {
    static const char *const keys[] = {"type", "receipt", "opening", "rows", "columns"};
    memset(t, 0, sizeof *t);
    json_t *o = px_json_parse(doc, len, PX_PIR_TABLE_MAX_BYTES, err);
    if (!o)
        return px_err_prefix(err, "PIR table: ");
    const char *type = json_string_value(json_object_get(o, "type"));
    px_buf opening = PX_BUF_INIT;
    int rc = closed(o, keys, 5, "a PIR table", err);
    if (rc == 0 && (!type || strcmp(type, PX_PIR_TABLE_TYPE)))
        rc = px_fail(err, PX_E_INVALID, "a PIR table's type is %s", PX_PIR_TABLE_TYPE);
    if (rc == 0)
        rc = names_read(json_object_get(o, "rows"), "rows", PX_PIR_TABLE_MAX_ROWS, &t->rows, &t->nrows, err) ||
             names_read(json_object_get(o, "columns"), "columns", PX_PIR_TABLE_MAX_COLUMNS, &t->columns,
                        &t->ncolumns, err) ||
             px_json_b64(o, "receipt", &t->receipt_json, err) || px_json_b64(o, "opening", &opening, err) ||
             receipt_claims(t, t->receipt_json.data, t->receipt_json.len, err) ||
             opening_values(t, opening.data, opening.len, err);
    px_buf_free(&opening);
    json_decref(o);
    if (rc) {
        px_pir_table_free(t);
        return -1;
    }
    return 0;
}

void px_pir_table_free(px_pir_table *t) {
    px_buf_free(&t->receipt_json);
    free(t->values);
    names_free(t->rows, t->nrows);
    names_free(t->columns, t->ncolumns);
    memset(t, 0, sizeof *t);
}

void px_pir_table_row(const px_pir_table *t, uint32_t i, uint8_t *out) {
    for (uint32_t c = 0; c < t->ncolumns; c++) {
        uint64_t u;
        double v = t->values[(size_t)i * t->ncolumns + c];
        memcpy(&u, &v, 8);
        for (int b = 0; b < 8; b++)
            out[c * 8 + b] = (uint8_t)(u >> (8 * b));
    }
}

int px_pir_table_build(px_buf *out, const uint8_t *receipt, size_t receipt_len, const uint8_t *opening,
                       size_t opening_len, char *const *rows, uint32_t nrows, char *const *columns,
                       uint32_t ncolumns, px_err *err) {
    json_t *o = json_object();
    json_t *r = names_json(rows, nrows), *c = names_json(columns, ncolumns);
    px_buf b64r = PX_BUF_INIT, b64o = PX_BUF_INIT, doc = PX_BUF_INIT;
    int rc = !o || !r || !c ? px_fail(err, PX_E_NOMEM, "out of memory") : 0;
    if (rc == 0)
        rc = px_buf_append_b64(&b64r, receipt, receipt_len, err) || px_buf_append_b64(&b64o, opening, opening_len, err) ||
             !px_buf_cstr(&b64r, err) || !px_buf_cstr(&b64o, err);
    if (rc == 0) {
        json_object_set_new(o, "type", json_string(PX_PIR_TABLE_TYPE));
        json_object_set_new(o, "receipt", json_string((const char *)b64r.data));
        json_object_set_new(o, "opening", json_string((const char *)b64o.data));
        json_object_set(o, "rows", r);
        json_object_set(o, "columns", c);
        rc = px_json_dump(o, &doc, err);
    }
    px_pir_table t;
    if (rc == 0 && px_pir_table_parse(&t, doc.data, doc.len, err) == 0) {
        px_pir_table_free(&t);
        rc = px_buf_append(out, doc.data, doc.len, err);
    } else {
        rc = -1;
    }
    json_decref(o);
    json_decref(r);
    json_decref(c);
    px_buf_free(&b64r);
    px_buf_free(&b64o);
    px_buf_free(&doc);
    return rc ? -1 : 0;
}

/* ---- the info in the hint bundle ----------------------------------------------------- */

int px_pir_info_encode(px_buf *out, const px_pir_table *t, px_err *err) {
    char h[3][2 * PX_SHA256_BYTES + 1];
    px_hex_encode(h[0], t->result, PX_SHA256_BYTES);
    px_hex_encode(h[1], t->manifest, PX_SHA256_BYTES);
    px_hex_encode(h[2], t->receipt, PX_SHA256_BYTES);
    json_t *o = json_object(), *r = names_json(t->rows, t->nrows), *c = names_json(t->columns, t->ncolumns);
    int rc = !o || !r || !c || json_object_set_new(o, "table", json_string(h[0])) ||
             json_object_set_new(o, "manifest", json_string(h[1])) ||
             json_object_set_new(o, "receipt", json_string(h[2])) || json_object_set(o, "rows", r) ||
             json_object_set(o, "columns", c)
                 ? px_fail(err, PX_E_NOMEM, "out of memory")
                 : px_json_dump(o, out, err);
    json_decref(o);
    json_decref(r);
    json_decref(c);
    return rc;
}

int px_pir_info_parse(px_pir_info *i, const uint8_t *in, size_t len, px_err *err) {
    static const char *const keys[] = {"table", "manifest", "receipt", "rows", "columns"};
    memset(i, 0, sizeof *i);
    json_t *o = px_json_parse(in, len, PX_PIR_INFO_MAX, err);
    if (!o)
        return px_err_prefix(err, "PIR hint info: ");
    int rc = closed(o, keys, 5, "PIR hint info", err) || px_json_hex(o, "table", i->table, PX_SHA256_BYTES, err) ||
             px_json_hex(o, "manifest", i->manifest, PX_SHA256_BYTES, err) ||
             px_json_hex(o, "receipt", i->receipt, PX_SHA256_BYTES, err) ||
             names_read(json_object_get(o, "rows"), "rows", PX_PIR_TABLE_MAX_ROWS, &i->rows, &i->nrows, err) ||
             names_read(json_object_get(o, "columns"), "columns", PX_PIR_TABLE_MAX_COLUMNS, &i->columns,
                        &i->ncolumns, err);
    json_decref(o);
    if (rc) {
        px_pir_info_free(i);
        return px_err_prefix(err, "PIR hint info: ");
    }
    return 0;
}

void px_pir_info_free(px_pir_info *i) {
    names_free(i->rows, i->nrows);
    names_free(i->columns, i->ncolumns);
    memset(i, 0, sizeof *i);
}

int64_t px_pir_info_find(const px_pir_info *i, const char *key) {
    for (uint32_t r = 0; r < i->nrows; r++)
        if (!strcmp(i->rows[r], key))
            return r;
    return -1;
}
