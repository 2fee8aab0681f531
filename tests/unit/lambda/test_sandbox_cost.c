/* The compile cost bound: modules that would make wasm2c crash or gcc run
 * for minutes are refused by name before either tool sees them; a tool
 * that still crashes or fails silently is named, not reported with an
 * empty detail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "pixiu/sandbox.h"

typedef struct fixture {
    char dir[256], cache[300], work[64];
    px_sandbox sb;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/sandbox-cost-XXXXXX", PX_BUILD_DIR);
    snprintf(f->work, sizeof f->work, "/dev/shm/pixiu-test-XXXXXX");
    if (!mkdtemp(f->dir) || !mkdtemp(f->work))
        return -1;
    snprintf(f->cache, sizeof f->cache, "%s/cache", f->dir);
    setenv("PIXIU_WASM_RUNNER", PX_BUILD_DIR "/pixiu-wasm-runner", 1);
    px_sandbox_tools t = {.cache_dir = f->cache, .work_dir = f->work};
    px_err err = {0};
    if (px_sandbox_init_tools(&f->sb, &t, &err)) {
        fprintf(stderr, "init: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", f->dir, f->work);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void leb(px_buf *b, uint64_t v) {
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        if (v)
            c |= 0x80;
        px_buf_append_u8(b, c, NULL);
    } while (v);
}

static void section(px_buf *m, uint8_t id, const px_buf *content) {
    px_buf_append_u8(m, id, NULL);
    leb(m, content->len);
    px_buf_append(m, content->data, content->len, NULL);
}

/* A module whose _start has the given instructions (ending in 0x0b). */
static void module(const px_buf *code, px_buf *m) {
    static const uint8_t head[] = {0x00, 'a', 's', 'm', 1, 0, 0, 0};
    static const uint8_t types[] = {1, 0x60, 0, 0}, funcs[] = {1, 0},
                         mem[] = {1, 0, 1},
                         exports[] = {2, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0,
                                      6, '_', 's', 't', 'a', 'r', 't', 0, 0};
    px_buf s = PX_BUF_INIT, body = PX_BUF_INIT;
    px_buf_append(m, head, sizeof head, NULL);
    px_buf_append(&s, types, sizeof types, NULL);
    section(m, 1, &s);
    px_buf_reset(&s);
    px_buf_append(&s, funcs, sizeof funcs, NULL);
    section(m, 3, &s);
    px_buf_reset(&s);
    px_buf_append(&s, mem, sizeof mem, NULL);
    section(m, 5, &s);
    px_buf_reset(&s);
    px_buf_append(&s, exports, sizeof exports, NULL);
    section(m, 7, &s);
    px_buf_reset(&s);
    px_buf_append_u8(&body, 0, NULL); /* no locals */
    px_buf_append(&body, code->data, code->len, NULL);
    px_buf_append_u8(&s, 1, NULL);
    leb(&s, body.len);
    px_buf_append(&s, body.data, body.len, NULL);
    section(m, 10, &s);
    px_buf_free(&s);
    px_buf_free(&body);
}

static void nested(px_buf *code, unsigned depth) {
    for (unsigned i = 0; i < depth; i++)
        px_buf_append(code, "\x02\x40", 2, NULL);
    for (unsigned i = 0; i <= depth; i++)
        px_buf_append_u8(code, 0x0b, NULL);
}

static px_sandbox_result run(const px_sandbox *sb, const px_buf *code,
                             int want_ok) {
    px_buf m = PX_BUF_INIT, out = PX_BUF_INIT;
    module(code, &m);
    px_sandbox_limits l;
    px_sandbox_limits_default(&l);
    px_sandbox_result res;
    px_err err = {0};
    int rc = px_sandbox_run(sb, m.data, m.len, NULL, 0, &l, &out, NULL, &res,
                            &err);
    if ((rc == 0) != want_ok)
        fail_msg("got %s", res.reason);
    px_buf_free(&m);
    px_buf_free(&out);
    return res;
}

static void expect_refused(const px_sandbox *sb, const px_buf *code,
                           const char *needle) {
    uint64_t t0 = px_mono_ns();
    px_sandbox_result res = run(sb, code, 0);
    assert_int_equal(res.status, PX_SB_INVALID_MODULE);
    if (!strstr(res.reason, needle))
        fail_msg("reason '%s' lacks '%s'", res.reason, needle);
    /* Refused before any compiler ran. */
    assert_true(px_mono_ns() - t0 < 2000000000ull);
}

