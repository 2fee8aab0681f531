/* The DP stage configuration, as the manifest states it (JSON):
 *
 *   {"mechanism": "sum", "mode": "per-user", "noise": "laplace",
 *    "epsilon": "0.5", "delta": "0", "dim": 2,
 *    "lower": [0, 0], "upper": [100, 1], "grid": -14}
 *
 * Strict: every member is known, typed and consistent, or the config is
 * refused with the member named. Defaults and rules are in docs/dp.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dp_int.h"

#define PX_DP_CONFIG_MAX_BYTES (1u << 20)
#define PX_DP_EPS_MAX_NUM 1000 /* ε above 1000 protects nothing */

static const char *const px_dp_mech_names[] = {
    NULL, "count", "sum", "mean", "histogram", "keys", "top-k"};

const char *px_dp_mechanism_name(px_dp_mechanism m) {
    return m >= PX_DP_MECH_COUNT && m <= PX_DP_MECH_TOPK ? px_dp_mech_names[m]
                                                         : "unknown";
}

static int px_dp_opt_str(const json_t *o, const char *key, const char *def,
                         const char **out, px_err *err) {
    if (!json_object_get(o, key)) {
        *out = def;
        return 0;
    }
    return px_json_str(o, key, out, err);
}

static int px_dp_opt_u32(const json_t *o, const char *key, uint32_t def,
                         uint32_t min, uint32_t max, uint32_t *out,
                         px_err *err) {
    int64_t v = def;
    if (json_object_get(o, key) && px_json_int(o, key, &v, err) != 0)
        return -1;
    if (v < min || v > max)
        return px_fail(err, PX_E_INVALID, "%s must be in [%u, %u]", key, min,
                       max);
    *out = (uint32_t)v;
    return 0;
}

static int px_dp_opt_q(const json_t *o, const char *key, const char *def,
                       px_dp_q *out, px_err *err) {
    const char *s;
    if (px_dp_opt_str(o, key, def, &s, err) != 0)
        return -1;
    if (!s)
        return px_fail(err, PX_E_INVALID, "missing member '%s'", key);
    if (px_dp_q_parse(out, s, strlen(s), err) != 0)
        return px_err_prefix(err, "%s: ", key);
    return 0;
}

/* "lower"/"upper": one number for every coordinate, or an array of dim. */
static int px_dp_bounds(const json_t *o, const char *key, double def,
                        uint32_t dim, double **out, px_err *err) {
    const json_t *v = json_object_get(o, key);
    if (json_is_array(v) && json_array_size(v) != dim)
        return px_fail(err, PX_E_INVALID, "%s has %zu values, dim is %u", key,
                       json_array_size(v), dim);
    double *b = calloc(dim ? dim : 1, sizeof *b);
    if (!b)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (uint32_t j = 0; j < dim; j++) {
        const json_t *x = json_is_array(v) ? json_array_get(v, j) : v;
        if (!v) {
            if (isnan(def)) {
                free(b);
                return px_fail(err, PX_E_INVALID, "missing member '%s'", key);
            }
            b[j] = def;
        } else if (json_is_number(x)) {
            b[j] = json_number_value(x);
        } else {
            free(b);
            return px_fail(err, PX_E_INVALID, "%s must be a number or an "
                           "array of %u numbers", key, dim);
        }
    }
    *out = b;
    return 0;
}

static const char *const dp_keys[] = {"mechanism", "mode", "noise", "epsilon", "delta", "rho", "dim", "lower",
                                      "upper", "grid", "max_contributions", "blocks", "k", NULL};

