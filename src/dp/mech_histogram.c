/* Histograms: counts over categories declared in the config, and counts
 * over keys nobody declared in advance, released only above a threshold.
 *
 * Declared categories: each user's vector has one value per category,
 * clamped to [0, upper_j]; at most max_contributions nonzero coordinates
 * are kept (the first ones), so one user changes the counts by at most the
 * sum of the max_contributions largest upper bounds (L1) and their squares
 * (L2²).
 *
 * Undeclared keys: each user's vector lists keys (integers in ±2^53). The
 * first max_contributions distinct keys count 1 each. Laplace noise of
 * scale L0/ε covers keys both neighbours share; a key only one user has is
 * released only if 1 + noise reaches the threshold τ, and
 * P(Z >= τ - 1) <= exp(-(τ-1)/b) <= δ/L0 for each of that user's L0 keys:
 * (ε, δ)-DP overall (Korolova, Kenthapadi, Mishra, Ntoulas 2009; Wilson et
 * al. 2020, section 3). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dp_int.h"

#define PX_DP_KEYS_MAX_ENTRIES (1u << 24)
#define PX_DP_THRESHOLD_MARGIN 1e-9L

int px_dp_accumulate_counts(const px_dp_config *c, const px_dp_gbounds *gb,
                            const px_dp_vec *v, px_i128 *acc,
                            px_dp_enforced *e) {
    if (!px_dp_vec_usable(v, c->dim, e))
        return 1;
    uint32_t kept = 0;
    int limited = 0;
    for (uint32_t j = 0; j < c->dim; j++) {
        int64_t k;
        px_dp_grid_value(v->v[j], c->lower[j], c->upper[j], c->grid, &gb[j],
                         &k, e);
        if (k == 0)
            continue;
        if (kept == c->max_contrib) {
            limited = 1;
            continue;
        }
        kept++;
        acc[j] += k;
    }
    e->limited += (uint64_t)limited;
    e->used++;
    return 0;
}

static int px_dp_cmp_desc(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int px_dp_count_sensitivity(const px_dp_config *c, const px_dp_gbounds *gb,
                            uint64_t *l1, uint64_t *l2sq, uint64_t *linf,
                            px_err *err) {
    uint64_t *h = malloc(c->dim * sizeof *h);
    if (!h)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (uint32_t j = 0; j < c->dim; j++)
        h[j] = (uint64_t)gb[j].hi; /* lo is 0: config requires it */
    qsort(h, c->dim, sizeof *h, px_dp_cmp_desc);
    px_u128 s1 = 0, s2 = 0;
    for (uint32_t j = 0; j < c->dim && j < c->max_contrib; j++) {
        s1 += h[j];
        s2 += (px_u128)h[j] * h[j];
    }
    *linf = h[0] ? h[0] : 1;
    free(h);
    if (s2 > UINT64_MAX)
        return px_fail(err, PX_E_LIMIT, "sensitivity too large: use a "
                       "coarser grid or smaller bounds");
    *l1 = s1 ? (uint64_t)s1 : 1;
    *l2sq = s2 ? (uint64_t)s2 : 1;
    return 0;
}

/* Grid bounds of every category; histograms count from 0. */
static px_dp_gbounds *px_dp_count_bounds(const px_dp_config *c, px_err *err) {
    px_dp_gbounds *gb = calloc(c->dim, sizeof *gb);
    if (!gb) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        return NULL;
    }
    for (uint32_t j = 0; j < c->dim; j++) {
        if (px_dp_grid_bounds(c->lower[j], c->upper[j], c->grid, &gb[j],
                              err) != 0) {
            px_err_prefix(err, "category %u: ", j);
            free(gb);
            return NULL;
        }
    }
    return gb;
}

int px_dp_mech_histogram(const px_dp_config *c, const px_dp_vec *in, size_t n,
                         px_dp_rng *rng, px_dp_result *res, px_err *err) {
    int rc = -1;
    px_i128 *acc = calloc(c->dim, sizeof *acc);
    px_dp_gbounds *gb = px_dp_count_bounds(c, err);
    uint64_t l1 = 1, l2sq = 1, linf = 1;
    px_dp_q eps, delta, rho;
    px_dp_spend part;
    if (!gb)
        goto out;
    if (!acc) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    res->enforced.inputs = n;
    for (size_t i = 0; i < n; i++)
        px_dp_accumulate_counts(c, gb, &in[i], acc, &res->enforced);
    if (px_dp_count_sensitivity(c, gb, &l1, &l2sq, &linf, err) != 0 ||
        px_dp_split_budget(c, 1, &eps, &delta, &rho, err) != 0 ||
        px_dp_calibrate(c, eps, delta, rho, l1, l2sq, &res->noise, &part,
                        err) != 0)
        goto out;
    res->values = calloc(c->dim, sizeof *res->values);
    if (!res->values) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    res->n = c->dim;
    for (uint32_t j = 0; j < c->dim; j++) {
        int sat = 0;
        int64_t v = px_dp_sat_i128(acc[j], &sat), z;
        res->enforced.saturated += (uint64_t)sat;
        if (px_dp_noise_add(&res->noise, rng, v, &z, err) != 0)
            goto out;
        res->values[j] = px_dp_grid_to_double(z, c->grid);
    }
    rc = 0;
out:
    free(acc);
    free(gb);
    return rc;
}

/* ---- undeclared keys ----------------------------------------------------- */

