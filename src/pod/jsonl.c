/* JSON Lines import: one JSON object per line, a member per schema field
 * (plus optionally px_source and px_sig), no others. ints must be JSON
 * integers, reals any JSON number, text a string, blobs base64 strings.
 * Duplicate members are refused by the strict JSON parser. */
#include <string.h>

#include "pod/row.h"

static int member_value(const px_field *f, json_t *m, px_buf *arena, size_t *blob_off, px_value *x, px_err *err) {
    x->type = f->type;
    switch (f->type) {
    case PX_FIELD_INT:
        if (!json_is_integer(m))
            return px_fail(err, PX_E_INVALID, "column %s: expected an integer", f->name);
        x->i = (int64_t)json_integer_value(m);
        return 0;
    case PX_FIELD_REAL:
        if (!json_is_number(m))
            return px_fail(err, PX_E_INVALID, "column %s: expected a number", f->name);
        x->r = json_number_value(m);
        return 0;
    case PX_FIELD_TEXT:
        if (!json_is_string(m))
            return px_fail(err, PX_E_INVALID, "column %s: expected a string", f->name);
        x->p = (const uint8_t *)json_string_value(m);
        x->len = (uint32_t)json_string_length(m);
        if (json_string_length(m) > PX_VALUE_MAX_BYTES)
            return px_fail(err, PX_E_LIMIT, "column %s: value exceeds %u bytes", f->name, PX_VALUE_MAX_BYTES);
        return px_row_check_text((const char *)x->p, x->len, f->name, err);
    case PX_FIELD_BLOB:
        if (!json_is_string(m))
            return px_fail(err, PX_E_INVALID, "column %s: expected a base64 string", f->name);
        return px_row_parse_blob(arena, blob_off, &x->len, json_string_value(m), json_string_length(m), f->name,
                                 err);
    }
    return px_fail(err, PX_E_INTERNAL, "column %s: unknown type", f->name);
}

static int prov_member(json_t *obj, const char *key, const char **p, size_t *n, px_err *err) {
    json_t *m = json_object_get(obj, key);
    *p = "";
    *n = 0;
    if (!m)
        return 0;
    if (!json_is_string(m))
        return px_fail(err, PX_E_INVALID, "%s must be a string", key);
    *p = json_string_value(m);
    *n = json_string_length(m);
    return 0;
}

static int convert_object(const px_pod_schema *s, json_t *obj, px_buf *arena, px_value *v, px_row_prov *pv,
                          px_err *err) {
    if (!json_is_object(obj))
        return px_fail(err, PX_E_INVALID, "expected a JSON object");
    const char *k;
    json_t *m;
    json_object_foreach(obj, k, m) {
        if (px_schema_find(&s->rec, k) < 0 && strcmp(k, PX_POD_FIELD_SOURCE) && strcmp(k, PX_POD_FIELD_SIG))
            return px_fail(err, PX_E_INVALID, "unknown member \"%s\"", px_row_safe_name(k));
    }
    size_t blob_off[PX_RECORDS_MAX_FIELDS];
    px_buf_reset(arena);
    for (uint32_t i = 0; i < s->rec.nfields; i++) {
        const px_field *f = &s->rec.fields[i];
        m = json_object_get(obj, f->name);
        if (!m)
            return px_fail(err, PX_E_INVALID, "missing column %s", f->name);
        if (member_value(f, m, arena, &blob_off[i], &v[i], err))
            return -1;
    }
    for (uint32_t i = 0; i < s->rec.nfields; i++)
        if (s->rec.fields[i].type == PX_FIELD_BLOB)
            v[i].p = arena->data ? arena->data + blob_off[i] : (const uint8_t *)"";
    const char *src, *sig;
    size_t srclen, siglen;
    if (prov_member(obj, PX_POD_FIELD_SOURCE, &src, &srclen, err) ||
        prov_member(obj, PX_POD_FIELD_SIG, &sig, &siglen, err))
        return -1;
    return px_row_provenance(pv, src, srclen, sig, siglen, err);
}

int px_pod_parse_jsonl(const px_pod_schema *s, const uint8_t *data, size_t len, px_pod_row_fn fn, void *ctx,
                       px_pod_report *report, px_err *err) {
    px_buf arena = PX_BUF_INIT;
    px_value v[PX_RECORDS_MAX_FIELDS];
    px_row_prov pv;
    px_err e = {0};
    int nerr = 0;
    if (len > PX_POD_IMPORT_MAX_BYTES) {
        px_fail(&e, PX_E_LIMIT, "file of %zu bytes exceeds the import limit of %u", len, PX_POD_IMPORT_MAX_BYTES);
        px_row_error(report, err, &nerr, 0, &e);
        return -1;
    }
    size_t pos = 0;
    for (uint64_t line = 1; pos < len; line++) {
        const uint8_t *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len, n = end - pos;
        const uint8_t *p = data + pos;
        pos = nl ? end + 1 : len;
        if (n && p[n - 1] == '\r')
            n--;
        if (report)
            report->rows++;
        json_t *obj = NULL;
        if (n == 0)
            px_fail(&e, PX_E_INVALID, "empty line");
        else if (n > PX_POD_ROW_MAX_BYTES)
            px_fail(&e, PX_E_LIMIT, "row exceeds %u bytes", PX_POD_ROW_MAX_BYTES);
        else if ((obj = px_json_parse(p, n, PX_POD_ROW_MAX_BYTES, &e)) != NULL &&
                 convert_object(s, obj, &arena, v, &pv, &e) == 0) {
            px_pod_row row = {line, v, pv.source, pv.sig, pv.sig_len};
            if (!fn || fn(ctx, &row, &e) == 0) {
                json_decref(obj);
                continue;
            }
        }
        json_decref(obj);
        px_row_error(report, err, &nerr, line, &e);
    }
    if (len == 0) {
        px_fail(&e, PX_E_INVALID, "empty file");
        px_row_error(report, err, &nerr, 0, &e);
    }
    px_buf_free(&arena);
    return nerr ? -1 : 0;
}
