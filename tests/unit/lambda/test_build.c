/* The λ build as a node keeps it: found and hashed once, files re-checked
 * by identity and hashed again when they change; and the INIT message that
 * hands it to a worker, with every malformed INIT refused. */
#include <sys/stat.h>
#include <unistd.h>

#include "px_test.h"
#include "lambda/step_wire.h"
#include "pixiu/lambda.h"

#define WORKER PX_BUILD_DIR "/pixiu_worker"

static void write_text(const char *path, const char *text) {
    px_err err = {0};
    px_assert_ok(px_file_write_atomic(path, text, strlen(text), 0755, &err), &err);
}

/* This machine's build: the worker first, the sandbox's files after it,
 * every path absolute, and the digest is the build's. */
static void test_own_build(void **state) {
    (void)state;
    px_err err = {0};
    static px_lambda_build b, c;
    px_assert_ok(px_crypto_init(&err), &err);
    setenv("PIXIU_WASM_RUNNER", PX_BUILD_DIR "/pixiu-wasm-runner", 1);
    px_assert_ok(px_lambda_build_init(&b, WORKER, &err), &err);
    assert_true(b.build.n > 4);
    assert_string_equal(b.build.c[0].name, "worker");
    assert_string_equal(b.build.c[1].name, "runner");
    assert_string_equal(b.files[0].path, WORKER);
    for (size_t i = 0; i < b.build.n; i++) {
        uint8_t d[32];
        assert_int_equal(b.files[i].path[0], '/');
        px_assert_ok(px_tee_file_digest(d, b.files[i].path, &err), &err);
        assert_memory_equal(d, b.build.c[i].sha256, 32);
    }
    assert_non_null(px_lambda_build_path(&b, "cc"));
    assert_null(px_lambda_build_path(&b, "nosuch"));
    uint8_t d[32];
    px_assert_ok(px_tee_build_digest(d, &b.build, &err), &err);
    assert_memory_equal(d, b.digest, 32);
    assert_true(b.cache_dir[0] == '/');
    /* Nothing changed: a refresh only looks. */
    int changed = 1;
    px_assert_ok(px_lambda_build_refresh(&b, &changed, &err), &err);
    assert_int_equal(changed, 0);
    px_assert_ok(px_lambda_build_copy(&c, &b, &err), &err);
    assert_memory_equal(c.digest, b.digest, 32);
    assert_ptr_not_equal(c.files[1].path, b.files[1].path);
    assert_string_equal(c.files[1].path, b.files[1].path);
    px_lambda_build_free(&c);
    /* Another runner, through the environment the node reads: another
     * build, differing in "runner". */
    char dir[] = "/tmp/px-build-XXXXXX", runner[64];
    assert_non_null(mkdtemp(dir));
    snprintf(runner, sizeof runner, "%s/runner", dir);
    write_text(runner, "#!/bin/sh\nexec " PX_BUILD_DIR "/pixiu-wasm-runner \"$@\"\n");
    setenv("PIXIU_WASM_RUNNER", runner, 1);
    px_assert_ok(px_lambda_build_init(&c, WORKER, &err), &err);
    assert_memory_not_equal(c.digest, b.digest, 32);
    char why[256];
    assert_int_equal(px_tee_build_diff(&b.build, &c.build, why, sizeof why), 1);
    assert_non_null(strstr(why, "component \"runner\" differs"));
    px_lambda_build_free(&c);
    unsetenv("PIXIU_WASM_RUNNER");
    /* A worker that is not there. */
    px_assert_fails(px_lambda_build_init(&c, "/nonexistent/pixiu_worker", &err), &err, PX_E_NOTFOUND);
    px_lambda_build_free(&b);
    unlink(runner);
    rmdir(dir);
}

/* A file changed after the build was made is hashed again; one replaced by
 * another with the same content still counts as changed (its identity);
 * one that is gone fails, naming it. */
static void test_refresh(void **state) {
    (void)state;
    px_err err = {0};
    static px_lambda_build b;
    char dir[] = "/tmp/px-build-XXXXXX", f[64], g[64];
    assert_non_null(mkdtemp(dir));
    snprintf(f, sizeof f, "%s/tool", dir);
    snprintf(g, sizeof g, "%s/tool.new", dir);
    write_text(f, "version 1\n");
    uint8_t d1[32], d2[32], first[32];
    px_assert_ok(px_tee_file_digest(d1, f, &err), &err);
    px_assert_ok(px_tee_build_init(&b.build, NULL, &err), &err);
    px_assert_ok(px_lambda_build_add(&b, "tool", d1, f, &err), &err);
    px_assert_ok(px_lambda_build_seal(&b, &err), &err);
    memcpy(first, b.digest, 32);
    /* The identity recorded by _add is empty, so the first refresh hashes. */
    int changed = 0;
    px_assert_ok(px_lambda_build_refresh(&b, &changed, &err), &err);
    assert_int_equal(changed, 1);
    assert_memory_equal(b.digest, first, 32);
    px_assert_ok(px_lambda_build_refresh(&b, &changed, &err), &err);
    assert_int_equal(changed, 0);
    /* Rewritten: a new digest. */
    write_text(g, "version 2, longer\n");
    assert_int_equal(rename(g, f), 0);
    px_assert_ok(px_lambda_build_refresh(&b, &changed, &err), &err);
    assert_int_equal(changed, 1);
    px_assert_ok(px_tee_file_digest(d2, f, &err), &err);
    assert_memory_equal(b.build.c[0].sha256, d2, 32);
    assert_memory_not_equal(b.digest, first, 32);
    /* The same bytes in a new file: hashed again, same build. */
    uint8_t before[32];
    memcpy(before, b.digest, 32);
    write_text(g, "version 2, longer\n");
    assert_int_equal(rename(g, f), 0);
    px_assert_ok(px_lambda_build_refresh(&b, &changed, &err), &err);
    assert_int_equal(changed, 1);
    assert_memory_equal(b.digest, before, 32);
    /* Gone. */
    unlink(f);
    px_assert_fails(px_lambda_build_refresh(&b, &changed, &err), &err, PX_E_NOTFOUND);
    assert_non_null(strstr(err.msg, f));
    /* Paths must be absolute. */
    px_assert_fails(px_lambda_build_add(&b, "rel", d1, "tool", &err), &err, PX_E_INVALID);
    px_lambda_build_free(&b);
    rmdir(dir);
}

