/* Hex, base64, UTF-8 and strict JSON: the first line of defence. */
#include <sys/stat.h>

#include "px_test.h"

static void test_hex(void **state) {
    (void)state;
    uint8_t in[3] = {0x00, 0xab, 0xff}, out[3];
    char hex[7];
    px_err err = {0};
    px_hex_encode(hex, in, 3);
    assert_string_equal(hex, "00abff");
    px_assert_ok(px_hex_decode_exact(out, 3, hex, 6, &err), &err);
    assert_memory_equal(in, out, 3);
    px_assert_fails(px_hex_decode_exact(out, 3, "00ABff", 6, &err), &err, PX_E_INVALID);
    px_assert_fails(px_hex_decode_exact(out, 3, "00abf", 5, &err), &err, PX_E_INVALID);
    px_assert_fails(px_hex_decode_exact(out, 3, "00abfg", 6, &err), &err, PX_E_INVALID);
}

static void test_b64(void **state) {
    (void)state;
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    px_assert_ok(px_b64_decode(&b, "aGVsbG8=", 8, &err), &err);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "hello", 5);
    px_buf_reset(&b);
    px_assert_fails(px_b64_decode(&b, "aGVsbG8", 7, &err), &err, PX_E_INVALID);   /* no padding */
    px_assert_fails(px_b64_decode(&b, "aGVsbG9=", 8, &err), &err, PX_E_INVALID);  /* non-canonical */
    px_assert_fails(px_b64_decode(&b, "aGVs bG8=", 9, &err), &err, PX_E_INVALID); /* whitespace */
    px_assert_fails(px_b64_decode(&b, "aGVsbG8=AAAA", 12, &err), &err, PX_E_INVALID);
    px_assert_fails(px_b64_decode(&b, "aGV\0bG8=", 8, &err), &err, PX_E_INVALID);
    /* libsodium 1.0.18 alone accepts this (found by fuzzing). */
    px_assert_fails(px_b64_decode(&b, "aG\xce\xb2" "bG8=", 8, &err), &err, PX_E_INVALID);
    uint8_t five[5];
    px_assert_fails(px_b64_decode_exact(five, 4, "aGVsbG8=", 8, &err), &err, PX_E_INVALID);
    px_assert_ok(px_b64_decode_exact(five, 5, "aGVsbG8=", 8, &err), &err);
    px_assert_ok(px_b64_decode(&b, "", 0, &err), &err);
    px_buf_free(&b);
}

/* The table codec for public bytes writes what libsodium writes, and reads
 * back only canonical padded base64, leaving the rest to px_b64_decode. */
static void test_b64_public(void **state) {
    (void)state;
    uint8_t in[300];
    char a[PX_B64_LEN(sizeof in) + 1], b[sizeof a];
    px_buf d = PX_BUF_INIT;
    for (size_t n = 0; n <= sizeof in; n++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)(i * 131 + n * 7);
        px_b64_encode(a, in, n);
        px_b64_encode_public(b, in, n);
        assert_string_equal(a, b);
        px_buf_reset(&d);
        assert_int_equal(px_b64_decode_public(&d, b, strlen(b)), 0);
        assert_int_equal(d.len, n);
        assert_memory_equal(d.data, in, n);
    }
    static const char *const refused[] = {"aGVsbG9=", "aGVsbG8", "aGVs bG8=", "aGVsbG8=AAAA", "aG\xce\xb2" "bG8=",
                                          "aGVsbG-_", "=AAA", "A===", "AA=A", "QUJ="};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        px_buf_reset(&d);
        assert_int_equal(px_b64_decode_public(&d, refused[i], strlen(refused[i])), -1);
        assert_int_equal(d.len, 0);
    }
    px_buf_free(&d);
}

static void test_utf8(void **state) {
    (void)state;
    assert_true(px_utf8_valid((const uint8_t *)"abc \xe2\x80\x94", 7));
    assert_false(px_utf8_valid((const uint8_t *)"\xc0\xaf", 2));         /* overlong */
    assert_false(px_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));     /* surrogate */
    assert_false(px_utf8_valid((const uint8_t *)"\xe2\x80", 2));         /* truncated */
    assert_false(px_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(px_utf8_valid((const uint8_t *)"\xff", 1));
}

