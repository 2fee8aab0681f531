/* The sandbox's tools are fixed at init: explicit paths are used as given
 * (made canonical), a later change of the environment does not change what
 * compiles a task, and the component list names every file a measurement
 * must hash, in a fixed order. The tools' version answers are remembered
 * in the cache (a memo that is not one is asked again), and the sweeps of
 * what dead compiles left can be left for later. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "pixiu/sandbox.h"

typedef struct fixture {
    char dir[256];
    char cache[300];
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/sandbox-tools-XXXXXX", PX_BUILD_DIR);
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->cache, sizeof f->cache, "%s/cache", f->dir);
    setenv("PIXIU_WASM_RUNNER", PX_BUILD_DIR "/pixiu-wasm-runner", 1);
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

static void write_exe(const char *path, const char *text) {
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, 0755), 0);
}

/* Explicit tools are used as given, canonical; a missing one is named. */
static void test_explicit_tools(void **state) {
    fixture *f = *state;
    char link[320], real[PATH_MAX];
    snprintf(link, sizeof link, "%s/cc-link", f->dir);
    assert_non_null(realpath("/usr/bin/gcc", real));
    assert_int_equal(symlink("/usr/bin/gcc", link), 0);
    px_sandbox_tools t = {.cache_dir = f->cache,
                          .runner = PX_BUILD_DIR "/pixiu-wasm-runner",
                          .wasm2c = "/usr/bin/wasm2c", .cc = link};
    px_sandbox sb;
    px_err err = {0};
    if (px_sandbox_init_tools(&sb, &t, &err))
        fail_msg("init: %s", err.msg);
    assert_string_equal(sb.cc, real);
    assert_string_equal(sb.wasm2c, "/usr/bin/wasm2c");
    assert_true(sb.runner[0] == '/');
    assert_string_equal(sb.cache_dir, f->cache);
    t.wasm2c = "/nonexistent/wasm2c";
    assert_int_equal(px_sandbox_init_tools(&sb, &t, &err), -1);
    assert_int_equal(err.code, PX_E_NOTFOUND);
    assert_non_null(strstr(err.msg, "wasm2c"));
    t.wasm2c = NULL;
    t.runner = "/etc/passwd"; /* a file, not an executable */
    assert_int_equal(px_sandbox_init_tools(&sb, &t, &err), -1);
    assert_non_null(strstr(err.msg, "sandbox runner"));
}

/* An attacker who controls the environment after init (PATH with a fake
 * assembler first, LIBRARY_PATH) changes nothing: the compiler runs with
 * the fixed environment and finds the listed assembler. */
static void test_environment_ignored(void **state) {
    fixture *f = *state;
    px_sandbox sb;
    px_err err = {0};
    if (px_sandbox_init(&sb, f->cache, &err))
        fail_msg("init: %s", err.msg);
    char fake[300], as[320], marker[320], script[800];
    snprintf(fake, sizeof fake, "%s/fake", f->dir);
    snprintf(as, sizeof as, "%s/as", fake);
    snprintf(marker, sizeof marker, "%s/fake-as-ran", f->dir);
    assert_int_equal(mkdir(fake, 0700), 0);
    snprintf(script, sizeof script, "#!/bin/sh\ntouch '%s'\nexec /usr/bin/as \"$@\"\n",
             marker);
    write_exe(as, script);
    char *old = strdup(getenv("PATH"));
    char path[4096];
    snprintf(path, sizeof path, "%s:%s", fake, old);
    setenv("PATH", path, 1);
    setenv("LIBRARY_PATH", fake, 1);
    /* A module no other test compiles, so it is not cached. */
    static const uint8_t mod[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01,
        0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00,
        0x01, 0x07, 0x13, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79,
        0x02, 0x00, 0x06, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x00,
        0x0a, 0x05, 0x01, 0x03, 0x00, 0x01, 0x0b};
    px_sandbox_limits l;
    px_sandbox_limits_default(&l);
    px_buf out = PX_BUF_INIT;
    px_sandbox_result res;
    int rc = px_sandbox_run(&sb, mod, sizeof mod, NULL, 0, &l, &out, NULL,
                            &res, &err);
    setenv("PATH", old, 1);
    unsetenv("LIBRARY_PATH");
    free(old);
    if (rc)
        fail_msg("run: %s", err.msg);
    assert_int_equal(access(marker, F_OK), -1);
    px_buf_free(&out);
}

static int find(const px_sandbox_component *c, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i].name, name))
            return (int)i;
    return -1;
}