/* INIT round-trips, and every malformed INIT is refused. */
static void test_init_wire(void **state) {
    (void)state;
    px_err err = {0};
    static px_lambda_build b, got;
    uint8_t code[32] = {9};
    px_assert_ok(px_tee_build_init(&b.build, NULL, &err), &err);
    const char *names[] = {"worker", "runner", "header /usr/include/wasm-rt.h"};
    for (size_t i = 0; i < 3; i++) {
        uint8_t d[32];
        px_sha256(d, names[i], strlen(names[i]));
        px_assert_ok(px_lambda_build_add(&b, names[i], d, "/usr/bin/true", &err), &err);
    }
    px_assert_ok(px_lambda_build_seal(&b, &err), &err);
    strcpy(b.cache_dir, "/var/cache/pixiu");
    px_buf p = PX_BUF_INIT;
    const char *cfg = "{\"config\":1}";
    px_assert_ok(px_wire_init_encode(&p, "wasm", code, cfg, strlen(cfg), &b, &err), &err);
    char kind[PX_TEE_KIND_MAX + 1];
    const uint8_t *c;
    px_bytes config;
    px_assert_ok(px_wire_init_decode(p.data, p.len, kind, &c, &config, &got, &err), &err);
    assert_string_equal(kind, "wasm");
    assert_memory_equal(c, code, 32);
    assert_int_equal(config.n, strlen(cfg));
    assert_memory_equal(got.digest, b.digest, 32);
    assert_string_equal(got.cache_dir, b.cache_dir);
    assert_string_equal(px_lambda_build_path(&got, "runner"), "/usr/bin/true");
    px_lambda_build_free(&got);
    /* Field by field: each twist of a well-formed INIT is refused. */
    static const struct {
        size_t field; /* 0 kind, 1 code, 2 config, 3 version, 4 cache, 5.. components */
        const char *value;
        size_t len;
    } bad[] = {
        {0, "", 0},
        {0, "a-kind-name-that-is-much-too-long", 33},
        {1, "short", 5},
        {3, "0.1 beta", 8},
        {3, "0.1\0", 4},
        {5, "runner", 6},             /* worker listed as runner: twice */
        {5, "quo\"te", 6},
        {6, "0123456789012345678901234567890", 31}, /* digest of 31 bytes */
        {7, "usr/bin/true", 12},      /* a relative path */
        {7, "", 0},
        {4, "/cache\0x", 8},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        px_bytes f[PX_WIRE_INIT_MAX_FIELDS];
        size_t n = 0;
        px_assert_ok(px_wire_split(p.data, p.len, f, PX_WIRE_INIT_MAX_FIELDS, &n, &err), &err);
        f[bad[i].field] = (px_bytes){(const uint8_t *)bad[i].value, bad[i].len};
        px_buf q = PX_BUF_INIT;
        px_assert_ok(px_buf_append_u32le(&q, (uint32_t)n, &err), &err);
        for (size_t k = 0; k < n; k++)
            px_assert_ok(px_buf_append_u32le(&q, (uint32_t)f[k].n, &err) || px_buf_append(&q, f[k].p, f[k].n, &err),
                         &err);
        if (px_wire_init_decode(q.data, q.len, kind, &c, &config, &got, &err) == 0)
            fail_msg("case %zu: a malformed INIT was decoded", i);
        px_buf_free(&q);
    }
    /* No component at all, or a field short of a triple. */
    px_bytes f[PX_WIRE_INIT_MAX_FIELDS];
    size_t n = 0;
    px_assert_ok(px_wire_split(p.data, p.len, f, PX_WIRE_INIT_MAX_FIELDS, &n, &err), &err);
    for (size_t keep = PX_WIRE_INIT_FIXED; keep < n; keep += 1) {
        if ((keep - PX_WIRE_INIT_FIXED) % 3 == 0 && keep > PX_WIRE_INIT_FIXED)
            continue;
        px_buf q = PX_BUF_INIT;
        px_buf_append_u32le(&q, (uint32_t)keep, &err);
        for (size_t k = 0; k < keep; k++)
            px_buf_append_u32le(&q, (uint32_t)f[k].n, &err), px_buf_append(&q, f[k].p, f[k].n, &err);
        if (px_wire_init_decode(q.data, q.len, kind, &c, &config, &got, &err) == 0)
            fail_msg("%zu fields: decoded", keep);
        px_buf_free(&q);
    }
    px_buf_free(&p);
    px_lambda_build_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_build),
        cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_init_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
