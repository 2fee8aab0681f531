/* PXJB, JSON with attachments: a round trip through the writer and the
 * reader, each refusal by its message (nothing kept), and the reader's
 * plain-JSON and base64 paths, which older peers and tools still use. */
#include "px_test.h"

static void be32(px_buf *b, uint32_t v) {
    uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    assert_int_equal(px_buf_append(b, p, 4, NULL), 0);
}

/* A body written by hand: json, then nb attachments of the given texts. */
static void raw(px_buf *b, const char *json, size_t nb, const char *const *blobs) {
    px_buf_reset(b);
    px_buf_append(b, "PXJB", 4, NULL);
    be32(b, (uint32_t)strlen(json));
    px_buf_append_str(b, json, NULL);
    be32(b, (uint32_t)nb);
    for (size_t i = 0; i < nb; i++) {
        be32(b, (uint32_t)strlen(blobs[i]));
        px_buf_append_str(b, blobs[i], NULL);
    }
}

/* Parsing b must fail with code and a message holding want, keeping nothing. */
static void refused(const px_buf *b, px_code code, const char *want) {
    px_err err = {0};
    json_t *doc = (json_t *)1;
    px_jb_view v = {(px_jb_blob *)1, 99};
    if (px_jb_parse(b->data, b->len, 1 << 20, &doc, &v, &err) != -1)
        fail_msg("accepted, expected \"%s\"", want);
    if (err.code != code || !strstr(err.msg, want))
        fail_msg("refused as %s \"%s\", expected %s \"%s\"", px_code_name(err.code), err.msg, px_code_name(code), want);
    assert_ptr_equal(doc, (json_t *)1);
    assert_int_equal(v.n, 99);
}

static void test_round_trip(void **state) {
    (void)state;
    px_err err = {0};
    size_t big = 200000;
    uint8_t *sealed = malloc(big);
    assert_non_null(sealed);
    for (size_t i = 0; i < big; i++)
        sealed[i] = (uint8_t)(i * 131 + 7);
    for (int inline_b64 = 0; inline_b64 <= 1; inline_b64++) {
        px_jb jb;
        px_buf body = PX_BUF_INIT, got = PX_BUF_INIT;
        px_assert_ok(px_jb_init(&jb, inline_b64, &err), &err);
        json_t *outs = json_array(), *in = json_object();
        json_object_set_new(jb.doc, "ok", json_true());
        json_object_set_new(jb.doc, "in", in);
        json_object_set_new(jb.doc, "outputs", outs);
        px_assert_ok(px_jb_set_bytes(&jb, in, "sealed", sealed, big, &err), &err);
        px_assert_ok(px_jb_set_bytes(&jb, jb.doc, "empty", "", 0, &err), &err);
        px_assert_ok(px_jb_append_bytes(&jb, outs, "abc", 3, &err), &err);
        px_assert_ok(px_jb_append_bytes(&jb, outs, "de", 2, &err), &err);
        px_assert_ok(px_jb_encode(&jb, &body, &err), &err);
        px_jb_free(&jb);
        /* Attachments: exactly the format's bytes; else plain JSON. */
        assert_int_equal(px_jb_is(body.data, body.len), !inline_b64);
        if (!inline_b64) {
            size_t nj = (size_t)body.data[4] << 24 | (size_t)body.data[5] << 16 | (size_t)body.data[6] << 8 |
                        body.data[7];
            assert_int_equal(body.len, 8 + nj + 4 + 4 * 4 + big + 0 + 3 + 2);
            char *json = strndup((const char *)body.data + 8, nj);
            assert_non_null(strstr(json, "\"in\":{\"sealed\":{\"blob\":0}}"));
            free(json);
        } else {
            assert_int_equal(body.data[0], '{');
        }
        json_t *doc;
        px_jb_view v;
        px_assert_ok(px_jb_parse(body.data, body.len, 1 << 24, &doc, &v, &err), &err);
        assert_int_equal(v.n, inline_b64 ? 0 : 4);
        px_assert_ok(px_jb_bytes(&v, json_object_get(doc, "in"), "sealed", &got, &err), &err);
        assert_int_equal(got.len, big);
        assert_memory_equal(got.data, sealed, big);
        px_buf_reset(&got);
        px_assert_ok(px_jb_bytes(&v, doc, "empty", &got, &err), &err);
        assert_int_equal(got.len, 0);
        px_assert_ok(px_jb_value(&v, json_array_get(json_object_get(doc, "outputs"), 1), "output 1", &got, &err),
                     &err);
        assert_int_equal(got.len, 2);
        assert_memory_equal(got.data, "de", 2);
        assert_true(json_is_true(json_object_get(doc, "ok")));
        px_assert_fails(px_jb_bytes(&v, doc, "ok", &got, &err), &err, PX_E_INVALID);
        assert_non_null(strstr(err.msg, "field \"ok\" must be base64 or an attachment"));
        px_assert_fails(px_jb_bytes(&v, doc, "missing", &got, &err), &err, PX_E_INVALID);
        json_decref(doc);
        px_jb_view_free(&v);
        px_buf_free(&body);
        px_buf_free(&got);
    }
    free(sealed);
}

