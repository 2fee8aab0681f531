/* PXR1 record streams and PXV1 vectors (docs/formats.md). The reader is the
 * first code that touches a POD's bytes inside a trust-λ, so every length is
 * checked against what remains before it is used. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pixiu/records.h"

static int name_valid(const char *s, size_t n) {
    if (n == 0 || n > PX_FIELD_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

static int type_valid(int t) {
    return t >= PX_FIELD_INT && t <= PX_FIELD_BLOB;
}

int px_schema_valid(const px_schema *s, px_err *err) {
    if (s->nfields == 0 || s->nfields > PX_RECORDS_MAX_FIELDS)
        return px_fail(err, PX_E_INVALID, "schema must have 1-%d fields, has %u", PX_RECORDS_MAX_FIELDS, s->nfields);
    for (uint32_t i = 0; i < s->nfields; i++) {
        if (!name_valid(s->fields[i].name, strnlen(s->fields[i].name, sizeof s->fields[i].name)))
            return px_fail(err, PX_E_INVALID, "schema field %u has an invalid name (want [A-Za-z0-9_], 1-%d bytes)",
                           i, PX_FIELD_NAME_MAX);
        if (!type_valid(s->fields[i].type))
            return px_fail(err, PX_E_INVALID, "schema field \"%s\" has unknown type %d", s->fields[i].name,
                           (int)s->fields[i].type);
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(s->fields[i].name, s->fields[j].name))
                return px_fail(err, PX_E_INVALID, "schema field \"%s\" appears twice", s->fields[i].name);
    }
    if (s->user_field != PX_NO_USER_FIELD && s->user_field >= s->nfields)
        return px_fail(err, PX_E_INVALID, "schema user field %u is out of range", s->user_field);
    return 0;
}

int px_schema_find(const px_schema *s, const char *name) {
    for (uint32_t i = 0; i < s->nfields; i++)
        if (!strcmp(s->fields[i].name, name))
            return (int)i;
    return -1;
}

int px_records_begin(px_buf *out, const px_schema *s, uint64_t count, px_err *err) {
    if (px_schema_valid(s, err))
        return -1;
    size_t start = out->len;
    if (px_buf_append(out, PX_RECORDS_MAGIC, 4, err) || px_buf_append_u32le(out, s->nfields, err))
        goto fail;
    for (uint32_t i = 0; i < s->nfields; i++) {
        size_t n = strlen(s->fields[i].name);
        if (px_buf_append_u8(out, (uint8_t)s->fields[i].type, err) || px_buf_append_u8(out, (uint8_t)n, err) ||
            px_buf_append(out, s->fields[i].name, n, err))
            goto fail;
    }
    if (px_buf_append_u32le(out, s->user_field, err) || px_buf_append_u64le(out, count, err))
        goto fail;
    return 0;
fail:
    out->len = start;
    return -1;
}

int px_record_encode_values(px_buf *out, const px_schema *s, const px_value *values, px_err *err) {
    size_t start = out->len;
    for (uint32_t i = 0; i < s->nfields; i++) {
        const px_value *v = &values[i];
        if (v->type != s->fields[i].type) {
            out->len = start;
            return px_fail(err, PX_E_INVALID, "value for field \"%s\" has the wrong type", s->fields[i].name);
        }
        int rc;
        uint64_t bits;
        switch (v->type) {
        case PX_FIELD_INT:
            rc = px_buf_append_u64le(out, (uint64_t)v->i, err);
            break;
        case PX_FIELD_REAL:
            memcpy(&bits, &v->r, 8);
            rc = px_buf_append_u64le(out, bits, err);
            break;
        default:
            if (v->len > PX_VALUE_MAX_BYTES) {
                out->len = start;
                return px_fail(err, PX_E_LIMIT, "value for field \"%s\" exceeds %u bytes", s->fields[i].name,
                               PX_VALUE_MAX_BYTES);
            }
            if (v->type == PX_FIELD_TEXT && !px_utf8_valid(v->p, v->len)) {
                out->len = start;
                return px_fail(err, PX_E_INVALID, "text field \"%s\" is not valid UTF-8", s->fields[i].name);
            }
            rc = px_buf_append_u32le(out, v->len, err) || px_buf_append(out, v->p, v->len, err) ? -1 : 0;
        }
        if (rc) {
            out->len = start;
            return -1;
        }
    }
    return 0;
}

int px_records_append(px_buf *out, const px_schema *s, const px_value *values, uint8_t flags, px_err *err) {
    if (flags & ~PX_REC_AUTHENTICATED)
        return px_fail(err, PX_E_INVALID, "record flags 0x%02x have unknown bits", flags);
    size_t start = out->len;
    if (px_buf_append_u8(out, flags, err) || px_record_encode_values(out, s, values, err)) {
        out->len = start;
        return -1;
    }
    return 0;
}

/* ---- reading ------------------------------------------------------------ */

