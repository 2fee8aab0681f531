/* The sandbox end to end: real wasm2c, gcc, runner process and seccomp.
 * Hostile modules are written in the text format and assembled with wabt's
 * wat2wasm at test time; each must end in its named outcome within its
 * limit, and a well-behaved run afterwards must be unaffected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pixiu/sandbox.h"

#define CPU_MS 1500
#define MEM_MB 16

typedef struct fixture {
    char dir[256];
    char work[64]; /* this test's own memory-backed work directory */
    px_sandbox sb;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/sandbox-test-XXXXXX", PX_BUILD_DIR);
    if (!mkdtemp(f->dir))
        return -1;
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", f->dir);
    setenv("PIXIU_WASM_RUNNER", PX_BUILD_DIR "/pixiu-wasm-runner", 1);
    snprintf(f->work, sizeof f->work, "/dev/shm/pixiu-test-XXXXXX");
    if (!mkdtemp(f->work))
        return -1;
    px_sandbox_tools t = {.cache_dir = cache, .work_dir = f->work};
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
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* Assemble text-format source into module bytes. */
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

static void limits(px_sandbox_limits *l) {
    px_sandbox_limits_default(l);
    l->cpu_ms = CPU_MS;
    l->mem_mb = MEM_MB;
    l->max_output = 1 << 20;
    /* A loaded test machine must not turn CPU-bound outcomes into
     * timeouts; the timeout test sets its own short wall clock. */
    l->wall_ms = 30000;
}

#define WASI "(import \"wasi_snapshot_preview1\" "

/* Copies standard input to standard output. */
static const char echo_wat[] =
    "(module " WASI "\"fd_read\" (func $read (param i32 i32 i32 i32) (result i32)))"
    WASI "\"fd_write\" (func $write (param i32 i32 i32 i32) (result i32)))"
    "(memory (export \"memory\") 2)"
    "(func (export \"_start\") (local $n i32)"
    " (block $done (loop $l"
    "  (i32.store (i32.const 0) (i32.const 1024))"
    "  (i32.store (i32.const 4) (i32.const 60000))"
    "  (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))"
    "  (local.set $n (i32.load (i32.const 8)))"
    "  (br_if $done (i32.eqz (local.get $n)))"
    "  (i32.store (i32.const 4) (local.get $n))"
    "  (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))"
    "  (br $l)))))";

static void run_ok_echo(fixture *f) {
    px_buf m = PX_BUF_INIT, out = PX_BUF_INIT;
    px_sandbox_limits l;
    px_sandbox_result res;
    px_err err = {0};
    static const char input[] = "the next run is unaffected\n";
    wat(f, "echo", echo_wat, &m);
    limits(&l);
    int rc = px_sandbox_run(&f->sb, m.data, m.len, (const uint8_t *)input,
                            sizeof input - 1, &l, &out, NULL, &res, &err);
    if (rc)
        fail_msg("echo failed: %s", err.msg);
    assert_int_equal(res.status, PX_SB_OK);
    assert_int_equal(out.len, sizeof input - 1);
    assert_memory_equal(out.data, input, out.len);
    px_buf_free(&m);
    px_buf_free(&out);
}

/* Run a module and expect an outcome whose reason contains needle; then
 * check a normal run still works. */
static px_sandbox_result expect(fixture *f, const char *name, const char *src,
                                const px_sandbox_limits *l,
                                px_sandbox_status want, const char *needle) {
    px_buf m = PX_BUF_INIT, out = PX_BUF_INIT;
    px_sandbox_result res;
    px_err err = {0};
    wat(f, name, src, &m);
    uint64_t t0 = px_mono_ns();
    int rc = px_sandbox_run(&f->sb, m.data, m.len, NULL, 0, l, &out, NULL,
                            &res, &err);
    uint64_t ms = (px_mono_ns() - t0) / 1000000;
    if (res.status != want || (needle && !strstr(res.reason, needle)))
        fail_msg("%s: got %s (%s), want %s with '%s'", name,
                 px_sandbox_status_name(res.status), res.reason,
                 px_sandbox_status_name(want), needle ? needle : "");
    assert_int_equal(rc, want == PX_SB_OK ? 0 : -1);
    if (want != PX_SB_OK) {
        assert_int_equal(out.len, 0); /* nothing partial */
        assert_string_equal(err.msg, res.reason);
    }
    /* Within its limit: compile time plus the wall clock, with room. */
    assert_true(ms < l->wall_ms + 30000);
    px_buf_free(&m);
    px_buf_free(&out);
    run_ok_echo(f);
    return res;
}