/* 20,000 nested blocks crash wasm2c 1.0.32; the bound refuses them. */
static void test_deep_nesting(void **state) {
    fixture *f = *state;
    px_buf code = PX_BUF_INIT;
    nested(&code, 20000);
    expect_refused(&f->sb, &code, "blocks nested deeper than 1024");
    px_buf_reset(&code);
    nested(&code, PX_WASM_MAX_NESTING - 1); /* with the function's own */
    run(&f->sb, &code, 1);
    px_buf_free(&code);
}

static void test_br_table(void **state) {
    fixture *f = *state;
    px_buf code = PX_BUF_INIT;
    px_buf_append(&code, "\x41\x00\x0e", 3, NULL); /* i32.const 0; br_table */
    leb(&code, 70000);
    for (int i = 0; i <= 70000; i++)
        px_buf_append_u8(&code, 0, NULL);
    px_buf_append_u8(&code, 0x0b, NULL);
    expect_refused(&f->sb, &code, "br_table with 70000 targets, at most 65536");
    px_buf_free(&code);
}

static void test_big_body(void **state) {
    fixture *f = *state;
    px_buf code = PX_BUF_INIT;
    for (size_t i = 0; i < PX_WASM_MAX_BODY_BYTES; i++)
        px_buf_append_u8(&code, 0x01, NULL); /* nop */
    px_buf_append_u8(&code, 0x0b, NULL);
    expect_refused(&f->sb, &code, "bytes of code, at most 1048576");
    px_buf_free(&code);
}

static void test_unsupported_instructions(void **state) {
    fixture *f = *state;
    px_buf code = PX_BUF_INIT;
    px_buf_append(&code, "\xfd\x0c", 2, NULL); /* v128.const */
    for (int i = 0; i < 16; i++)
        px_buf_append_u8(&code, 0, NULL);
    px_buf_append(&code, "\x1a\x0b", 2, NULL);
    expect_refused(&f->sb, &code, "SIMD instructions are not supported");
    px_buf_reset(&code);
    px_buf_append(&code, "\x12\x00\x0b", 3, NULL); /* return_call 0 */
    expect_refused(&f->sb, &code, "tail calls are not supported");
    px_buf_reset(&code);
    px_buf_append(&code, "\x02\x40\x0b", 3, NULL); /* missing final end */
    expect_refused(&f->sb, &code, "truncated instruction");
    px_buf_free(&code);
}

/* A wasm2c that crashes, and one that fails without a word: each is named.
 * (Both answer --version, which init asks.) */
static void test_tool_failures_named(void **state) {
    fixture *f = *state;
    static const char *const scripts[2] = {
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 1.0.32; exit 0; }\n"
        "kill -SEGV $$\n",
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 1.0.32; exit 0; }\n"
        "exit 3\n"};
    static const char *const want[2] = {
        "wasm2c crashed on it (signal 11, Segmentation fault)",
        "wasm2c refused it (exit status 3, no message)"};
    for (int i = 0; i < 2; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/wasm2c-%d", f->dir, i);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(scripts[i], fp);
        fclose(fp);
        assert_int_equal(chmod(path, 0755), 0);
        px_sandbox sb;
        px_sandbox_tools t = {.cache_dir = f->cache, .work_dir = f->work,
                              .wasm2c = path};
        px_err err = {0};
        if (px_sandbox_init_tools(&sb, &t, &err))
            fail_msg("init: %s", err.msg);
        px_buf code = PX_BUF_INIT;
        px_buf_append_u8(&code, 0x0b, NULL);
        px_sandbox_result res = run(&sb, &code, 0);
        assert_int_equal(res.status, PX_SB_INVALID_MODULE);
        if (!strstr(res.reason, want[i]))
            fail_msg("reason '%s' lacks '%s'", res.reason, want[i]);
        px_buf_free(&code);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_br_table),
        cmocka_unit_test(test_big_body),
        cmocka_unit_test(test_unsupported_instructions),
        cmocka_unit_test(test_tool_failures_named),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