static int need(const px_records_reader *r, size_t n, const char *what, px_err *err) {
    if (r->len - r->off < n)
        return px_fail(err, PX_E_INVALID, "record stream truncated in %s at offset %zu", what, r->off);
    return 0;
}

int px_records_open(px_records_reader *r, const uint8_t *data, size_t len, px_err *err) {
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    if (need(r, 8, "header", err))
        return -1;
    if (memcmp(data, PX_RECORDS_MAGIC, 4) != 0)
        return px_fail(err, PX_E_INVALID, "record stream does not start with \"" PX_RECORDS_MAGIC "\"");
    uint32_t nf = px_load_u32le(data + 4);
    r->off = 8;
    if (nf == 0 || nf > PX_RECORDS_MAX_FIELDS)
        return px_fail(err, PX_E_INVALID, "record stream declares %u fields (want 1-%d)", nf, PX_RECORDS_MAX_FIELDS);
    r->schema.nfields = nf;
    for (uint32_t i = 0; i < nf; i++) {
        if (need(r, 2, "field header", err))
            return -1;
        uint8_t t = data[r->off], n = data[r->off + 1];
        r->off += 2;
        if (need(r, n, "field name", err))
            return -1;
        if (!type_valid(t) || !name_valid((const char *)data + r->off, n))
            return px_fail(err, PX_E_INVALID, "record stream field %u has a bad type or name at offset %zu", i,
                           r->off - 2);
        r->schema.fields[i].type = (px_field_type)t;
        memcpy(r->schema.fields[i].name, data + r->off, n);
        r->schema.fields[i].name[n] = 0;
        r->off += n;
    }
    if (need(r, 12, "header", err))
        return -1;
    r->schema.user_field = px_load_u32le(data + r->off);
    r->count = px_load_u64le(data + r->off + 4);
    r->off += 12;
    if (px_schema_valid(&r->schema, err))
        return px_err_prefix(err, "record stream: ");
    return 0;
}

