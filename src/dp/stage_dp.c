/* The DP stage as a trust-λ stage kind ("dp"), run inside the worker like
 * the other built-ins. Its params are the DP configuration (docs/dp.md);
 * its inputs are PXV1 vectors, one per user or per block, each input
 * holding one vector or several back to back (a map stage's output for
 * many users). The execution proof's "dp" member states the mechanism,
 * the spend, and how many values were clamped and vectors dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pixiu/dp.h"
#include "pixiu/lambda.h"
#include "pixiu/records.h"

#define PX_DP_PXV1_HEADER 8

static int dp_params(const json_t *params, px_buf *cfg, px_err *err) {
    if (!json_is_object(params) || json_object_size(params) == 0)
        return px_fail(err, PX_E_INVALID, "the dp stage needs its config "
                       "in params");
    return px_json_dump(params, cfg, err);
}

static int dp_check(const json_t *params, px_err *err) {
    px_buf cfg = PX_BUF_INIT;
    px_dp_config c;
    int rc = dp_params(params, &cfg, err);
    if (rc == 0)
        rc = px_dp_config_parse(&c, cfg.data, cfg.len, err);
    if (rc == 0)
        px_dp_config_free(&c);
    px_buf_free(&cfg);
    return rc;
}

/* Split one input into its PXV1 vectors (borrowed). A vector that does not
 * frame correctly makes the rest of that input one undecodable entry: it
 * is counted and dropped by the mechanism, never trusted. */
static int dp_split(const px_stage_input *in, px_buf *vecs, size_t *n,
                    size_t cap, px_err *err) {
    /* vecs == NULL: only count. */
    size_t off = 0;
    while (off < in->len || (off == 0 && in->len == 0)) {
        if (*n == cap)
            return px_fail(err, PX_E_LIMIT, "more than %zu vectors", cap);
        size_t rest = in->len - off, need = rest;
        if (rest >= PX_DP_PXV1_HEADER &&
            memcmp(in->data + off, PX_VECTOR_MAGIC, 4) == 0) {
            uint64_t dim = px_load_u32le(in->data + off + 4);
            uint64_t full = PX_DP_PXV1_HEADER + 8 * dim;
            if (dim <= PX_VECTOR_MAX_DIM && full <= rest)
                need = (size_t)full;
        }
        if (vecs) {
            vecs[*n].data = (uint8_t *)(in->data + off); /* borrowed */
            vecs[*n].len = need;
            vecs[*n].cap = 0;
        }
        (*n)++;
        off += need;
        if (need == 0)
            break;
    }
    return 0;
}

static void dp_copy(char *dst, size_t cap, const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(dst, cap, "%s", s ? s : "");
}

static uint64_t dp_count(const json_t *e, const char *key) {
    json_int_t v = json_integer_value(json_object_get(e, key));
    return v > 0 ? (uint64_t)v : 0;
}

static void dp_report(const json_t *pred, px_stage_out *out) {
    const json_t *e = json_object_get(pred, "enforced");
    out->has_dp = 1;
    dp_copy(out->dp.mechanism, sizeof out->dp.mechanism, pred, "mechanism");
    dp_copy(out->dp.epsilon, sizeof out->dp.epsilon, pred, "epsilon");
    dp_copy(out->dp.delta, sizeof out->dp.delta, pred, "delta");
    dp_copy(out->dp.rho, sizeof out->dp.rho, pred, "rho");
    out->dp.has_enforced = 1;
    out->dp.used = dp_count(e, "used");
    out->dp.clamped = dp_count(e, "clamped");
    out->dp.rejected = dp_count(e, "rejected_decode") +
                       dp_count(e, "rejected_length") +
                       dp_count(e, "rejected_nan") +
                       dp_count(e, "rejected_values");
    out->dp.limited = dp_count(e, "limited");
    out->has_counts = 1;
    out->counts.records = dp_count(e, "inputs");
    out->counts.dropped = out->counts.records - out->dp.used;
}

static int dp_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    px_buf cfg = PX_BUF_INIT;
    px_buf *vecs = NULL;
    size_t n = 0;
    json_t *pred = NULL;
    int rc = dp_params(ctx->params, &cfg, err);
    /* Count first, then hold exactly that many views: the worker runs
     * under a memory limit. */
    for (size_t i = 0; rc == 0 && i < ctx->ninputs; i++)
        rc = dp_split(&ctx->inputs[i], NULL, &n, PX_DP_MAX_INPUTS, err);
    if (rc == 0) {
        vecs = calloc(n ? n : 1, sizeof *vecs);
        if (!vecs)
            rc = px_fail(err, PX_E_NOMEM, "out of memory");
    }
    size_t total = n;
    n = 0;
    for (size_t i = 0; rc == 0 && i < ctx->ninputs; i++)
        rc = dp_split(&ctx->inputs[i], vecs, &n, total, err);
    if (rc == 0)
        rc = px_dp_stage(cfg.data, cfg.len, vecs, n, &out->output, &pred, err);
    if (rc == 0)
        dp_report(pred, out);
    else
        out->status = PX_STATUS_BAD_INPUT;
    json_decref(pred);
    free(vecs);
    px_buf_free(&cfg);
    return rc;
}

const px_stage_kind px_dp_stage_kind = {
    .kind = "dp",
    .needs_code = 0,
    .check = dp_check,
    .run = dp_run,
};