static void test_refusals(void **state) {
    (void)state;
    px_buf b = PX_BUF_INIT;
    const char *one[] = {"x"}, *two[] = {"x", "y"};
    raw(&b, "{\"a\":{\"blob\":1}}", 1, one);
    refused(&b, PX_E_INVALID, "reference to attachment 1 out of range (the body has 1)");
    raw(&b, "{\"a\":{\"blob\":-1}}", 1, one);
    refused(&b, PX_E_INVALID, "reference to attachment -1 out of range");
    raw(&b, "{\"a\":{\"blob\":\"0\"}}", 1, one);
    refused(&b, PX_E_INVALID, "whose k is not an integer");
    raw(&b, "{\"a\":{\"blob\":0},\"b\":[{\"blob\":0}]}", 1, one);
    refused(&b, PX_E_INVALID, "attachment 0 is referenced twice");
    raw(&b, "{\"a\":{\"blob\":0}}", 2, two);
    refused(&b, PX_E_INVALID, "attachment 1 is never referenced");
    raw(&b, "{\"a\":[{\"blob\":1},{\"blob\":0}]}", 2, two);
    px_buf_append(&b, "z", 1, NULL);
    refused(&b, PX_E_INVALID, "1 bytes after the last attachment");
    /* The last attachment declares more than the body holds. */
    raw(&b, "{\"a\":{\"blob\":0}}", 1, one);
    b.data[b.len - 3] = 9; /* its length: 0x00000901 */
    refused(&b, PX_E_INVALID, "attachment 0 is short: 2305 bytes declared, 1 present");
    raw(&b, "{}", 0, NULL);
    b.data[b.len - 2] = 0x10;
    b.data[b.len - 1] = 0x01; /* 4097 attachments */
    refused(&b, PX_E_LIMIT, "4097 attachments, over the limit of 4096");
    raw(&b, "{}", 0, NULL);
    b.len -= 2;
    refused(&b, PX_E_INVALID, "ends before its attachment count");
    raw(&b, "{}", 0, NULL);
    b.data[7] = 1; /* njson 1 */
    refused(&b, PX_E_LIMIT, "JSON of 1 bytes, outside 2..1048576");
    b.data[5] = 0x10; /* njson 0x100001 */
    refused(&b, PX_E_LIMIT, "JSON of 1048577 bytes, outside 2..1048576");
    b.data[5] = 0;
    b.data[7] = 40;
    refused(&b, PX_E_INVALID, "ends inside its JSON (40 bytes declared)");
    raw(&b, "[1]", 0, NULL);
    refused(&b, PX_E_INVALID, "PXJB: the JSON is not an object");
    raw(&b, "{\"a\":1,\"a\":2}", 0, NULL);
    refused(&b, PX_E_INVALID, "PXJB: invalid JSON");
    px_buf_reset(&b);
    px_buf_append(&b, "PXJB\0\0", 6, NULL);
    refused(&b, PX_E_INVALID, "ends before its JSON length");
    /* A body over the caller's limit for its JSON. */
    raw(&b, "{\"abcdef\":1}", 0, NULL);
    px_err err = {0};
    json_t *doc;
    px_jb_view v;
    px_assert_fails(px_jb_parse(b.data, b.len, 8, &doc, &v, &err), &err, PX_E_LIMIT);
    assert_non_null(strstr(err.msg, "JSON of 12 bytes, outside 2..8"));
    /* Every refusal above, and a well-formed body still parses. */
    raw(&b, "{\"a\":[{\"blob\":1},{\"blob\":0}],\"b\":{\"blob\":2,\"c\":1}}", 2, two);
    px_assert_ok(px_jb_parse(b.data, b.len, 1 << 20, &doc, &v, &err), &err);
    /* {"blob":2,"c":1} is data, not a reference: only {"blob":k} alone is. */
    assert_int_equal(v.n, 2);
    px_buf got = PX_BUF_INIT;
    px_assert_ok(px_jb_value(&v, json_array_get(json_object_get(doc, "a"), 0), "a[0]", &got, &err), &err);
    assert_memory_equal(got.data, "y", 1);
    json_decref(doc);
    px_jb_view_free(&v);
    px_buf_free(&got);
    px_buf_free(&b);
}

