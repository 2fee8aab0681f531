/* The data-prover as a trust-λ stage kind. Its params are the prover
 * config, so the trust store it checks against is part of the attested
 * stage config (and of the measurement): a consumer reading the evidence
 * knows which sources "authenticated" means. */
#include "pixiu/lambda.h"
#include "pixiu/pod.h"

static int params_config(const json_t *params, px_prover_config *c, px_err *err) {
    px_buf b = PX_BUF_INIT;
    int rc = px_json_dump(params, &b, err);
    if (rc == 0)
        rc = px_prover_config_parse(c, b.data, b.len, err);
    px_buf_free(&b);
    return rc;
}

static int prover_check(const json_t *params, px_err *err) {
    px_prover_config c;
    if (params_config(params, &c, err))
        return -1;
    px_prover_config_free(&c);
    return 0;
}

static int prover_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    px_prover_config c;
    if (params_config(ctx->params, &c, err)) {
        out->status = PX_STATUS_INTERNAL; /* checked at birth: cannot happen */
        return -1;
    }
    const uint8_t *in[PX_LAMBDA_MAX_INPUTS];
    size_t lens[PX_LAMBDA_MAX_INPUTS];
    size_t n = ctx->ninputs < PX_LAMBDA_MAX_INPUTS ? ctx->ninputs : PX_LAMBDA_MAX_INPUTS;
    for (size_t i = 0; i < n; i++)
        in[i] = ctx->inputs[i].data, lens[i] = ctx->inputs[i].len;
    px_prover_counts k;
    int rc = px_prover_run_many(&c, in, lens, n, &out->output, &k, err);
    px_prover_config_free(&c);
    if (rc) {
        out->status = err && err->code == PX_E_NOMEM ? PX_STATUS_INTERNAL : PX_STATUS_BAD_INPUT;
        return -1;
    }
    out->has_counts = 1;
    out->counts.records = k.records;
    out->counts.authenticated = k.authenticated;
    out->counts.alleged = k.alleged;
    out->counts.dropped = k.dropped;
    out->counts.has_users = k.has_users;
    out->counts.users = k.users;
    return 0;
}

const px_stage_kind px_pod_stage_kind = {
    .kind = "prover",
    .needs_code = 0,
    .check = prover_check,
    .run = prover_run,
    .prepare = px_source_preload, /* OpenSSL's P-256 before the worker's filter */
};
