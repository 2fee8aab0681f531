/* Checkpoints, cosignatures, the witness and tile paths: formats parsed
 * strictly, signatures bound to their text, and a witness that refuses
 * rollbacks, forks and stale state with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pixiu/log.h"

static void test_checkpoint_format(void **state) {
    px_err err = {0};
    px_checkpoint cp = {.size = 20852163};
    strcpy(cp.origin, "example.com/behind-the-sofa");
    px_b64_decode_exact(cp.root, 32, "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", 44, &err);
    px_buf b = PX_BUF_INIT;
    assert_int_equal(px_checkpoint_format(&cp, &b, &err), 0);
    const char *want = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    px_checkpoint back;
    assert_int_equal(px_checkpoint_parse(&back, want, strlen(want), &err), 0);
    assert_int_equal(back.size, 20852163);
    assert_null(back.extensions);
    const char *ext = "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nextra line\n";
    assert_int_equal(px_checkpoint_parse(&back, ext, strlen(ext), &err), 0);
    assert_string_equal(back.extensions, "extra line\n");
    px_checkpoint_free(&back);
    const char *bad[] = {
        "", "o\n", "o\n5\n", "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n-5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
        "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
        "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
        "o\n5\nAAAA\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (px_checkpoint_parse(&back, bad[i], strlen(bad[i]), &err) == 0)
            fail_msg("accepted bad checkpoint %zu", i);
    px_buf_free(&b);
}

static void test_checkpoint_signature(void **state) {
    px_err err = {0};
    px_signer log, other;
    assert_int_equal(px_signer_generate(&log, "log.example", &err), 0);
    assert_int_equal(px_signer_generate(&other, "log.example", &err), 0);
    px_verifier v, vo;
    px_signer_verifier(&log, &v);
    px_signer_verifier(&other, &vo);
    px_checkpoint cp = {.size = 7};
    strcpy(cp.origin, "log.example");
    px_buf note = PX_BUF_INIT;
    assert_int_equal(px_checkpoint_sign(&cp, &log, &note, &err), 0);
    px_checkpoint got;
    assert_int_equal(px_checkpoint_open(&got, (char *)note.data, note.len, &v, "log.example", &err), 0);
    assert_int_equal(got.size, 7);
    assert_int_equal(px_checkpoint_open(&got, (char *)note.data, note.len, &vo, NULL, &err), -1);
    assert_int_equal(px_checkpoint_open(&got, (char *)note.data, note.len, &v, "other.origin", &err), -1);
    note.data[12] ^= 1; /* the size line */
    assert_int_equal(px_checkpoint_open(&got, (char *)note.data, note.len, &v, NULL, &err), -1);
    px_buf_free(&note);
}

static void test_cosignature(void **state) {
    px_err err = {0};
    px_signer log, w;
    assert_int_equal(px_signer_generate(&log, "log.example", &err), 0);
    assert_int_equal(px_signer_generate(&w, "witness.example/w1", &err), 0);
    px_cosigner c;
    px_cosig_from_signer(&w, &c);
    /* The key id binds the 0x04 algorithm byte: not the note key id. */
    assert_int_not_equal(c.id, px_key_id(w.name, w.kp.pk));
    px_buf kt = PX_BUF_INIT;
    assert_int_equal(px_cosig_format(&c, &kt, &err), 0);
    px_cosigner back;
    assert_int_equal(px_cosig_parse(&back, (char *)kt.data, kt.len, &err), 0);
    assert_int_equal(back.id, c.id);
    assert_memory_equal(back.pk, c.pk, 32);
    /* A signed-note (0x01) verifier key is not a cosigner key. */
    px_verifier v;
    px_signer_verifier(&w, &v);
    px_buf vt = PX_BUF_INIT;
    assert_int_equal(px_verifier_format(&v, &vt, &err), 0);
    assert_int_equal(px_cosig_parse(&back, (char *)vt.data, vt.len, &err), -1);

    px_checkpoint cp = {.size = 3};
    strcpy(cp.origin, "log.example");
    px_buf note = PX_BUF_INIT, out = PX_BUF_INIT;
    assert_int_equal(px_checkpoint_sign(&cp, &log, &note, &err), 0);
    px_note n = {0};
    assert_int_equal(px_note_parse(&n, (char *)note.data, note.len, &err), 0);
    assert_int_equal(px_cosig_sign(&n, &w, 1679315147, &err), 0);
    uint64_t t = 0;
    assert_int_equal(px_cosig_verify(&n, &c, &t, &err), 0);
    assert_int_equal(t, 1679315147);
    /* Cosigned notes still verify under the log key; round trip through text. */
    assert_int_equal(px_note_format(&n, &out, &err), 0);
    px_note n2 = {0};
    assert_int_equal(px_note_parse(&n2, (char *)out.data, out.len, &err), 0);
    px_signer_verifier(&log, &v);
    assert_int_equal(px_note_verify(&n2, &v, 1, NULL, &err), 0);
    assert_int_equal(px_cosig_verify(&n2, &c, NULL, &err), 0);
    /* Changing the text or the timestamp breaks the cosignature. */
    n2.text[n2.text_len - 2] ^= 1;
    assert_int_equal(px_cosig_verify(&n2, &c, NULL, &err), -1);
    n2.text[n2.text_len - 2] ^= 1;
    for (size_t i = 0; i < n2.nsigs; i++)
        if (n2.sigs[i].id == c.id)
            n2.sigs[i].sig[7] ^= 1;
    assert_int_equal(px_cosig_verify(&n2, &c, NULL, &err), -1);
    px_note_free(&n);
    px_note_free(&n2);
    px_buf_free(&note);
    px_buf_free(&out);
    px_buf_free(&kt);
    px_buf_free(&vt);
}

