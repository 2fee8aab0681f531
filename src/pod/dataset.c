/* Datasets: creation with a declared schema, atomic import of CSV / JSON
 * Lines files, and export as the PXR1 stream the data-prover reads. */
#include <string.h>

#include "pod/db.h"
#include "pod/verifier.h"

int px_pod_dataset_create(px_pod *p, const char *name, const px_pod_schema *s, px_err *err) {
    if (px_id_check("dataset", name, err))
        return -1;
    px_pod_schema copy = *s;
    if (px_schema_valid(&copy.rec, err))
        return px_err_prefix(err, "dataset \"%s\": ", name);
    px_buf doc = PX_BUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (px_pod_schema_format(s, &doc, err) ||
        px_db_prepare(p, &st, "INSERT INTO datasets(name, schema, created) VALUES(?, ?, ?)", err))
        goto done;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, (const char *)doc.data, (int)doc.len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, px_now_ms());
    int sr = sqlite3_step(st);
    if (sr == SQLITE_DONE)
        rc = 0;
    else if ((sqlite3_extended_errcode(px_db(p)) & 0xff) == SQLITE_CONSTRAINT)
        px_fail(err, PX_E_STATE, "dataset \"%s\" already exists", name);
    else
        px_db_fail(p, "creating a dataset", err);
done:
    sqlite3_finalize(st);
    px_buf_free(&doc);
    return rc;
}

int px_pod_dataset_schema(px_pod *p, const char *name, px_pod_schema *s, px_err *err) {
    int64_t id;
    return px_db_dataset(p, name, &id, s, err);
}

int px_pod_dataset_list(px_pod *p, px_pod_dataset_info **out, size_t *n, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st,
                      "SELECT d.name, d.created, (SELECT count(*) FROM records r WHERE r.dataset = d.id),"
                      " (SELECT count(sig) FROM records r WHERE r.dataset = d.id) FROM datasets d ORDER BY d.name",
                      err))
        return -1;
    px_pod_dataset_info *v = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        px_pod_dataset_info *nv = realloc(v, (cnt + 1) * sizeof *v);
        if (!nv) {
            rc = SQLITE_NOMEM;
            break;
        }
        v = nv;
        px_db_text(st, 0, v[cnt].name, sizeof v[cnt].name);
        v[cnt].created_ms = sqlite3_column_int64(st, 1);
        v[cnt].records = (uint64_t)sqlite3_column_int64(st, 2);
        v[cnt].signed_records = (uint64_t)sqlite3_column_int64(st, 3);
        cnt++;
    }
    if (rc != SQLITE_DONE) {
        free(v);
        rc = rc == SQLITE_NOMEM ? px_fail(err, PX_E_NOMEM, "out of memory") : px_db_fail(p, "listing datasets", err);
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    *out = v;
    *n = cnt;
    return 0;
}

/* ---- import ---------------------------------------------------------------- */

typedef struct import_ctx {
    px_pod *p;
    const px_pod_schema *s;
    int64_t dataset;
    int64_t next_seq;
    uint64_t added;
    sqlite3_stmt *ins;
    px_source_key *trust;
    size_t ntrust;
    /* over trust: a file's rows signed as one batch have their batch
     * signature verified once, not once per row */
    px_source_verifier ver;
    px_schema key_schema; /* the one-field schema of the unique key */
    px_buf vals, ukey;
} import_ctx;

/* The index of the trusted key named ref, or -1. */
static long find_source(const import_ctx *c, const char *ref) {
    char r[PX_SRC_REF_MAX + 1];
    for (size_t i = 0; i < c->ntrust; i++) {
        px_source_key_ref(&c->trust[i], r);
        if (!strcmp(r, ref))
            return (long)i;
    }
    return -1;
}

