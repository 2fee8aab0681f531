/* Quantisation onto Z_{2^32} and the exact L2 clip check: rounding, range
 * and non-finite values refused by index with the output untouched, norms
 * exactly at the bound accepted and one unit over refused, extremes that
 * would overflow 64-bit arithmetic, and the user's refusal to mask an
 * update over the bound. */
#include <math.h>

#include "agg_testlib.h"

static void test_quantise(void **state) {
    (void)state;
    px_err err = {0};
    const float x[] = {0.5f, -0.5f, 1.25f, -1.75f, 0.0f, 32767.0f};
    uint32_t q[6], keep[6];
    px_assert_ok(px_agg_quantise(x, 6, 2.0, q, &err), &err);
    const int32_t want[] = {1, -1, 3, -4, 0, 65534}; /* halves away from zero */
    for (int i = 0; i < 6; i++)
        assert_int_equal((int32_t)q[i], want[i]);
    float back[6];
    px_assert_ok(px_agg_dequantise(q, 6, 2.0, back, &err), &err);
    assert_true(back[3] == -2.0f && back[5] == 32767.0f);
    /* Scale: zero, negative, NaN, infinite. */
    const double bad[] = {0.0, -1.0, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        px_assert_fails(px_agg_quantise(x, 6, bad[i], q, &err), &err, PX_E_INVALID);
        assert_non_null(strstr(err.msg, "not a finite positive number"));
        px_assert_fails(px_agg_dequantise(q, 6, bad[i], back, &err), &err, PX_E_INVALID);
    }
    /* Values that do not fit, named by index; q untouched. */
    memcpy(keep, q, sizeof q);
    const float big[] = {1.0f, 32768.0f};
    px_assert_fails(px_agg_quantise(big, 2, 65536.0, q, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "quantisation: value 1 (32768) is out of int32 range at scale 65536");
    assert_memory_equal(q, keep, sizeof q);
    const float edge[] = {-32768.0f, 32767.998046875f}; /* the largest float below 2^15 */
    px_assert_ok(px_agg_quantise(edge, 2, 65536.0, q, &err), &err);
    assert_int_equal((int32_t)q[0], INT32_MIN);
    assert_int_equal(q[1], 2147483520u);
    const float nan[] = {0.0f, 0.0f, NAN};
    px_assert_fails(px_agg_quantise(nan, 3, 1.0, q, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "value 2 is not finite"));
    const float inf[] = {-INFINITY};
    px_assert_fails(px_agg_quantise(inf, 1, 1.0, q, &err), &err, PX_E_INVALID);
    px_assert_ok(px_agg_quantise(NULL, 0, 1.0, NULL, &err), &err);
    /* A sum wraps as int32: -3 + 1 = -2. */
    uint32_t s = (uint32_t)-3 + 1u;
    px_assert_ok(px_agg_dequantise(&s, 1, 1.0, back, &err), &err);
    assert_true(back[0] == -2.0f);
}

static void test_clip(void **state) {
    (void)state;
    px_err err = {0};
    /* (3, -4): norm 5 exactly. */
    uint32_t q[2] = {3, (uint32_t)-4};
    px_assert_ok(px_agg_clip_check(q, 2, 5, &err), &err);
    px_assert_fails(px_agg_clip_check(q, 2, 4, &err), &err, PX_E_DENIED);
    assert_string_equal(err.msg, "update exceeds the clip bound: L2 norm 5 > 4 (quantised units)");
    px_assert_ok(px_agg_clip_check(NULL, 0, 0, &err), &err);
    uint32_t z[3] = {0, 0, 0};
    px_assert_ok(px_agg_clip_check(z, 3, 0, &err), &err);
    z[1] = 1;
    px_assert_fails(px_agg_clip_check(z, 3, 0, &err), &err, PX_E_DENIED);
    /* 2^24 words of INT32_MIN: the sum of squares is 2^86, beyond 64 bits;
     * its root is 2^43 exactly. */
    uint32_t *m = malloc((size_t)PX_AGG_DIM_MAX * 4);
    for (size_t i = 0; i < PX_AGG_DIM_MAX; i++)
        m[i] = 0x80000000u;
    px_assert_ok(px_agg_clip_check(m, PX_AGG_DIM_MAX, UINT64_C(1) << 43, &err), &err);
    px_assert_fails(px_agg_clip_check(m, PX_AGG_DIM_MAX, (UINT64_C(1) << 43) - 1, &err), &err, PX_E_DENIED);
    /* One unit squared more than a perfect square: 2^43 squared + 1. */
    m[0] = 0x80000000u;
    m[1] = 0x7fffffffu; /* 2^62 - 2^32 + 1 instead of 2^62 */
    px_assert_ok(px_agg_clip_check(m, PX_AGG_DIM_MAX, UINT64_C(1) << 43, &err), &err);
    px_assert_fails(px_agg_clip_check(m, PX_AGG_DIM_MAX + 1u, UINT64_C(1) << 43, &err), &err, PX_E_LIMIT);
    free(m);
    /* The bound from a real clip norm: floor(clip * scale). */
    uint64_t b;
    px_assert_ok(px_agg_clip_bound(1.0, 65536.0, &b, &err), &err);
    assert_int_equal(b, 65536);
    px_assert_ok(px_agg_clip_bound(2.75, 2.0, &b, &err), &err);
    assert_int_equal(b, 5);
    px_assert_fails(px_agg_clip_bound(-1.0, 1.0, &b, &err), &err, PX_E_INVALID);
    px_assert_fails(px_agg_clip_bound(1e30, 1.0, &b, &err), &err, PX_E_INVALID);
    px_assert_fails(px_agg_clip_bound(NAN, 1.0, &b, &err), &err, PX_E_INVALID);
}

/* A user with a clip bound refuses to mask an update over it, writing
 * nothing, and masks one at the bound. */
static void test_user_clip(void **state) {
    (void)state;
    sim s;
    sim_init(&s, 6, 2, 2, 2, 1);
    s.p.clip = 5;
    px_err err = {0};
    px_agg_user *u = px_agg_user_new(&s.p, s.roster, 0, s.sk[0], &err);
    assert_non_null(u);
    uint32_t q[2] = {3, (uint32_t)-5};
    px_buf m = PX_BUF_INIT, sh = PX_BUF_INIT;
    px_assert_fails(px_agg_user_mask(u, q, &m, &sh, &err), &err, PX_E_DENIED);
    assert_string_equal(err.msg, "secagg user 0: update exceeds the clip bound: L2 norm 5.83095 > 5 (quantised units)");
    assert_int_equal(m.len + sh.len, 0);
    q[1] = (uint32_t)-4;
    px_assert_ok(px_agg_user_mask(u, q, &m, &sh, &err), &err);
    px_agg_user_free(u);
    px_buf_free(&m);
    px_buf_free(&sh);
    sim_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantise),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_user_clip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
