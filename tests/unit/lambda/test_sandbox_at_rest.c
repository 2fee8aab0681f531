/* Nothing in plaintext at rest. The attacker is an operator who reads the
 * executor's disk (and its temporary directories) after a task: the task's
 * code and its input must not be there, nor the public code digest in a
 * file name. A cache entry someone changed is never loaded. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pixiu/crypto.h"
#include "pixiu/sandbox.h"

typedef struct fixture {
    char dir[256], cache[300], work[64];
    px_sandbox sb;
    time_t start;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    f->start = time(NULL) - 1;
    snprintf(f->dir, sizeof f->dir, "%s/sandbox-rest-XXXXXX", PX_BUILD_DIR);
    snprintf(f->work, sizeof f->work, "/dev/shm/pixiu-test-XXXXXX");
    if (!mkdtemp(f->dir) || !mkdtemp(f->work) || px_crypto_init(NULL))
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

/* Assemble text-format source into module bytes, leaving no file behind. */
static void wat(const char *src, px_buf *out) {
    char dir[] = "/dev/shm/pixiu-wat-XXXXXX", path[128], cmd[400];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.wat", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(src, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "wat2wasm '%s' -o '%s/m.wasm'", path, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/m.wasm", dir);
    assert_int_equal(px_file_read(path, 1 << 20, out, NULL), 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A random string, long enough (over 300 bytes) that the C compiler keeps
 * a data segment holding it as an array rather than folding the copy into
 * immediate stores, so the object would carry it verbatim. */
static void random_marker(char *out, const char *prefix) {
    uint8_t r[24];
    char hex[49];
    px_random(r, sizeof r);
    px_hex_encode(hex, r, sizeof r);
    strcpy(out, prefix);
    for (int i = 0; i < 7; i++)
        strcat(out, hex);
}

typedef struct scan {
    const char *needles[3]; /* looked for in contents */
    const char *name_needle; /* looked for in file names */
    time_t newer;            /* 0: every file; else modified since */
    int found;
    char where[1200];
} scan;

static void scan_tree(scan *s, const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d || depth > 8) {
        if (d)
            closedir(d);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) && !s->found) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(p, &st))
            continue;
        if (s->name_needle && strstr(e->d_name, s->name_needle)) {
            s->found = 1;
            snprintf(s->where, sizeof s->where, "name %s", p);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            scan_tree(s, p, depth + 1);
            continue;
        }
        if (!S_ISREG(st.st_mode) || (s->newer && st.st_mtime < s->newer) ||
            st.st_size > (256 << 20))
            continue;
        px_buf b = PX_BUF_INIT;
        if (px_file_read(p, 256u << 20, &b, NULL) == 0)
            for (int i = 0; i < 3 && s->needles[i]; i++)
                if (b.len && memmem(b.data, b.len, s->needles[i],
                                    strlen(s->needles[i]))) {
                    s->found = 1;
                    snprintf(s->where, sizeof s->where, "%s in %s",
                             s->needles[i], p);
                }
        px_buf_free(&b);
    }
    closedir(d);
}

static void expect_nowhere(scan *s, const char *dir, time_t newer) {
    s->newer = newer;
    s->found = 0;
    scan_tree(s, dir, 0);
    if (s->found)
        fail_msg("found at rest: %s", s->where);
}

/* A task whose code holds a distinctive string and whose input holds
 * distinctive values, run alone and per group: afterwards neither string
 * is in the cache, the work directory, /dev/shm or anything written to
 * /tmp meanwhile, and no file name carries the code digest. */