static int check_signature(import_ctx *c, const px_pod_row *row, const uint8_t digest[PX_SHA256_BYTES],
                           px_err *err) {
    long k = find_source(c, row->source);
    if (k < 0)
        return px_fail(err, PX_E_VERIFY, "unknown source \"%s\" (not in the trust store)", row->source);
    if (px_source_verifier_check(&c->ver, (size_t)k, digest, row->sig, row->sig_len))
        return px_fail(err, PX_E_VERIFY, "invalid signature by source \"%s\"", row->source);
    return 0;
}

static int import_row(void *ctx, const px_pod_row *row, px_err *err) {
    import_ctx *c = ctx;
    uint8_t digest[PX_SHA256_BYTES];
    px_buf_reset(&c->vals);
    px_buf_reset(&c->ukey);
    if (px_record_encode_values(&c->vals, &c->s->rec, row->values, err))
        return -1;
    const void *parts[2] = {PX_RECORD_DIGEST_TAG, c->vals.data};
    size_t lens[2] = {PX_RECORD_DIGEST_TAG_LEN, c->vals.len};
    px_sha256_parts(digest, 2, parts, lens);
    if (row->sig_len && check_signature(c, row, digest, err))
        return -1;
    if (c->s->key_field >= 0 &&
        px_record_encode_values(&c->ukey, &c->key_schema, &row->values[c->s->key_field], err))
        return -1;
    sqlite3_stmt *st = c->ins;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, c->dataset);
    sqlite3_bind_int64(st, 2, c->next_seq);
    sqlite3_bind_blob(st, 3, c->vals.data ? (const void *)c->vals.data : "", (int)c->vals.len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, digest, sizeof digest, SQLITE_STATIC);
    if (c->s->key_field >= 0)
        sqlite3_bind_blob(st, 5, c->ukey.data, (int)c->ukey.len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    if (row->sig_len) {
        sqlite3_bind_text(st, 6, row->source, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, row->sig, (int)row->sig_len, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 6);
        sqlite3_bind_null(st, 7);
    }
    if (sqlite3_step(st) != SQLITE_DONE) {
        if ((sqlite3_extended_errcode(px_db(c->p)) & 0xff) == SQLITE_CONSTRAINT && c->s->key_field >= 0)
            return px_fail(err, PX_E_STATE, "duplicate value of unique key column %s",
                           c->s->rec.fields[c->s->key_field].name);
        return px_db_fail(c->p, "storing a record", err);
    }
    c->next_seq++;
    c->added++;
    return 0;
}

static int next_seq(px_pod *p, int64_t dataset, int64_t *seq, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st, "SELECT coalesce(max(seq), 0) + 1 FROM records WHERE dataset = ?", err))
        return -1;
    sqlite3_bind_int64(st, 1, dataset);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : px_db_fail(p, "reading records", err);
    *seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int px_pod_import(px_pod *p, const char *dataset, px_pod_format fmt, const uint8_t *data, size_t len,
                  uint64_t *added, px_pod_report *report, px_err *err) {
    px_pod_schema s;
    import_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.s = &s;
    if (px_db_dataset(p, dataset, &c.dataset, &s, err) || px_pod_trust_list(p, &c.trust, &c.ntrust, err))
        return -1;
    if (px_source_verifier_init(&c.ver, c.trust, c.ntrust, err)) {
        px_source_keys_free(c.trust, c.ntrust);
        return -1;
    }
    if (s.key_field >= 0) {
        c.key_schema.nfields = 1;
        c.key_schema.fields[0] = s.rec.fields[s.key_field];
        c.key_schema.user_field = PX_NO_USER_FIELD;
    }
    int rc = -1;
    if (px_db_begin(p, err))
        goto done;
    if (next_seq(p, c.dataset, &c.next_seq, err) ||
        px_db_prepare(p, &c.ins,
                      "INSERT INTO records(dataset, seq, vals, digest, ukey, source, sig) VALUES(?,?,?,?,?,?,?)", err))
        goto done;
    rc = fmt == PX_POD_CSV     ? px_pod_parse_csv(&s, data, len, import_row, &c, report, err)
         : fmt == PX_POD_JSONL ? px_pod_parse_jsonl(&s, data, len, import_row, &c, report, err)
                               : px_fail(err, PX_E_INVALID, "unknown import format");
    sqlite3_finalize(c.ins);
    c.ins = NULL;
    if (rc == 0)
        rc = px_db_commit(p, err);
done:
    if (rc) {
        px_db_rollback(p);
        px_err_prefix(err, "importing into \"%s\" (nothing stored): ", dataset);
    } else if (added)
        *added = c.added;
    sqlite3_finalize(c.ins);
    px_source_verifier_free(&c.ver);
    px_source_keys_free(c.trust, c.ntrust);
    px_buf_free(&c.vals);
    px_buf_free(&c.ukey);
    return rc;
}

