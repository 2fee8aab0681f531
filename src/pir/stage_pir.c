/* The trust-λ stage kind "pir": serve a DP table by SimplePIR.
 *
 * Its one input is a POD's release of a table dataset: records
 * (part:int, bytes:blob) whose bytes, in part order, are a table document
 * (table.c). The stage checks the document names the table the manifest
 * asks for (params.table, a DP result commitment), lays its rows out as a
 * PIR database (one record per row: its values as little-endian doubles),
 * computes the hint and outputs the hint bundle. Its proof reports the rows
 * in counts.records and, in "derived", the task that made the table, its
 * result and the digest of its receipt: the table's lineage, in the log.
 *
 * After its proof is in the log and its output released, the instance
 * answers queries (serve) until the manifest's deadline: a query must be
 * for its hint (the bundle's commitment) and the database's width; the
 * answer names the query it answers. The worker's seccomp filter allows no
 * threads, so one core answers; the instance learns nothing of which row a
 * query asks for (LWE), and spends no privacy budget (the table is DP
 * already, charged once by the task that made it). */
#include <stdlib.h>
#include <string.h>

#include "pir/pir_int.h"
#include "pixiu/lambda.h"
#include "pixiu/records.h"

typedef struct pir_state {
    px_pir_db db;
} pir_state;

static int pir_check(const json_t *params, px_err *err) {
    uint8_t table[PX_SHA256_BYTES];
    if (!json_is_object(params) || json_object_size(params) != 1 ||
        px_json_hex(params, "table", table, sizeof table, err))
        return px_fail(err, PX_E_INVALID, "params must be {\"table\": hex SHA-256 of the DP result to serve}");
    return 0;
}

static int bad_input(px_stage_out *out, px_err *err, const char *why) {
    out->status = PX_STATUS_BAD_INPUT;
    return px_fail(err, PX_E_INVALID, "%s", why);
}

/* The document's bytes: every part once, in order. */
static int assemble(const px_stage_input *in, px_buf *doc, px_err *err) {
    px_records_reader r;
    if (px_records_open(&r, in->data, in->len, err))
        return -1;
    /* A POD's export adds its provenance fields (docs/formats.md); the
     * table document needs none: the receipt's commitment vouches for it. */
    const px_schema *s = &r.schema;
    int prov = s->nfields == 4 && !strcmp(s->fields[2].name, "px_source") && s->fields[2].type == PX_FIELD_TEXT &&
               !strcmp(s->fields[3].name, "px_sig") && s->fields[3].type == PX_FIELD_BLOB;
    if ((s->nfields != 2 && !prov) || strcmp(s->fields[0].name, PX_PIR_DATASET_PART) ||
        s->fields[0].type != PX_FIELD_INT || strcmp(s->fields[1].name, PX_PIR_DATASET_BYTES) ||
        s->fields[1].type != PX_FIELD_BLOB)
        return px_fail(err, PX_E_INVALID, "a table dataset has exactly the fields part (int) and bytes (blob)");
    if (r.count == 0 || r.count > PX_PIR_TABLE_MAX_BYTES / 1024 + 1)
        return px_fail(err, PX_E_INVALID, "a table dataset has 1..%u parts, not %llu",
                       PX_PIR_TABLE_MAX_BYTES / 1024 + 1, (unsigned long long)r.count);
    const uint8_t **part = calloc(r.count, sizeof *part);
    uint32_t *plen = calloc(r.count, sizeof *plen);
    int rc = part && plen ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
    px_value v[PX_RECORDS_MAX_FIELDS];
    uint8_t flags;
    size_t total = 0;
    int got;
    while (rc == 0 && (got = px_records_next(&r, v, &flags, err)) == 1) {
        if (v[0].i < 0 || (uint64_t)v[0].i >= r.count || part[v[0].i])
            rc = px_fail(err, PX_E_INVALID, "table part %lld is out of range or repeated", (long long)v[0].i);
        else if ((total += v[1].len) > PX_PIR_TABLE_MAX_BYTES)
            rc = px_fail(err, PX_E_LIMIT, "a table document is at most %u bytes", PX_PIR_TABLE_MAX_BYTES);
        else {
            part[v[0].i] = v[1].p ? v[1].p : (const uint8_t *)"";
            plen[v[0].i] = v[1].len;
        }
    }
    if (rc == 0 && got < 0)
        rc = -1;
    for (uint64_t i = 0; rc == 0 && i < r.count; i++)
        rc = px_buf_append(doc, part[i], plen[i], err);
    free(part);
    free(plen);
    return rc;
}

