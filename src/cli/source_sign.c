/* pixiu source sign: sign records as their source, so that a POD can
 * later prove where its data came from. */
#include <string.h>

#include "cli/cli.h"
#include "pixiu/pod.h"

#define SMALL_FILE_MAX (1u << 20)

static const char usage[] =
    "usage: pixiu source sign --key FILE.key --schema SCHEMA.json [--format csv|jsonl] [--batch N]\n"
    "                         IN [-o OUT]\n"
    "Reads rows of the schema from IN ('-' for standard input) and writes them again, to\n"
    "OUT or standard output, with the px_source and px_sig columns holding the source's\n"
    "signature of each record's digest (see docs/pod.md); existing signatures are replaced.\n"
    "With --batch N (1 to 65536), each run of N rows (the last may be shorter) is signed\n"
    "as one batch: one signature per batch, and each row carries it with its own\n"
    "inclusion proof, so that it is still checked on its own.\n";

typedef struct sign_ctx {
    const px_pod_schema *s;
    const px_source_signer *key;
    int jsonl;
    px_buf *out;
    char ref[PX_SRC_REF_MAX + 1];
    /* --batch: the record digests of every row, read in a first pass, and
     * the batch the row being written belongs to */
    uint32_t batch;      /* rows per batch; 0 signs each row on its own */
    px_buf digests;      /* owned */
    uint64_t rows;       /* rows written so far */
    px_source_batch cur; /* owned; covers rows from cur_first */
    uint64_t cur_first;
    px_buf sig;          /* owned scratch: one row's signature */
} sign_ctx;

static int csv_text(px_buf *out, const uint8_t *p, size_t n, px_err *err) {
    if (px_buf_append_u8(out, '"', err))
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((p[i] == '"' && px_buf_append_u8(out, '"', err)) || px_buf_append_u8(out, p[i], err))
            return -1;
    return px_buf_append_u8(out, '"', err);
}

static int csv_row(sign_ctx *c, const px_value *v, const char *sig_b64, px_err *err) {
    for (uint32_t i = 0; i < c->s->rec.nfields; i++) {
        int rc = 0;
        switch (v[i].type) {
        case PX_FIELD_INT: rc = px_buf_printf(c->out, err, "%lld", (long long)v[i].i); break;
        case PX_FIELD_REAL: rc = px_buf_printf(c->out, err, "%.17g", v[i].r); break;
        case PX_FIELD_TEXT: rc = csv_text(c->out, v[i].p, v[i].len, err); break;
        case PX_FIELD_BLOB: rc = px_buf_append_b64(c->out, v[i].p, v[i].len, err); break;
        }
        if (rc || px_buf_append_u8(c->out, ',', err))
            return -1;
    }
    return px_buf_printf(c->out, err, "%s,%s\n", c->ref, sig_b64);
}

static int jsonl_row(sign_ctx *c, const px_value *v, const char *sig_b64, px_err *err) {
    json_t *o = json_object();
    px_buf b = PX_BUF_INIT;
    int rc = o ? 0 : -1;
    for (uint32_t i = 0; rc == 0 && i < c->s->rec.nfields; i++) {
        json_t *x = NULL;
        switch (v[i].type) {
        case PX_FIELD_INT: x = json_integer((json_int_t)v[i].i); break;
        case PX_FIELD_REAL: x = json_real(v[i].r); break;
        case PX_FIELD_TEXT: x = json_stringn((const char *)v[i].p, v[i].len); break;
        case PX_FIELD_BLOB:
            b.len = 0;
            if (px_buf_append_b64(&b, v[i].p, v[i].len, err) || !px_buf_cstr(&b, err))
                rc = -1;
            else
                x = json_string((const char *)b.data);
            break;
        }
        if (rc == 0 && json_object_set_new(o, c->s->rec.fields[i].name, x))
            rc = -1;
    }
    if (rc == 0 && (json_object_set_new(o, PX_POD_FIELD_SOURCE, json_string(c->ref)) ||
                    json_object_set_new(o, PX_POD_FIELD_SIG, json_string(sig_b64))))
        rc = -1;
    if (rc == 0)
        rc = px_json_dump(o, c->out, err) || px_buf_append_u8(c->out, '\n', err) ? -1 : 0;
    else if (err && err->code == PX_OK)
        px_fail(err, PX_E_NOMEM, "could not build the JSON row");
    json_decref(o);
    px_buf_free(&b);
    return rc;
}

/* First pass of --batch: a batch is signed over digests of rows not read yet. */
static int digest_row(void *ctx, const px_pod_row *row, px_err *err) {
    sign_ctx *c = ctx;
    uint8_t d[PX_SHA256_BYTES];
    return px_source_record_digest(d, &c->s->rec, row->values, err) || px_buf_append(&c->digests, d, sizeof d, err)
               ? -1
               : 0;
}

/* Row c->rows's signature in the batch form, signing its batch first if
 * the row opens one. */
static int batch_sig(sign_ctx *c, px_err *err) {
    uint64_t total = c->digests.len / PX_SHA256_BYTES;
    if (c->rows >= total)
        return px_fail(err, PX_E_INTERNAL, "the input changed between two readings");
    if (c->rows % c->batch == 0) {
        uint64_t n = total - c->rows < c->batch ? total - c->rows : c->batch;
        px_source_batch_free(&c->cur);
        if (px_source_batch_sign(&c->cur, c->key, c->digests.data + c->rows * PX_SHA256_BYTES, (size_t)n, err))
            return -1;
        c->cur_first = c->rows;
    }
    return px_source_batch_append_sig(&c->cur, (uint32_t)(c->rows - c->cur_first), &c->sig, err);
}

