/* CSV import (RFC 4180): a header row naming the columns, then one record
 * per row; fields may be quoted ("" is a quote inside a quoted field),
 * rows end with LF or CRLF. Values are converted strictly to the declared
 * types; blobs are base64. Each bad row is reported with its line number
 * and parsing goes on, so the owner sees every problem at once. */
#include <string.h>

#include "pod/row.h"

#define CSV_MAX_CELLS (PX_RECORDS_MAX_FIELDS + 2)
#define COL_SOURCE (-2)
#define COL_SIG (-3)

typedef struct csv_cells {
    px_buf text; /* unescaped cells, each NUL-terminated */
    size_t off[CSV_MAX_CELLS];
    size_t len[CSV_MAX_CELLS];
    size_t n;
    int too_many;
} csv_cells;

typedef struct csv_ctx {
    const uint8_t *d;
    size_t len, pos;
    uint64_t line; /* line of the next unread byte, from 1 */
} csv_ctx;

static int cell_end(csv_cells *c, size_t start, px_err *err) {
    if (px_buf_append_u8(&c->text, 0, err))
        return -1;
    if (c->n == CSV_MAX_CELLS) {
        c->too_many = 1;
        return 0;
    }
    c->off[c->n] = start;
    c->len[c->n] = c->text.len - 1 - start;
    c->n++;
    return 0;
}

/* Skip the rest of a bad row so the next one can still be checked. */
static void skip_line(csv_ctx *x) {
    while (x->pos < x->len && x->d[x->pos] != '\n')
        x->pos++;
    if (x->pos < x->len) {
        x->pos++;
        x->line++;
    }
}

/* At a field separator or row end after a cell: 1 row ended, 0 more cells. */
static int at_separator(csv_ctx *x, int *row_end) {
    if (x->pos == x->len) {
        *row_end = 1;
        return 1;
    }
    uint8_t ch = x->d[x->pos];
    if (ch == ',') {
        x->pos++;
        *row_end = 0;
        return 1;
    }
    if (ch == '\n' || (ch == '\r' && x->pos + 1 < x->len && x->d[x->pos + 1] == '\n')) {
        x->pos += ch == '\r' ? 2 : 1;
        x->line++;
        *row_end = 1;
        return 1;
    }
    return 0;
}

static int quoted_cell(csv_ctx *x, csv_cells *c, px_err *err) {
    x->pos++; /* opening quote */
    for (;;) {
        if (x->pos == x->len)
            return px_fail(err, PX_E_INVALID, "unterminated quoted field");
        uint8_t ch = x->d[x->pos++];
        if (ch == '"') {
            if (x->pos < x->len && x->d[x->pos] == '"')
                x->pos++;
            else
                return 0;
        } else if (ch == '\n') {
            x->line++;
        }
        if (px_buf_append_u8(&c->text, ch, err))
            return -1;
    }
}

static int plain_cell(csv_ctx *x, csv_cells *c, px_err *err) {
    size_t start = x->pos;
    while (x->pos < x->len) {
        uint8_t ch = x->d[x->pos];
        if (ch == ',' || ch == '\n' || ch == '\r')
            break;
        if (ch == '"')
            return px_fail(err, PX_E_INVALID, "quote inside an unquoted field");
        x->pos++;
    }
    return px_buf_append(&c->text, x->d + start, x->pos - start, err);
}

/* Read one row. 1: a row in c; 0: end of input; -1: a bad row (skipped). */
static int csv_row(csv_ctx *x, csv_cells *c, uint64_t *first_line, px_err *err) {
    px_buf_reset(&c->text);
    c->n = 0;
    c->too_many = 0;
    if (x->pos == x->len)
        return 0;
    *first_line = x->line;
    size_t row_start = x->pos;
    for (int row_end = 0; !row_end;) {
        size_t start = c->text.len;
        int rc = x->pos < x->len && x->d[x->pos] == '"' ? quoted_cell(x, c, err) : plain_cell(x, c, err);
        if (rc == 0 && x->pos - row_start > PX_POD_ROW_MAX_BYTES)
            rc = px_fail(err, PX_E_LIMIT, "row exceeds %u bytes", PX_POD_ROW_MAX_BYTES);
        if (rc == 0 && !at_separator(x, &row_end))
            rc = px_fail(err, PX_E_INVALID, "a field must be followed by a comma or the end of the row (LF or CRLF)");
        if (rc == 0)
            rc = cell_end(c, start, err);
        if (rc) {
            skip_line(x);
            return -1;
        }
    }
    if (c->too_many)
        return px_fail(err, PX_E_LIMIT, "row has more than %d fields", CSV_MAX_CELLS);
    return 1;
}

static const char *cell(const csv_cells *c, size_t i) {
    return (const char *)c->text.data + c->off[i];
}

