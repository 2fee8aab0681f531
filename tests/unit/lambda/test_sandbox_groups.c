/* Per-group runs: one runner process, a fresh instance per group.
 * What a run leaves behind (globals, memory, grown pages, tables) must not
 * be visible to the next; a run that fails ends only itself; a run reads
 * only its group; escaped native code still ends the whole batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lambda/sandbox_int.h"

typedef struct fixture {
    char dir[256];
    px_sandbox sb;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/sandbox-groups-XXXXXX", PX_BUILD_DIR);
    if (!mkdtemp(f->dir))
        return -1;
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", f->dir);
    setenv("PIXIU_WASM_RUNNER", PX_BUILD_DIR "/pixiu-wasm-runner", 1);
    px_err err = {0};
    if (px_sandbox_init(&f->sb, cache, &err)) {
        fprintf(stderr, "init: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void wat(fixture *f, const char *name, const char *src, px_buf *out) {
    char path[320], cmd[800];
    snprintf(path, sizeof path, "%s/%s.wat", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(src, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "wat2wasm '%s' -o '%s/%s.wasm'", path, f->dir,
             name);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/%s.wasm", f->dir, name);
    assert_int_equal(px_file_read(path, 1 << 20, out, NULL), 0);
}

static void limits(px_sandbox_limits *l) {
    px_sandbox_limits_default(l);
    l->cpu_ms = 300;
    l->mem_mb = 16;
    l->max_output = 100000;
    l->wall_ms = 60000;
}

#define WASI "(import \"wasi_snapshot_preview1\" "
#define WRITE WASI "\"fd_write\" (func $w (param i32 i32 i32 i32) (result i32)))"
#define READ WASI "\"fd_read\" (func $r (param i32 i32 i32 i32) (result i32)))"

/* Writes 7 words: ++global, ++(data word), memory.size, a word it then
 * dirties, a word in a page it grows and dirties, an indirect call, and
 * whether a table slot it then fills was empty. PAGES and MARK (the
 * dirtied address) are filled in, for a small and a large memory. */
static const char state_fmt[] =
    "(module " WRITE
    " (memory (export \"memory\") %u)"
    " (global $g (mut i32) (i32.const 5))"
    " (data (i32.const 256) \"\\64\\00\\00\\00\")"
    " (table 2 funcref) (elem (i32.const 0) $one) (elem declare func $one)"
    " (func $one (result i32) (i32.const 1))"
    " (func (export \"_start\") (local $top i32)"
    "  (global.set $g (i32.add (global.get $g) (i32.const 1)))"
    "  (i32.store (i32.const 512) (global.get $g))"
    "  (i32.store (i32.const 256) (i32.add (i32.load (i32.const 256)) (i32.const 1)))"
    "  (i32.store (i32.const 516) (i32.load (i32.const 256)))"
    "  (i32.store (i32.const 520) (memory.size))"
    "  (i32.store (i32.const 524) (i32.load (i32.const %u)))"
    "  (i32.store (i32.const %u) (i32.const 57005))"
    "  (local.set $top (i32.mul (memory.grow (i32.const 1)) (i32.const 65536)))"
    "  (i32.store (i32.const 528) (i32.load offset=8 (local.get $top)))"
    "  (i32.store offset=8 (local.get $top) (i32.const 48879))"
    "  (i32.store (i32.const 532) (call_indirect (result i32) (i32.const 0)))"
    "  (i32.store (i32.const 536) (ref.is_null (table.get 0 (i32.const 1))))"
    "  (table.set 0 (i32.const 1) (ref.func $one))"
    "  (i32.store (i32.const 0) (i32.const 512))"
    "  (i32.store (i32.const 4) (i32.const 28))"
    "  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))";

static void fresh_state(fixture *f, unsigned pages, unsigned mark) {
    char src[4096], name[32];
    snprintf(src, sizeof src, state_fmt, pages, mark, mark);
    snprintf(name, sizeof name, "state%u", pages);
    px_buf m = PX_BUF_INIT, out = PX_BUF_INIT;
    wat(f, name, src, &m);
    px_sandbox_limits l;
    limits(&l);
    enum { N = 5 };
    size_t off[N] = {0}, len[N] = {0};
    px_sandbox_run_out runs[N];
    px_sandbox_result res;
    px_err err = {0};
    if (px_sandbox_run_groups(&f->sb, m.data, m.len, NULL, off, len, N, &l, 0,
                              &out, runs, &res, &err))
        fail_msg("groups: %s", err.msg);
    assert_int_equal(out.len, N * 28);
    for (int i = 0; i < N; i++) {
        assert_int_equal(runs[i].status, PX_SB_OK);
        assert_int_equal(runs[i].off, (size_t)i * 28);
        assert_int_equal(runs[i].len, 28);
        assert_int_equal(runs[i].pages, pages + 1);
        const uint8_t *w = out.data + runs[i].off;
        assert_int_equal(px_load_u32le(w), 6);        /* global */
        assert_int_equal(px_load_u32le(w + 4), 101);  /* data segment */
        assert_int_equal(px_load_u32le(w + 8), pages); /* memory.size */
        assert_int_equal(px_load_u32le(w + 12), 0);   /* dirtied word */
        assert_int_equal(px_load_u32le(w + 16), 0);   /* grown page */
        assert_int_equal(px_load_u32le(w + 20), 1);   /* indirect call */
        assert_int_equal(px_load_u32le(w + 24), 1);   /* table slot empty */
    }
    px_buf_free(&m);
    px_buf_free(&out);
}

