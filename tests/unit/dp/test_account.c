/* Exact rationals, noise calibration and privacy accounting, checked
 * against worked examples from the literature. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dp/dp_int.h"

static px_dp_q q(const char *s) {
    px_dp_q v;
    px_err err;
    if (px_dp_q_parse(&v, s, strlen(s), &err) != 0)
        fail_msg("parse %s: %s", s, err.msg);
    return v;
}

static void assert_q_str(px_dp_q v, const char *want) {
    char s[PX_DP_DEC_STR_MAX];
    px_dp_q_format(v, s);
    assert_string_equal(s, want);
}

static void test_decimal_parse_format(void **state) {
    (void)state;
    px_dp_q v = q("0.5");
    assert_true(v.num == 1 && v.den == 2);
    assert_q_str(q("1"), "1");
    assert_q_str(q("0.000001"), "0.000001");
    assert_q_str(q("2.50"), "2.5");
    assert_q_str(q("0.000000000000000001"), "0.000000000000000001");
    assert_q_str(q("18446744073709551615"), "18446744073709551615");
    /* 1/3 is no finite decimal: printed rounded UP at 18 digits. */
    assert_q_str(px_dp_q_make(1, 3), "0.333333333333333334");
    assert_q_str(px_dp_q_make(2, 3), "0.666666666666666667");
    /* The one decimal grammar of core.h: exponents too. */
    assert_q_str(q("1e-5"), "0.00001");
    assert_q_str(q("2.5E+3"), "2500");
    const char *bad[] = {"", ".5", "01", "1.", "1e-19", "-1", "+1", "0.5 ",
                         " 0.5", "0x10", "0.0000000000000000001",
                         "18446744073709551616", "1.8446744073709551616", "nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        px_err err;
        px_dp_q out;
        assert_int_equal(px_dp_q_parse(&out, bad[i], strlen(bad[i]), &err), -1);
        assert_int_equal(err.code, PX_E_INVALID);
    }
}

static void test_decimal_arith(void **state) {
    (void)state;
    px_dp_q s;
    assert_int_equal(px_dp_q_add(&s, q("0.1"), q("0.2"), NULL), 0);
    assert_q_str(s, "0.3");
    assert_int_equal(px_dp_q_cmp(s, q("0.3")), 0);
    assert_int_equal(px_dp_q_cmp(q("0.29"), q("0.3")), -1);
    assert_int_equal(px_dp_q_add(&s, px_dp_q_make(1, 3), px_dp_q_make(1, 6),
                                 NULL), 0);
    assert_true(s.num == 1 && s.den == 2);
    px_err err;
    assert_int_equal(px_dp_q_add(&s, px_dp_q_make(UINT64_MAX, 1),
                                 px_dp_q_make(1, 1), &err), -1);
    assert_int_equal(err.code, PX_E_LIMIT);
}

/* Bun, Steinke 2016, Proposition 1.3: ρ-zCDP => (ρ + 2 sqrt(ρ ln(1/δ)), δ).
 * Values computed independently in double precision. */
static void test_zcdp_to_eps(void **state) {
    (void)state;
    const struct {
        const char *rho, *delta;
        double want;
    } ex[] = {{"0.1", "0.00001", 2.2459660262893473},
              {"0.5", "0.000001", 5.756521769756932},
              {"0.05", "0.000001", 1.71225813626911}};
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        px_dp_q e;
        assert_int_equal(px_dp_zcdp_to_eps(q(ex[i].rho), q(ex[i].delta), &e,
                                           NULL), 0);
        double got = (double)e.num / (double)e.den;
        assert_true(got >= ex[i].want);            /* never understated */
        assert_true(got - ex[i].want < 1e-8 * ex[i].want + 1e-11);
    }
    px_dp_q e;
    px_err err;
    assert_int_equal(px_dp_zcdp_to_eps(q("0.1"), q("0"), &e, &err), -1);
    assert_int_equal(px_dp_zcdp_to_eps(q("0"), q("0.1"), &e, NULL), 0);
    assert_int_equal(e.num, 0);
}

static void test_eps_to_zcdp_roundtrip(void **state) {
    (void)state;
    const char *eps[] = {"0.1", "1", "2.2459660262893473", "8"};
    for (size_t i = 0; i < 4; i++) {
        px_dp_q rho, back;
        assert_int_equal(px_dp_eps_to_zcdp(q(eps[i]), q("0.00001"), &rho,
                                           NULL), 0);
        assert_int_equal(px_dp_zcdp_to_eps(rho, q("0.00001"), &back, NULL), 0);
        assert_true(px_dp_q_cmp(back, q(eps[i])) <= 0); /* within budget */
        double b = (double)back.num / back.den, e = atof(eps[i]);
        assert_true(e - b < 1e-7 * e); /* and not wastefully far below */
    }
    /* The Bun-Steinke example inverted: ε = 2.24596602629 at δ = 1e-5
     * gives back ρ = 0.1 up to rounding. */
    px_dp_q rho;
    assert_int_equal(px_dp_eps_to_zcdp(q("2.2459660263"), q("0.00001"), &rho,
                                       NULL), 0);
    double r = (double)rho.num / rho.den;
    assert_true(r <= 0.1 + 1e-9 && r > 0.1 - 1e-7);
}

/* ε-DP => (ε²/2)-zCDP (Bun, Steinke 2016, Proposition 1.4); composition of
 * k pure releases: basic gives kε; through zCDP, kε²/2 converted, which
 * wins for many small releases (the advanced-composition regime, Dwork,
 * Roth 2014, section 3.5.2). */
