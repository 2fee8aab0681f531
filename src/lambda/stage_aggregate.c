/* The built-in aggregation stage: element-wise sum of PXV1 vectors.
 *
 * It joins the partial results of partitions or PODs before the DP stage.
 * Every input must be a PXV1 vector of the same length; the output is the
 * PXV1 vector of the sums. It adds no privacy of its own (the DP stage
 * does); it only has to be exact and refuse malformed input. Non-finite
 * values are passed through for the DP stage to judge, as PXV1 allows. */
#include <stdlib.h>

#include "pixiu/lambda.h"
#include "pixiu/records.h"

static int aggregate_check(const json_t *params, px_err *err) {
    if (json_object_size(params) != 0)
        return px_fail(err, PX_E_INVALID, "the aggregate stage takes no params");
    return 0;
}

static int add_input(double *sum, uint32_t dim, const px_stage_input *in, size_t i, px_err *err) {
    double *v = NULL;
    uint32_t n = 0;
    if (px_vector_decode(&v, &n, in->data, in->len, err))
        return px_err_prefix(err, "input %zu: ", i);
    if (n != dim) {
        free(v);
        return px_fail(err, PX_E_INVALID, "input %zu has %u values, input 0 has %u", i, n, dim);
    }
    for (uint32_t k = 0; k < n; k++)
        sum[k] += v[k];
    free(v);
    return 0;
}

/* The first input's vector becomes the running sum. */
static int aggregate_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    double *sum = NULL;
    uint32_t dim = 0;
    int rc = px_vector_decode(&sum, &dim, ctx->inputs[0].data, ctx->inputs[0].len, err);
    if (rc)
        px_err_prefix(err, "input 0: ");
    for (size_t i = 1; rc == 0 && i < ctx->ninputs; i++)
        rc = add_input(sum, dim, &ctx->inputs[i], i, err);
    if (rc == 0)
        rc = px_vector_encode(&out->output, sum, dim, err);
    free(sum);
    if (rc)
        out->status = PX_STATUS_BAD_INPUT;
    return rc;
}

const px_stage_kind px_lambda_aggregate_kind = {
    .kind = "aggregate",
    .needs_code = 0,
    .check = aggregate_check,
    .run = aggregate_run,
};
