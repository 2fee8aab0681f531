/* The power-of-two grid: every real value is judged (NaN refused, ±inf
 * and out-of-range values clamped, -0 read as 0), then rounded to the
 * nearest multiple of 2^grid. Everything after this point is integer
 * arithmetic, which is what makes the noise exact. */
#include <math.h>

#include "dp_int.h"

int px_dp_grid_bounds(double lower, double upper, int grid, px_dp_gbounds *gb,
                      px_err *err) {
    if (!isfinite(lower) || !isfinite(upper) || lower > upper)
        return px_fail(err, PX_E_INVALID, "bounds [%g, %g] are not finite "
                       "and ordered", lower, upper);
    double lo = ceil(ldexp(lower, -grid)), hi = floor(ldexp(upper, -grid));
    double lim = (double)PX_DP_GRID_BOUND;
    if (!(lo >= -lim && hi <= lim))
        return px_fail(err, PX_E_LIMIT, "bounds [%g, %g] exceed 2^40 steps "
                       "of the grid 2^%d", lower, upper, grid);
    if (lo > hi)
        return px_fail(err, PX_E_INVALID, "bounds [%g, %g] hold no point of "
                       "the grid 2^%d", lower, upper, grid);
    gb->lo = (int64_t)lo;
    gb->hi = (int64_t)hi;
    return 0;
}

int px_dp_grid_value(double x, double lower, double upper, int grid,
                     const px_dp_gbounds *gb, int64_t *out,
                     px_dp_enforced *e) {
    if (isnan(x))
        return -1;
    if (x == 0 && signbit(x)) {
        e->negative_zero++;
        x = 0;
    }
    if (isinf(x))
        e->infinite++;
    if (x < lower || x > upper) {
        e->clamped++;
        *out = x < lower ? gb->lo : gb->hi;
        return 0;
    }
    double k = nearbyint(ldexp(x, -grid)); /* |k| <= 2^40 + 1: exact */
    int64_t v = (int64_t)k;
    *out = v < gb->lo ? gb->lo : v > gb->hi ? gb->hi : v;
    return 0;
}

double px_dp_grid_to_double(int64_t k, int grid) {
    return ldexp((double)k, grid);
}

/* 1 if v is usable: right length, no NaN; counts the reason otherwise. */
int px_dp_vec_usable(const px_dp_vec *v, uint32_t dim,
                            px_dp_enforced *e) {
    if (v->n == PX_DP_VEC_UNDECODABLE) {
        e->rejected_decode++;
        return 0;
    }
    if (v->n != dim) {
        e->rejected_length++;
        return 0;
    }
    for (uint32_t j = 0; j < dim; j++) {
        if (v->v[j] != v->v[j]) {
            e->rejected_nan++;
            return 0;
        }
    }
    return 1;
}