/* Trees of "prefix i" leaves; a fork shares a prefix then differs. */
static void root_of(uint8_t out[32], const char *prefix, uint64_t shared, uint64_t n, uint8_t *leaves) {
    for (uint64_t i = 0; i < n; i++) {
        char e[32];
        int len = snprintf(e, sizeof e, "%s %llu", i < shared ? "common" : prefix, (unsigned long long)i);
        px_log_leaf_hash(leaves + i * 32, e, (size_t)len);
    }
    px_log_root_from_hashes(out, leaves, n);
}

static int mem_node(void *ctx, unsigned h, uint64_t i, uint8_t out[32], px_err *err) {
    px_log_root_from_hashes(out, (uint8_t *)ctx + (i << h) * 32, 1ull << h);
    return 0;
}

static void signed_cp(px_buf *out, const px_signer *log, uint64_t size, const uint8_t root[32]) {
    px_checkpoint cp = {.size = size};
    strcpy(cp.origin, "log.example");
    memcpy(cp.root, root, 32);
    px_buf_reset(out);
    assert_int_equal(px_checkpoint_sign(&cp, log, out, NULL), 0);
}

static void test_witness(void **state) {
    px_err err = {0};
    char dir[] = "/tmp/pixiu-witness-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/w.db", dir);
    px_signer log, wk;
    assert_int_equal(px_signer_generate(&log, "log.example", &err), 0);
    assert_int_equal(px_signer_generate(&wk, "witness.example", &err), 0);
    px_verifier lv;
    px_signer_verifier(&log, &lv);
    px_cosigner c;
    px_cosig_from_signer(&wk, &c);
    px_witness *w;
    assert_int_equal(px_witness_open(&w, path, &wk, &err), 0);

    static uint8_t honest[40 * 32], forked[40 * 32];
    uint8_t r10[32], r20[32], f20[32], f10[32];
    root_of(r10, "honest", 40, 10, honest);
    root_of(r20, "honest", 40, 20, honest);
    root_of(f20, "forked", 8, 20, forked);
    root_of(f10, "forked", 8, 10, forked);
    px_buf note = PX_BUF_INIT, out = PX_BUF_INIT, proof = PX_BUF_INIT;

    signed_cp(&note, &log, 10, r10);
    assert_int_equal(px_witness_add(w, &lv, (char *)note.data, note.len, 0, NULL, 0, &out, &err), 0);
    px_note n = {0};
    assert_int_equal(px_note_parse(&n, (char *)out.data, out.len, &err), 0);
    assert_int_equal(px_cosig_verify(&n, &c, NULL, &err), 0);
    px_note_free(&n);

    /* Stale idea of the witness's state: refused, naming its size. */
    signed_cp(&note, &log, 20, r20);
    assert_int_equal(px_log_prove_consistency(mem_node, honest, 10, 20, &proof, &err), 0);
    assert_int_equal(px_witness_add(w, &lv, (char *)note.data, note.len, 0, proof.data, proof.len / 32, &out, &err), -1);
    assert_int_equal(err.code, PX_E_STATE);
    assert_non_null(strstr(err.msg, "is 10"));
    /* A bad proof for an honest extension is refused too. */
    proof.data[3] ^= 1;
    assert_int_equal(px_witness_add(w, &lv, (char *)note.data, note.len, 10, proof.data, proof.len / 32, &out, &err), -1);
    proof.data[3] ^= 1;
    px_buf_reset(&out);
    assert_int_equal(px_witness_add(w, &lv, (char *)note.data, note.len, 10, proof.data, proof.len / 32, &out, &err), 0);

    /* A fork at size 20 (same size, other root) and at a larger size. */
    signed_cp(&note, &log, 20, f20);
    assert_int_equal(px_witness_add(w, &lv, (char *)note.data, note.len, 20, NULL, 0, &out, &err), -1);
    assert_non_null(strstr(err.msg, "forked history"));
    static uint8_t f30l[40 * 32];
    uint8_t f30[32];
    root_of(f30, "forked", 8, 30, f30l);
    signed_cp(&note, &log, 30, f30);
    px_buf_reset(&proof);
    assert_int_equal(px_log_prove_consistency(mem_node, f30l, 20, 30, &proof, &err), 0);
    assert_int_equal(px_witness_add(w, &lv, (char *)note.data, note.len, 20, proof.data, proof.len / 32, &out, &err), -1);
    assert_int_equal(err.code, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "forked history"));
    /* Rollback. */
    signed_cp(&note, &log, 10, r10);
    assert_int_equal(px_witness_add(w, &lv, (char *)note.data, note.len, 20, NULL, 0, &out, &err), -1);
    assert_non_null(strstr(err.msg, "rollback"));
    /* A checkpoint not signed by the log. */
    signed_cp(&note, &wk, 25, r20);
    assert_int_equal(px_witness_add(w, &lv, (char *)note.data, note.len, 20, NULL, 0, &out, &err), -1);
    px_witness_close(w);

    /* The state survives a reopen. */
    uint64_t size;
    assert_int_equal(px_witness_open(&w, path, &wk, &err), 0);
    assert_int_equal(px_witness_size(w, "log.example", &size, &err), 0);
    assert_int_equal(size, 20);
    px_witness_close(w);
    px_buf_free(&note);
    px_buf_free(&out);
    px_buf_free(&proof);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_tile_paths(void **state) {
    px_err err = {0};
    struct {
        int level;
        uint64_t index;
        unsigned width;
        const char *path;
    } ok[] = {
        {0, 0, 256, "0/000"},          {0, 1234067, 256, "0/x001/x234/067"}, {1, 5, 7, "1/005.p/7"},
        {-1, 1000, 256, "entries/x001/000"}, {-1, 3, 255, "entries/003.p/255"}, {63, 0, 1, "63/000.p/1"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        int l;
        uint64_t idx;
        unsigned w;
        if (px_log_tile_path_parse(ok[i].path, &l, &idx, &w, &err))
            fail_msg("%s: %s", ok[i].path, err.msg);
        assert_int_equal(l, ok[i].level);
        assert_int_equal(idx, ok[i].index);
        assert_int_equal(w, ok[i].width);
        px_buf b = PX_BUF_INIT;
        assert_int_equal(px_log_tile_path_format(l, idx, w, &b, &err), 0);
        assert_string_equal(px_buf_cstr(&b, NULL), ok[i].path);
        px_buf_free(&b);
    }
    const char *bad[] = {"", "0", "0/", "0/1", "0/0000", "00/000", "64/000", "0/x000/001", "0/000.p/0",
                         "0/000.p/256", "0/000.p/07", "0/000.p/", "0/x001", "0/x001/", "0/001/002", "-1/000",
                         "entries/", "0/x001/x002/x003/x004/x005/x006/x007/000", "0/000/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int l;
        uint64_t idx;
        unsigned w;
        if (px_log_tile_path_parse(bad[i], &l, &idx, &w, &err) == 0)
            fail_msg("accepted bad tile path '%s'", bad[i]);
    }
}

int main(void) {
    px_crypto_init(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint_format), cmocka_unit_test(test_checkpoint_signature),
        cmocka_unit_test(test_cosignature),       cmocka_unit_test(test_witness),
        cmocka_unit_test(test_tile_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
