/* The `fl-agg` stage (docs/fl.md): a round's aggregator, the consumer's
 * enclave. It is sent the model the round starts from (its digest is the
 * stage's attested "code", so the manifest pins it) and, as content, the
 * reveals the surviving user λs signed; its inputs are the users' masked
 * updates, one per POD. It unmasks only the survivors' sum, adds discrete
 * Gaussian noise calibrated to the clip bound and the round's share of the
 * training's zCDP budget, moves the model by the noisy mean and outputs
 * the next round's model. Its proof states the round, the survivors, the
 * model's change and the spend. */
#include <math.h>
#include <string.h>

#include "agg/fl_int.h"
#include "pixiu/dp.h"
#include "pixiu/lambda.h"

static int fl_agg_check(const json_t *params, px_err *err) {
    px_agg_fl_config c;
    return px_agg_fl_config_parse(&c, params, 1, err);
}

static int fail(px_stage_out *out, const char *status) {
    out->status = status;
    return -1;
}

/* The round's share of the training's budget: the whole (epsilon, delta)
 * as zCDP, split evenly over the rounds (zCDP composes by addition). */
static int round_rho(const px_agg_fl_config *c, px_dp_q *rho, px_dp_q *delta, px_err *err) {
    px_dp_q eps, total;
    if (px_dp_q_parse(&eps, c->epsilon, strlen(c->epsilon), err) ||
        px_dp_q_parse(delta, c->delta, strlen(c->delta), err) || px_dp_eps_to_zcdp(eps, *delta, &total, err))
        return px_err_prefix(err, "params: ");
    if (total.den > UINT64_MAX / c->rounds)
        return px_fail(err, PX_E_LIMIT, "params: rho %llu/%llu cannot be split in %u rounds exactly",
                       (unsigned long long)total.num, (unsigned long long)total.den, c->rounds);
    *rho = px_dp_q_make(total.num, total.den * c->rounds);
    return 0;
}

/* Survivors: one masked update per user index, from the inputs. */
static int survivors(const px_stage_ctx *ctx, uint32_t n, uint8_t *bitmap, px_agg_msg *masked, int32_t *who,
                     px_err *err) {
    for (size_t i = 0; i < ctx->ninputs; i++) {
        px_agg_masked_view v;
        if (px_agg_masked_parse(&v, ctx->inputs[i].data, ctx->inputs[i].len, err))
            return px_err_prefix(err, "input %zu (%s): ", i, ctx->inputs[i].producer_node);
        if (v.index >= n || (bitmap[v.index / 8] >> (v.index % 8) & 1))
            return px_fail(err, PX_E_INVALID, "input %zu (%s): user %u is %s", i, ctx->inputs[i].producer_node,
                           v.index, v.index >= n ? "not in the roster" : "there twice");
        bitmap[v.index / 8] |= (uint8_t)(1u << (v.index % 8));
        masked[i] = (px_agg_msg){ctx->inputs[i].data, ctx->inputs[i].len};
        who[i] = (int32_t)v.index;
    }
    return 0;
}

/* Each reveal: signed by the instance key of one input's producer (so by
 * an attested user λ that sent a masked update), over this manifest and
 * that input's commitment; opened with this instance's own key. */
static int open_reveals(const px_stage_ctx *ctx, const px_fl_reveals *rv, px_buf *opened, px_agg_msg *reveals,
                        px_err *err) {
    const uint8_t *e = rv->entries;
    for (uint32_t i = 0; i < rv->count; i++) {
        px_fl_reveal r;
        e += px_fl_reveals_next(e, &r);
        size_t k = 0;
        while (k < ctx->ninputs && !px_ct_equal(ctx->inputs[k].producer_key, r.sign_pk, 32))
            k++;
        if (k == ctx->ninputs)
            return px_fail(err, PX_E_VERIFY, "reveal %u: its signer sent no masked update", i);
        if (px_serve_verify_hashed(r.sig, ctx->config->manifest, ctx->inputs[k].digest, r.req_hash, r.resp,
                                   r.resp_len, r.sign_pk, err) ||
            px_seal_open(&opened[i], r.resp, r.resp_len, ctx->box, err))
            return px_err_prefix(err, "reveal of %s: ", ctx->inputs[k].producer_node);
        reveals[i] = (px_agg_msg){opened[i].data, opened[i].len};
    }
    return 0;
}

/* sum (mod 2^32, read as int32) + discrete Gaussian noise, per weight;
 * then the model moves by the noisy mean. *change: L2 of the step. */