/* The database and its hint from a checked table. */
static int build(const px_pir_table *t, px_pir_db *db, px_buf *bundle, px_err *err) {
    uint8_t seed[PX_PIR_SEED_BYTES];
    px_pir_params pp;
    px_pir_table_seed(seed, t->result);
    if (px_pir_params_choose(&pp, t->nrows, t->ncolumns * 8, seed, err) || px_pir_db_new(db, &pp, err))
        return -1;
    uint8_t row[PX_PIR_TABLE_MAX_COLUMNS * 8];
    for (uint32_t i = 0; i < t->nrows; i++) {
        px_pir_table_row(t, i, row);
        px_pir_db_set(db, i, row, NULL);
    }
    uint32_t *hint = malloc((size_t)pp.rows * PX_PIR_N * sizeof *hint);
    px_buf info = PX_BUF_INIT;
    int rc = hint ? 0 : px_fail(err, PX_E_NOMEM, "out of memory for the PIR hint");
    if (rc == 0)
        rc = px_pir_hint(db, hint, 1, err) || px_pir_info_encode(&info, t, err) ||
             px_pir_hint_encode(bundle, &pp, info.data, info.len, hint, err);
    free(hint);
    px_buf_free(&info);
    if (rc)
        px_pir_db_free(db);
    return rc ? -1 : 0;
}

static int pir_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    uint8_t want[PX_SHA256_BYTES];
    px_json_hex(ctx->params, "table", want, sizeof want, NULL); /* checked at birth */
    if (ctx->ninputs != 1 || !ctx->inputs[0].from_release)
        return bad_input(out, err, "a pir stage takes one input, a POD's release of a table dataset");
    px_buf doc = PX_BUF_INIT;
    px_pir_table t;
    memset(&t, 0, sizeof t);
    if (assemble(&ctx->inputs[0], &doc, err) || px_pir_table_parse(&t, doc.data, doc.len, err)) {
        px_buf_free(&doc);
        out->status = PX_STATUS_BAD_INPUT;
        return -1;
    }
    px_buf_free(&doc);
    if (!px_ct_equal(t.result, want, PX_SHA256_BYTES)) {
        px_pir_table_free(&t);
        return bad_input(out, err, "the POD released another table than the manifest asks for");
    }
    pir_state *st = calloc(1, sizeof *st);
    int rc = st ? build(&t, &st->db, &out->output, err) : px_fail(err, PX_E_NOMEM, "out of memory");
    if (rc == 0) {
        out->has_counts = 1;
        out->counts.records = t.nrows;
        out->has_derived = 1;
        memcpy(out->derived.manifest, t.manifest, PX_SHA256_BYTES);
        memcpy(out->derived.result, t.result, PX_SHA256_BYTES);
        memcpy(out->derived.receipt, t.receipt, PX_SHA256_BYTES);
        out->state = st;
    } else {
        free(st);
        out->status = PX_STATUS_INTERNAL;
    }
    px_pir_table_free(&t);
    return rc;
}

static int pir_serve(void *state, const uint8_t commit[PX_SHA256_BYTES], const uint8_t *req, size_t len,
                     px_buf *resp, px_err *err) {
    pir_state *st = state;
    const px_pir_params *pp = &st->db.params;
    uint32_t *q = malloc((size_t)pp->cols * sizeof *q), *a = malloc((size_t)pp->rows * sizeof *a);
    uint8_t hint_id[PX_SHA256_BYTES], qd[PX_SHA256_BYTES];
    int rc = q && a ? 0 : px_fail(err, PX_E_NOMEM, "out of memory answering a PIR query");
    if (rc == 0)
        rc = px_pir_query_parse(req, len, pp->cols, hint_id, q, err);
    if (rc == 0 && !px_ct_equal(hint_id, commit, PX_SHA256_BYTES))
        rc = px_fail(err, PX_E_INVALID, "the PIR query was made for another hint than this instance's");
    if (rc == 0) {
        px_sha256(qd, req, len);
        rc = px_pir_answer(&st->db, q, a, PX_PIR_KERNEL_AUTO, 1, err) ||
             px_pir_answer_encode(resp, qd, a, pp->rows, err);
    }
    free(q);
    free(a);
    return rc ? -1 : 0;
}

static void pir_state_free(void *state) {
    pir_state *st = state;
    if (!st)
        return;
    px_pir_db_free(&st->db);
    free(st);
}

const px_stage_kind px_pir_stage_kind = {
    .kind = "pir",
    .needs_code = 0,
    .check = pir_check,
    .run = pir_run,
    .serve = pir_serve,
    .state_free = pir_state_free,
};
