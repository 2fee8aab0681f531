/* The input stream end to end: the bytes a task reads on standard input
 * are exactly the caller's, however the task reads them; each run of a
 * batch reads exactly its own group, whatever the run before it left
 * unread or how it ended; a task that reads nothing, or ends early, does
 * not hurt the caller (the feed meets a closed pipe). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pixiu/crypto.h"
#include "pixiu/sandbox.h"

#define BIG (80u << 20)

typedef struct fixture {
    char dir[256];
    char work[64];
    px_sandbox sb;
    px_buf hash_mod; /* task_stdin_sha256.c, built once */
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/sandbox-stream-XXXXXX", PX_BUILD_DIR);
    if (!mkdtemp(f->dir))
        return -1;
    char cache[300], wasm[300];
    snprintf(cache, sizeof cache, "%s/cache", f->dir);
    setenv("PIXIU_WASM_RUNNER", PX_BUILD_DIR "/pixiu-wasm-runner", 1);
    snprintf(f->work, sizeof f->work, "/dev/shm/pixiu-test-XXXXXX");
    if (!mkdtemp(f->work))
        return -1;
    px_sandbox_tools t = {.cache_dir = cache, .work_dir = f->work};
    px_err err = {0};
    snprintf(wasm, sizeof wasm, "%s/hash.wasm", f->dir);
    if (px_sandbox_init_tools(&f->sb, &t, &err) ||
        px_wasm_build(PX_SOURCE_DIR "/tests/unit/lambda/task_stdin_sha256.c",
                      wasm, PX_SOURCE_DIR "/sdk", &err) ||
        px_file_read(wasm, 1 << 20, &f->hash_mod, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", f->dir, f->work);
    px_buf_free(&f->hash_mod);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void limits(px_sandbox_limits *l, uint32_t cpu_ms) {
    px_sandbox_limits_default(l);
    l->cpu_ms = cpu_ms;
    l->max_output = 1 << 20;
    l->wall_ms = 120000; /* a loaded machine must not make this a timeout */
}

/* splitmix64 bytes: reproducible, no structure a bug could hide in. */
static void fill(px_buf *b, size_t n, uint64_t seed) {
    px_buf_reset(b);
    assert_int_equal(px_buf_reserve(b, n + 8, NULL), 0);
    for (size_t i = 0; i < n; i += 8) {
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        memcpy(b->data + i, &z, 8);
    }
    b->len = n;
}

/* The task's line for these bytes: "<sha256 hex> <length>\n". */
static void expect_hash(const uint8_t *p, size_t n, char *line, size_t cap) {
    uint8_t d[PX_SHA256_BYTES];
    char hex[2 * PX_SHA256_BYTES + 1];
    px_sha256(d, p, n);
    px_hex_encode(hex, d, sizeof d);
    snprintf(line, cap, "%s %zu\n", hex, n);
}

static void run_hash(fixture *f, const px_buf *in) {
    px_sandbox_limits l;
    limits(&l, 60000);
    px_sandbox_result res;
    px_buf out = PX_BUF_INIT;
    px_err err = {0};
    int rc = px_sandbox_run(&f->sb, f->hash_mod.data, f->hash_mod.len,
                            in->data, in->len, &l, &out, NULL, &res, &err);
    if (rc)
        fprintf(stderr, "%zu bytes: %s\n", in->len, res.reason);
    assert_int_equal(rc, 0);
    char want[128];
    expect_hash(in->data, in->len, want, sizeof want);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data, want, out.len);
    px_buf_free(&out);
}

/* 80 MiB reach the task intact: its SHA-256 is the caller's. */
static void test_hash_80mib(void **state) {
    fixture *f = *state;
    px_buf in = PX_BUF_INIT;
    fill(&in, BIG, 1);
    run_hash(f, &in);
    px_buf_free(&in);
}

/* Sizes around the edges: empty, one byte, both sides of the runner's
 * 16 KiB buffer and of the pipe's 1 MiB, and an odd size. Reads are
 * never short before the end, the end reads as 0, and again as 0. */
static void test_hash_edges(void **state) {
    fixture *f = *state;
    static const size_t sizes[] = {0, 1, 16383, 16384, 16385, 65536,
                                   (1u << 20) - 1, (1u << 20) + 1, 3000017};
    px_buf in = PX_BUF_INIT;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        fill(&in, sizes[i], 100 + i);
        run_hash(f, &in);
    }
    px_buf_free(&in);
}

#define WASI "(import \"wasi_snapshot_preview1\" "

/* Reads once, at most 10 bytes, and writes them back. Then, by the first
 * byte read: 'T' traps, 'S' spins until its CPU limit, 'X' exits with
 * status 7, anything else ends normally. */
static const char head_wat[] =
    "(module " WASI "\"fd_read\" (func $read (param i32 i32 i32 i32) (result i32)))"
    WASI "\"fd_write\" (func $write (param i32 i32 i32 i32) (result i32)))"
    WASI "\"proc_exit\" (func $exit (param i32)))"
    "(memory (export \"memory\") 1)"
    "(func (export \"_start\") (local $c i32)"
    " (i32.store (i32.const 0) (i32.const 1024))"
    " (i32.store (i32.const 4) (i32.const 10))"
    " (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))"
    " (i32.store (i32.const 4) (i32.load (i32.const 8)))"
    " (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))"
    " (local.set $c (select (i32.load8_u (i32.const 1024)) (i32.const 0)"
    "                       (i32.load (i32.const 8))))"
    " (if (i32.eq (local.get $c) (i32.const 84)) (then unreachable))"
    " (if (i32.eq (local.get $c) (i32.const 88)) (then (call $exit (i32.const 7))))"
    " (if (i32.eq (local.get $c) (i32.const 83)) (then (loop $spin (br $spin))))))";

