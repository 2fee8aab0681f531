/* The module validator: hand-built modules, one rule at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pixiu/sandbox.h"

#define PAGES_LIMIT 16

/* A module under construction: header, then sections in the given order. */
typedef struct mb {
    uint8_t b[4096];
    size_t n;
} mb;

static void mb_init(mb *m) {
    memcpy(m->b, "\0asm\1\0\0\0", 8);
    m->n = 8;
}

static void mb_raw(mb *m, const void *p, size_t n) {
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void mb_sec(mb *m, uint8_t id, const void *p, size_t n) {
    uint8_t h[2] = {id, (uint8_t)n};
    assert_true(n < 128);
    mb_raw(m, h, 2);
    mb_raw(m, p, n);
}

#define SEC(m, id, ...)                                                   \
    do {                                                                  \
        static const uint8_t s_[] = {__VA_ARGS__};                        \
        mb_sec(m, id, s_, sizeof s_);                                     \
    } while (0)

/* Sections of the smallest acceptable module. */
#define TYPE_VOID 0x01, 0x60, 0x00, 0x00
#define FUNC_ONE 0x01, 0x00
#define MEM_ONE 0x01, 0x00, 0x01
#define EXPORTS 0x02, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, \
                0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00
#define CODE_ONE 0x01, 0x02, 0x00, 0x0b

static void minimal(mb *m) {
    mb_init(m);
    SEC(m, 1, TYPE_VOID);
    SEC(m, 3, FUNC_ONE);
    SEC(m, 5, MEM_ONE);
    SEC(m, 7, EXPORTS);
    SEC(m, 10, CODE_ONE);
}

static int check(const mb *m, px_err *err) {
    px_wasm_policy pol = {PX_WASM_MODULE_MAX_DEFAULT, PAGES_LIMIT};
    return px_wasm_validate(m->b, m->n, &pol, NULL, NULL, err);
}

static void expect_refused(const mb *m, const char *needle) {
    px_err err = {0};
    assert_int_equal(check(m, &err), -1);
    assert_int_equal(err.code, PX_E_INVALID);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_minimal_ok(void **state) {
    mb m;
    minimal(&m);
    px_wasm_policy pol = {PX_WASM_MODULE_MAX_DEFAULT, PAGES_LIMIT};
    px_wasm_info info;
    px_buf stripped = PX_BUF_INIT;
    px_err err = {0};
    assert_int_equal(px_wasm_validate(m.b, m.n, &pol, &info, &stripped, &err), 0);
    assert_int_equal(info.mem_initial, 1);
    assert_int_equal(info.nfuncs, 1);
    assert_int_equal(stripped.len, m.n);
    assert_memory_equal(stripped.data, m.b, m.n);
    px_buf_free(&stripped);
}

static void test_custom_sections_stripped(void **state) {
    mb m, plain;
    minimal(&plain);
    mb_init(&m);
    SEC(&m, 0, 0x04, 'n', 'a', 'm', 'e', 'x', '*', '/');
    SEC(&m, 1, TYPE_VOID);
    SEC(&m, 3, FUNC_ONE);
    SEC(&m, 5, MEM_ONE);
    SEC(&m, 7, EXPORTS);
    SEC(&m, 10, CODE_ONE);
    SEC(&m, 0, 0x02, 'z', 'z', 0xff, 0x00);
    px_wasm_policy pol = {PX_WASM_MODULE_MAX_DEFAULT, PAGES_LIMIT};
    px_buf stripped = PX_BUF_INIT;
    assert_int_equal(px_wasm_validate(m.b, m.n, &pol, NULL, &stripped, NULL), 0);
    assert_int_equal(stripped.len, plain.n);
    assert_memory_equal(stripped.data, plain.b, plain.n);
    px_buf_free(&stripped);
}

static void test_not_wasm(void **state) {
    mb m = {.n = 0};
    memcpy(m.b, "#!/bin/sh\necho hi\n", 18);
    m.n = 18;
    expect_refused(&m, "not a WebAssembly");
    minimal(&m);
    m.b[4] = 2; /* version 2 */
    expect_refused(&m, "not a WebAssembly");
}

/* Every proper prefix of a valid module is refused, none crashes. */
static void test_truncated(void **state) {
    mb m, t;
    minimal(&m);
    for (size_t len = 0; len < m.n; len++) {
        memcpy(t.b, m.b, len);
        t.n = len;
        px_err err = {0};
        assert_int_equal(check(&t, &err), -1);
    }
}

static void test_injection_names(void **state) {
    mb m;
    mb_init(&m);
    SEC(&m, 1, TYPE_VOID);
    SEC(&m, 3, FUNC_ONE);
    SEC(&m, 5, MEM_ONE);
    /* An export named x, star, slash, " f(){} ", slash, star: it would
     * close the comment wasm2c writes the name into and open C code. */
    SEC(&m, 7, 0x02, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00, 0x0c, 'x',
        '*', '/', ' ', 'f', '(', ')', '{', '}', ' ', '/', '*', 0x00, 0x00);
    SEC(&m, 10, CODE_ONE);
    expect_refused(&m, "[A-Za-z0-9_]");

    mb_init(&m);
    SEC(&m, 1, 0x02, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x00);
    /* import module name with a newline and a directive */
    SEC(&m, 2, 0x01, 0x0a, 'w', '\n', '#', 'd', 'e', 'f', 'i', 'n', 'e', 'x',
        0x09, 'p', 'r', 'o', 'c', '_', 'e', 'x', 'i', 't', 0x00, 0x00);
    expect_refused(&m, "[A-Za-z0-9_]");
}

static void test_imports(void **state) {
    mb m;
    /* not on the allow-list */
    mb_init(&m);
    SEC(&m, 1, 0x01, 0x60, 0x00, 0x00);
    SEC(&m, 2, 0x01, 0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's',
        'h', 'o', 't', '_', 'p', 'r', 'e', 'v', 'i', 'e', 'w', '1', 0x09, 'p',
        'a', 't', 'h', '_', 'o', 'p', 'e', 'n', 0x00, 0x00);
    expect_refused(&m, "unknown import");
    /* allowed name, wrong signature: proc_exit must be (i32) -> () */
    mb_init(&m);
    SEC(&m, 1, 0x01, 0x60, 0x00, 0x00);
    SEC(&m, 2, 0x01, 0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's',
        'h', 'o', 't', '_', 'p', 'r', 'e', 'v', 'i', 'e', 'w', '1', 0x09, 'p',
        'r', 'o', 'c', '_', 'e', 'x', 'i', 't', 0x00, 0x00);
    expect_refused(&m, "wrong signature");
    /* another module */
    mb_init(&m);
    SEC(&m, 1, 0x01, 0x60, 0x00, 0x00);
    SEC(&m, 2, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'f', 0x00, 0x00);
    expect_refused(&m, "not allowed");
    /* a memory import */
    mb_init(&m);
    SEC(&m, 2, 0x01, 0x16, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's',
        'h', 'o', 't', '_', 'p', 'r', 'e', 'v', 'i', 'e', 'w', '1', 0x03, 'm',
        'e', 'm', 0x02, 0x00, 0x01);
    expect_refused(&m, "not a function");
}

static void test_memory_limits(void **state) {
    mb m;
    mb_init(&m);
    SEC(&m, 1, TYPE_VOID);
    SEC(&m, 3, FUNC_ONE);
    SEC(&m, 5, 0x01, 0x00, 0xe0, 0xd4, 0x03); /* 60000 pages */
    SEC(&m, 7, EXPORTS);
    SEC(&m, 10, CODE_ONE);
    expect_refused(&m, "exceeds the limit");

    mb_init(&m);
    SEC(&m, 1, TYPE_VOID);
    SEC(&m, 3, FUNC_ONE);
    SEC(&m, 5, 0x01, 0x03, 0x01, 0x02); /* shared */
    expect_refused(&m, "shared or 64-bit");

    mb_init(&m);
    SEC(&m, 1, TYPE_VOID);
    SEC(&m, 3, FUNC_ONE);
    SEC(&m, 5, 0x02, 0x00, 0x01, 0x00, 0x01); /* two memories */
    expect_refused(&m, "at most one memory");

    mb_init(&m);
    SEC(&m, 1, TYPE_VOID);
    SEC(&m, 3, FUNC_ONE);
    SEC(&m, 7, 0x01, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00);
    SEC(&m, 10, CODE_ONE);
    expect_refused(&m, "memory is not exported");
}

static void test_structure(void **state) {
    mb m;
    /* start section */
    mb_init(&m);
    SEC(&m, 1, TYPE_VOID);
    SEC(&m, 3, FUNC_ONE);
    SEC(&m, 5, MEM_ONE);
    SEC(&m, 7, EXPORTS);
    SEC(&m, 8, 0x00);
    SEC(&m, 10, CODE_ONE);
    expect_refused(&m, "start function");
    /* out of order */
    mb_init(&m);
    SEC(&m, 5, MEM_ONE);
    SEC(&m, 1, TYPE_VOID);
    expect_refused(&m, "out of order");
    /* repeated */
    mb_init(&m);
    SEC(&m, 1, TYPE_VOID);
    SEC(&m, 1, TYPE_VOID);
    expect_refused(&m, "out of order or repeated");
    /* trailing garbage inside a section */
    mb_init(&m);
    SEC(&m, 1, TYPE_VOID, 0x99);
    expect_refused(&m, "unexpected bytes");
    /* unknown section id */
    mb_init(&m);
    SEC(&m, 14, 0x00);
    expect_refused(&m, "unknown section");
    /* over-long LEB128 */
    mb_init(&m);
    SEC(&m, 1, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00);
    expect_refused(&m, "too long");
    /* counts differ */
    mb_init(&m);
    SEC(&m, 1, TYPE_VOID);
    SEC(&m, 3, 0x02, 0x00, 0x00);
    SEC(&m, 5, MEM_ONE);
    SEC(&m, 7, EXPORTS);
    SEC(&m, 10, CODE_ONE);
    expect_refused(&m, "counts differ");
    /* an export that is not allowed */
    mb_init(&m);
    SEC(&m, 1, TYPE_VOID);
    SEC(&m, 3, FUNC_ONE);
    SEC(&m, 5, MEM_ONE);
    SEC(&m, 7, 0x01, 0x03, 'f', 'o', 'o', 0x00, 0x00);
    expect_refused(&m, "not allowed");
    /* _start with a parameter */
    mb_init(&m);
    SEC(&m, 1, 0x01, 0x60, 0x01, 0x7f, 0x00);
    SEC(&m, 3, FUNC_ONE);
    SEC(&m, 5, MEM_ONE);
    SEC(&m, 7, EXPORTS);
    SEC(&m, 10, CODE_ONE);
    expect_refused(&m, "take and return nothing");
}

static void test_size_limit(void **state) {
    mb m;
    minimal(&m);
    px_wasm_policy pol = {m.n - 1, PAGES_LIMIT};
    px_err err = {0};
    assert_int_equal(px_wasm_validate(m.b, m.n, &pol, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "exceeds the limit"));
}

/* Every single-byte change of a valid module: accepted or refused with a
 * message, never a crash (ASan watches), and a refusal leaves the output
 * buffer as it was. */
static void test_mutations(void **state) {
    mb m, t;
    minimal(&m);
    px_wasm_policy pol = {PX_WASM_MODULE_MAX_DEFAULT, PAGES_LIMIT};
    static const uint8_t values[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x2f, 0x0b};
    for (size_t i = 0; i < m.n; i++)
        for (size_t v = 0; v < sizeof values; v++) {
            t = m;
            t.b[i] = values[v];
            px_buf out = PX_BUF_INIT;
            px_err err = {0};
            if (px_wasm_validate(t.b, t.n, &pol, NULL, &out, &err)) {
                assert_int_equal(out.len, 0);
                assert_true(strlen(err.msg) > 0);
            }
            px_buf_free(&out);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_ok),
        cmocka_unit_test(test_custom_sections_stripped),
        cmocka_unit_test(test_not_wasm),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_injection_names),
        cmocka_unit_test(test_imports),
        cmocka_unit_test(test_memory_limits),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
