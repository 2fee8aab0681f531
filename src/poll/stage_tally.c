/* The tally as a trust-λ stage kind (poll-tally): built-in code in the
 * worker, attested with the survey as its params. Its inputs are releases
 * signed by the survey's issuer (its count at close, itself signed) and
 * ballot boxes (the sealed ballots they received, with the time each
 * arrived). It opens each ballot with the instance's own key, counts each
 * token once, and releases only the DP tables and the spent tokens,
 * sealed to the conductor. Its proof's "report" states what anyone may
 * check: issued, received, accepted, refused by reason, the spent list's
 * digest, ε. */
#include <string.h>

#include <openssl/evp.h>

#include "pixiu/dp.h"
#include "poll/pjson.h"

typedef struct boxed_all {
    px_poll_boxed *b;
    uint8_t (*digest)[32];
    size_t n, cap;
} boxed_all;

static int survey_of(const json_t *params, px_poll_survey *s, px_err *err) {
    static const char *const keys[] = {"survey", NULL};
    px_buf env = PX_BUF_INIT;
    int rc = px_pj_only(params, "params", keys, err) || px_json_b64(params, "survey", &env, err) ||
             px_poll_survey_parse(s, env.data, env.len, err);
    px_buf_free(&env);
    return rc ? -1 : 0;
}

static int tally_check(const json_t *params, px_err *err) {
    px_poll_survey s;
    if (survey_of(params, &s, err))
        return px_err_prefix(err, PX_POLL_TALLY_KIND ": ");
    px_poll_survey_free(&s);
    return 0;
}

int px_poll_preload(px_err *err) {
    uint8_t h[48];
    unsigned n = 0;
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA384", NULL);
    int ok = md && EVP_Digest("", 0, h, &n, md, NULL) == 1;
    EVP_MD_free(md);
    return ok ? 0 : px_fail(err, PX_E_INTERNAL, "OpenSSL's SHA-384 is not available");
}

static int add_batch(boxed_all *all, const px_stage_input *in, px_err *err) {
    px_poll_boxed *b;
    size_t n;
    if (px_poll_box_parse(in->data, in->len, &b, &n, err))
        return -1;
    if (all->n + n > PX_POLL_MAX_BALLOTS) {
        free(b);
        return px_fail(err, PX_E_LIMIT, "more than %u ballots", PX_POLL_MAX_BALLOTS);
    }
    if (all->n + n > all->cap) {
        size_t cap = all->n + n + 1024;
        px_poll_boxed *nb = realloc(all->b, cap * sizeof *nb);
        if (nb)
            all->b = nb;
        uint8_t(*nd)[32] = nb ? realloc(all->digest, cap * sizeof *nd) : NULL;
        if (!nb || !nd) {
            free(b);
            return px_fail(err, PX_E_NOMEM, "out of memory");
        }
        all->digest = nd;
        all->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        all->b[all->n + i] = b[i];
        px_sha256(all->digest[all->n + i], b[i].sealed, b[i].len);
    }
    all->n += n;
    free(b);
    return 0;
}

/* Ballots in the order they were received, ties by their digest: the
 * first ballot accepted with a token spends it, the same for everyone. */
static int by_arrival(const void *a, const void *b, void *ctx) {
    const boxed_all *all = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (all->b[i].received != all->b[j].received)
        return all->b[i].received < all->b[j].received ? -1 : 1;
    return memcmp(all->digest[i], all->digest[j], 32);
}

static int read_inputs(const px_stage_ctx *ctx, const px_poll_survey *s, px_poll_issued *iss, boxed_all *all,
                       size_t *nboxes, px_err *err) {
    int have_issuer = 0;
    *nboxes = 0;
    for (size_t i = 0; i < ctx->ninputs; i++) {
        const px_stage_input *in = &ctx->inputs[i];
        if (!in->from_release)
            return px_fail(err, PX_E_INVALID, "input %zu is not a release by the issuer or a ballot box", i);
        if (in->len >= 4 && !memcmp(in->data, PX_POLL_ISSUER_MAGIC, 4)) {
            if (have_issuer++)
                return px_fail(err, PX_E_INVALID, "two issuer counts");
            if (px_poll_issued_verify(iss, in->data + 4, in->len - 4, &s->issuer.key, err))
                return px_err_prefix(err, "input %zu: ", i);
            if (!px_ct_equal(iss->poll, s->id, 32))
                return px_fail(err, PX_E_INVALID, "input %zu: the issuer's count is for another poll", i);
        } else if (add_batch(all, in, err))
            return px_err_prefix(err, "input %zu: ", i);
        else
            (*nboxes)++;
    }
    if (!have_issuer)
        return px_fail(err, PX_E_INVALID, "no count from the issuer %s among the inputs", s->issuer.id);
    return 0;
}

