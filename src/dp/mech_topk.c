/* Report-noisy-max and top-k by peeling: k rounds, each adding fresh
 * discrete Laplace noise of scale 2Δ∞·k/ε to every remaining count and
 * reporting the index of the largest (ties to the lowest index). One round
 * is (ε/k)-DP (Dwork, Roth 2014, Claim 3.9, with the 2Δ∞ shift of a general
 * query; the threshold argument holds on the integers with a fixed
 * tie-break); k rounds compose to ε. Only indices are released. */
#include <stdlib.h>

#include "dp_int.h"

int px_dp_mech_topk(const px_dp_config *c, const px_dp_vec *in, size_t n,
                    px_dp_rng *rng, px_dp_result *res, px_err *err) {
    int rc = -1;
    px_i128 *acc = calloc(c->dim, sizeof *acc);
    px_dp_gbounds *gb = calloc(c->dim, sizeof *gb);
    uint8_t *taken = calloc(c->dim, 1);
    uint64_t l1 = 1, l2sq = 1, linf = 1;
    px_dp_q eps;
    px_dp_spend part;
    if (!acc || !gb || !taken) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    for (uint32_t j = 0; j < c->dim; j++)
        if (px_dp_grid_bounds(c->lower[j], c->upper[j], c->grid, &gb[j],
                              err) != 0)
            goto out;
    res->enforced.inputs = n;
    for (size_t i = 0; i < n; i++)
        px_dp_accumulate_counts(c, gb, &in[i], acc, &res->enforced);
    if (px_dp_count_sensitivity(c, gb, &l1, &l2sq, &linf, err) != 0)
        goto out;
    if (linf > UINT64_MAX / 2) {
        px_fail(err, PX_E_LIMIT, "sensitivity too large");
        goto out;
    }
    if (px_dp_q_div_int(&eps, c->epsilon, c->k, err) != 0 ||
        px_dp_noise_calibrate(&res->noise, PX_DP_NOISE_LAPLACE, 2 * linf, 1,
                              eps, px_dp_q_make(0, 1), &part, err) != 0)
        goto out;
    res->values = calloc(c->k, sizeof *res->values);
    if (!res->values) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    res->n = c->k;
    for (uint32_t round = 0; round < c->k; round++) {
        int64_t best = 0;
        uint32_t arg = UINT32_MAX;
        for (uint32_t j = 0; j < c->dim; j++) {
            if (taken[j])
                continue;
            int sat = 0;
            int64_t z, v = px_dp_sat_i128(acc[j], &sat);
            res->enforced.saturated += (uint64_t)(sat && round == 0);
            if (px_dp_noise_add(&res->noise, rng, v, &z, err) != 0)
                goto out;
            if (arg == UINT32_MAX || z > best) {
                best = z;
                arg = j;
            }
        }
        if (arg == UINT32_MAX) { /* k > dim: the config check forbids it */
            px_fail(err, PX_E_INTERNAL, "top-k asked for more indices than categories");
            goto out;
        }
        taken[arg] = 1;
        res->values[round] = (double)arg;
    }
    rc = 0;
out:
    free(acc);
    free(gb);
    free(taken);
    return rc;
}