static int px_dp_enum(const char *s, const char *const *names, int n,
                      const char *what, int *out, px_err *err) {
    for (int i = 1; i < n; i++) {
        if (names[i] && strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return px_fail(err, PX_E_INVALID, "unknown %s '%.40s'", what, s);
}

/* The grid: explicit, or 2^20 steps across the widest bound for sums and
 * means, unit steps for counts. */
static int px_dp_pick_grid(const json_t *o, px_dp_config *c, px_err *err) {
    if (json_object_get(o, "grid")) {
        int64_t g;
        if (px_json_int(o, "grid", &g, err) != 0)
            return -1;
        if (g < PX_DP_GRID_MIN || g > PX_DP_GRID_MAX)
            return px_fail(err, PX_E_INVALID, "grid must be in [%d, %d]",
                           PX_DP_GRID_MIN, PX_DP_GRID_MAX);
        c->grid = (int)g;
        return 0;
    }
    c->grid = 0;
    if (c->mechanism != PX_DP_MECH_SUM && c->mechanism != PX_DP_MECH_MEAN)
        return 0;
    double m = 0;
    for (uint32_t j = 0; j < c->dim; j++) {
        m = fmax(m, fabs(c->lower[j]));
        m = fmax(m, fabs(c->upper[j]));
    }
    if (m > 0 && isfinite(m)) {
        int e;
        frexp(m, &e); /* m in [2^(e-1), 2^e) */
        int g = e - PX_DP_AUTO_GRID_BITS;
        c->grid = g < PX_DP_GRID_MIN ? PX_DP_GRID_MIN
                  : g > PX_DP_GRID_MAX ? PX_DP_GRID_MAX : g;
    }
    return 0;
}

static int px_dp_config_rules(px_dp_config *c, px_err *err) {
    px_dp_q one = {1, 1}, emax = {PX_DP_EPS_MAX_NUM, 1};
    if (px_dp_q_cmp(c->delta, one) >= 0)
        return px_fail(err, PX_E_INVALID, "delta must be below 1");
    if (px_dp_q_cmp(c->epsilon, emax) > 0)
        return px_fail(err, PX_E_INVALID, "epsilon above %d",
                       PX_DP_EPS_MAX_NUM);
    if (c->rho.num && c->noise != PX_DP_NOISE_GAUSSIAN)
        return px_fail(err, PX_E_INVALID, "rho needs gaussian noise");
    if (c->rho.num && c->epsilon.num)
        return px_fail(err, PX_E_INVALID, "give epsilon or rho, not both");
    if (c->noise == PX_DP_NOISE_GAUSSIAN && c->delta.num == 0)
        return px_fail(err, PX_E_INVALID, "gaussian noise needs delta > 0");
    if (c->epsilon.num == 0 && c->rho.num == 0)
        return px_fail(err, PX_E_INVALID, "epsilon must be positive");
    if (c->mode == PX_DP_SAMPLE_AGG && c->mechanism != PX_DP_MECH_MEAN)
        return px_fail(err, PX_E_INVALID,
                       "sample-and-aggregate releases a mean");
    if (c->mode == PX_DP_SAMPLE_AGG && c->blocks < PX_DP_BLOCKS_MIN)
        return px_fail(err, PX_E_INVALID, "blocks must be at least %d",
                       PX_DP_BLOCKS_MIN);
    if (c->mechanism == PX_DP_MECH_KEYS &&
        (c->noise != PX_DP_NOISE_LAPLACE || c->delta.num == 0))
        return px_fail(err, PX_E_INVALID,
                       "keys need laplace noise and delta > 0");
    if (c->mechanism == PX_DP_MECH_TOPK &&
        (c->noise != PX_DP_NOISE_LAPLACE || c->k < 1 || c->k > c->dim))
        return px_fail(err, PX_E_INVALID,
                       "top-k needs laplace noise and 1 <= k <= dim");
    if (c->max_contrib < 1 || c->max_contrib > c->dim)
        return px_fail(err, PX_E_INVALID,
                       "max_contributions must be in [1, dim]");
    int counts = c->mechanism == PX_DP_MECH_HISTOGRAM ||
                 c->mechanism == PX_DP_MECH_TOPK;
    for (uint32_t j = 0; j < c->dim && c->mechanism != PX_DP_MECH_KEYS; j++) {
        px_dp_gbounds gb;
        if (counts && c->lower[j] != 0)
            return px_fail(err, PX_E_INVALID, "histogram lower bounds are 0");
        if (px_dp_grid_bounds(c->lower[j], c->upper[j], c->grid, &gb, err))
            return px_err_prefix(err, "value %u: ", j);
    }
    return 0;
}

int px_dp_config_parse(px_dp_config *c, const void *data, size_t len,
                       px_err *err) {
    static const char *const modes[] = {NULL, "per-user",
                                        "sample-and-aggregate"};
    static const char *const noises[] = {NULL, "laplace", "gaussian"};
    memset(c, 0, sizeof *c);
    json_t *o = px_json_parse(data, len, PX_DP_CONFIG_MAX_BYTES, err);
    if (!o)
        return px_err_prefix(err, "dp config: ");
    const char *mech, *mode, *noise;
    int m = 0, md = 0, nz = 0;
    int count, keys;
    if (!json_is_object(o)) {
        px_fail(err, PX_E_INVALID, "not a JSON object");
        goto fail;
    }
    if (px_json_only(o, NULL, dp_keys, err) != 0 ||
        px_json_str(o, "mechanism", &mech, err) != 0 ||
        px_dp_enum(mech, px_dp_mech_names, 7, "mechanism", &m, err) != 0 ||
        px_dp_opt_str(o, "mode", "per-user", &mode, err) != 0 ||
        px_dp_enum(mode, modes, 3, "mode", &md, err) != 0 ||
        px_dp_opt_str(o, "noise", "laplace", &noise, err) != 0 ||
        px_dp_enum(noise, noises, 3, "noise", &nz, err) != 0)
        goto fail;
    c->mechanism = (px_dp_mechanism)m;
    c->mode = (px_dp_mode)md;
    c->noise = (px_dp_noise_kind)nz;
    count = c->mechanism == PX_DP_MECH_COUNT;
    keys = c->mechanism == PX_DP_MECH_KEYS;
    if (px_dp_opt_q(o, "epsilon", json_object_get(o, "rho") ? "0" : NULL,
                    &c->epsilon, err) != 0 ||
        px_dp_opt_q(o, "delta", "0", &c->delta, err) != 0 ||
        px_dp_opt_q(o, "rho", "0", &c->rho, err) != 0 ||
        px_dp_opt_u32(o, "dim", 1, 1, PX_DP_MAX_DIM, &c->dim, err) != 0 ||
        (!count && !json_object_get(o, "dim") &&
         px_fail(err, PX_E_INVALID, "missing member 'dim'")) ||
        (count && c->dim != 1 &&
         px_fail(err, PX_E_INVALID, "count has dim 1")) ||
        px_dp_opt_u32(o, "max_contributions", c->dim, 1, PX_DP_MAX_DIM,
                      &c->max_contrib, err) != 0 ||
        px_dp_opt_u32(o, "blocks", 0, 0, PX_DP_MAX_INPUTS, &c->blocks,
                      err) != 0 ||
        px_dp_opt_u32(o, "k", 1, 1, PX_DP_MAX_DIM, &c->k, err) != 0)
        goto fail;
    if (count && (json_object_get(o, "lower") || json_object_get(o, "upper"))) {
        px_fail(err, PX_E_INVALID, "count has fixed bounds [0, 1]");
        goto fail;
    }
    int dflt = count || c->mechanism == PX_DP_MECH_HISTOGRAM ||
               c->mechanism == PX_DP_MECH_TOPK || keys;
    if (px_dp_bounds(o, "lower", dflt ? 0 : NAN, c->dim, &c->lower, err) ||
        px_dp_bounds(o, "upper", dflt ? 1 : NAN, c->dim, &c->upper, err) ||
        px_dp_pick_grid(o, c, err) != 0 || px_dp_config_rules(c, err) != 0)
        goto fail;
    json_decref(o);
    return 0;
fail:
    json_decref(o);
    px_dp_config_free(c);
    return px_err_prefix(err, "dp config: ");
}

void px_dp_config_free(px_dp_config *c) {
    free(c->lower);
    free(c->upper);
    c->lower = c->upper = NULL;
}
