/* The `fl-user` stage (docs/fl.md): a trust-λ at a POD that trains the
 * consumer's model on the POD's own data for one round.
 *
 * The consumer seals to it, with the training module, the round's
 * broadcast: the model and the roster (the attested box keys of every user
 * λ of the round, this one's index among them). The module runs in the
 * sandbox on the model followed by the POD's records and writes an update;
 * the λ checks the update is within the clip bound (it sends nothing that
 * is not: a consumer's code cannot widen the DP bound) and masks it
 * pairwise with its neighbours, so its output, sealed to the aggregator,
 * says nothing on its own. It then serves two requests (no I/O of its own):
 * its Shamir shares, each sealed to a neighbour, and once only, for the
 * survivor set the aggregator will unmask, its reveal, sealed to the
 * aggregator. */
#include <string.h>

#include "agg/fl_int.h"
#include "pixiu/lambda.h"
#include "pixiu/sandbox.h"

typedef struct user_state {
    px_agg_user *u;
    px_buf shares;
    uint8_t agg_pk[PX_BOX_PUBLICKEYBYTES];
} user_state;

static void user_state_free(void *p) {
    user_state *s = p;
    if (!s)
        return;
    px_agg_user_free(s->u);
    px_buf_free(&s->shares);
    free(s);
}

static int fl_user_check(const json_t *params, px_err *err) {
    px_agg_fl_config c;
    return px_agg_fl_config_parse(&c, params, 0, err);
}

static int fail(px_stage_out *out, const char *status) {
    out->status = status;
    return -1;
}

/* The training module over the model and the records: its update, as
 * floats of the model's dimension. */
static int train(const px_stage_ctx *ctx, const px_fl_broadcast *b, uint32_t dim, float *x, px_stage_out *out,
                 px_err *err) {
    px_sandbox sb;
    if (ctx->sandbox)
        sb = *ctx->sandbox;
    else if (px_sandbox_init(&sb, NULL, err))
        return fail(out, PX_STATUS_INTERNAL);
    px_sandbox_limits lim;
    px_limits_sandbox(&ctx->config->limits, &lim);
    lim.max_output = PX_FL_UPDATE_HEADER + 4 * (size_t)dim; /* one update, nothing else */
    px_buf in = PX_BUF_INIT, upd = PX_BUF_INIT;
    px_sandbox_result res;
    int rc = -1;
    if (px_buf_append(&in, b->model, b->model_len, err) ||
        px_buf_append(&in, ctx->inputs[0].data, ctx->inputs[0].len, err))
        fail(out, PX_STATUS_INTERNAL);
    else if (px_sandbox_run(&sb, ctx->code, ctx->code_len, in.data, in.len, &lim, &upd, NULL, &res, err))
        fail(out, px_sandbox_proof_status(res.status)), px_fail(err, PX_E_INVALID, "%s", res.reason);
    else if (px_fl_update_parse(x, dim, upd.data, upd.len, err))
        fail(out, PX_STATUS_BAD_INPUT), px_err_prefix(err, "the training code's output: ");
    else
        rc = 0;
    px_buf_free(&in);
    px_buf_free(&upd);
    return rc;
}