/* Bodies in plain JSON, and base64 fields in either form of body. */
static void test_plain_json_and_base64(void **state) {
    (void)state;
    px_err err = {0};
    px_buf b = PX_BUF_INIT, got = PX_BUF_INIT;
    json_t *doc;
    px_jb_view v;
    const char *plain = "{\"sealed\":\"aGVsbG8=\",\"odd\":\"aGVsbG9=\",\"r\":{\"blob\":0}}";
    px_assert_ok(px_jb_parse(plain, strlen(plain), 1 << 20, &doc, &v, &err), &err);
    assert_int_equal(v.n, 0);
    px_assert_ok(px_jb_bytes(&v, doc, "sealed", &got, &err), &err);
    assert_int_equal(got.len, 5);
    assert_memory_equal(got.data, "hello", 5);
    /* Non-canonical base64 is refused by the strict decoder, by name. */
    px_assert_fails(px_jb_bytes(&v, doc, "odd", &got, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "field \"odd\": "));
    assert_int_equal(got.len, 5);
    /* A reference in a body without attachments names nothing. */
    px_assert_fails(px_jb_bytes(&v, doc, "r", &got, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "out of range (the body has 0)"));
    json_decref(doc);
    px_jb_view_free(&v);
    /* Plain JSON is held to its own limit and rules. */
    px_assert_fails(px_jb_parse(plain, strlen(plain), 10, &doc, &v, &err), &err, PX_E_LIMIT);
    px_assert_fails(px_jb_parse("PX", 2, 10, &doc, &v, &err), &err, PX_E_INVALID);
    /* A PXJB body may still carry a field as base64. */
    const char *one[] = {"raw bytes"};
    raw(&b, "{\"a\":\"aGVsbG8=\",\"b\":{\"blob\":0}}", 1, one);
    px_assert_ok(px_jb_parse(b.data, b.len, 1 << 20, &doc, &v, &err), &err);
    px_buf_reset(&got);
    px_assert_ok(px_jb_bytes(&v, doc, "a", &got, &err) || px_jb_bytes(&v, doc, "b", &got, &err), &err);
    assert_int_equal(got.len, 14);
    assert_memory_equal(got.data, "helloraw bytes", 14);
    json_decref(doc);
    px_jb_view_free(&v);
    px_buf_free(&b);
    px_buf_free(&got);
}

/* The writer's own limit: no more attachments than a reader takes. */
static void test_writer_limit(void **state) {
    (void)state;
    px_err err = {0};
    px_jb jb;
    px_assert_ok(px_jb_init(&jb, 0, &err), &err);
    json_t *arr = json_array();
    json_object_set_new(jb.doc, "a", arr);
    for (unsigned i = 0; i < PX_JB_BLOBS_MAX; i++)
        px_assert_ok(px_jb_append_bytes(&jb, arr, "x", 1, &err), &err);
    px_assert_fails(px_jb_append_bytes(&jb, arr, "x", 1, &err), &err, PX_E_LIMIT);
    assert_non_null(strstr(err.msg, "more than 4096 attachments"));
    px_buf b = PX_BUF_INIT;
    json_t *doc;
    px_jb_view v;
    px_assert_ok(px_jb_encode(&jb, &b, &err), &err);
    px_assert_ok(px_jb_parse(b.data, b.len, 1 << 20, &doc, &v, &err), &err);
    assert_int_equal(v.n, PX_JB_BLOBS_MAX);
    json_decref(doc);
    px_jb_view_free(&v);
    px_jb_free(&jb);
    px_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_round_trip), cmocka_unit_test(test_refusals),
                                       cmocka_unit_test(test_plain_json_and_base64),
                                       cmocka_unit_test(test_writer_limit)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