static void test_echo(void **state) { run_ok_echo(*state); }

/* Tool versions are asked once and remembered in the cache, keyed by the
 * binaries; a second sandbox on the same cache gets the same toolchain id,
 * and a memo that goes missing is simply asked for again. */
static void test_toolchain_memo(void **state) {
    fixture *f = *state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test $(ls '%s/cache' | grep -c '^tool-') -eq 2", f->dir);
    assert_int_equal(system(cmd), 0);
    px_sandbox again;
    px_err err = {0};
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", f->dir);
    if (px_sandbox_init(&again, cache, &err))
        fail_msg("init: %s", err.msg);
    assert_string_equal(again.toolchain, f->sb.toolchain);
    snprintf(cmd, sizeof cmd, "rm -f '%s/cache'/tool-*", f->dir);
    assert_int_equal(system(cmd), 0);
    if (px_sandbox_init(&again, cache, &err))
        fail_msg("init: %s", err.msg);
    assert_string_equal(again.toolchain, f->sb.toolchain);
}

static void test_infinite_loop(void **state) {
    px_sandbox_limits l;
    limits(&l);
    l.cpu_ms = 300;
    px_sandbox_result r = expect(*state, "loop",
        "(module (memory (export \"memory\") 1)"
        " (func (export \"_start\") (loop (br 0))))",
        &l, PX_SB_CPU_LIMIT, "cpu-limit: 300 ms");
    assert_true(r.cpu_us >= 200000); /* tick-sampled timer vs precise rusage */
}

static void test_wall_timeout(void **state) {
    px_sandbox_limits l;
    limits(&l);
    l.cpu_ms = 20000;
    l.wall_ms = 300;
    expect(*state, "loop2",
           "(module (memory (export \"memory\") 1)"
           " (func (export \"_start\") (loop (br 0))) (func (drop (i32.const 2))))",
           &l, PX_SB_TIMEOUT, "timeout: no result");
}

static void test_memory_bomb(void **state) {
    px_sandbox_limits l;
    limits(&l);
    px_sandbox_result r = expect(*state, "grow",
        "(module (memory (export \"memory\") 1)"
        " (func (export \"_start\")"
        "  (loop (br_if 0 (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))"
        "  unreachable))",
        &l, PX_SB_MEMORY_LIMIT, "memory-limit: memory.grow refused");
    assert_int_equal(r.pages, MEM_MB * 16);
}

static void test_deep_recursion(void **state) {
    px_sandbox_limits l;
    limits(&l);
    /* Through call_indirect so the C compiler cannot make it a loop. */
    px_sandbox_result r = expect(*state, "recurse",
        "(module (type $t (func (param i32) (result i32)))"
        " (table 1 funcref) (elem (i32.const 0) $f)"
        " (memory (export \"memory\") 1)"
        " (func $f (type $t) (param i32) (result i32)"
        "  (i32.add (call_indirect (type $t) (i32.add (local.get 0) (i32.const 1))"
        "   (i32.const 0)) (i32.load (i32.const 0))))"
        " (func (export \"_start\") (drop (call $f (i32.const 0)))))",
        &l, PX_SB_TRAP, "trap: stack exhaustion");
    assert_int_equal(r.trap, PX_TRAP_STACK_EXHAUSTION);
}

static void test_traps(void **state) {
    px_sandbox_limits l;
    limits(&l);
    px_sandbox_result r = expect(*state, "oob",
        "(module (memory (export \"memory\") 1)"
        " (func (export \"_start\") (drop (i32.load (i32.const 65535)))))",
        &l, PX_SB_TRAP, "out of bounds");
    assert_int_equal(r.trap, PX_TRAP_OOB);
    r = expect(*state, "unreachable",
               "(module (memory (export \"memory\") 1)"
               " (func (export \"_start\") unreachable))",
               &l, PX_SB_TRAP, "unreachable");
    assert_int_equal(r.trap, PX_TRAP_UNREACHABLE);
    /* Segments outside their memory or table trap while instantiating. */
    expect(*state, "dataseg",
           "(module (memory (export \"memory\") 1) (data (i32.const 65535) \"ab\")"
           " (func (export \"_start\")))",
           &l, PX_SB_TRAP, "trap: out of bounds");
    expect(*state, "elemseg",
           "(module (memory (export \"memory\") 1) (table 1 funcref)"
           " (elem (i32.const 5) $f) (func $f) (func (export \"_start\")))",
           &l, PX_SB_TRAP, "trap: out of bounds");
    expect(*state, "div",
           "(module (memory (export \"memory\") 1) (func (export \"_start\")"
           " (drop (i32.div_u (i32.const 1) (i32.load (i32.const 0))))))",
           &l, PX_SB_TRAP, "divide by zero");
}