/* Small memory: reset by memset; large: by discarding the pages. */
static void test_fresh_state(void **state) {
    fresh_state(*state, 1, 1024);
    fresh_state(*state, 12, 700000);
}

/* Echo, preceded by the size fd_filestat_get reports for fd 0. */
static const char sized_echo_wat[] =
    "(module " READ WRITE
    WASI "\"fd_filestat_get\" (func $st (param i32 i32) (result i32)))"
    " (memory (export \"memory\") 2)"
    " (func (export \"_start\") (local $n i32)"
    "  (drop (call $st (i32.const 0) (i32.const 2048)))"
    "  (i32.store (i32.const 0) (i32.const 2080))"
    "  (i32.store (i32.const 4) (i32.const 8))"
    "  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))"
    "  (block $done (loop $l"
    "   (i32.store (i32.const 0) (i32.const 4096))"
    "   (i32.store (i32.const 4) (i32.const 3))"
    "   (drop (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))"
    "   (local.set $n (i32.load (i32.const 8)))"
    "   (br_if $done (i32.eqz (local.get $n)))"
    "   (i32.store (i32.const 4) (local.get $n))"
    "   (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))"
    "   (br $l)))))";

/* Each run reads exactly its group: out of order, empty, at the end. */
static void test_group_inputs(void **state) {
    fixture *f = *state;
    px_buf m = PX_BUF_INIT, out = PX_BUF_INIT;
    wat(f, "sized", sized_echo_wat, &m);
    static const char in[] = "aaaa|bb|-|cccccccccc";
    size_t off[] = {5, 0, 3, 10, 0};
    size_t len[] = {2, 4, 0, 10, 20};
    enum { N = 5 };
    px_sandbox_limits l;
    limits(&l);
    px_sandbox_run_out runs[N];
    px_sandbox_result res;
    px_err err = {0};
    px_buf_append_str(&out, "kept", NULL); /* out is appended to */
    if (px_sandbox_run_groups(&f->sb, m.data, m.len, (const uint8_t *)in, off,
                              len, N, &l, 0, &out, runs, &res, &err))
        fail_msg("groups: %s", err.msg);
    assert_memory_equal(out.data, "kept", 4);
    size_t at = 4;
    for (int i = 0; i < N; i++) {
        assert_int_equal(runs[i].status, PX_SB_OK);
        assert_int_equal(runs[i].off, at);
        assert_int_equal(runs[i].len, 8 + len[i]);
        assert_int_equal(px_load_u64le(out.data + at), len[i]);
        assert_memory_equal(out.data + at + 8, in + off[i], len[i]);
        at += runs[i].len;
    }
    assert_int_equal(out.len, at);
    px_buf_free(&m);
    px_buf_free(&out);
}

/* The first input byte picks a way to fail; other runs echo that byte. */
static const char chooser_wat[] =
    "(module " READ WRITE
    WASI "\"proc_exit\" (func $exit (param i32)))"
    " (type $t (func (param i32) (result i32)))"
    " (table 1 funcref) (elem (i32.const 0) $deep)"
    " (memory (export \"memory\") 2)"
    " (func $deep (type $t) (param i32) (result i32)"
    "  (i32.add (call_indirect (type $t) (i32.add (local.get 0) (i32.const 1))"
    "   (i32.const 0)) (i32.load (i32.const 0))))"
    " (func (export \"_start\") (local $c i32)"
    "  (i32.store (i32.const 0) (i32.const 100))"
    "  (i32.store (i32.const 4) (i32.const 1))"
    "  (drop (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))"
    "  (local.set $c (i32.load8_u (i32.const 100)))"
    "  (if (i32.eq (local.get $c) (i32.const 84)) (then unreachable))"           /* T */
    "  (if (i32.eq (local.get $c) (i32.const 69)) (then (call $exit (i32.const 1))))" /* E */
    "  (if (i32.eq (local.get $c) (i32.const 67)) (then (loop (br 0))))"        /* C */
    "  (if (i32.eq (local.get $c) (i32.const 77)) (then"                         /* M */
    "   (loop (br_if 0 (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))"
    "   unreachable))"
    "  (if (i32.eq (local.get $c) (i32.const 79)) (then"                         /* O */
    "   (i32.store (i32.const 4) (i32.const 65536))"
    "   (loop (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1)"
    "    (i32.const 8))) (br 0))))"
    "  (if (i32.eq (local.get $c) (i32.const 83)) (then"                         /* S */
    "   (drop (call $deep (i32.const 0)))))"
    "  (i32.store (i32.const 4) (i32.const 1))"
    "  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))";