static int fl_user_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    px_agg_fl_config c;
    px_fl_broadcast b;
    px_fl_model m = {0};
    if (px_agg_fl_config_parse(&c, ctx->params, 0, err))
        return fail(out, PX_STATUS_INTERNAL); /* checked at birth */
    if (ctx->ninputs != 1)
        return px_fail(err, PX_E_INVALID, "fl-user takes exactly one input (the POD's records), not %zu",
                       ctx->ninputs),
               fail(out, PX_STATUS_BAD_INPUT);
    if (!ctx->content || !ctx->box || ctx->config->nsuccessors != 1)
        return px_fail(err, PX_E_INVALID, "fl-user needs the round's broadcast sealed with its code and one "
                       "successor (the aggregator)"),
               fail(out, PX_STATUS_BAD_INPUT);
    if (px_fl_broadcast_parse(&b, ctx->content, ctx->content_len, err) ||
        px_fl_model_parse(&m, b.model, b.model_len, err))
        return fail(out, PX_STATUS_BAD_INPUT);
    int rc = -1;
    float *x = NULL;
    uint32_t *q = NULL;
    user_state *st = NULL;
    px_agg_params ap = {.n = b.n, .k = c.neighbors, .t = c.threshold, .dim = c.dim, .round = b.round,
                        .min_survivors = c.threshold, .clip = c.clip_q};
    memcpy(ap.manifest, ctx->config->manifest, sizeof ap.manifest);
    if (m.dim != c.dim || m.round + 1 != b.round) {
        if (m.dim != c.dim)
            px_fail(err, PX_E_INVALID, "the broadcast model has %u weights, params.dim is %u", m.dim, c.dim);
        else
            px_fail(err, PX_E_INVALID, "round %u's broadcast carries a model of round %u", b.round, m.round);
        fail(out, PX_STATUS_BAD_INPUT);
    } else if (!px_ct_equal(b.roster + 32 * (size_t)b.index, ctx->box->pk, 32)) {
        px_fail(err, PX_E_VERIFY, "roster key %u is not this instance's attested key", b.index);
        fail(out, PX_STATUS_BAD_INPUT);
    } else if (!(x = malloc(sizeof *x * c.dim)) || !(q = malloc(sizeof *q * c.dim)) ||
               !(st = calloc(1, sizeof *st))) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        fail(out, PX_STATUS_INTERNAL);
    } else if (train(ctx, &b, c.dim, x, out, err) == 0) {
        /* Clip check before masking: an update the DP bound does not
         * cover is never sent, whatever the training code did. */
        if (px_agg_quantise(x, c.dim, c.scale, q, err) || px_agg_clip_check(q, c.dim, c.clip_q, err)) {
            px_err_prefix(err, "update not sent: ");
            fail(out, PX_STATUS_CLAMPED);
        } else if (!(st->u = px_agg_user_new(&ap, b.roster, b.index, ctx->box->sk, err)) ||
                   px_agg_user_mask(st->u, q, &out->output, &st->shares, err)) {
            fail(out, PX_STATUS_BAD_INPUT);
        } else {
            memcpy(st->agg_pk, ctx->config->successors[0], sizeof st->agg_pk);
            out->state = st;
            st = NULL;
            rc = 0;
        }
    }
    user_state_free(st);
    free(x);
    free(q);
    px_fl_model_free(&m);
    return rc;
}

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* "PXFQ" op 2: u32 bitmap length, bitmap, u32 count, count x {u32 len,
 * SHARES}: the survivor set and the SHARES of this user's neighbours. */
static int reveal(user_state *s, const uint8_t *req, size_t len, px_buf *resp, px_err *err) {
    if (len < 9 || len - 9 < rd32(req + 5))
        return px_fail(err, PX_E_INVALID, "reveal request: truncated survivor set");
    uint32_t blen = rd32(req + 5);
    const uint8_t *bitmap = req + 9;
    size_t off = 9 + (size_t)blen;
    if (len - off < 4)
        return px_fail(err, PX_E_INVALID, "reveal request: truncated");
    uint32_t count = rd32(req + off);
    off += 4;
    if (count > PX_AGG_K_MAX)
        return px_fail(err, PX_E_INVALID, "reveal request: %u SHARES for at most %u neighbours", count, PX_AGG_K_MAX);
    px_agg_msg msgs[PX_AGG_K_MAX];
    for (uint32_t i = 0; i < count; i++) {
        if (len - off < 4 || len - off - 4 < rd32(req + off))
            return px_fail(err, PX_E_INVALID, "reveal request: SHARES %u truncated", i);
        msgs[i].len = rd32(req + off);
        msgs[i].data = req + off + 4;
        off += 4 + msgs[i].len;
    }
    if (off != len)
        return px_fail(err, PX_E_INVALID, "reveal request: %zu bytes after the last SHARES", len - off);
    px_buf r = PX_BUF_INIT;
    int rc = px_agg_user_reveal(s->u, bitmap, blen, msgs, count, &r, err) ||
             px_seal(resp, r.data, r.len, s->agg_pk, err);
    px_buf_free(&r);
    return rc;
}

static int fl_user_serve(void *state, const uint8_t commit[PX_SHA256_BYTES], const uint8_t *req, size_t len,
                         px_buf *resp, px_err *err) {
    (void)commit;
    user_state *s = state;
    if (len < 5 || memcmp(req, PX_FL_REQUEST_MAGIC, 4))
        return px_fail(err, PX_E_INVALID, "request: not a PXFQ request");
    if (req[4] == PX_FL_OP_SHARES && len == 5)
        return px_buf_append(resp, s->shares.data, s->shares.len, err);
    if (req[4] == PX_FL_OP_REVEAL)
        return reveal(s, req, len, resp, err);
    return px_fail(err, PX_E_INVALID, "request: unknown operation %u", req[4]);
}

const px_stage_kind px_agg_fl_user_kind = {
    .kind = "fl-user",
    .needs_code = 1,
    .check = fl_user_check,
    .run = fl_user_run,
    .serve = fl_user_serve,
    .state_free = user_state_free,
};