static void test_exit_and_output(void **state) {
    px_sandbox_limits l;
    limits(&l);
    px_sandbox_result r = expect(*state, "exit7",
        "(module " WASI "\"proc_exit\" (func $exit (param i32)))"
        " (memory (export \"memory\") 1)"
        " (func (export \"_start\") (call $exit (i32.const 7))))",
        &l, PX_SB_EXIT, "status 7");
    assert_int_equal(r.exit_code, 7);
    /* Writes 64 KiB blocks forever: the output limit ends it. */
    expect(*state, "flood",
           "(module " WASI "\"fd_write\" (func $w (param i32 i32 i32 i32) (result i32)))"
           " (memory (export \"memory\") 2)"
           " (func (export \"_start\")"
           "  (i32.store (i32.const 0) (i32.const 0))"
           "  (i32.store (i32.const 4) (i32.const 65536))"
           "  (loop (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1)"
           "   (i32.const 8))) (br 0))))",
           &l, PX_SB_OUTPUT_LIMIT, "output-limit: more than");
}

static void test_refused_modules(void **state) {
    fixture *f = *state;
    px_sandbox_limits l;
    limits(&l);
    expect(f, "unknown",
           "(module " WASI "\"sock_open\" (func))"
           " (memory (export \"memory\") 1) (func (export \"_start\")))",
           &l, PX_SB_INVALID_MODULE, "unknown import");
    expect(f, "inject",
           "(module (memory (export \"memory\") 1) (func (export \"_start\"))"
           " (func (export \"a*/ int evil = 1; /*\")))",
           &l, PX_SB_INVALID_MODULE, "A-Za-z0-9_");
    expect(f, "huge",
           "(module (memory (export \"memory\") 65536) (func (export \"_start\")))",
           &l, PX_SB_INVALID_MODULE, "exceeds the limit");
    /* Not wasm, and truncated: straight bytes. */
    px_buf out = PX_BUF_INIT;
    px_sandbox_result res;
    static const uint8_t elf[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
    assert_int_equal(px_sandbox_run(&f->sb, elf, sizeof elf, NULL, 0, &l, &out,
                                    NULL, &res, NULL), -1);
    assert_int_equal(res.status, PX_SB_INVALID_MODULE);
    px_buf m = PX_BUF_INIT;
    wat(f, "echo", echo_wat, &m);
    assert_int_equal(px_sandbox_run(&f->sb, m.data, m.len - 3, NULL, 0, &l,
                                    &out, NULL, &res, NULL), -1);
    assert_int_equal(res.status, PX_SB_INVALID_MODULE);
    /* Valid framing, invalid code: wasm2c's own validator refuses it. */
    px_buf_reset(&m);
    wat(f, "badcode", "(module (memory (export \"memory\") 1)"
                      " (func (export \"_start\") (drop (i32.const 1))))", &m);
    /* Replace the drop (0x1a) with i32.add (0x6a): a stack underflow. */
    uint8_t *p = memchr(m.data + m.len - 4, 0x1a, 4);
    assert_non_null(p);
    *p = 0x6a;
    assert_int_equal(px_sandbox_run(&f->sb, m.data, m.len, NULL, 0, &l, &out,
                                    NULL, &res, NULL), -1);
    assert_int_equal(res.status, PX_SB_INVALID_MODULE);
    assert_non_null(strstr(res.reason, "wasm2c"));
    px_buf_free(&m);
    px_buf_free(&out);
    run_ok_echo(f);
}

/* Native code that escaped wasm (a crafted object standing in for a
 * compiler bug) tries system calls: the filter stops each. */
static void crafted(fixture *f, const char *name, const char *body,
                    const char *needle) {
    char src[320], so[320], cmd[1024];
    snprintf(src, sizeof src, "%s/%s.c", f->dir, name);
    snprintf(so, sizeof so, "%s/%s.so", f->dir, name);
    FILE *fp = fopen(src, "w");
    assert_non_null(fp);
    fprintf(fp,
            "#include <stddef.h>\n#include <fcntl.h>\n#include <sys/mman.h>\n"
            "#include <unistd.h>\n#include <wasm-rt.h>\n"
            "static wasm_rt_memory_t mem;\n"
            "void px_rt_allocate_memory(wasm_rt_memory_t *, uint32_t, uint32_t);\n"
            "unsigned px_glue_abi(void) { return 2; }\n"
            "size_t px_glue_instance_size(void) { return 8; }\n"
            "void px_glue_instantiate(void *i, void *h) {"
            " px_rt_allocate_memory(&mem, 1, 1); }\n"
            "wasm_rt_memory_t *px_glue_memory(void *i) { return &mem; }\n"
            "void px_glue_start(void *i) { %s }\n", body);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "gcc -O2 -shared -fPIC -o '%s' '%s'", so, src);
    assert_int_equal(system(cmd), 0);
    px_sandbox_limits l;
    limits(&l);
    px_buf out = PX_BUF_INIT, bytes = PX_BUF_INIT;
    px_sandbox_result res;
    px_sandbox_object obj;
    assert_int_equal(px_file_read(so, 1 << 24, &bytes, NULL), 0);
    assert_int_equal(px_sandbox_object_from_bytes(bytes.data, bytes.len, &obj,
                                                  NULL), 0);
    px_buf_free(&bytes);
    assert_int_equal(px_sandbox_run_object(&f->sb, &obj, NULL, 0, &l, &out,
                                           NULL, &res, NULL), -1);
    px_sandbox_object_free(&obj);
    if (res.status != PX_SB_FORBIDDEN_SYSCALL || !strstr(res.reason, needle))
        fail_msg("%s: got %s (%s)", name, px_sandbox_status_name(res.status),
                 res.reason);
    px_buf_free(&out);
    run_ok_echo(f);
}

