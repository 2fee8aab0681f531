/* The built-in gather stage: the tagged streams (PXT1) of many per-user map
 * instances joined into one stream, for a DP stage that could not take
 * them all as inputs of one step (a step names at most
 * PX_LAMBDA_MAX_INPUTS inputs in its statements, docs/executor.md).
 *
 * It keeps what the DP stage relies on: every input is the tagged output
 * of a map stage, with no more entries than its producer attested users;
 * the output has every entry, unchanged and in input order, and states as
 * its user count the sum of what its producers attested. A tag that comes
 * twice is left for the DP stage to drop (it drops every copy). */
#include <string.h>

#include "pixiu/lambda.h"
#include "pixiu/records.h"

static int gather_check(const json_t *params, px_err *err) {
    if (json_object_size(params) != 0)
        return px_fail(err, PX_E_INVALID, "the gather stage takes no params");
    return 0;
}

static int input_check(const px_stage_input *in, size_t i, uint32_t *dim, px_tagged_reader *r, px_err *err) {
    if (in->from_release || strcmp(in->producer_kind, "wasm") != 0)
        return px_fail(err, PX_E_INVALID, "input %zu comes from a %s, not from a map stage", i,
                       in->from_release ? "POD release" : in->producer_kind);
    if (px_tagged_open(r, in->data, in->len, err))
        return px_err_prefix(err, "input %zu: ", i);
    if (i == 0)
        *dim = r->dim;
    else if (r->dim != *dim)
        return px_fail(err, PX_E_INVALID, "input %zu has vectors of %u values, input 0 has %u", i, r->dim, *dim);
    if (!in->producer_has_users || r->count > in->producer_users)
        return px_fail(err, PX_E_INVALID, "input %zu has %llu entries and its producer attested %s%llu users", i,
                       (unsigned long long)r->count, in->producer_has_users ? "" : "no count of ",
                       (unsigned long long)in->producer_users);
    return 0;
}

static int gather_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    uint32_t dim = 0;
    uint64_t entries = 0, users = 0;
    px_tagged_reader r;
    for (size_t i = 0; i < ctx->ninputs; i++) {
        if (input_check(&ctx->inputs[i], i, &dim, &r, err)) {
            out->status = PX_STATUS_BAD_INPUT;
            return -1;
        }
        entries += r.count;
        users += ctx->inputs[i].producer_users;
    }
    size_t each = px_tagged_entry_bytes(dim);
    int rc = px_tagged_begin(&out->output, dim, entries, err);
    /* The entries follow each input's header, as the reader checked. */
    for (size_t i = 0; rc == 0 && i < ctx->ninputs; i++) {
        px_tagged_open(&r, ctx->inputs[i].data, ctx->inputs[i].len, NULL);
        rc = px_buf_append(&out->output, ctx->inputs[i].data + PX_TAGGED_HEADER_BYTES, (size_t)r.count * each, err);
    }
    if (rc) {
        out->status = PX_STATUS_INTERNAL;
        return -1;
    }
    out->has_counts = 1;
    out->counts.records = entries;
    out->counts.has_users = 1;
    out->counts.users = users;
    return 0;
}

const px_stage_kind px_lambda_gather_kind = {
    .kind = "gather",
    .needs_code = 0,
    .check = gather_check,
    .run = gather_run,
};