/* ---- export ---------------------------------------------------------------- */

static int export_header(px_buf *out, const px_pod_schema *s, uint64_t count, px_err *err) {
    px_schema x = s->rec;
    strcpy(x.fields[x.nfields].name, PX_POD_FIELD_SOURCE);
    x.fields[x.nfields++].type = PX_FIELD_TEXT;
    strcpy(x.fields[x.nfields].name, PX_POD_FIELD_SIG);
    x.fields[x.nfields++].type = PX_FIELD_BLOB;
    return px_records_begin(out, &x, count, err);
}

/* The stored values are the canonical encoding, which is also the values
 * part of a PXR1 record: a record is its flags byte, those bytes, and the
 * two provenance values. */
static int export_record(px_buf *out, sqlite3_stmt *st, px_err *err) {
    const void *vals = sqlite3_column_blob(st, 0);
    size_t vlen = (size_t)sqlite3_column_bytes(st, 0);
    const void *src = sqlite3_column_text(st, 1);
    size_t slen = (size_t)sqlite3_column_bytes(st, 1);
    const void *sig = sqlite3_column_blob(st, 2);
    size_t glen = (size_t)sqlite3_column_bytes(st, 2);
    if (px_buf_append_u8(out, 0, err) || px_buf_append(out, vals, vlen, err) ||
        px_buf_append_u32le(out, (uint32_t)slen, err) || px_buf_append(out, src, slen, err) ||
        px_buf_append_u32le(out, (uint32_t)glen, err) || px_buf_append(out, sig, glen, err))
        return -1;
    return 0;
}

int px_db_export(px_pod *p, const char *dataset, px_buf *out, px_pod_export_info *info, px_err *err) {
    px_pod_schema s;
    int64_t id;
    sqlite3_stmt *st = NULL;
    if (px_db_dataset(p, dataset, &id, &s, err) ||
        px_db_prepare(p, &st, "SELECT count(*), count(sig) FROM records WHERE dataset = ?", err))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return px_db_fail(p, "counting records", err);
    }
    px_pod_export_info in = {0};
    in.records = (uint64_t)sqlite3_column_int64(st, 0);
    in.signed_records = (uint64_t)sqlite3_column_int64(st, 1);
    in.unsigned_records = in.records - in.signed_records;
    sqlite3_finalize(st);
    size_t start = out->len;
    if (export_header(out, &s, in.records, err) ||
        px_db_prepare(p, &st, "SELECT vals, source, sig FROM records WHERE dataset = ? ORDER BY seq", err))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (export_record(out, st, err)) {
            rc = SQLITE_NOMEM;
            break;
        }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc == SQLITE_NOMEM ? -1 : px_db_fail(p, "reading records", err);
    px_sha256(in.digest, out->data + start, out->len - start);
    if (info)
        *info = in;
    return 0;
}

int px_pod_export(px_pod *p, const char *dataset, px_buf *out, px_pod_export_info *info, px_err *err) {
    size_t start = out->len;
    /* one read transaction: the count in the header and the rows agree */
    if (px_db_exec(p, "BEGIN", err))
        return -1;
    int rc = px_db_export(p, dataset, out, info, err);
    px_db_rollback(p);
    if (rc)
        out->len = start;
    return rc;
}