int px_records_next(px_records_reader *r, px_value *values, uint8_t *flags, px_err *err) {
    if (r->index == r->count) {
        if (r->off != r->len)
            return px_fail(err, PX_E_INVALID, "record stream has %zu bytes after its last record", r->len - r->off);
        return 0;
    }
    r->record_start = r->off;
    if (need(r, 1, "record flags", err))
        return -1;
    uint8_t f = r->data[r->off++];
    if (f & ~PX_REC_AUTHENTICATED)
        return px_fail(err, PX_E_INVALID, "record %llu has unknown flag bits 0x%02x",
                       (unsigned long long)r->index, f);
    for (uint32_t i = 0; i < r->schema.nfields; i++) {
        px_value *v = &values[i];
        memset(v, 0, sizeof *v);
        v->type = r->schema.fields[i].type;
        if (v->type == PX_FIELD_INT || v->type == PX_FIELD_REAL) {
            if (need(r, 8, r->schema.fields[i].name, err))
                return -1;
            uint64_t bits = px_load_u64le(r->data + r->off);
            v->i = (int64_t)bits;
            memcpy(&v->r, &bits, 8);
            r->off += 8;
            continue;
        }
        if (need(r, 4, r->schema.fields[i].name, err))
            return -1;
        uint32_t n = px_load_u32le(r->data + r->off);
        r->off += 4;
        if (n > PX_VALUE_MAX_BYTES)
            return px_fail(err, PX_E_LIMIT, "record %llu field \"%s\" is %u bytes, over the %u limit",
                           (unsigned long long)r->index, r->schema.fields[i].name, n, PX_VALUE_MAX_BYTES);
        if (need(r, n, r->schema.fields[i].name, err))
            return -1;
        v->p = r->data + r->off;
        v->len = n;
        if (v->type == PX_FIELD_TEXT && !px_utf8_valid(v->p, n))
            return px_fail(err, PX_E_INVALID, "record %llu field \"%s\" is not valid UTF-8",
                           (unsigned long long)r->index, r->schema.fields[i].name);
        r->off += n;
    }
    if (flags)
        *flags = f;
    r->index++;
    return 1;
}

int px_schema_equal(const px_schema *a, const px_schema *b) {
    if (a->nfields != b->nfields || a->user_field != b->user_field)
        return 0;
    for (uint32_t i = 0; i < a->nfields; i++)
        if (a->fields[i].type != b->fields[i].type || strcmp(a->fields[i].name, b->fields[i].name))
            return 0;
    return 1;
}

size_t px_value_key(const px_value *v, uint8_t num[8], const uint8_t **bytes) {
    if (v->type == PX_FIELD_TEXT || v->type == PX_FIELD_BLOB) {
        *bytes = v->p;
        return v->len;
    }
    uint64_t bits;
    if (v->type == PX_FIELD_INT)
        memcpy(&bits, &v->i, 8);
    else
        memcpy(&bits, &v->r, 8);
    for (int b = 0; b < 8; b++)
        num[b] = (uint8_t)(bits >> (8 * b));
    *bytes = num;
    return 8;
}

/* ---- vectors ------------------------------------------------------------ */

int px_vector_encode(px_buf *out, const double *v, uint32_t n, px_err *err) {
    if (n > PX_VECTOR_MAX_DIM)
        return px_fail(err, PX_E_LIMIT, "vector of %u values exceeds the limit of %u", n, PX_VECTOR_MAX_DIM);
    size_t start = out->len;
    if (px_buf_append(out, PX_VECTOR_MAGIC, 4, err) || px_buf_append_u32le(out, n, err))
        goto fail;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], 8);
        if (px_buf_append_u64le(out, bits, err))
            goto fail;
    }
    return 0;
fail:
    out->len = start;
    return -1;
}

int px_vector_decode(double **out, uint32_t *n, const uint8_t *data, size_t len, px_err *err) {
    if (len < 8 || memcmp(data, PX_VECTOR_MAGIC, 4) != 0)
        return px_fail(err, PX_E_INVALID, "vector does not start with \"" PX_VECTOR_MAGIC "\" and a length");
    uint32_t k = px_load_u32le(data + 4);
    if (k > PX_VECTOR_MAX_DIM)
        return px_fail(err, PX_E_LIMIT, "vector declares %u values, over the limit of %u", k, PX_VECTOR_MAX_DIM);
    if (len - 8 != (size_t)k * 8)
        return px_fail(err, PX_E_INVALID, "vector declares %u values but carries %zu bytes of them", k, len - 8);
    double *v = malloc(k ? (size_t)k * 8 : 1);
    if (!v)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < k; i++) {
        uint64_t bits = px_load_u64le(data + 8 + 8 * (size_t)i);
        memcpy(&v[i], &bits, 8);
    }
    *out = v;
    *n = k;
    return 0;
}

