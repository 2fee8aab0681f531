/* Hostile modules against the sandbox's own machinery.
 *
 * The compilers run a stranger's module through wasm2c and gcc, so each
 * compile step is confined as if the tool were the attacker: here the
 * "wasm2c" is a script that tries what a compromised tool would (read a
 * file of the node's, write outside its directory, open a TCP connection,
 * signal its parent) and reports on stderr, which the compile's error
 * quotes. Every attempt must be refused. Then the real tools compile under
 * the same confinement, and a compile's limits grow with the module.
 *
 * A table.grow far beyond the table's start runs after the seccomp filter
 * is on: it must fail as the spec allows (-1), not end the run as a
 * forbidden system call. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lambda/sandbox_int.h"

typedef struct fixture {
    char dir[256];
    char work[64];
    px_sandbox sb;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/isolate-test-XXXXXX", PX_BUILD_DIR);
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

/* A minimal valid module, different for each n (so no cache hit). */
static void module(fixture *f, px_buf *out, unsigned n) {
    char src[512], name[16];
    int k = snprintf(src, sizeof src, "(module (memory (export \"memory\") 1) (func (export \"_start\")");
    for (unsigned i = 0; i < n && k < 400; i++)
        k += snprintf(src + k, sizeof src - (size_t)k, " (nop)");
    snprintf(src + k, sizeof src - (size_t)k, "))");
    snprintf(name, sizeof name, "m%u", n);
    wat(f, name, src, out);
}

static void test_compiler_confined(void **state) {
    fixture *f = *state;
    char tree[300], bin[320], tool[340], secret[300], outside[300];
    snprintf(tree, sizeof tree, "%s/evil", f->dir);
    snprintf(bin, sizeof bin, "%s/bin", tree);
    snprintf(tool, sizeof tool, "%s/wasm2c", bin);
    snprintf(secret, sizeof secret, "%s/node.key", f->dir);
    snprintf(outside, sizeof outside, "%s/dropped", f->dir);
    assert_int_equal(mkdir(tree, 0700), 0);
    assert_int_equal(mkdir(bin, 0700), 0);
    FILE *fp = fopen(secret, "w");
    fputs("the node's key\n", fp);
    fclose(fp);
    /* Something to connect to, had the tool the network. */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t al = sizeof a;
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 4), 0);
    getsockname(ls, (struct sockaddr *)&a, &al);
    fp = fopen(tool, "w");
    fprintf(fp,
            "#!/bin/bash\n"
            "r=denied; cat '%s' >/dev/null 2>&1 && r=ok\n"
            "w=denied; (echo x > '%s') 2>/dev/null && w=ok\n"
            "n=denied; (exec 3<>/dev/tcp/127.0.0.1/%u) 2>/dev/null && n=ok\n"
            "s=denied; kill -0 $PPID 2>/dev/null && s=ok\n"
            "l=denied; echo x > task.c 2>/dev/null && l=ok\n"
            "echo \"probe read:$r write:$w net:$n signal:$s local:$l\" >&2\n"
            "exit 1\n",
            secret, outside, (unsigned)ntohs(a.sin_port));
    fclose(fp);
    chmod(tool, 0700);
    px_sandbox evil = f->sb;
    snprintf(evil.wasm2c, sizeof evil.wasm2c, "%s", tool);
    px_buf m = PX_BUF_INIT;
    module(f, &m, 1);
    px_sandbox_limits l;
    px_sandbox_limits_default(&l);
    px_sandbox_object so;
    px_sandbox_result res;
    assert_int_equal(px_sandbox_compile(&evil, m.data, m.len, &l, &so, &res, NULL), -1);
    print_message("%s\n", res.reason);
    px_buf_free(&m);
    assert_non_null(strstr(res.reason, "probe read:denied write:denied net:denied signal:denied local:ok"));
    assert_int_equal(access(outside, F_OK), -1);
    close(ls);
    /* The real tools, under the same confinement. */
    module(f, &m, 2);
    px_err err = {0};
    if (px_sandbox_compile(&f->sb, m.data, m.len, &l, &so, &res, &err))
        fail_msg("compile: %s", err.msg);
    px_sandbox_object_free(&so);
    px_buf_free(&m);
}