static void test_nothing_at_rest(void **state) {
    fixture *f = *state;
    char code_mark[400], data_mark[400], src[4096];
    random_marker(code_mark, "PXCODE");
    random_marker(data_mark, "PXDATA");
    snprintf(src, sizeof src,
             "(module (import \"wasi_snapshot_preview1\" \"fd_read\""
             " (func $r (param i32 i32 i32 i32) (result i32)))"
             " (import \"wasi_snapshot_preview1\" \"fd_write\""
             " (func $w (param i32 i32 i32 i32) (result i32)))"
             " (memory (export \"memory\") 1) (data (i32.const 1024) \"%s\")"
             " (func (export \"_start\")"
             "  (i32.store (i32.const 0) (i32.const 1024))"
             "  (i32.store (i32.const 4) (i32.const %zu))"
             "  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))"
             "  (i32.store (i32.const 0) (i32.const 2048))"
             "  (i32.store (i32.const 4) (i32.const 4096))"
             "  (drop (call $r (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))"
             "  (i32.store (i32.const 4) (i32.load (i32.const 8)))"
             "  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))",
             code_mark, strlen(code_mark));
    px_buf m = PX_BUF_INIT, out = PX_BUF_INIT;
    wat(src, &m);
    uint8_t d[PX_SHA256_BYTES];
    char digest[2 * PX_SHA256_BYTES + 1];
    px_sha256(d, m.data, m.len);
    px_hex_encode(digest, d, sizeof d);
    char in[512];
    snprintf(in, sizeof in, "user=alice value=%s\n", data_mark);
    px_sandbox_limits l;
    px_sandbox_limits_default(&l);
    px_sandbox_result res;
    px_err err = {0};
    for (int round = 0; round < 2; round++) {
        px_buf_reset(&out);
        if (px_sandbox_run(&f->sb, m.data, m.len, (const uint8_t *)in,
                           strlen(in), &l, &out, NULL, &res, &err))
            fail_msg("run: %s", err.msg);
        assert_int_equal(res.cached, round); /* compiled, then cached */
        /* The task really holds both strings. */
        assert_non_null(memmem(out.data, out.len, code_mark, strlen(code_mark)));
        assert_non_null(memmem(out.data, out.len, data_mark, strlen(data_mark)));
    }
    size_t off[2] = {0, 0}, len[2] = {strlen(in), strlen(in)};
    px_sandbox_run_out runs[2];
    px_buf_reset(&out);
    if (px_sandbox_run_groups(&f->sb, m.data, m.len, (const uint8_t *)in, off,
                              len, 2, &l, 0, &out, runs, &res, &err))
        fail_msg("groups: %s", err.msg);
    assert_int_equal(runs[1].status, PX_SB_OK);
    /* The cache holds one sealed entry (besides the tool memos). */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test $(ls '%s' | grep -c '^obj-') -eq 1", f->cache);
    assert_int_equal(system(cmd), 0);
    char short_digest[17];
    memcpy(short_digest, digest, 16);
    short_digest[16] = '\0';
    scan s = {.needles = {code_mark, data_mark, digest},
              .name_needle = short_digest};
    expect_nowhere(&s, f->dir, 0);   /* the cache and the test's files */
    expect_nowhere(&s, f->work, 0);  /* the compile work directory */
    expect_nowhere(&s, "/dev/shm", 0);
    const char *tmp = getenv("TMPDIR");
    expect_nowhere(&s, tmp && *tmp ? tmp : "/tmp", f->start);
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", f->work);
    assert_int_equal(system(cmd), 0); /* compile directories removed */
    px_buf_free(&m);
    px_buf_free(&out);
}

static const char echo_wat[] =
    "(module (import \"wasi_snapshot_preview1\" \"fd_write\""
    " (func $w (param i32 i32 i32 i32) (result i32)))"
    " (memory (export \"memory\") 1) (data (i32.const 64) \"genuine\")"
    " (func (export \"_start\")"
    "  (i32.store (i32.const 0) (i32.const 64))"
    "  (i32.store (i32.const 4) (i32.const 7))"
    "  (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))";

/* The one entry in the cache (obj-...). */
static void entry_path(fixture *f, char *out, size_t cap) {
    DIR *d = opendir(f->cache);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "obj-", 4)) {
            snprintf(out, cap, "%s/%s", f->cache, e->d_name);
            n++;
        }
    closedir(d);
    assert_int_equal(n, 1);
}

static void run_genuine(fixture *f, const px_buf *m, int want_cached) {
    px_sandbox_limits l;
    px_sandbox_limits_default(&l);
    px_buf out = PX_BUF_INIT;
    px_sandbox_result res;
    px_err err = {0};
    if (px_sandbox_run(&f->sb, m->data, m->len, NULL, 0, &l, &out, NULL, &res,
                       &err))
        fail_msg("run: %s", err.msg);
    assert_int_equal(out.len, 7);
    assert_memory_equal(out.data, "genuine", 7);
    assert_int_equal(res.cached, want_cached);
    px_buf_free(&out);
}

/* A changed entry (a flipped bit, a truncation, or a planted plaintext
 * object that would print something else) is refused and compiled again,
 * never loaded; the entry is then replaced by a good one. */
