/* SimplePIR end to end against the plaintext: every kernel against a naive
 * product, the hint against DB·A computed entry by entry, and many random
 * records of many database shapes fetched by query, answer and decode. */
#include "px_test.h"

#include "pir_testlib.h"

static const px_pir_kernel kernels[] = {PX_PIR_KERNEL_PORTABLE, PX_PIR_KERNEL_AVX2, PX_PIR_KERNEL_AVX512};

static void test_params(void **state) {
    (void)state;
    px_err err = {0};
    uint8_t seed[32] = {0};
    px_pir_params pp;
    /* 1 GiB of one-byte records: the paper's square 2^15 x 2^15. */
    px_assert_ok(px_pir_params_choose(&pp, 1ull << 30, 1, seed, &err), &err);
    assert_int_equal(pp.rows, 1u << 15);
    assert_int_equal(pp.cols, 1u << 15);
    assert_int_equal(pp.p, 256);
    /* Records stack down one column: rows are a multiple of the size. */
    px_assert_ok(px_pir_params_choose(&pp, 1000, 48, seed, &err), &err);
    assert_int_equal(pp.rows % 48, 0);
    assert_true((uint64_t)pp.cols * (pp.rows / 48) >= 1000);
    assert_true((uint64_t)pp.cols * (pp.rows / 48 - 1) < 1000);
    px_assert_ok(px_pir_params_check(&pp, &err), &err);
    pp.cols++;
    px_assert_fails(px_pir_params_check(&pp, &err), &err, PX_E_INVALID);
    /* One record bigger than the square: a column of its own. */
    px_assert_ok(px_pir_params_choose(&pp, 1, 5000, seed, &err), &err);
    assert_int_equal(pp.rows, 5000);
    assert_int_equal(pp.cols, 1);
    px_assert_fails(px_pir_params_choose(&pp, 0, 8, seed, &err), &err, PX_E_INVALID);
    px_assert_fails(px_pir_params_choose(&pp, 5, 0, seed, &err), &err, PX_E_INVALID);
    px_assert_fails(px_pir_params_choose(&pp, 5, PX_PIR_MAX_RECORD + 1, seed, &err), &err, PX_E_INVALID);
    px_assert_fails(px_pir_params_choose(&pp, 1ull << 33, 16, seed, &err), &err, PX_E_INVALID);
    px_assert_fails(px_pir_params_choose(&pp, (1ull << 21), PX_PIR_MAX_RECORD, seed, &err), &err, PX_E_LIMIT);
    /* The paper's table, and p = 256 below it up to 2^20 columns. */
    assert_int_equal(px_pir_table_p(1), 991);
    assert_int_equal(px_pir_table_p(1u << 13), 991);
    assert_int_equal(px_pir_table_p((1u << 13) + 1), 833);
    assert_int_equal(px_pir_table_p(1u << 15), 701);
    assert_int_equal(px_pir_table_p(1u << 20), 294);
    assert_int_equal(px_pir_table_p(1u << 21), 247);
    assert_int_equal(px_pir_table_p((1u << 21) + 1), 0);
}

static void test_a_column_offsets(void **state) {
    (void)state;
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    uint32_t whole[100], tail[100 - 48];
    px_pir_a_column(seed, 5, 0, 100, whole);
    px_pir_a_column(seed, 5, 48, 52, tail);
    assert_memory_equal(whole + 48, tail, sizeof tail);
    px_pir_a_column(seed, 6, 0, 52, tail); /* another column differs */
    assert_memory_not_equal(whole, tail, 16);
}

static void test_kernels_agree(void **state) {
    (void)state;
    pir_rng r;
    pir_rng_init(&r, 11);
    const uint32_t shapes[][2] = {{1, 1}, {3, 5}, {130, 1}, {1000, 3}, {4097, 2}, {77, 200}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        uint8_t *plain = malloc((size_t)shapes[s][0] * shapes[s][1]);
        px_pir_db db;
        pir_test_db(&db, shapes[s][0], shapes[s][1], &r, plain);
        uint32_t *q = malloc(db.params.cols * sizeof *q), *want = malloc(db.params.rows * sizeof *want),
                 *got = malloc(db.params.rows * sizeof *got);
        pir_rng_fill(&r, q, db.params.cols * sizeof *q);
        for (uint32_t i = 0; i < db.params.rows; i++)
            want[i] = pir_naive_dot(&db, i, q);
        for (size_t k = 0; k < 3; k++) {
            if (!px_pir_kernel_supported(kernels[k])) {
                printf("# kernel %s not supported here\n", px_pir_kernel_name(kernels[k]));
                continue;
            }
            for (unsigned t = 1; t <= 3; t++) {
                px_err err = {0};
                memset(got, 0xa5, db.params.rows * sizeof *got);
                px_assert_ok(px_pir_answer(&db, q, got, kernels[k], t, &err), &err);
                if (memcmp(got, want, db.params.rows * sizeof *got))
                    fail_msg("kernel %s with %u threads differs on %u x %u", px_pir_kernel_name(kernels[k]), t,
                             db.params.rows, db.params.cols);
            }
        }
        free(q);
        free(want);
        free(got);
        free(plain);
        px_pir_db_free(&db);
    }
}

