/* Quantisation of real updates onto Z_{2^32} and the L2 clip check.
 *
 * The clip check is exact: q_i^2 < 2^62 and dim <= 2^24, so the sum of
 * squares is below 2^86 and fits an unsigned 128-bit integer; bound^2 <=
 * 2^126. No floating point decides whether an update is sent. */
#include <math.h>

#include "agg/agg_int.h"

__extension__ typedef unsigned __int128 agg_u128;

static int check_scale(double scale, px_err *err) {
    if (!(scale > 0) || !isfinite(scale))
        return px_fail(err, PX_E_INVALID, "quantisation: scale %g is not a finite positive number", scale);
    return 0;
}

int px_agg_quantise(const float *x, size_t dim, double scale, uint32_t *q, px_err *err) {
    if (check_scale(scale, err))
        return -1;
    if (dim && (!x || !q))
        return px_fail(err, PX_E_INVALID, "quantisation: missing vector");
    /* Check everything before writing, so q is untouched on failure. */
    for (size_t i = 0; i < dim; i++) {
        double v = round((double)x[i] * scale);
        if (!isfinite(v))
            return px_fail(err, PX_E_INVALID, "quantisation: value %zu is not finite (%g)", i, (double)x[i]);
        if (v < (double)INT32_MIN || v > (double)INT32_MAX)
            return px_fail(err, PX_E_INVALID, "quantisation: value %zu (%g) is out of int32 range at scale %g", i,
                           (double)x[i], scale);
    }
    for (size_t i = 0; i < dim; i++)
        q[i] = (uint32_t)(int32_t)round((double)x[i] * scale);
    return 0;
}

int px_agg_dequantise(const uint32_t *q, size_t dim, double scale, float *x, px_err *err) {
    if (check_scale(scale, err))
        return -1;
    if (dim && (!x || !q))
        return px_fail(err, PX_E_INVALID, "dequantisation: missing vector");
    for (size_t i = 0; i < dim; i++)
        x[i] = (float)((double)(int32_t)q[i] / scale);
    return 0;
}

int px_agg_clip_bound(double clip, double scale, uint64_t *bound, px_err *err) {
    if (check_scale(scale, err))
        return -1;
    double b = floor(clip * scale);
    if (!(clip >= 0) || !isfinite(b) || b > 9223372036854775808.0 /* 2^63 */)
        return px_fail(err, PX_E_INVALID, "clip bound: %g at scale %g is not in 0..2^63 quantised units", clip, scale);
    *bound = (uint64_t)b;
    return 0;
}

int px_agg_clip_check(const uint32_t *q, size_t dim, uint64_t bound, px_err *err) {
    if (dim > PX_AGG_DIM_MAX)
        return px_fail(err, PX_E_LIMIT, "clip check: dim %zu exceeds %u", dim, PX_AGG_DIM_MAX);
    if (dim && !q)
        return px_fail(err, PX_E_INVALID, "clip check: missing vector");
    agg_u128 sum = 0, lim = (agg_u128)bound * bound;
    for (size_t i = 0; i < dim; i++) {
        int64_t v = (int32_t)q[i];
        sum += (agg_u128)(uint64_t)(v * v);
    }
    if (sum > lim)
        return px_fail(err, PX_E_DENIED, "update exceeds the clip bound: L2 norm %.6Lg > %llu (quantised units)",
                       sqrtl((long double)sum), (unsigned long long)bound);
    return 0;
}