static void test_tampered_entry(void **state) {
    fixture *f = *state;
    px_buf m = PX_BUF_INIT, e = PX_BUF_INIT;
    char path[1024], cmd[2400];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/obj-*", f->cache); /* earlier tests' */
    assert_int_equal(system(cmd), 0);
    wat(echo_wat, &m);
    run_genuine(f, &m, 0);
    run_genuine(f, &m, 1);
    entry_path(f, path, sizeof path);
    assert_int_equal(px_file_read(path, 1 << 26, &e, NULL), 0);
    e.data[e.len / 2] ^= 1;
    assert_int_equal(px_file_write_atomic(path, e.data, e.len, 0600, NULL), 0);
    run_genuine(f, &m, 0);
    run_genuine(f, &m, 1);
    assert_int_equal(px_file_write_atomic(path, e.data, 100, 0600, NULL), 0);
    run_genuine(f, &m, 0);
    /* An object that prints "PWNED" planted under the entry's name. */
    char src[1100];
    snprintf(src, sizeof src, "%s/planted.c", f->dir);
    FILE *fp = fopen(src, "w");
    assert_non_null(fp);
    fputs("#include <stddef.h>\n#include <unistd.h>\n#include <wasm-rt.h>\n"
          "static wasm_rt_memory_t mem;\n"
          "void px_rt_allocate_memory(wasm_rt_memory_t *, uint32_t, uint32_t);\n"
          "unsigned px_glue_abi(void) { return 2; }\n"
          "size_t px_glue_instance_size(void) { return 8; }\n"
          "void px_glue_instantiate(void *i, void *h) {"
          " px_rt_allocate_memory(&mem, 1, 1); }\n"
          "wasm_rt_memory_t *px_glue_memory(void *i) { return &mem; }\n"
          "void px_glue_start(void *i) { write(1, \"PWNED\", 5); }\n", fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "gcc -O2 -shared -fPIC -o '%s' '%s'", path, src);
    assert_int_equal(system(cmd), 0);
    run_genuine(f, &m, 0);
    run_genuine(f, &m, 1);
    px_buf_free(&m);
    px_buf_free(&e);
}

/* Plaintext objects and compile directories an earlier version left in
 * the cache, and compile directories of killed compiles, are removed at
 * init. */
static void test_legacy_plaintext_swept(void **state) {
    fixture *f = *state;
    char obj[600], tmpdir[600], file[700];
    snprintf(obj, sizeof obj, "%s/%064d-%016d.so", f->cache, 0, 0);
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp-Ab3dEf", f->cache);
    snprintf(file, sizeof file, "%s/task.c", tmpdir);
    assert_int_equal(px_file_write_atomic(obj, "ELF", 3, 0600, NULL), 0);
    assert_int_equal(mkdir(tmpdir, 0700), 0);
    assert_int_equal(px_file_write_atomic(file, "int x;", 6, 0600, NULL), 0);
    /* A compile directory of a process that is gone (pid_max is below
     * 2^22), and one of a live process (this one). */
    char dead[600], live[600];
    snprintf(dead, sizeof dead, "%s/pixiu-compile-99999999-Ab3dEf", f->work);
    snprintf(live, sizeof live, "%s/pixiu-compile-%ld-Ab3dEf", f->work,
             (long)getpid());
    assert_int_equal(mkdir(dead, 0700), 0);
    assert_int_equal(mkdir(live, 0700), 0);
    px_sandbox sb;
    px_sandbox_tools t = {.cache_dir = f->cache, .work_dir = f->work};
    px_err err = {0};
    if (px_sandbox_init_tools(&sb, &t, &err))
        fail_msg("init: %s", err.msg);
    assert_int_equal(access(obj, F_OK), -1);
    assert_int_equal(access(tmpdir, F_OK), -1);
    assert_int_equal(access(dead, F_OK), -1);
    assert_int_equal(access(live, F_OK), 0);
    rmdir(live);
}

/* A work directory on disk is refused by name. */
static void test_work_dir_on_disk(void **state) {
    fixture *f = *state;
    px_sandbox sb;
    px_sandbox_tools t = {.cache_dir = f->cache, .work_dir = f->dir};
    px_err err = {0};
    assert_int_equal(px_sandbox_init_tools(&sb, &t, &err), -1);
    assert_non_null(strstr(err.msg, "not on a memory-backed file system"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_at_rest),
        cmocka_unit_test(test_tampered_entry),
        cmocka_unit_test(test_legacy_plaintext_swept),
        cmocka_unit_test(test_work_dir_on_disk),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