static void set_dp(px_stage_out *out, const px_poll_survey *s) {
    px_dp_q e;
    out->has_dp = 1;
    snprintf(out->dp.mechanism, sizeof out->dp.mechanism, "laplace");
    snprintf(out->dp.epsilon, sizeof out->dp.epsilon, "%.39s", s->epsilon);
    snprintf(out->dp.delta, sizeof out->dp.delta, "0");
    /* pure ε-DP is (ε²/2)-zCDP; ε has at most 6 decimals, so this fits */
    if (px_dp_q_parse(&e, s->epsilon, strlen(s->epsilon), NULL) == 0) {
        char r[PX_DP_DEC_STR_MAX];
        px_dp_q_format(px_dp_q_make(e.num * e.num, 2 * e.den * e.den), r);
        snprintf(out->dp.rho, sizeof out->dp.rho, "%.39s", r);
    }
}

static int offer_all(px_poll_tally *t, boxed_all *all, px_err *err) {
    size_t *order = malloc((all->n ? all->n : 1) * sizeof *order);
    if (!order)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < all->n; i++)
        order[i] = i;
    qsort_r(order, all->n, sizeof *order, by_arrival, all);
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < all->n; k++) {
        const px_poll_boxed *b = &all->b[order[k]];
        px_poll_reason r;
        rc = px_poll_tally_offer(t, b->sealed, b->len, b->received, &r, err);
    }
    free(order);
    return rc;
}

static int report_issuer(json_t *report, const px_poll_issued *iss, size_t nboxes, px_err *err) {
    return px_pj_set(report, "issuer",
                     json_pack("{s:I,s:{s:I,s:I,s:I}}", "issued", (json_int_t)iss->issued, "refused", "not-eligible",
                               (json_int_t)iss->not_eligible, "again", (json_int_t)iss->again, "invalid",
                               (json_int_t)iss->invalid),
                     err) ||
                   px_pj_set(report, "boxes", json_integer((json_int_t)nboxes), err)
               ? -1
               : 0;
}

static int tally_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    px_poll_survey s;
    px_poll_issued iss;
    boxed_all all = {0};
    px_poll_tally *t = NULL;
    px_dp_rng *rng = NULL;
    json_t *report = NULL;
    size_t nboxes = 0;
    int rc = -1;
    out->status = PX_STATUS_BAD_INPUT;
    if (survey_of(ctx->params, &s, err))
        return -1;
    int64_t now = px_now_ms();
    if (!px_ct_equal(s.id, ctx->config->manifest, 32))
        px_fail(err, PX_E_VERIFY, "the survey in params is not the poll the config names");
    else if (now < s.closes)
        px_fail(err, PX_E_DENIED, "the poll closes at %lld, not yet (now %lld)", (long long)s.closes,
                (long long)now);
    else if (!ctx->box)
        px_fail(err, PX_E_INTERNAL, "no instance key to open ballots with");
    else if (read_inputs(ctx, &s, &iss, &all, &nboxes, err) == 0) {
        out->status = PX_STATUS_INTERNAL;
        if (px_poll_tally_new(&t, &s, ctx->box, err) || offer_all(t, &all, err))
            goto out;
        uint64_t counts[PX_POLL_NREASONS], received;
        px_poll_tally_counts(t, counts, &received);
        if (counts[PX_POLL_ACCEPTED] > iss.issued) {
            out->status = PX_STATUS_BAD_INPUT;
            px_fail(err, PX_E_VERIFY, "%llu ballots carry valid tokens, the issuer says it issued %llu: nothing "
                    "released", (unsigned long long)counts[PX_POLL_ACCEPTED], (unsigned long long)iss.issued);
            goto out;
        }
        if (!(rng = malloc(sizeof *rng))) {
            px_fail(err, PX_E_NOMEM, "out of memory");
            goto out;
        }
        px_dp_rng_init(rng);
        if (px_poll_tally_release(t, rng, iss.issued, &out->output, &report, err) ||
            report_issuer(report, &iss, nboxes, err))
            goto out;
        set_dp(out, &s);
        out->report = report;
        report = NULL;
        rc = 0;
    }
out:
    if (rng) {
        px_dp_rng_wipe(rng);
        free(rng);
    }
    json_decref(report);
    px_poll_tally_free(t);
    free(all.b);
    free(all.digest);
    px_poll_survey_free(&s);
    return rc;
}

const px_stage_kind px_stage_poll_tally = {
    .kind = PX_POLL_TALLY_KIND,
    .needs_code = 0,
    .check = tally_check,
    .run = tally_run,
    .prepare = px_poll_preload,
};