static int move_model(const px_agg_fl_config *c, px_fl_model *m, const uint32_t *sum, uint32_t nsurv,
                      px_dp_q rho, px_dp_q delta, double *change, px_stage_out *out, px_err *err) {
    px_dp_noise noise;
    px_dp_spend spend;
    px_dp_rng rng;
    if (px_dp_noise_calibrate_rho(&noise, c->clip_q * c->clip_q, rho, delta, &spend, err))
        return px_err_prefix(err, "noise: ");
    px_dp_rng_init(&rng);
    double sq = 0;
    int rc = 0;
    for (uint32_t i = 0; i < c->dim && rc == 0; i++) {
        int64_t y;
        rc = px_dp_noise_add(&noise, &rng, (int64_t)(int32_t)sum[i], &y, err);
        double step = (double)y / ((double)nsurv * c->scale);
        m->w[i] += (float)step;
        sq += step * step;
    }
    px_dp_rng_wipe(&rng);
    *change = sqrt(sq);
    snprintf(out->dp.mechanism, sizeof out->dp.mechanism, "gaussian");
    snprintf(out->dp.epsilon, sizeof out->dp.epsilon, "%s", c->epsilon);
    snprintf(out->dp.delta, sizeof out->dp.delta, "%s", c->delta);
    char r[PX_DP_DEC_STR_MAX];
    px_dp_q_format(spend.rho, r);
    if (strlen(r) >= sizeof out->dp.rho)
        return px_fail(err, PX_E_LIMIT, "noise: rho %s is longer than a proof states", r);
    memcpy(out->dp.rho, r, strlen(r) + 1);
    out->has_dp = 1;
    return rc;
}

static int report(px_stage_out *out, uint32_t round, uint32_t n, uint32_t nsurv, double change, px_err *err) {
    char ch[32];
    snprintf(ch, sizeof ch, "%.6f", change);
    out->report = json_pack("{s:i,s:i,s:i,s:i,s:s}", "round", (json_int_t)round, "users", (json_int_t)n,
                            "survivors", (json_int_t)nsurv, "dropped", (json_int_t)(n - nsurv), "change", ch);
    return out->report ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
}

static int fl_agg_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    px_agg_fl_config c;
    px_fl_model m = {0};
    px_fl_reveals rv;
    px_dp_q rho, delta;
    if (px_agg_fl_config_parse(&c, ctx->params, 1, err) || round_rho(&c, &rho, &delta, err))
        return fail(out, PX_STATUS_INTERNAL); /* checked at birth */
    if (!ctx->code || !ctx->content || !ctx->box)
        return px_fail(err, PX_E_INVALID, "fl-agg needs the round's model and the reveals sealed to it"),
               fail(out, PX_STATUS_BAD_INPUT);
    if (px_fl_model_parse(&m, ctx->code, ctx->code_len, err) ||
        px_fl_reveals_parse(&rv, ctx->content, ctx->content_len, err))
        return fail(out, PX_STATUS_BAD_INPUT);
    int rc = -1;
    size_t blen = (rv.n + 7) / 8;
    uint8_t *bitmap = calloc(blen, 1);
    px_agg_msg *masked = calloc(ctx->ninputs + 1, sizeof *masked), *reveals = calloc(rv.count + 1, sizeof *reveals);
    px_buf *opened = calloc(rv.count + 1, sizeof *opened);
    int32_t *who = calloc(ctx->ninputs + 1, sizeof *who);
    uint32_t *sum = calloc(c.dim, sizeof *sum), nsurv = 0;
    /* The round is the one after the model's (the users' broadcast round). */
    px_agg_params ap = {.n = rv.n, .k = c.neighbors, .t = c.threshold, .dim = c.dim, .round = m.round + 1,
                        .min_survivors = c.min_survivors, .clip = c.clip_q};
    memcpy(ap.manifest, ctx->config->manifest, sizeof ap.manifest);
    double change = 0;
    if (!bitmap || !masked || !reveals || !opened || !who || !sum) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        fail(out, PX_STATUS_INTERNAL);
    } else if (m.dim != c.dim) {
        px_fail(err, PX_E_INVALID, "the round's model has %u weights, params.dim is %u", m.dim, c.dim);
        fail(out, PX_STATUS_BAD_INPUT);
    } else if (survivors(ctx, rv.n, bitmap, masked, who, err) ||
               px_agg_survivors_count(&ap, bitmap, blen, &nsurv, err) ||
               open_reveals(ctx, &rv, opened, reveals, err) ||
               px_agg_unmask(&ap, rv.roster, bitmap, blen, masked, ctx->ninputs, reveals, rv.count, sum, err)) {
        fail(out, PX_STATUS_BAD_INPUT);
    } else if (move_model(&c, &m, sum, nsurv, rho, delta, &change, out, err) ||
               px_fl_model_write(&out->output, m.w, m.dim, m.round + 1, m.seed + 1, err) ||
               report(out, m.round + 1, rv.n, nsurv, change, err)) {
        fail(out, PX_STATUS_INTERNAL);
    } else {
        rc = 0;
    }
    for (uint32_t i = 0; opened && i < rv.count; i++)
        px_buf_free(&opened[i]);
    free(opened);
    free(bitmap);
    free(masked);
    free(reveals);
    free(who);
    if (sum)
        px_memzero(sum, sizeof *sum * c.dim); /* the exact sum is what the noise hides */
    free(sum);
    px_fl_model_free(&m);
    return rc;
}

const px_stage_kind px_agg_fl_agg_kind = {
    .kind = "fl-agg",
    .needs_code = 1,
    .check = fl_agg_check,
    .run = fl_agg_run,
};