static void test_failures_isolated(void **state) {
    fixture *f = *state;
    px_buf m = PX_BUF_INIT, out = PX_BUF_INIT;
    wat(f, "chooser", chooser_wat, &m);
    static const char in[] = "aTbEcCdMeOfSg";
    enum { N = sizeof in - 1 };
    size_t off[N], len[N];
    for (size_t i = 0; i < N; i++) {
        off[i] = i;
        len[i] = 1;
    }
    px_sandbox_limits l;
    limits(&l);
    px_sandbox_run_out runs[N];
    px_sandbox_result res;
    px_err err = {0};
    if (px_sandbox_run_groups(&f->sb, m.data, m.len, (const uint8_t *)in, off,
                              len, N, &l, 0, &out, runs, &res, &err))
        fail_msg("groups: %s", err.msg);
    static const px_sandbox_status want[N] = {
        PX_SB_OK, PX_SB_TRAP, PX_SB_OK, PX_SB_EXIT, PX_SB_OK,
        PX_SB_CPU_LIMIT, PX_SB_OK, PX_SB_MEMORY_LIMIT, PX_SB_OK,
        PX_SB_OUTPUT_LIMIT, PX_SB_OK, PX_SB_TRAP, PX_SB_OK};
    for (size_t i = 0; i < N; i++) {
        if (runs[i].status != want[i])
            fail_msg("run %zu (%c): %s, want %s", i, in[i],
                     px_sandbox_status_name(runs[i].status),
                     px_sandbox_status_name(want[i]));
        if (want[i] == PX_SB_OK) {
            assert_int_equal(runs[i].len, 1);
            assert_int_equal(out.data[runs[i].off], in[i]);
        } else {
            assert_int_equal(runs[i].len, 0);
        }
    }
    assert_int_equal(runs[1].trap, PX_TRAP_UNREACHABLE);
    assert_int_equal(runs[3].exit_code, 1);
    assert_true(runs[5].cpu_us >= 200000);
    assert_int_equal(runs[7].pages, 16 * 16);
    assert_int_equal(runs[11].trap, PX_TRAP_STACK_EXHAUSTION);
    assert_int_equal(out.len, 7);
    assert_memory_equal(out.data, "abcdefg", 7);
    /* A data segment outside memory traps while instantiating: every run
     * of the batch reports it, the batch itself ended. */
    px_buf_reset(&m);
    wat(f, "badseg", "(module (memory (export \"memory\") 1)"
                     " (data (i32.const 65535) \"ab\") (func (export \"_start\")))",
        &m);
    px_buf_reset(&out);
    if (px_sandbox_run_groups(&f->sb, m.data, m.len, (const uint8_t *)in, off,
                              len, 3, &l, 0, &out, runs, &res, &err))
        fail_msg("groups: %s", err.msg);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(runs[i].status, PX_SB_TRAP);
        assert_int_equal(runs[i].trap, PX_TRAP_OOB);
    }
    px_buf_free(&m);
    px_buf_free(&out);
}

/* The whole batch's CPU bound: used up, the batch fails by name and
 * appends nothing. */
static void test_total_cpu(void **state) {
    fixture *f = *state;
    px_buf m = PX_BUF_INIT, out = PX_BUF_INIT;
    wat(f, "spin", "(module (memory (export \"memory\") 1)"
                   " (func (export \"_start\") (loop (br 0))))", &m);
    size_t off[4] = {0}, len[4] = {0};
    px_sandbox_limits l;
    limits(&l);
    px_sandbox_run_out runs[4];
    px_sandbox_result res;
    px_err err = {0};
    px_buf_append_str(&out, "kept", NULL);
    assert_int_equal(px_sandbox_run_groups(&f->sb, m.data, m.len, NULL, off,
                                           len, 4, &l, 500, &out, runs, &res,
                                           &err), -1);
    assert_int_equal(res.status, PX_SB_CPU_LIMIT);
    assert_non_null(strstr(res.reason, "cpu-limit: 500 ms"));
    assert_string_equal(err.msg, res.reason);
    assert_int_equal(out.len, 4);
    px_buf_free(&m);
    px_buf_free(&out);
}