static int px_dp_key_of(double x, int64_t *key) {
    if (!isfinite(x) || x != trunc(x) || fabs(x) > PX_DP_KEY_MAX)
        return -1;
    *key = (int64_t)x; /* -0.0 becomes 0 */
    return 0;
}

/* A key and where the user listed it. */
typedef struct px_dp_keypos {
    int64_t key;
    uint32_t pos;
} px_dp_keypos;

static int px_dp_cmp_key_pos(const void *a, const void *b) {
    const px_dp_keypos *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int px_dp_cmp_pos(const void *a, const void *b) {
    const px_dp_keypos *x = a, *y = b;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Append the first max_contrib distinct valid keys of one user, in the
 * order listed. Sorting (not pairwise search) keeps a hostile user with
 * thousands of keys at O(n log n). scratch holds c->dim entries. */
static int px_dp_user_keys(const px_dp_config *c, const px_dp_vec *v,
                           px_dp_keypos *scratch, int64_t *entries,
                           size_t *nent, px_dp_enforced *e, px_err *err) {
    if (v->n == PX_DP_VEC_UNDECODABLE) {
        e->rejected_decode++;
        return 0;
    }
    if (v->n > c->dim) {
        e->rejected_length++;
        return 0;
    }
    size_t m = 0, d = 0;
    for (uint32_t j = 0; j < v->n; j++) {
        if (v->v[j] == 0 && signbit(v->v[j]))
            e->negative_zero++;
        if (px_dp_key_of(v->v[j], &scratch[m].key) != 0) {
            e->rejected_values++;
            continue;
        }
        scratch[m++].pos = j;
    }
    qsort(scratch, m, sizeof *scratch, px_dp_cmp_key_pos);
    for (size_t i = 0; i < m; i++)
        if (i == 0 || scratch[i].key != scratch[i - 1].key)
            scratch[d++] = scratch[i];
    qsort(scratch, d, sizeof *scratch, px_dp_cmp_pos);
    if (d > c->max_contrib) {
        e->limited++;
        d = c->max_contrib;
    }
    if (d > PX_DP_KEYS_MAX_ENTRIES - *nent)
        return px_fail(err, PX_E_LIMIT, "more than %u keys in total",
                       PX_DP_KEYS_MAX_ENTRIES);
    for (size_t i = 0; i < d; i++)
        entries[(*nent)++] = scratch[i].key;
    e->used++;
    return 0;
}

static int px_dp_cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* τ = 1 + m with m >= b ln(L0/δ), widened by a relative margin. */
static int px_dp_threshold(const px_dp_noise *nz, uint32_t l0, px_dp_q delta,
                           int64_t *tau, px_err *err) {
    long double b = (long double)nz->a / (long double)nz->b;
    long double l = logl((long double)l0) + logl((long double)delta.den) -
                    logl((long double)delta.num);
    long double m = ceill(b * l * (1 + PX_DP_THRESHOLD_MARGIN)) + 1;
    if (!(m < 9e18L))
        return px_fail(err, PX_E_LIMIT, "threshold too large");
    *tau = 1 + (int64_t)m;
    return 0;
}

int px_dp_mech_keys(const px_dp_config *c, const px_dp_vec *in, size_t n,
                    px_dp_rng *rng, px_dp_result *res, px_err *err) {
    int rc = -1;
    size_t cap = 0, nent = 0, nout = 0;
    for (size_t i = 0; i < n; i++) {
        size_t m = in[i].n == PX_DP_VEC_UNDECODABLE ? 0 : in[i].n;
        cap += m < c->max_contrib ? m : c->max_contrib;
    }
    if (cap > PX_DP_KEYS_MAX_ENTRIES)
        cap = PX_DP_KEYS_MAX_ENTRIES;
    int64_t *ent = malloc((cap ? cap : 1) * sizeof *ent);
    px_dp_keypos *scratch = malloc(c->dim * sizeof *scratch);
    double *outv = NULL;
    px_dp_spend part;
    int64_t tau = 0;
    if (!ent || !scratch) {
        px_fail(err, PX_E_NOMEM, "out of memory for keys");
        goto out;
    }
    res->enforced.inputs = n;
    for (size_t i = 0; i < n; i++)
        if (px_dp_user_keys(c, &in[i], scratch, ent, &nent, &res->enforced,
                            err) != 0)
            goto out;
    if (px_dp_noise_calibrate(&res->noise, PX_DP_NOISE_LAPLACE,
                              c->max_contrib, 1, c->epsilon, c->delta, &part,
                              err) != 0 ||
        px_dp_threshold(&res->noise, c->max_contrib, c->delta, &tau, err) != 0)
        goto out;
    qsort(ent, nent, sizeof *ent, px_dp_cmp_i64);
    outv = malloc((nent ? nent : 1) * 2 * sizeof *outv);
    if (!outv) {
        px_fail(err, PX_E_NOMEM, "out of memory for keys");
        goto out;
    }
    for (size_t i = 0; i < nent;) {
        size_t j = i;
        while (j < nent && ent[j] == ent[i])
            j++;
        int64_t z;
        if (px_dp_noise_add(&res->noise, rng, (int64_t)(j - i), &z, err) != 0)
            goto out;
        if (z >= tau) {
            outv[nout++] = (double)ent[i];
            outv[nout++] = (double)z;
        }
        i = j;
    }
    res->values = outv;
    res->n = (uint32_t)nout;
    outv = NULL;
    rc = 0;
out:
    free(ent);
    free(scratch);
    free(outv);
    return rc;
}
