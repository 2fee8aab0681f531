/* The DP stage end to end: config JSON and PXV1 vectors in, a noised PXV1
 * vector and the proof's "dp" predicate out; hostile inputs counted,
 * bad configs refused with the member named. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pixiu/dp.h"
#include "pixiu/records.h"

static void vec(px_buf *b, const double *v, uint32_t n) {
    px_err err;
    if (px_vector_encode(b, v, n, &err) != 0)
        fail_msg("encode: %s", err.msg);
}

static int64_t member_int(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return (int64_t)json_integer_value(v);
}

static void test_stage_sum(void **state) {
    (void)state;
    const char *cfg = "{\"mechanism\":\"sum\",\"dim\":1,\"lower\":0,"
                      "\"upper\":100,\"epsilon\":\"0.5\"}";
    enum { N = 6 };
    px_buf in[N];
    memset(in, 0, sizeof in);
    double a = 30, huge = 1e308, nan_ = NAN, two[2] = {1, 2};
    vec(&in[0], &a, 1);
    vec(&in[1], &huge, 1);
    vec(&in[2], &nan_, 1);
    vec(&in[3], two, 2);
    px_buf_append_str(&in[4], "PXV1\x01", NULL); /* truncated */
    vec(&in[5], &a, 1);
    in[5].data[0] = 'X'; /* bad magic */
    px_buf out = PX_BUF_INIT;
    json_t *pred = NULL;
    px_err err;
    assert_int_equal(px_dp_stage(cfg, strlen(cfg), in, N, &out, &pred, &err),
                     0);
    double *v;
    uint32_t n;
    assert_int_equal(px_vector_decode(&v, &n, out.data, out.len, &err), 0);
    assert_int_equal(n, 1);
    printf("# released %.3f (truth 130)\n", v[0]);
    assert_true(isfinite(v[0]));
    free(v);
    assert_string_equal(json_string_value(json_object_get(pred, "mechanism")),
                        "laplace");
    assert_string_equal(json_string_value(json_object_get(pred, "epsilon")),
                        "0.5");
    assert_string_equal(json_string_value(json_object_get(pred, "delta")), "0");
    assert_string_equal(json_string_value(json_object_get(pred, "rho")),
                        "0.125");
    assert_string_equal(json_string_value(json_object_get(pred, "query")),
                        "sum");
    json_t *e = json_object_get(pred, "enforced");
    assert_int_equal(member_int(e, "inputs"), 6);
    assert_int_equal(member_int(e, "used"), 2);
    assert_int_equal(member_int(e, "clamped"), 1);
    assert_int_equal(member_int(e, "rejected_nan"), 1);
    assert_int_equal(member_int(e, "rejected_length"), 1);
    assert_int_equal(member_int(e, "rejected_decode"), 2);
    json_decref(pred);
    px_buf_free(&out);
    for (int i = 0; i < N; i++)
        px_buf_free(&in[i]);
}

static void test_stage_gaussian_spend(void **state) {
    (void)state;
    const char *cfg = "{\"mechanism\":\"histogram\",\"dim\":3,"
                      "\"noise\":\"gaussian\",\"epsilon\":\"1\","
                      "\"delta\":\"0.000001\"}";
    double u[3] = {1, 0, 1};
    px_buf in[1] = {PX_BUF_INIT}, out = PX_BUF_INIT;
    vec(&in[0], u, 3);
    json_t *pred = NULL;
    px_err err;
    assert_int_equal(px_dp_stage(cfg, strlen(cfg), in, 1, &out, &pred, &err),
                     0);
    const char *eps = json_string_value(json_object_get(pred, "epsilon"));
    const char *rho = json_string_value(json_object_get(pred, "rho"));
    printf("# gaussian spend: epsilon %s rho %s\n", eps, rho);
    assert_true(atof(eps) <= 1.0 && atof(eps) > 0.9999);
    /* ρ = (sqrt(L+1) - sqrt(L))², L = ln(10^6): 0.0174689... */
    assert_true(atof(rho) > 0.017468 && atof(rho) <= 0.0174690);
    assert_string_equal(json_string_value(json_object_get(pred, "delta")),
                        "0.000001");
    json_decref(pred);
    px_buf_free(&out);
    px_buf_free(&in[0]);
}

