/* One release: budget split, calibration and dispatch to the mechanism
 * family; and the keyed block assignment of sample-and-aggregate. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dp_int.h"

/* The configured budget as ε (Laplace) or ρ (Gaussian), in equal parts. */
int px_dp_split_budget(const px_dp_config *c, uint32_t parts, px_dp_q *eps,
                       px_dp_q *delta, px_dp_q *rho, px_err *err) {
    *delta = c->delta;
    *eps = px_dp_q_make(0, 1);
    *rho = px_dp_q_make(0, 1);
    if (c->noise == PX_DP_NOISE_LAPLACE)
        return px_dp_q_div_int(eps, c->epsilon, parts, err);
    px_dp_q total = c->rho;
    if (total.num == 0 &&
        px_dp_eps_to_zcdp(c->epsilon, c->delta, &total, err) != 0)
        return -1;
    return px_dp_q_div_int(rho, total, parts, err);
}

int px_dp_calibrate(const px_dp_config *c, px_dp_q eps, px_dp_q delta,
                    px_dp_q rho, uint64_t l1, uint64_t l2sq, px_dp_noise *nz,
                    px_dp_spend *spend, px_err *err) {
    if (c->noise == PX_DP_NOISE_LAPLACE)
        return px_dp_noise_calibrate(nz, PX_DP_NOISE_LAPLACE, l1, l2sq, eps,
                                     delta, spend, err);
    return px_dp_noise_calibrate_rho(nz, l2sq, rho, delta, spend, err);
}

/* What the whole release spends: the configured budget, since the parts
 * are exact fractions of it and any rounding only added noise. */
int px_dp_config_spend(const px_dp_config *c, px_dp_spend *s, px_err *err) {
    px_dp_q eps, delta, rho;
    px_dp_noise nz;
    if (px_dp_split_budget(c, 1, &eps, &delta, &rho, err) != 0)
        return -1;
    if (c->mechanism == PX_DP_MECH_KEYS) {
        s->kind = PX_DP_APPROX;
        s->epsilon = c->epsilon;
        s->delta = c->delta;
        s->rho = px_dp_q_make(0, 1);
        return 0;
    }
    return px_dp_calibrate(c, eps, delta, rho, 1, 1, &nz, s, err);
}

int px_dp_release(const px_dp_config *c, const px_dp_vec *in, size_t n,
                  px_dp_rng *rng, px_dp_result *res, px_err *err) {
    memset(res, 0, sizeof *res);
    if (n > PX_DP_MAX_INPUTS)
        return px_fail(err, PX_E_LIMIT, "more than %u input vectors",
                       PX_DP_MAX_INPUTS);
    int rc;
    switch (c->mechanism) {
    case PX_DP_MECH_COUNT:
    case PX_DP_MECH_SUM:
    case PX_DP_MECH_MEAN:
        rc = px_dp_mech_sum(c, in, n, rng, res, err);
        break;
    case PX_DP_MECH_HISTOGRAM:
        rc = px_dp_mech_histogram(c, in, n, rng, res, err);
        break;
    case PX_DP_MECH_KEYS:
        rc = px_dp_mech_keys(c, in, n, rng, res, err);
        break;
    case PX_DP_MECH_TOPK:
        rc = px_dp_mech_topk(c, in, n, rng, res, err);
        break;
    default:
        rc = px_fail(err, PX_E_INVALID, "unknown mechanism");
    }
    if (rc == 0)
        rc = px_dp_config_spend(c, &res->spend, err);
    if (rc != 0)
        px_dp_result_free(res);
    return rc;
}

void px_dp_result_free(px_dp_result *res) {
    free(res->values);
    res->values = NULL;
    res->n = 0;
}

int px_dp_block_of(const uint8_t key[PX_DP_BLOCK_KEYBYTES], const void *user,
                   size_t len, uint32_t nblocks, uint32_t *block,
                   px_err *err) {
    uint8_t h[16];
    if (nblocks == 0)
        return px_fail(err, PX_E_INVALID, "block count must be positive");
    if (crypto_generichash(h, sizeof h, user, len, key,
                           PX_DP_BLOCK_KEYBYTES) != 0)
        return px_fail(err, PX_E_INTERNAL, "BLAKE2b failed");
    /* Multiply-shift maps the 64-bit hash onto [0, nblocks); the bias is
     * below nblocks / 2^64, and privacy does not depend on it anyway: any
     * partition fixed per user keeps each user in one block. */
    *block = (uint32_t)(((px_u128)px_load_u64le(h) * nblocks) >> 64);
    return 0;
}