/* Map each header column to a schema field index or a provenance column. */
static int map_header(const px_pod_schema *s, const csv_cells *c, int *map, px_err *err) {
    int seen[PX_RECORDS_MAX_FIELDS] = {0}, src = 0, sig = 0;
    for (size_t i = 0; i < c->n; i++) {
        const char *name = cell(c, i);
        if (strlen(name) != c->len[i])
            return px_fail(err, PX_E_INVALID, "header: column %zu contains a NUL byte", i + 1);
        int idx = px_schema_find(&s->rec, name);
        if (!strcmp(name, PX_POD_FIELD_SOURCE))
            idx = COL_SOURCE, src++;
        else if (!strcmp(name, PX_POD_FIELD_SIG))
            idx = COL_SIG, sig++;
        else if (idx < 0)
            return px_fail(err, PX_E_INVALID, "header: unknown column \"%s\"", px_row_safe_name(name));
        else if (seen[idx]++)
            return px_fail(err, PX_E_INVALID, "header: duplicate column \"%s\"", name);
        if (src > 1 || sig > 1)
            return px_fail(err, PX_E_INVALID, "header: duplicate column \"%s\"", name);
        map[i] = idx;
    }
    for (uint32_t f = 0; f < s->rec.nfields; f++)
        if (!seen[f])
            return px_fail(err, PX_E_INVALID, "header: missing column \"%s\"", s->rec.fields[f].name);
    if (src != sig)
        return px_fail(err, PX_E_INVALID, "header: px_source and px_sig must come together");
    return 0;
}

static int convert_row(const px_pod_schema *s, const csv_cells *c, const int *map, size_t ncols, px_buf *arena,
                       px_value *v, px_row_prov *pv, px_err *err) {
    if (c->n != ncols)
        return px_fail(err, PX_E_INVALID, "row has %zu fields, the header %zu", c->n, ncols);
    size_t blob_off[PX_RECORDS_MAX_FIELDS];
    const char *src = "", *sig = "";
    size_t srclen = 0, siglen = 0;
    px_buf_reset(arena);
    for (size_t i = 0; i < ncols; i++) {
        const char *p = cell(c, i);
        size_t n = c->len[i];
        if (map[i] == COL_SOURCE) {
            src = p, srclen = n;
            continue;
        }
        if (map[i] == COL_SIG) {
            sig = p, siglen = n;
            continue;
        }
        const px_field *f = &s->rec.fields[map[i]];
        px_value *x = &v[map[i]];
        x->type = f->type;
        int rc = f->type == PX_FIELD_INT    ? px_row_parse_int(&x->i, p, n, f->name, err)
                 : f->type == PX_FIELD_REAL ? px_row_parse_real(&x->r, p, n, f->name, err)
                 : f->type == PX_FIELD_TEXT ? px_row_check_text(p, n, f->name, err)
                                            : px_row_parse_blob(arena, &blob_off[map[i]], &x->len, p, n, f->name, err);
        if (rc)
            return -1;
        if (f->type == PX_FIELD_TEXT)
            x->p = (const uint8_t *)p, x->len = (uint32_t)n;
    }
    for (uint32_t f = 0; f < s->rec.nfields; f++)
        if (s->rec.fields[f].type == PX_FIELD_BLOB)
            v[f].p = arena->data ? arena->data + blob_off[f] : (const uint8_t *)"";
    return px_row_provenance(pv, src, srclen, sig, siglen, err);
}

int px_pod_parse_csv(const px_pod_schema *s, const uint8_t *data, size_t len, px_pod_row_fn fn, void *ctx,
                     px_pod_report *report, px_err *err) {
    csv_ctx x = {data, len, 0, 1};
    csv_cells c;
    memset(&c, 0, sizeof c);
    px_buf arena = PX_BUF_INIT;
    int map[CSV_MAX_CELLS], nerr = 0;
    px_err e = {0};
    uint64_t line = 0;
    if (len > PX_POD_IMPORT_MAX_BYTES) {
        px_fail(&e, PX_E_LIMIT, "file of %zu bytes exceeds the import limit of %u", len, PX_POD_IMPORT_MAX_BYTES);
        px_row_error(report, err, &nerr, 0, &e);
        goto done;
    }
    if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) /* a UTF-8 byte order mark */
        x.pos = 3;
    int rc = csv_row(&x, &c, &line, &e);
    if (rc == 0)
        px_fail(&e, PX_E_INVALID, "empty file: expected a header row");
    if (rc <= 0 || map_header(s, &c, map, &e)) {
        px_row_error(report, err, &nerr, rc < 0 ? line : 1, &e);
        goto done;
    }
    size_t ncols = c.n;
    px_value v[PX_RECORDS_MAX_FIELDS];
    px_row_prov pv;
    while ((rc = csv_row(&x, &c, &line, &e)) != 0) {
        if (report)
            report->rows++;
        if (rc < 0 || convert_row(s, &c, map, ncols, &arena, v, &pv, &e)) {
            px_row_error(report, err, &nerr, line, &e);
            continue;
        }
        px_pod_row row = {line, v, pv.source, pv.sig, pv.sig_len};
        if (fn && fn(ctx, &row, &e))
            px_row_error(report, err, &nerr, line, &e);
    }
done:
    px_buf_free(&c.text);
    px_buf_free(&arena);
    return nerr ? -1 : 0;
}