/* Writes "hi" without reading any input. */
static const char noread_wat[] =
    "(module " WASI "\"fd_write\" (func $write (param i32 i32 i32 i32) (result i32)))"
    "(memory (export \"memory\") 1)"
    "(data (i32.const 64) \"hi\")"
    "(func (export \"_start\")"
    " (i32.store (i32.const 0) (i32.const 64))"
    " (i32.store (i32.const 4) (i32.const 2))"
    " (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))";

static void wat(fixture *f, const char *name, const char *src, px_buf *out) {
    char path[320], cmd[800];
    snprintf(path, sizeof path, "%s/%s.wat", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(src, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "wat2wasm '%s' -o '%s/%s.wasm'", path, f->dir, name);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/%s.wasm", f->dir, name);
    assert_int_equal(px_file_read(path, 1 << 20, out, NULL), 0);
}

/* Each run reads its own group, whatever the runs before it left unread
 * (nothing, a little, megabytes) and however they ended (a trap, an exit,
 * the CPU limit): groups out of order, overlapping, empty, large. */
static void test_groups_partial_reads(void **state) {
    fixture *f = *state;
    px_buf mod = PX_BUF_INIT, in = PX_BUF_INIT, out = PX_BUF_INIT;
    wat(f, "head", head_wat, &mod);
    fill(&in, 3u << 20, 7);
    for (size_t i = 0; i < in.len; i++) /* no accidental T, S or X */
        if (in.data[i] == 'T' || in.data[i] == 'S' || in.data[i] == 'X')
            in.data[i] = '.';
    static const size_t at[] = {1000, 2000, 3000};
    static const char mark[] = {'T', 'S', 'X'};
    for (int k = 0; k < 3; k++)
        in.data[at[k]] = (uint8_t)mark[k];
    const size_t off[] = {0, 5, 100, 1000, 3, 2000, 50000, 7, 3000, 0,
                          2u << 20, 1000, 9};
    const size_t len[] = {0, 3, 2500000, 40, 10, 5, 16384, 1, 11, 20,
                          (1u << 20) - 1, 1, 10};
    enum { N = sizeof off / sizeof off[0] };
    px_sandbox_run_out runs[N];
    px_sandbox_limits l;
    limits(&l, 300);
    px_sandbox_result res;
    px_err err = {0};
    int rc = px_sandbox_run_groups(&f->sb, mod.data, mod.len, in.data, off,
                                   len, N, &l, 0, &out, runs, &res, &err);
    if (rc)
        fprintf(stderr, "groups: %s\n", res.reason);
    assert_int_equal(rc, 0);
    for (size_t i = 0; i < N; i++) {
        size_t want = len[i] < 10 ? len[i] : 10;
        int c = len[i] ? in.data[off[i]] : 0;
        px_sandbox_status st = c == 'T'   ? PX_SB_TRAP
                               : c == 'S' ? PX_SB_CPU_LIMIT
                               : c == 'X' ? PX_SB_EXIT
                                          : PX_SB_OK;
        assert_int_equal(runs[i].status, st);
        if (st != PX_SB_OK)
            continue;
        assert_int_equal(runs[i].len, want);
        assert_memory_equal(out.data + runs[i].off, in.data + off[i], want);
    }
    px_buf_free(&mod);
    px_buf_free(&in);
    px_buf_free(&out);
}

/* A task that reads nothing of 8 MiB, or ends at once: the run is
 * unaffected, and the caller survives the closed pipe with SIGPIPE neither
 * raised nor left pending or blocked. */
static void test_unread_input(void **state) {
    fixture *f = *state;
    px_buf mod = PX_BUF_INIT, in = PX_BUF_INIT, out = PX_BUF_INIT;
    wat(f, "noread", noread_wat, &mod);
    fill(&in, 8u << 20, 9);
    px_sandbox_limits l;
    limits(&l, 2000);
    px_sandbox_result res;
    px_err err = {0};
    for (int i = 0; i < 3; i++) {
        px_buf_reset(&out);
        assert_int_equal(px_sandbox_run(&f->sb, mod.data, mod.len, in.data,
                                        in.len, &l, &out, NULL, &res, &err),
                         0);
        assert_int_equal(out.len, 2);
        assert_memory_equal(out.data, "hi", 2);
    }
    /* A batch whose every run reads nothing: each group is skipped. */
    const size_t off[] = {0, 1u << 20, 5}, len[] = {1u << 20, 3u << 20, 100};
    px_sandbox_run_out runs[3];
    px_buf_reset(&out);
    assert_int_equal(px_sandbox_run_groups(&f->sb, mod.data, mod.len,
                                           in.data, off, len, 3, &l, 0, &out,
                                           runs, &res, &err),
                     0);
    assert_int_equal(out.len, 6);
    sigset_t pend, mask;
    assert_int_equal(sigpending(&pend), 0);
    assert_false(sigismember(&pend, SIGPIPE));
    assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &mask), 0);
    assert_false(sigismember(&mask, SIGPIPE));
    px_buf_free(&mod);
    px_buf_free(&in);
    px_buf_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_80mib),
        cmocka_unit_test(test_hash_edges),
        cmocka_unit_test(test_groups_partial_reads),
        cmocka_unit_test(test_unread_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
