/* The DP stage as a trust-λ stage kind ("dp"), run inside the worker like
 * the other built-ins. Its params are the DP configuration (docs/dp.md);
 * its inputs are the tagged vectors (PXT1) of a per-user map stage, one
 * entry per user or per block, and nothing else: raw vectors written by a
 * task are refused, because only the platform's grouping bounds what one
 * user contributes. The execution proof's "dp" member states the mechanism
 * and the spend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pixiu/dp.h"
#include "pixiu/lambda.h"
#include "pixiu/records.h"

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

static void dp_copy(char *dst, size_t cap, const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(dst, cap, "%s", s ? s : "");
}

/* Only what does not depend on the task's choices goes into the public
 * proof: the spend and the number of entries (one per user or block, known
 * from the prover's attested user count). How many values were clamped or
 * vectors dropped is decided by the consumer's code, so publishing those
 * counts would release an exact, un-noised count of any predicate it likes. */
static void dp_report(const json_t *pred, uint64_t entries, px_stage_out *out) {
    out->has_dp = 1;
    dp_copy(out->dp.mechanism, sizeof out->dp.mechanism, pred, "mechanism");
    dp_copy(out->dp.epsilon, sizeof out->dp.epsilon, pred, "epsilon");
    dp_copy(out->dp.delta, sizeof out->dp.delta, pred, "delta");
    dp_copy(out->dp.rho, sizeof out->dp.rho, pred, "rho");
    out->has_counts = 1;
    out->counts.records = entries;
}

/* One entry of a map stage's output: its tag, and its values (NULL when
 * the user's run gave no usable vector). */
typedef struct dp_entry {
    const uint8_t *tag;
    const double *v;
    uint32_t input;
} dp_entry;

static int entry_tag_cmp(const void *a, const void *b) {
    const dp_entry *x = a, *y = b;
    int c = memcmp(x->tag, y->tag, PX_TAG_BYTES);
    return c ? c : (x->input > y->input) - (x->input < y->input);
}

/* What the stage accepts, checked before any value is looked at: every
 * input is the tagged output of a map stage (never raw vectors a task
 * wrote), with this config's dim, no more entries than its producer
 * attested users (or blocks), and no tag twice within one input. */
static int dp_input_check(const px_stage_input *in, size_t i, const px_dp_config *c, px_tagged_reader *r,
                          px_err *err) {
    /* A gather stage joins the streams of POD-side maps, unchanged, and
     * states the sum of their attested users (stage_gather.c). */
    if (in->from_release || (strcmp(in->producer_kind, "wasm") != 0 && strcmp(in->producer_kind, "gather") != 0))
        return px_fail(err, PX_E_INVALID, "input %zu comes from a %s, not from a map stage", i,
                       in->from_release ? "POD release" : in->producer_kind);
    if (px_tagged_open(r, in->data, in->len, err))
        return px_err_prefix(err, "input %zu: ", i);
    if (r->dim != c->dim)
        return px_fail(err, PX_E_INVALID, "input %zu has vectors of %u values, the dp config says %u", i, r->dim,
                       c->dim);
    if (!in->producer_has_users)
        return px_fail(err, PX_E_INVALID, "input %zu: its producer attested no user count", i);
    if (r->count > in->producer_users)
        return px_fail(err, PX_E_INVALID, "input %zu has %llu entries but its producer attested %llu users", i,
                       (unsigned long long)r->count, (unsigned long long)in->producer_users);
    return 0;
}