static void test_limits_scale(void **state) {
    (void)state;
    px_sb_compile_lim small, mib, big;
    px_sb_compile_limits(20 << 10, 120000, &small);
    px_sb_compile_limits(1 << 20, 120000, &mib);
    px_sb_compile_limits(16 << 20, 120000, &big);
    print_message("20 KiB: %llu s CPU, %llu MiB; 1 MiB: %llu s, %llu MiB; 16 MiB: %llu s, %llu MiB\n",
                  (unsigned long long)small.cpu_s, (unsigned long long)(small.as_bytes >> 20),
                  (unsigned long long)mib.cpu_s, (unsigned long long)(mib.as_bytes >> 20),
                  (unsigned long long)big.cpu_s, (unsigned long long)(big.as_bytes >> 20));
    assert_true(small.cpu_s < mib.cpu_s && mib.cpu_s <= big.cpu_s);
    assert_true(small.as_bytes < mib.as_bytes && mib.as_bytes <= big.as_bytes);
    assert_true(small.cpu_s <= 12 && small.wall_ms == 120000); /* the host's backstop */
    assert_true(big.cpu_s <= 120 && big.as_bytes <= (4ull << 30));
}

static void test_table_grow(void **state) {
    fixture *f = *state;
    px_buf m = PX_BUF_INIT, out = PX_BUF_INIT;
    /* Grow a one-element table by 10,000 (its maximum allows 20,000), then
     * by 0, and write both results. */
    wat(f, "grow",
        "(module (import \"wasi_snapshot_preview1\" \"fd_write\""
        "  (func $w (param i32 i32 i32 i32) (result i32)))"
        " (memory (export \"memory\") 1) (table 1 20000 funcref)"
        " (func (export \"_start\")"
        "  (i32.store (i32.const 0) (table.grow 0 (ref.null func) (i32.const 10000)))"
        "  (i32.store (i32.const 4) (table.grow 0 (ref.null func) (i32.const 0)))"
        "  (i32.store (i32.const 16) (i32.const 0)) (i32.store (i32.const 20) (i32.const 8))"
        "  (drop (call $w (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))))",
        &m);
    px_sandbox_limits l;
    px_sandbox_limits_default(&l);
    l.wall_ms = 30000;
    px_sandbox_result res;
    px_err err = {0};
    int rc = px_sandbox_run(&f->sb, m.data, m.len, NULL, 0, &l, &out, NULL, &res, &err);
    print_message("table.grow by 10000: %s%s%s\n", px_sandbox_status_name(res.status), res.reason[0] ? ": " : "",
                  res.reason);
    if (rc)
        fail_msg("run: %s", err.msg);
    assert_int_equal(out.len, 8);
    assert_int_equal(px_load_u32le(out.data), UINT32_MAX); /* refused, as the spec allows */
    assert_int_equal(px_load_u32le(out.data + 4), 1);      /* the size is still 1 */
    px_buf_free(&m);
    px_buf_free(&out);
}

/* Many instances with the same code start at once: one compiles, the
 * others wait for it and take its object from the cache. */
typedef struct same_job {
    fixture *f;
    const px_buf *m;
    px_sandbox_result res;
    int rc;
} same_job;

static void *compile_same(void *arg) {
    same_job *j = arg;
    px_sandbox_limits l;
    px_sandbox_limits_default(&l);
    px_sandbox_object so;
    j->rc = px_sandbox_compile(&j->f->sb, j->m->data, j->m->len, &l, &so, &j->res, NULL);
    if (j->rc == 0)
        px_sandbox_object_free(&so);
    return NULL;
}

static void test_one_compile_at_a_time(void **state) {
    fixture *f = *state;
    px_buf m = PX_BUF_INIT;
    module(f, &m, 7);
    enum { N = 4 };
    same_job jobs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = (same_job){.f = f, .m = &m};
        assert_int_equal(pthread_create(&th[i], NULL, compile_same, &jobs[i]), 0);
    }
    int compiled = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].rc, 0);
        compiled += !jobs[i].res.cached;
    }
    assert_int_equal(compiled, 1);
    px_buf_free(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_compiler_confined), cmocka_unit_test(test_limits_scale),
                                       cmocka_unit_test(test_table_grow), cmocka_unit_test(test_one_compile_at_a_time)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
