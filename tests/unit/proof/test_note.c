/* C2SP signed notes: the published example, tampering, several signers. */
#include "px_test.h"
#include "pixiu/proof.h"

static void load_example(px_buf *note, px_verifier *v) {
    px_buf vk = PX_BUF_INIT;
    px_err err = {0};
    px_test_read("tests/vectors/notes/c2sp-example.note", note);
    px_test_read("tests/vectors/notes/c2sp-example.vkey", &vk);
    px_assert_ok(px_verifier_parse(v, (char *)vk.data, vk.len, &err), &err);
    px_buf_free(&vk);
}

static void test_c2sp_example(void **state) {
    (void)state;
    px_buf note = PX_BUF_INIT;
    px_verifier v;
    px_err err = {0};
    load_example(&note, &v);
    px_note n;
    px_assert_ok(px_note_parse(&n, (char *)note.data, note.len, &err), &err);
    assert_string_equal(n.text, "This is an example message.\n");
    assert_int_equal(n.nsigs, 1);
    size_t nok = 0;
    px_assert_ok(px_note_verify(&n, &v, 1, &nok, &err), &err);
    assert_int_equal(nok, 1);
    px_buf again = PX_BUF_INIT;
    px_assert_ok(px_note_format(&n, &again, &err), &err);
    assert_int_equal(again.len, note.len);
    assert_memory_equal(again.data, note.data, note.len);
    px_note_free(&n);
    px_buf_free(&again);
    px_buf_free(&note);
}

static void test_every_byte_flip_fails(void **state) {
    (void)state;
    px_buf note = PX_BUF_INIT;
    px_verifier v;
    px_err err = {0};
    load_example(&note, &v);
    for (size_t i = 0; i < note.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            note.data[i] ^= (uint8_t)(1u << bit);
            px_note n;
            int ok = px_note_parse(&n, (char *)note.data, note.len, &err) == 0;
            if (ok) {
                ok = px_note_verify(&n, &v, 1, NULL, &err) == 0;
                px_note_free(&n);
            }
            if (ok)
                fail_msg("flipping bit %d of byte %zu went unnoticed", bit, i);
            note.data[i] ^= (uint8_t)(1u << bit);
        }
    }
    px_buf_free(&note);
}

static void test_sign_many_and_unknown(void **state) {
    (void)state;
    px_signer a, b, c;
    px_err err = {0};
    px_assert_ok(px_signer_generate(&a, "pixiu.test/a", &err), &err);
    px_assert_ok(px_signer_generate(&b, "pixiu.test/b", &err), &err);
    px_assert_ok(px_signer_generate(&c, "pixiu.test/c", &err), &err);
    px_signer two[2] = {a, b};
    px_buf out = PX_BUF_INIT;
    const char *text = "origin\n\nwith an empty line\n";
    px_assert_ok(px_note_sign(&out, text, strlen(text), two, 2, &err), &err);
    px_note n;
    px_assert_ok(px_note_parse(&n, (char *)out.data, out.len, &err), &err);
    assert_string_equal(n.text, text); /* the last blank line separates */
    assert_int_equal(n.nsigs, 2);
    px_verifier va, vb, vc;
    px_signer_verifier(&a, &va);
    px_signer_verifier(&b, &vb);
    px_signer_verifier(&c, &vc);
    px_verifier both[2] = {va, vb};
    size_t nok;
    px_assert_ok(px_note_verify(&n, both, 2, &nok, &err), &err);
    assert_int_equal(nok, 2);
    px_assert_fails(px_note_verify(&n, &vc, 1, &nok, &err), &err, PX_E_VERIFY); /* unknown only */
    /* c adds its signature; the others are kept untouched. */
    px_assert_ok(px_note_add_sig(&n, &c, &err), &err);
    px_buf out2 = PX_BUF_INIT;
    px_assert_ok(px_note_format(&n, &out2, &err), &err);
    assert_memory_equal(out2.data, out.data, out.len);
    px_note n2;
    px_assert_ok(px_note_parse(&n2, (char *)out2.data, out2.len, &err), &err);
    px_assert_ok(px_note_verify(&n2, &vc, 1, &nok, &err), &err);
    /* A known key whose signature fails rejects the whole note. */
    n2.sigs[0].sig[0] ^= 1;
    px_verifier all[3] = {va, vb, vc};
    px_assert_fails(px_note_verify(&n2, all, 3, &nok, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "pixiu.test/a"));
    px_note_free(&n);
    px_note_free(&n2);
    px_buf_free(&out);
    px_buf_free(&out2);
}

static void test_malformed(void **state) {
    (void)state;
    px_err err = {0};
    px_note n;
    const char *cases[] = {
        "no blank line\n\xe2\x80\x94 k AAAAAAAA\n",
        "text\n\n",
        "text\n\n- k AAAAAAAA\n",
        "text\n\n\xe2\x80\x94 k AAAA\n",
        "text\n\n\xe2\x80\x94 k AAAAAAAA",
        "text\n\n\xe2\x80\x94 bad+name AAAAAAAA\n",
        "text\n\n\xe2\x80\x94 k AAAA====\n",
        "te\x01xt\n\n\xe2\x80\x94 k AAAAAAAA\n",
        "te\xffxt\n\n\xe2\x80\x94 k AAAAAAAA\n",
        "",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (px_note_parse(&n, cases[i], strlen(cases[i]), &err) == 0)
            fail_msg("case %zu parsed", i);
        assert_true(strlen(err.msg) > 0);
    }
    px_assert_fails(px_note_parse(&n, "text\n\n\xe2\x80\x94 k AAAAAAAA\n\0", 22, &err), &err, PX_E_INVALID);
    px_buf out = PX_BUF_INIT;
    px_signer a;
    px_assert_ok(px_signer_generate(&a, "pixiu.test/a", &err), &err);
    px_assert_fails(px_note_sign(&out, "no newline", 10, &a, 1, &err), &err, PX_E_INVALID);
    px_assert_fails(px_note_sign(&out, "ctl\x07\n", 5, &a, 1, &err), &err, PX_E_INVALID);
    assert_int_equal(out.len, 0);
    /* Too many signatures. */
    px_assert_ok(px_buf_append_str(&out, "t\n\n", &err), &err);
    for (int i = 0; i <= PX_NOTE_MAX_SIGS; i++)
        px_assert_ok(px_buf_append_str(&out, "\xe2\x80\x94 k AAAAAAAA\n", &err), &err);
    px_assert_fails(px_note_parse(&n, (char *)out.data, out.len, &err), &err, PX_E_LIMIT);
    px_buf_free(&out);
}

int main(void) {
    px_crypto_init(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c2sp_example),
        cmocka_unit_test(test_every_byte_flip_fails),
        cmocka_unit_test(test_sign_many_and_unknown),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