/* Read every entry; values live in one array of dim doubles per entry. */
static int dp_read(const px_stage_ctx *ctx, const px_dp_config *c, dp_entry **out, double **vals, size_t *n,
                   px_err *err) {
    px_tagged_reader r;
    uint64_t total = 0;
    for (size_t i = 0; i < ctx->ninputs; i++) {
        if (dp_input_check(&ctx->inputs[i], i, c, &r, err))
            return -1;
        total += r.count;
        if (total > PX_DP_MAX_INPUTS)
            return px_fail(err, PX_E_LIMIT, "more than %u entries", PX_DP_MAX_INPUTS);
    }
    dp_entry *e = calloc(total ? total : 1, sizeof *e);
    double *v = calloc(total ? total * c->dim : 1, sizeof *v);
    if (!e || !v) {
        free(e), free(v);
        return px_fail(err, PX_E_NOMEM, "out of memory for %llu entries", (unsigned long long)total);
    }
    size_t k = 0;
    for (size_t i = 0; i < ctx->ninputs; i++) {
        px_tagged_open(&r, ctx->inputs[i].data, ctx->inputs[i].len, NULL);
        int present, rc;
        while ((rc = px_tagged_next(&r, &e[k].tag, &present, v + k * c->dim, err)) == 1) {
            e[k].v = present ? v + k * c->dim : NULL;
            e[k].input = (uint32_t)i;
            k++;
        }
        if (rc < 0) {
            free(e), free(v);
            return px_err_prefix(err, "input %zu: ", i);
        }
    }
    *out = e, *vals = v, *n = k;
    return 0;
}

/* A tag twice in one input is a map stage that ran a user twice: refused.
 * The same tag in two inputs is one user whose records reached two
 * partitions: all its entries are dropped, so it contributes nothing and
 * the per-user bound still holds. */
static int dp_dedup(dp_entry *e, size_t n, px_err *err) {
    qsort(e, n, sizeof *e, entry_tag_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && memcmp(e[j].tag, e[i].tag, PX_TAG_BYTES) == 0)
            j++;
        for (size_t k = i + 1; k < j; k++)
            if (e[k].input == e[k - 1].input)
                return px_fail(err, PX_E_INVALID, "input %u names one user twice", e[k].input);
        for (size_t k = i; j - i > 1 && k < j; k++)
            e[k].v = NULL;
        i = j;
    }
    return 0;
}

static int dp_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    px_buf cfg = PX_BUF_INIT;
    px_dp_config c;
    dp_entry *e = NULL;
    double *vals = NULL;
    px_dp_vec *vecs = NULL;
    size_t n = 0;
    json_t *pred = NULL;
    int rc = dp_params(ctx->params, &cfg, err);
    if (rc == 0)
        rc = px_dp_config_parse(&c, cfg.data, cfg.len, err);
    if (rc) {
        px_buf_free(&cfg);
        out->status = PX_STATUS_INTERNAL; /* checked at birth */
        return -1;
    }
    rc = dp_read(ctx, &c, &e, &vals, &n, err);
    if (rc == 0 && c.mode == PX_DP_SAMPLE_AGG && (ctx->ninputs != 1 || n != c.blocks))
        rc = px_fail(err, PX_E_INVALID, "sample-and-aggregate needs one input of %u blocks, not %zu inputs of %zu",
                     c.blocks, ctx->ninputs, n);
    /* Blocks keep their order; users are compared by tag. */
    if (rc == 0 && c.mode != PX_DP_SAMPLE_AGG)
        rc = dp_dedup(e, n, err);
    if (rc == 0 && !(vecs = calloc(n ? n : 1, sizeof *vecs)))
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        vecs[i].v = e[i].v;
        vecs[i].n = e[i].v ? c.dim : PX_DP_VEC_UNDECODABLE;
    }
    if (rc == 0)
        rc = px_dp_stage_vecs(&c, vecs, n, &out->output, &pred, err);
    if (rc == 0)
        dp_report(pred, n, out);
    else
        out->status = PX_STATUS_BAD_INPUT;
    json_decref(pred);
    free(vecs), free(vals), free(e);
    px_dp_config_free(&c);
    px_buf_free(&cfg);
    return rc;
}

const px_stage_kind px_dp_stage_kind = {
    .kind = "dp",
    .needs_code = 0,
    .check = dp_check,
    .run = dp_run,
};