static void test_json(void **state) {
    (void)state;
    px_err err = {0};
    json_t *v = px_json_parse("{\"a\":1}", 7, 100, &err);
    assert_non_null(v);
    int64_t i;
    const char *s;
    px_assert_ok(px_json_int(v, "a", &i, &err), &err);
    assert_int_equal(i, 1);
    px_assert_fails(px_json_str(v, "a", &s, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "\"a\""));
    px_assert_fails(px_json_str(v, "b", &s, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "missing field \"b\""));
    json_decref(v);
    assert_null(px_json_parse("{\"a\":1,\"a\":2}", 13, 100, &err));
    assert_int_equal(err.code, PX_E_INVALID);
    assert_null(px_json_parse("{\"a\":\"\\u0000\"}", 14, 100, &err));
    assert_null(px_json_parse("{\"a\":\"\xff\"}", 9, 100, &err));
    assert_null(px_json_parse("{\"a\":1} x", 9, 100, &err));
    assert_null(px_json_parse("{\"a\":1}", 7, 6, &err));
    assert_int_equal(err.code, PX_E_LIMIT);
    assert_null(px_json_parse("{\"a\":1\0}", 8, 100, &err));
}

static void test_buf_and_errors(void **state) {
    (void)state;
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    for (int i = 0; i < 1000; i++)
        px_assert_ok(px_buf_printf(&b, &err, "%d,", i), &err);
    assert_string_equal(px_buf_cstr(&b, &err) + b.len - 4, "999,");
    px_buf_free(&b);
    assert_null(b.data);
    px_fail(&err, PX_E_IO, "disk %s", "full");
    px_err_prefix(&err, "writing %s: ", "x");
    assert_string_equal(err.msg, "writing x: disk full");
    assert_string_equal(px_code_name(PX_E_VERIFY), "verify");
}

static void test_files(void **state) {
    (void)state;
    char path[] = "/tmp/px-test-file-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    px_err err = {0};
    px_assert_ok(px_file_write_atomic(path, "abc", 3, 0600, &err), &err);
    px_buf b = PX_BUF_INIT;
    px_assert_ok(px_file_read(path, 3, &b, &err), &err);
    assert_memory_equal(b.data, "abc", 3);
    px_buf_reset(&b);
    px_assert_fails(px_file_read(path, 2, &b, &err), &err, PX_E_LIMIT);
    assert_int_equal(b.len, 0);
    unlink(path);
    px_assert_fails(px_file_read(path, 2, &b, &err), &err, PX_E_NOTFOUND);
    px_buf_free(&b);
    /* Writing to a device writes through it; it must not replace the node
     * (a test writing its output to /dev/null once turned it into a file). */
    px_assert_ok(px_file_write_atomic("/dev/null", "abc", 3, 0644, &err), &err);
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    px_assert_fails(px_file_write_atomic("/tmp", "abc", 3, 0644, &err), &err, PX_E_IO);
}

/* A JSON member of public bytes: decoded by table, and what the table
 * refuses is refused with the strict decoder's message. */
static void test_json_b64_public(void **state) {
    (void)state;
    px_err err = {0};
    json_t *o = json_pack("{s:s,s:s,s:s,s:i}", "ok", "aGVsbG8=", "loose", "aGVsbG9=", "alpha", "aGV*bG8=", "num", 1);
    px_buf b = PX_BUF_INIT;
    px_assert_ok(px_json_b64_public(o, "ok", &b, &err), &err);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "hello", 5);
    px_buf_reset(&b);
    px_assert_fails(px_json_b64_public(o, "loose", &b, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "field \"loose\""));
    assert_int_equal(b.len, 0);
    px_assert_fails(px_json_b64_public(o, "alpha", &b, &err), &err, PX_E_INVALID);
    px_assert_fails(px_json_b64_public(o, "num", &b, &err), &err, PX_E_INVALID);
    px_assert_fails(px_json_b64_public(o, "missing", &b, &err), &err, PX_E_INVALID);
    px_buf_free(&b);
    json_decref(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex),   cmocka_unit_test(test_b64),           cmocka_unit_test(test_b64_public),
        cmocka_unit_test(test_utf8), cmocka_unit_test(test_json_b64_public),
        cmocka_unit_test(test_json),  cmocka_unit_test(test_buf_and_errors), cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