static void test_hint_naive(void **state) {
    (void)state;
    pir_rng r;
    pir_rng_init(&r, 12);
    const uint32_t shapes[][2] = {{5, 3}, {700, 1}, {300, 7}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        uint8_t *plain = malloc((size_t)shapes[s][0] * shapes[s][1]);
        px_pir_db db;
        pir_test_db(&db, shapes[s][0], shapes[s][1], &r, plain);
        const px_pir_params *pp = &db.params;
        uint32_t *hint = malloc((size_t)pp->rows * PX_PIR_N * sizeof *hint), *col = malloc(pp->cols * sizeof *col);
        px_err err = {0};
        px_assert_ok(px_pir_hint(&db, hint, 2, &err), &err);
        for (uint32_t k = 0; k < PX_PIR_N; k += 97) {
            px_pir_a_column(pp->seed, k, 0, pp->cols, col);
            for (uint32_t i = 0; i < pp->rows; i++)
                assert_int_equal(hint[(size_t)i * PX_PIR_N + k], pir_naive_dot(&db, i, col));
        }
        free(hint);
        free(col);
        free(plain);
        px_pir_db_free(&db);
    }
}

/* Many random records of many shapes, each fetched privately. */
static void test_end_to_end(void **state) {
    (void)state;
    pir_rng r;
    pir_rng_init(&r, 13);
    const uint32_t shapes[][2] = {{1, 1},   {1, 100}, {7, 3},    {1000, 1}, {300, 16},
                                  {5000, 8}, {64, 300}, {2049, 24}, {20000, 2}};
    size_t fetched = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        uint32_t n = shapes[s][0], rb = shapes[s][1];
        uint8_t *plain = malloc((size_t)n * rb), *got = malloc(rb);
        px_pir_db db;
        pir_test_db(&db, n, rb, &r, plain);
        const px_pir_params *pp = &db.params;
        uint32_t *hint = malloc((size_t)pp->rows * PX_PIR_N * sizeof *hint), *q = malloc(pp->cols * sizeof *q),
                 *a = malloc(pp->rows * sizeof *a);
        px_err err = {0};
        px_assert_ok(px_pir_hint(&db, hint, 0, &err), &err);
        for (int t = 0; t < 12; t++) {
            uint32_t i = t == 0 ? 0 : t == 1 ? n - 1 : pir_rng_u32(&r) % n;
            px_pir_secret sec;
            px_assert_ok(px_pir_query(pp, i, &sec, q, &err), &err);
            px_assert_ok(px_pir_answer(&db, q, a, PX_PIR_KERNEL_AUTO, 1 + (t & 1), &err), &err);
            px_assert_ok(px_pir_decode(pp, hint, &sec, a, i, got, &err), &err);
            if (memcmp(got, plain + (size_t)i * rb, rb))
                fail_msg("record %u of %u (%u bytes, %u x %u) decoded wrongly", i, n, rb, pp->rows, pp->cols);
            /* Another record of the same column comes with it ... */
            uint32_t other = i + pp->cols;
            if (other < n) {
                px_assert_ok(px_pir_decode(pp, hint, &sec, a, other, got, &err), &err);
                assert_memory_equal(got, plain + (size_t)other * rb, rb);
            }
            /* ... one of another column cannot be asked for. */
            if (pp->cols > 1)
                px_assert_fails(px_pir_decode(pp, hint, &sec, a, (i + 1) % n == i ? i : (i / pp->cols * pp->cols +
                                              (i % pp->cols + 1) % pp->cols) % n, got, &err), &err, PX_E_INVALID);
            px_pir_secret_wipe(&sec);
            fetched++;
        }
        px_pir_secret sec;
        px_assert_fails(px_pir_query(pp, n, &sec, q, &err), &err, PX_E_INVALID);
        free(hint);
        free(q);
        free(a);
        free(got);
        free(plain);
        px_pir_db_free(&db);
    }
    printf("# %zu records fetched by PIR, all equal to the plaintext\n", fetched);
}

int main(void) {
    px_err err = {0};
    if (px_crypto_init(&err))
        return 1;
    printf("# kernel: %s\n", px_pir_kernel_name(PX_PIR_KERNEL_AUTO));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),     cmocka_unit_test(test_a_column_offsets), cmocka_unit_test(test_kernels_agree),
        cmocka_unit_test(test_hint_naive), cmocka_unit_test(test_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