static void test_forbidden_syscalls(void **state) {
    fixture *f = *state;
    crafted(f, "open", "open(\"/etc/passwd\", O_RDONLY);", "openat");
    crafted(f, "getpid", "getpid();", "getpid");
    crafted(f, "execmem",
            "mprotect(mem.data, 65536, PROT_READ | PROT_EXEC);", "mprotect");
    crafted(f, "readfd", "char c; read(5, &c, 1);", "read");
    crafted(f, "fork", "fork();", "clone");
}

/* Two processes compiling the same module into an empty cache both get a
 * complete object; then it is cached. */
static void test_cache(void **state) {
    fixture *f = *state;
    px_buf m = PX_BUF_INIT;
    wat(f, "cached", "(module (memory (export \"memory\") 1)"
                     " (func (export \"_start\") (nop) (nop)))", &m);
    px_sandbox_limits l;
    limits(&l);
    pid_t kids[2];
    for (int i = 0; i < 2; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            px_sandbox_object so;
            px_sandbox_result res;
            _exit(px_sandbox_compile(&f->sb, m.data, m.len, &l, &so, &res, NULL)
                      ? 1 : 0);
        }
    }
    for (int i = 0; i < 2; i++) {
        int st;
        assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    px_sandbox_object so;
    px_sandbox_result res;
    assert_int_equal(px_sandbox_compile(&f->sb, m.data, m.len, &l, &so, &res, NULL), 0);
    assert_int_equal(res.cached, 1);
    px_buf out = PX_BUF_INIT;
    assert_int_equal(px_sandbox_run_object(&f->sb, &so, NULL, 0, &l, &out, NULL,
                                           &res, NULL), 0);
    px_sandbox_object_free(&so);
    px_buf_free(&out);
    px_buf_free(&m);
}