static void test_components(void **state) {
    fixture *f = *state;
    px_sandbox sb;
    px_err err = {0};
    if (px_sandbox_init(&sb, f->cache, &err))
        fail_msg("init: %s", err.msg);
    px_sandbox_component *c = calloc(PX_SANDBOX_COMPONENTS_MAX, sizeof *c);
    px_sandbox_component *d = calloc(PX_SANDBOX_COMPONENTS_MAX, sizeof *d);
    size_t n = 0, m = 0;
    if (px_sandbox_components(&sb, c, PX_SANDBOX_COMPONENTS_MAX, &n, &err))
        fail_msg("components: %s", err.msg);
    static const char *const fixed[] = {
        "runner", "wasm2c", "cc", "cc1", "as", "collect2", "ld", "lto-plugin",
        "crti.o", "crtbeginS.o", "crtendS.o", "crtn.o", "libgcc.a",
        "libgcc_s.so", "libc.so", "libc_nonshared.a"};
    size_t nf = sizeof fixed / sizeof *fixed;
    assert_true(n > nf);
    for (size_t i = 0; i < nf; i++)
        assert_string_equal(c[i].name, fixed[i]);
    assert_string_equal(c[0].path, sb.runner);
    assert_string_equal(c[2].path, sb.cc);
    assert_string_equal(c[4].path, "/usr/bin/x86_64-linux-gnu-as");
    assert_true(find(c, n, "header /usr/include/wasm-rt.h") > 0);
    assert_true(find(c, n, "lib libc.so.6") > 0);
    assert_true(find(c, n, "lib libseccomp.so.2") > 0); /* the runner's */
    assert_true(find(c, n, "lib libstdc++.so.6") > 0);  /* wasm2c's */
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        assert_true(c[i].path[0] == '/');
        assert_int_equal(stat(c[i].path, &st), 0);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(c[i].path, c[j].path);
    }
    /* The same list again, and a short buffer says how much is needed. */
    if (px_sandbox_components(&sb, d, PX_SANDBOX_COMPONENTS_MAX, &m, &err))
        fail_msg("components: %s", err.msg);
    assert_int_equal(m, n);
    assert_memory_equal(c, d, n * sizeof *c);
    assert_int_equal(px_sandbox_components(&sb, d, 3, &m, &err), -1);
    assert_int_equal(err.code, PX_E_LIMIT);
    assert_int_equal(m, n);
    free(c);
    free(d);
}

/* The cache's tool-* memos, by name; returns how many. */
static size_t memos(const fixture *f, char out[][600], size_t cap) {
    DIR *d = opendir(f->cache);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "tool-", 5) && n < cap)
            snprintf(out[n++], 600, "%s/%s", f->cache, e->d_name);
    closedir(d);
    return n;
}

static void write_file(const char *path, const char *text, size_t n) {
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, n, fp), n);
    fclose(fp);
}

/* The toolchain digest is the same whether the tools answer or their
 * memos do; a memo larger than any answer is not one (the tool is asked
 * again and the memo rewritten); and a memo is what is read. */
static void test_version_memo(void **state) {
    fixture *f = *state;
    px_sandbox a, b;
    px_err err = {0};
    char m[4][600];
    if (px_sandbox_init(&a, f->cache, &err))
        fail_msg("init: %s", err.msg);
    assert_int_equal(memos(f, m, 4), 2); /* wasm2c, cc */
    if (px_sandbox_init(&b, f->cache, &err))
        fail_msg("init: %s", err.msg);
    assert_string_equal(a.toolchain, b.toolchain);
    static char big[8192];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 2; i++)
        write_file(m[i], big, sizeof big);
    if (px_sandbox_init(&b, f->cache, &err))
        fail_msg("init: %s", err.msg);
    assert_string_equal(a.toolchain, b.toolchain);
    for (int i = 0; i < 2; i++) {
        struct stat st;
        assert_int_equal(stat(m[i], &st), 0);
        assert_true(st.st_size > 0 && st.st_size < 100);
    }
    write_file(m[0], "other 1.0\n", 10);
    if (px_sandbox_init(&b, f->cache, &err))
        fail_msg("init: %s", err.msg);
    assert_string_not_equal(a.toolchain, b.toolchain);
    unlink(m[0]);
}

/* With sweep_later, init leaves what dead compiles left (a compile
 * directory of a process that is gone, a legacy plaintext object) until
 * px_sandbox_sweep, which removes them. */
static void test_sweep_later(void **state) {
    fixture *f = *state;
    char work[64] = "/dev/shm/pixiu-test-XXXXXX", dead[160], legacy[400];
    assert_non_null(mkdtemp(work));
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    assert_int_equal(waitpid(gone, NULL, 0), gone);
    snprintf(dead, sizeof dead, "%s/pixiu-compile-%d-abcdef", work, (int)gone);
    assert_int_equal(mkdir(dead, 0700), 0);
    assert_int_equal(mkdir(f->cache, 0700) == 0 || errno == EEXIST, 1);
    snprintf(legacy, sizeof legacy, "%s/%064d-%016d.so", f->cache, 0, 0);
    write_file(legacy, "plain", 5);
    px_sandbox_tools t = {.cache_dir = f->cache, .work_dir = work, .sweep_later = 1};
    px_sandbox sb;
    px_err err = {0};
    if (px_sandbox_init_tools(&sb, &t, &err))
        fail_msg("init: %s", err.msg);
    assert_int_equal(access(dead, F_OK), 0);
    assert_int_equal(access(legacy, F_OK), 0);
    px_sandbox_sweep(&sb);
    assert_int_equal(access(dead, F_OK), -1);
    assert_int_equal(access(legacy, F_OK), -1);
    assert_int_equal(rmdir(work), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_explicit_tools),
        cmocka_unit_test(test_environment_ignored),
        cmocka_unit_test(test_components),
        cmocka_unit_test(test_version_memo),
        cmocka_unit_test(test_sweep_later),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