static void test_composition(void **state) {
    (void)state;
    px_dp_noise nz;
    px_dp_spend one, tot;
    assert_int_equal(px_dp_noise_calibrate(&nz, PX_DP_NOISE_LAPLACE, 1, 1,
                                           q("1"), q("0"), &one, NULL), 0);
    assert_q_str(one.rho, "0.5");
    assert_int_equal(px_dp_noise_calibrate(&nz, PX_DP_NOISE_LAPLACE, 1, 1,
                                           q("0.1"), q("0"), &one, NULL), 0);
    assert_q_str(one.rho, "0.005");
    px_dp_spend s[100];
    for (int i = 0; i < 100; i++)
        s[i] = one;
    /* 10 releases: basic ε = 1 beats 1.7122... */
    assert_int_equal(px_dp_compose(s, 10, q("0.000001"), q("0.000001"), &tot,
                                   NULL), 0);
    assert_q_str(tot.epsilon, "1");
    assert_q_str(tot.delta, "0");
    assert_int_equal(tot.kind, PX_DP_PURE);
    /* 100 releases: ρ = 0.5 -> ε = 5.7565... < 10 */
    assert_int_equal(px_dp_compose(s, 100, q("0.000001"), q("0.000001"), &tot,
                                   NULL), 0);
    double e = (double)tot.epsilon.num / tot.epsilon.den;
    assert_true(e >= 5.756521769756932 && e < 5.7565218);
    assert_q_str(tot.delta, "0.000001");
    assert_q_str(tot.rho, "0.5");
    /* No δ allowed: basic only. */
    assert_int_equal(px_dp_compose(s, 100, q("0.000001"), q("0"), &tot, NULL),
                     0);
    assert_q_str(tot.epsilon, "10");
    /* An (ε, δ) release adds basically on the zCDP route. */
    px_dp_spend mix[2] = {s[0], {PX_DP_APPROX, q("0.5"), q("0.0001"), q("0")}};
    assert_int_equal(px_dp_compose(mix, 2, q("0.000001"), q("0.001"), &tot,
                                   NULL), 0);
    assert_q_str(tot.epsilon, "0.6");
    assert_q_str(tot.delta, "0.0001");
    assert_int_equal(tot.kind, PX_DP_APPROX);
    px_err err;
    assert_int_equal(px_dp_compose(mix, 2, q("0.000001"), q("0.00001"), &tot,
                                   &err), -1);
    assert_int_equal(err.code, PX_E_DENIED);
}

static void test_calibration(void **state) {
    (void)state;
    px_dp_noise nz;
    px_dp_spend sp;
    /* Laplace: scale Δ/ε exactly when it fits: Δ = 1, ε = 0.3 -> 10/3. */
    assert_int_equal(px_dp_noise_calibrate(&nz, PX_DP_NOISE_LAPLACE, 1, 1,
                                           q("0.3"), q("0"), &sp, NULL), 0);
    assert_true(nz.a == 10 && nz.b == 3);
    assert_q_str(sp.epsilon, "0.3");
    assert_int_equal(sp.kind, PX_DP_PURE);
    /* Too large for 2^40: rounded UP to a dyadic scale. */
    uint64_t l1 = (UINT64_C(1) << 38) + 1;
    assert_int_equal(px_dp_noise_calibrate(&nz, PX_DP_NOISE_LAPLACE, l1, 1,
                                           q("0.7"), q("0"), &sp, NULL), 0);
    assert_true(nz.a <= PX_DP_LAPLACE_T_MAX);
    /* a/b >= l1/ε  <=>  a * 7 >= l1 * 10 * b */
    assert_true((px_u128)nz.a * 7 >= (px_u128)l1 * 10 * nz.b);
    assert_true((long double)nz.a / nz.b <
                (long double)l1 / 0.7L * (1 + 1e-9L));
    /* Gaussian: Δ₂² = 1 at ρ = 1/2 gives σ² = 1 (CKS20, Theorem 14). */
    assert_int_equal(px_dp_noise_calibrate_rho(&nz, 1, q("0.5"), q("0.00001"),
                                               &sp, NULL), 0);
    assert_true(nz.a == 1 && nz.b == 1);
    assert_int_equal(sp.kind, PX_DP_ZCDP);
    assert_q_str(sp.rho, "0.5");
    /* Δ₂² = 9, ρ = 0.02: σ² = 225. */
    assert_int_equal(px_dp_noise_calibrate_rho(&nz, 9, q("0.02"), q("0.00001"),
                                               &sp, NULL), 0);
    assert_true(nz.a == 225 && nz.b == 1);
    /* (ε, δ) target: the conversion of the ρ chosen stays within ε. */
    assert_int_equal(px_dp_noise_calibrate(&nz, PX_DP_NOISE_GAUSSIAN, 1, 4,
                                           q("1"), q("0.000001"), &sp, NULL),
                     0);
    assert_true(px_dp_q_cmp(sp.epsilon, q("1")) <= 0);
    assert_q_str(sp.delta, "0.000001");
    /* σ² >= Δ₂²/(2ρ) */
    assert_true((long double)nz.a / nz.b >=
                4.0L / (2 * (long double)sp.rho.num / sp.rho.den) *
                    (1 - 1e-15L));
    px_err err;
    assert_int_equal(px_dp_noise_calibrate(&nz, PX_DP_NOISE_GAUSSIAN, 1, 1,
                                           q("1"), q("0"), &sp, &err), -1);
    assert_int_equal(px_dp_noise_calibrate(&nz, PX_DP_NOISE_LAPLACE, 1, 1,
                                           q("0"), q("0"), &sp, &err), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_parse_format),
        cmocka_unit_test(test_decimal_arith),
        cmocka_unit_test(test_zcdp_to_eps),
        cmocka_unit_test(test_eps_to_zcdp_roundtrip),
        cmocka_unit_test(test_composition),
        cmocka_unit_test(test_calibration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