/* ---- tagged vectors ------------------------------------------------------ */

size_t px_tagged_entry_bytes(uint32_t dim) { return PX_TAG_BYTES + 1 + 8 * (size_t)dim; }

int px_tagged_begin(px_buf *out, uint32_t dim, uint64_t count, px_err *err) {
    if (dim == 0 || dim > PX_TAGGED_MAX_DIM)
        return px_fail(err, PX_E_LIMIT, "tagged vectors: dim %u is outside 1..%u", dim, PX_TAGGED_MAX_DIM);
    size_t start = out->len;
    if (px_buf_append(out, PX_TAGGED_MAGIC, 4, err) || px_buf_append_u32le(out, dim, err) ||
        px_buf_append_u64le(out, count, err)) {
        out->len = start;
        return -1;
    }
    return 0;
}

int px_tagged_append(px_buf *out, uint32_t dim, const uint8_t tag[PX_TAG_BYTES], const double *values,
                     px_err *err) {
    size_t start = out->len;
    uint8_t flags = values ? PX_TAGGED_PRESENT : 0;
    if (px_buf_append(out, tag, PX_TAG_BYTES, err) || px_buf_append(out, &flags, 1, err))
        goto fail;
    for (uint32_t i = 0; i < dim; i++) {
        uint64_t bits = 0;
        if (values)
            memcpy(&bits, &values[i], 8);
        if (px_buf_append_u64le(out, bits, err))
            goto fail;
    }
    return 0;
fail:
    out->len = start;
    return -1;
}

int px_tagged_open(px_tagged_reader *r, const uint8_t *data, size_t len, px_err *err) {
    if (len < PX_TAGGED_HEADER_BYTES || memcmp(data, PX_TAGGED_MAGIC, 4) != 0)
        return px_fail(err, PX_E_INVALID, "tagged vectors: missing the \"" PX_TAGGED_MAGIC "\" header");
    uint32_t dim = px_load_u32le(data + 4);
    uint64_t count = px_load_u64le(data + 8);
    if (dim == 0 || dim > PX_TAGGED_MAX_DIM)
        return px_fail(err, PX_E_INVALID, "tagged vectors: dim %u is outside 1..%u", dim, PX_TAGGED_MAX_DIM);
    size_t body = len - PX_TAGGED_HEADER_BYTES, entry = px_tagged_entry_bytes(dim);
    if (count > body / entry || count * entry != body)
        return px_fail(err, PX_E_INVALID, "tagged vectors: header says %llu entries of %zu bytes, body has %zu bytes",
                       (unsigned long long)count, entry, body);
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = len;
    r->off = PX_TAGGED_HEADER_BYTES;
    r->dim = dim;
    r->count = count;
    return 0;
}

int px_tagged_next(px_tagged_reader *r, const uint8_t **tag, int *present, double *values, px_err *err) {
    if (r->index == r->count)
        return 0;
    const uint8_t *p = r->data + r->off;
    uint8_t flags = p[PX_TAG_BYTES];
    if (flags & ~PX_TAGGED_PRESENT)
        return px_fail(err, PX_E_INVALID, "tagged vectors: entry %llu has unknown flags 0x%02x",
                       (unsigned long long)r->index, flags);
    for (uint32_t i = 0; i < r->dim; i++) {
        uint64_t bits = px_load_u64le(p + PX_TAG_BYTES + 1 + 8 * (size_t)i);
        if (!(flags & PX_TAGGED_PRESENT) && bits != 0)
            return px_fail(err, PX_E_INVALID, "tagged vectors: absent entry %llu carries values",
                           (unsigned long long)r->index);
        memcpy(&values[i], &bits, 8);
    }
    *tag = p;
    *present = flags & PX_TAGGED_PRESENT;
    r->off += px_tagged_entry_bytes(r->dim);
    r->index++;
    return 1;
}