static void test_stage_bad_configs(void **state) {
    (void)state;
    const struct {
        const char *cfg, *needle;
    } bad[] = {
        {"{\"mechanism\":\"sum\",\"dim\":1,\"lower\":0,\"upper\":1,"
         "\"epsilon\":\"1\",\"extra\":1}", "unknown field \"extra\""},
        {"{\"mechanism\":\"sum\",\"dim\":1,\"lower\":0,\"upper\":1,"
         "\"epsilon\":\".5\"}", "epsilon"},
        {"{\"mechanism\":\"sum\",\"dim\":1,\"lower\":0,\"upper\":1,"
         "\"epsilon\":0.5}", "epsilon"},
        {"{\"mechanism\":\"sum\",\"dim\":1,\"lower\":0,\"upper\":1,"
         "\"noise\":\"gaussian\",\"epsilon\":\"1\"}", "delta > 0"},
        {"{\"mechanism\":\"sum\",\"dim\":1,\"upper\":1,\"epsilon\":\"1\"}",
         "lower"},
        {"{\"mechanism\":\"sum\",\"dim\":2,\"lower\":[0],\"upper\":1,"
         "\"epsilon\":\"1\"}", "lower has 1 values"},
        {"{\"mechanism\":\"sum\",\"dim\":1,\"lower\":5,\"upper\":1,"
         "\"epsilon\":\"1\"}", "ordered"},
        {"{\"mechanism\":\"median\",\"dim\":1,\"epsilon\":\"1\"}",
         "unknown mechanism"},
        {"{\"mechanism\":\"sum\",\"mode\":\"sample-and-aggregate\",\"dim\":1,"
         "\"lower\":0,\"upper\":1,\"epsilon\":\"1\",\"blocks\":4}",
         "releases a mean"},
        {"{\"mechanism\":\"keys\",\"dim\":2,\"epsilon\":\"1\"}", "delta > 0"},
        {"{\"mechanism\":\"top-k\",\"dim\":2,\"k\":3,\"epsilon\":\"1\"}",
         "1 <= k <= dim"},
        {"{\"mechanism\":\"sum\",\"dim\":1,\"lower\":0,\"upper\":1e30,"
         "\"grid\":0,\"epsilon\":\"1\"}", "2^40"},
        {"{\"mechanism\":\"count\",\"epsilon\":\"1\",\"epsilon\":\"2\"}",
         "duplicate"},
        {"[1,2]", "not a JSON object"},
        {"{\"mechanism\":\"count\",\"noise\":\"gaussian\",\"rho\":\"1\","
         "\"epsilon\":\"1\",\"delta\":\"0.1\"}", "not both"},
        {"{\"mechanism\":\"count\",\"rho\":\"1\"}", "rho needs gaussian"},
        {"{\"mechanism\":\"sum\",\"dim\":0,\"epsilon\":\"1\"}", "dim"},
        {"{\"mechanism\":\"count\",\"epsilon\":\"1\",\"delta\":\"1\"}",
         "delta must be below 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        px_buf out = PX_BUF_INIT;
        json_t *pred = NULL;
        px_err err = {0};
        assert_int_equal(px_dp_stage(bad[i].cfg, strlen(bad[i].cfg), NULL, 0,
                                     &out, &pred, &err), -1);
        printf("# %s\n", err.msg);
        if (!strstr(err.msg, bad[i].needle))
            fail_msg("config %zu: '%s' does not name '%s'", i, err.msg,
                     bad[i].needle);
        assert_int_equal(out.len, 0);
        assert_null(pred);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stage_sum),
        cmocka_unit_test(test_stage_gaussian_spend),
        cmocka_unit_test(test_stage_bad_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