/* random_get: refused unless granted; granted, a function of the seed. */
static void test_random_grant(void **state) {
    fixture *f = *state;
    px_buf m = PX_BUF_INIT;
    wat(f, "random",
        "(module " WASI "\"random_get\" (func $r (param i32 i32) (result i32)))"
        WASI "\"fd_write\" (func $w (param i32 i32 i32 i32) (result i32)))"
        " (memory (export \"memory\") 1)"
        " (func (export \"_start\")"
        "  (i32.store (i32.const 100) (call $r (i32.const 104) (i32.const 16)))"
        "  (i32.store (i32.const 0) (i32.const 100))"
        "  (i32.store (i32.const 4) (i32.const 20))"
        "  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))",
        &m);
    px_sandbox_limits l;
    limits(&l);
    px_buf a = PX_BUF_INIT, b = PX_BUF_INIT, c = PX_BUF_INIT;
    px_sandbox_result res;
    assert_int_equal(px_sandbox_run(&f->sb, m.data, m.len, NULL, 0, &l, &a,
                                    NULL, &res, NULL), 0);
    assert_int_equal(a.len, 20);
    assert_int_equal(px_load_u32le(a.data), 52); /* ENOSYS */
    l.grant_random = 1;
    memset(l.random_seed, 7, sizeof l.random_seed);
    assert_int_equal(px_sandbox_run(&f->sb, m.data, m.len, NULL, 0, &l, &b,
                                    NULL, &res, NULL), 0);
    assert_int_equal(px_sandbox_run(&f->sb, m.data, m.len, NULL, 0, &l, &c,
                                    NULL, &res, NULL), 0);
    assert_int_equal(px_load_u32le(b.data), 0);
    assert_memory_equal(b.data, c.data, 20);
    static const uint8_t zero[16];
    assert_memory_not_equal(b.data + 4, zero, 16);
    px_buf_free(&a);
    px_buf_free(&b);
    px_buf_free(&c);
    px_buf_free(&m);
}

/* clock_time_get: refused unless granted; granted, coarse (10 ms). */
static void test_clock_grant(void **state) {
    fixture *f = *state;
    px_buf m = PX_BUF_INIT;
    wat(f, "clock",
        "(module " WASI "\"clock_time_get\" (func $c (param i32 i64 i32) (result i32)))"
        WASI "\"fd_write\" (func $w (param i32 i32 i32 i32) (result i32)))"
        " (memory (export \"memory\") 1)"
        " (func (export \"_start\")"
        "  (i32.store (i32.const 100) (call $c (i32.const 0) (i64.const 1) (i32.const 104)))"
        "  (i32.store (i32.const 0) (i32.const 100))"
        "  (i32.store (i32.const 4) (i32.const 12))"
        "  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))",
        &m);
    px_sandbox_limits l;
    limits(&l);
    px_buf a = PX_BUF_INIT, b = PX_BUF_INIT;
    px_sandbox_result res;
    assert_int_equal(px_sandbox_run(&f->sb, m.data, m.len, NULL, 0, &l, &a,
                                    NULL, &res, NULL), 0);
    assert_int_equal(a.len, 12);
    assert_int_equal(px_load_u32le(a.data), 52); /* ENOSYS */
    l.grant_clock = 1;
    assert_int_equal(px_sandbox_run(&f->sb, m.data, m.len, NULL, 0, &l, &b,
                                    NULL, &res, NULL), 0);
    assert_int_equal(px_load_u32le(b.data), 0);
    uint64_t ns = px_load_u64le(b.data + 4);
    assert_int_equal(ns % 10000000u, 0);
    assert_true(ns / 1000000u + 60000 > (uint64_t)px_now_ms());
    px_buf_free(&a);
    px_buf_free(&b);
    px_buf_free(&m);
}

/* A compile that outlives its wall-clock limit fails as the host's fault
 * (wall time measures how busy the host is, not the module), and leaves
 * nothing behind in the cache. */
static void test_compile_timeout(void **state) {
    fixture *f = *state;
    px_sandbox quick = f->sb;
    quick.compile_timeout_ms = 1;
    px_buf m = PX_BUF_INIT;
    wat(f, "slow", "(module (memory (export \"memory\") 1)"
                   " (func (export \"_start\") (nop) (nop) (nop)))", &m);
    px_sandbox_limits l;
    limits(&l);
    px_sandbox_object so;
    px_sandbox_result res;
    assert_int_equal(px_sandbox_compile(&quick, m.data, m.len, &l, &so, &res,
                                        NULL), -1);
    assert_int_equal(res.status, PX_SB_INTERNAL);
    assert_non_null(strstr(res.reason, "ran out of wall time"));
    char cmd[PX_SANDBOX_PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", f->sb.work_dir);
    assert_int_equal(system(cmd), 0);
    px_buf_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_toolchain_memo),
        cmocka_unit_test(test_infinite_loop),
        cmocka_unit_test(test_wall_timeout),
        cmocka_unit_test(test_memory_bomb),
        cmocka_unit_test(test_deep_recursion),
        cmocka_unit_test(test_traps),
        cmocka_unit_test(test_exit_and_output),
        cmocka_unit_test(test_refused_modules),
        cmocka_unit_test(test_forbidden_syscalls),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_random_grant),
        cmocka_unit_test(test_clock_grant),
        cmocka_unit_test(test_compile_timeout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
