/* Count, bounded sum and bounded mean, per user or by sample-and-aggregate.
 *
 * Per user (add/remove-one-user neighbours): each user's vector is clamped
 * coordinate by coordinate, so one user moves coordinate j of the sum by at
 * most max(|lo_j|, |hi_j|) grid steps. The mean releases a noisy centred
 * sum and a noisy count, each with half the budget, and divides them
 * (post-processing).
 *
 * Sample-and-aggregate: one user lives in exactly one block, so adding or
 * removing a user changes one block output, anywhere within [lo_j, hi_j]:
 * the sum over blocks moves by at most hi_j - lo_j, and the released average
 * divides the noise by the declared block count. */
#include <stdlib.h>

#include "dp_int.h"

static int64_t px_dp_floor_half(int64_t a, int64_t b) {
    px_i128 s = (px_i128)a + b;
    return (int64_t)(s >= 0 ? s / 2 : -((-s + 1) / 2));
}

static uint64_t px_dp_absdiff(int64_t a, int64_t b) {
    return a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

typedef struct px_dp_sum_ctx {
    const px_dp_config *c;
    px_dp_gbounds *gb;
    int64_t *center; /* subtracted from each value (mean) or 0 */
    px_i128 *acc;
    uint64_t used;
} px_dp_sum_ctx;

static void px_dp_add_vec(px_dp_sum_ctx *x, const px_dp_vec *v,
                          px_dp_enforced *e) {
    const px_dp_config *c = x->c;
    for (uint32_t j = 0; j < c->dim; j++) {
        int64_t k;
        px_dp_grid_value(v->v[j], c->lower[j], c->upper[j], c->grid,
                         &x->gb[j], &k, e);
        x->acc[j] += (px_i128)k - x->center[j];
    }
    x->used++;
}

/* Per-coordinate change one input can cause. */
static int px_dp_sum_sensitivity(const px_dp_sum_ctx *x, int replace,
                                 uint64_t *l1, uint64_t *l2sq, px_err *err) {
    px_u128 s1 = 0, s2 = 0;
    for (uint32_t j = 0; j < x->c->dim; j++) {
        const px_dp_gbounds *g = &x->gb[j];
        uint64_t m;
        if (replace) {
            m = px_dp_absdiff(g->hi, g->lo);
        } else {
            uint64_t a = px_dp_absdiff(g->lo, x->center[j]);
            uint64_t b = px_dp_absdiff(g->hi, x->center[j]);
            m = a > b ? a : b;
        }
        s1 += m;
        s2 += (px_u128)m * m;
    }
    if (s1 > UINT64_MAX || s2 > UINT64_MAX)
        return px_fail(err, PX_E_LIMIT, "sensitivity too large: use a "
                       "coarser grid or narrower bounds");
    *l1 = s1 ? (uint64_t)s1 : 1;
    *l2sq = s2 ? (uint64_t)s2 : 1;
    return 0;
}

static int px_dp_alloc_result(px_dp_result *res, uint32_t n, px_err *err) {
    res->values = calloc(n ? n : 1, sizeof *res->values);
    if (!res->values)
        return px_fail(err, PX_E_NOMEM, "out of memory for the result");
    res->n = n;
    return 0;
}

/* Noise each accumulated coordinate and store k * 2^grid / divisor + off. */
static int px_dp_noise_out(px_dp_sum_ctx *x, const px_dp_noise *nz,
                           px_dp_rng *rng, px_dp_result *res, int64_t *noisy,
                           px_err *err) {
    for (uint32_t j = 0; j < x->c->dim; j++) {
        int sat = 0;
        int64_t v = px_dp_sat_i128(x->acc[j], &sat);
        res->enforced.saturated += (uint64_t)sat;
        if (px_dp_noise_add(nz, rng, v, &noisy[j], err) != 0)
            return -1;
    }
    return 0;
}

int px_dp_mech_sum(const px_dp_config *c, const px_dp_vec *in, size_t n,
                   px_dp_rng *rng, px_dp_result *res, px_err *err) {
    int rc = -1, sa = c->mode == PX_DP_SAMPLE_AGG;
    int mean = c->mechanism == PX_DP_MECH_MEAN;
    px_dp_sum_ctx x = {c, calloc(c->dim, sizeof *x.gb),
                       calloc(c->dim, sizeof *x.center),
                       calloc(c->dim, sizeof *x.acc), 0};
    int64_t *noisy = calloc(c->dim, sizeof *noisy);
    if (!x.gb || !x.center || !x.acc || !noisy) {
        px_fail(err, PX_E_NOMEM, "out of memory for the sums");
        goto out;
    }
    if (sa && n != c->blocks) {
        px_fail(err, PX_E_INVALID, "expected %u block outputs, got %zu",
                c->blocks, n);
        goto out;
    }
    for (uint32_t j = 0; j < c->dim; j++) {
        if (px_dp_grid_bounds(c->lower[j], c->upper[j], c->grid, &x.gb[j],
                              err) != 0) {
            px_err_prefix(err, "value %u: ", j);
            goto out;
        }
        if (mean && !sa)
            x.center[j] = px_dp_floor_half(x.gb[j].lo, x.gb[j].hi);
    }
    res->enforced.inputs = n;
    for (size_t i = 0; i < n; i++) {
        if (px_dp_vec_usable(&in[i], c->dim, &res->enforced)) {
            px_dp_add_vec(&x, &in[i], &res->enforced);
        } else if (sa) {
            /* A failed block still counts: it yields the midpoint, chosen
             * without looking at any data. */
            res->enforced.blocks_missing++;
            for (uint32_t j = 0; j < c->dim; j++)
                x.acc[j] += px_dp_floor_half(x.gb[j].lo, x.gb[j].hi);
        }
    }
    res->enforced.used = x.used;

    uint32_t parts = mean && !sa ? 2 : 1;
    px_dp_q eps, delta, rho;
    uint64_t l1 = 1, l2sq = 1;
    px_dp_spend part;
    px_dp_noise nz;
    if (px_dp_split_budget(c, parts, &eps, &delta, &rho, err) != 0 ||
        px_dp_sum_sensitivity(&x, sa, &l1, &l2sq, err) != 0 ||
        px_dp_calibrate(c, eps, delta, rho, l1, l2sq, &nz, &part, err) != 0 ||
        px_dp_alloc_result(res, c->dim, err) != 0 ||
        px_dp_noise_out(&x, &nz, rng, res, noisy, err) != 0)
        goto out;
    res->noise = nz;

    if (sa) {
        for (uint32_t j = 0; j < c->dim; j++)
            res->values[j] = px_dp_grid_to_double(noisy[j], c->grid) / c->blocks;
    } else if (mean) {
        px_dp_noise cnz;
        int64_t cnt;
        if (px_dp_calibrate(c, eps, delta, rho, 1, 1, &cnz, &part, err) != 0 ||
            px_dp_noise_add(&cnz, rng, (int64_t)x.used, &cnt, err) != 0)
            goto out;
        double den = cnt < 1 ? 1.0 : (double)cnt;
        for (uint32_t j = 0; j < c->dim; j++)
            res->values[j] =
                px_dp_grid_to_double(x.center[j], c->grid) +
                px_dp_grid_to_double(noisy[j], c->grid) / den;
    } else {
        for (uint32_t j = 0; j < c->dim; j++)
            res->values[j] = px_dp_grid_to_double(noisy[j], c->grid);
    }
    rc = 0;
out:
    free(x.gb);
    free(x.center);
    free(x.acc);
    free(noisy);
    return rc;
}
