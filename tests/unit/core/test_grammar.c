/* The shared grammars: ids, exact decimals, closed JSON objects. Each is
 * defined once (src/core/grammar.c, json.c) and every module uses it, so
 * these cases hold for manifests, POD policies, DP params and configs
 * alike. */
#include "px_test.h"

static void test_ids(void **state) {
    (void)state;
    const char *good[] = {"pod1", "pod-01.a_b", "A", "bank.example", "x_", "0"};
    const char *bad[] = {"", "pod 1", ".hidden", "-opt", "..", "a/b", "é", "a:b",
                         "x\n", "12345678901234567890123456789012345678901234567890123456789012345"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!px_id_valid(good[i]))
            fail_msg("id \"%s\" refused", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (px_id_valid(bad[i]))
            fail_msg("id \"%s\" accepted", bad[i]);
    char max[PX_ID_MAX + 1];
    memset(max, 'a', PX_ID_MAX);
    max[PX_ID_MAX] = 0;
    assert_true(px_id_valid(max));
    px_err err = {0};
    px_assert_fails(px_id_check("dataset", "no way", &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "dataset \"no way\""));
    assert_null(strchr(err.msg, '\n'));
}

static void want_decimal(const char *s, const char *digits, int exp10) {
    px_decimal d;
    px_err err = {0};
    if (px_decimal_parse(&d, s, &err))
        fail_msg("decimal \"%s\" refused: %s", s, err.msg);
    if (strcmp(d.digits, digits) || d.exp10 != exp10)
        fail_msg("decimal \"%s\" is %se%d, want %se%d", s, d.digits, d.exp10, digits, exp10);
}

static void test_decimals(void **state) {
    (void)state;
    want_decimal("0", "", 0);
    want_decimal("0.000", "", 0);
    want_decimal("0e5", "", 0);
    want_decimal("0.5", "5", -1);
    want_decimal("2", "2", 0);
    want_decimal("12.250", "1225", -2);
    want_decimal("1e-6", "1", -6);
    want_decimal("1E-6", "1", -6);
    want_decimal("2.5E+3", "25", 2);
    want_decimal("100", "1", 2);
    want_decimal("0.000001", "1", -6);
    const char *bad[] = {"", "-1", "+1", ".5", "5.", "01", "00", "1..0", "1.2.3", "1e", "1e+", "1e-", "0x10",
                         "nan", "inf", " 1", "1 ", "1,5", "1e1000", "1e+0001", "1.5f",
                         "0.00000000000000000000000000000000000001"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        px_decimal d;
        px_err err = {0};
        if (px_decimal_parse(&d, bad[i], &err) != -1)
            fail_msg("decimal \"%s\" accepted", bad[i]);
        assert_int_equal(err.code, PX_E_INVALID);
        assert_null(strchr(err.msg, '\n'));
    }
}

static int cmp(const char *a, const char *b) {
    px_decimal x, y;
    if (px_decimal_parse(&x, a, NULL) || px_decimal_parse(&y, b, NULL))
        fail_msg("cannot parse %s or %s", a, b);
    return px_decimal_cmp(&x, &y);
}

static void test_decimal_order(void **state) {
    (void)state;
    assert_int_equal(cmp("1e-6", "0.000001"), 0);
    assert_int_equal(cmp("0.5", "0.50"), 0);
    assert_int_equal(cmp("2.5E+3", "2500"), 0);
    assert_int_equal(cmp("0", "0e9"), 0);
    assert_int_equal(cmp("0", "1e-30"), -1);
    assert_int_equal(cmp("1e-30", "0"), 1);
    assert_int_equal(cmp("0.29", "0.3"), -1);
    assert_int_equal(cmp("0.3", "0.29"), 1);
    assert_int_equal(cmp("1", "0.999999"), 1);
    assert_int_equal(cmp("10", "9.99"), 1);
    assert_int_equal(cmp("1.01", "1.1"), -1);
}

static void test_closed_objects(void **state) {
    (void)state;
    static const char *const keys[] = {"cpu_ms", "mem_mb", NULL};
    px_err err = {0};
    json_t *ok = json_pack("{s:i}", "cpu_ms", 5), *bad = json_pack("{s:i,s:i}", "cpu_ms", 5, "cpu", 1);
    assert_int_equal(px_json_only(ok, "limits", keys, &err), 0);
    px_assert_fails(px_json_only(bad, "stage 1: limits", keys, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "stage 1: limits: unknown field \"cpu\" (known: cpu_ms, mem_mb)");
    json_t *arr = json_array();
    px_assert_fails(px_json_only(arr, "limits", keys, &err), &err, PX_E_INVALID);
    json_decref(ok);
    json_decref(bad);
    json_decref(arr);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_decimals),
        cmocka_unit_test(test_decimal_order),
        cmocka_unit_test(test_closed_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
