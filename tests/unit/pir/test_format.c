/* The PIR wire formats: round trips, and every malformed, oversized or
 * wrong-dimension input refused with a message naming the cause. */
#include "px_test.h"

#include "pir_testlib.h"

static void make_params(px_pir_params *pp, uint64_t records, uint32_t rb) {
    px_err err = {0};
    uint8_t seed[32];
    memset(seed, 3, sizeof seed);
    if (px_pir_params_choose(pp, records, rb, seed, &err))
        fail_msg("%s", err.msg);
}

static void test_hint(void **state) {
    (void)state;
    px_pir_params pp;
    make_params(&pp, 10, 3);
    size_t hn = (size_t)pp.rows * PX_PIR_N;
    uint32_t *hint = malloc(hn * sizeof *hint), *back = NULL;
    for (size_t i = 0; i < hn; i++)
        hint[i] = (uint32_t)(i * 2654435761u);
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    const char info[] = "{\"x\":1}";
    px_assert_ok(px_pir_hint_encode(&b, &pp, (const uint8_t *)info, strlen(info), hint, &err), &err);
    px_pir_hint_view v;
    px_assert_ok(px_pir_hint_parse(&v, b.data, b.len, &err), &err);
    assert_int_equal(v.params.rows, pp.rows);
    assert_int_equal(v.params.cols, pp.cols);
    assert_memory_equal(v.params.seed, pp.seed, 32);
    assert_int_equal(v.info_len, strlen(info));
    assert_memory_equal(v.info, info, strlen(info));
    px_assert_ok(px_pir_hint_copy(&v, &back, &err), &err);
    assert_memory_equal(back, hint, hn * sizeof *hint);
    free(back);
    /* Every truncation, and one byte more. */
    for (size_t n = 0; n < b.len; n += (n < 100 ? 1 : 997))
        px_assert_fails(px_pir_hint_parse(&v, b.data, n, &err), &err, n < 8 ? PX_E_INVALID : err.code);
    px_buf_append_u8(&b, 0, &err);
    px_assert_fails(px_pir_hint_parse(&v, b.data, b.len, &err), &err, PX_E_INVALID);
    b.len--;
    /* Header fields: magic, version, q, flags, n, p, shape, records. */
    const size_t offs[] = {0, 4, 5, 6, 8, 12, 16, 20, 24, 28};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        b.data[offs[i]] ^= 0x01;
        if (px_pir_hint_parse(&v, b.data, b.len, &err) == 0)
            fail_msg("a hint with byte %zu changed parsed", offs[i]);
        assert_true(err.msg[0] != 0);
        b.data[offs[i]] ^= 0x01;
    }
    /* An info length that points past the end. */
    b.data[64] ^= 0x10;
    px_assert_fails(px_pir_hint_parse(&v, b.data, b.len, &err), &err, PX_E_INVALID);
    b.data[64] ^= 0x10;
    b.data[67] = 0xff;
    px_assert_fails(px_pir_hint_parse(&v, b.data, b.len, &err), &err, PX_E_LIMIT);
    px_buf_free(&b);
    free(hint);
}

static void test_query_answer(void **state) {
    (void)state;
    uint8_t id[32], got_id[32];
    memset(id, 9, sizeof id);
    uint32_t v[37], got[37];
    for (int i = 0; i < 37; i++)
        v[i] = (uint32_t)i * 0x01020304u;
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_pir_query_encode(&b, id, v, 37, &err), &err);
    assert_int_equal(b.len, 8 + 32 + 4 + 37 * 4);
    px_assert_ok(px_pir_query_parse(b.data, b.len, 37, got_id, got, &err), &err);
    assert_memory_equal(got, v, sizeof v);
    assert_memory_equal(got_id, id, 32);
    /* Wrong dimension, truncated, oversized, another kind of message. */
    memset(got, 0, sizeof got);
    px_assert_fails(px_pir_query_parse(b.data, b.len, 36, got_id, got, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "37 values, the database needs 36"));
    assert_int_equal(got[0] | got[1], 0); /* nothing written on failure */
    px_assert_fails(px_pir_query_parse(b.data, b.len - 1, 37, got_id, got, &err), &err, PX_E_INVALID);
    px_assert_fails(px_pir_query_parse(b.data, 20, 37, got_id, got, &err), &err, PX_E_INVALID);
    px_assert_fails(px_pir_query_parse(b.data, 3, 37, got_id, got, &err), &err, PX_E_INVALID);
    b.data[40] = 0xff; /* a count that would overflow a length */
    b.data[43] = 0xff;
    px_assert_fails(px_pir_query_parse(b.data, b.len, 37, got_id, got, &err), &err, PX_E_INVALID);
    px_buf_reset(&b);
    px_assert_ok(px_pir_answer_encode(&b, id, v, 37, &err), &err);
    px_assert_fails(px_pir_query_parse(b.data, b.len, 37, got_id, got, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "PXPQ"));
    px_assert_ok(px_pir_answer_parse(b.data, b.len, 37, got_id, got, &err), &err);
    assert_memory_equal(got, v, sizeof v);
    b.data[4] = 2;
    px_assert_fails(px_pir_answer_parse(b.data, b.len, 37, got_id, got, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "version 2"));
    b.data[4] = 1;
    b.data[7] = 1;
    px_assert_fails(px_pir_answer_parse(b.data, b.len, 37, got_id, got, &err), &err, PX_E_INVALID);
    px_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_hint), cmocka_unit_test(test_query_answer)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