static int sign_row(void *ctx, const px_pod_row *row, px_err *err) {
    sign_ctx *c = ctx;
    uint8_t d[PX_SHA256_BYTES], sig[PX_SRC_SIG_BYTES];
    char b64[PX_SRC_SIG_MAX * 2];
    px_buf_reset(&c->sig);
    if (c->batch) {
        if (batch_sig(c, err))
            return -1;
    } else if (px_source_record_digest(d, &c->s->rec, row->values, err) || px_source_sign(c->key, d, sig, err) ||
               px_buf_append(&c->sig, sig, sizeof sig, err)) {
        return -1;
    }
    c->rows++;
    px_b64_encode(b64, c->sig.data, c->sig.len);
    return c->jsonl ? jsonl_row(c, row->values, b64, err) : csv_row(c, row->values, b64, err);
}

static int csv_header(const px_pod_schema *s, px_buf *out, px_err *err) {
    for (uint32_t i = 0; i < s->rec.nfields; i++)
        if (px_buf_printf(out, err, "%s,", s->rec.fields[i].name))
            return -1;
    return px_buf_append_str(out, PX_POD_FIELD_SOURCE "," PX_POD_FIELD_SIG "\n", err);
}

static int parse(sign_ctx *c, const px_buf *data, px_pod_row_fn fn, px_err *err) {
    return c->jsonl ? px_pod_parse_jsonl(c->s, data->data, data->len, fn, c, NULL, err)
                    : px_pod_parse_csv(c->s, data->data, data->len, fn, c, NULL, err);
}

static int sign_file(const char *keyfile, const char *schemafile, const char *format, uint32_t batch, const char *in,
                     const char *outpath) {
    int jsonl = format ? !strcmp(format, "jsonl") : (strlen(in) > 6 && !strcmp(in + strlen(in) - 6, ".jsonl"));
    if (format && strcmp(format, "csv") && strcmp(format, "jsonl"))
        return px_cli_errorf(PX_EXIT_USAGE, "source sign: --format must be csv or jsonl");
    px_err err = {0};
    px_source_signer key;
    px_pod_schema s;
    px_buf sb = PX_BUF_INIT, data = PX_BUF_INIT, out = PX_BUF_INIT;
    if (px_source_signer_load(&key, keyfile, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "source sign");
    int rc = PX_EXIT_USAGE;
    if (px_file_read(schemafile, SMALL_FILE_MAX, &sb, &err) || px_pod_schema_parse(&s, sb.data, sb.len, &err) ||
        px_cli_read_input(in, PX_POD_IMPORT_MAX_BYTES, &data, &err)) {
        px_cli_error(rc, &err, "source sign");
        goto done;
    }
    sign_ctx c = {.s = &s, .key = &key, .jsonl = jsonl, .out = &out, .batch = batch};
    px_source_key_ref(&key.pub, c.ref);
    int bad = (batch && parse(&c, &data, digest_row, &err)) || (!jsonl && csv_header(&s, &out, &err)) ||
              parse(&c, &data, sign_row, &err);
    px_source_batch_free(&c.cur);
    px_buf_free(&c.digests);
    px_buf_free(&c.sig);
    if (bad) {
        px_cli_error(PX_EXIT_INVALID, &err, "source sign");
        rc = PX_EXIT_INVALID;
        goto done;
    }
    if (outpath && strcmp(outpath, "-")) {
        if (px_file_write_atomic(outpath, out.data, out.len, 0644, &err)) {
            px_cli_error(rc, &err, "source sign");
            goto done;
        }
    } else if (fwrite(out.data, 1, out.len, stdout) != out.len) {
        goto done;
    }
    rc = PX_EXIT_OK;
done:
    px_source_signer_free(&key);
    px_buf_free(&sb);
    px_buf_free(&data);
    px_buf_free(&out);
    return rc;
}

static int run(int argc, char **argv) {
    const char *key = NULL, *schema = NULL, *format = NULL, *out = NULL, *batch_s = NULL;
    const px_cli_opt opts[] = {{"key", 0, PX_CLI_VALUE, &key, 1},
                               {"schema", 0, PX_CLI_VALUE, &schema, 1},
                               {"format", 0, PX_CLI_VALUE, &format, 0},
                               {"batch", 0, PX_CLI_VALUE, &batch_s, 0},
                               {"out", 'o', PX_CLI_VALUE, &out, 0},
                               {0}};
    px_cli_args a = {.cmd = "source sign", .usage = usage, .opts = opts, .operands = "IN", .min = 1, .max = 1};
    uint64_t batch = 0;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (batch_s && px_cli_number(&a, "--batch", batch_s, 1, PX_SRC_BATCH_MAX, &batch))
        return PX_EXIT_USAGE;
    return sign_file(key, schema, format, (uint32_t)batch, a.argv[0], out);
}

const px_cli_form px_cli_source_sign = {"sign", run, "sign records (CSV or JSON lines) as their source"};