/* Native code that escaped wasm makes a system call in its second run:
 * the whole batch ends as forbidden-syscall, with nothing appended. */
static void test_forbidden_syscall_batch(void **state) {
    fixture *f = *state;
    char src[320], so[320], cmd[1024];
    snprintf(src, sizeof src, "%s/escape.c", f->dir);
    snprintf(so, sizeof so, "%s/escape.so", f->dir);
    FILE *fp = fopen(src, "w");
    assert_non_null(fp);
    fputs("#include <stddef.h>\n#include <unistd.h>\n#include <wasm-rt.h>\n"
          "static wasm_rt_memory_t mem;\nstatic int runs;\n"
          "void px_rt_allocate_memory(wasm_rt_memory_t *, uint32_t, uint32_t);\n"
          "unsigned px_glue_abi(void) { return 2; }\n"
          "size_t px_glue_instance_size(void) { return 8; }\n"
          "void px_glue_instantiate(void *i, void *h) {"
          " px_rt_allocate_memory(&mem, 1, 1); }\n"
          "wasm_rt_memory_t *px_glue_memory(void *i) { return &mem; }\n"
          "void px_glue_start(void *i) { if (runs++ == 1) getppid(); }\n", fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "gcc -O2 -shared -fPIC -o '%s' '%s'", so, src);
    assert_int_equal(system(cmd), 0);
    size_t off[3] = {0}, len[3] = {0};
    px_sandbox_limits l;
    limits(&l);
    px_sandbox_run_out runs[3];
    px_sandbox_result res;
    px_buf out = PX_BUF_INIT, bytes = PX_BUF_INIT;
    px_err err = {0};
    px_sandbox_object obj;
    assert_int_equal(px_file_read(so, 1 << 24, &bytes, NULL), 0);
    assert_int_equal(px_sandbox_object_from_bytes(bytes.data, bytes.len, &obj,
                                                  NULL), 0);
    px_buf_free(&bytes);
    assert_int_equal(px_sb_run_batch(&f->sb, &obj, NULL, off, len, 3, &l, 0,
                                     NULL, &out, runs, &res, &err), -1);
    px_sandbox_object_free(&obj);
    if (res.status != PX_SB_FORBIDDEN_SYSCALL || !strstr(res.reason, "getppid"))
        fail_msg("got %s", res.reason);
    assert_int_equal(out.len, 0);
    px_buf_free(&out);
}

/* A granted random stream: a function of (seed, group index). */
static void test_random_per_group(void **state) {
    fixture *f = *state;
    px_buf m = PX_BUF_INIT, a = PX_BUF_INIT, b = PX_BUF_INIT,
           one = PX_BUF_INIT;
    wat(f, "rand",
        "(module " WASI "\"random_get\" (func $g (param i32 i32) (result i32)))"
        WRITE " (memory (export \"memory\") 1)"
        " (func (export \"_start\")"
        "  (drop (call $g (i32.const 100) (i32.const 16)))"
        "  (i32.store (i32.const 0) (i32.const 100))"
        "  (i32.store (i32.const 4) (i32.const 16))"
        "  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))",
        &m);
    px_sandbox_limits l;
    limits(&l);
    l.grant_random = 1;
    memset(l.random_seed, 9, sizeof l.random_seed);
    size_t off[3] = {0}, len[3] = {0};
    px_sandbox_run_out runs[3];
    px_sandbox_result res;
    assert_int_equal(px_sandbox_run_groups(&f->sb, m.data, m.len, NULL, off, len,
                                           3, &l, 0, &a, runs, &res, NULL), 0);
    assert_int_equal(px_sandbox_run_groups(&f->sb, m.data, m.len, NULL, off, len,
                                           3, &l, 0, &b, runs, &res, NULL), 0);
    assert_int_equal(px_sandbox_run(&f->sb, m.data, m.len, NULL, 0, &l, &one,
                                    NULL, &res, NULL), 0);
    assert_int_equal(a.len, 48);
    assert_memory_equal(a.data, b.data, 48);
    assert_memory_equal(a.data, one.data, 16); /* group 0 = a single run */
    assert_memory_not_equal(a.data, a.data + 16, 16);
    assert_memory_not_equal(a.data + 16, a.data + 32, 16);
    px_buf_free(&m);
    px_buf_free(&a);
    px_buf_free(&b);
    px_buf_free(&one);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_state),
        cmocka_unit_test(test_group_inputs),
        cmocka_unit_test(test_failures_isolated),
        cmocka_unit_test(test_total_cpu),
        cmocka_unit_test(test_forbidden_syscall_batch),
        cmocka_unit_test(test_random_per_group),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
