/* Merkle hashing and proofs: the transparency-dev conformance vectors, and
 * every inclusion and consistency proof of small trees generated and then
 * verified (and refused once tampered with). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "pixiu/log.h"

static int vectors_run, vectors_valid;

static void check_vector(const char *path, int consistency) {
    px_buf file = PX_BUF_INIT;
    px_err err = {0};
    assert_int_equal(px_file_read(path, 1 << 20, &file, &err), 0);
    json_t *j = json_loadb((const char *)file.data, file.len, JSON_DECODE_INT_AS_REAL, NULL);
    if (!j)
        fail_msg("%s: not JSON", path);
    int want_err = json_is_true(json_object_get(j, "wantErr"));
    json_decref(j);
    int rc = consistency ? px_log_check_consistency_json(file.data, file.len, &err)
                         : px_log_check_inclusion_json(file.data, file.len, &err);
    if ((rc != 0) != want_err)
        fail_msg("%s: got %s (%s), want %s", path, rc ? "invalid" : "valid", err.msg,
                 want_err ? "invalid" : "valid");
    if (rc)
        assert_int_equal(err.code, PX_E_VERIFY); /* readable, just wrong */
    vectors_run++;
    vectors_valid += !want_err;
    px_buf_free(&file);
}

static void walk(const char *dir, int consistency) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        if (S_ISDIR(st.st_mode))
            walk(p, consistency);
        else if (strstr(e->d_name, ".json"))
            check_vector(p, consistency);
    }
    closedir(d);
}

static void test_vectors(void **state) {
    walk(PX_SOURCE_DIR "/tests/vectors/merkle/inclusion", 0);
    walk(PX_SOURCE_DIR "/tests/vectors/merkle/consistency", 1);
    assert_true(vectors_run >= 190);
    assert_true(vectors_valid >= 10);
}

static void test_unreadable_is_not_invalid(void **state) {
    px_err err = {0};
    const char *cases[] = {"", "[]", "{\"leafIdx\":1}", "{\"leafIdx\":\"1\",\"treeSize\":2,\"root\":\"\",\"leafHash\":\"\"}",
                           "{\"leafIdx\":0,\"treeSize\":1,\"root\":\"!!\",\"leafHash\":\"\",\"proof\":[]}"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(px_log_check_inclusion_json(cases[i], strlen(cases[i]), &err), -1);
        assert_int_not_equal(err.code, PX_E_VERIFY);
    }
}

/* An in-memory tree: node(height, index) computed from the leaf hashes. */
#define MAXN 140
static uint8_t leaves[MAXN][PX_LOG_HASH_BYTES];

static int mem_node(void *ctx, unsigned height, uint64_t index, uint8_t out[PX_LOG_HASH_BYTES],
                    px_err *err) {
    uint64_t n = *(uint64_t *)ctx;
    uint64_t lo = index << height, cnt = 1ull << height;
    if (lo + cnt > n)
        return px_fail(err, PX_E_INTERNAL, "node beyond the tree");
    px_log_root_from_hashes(out, leaves[lo], cnt);
    return 0;
}

static void test_generated_proofs(void **state) {
    for (int i = 0; i < MAXN; i++) {
        char e[16];
        int n = snprintf(e, sizeof e, "entry %d", i);
        px_log_leaf_hash(leaves[i], e, (size_t)n);
    }
    px_err err = {0};
    for (uint64_t size = 1; size <= MAXN; size++) {
        uint8_t root[PX_LOG_HASH_BYTES];
        px_log_root_from_hashes(root, leaves[0], size);
        for (uint64_t i = 0; i < size; i++) {
            px_buf p = PX_BUF_INIT;
            assert_int_equal(px_log_prove_inclusion(mem_node, &size, i, size, &p, &err), 0);
            size_t np = p.len / PX_LOG_HASH_BYTES;
            assert_int_equal(px_log_verify_inclusion(i, size, leaves[i], p.data, np, root, &err), 0);
            /* wrong index, wrong leaf, tampered hash: all refused */
            if (size > 1)
                assert_int_equal(px_log_verify_inclusion((i + 1) % size, size, leaves[i], p.data, np, root, &err), -1);
            assert_int_equal(px_log_verify_inclusion(i, size, leaves[(i + 1) % MAXN], p.data, np, root, &err), -1);
            /* a hash missing or one too many: refused by length, before any hashing */
            if (np) {
                assert_int_equal(px_log_verify_inclusion(i, size, leaves[i], p.data, np - 1, root, &err), -1);
                assert_non_null(strstr(err.msg, "fewer than the tree needs"));
            }
            assert_int_equal(px_buf_append(&p, leaves[i], PX_LOG_HASH_BYTES, &err), 0);
            assert_int_equal(px_log_verify_inclusion(i, size, leaves[i], p.data, np + 1, root, &err), -1);
            assert_non_null(strstr(err.msg, "more than the tree needs"));
            p.len -= PX_LOG_HASH_BYTES;
            if (np) {
                p.data[p.len - 1] ^= 1;
                assert_int_equal(px_log_verify_inclusion(i, size, leaves[i], p.data, np, root, &err), -1);
                assert_int_equal(err.code, PX_E_VERIFY);
            }
            px_buf_free(&p);
        }
        if (size > 70)
            continue;
        for (uint64_t m = 1; m <= size; m++) {
            uint8_t r1[PX_LOG_HASH_BYTES];
            px_log_root_from_hashes(r1, leaves[0], m);
            px_buf p = PX_BUF_INIT;
            assert_int_equal(px_log_prove_consistency(mem_node, &size, m, size, &p, &err), 0);
            size_t np = p.len / PX_LOG_HASH_BYTES;
            if (px_log_verify_consistency(m, size, r1, root, p.data, np, &err))
                fail_msg("consistency %llu -> %llu: %s", (unsigned long long)m,
                         (unsigned long long)size, err.msg);
            if (np) {
                p.data[0] ^= 0x80;
                assert_int_equal(px_log_verify_consistency(m, size, r1, root, p.data, np, &err), -1);
                p.data[0] ^= 0x80;
                assert_int_equal(px_log_verify_consistency(m, size, root, r1, p.data, np, &err), -1);
                assert_int_equal(px_log_verify_consistency(m, size, r1, root, p.data, np - 1, &err), -1);
            }
            px_buf_free(&p);
        }
    }
}

static void test_range_root_matches(void **state) {
    px_err err = {0};
    uint64_t size = MAXN;
    for (uint64_t n = 1; n <= MAXN; n++) {
        uint8_t a[PX_LOG_HASH_BYTES], b[PX_LOG_HASH_BYTES];
        px_log_root_from_hashes(a, leaves[0], n);
        assert_int_equal(px_log_range_root(mem_node, &size, 0, n, b, &err), 0);
        assert_memory_equal(a, b, sizeof a);
    }
    uint8_t empty[PX_LOG_HASH_BYTES], want[PX_LOG_HASH_BYTES];
    px_log_empty_root(empty);
    px_hex_decode_exact(want, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 64, &err);
    assert_memory_equal(empty, want, 32);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_unreadable_is_not_invalid),
        cmocka_unit_test(test_generated_proofs),
        cmocka_unit_test(test_range_root_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
