/* PXR1 record streams and PXV1 vectors: round trips and hostile bytes. */
#include <math.h>

#include "px_test.h"
#include "pixiu/records.h"

static void make_schema(px_schema *s) {
    memset(s, 0, sizeof *s);
    s->nfields = 3;
    strcpy(s->fields[0].name, "user");
    s->fields[0].type = PX_FIELD_TEXT;
    strcpy(s->fields[1].name, "amount");
    s->fields[1].type = PX_FIELD_INT;
    strcpy(s->fields[2].name, "rate");
    s->fields[2].type = PX_FIELD_REAL;
    s->user_field = 0;
}

static void build(px_buf *b, int n) {
    px_schema s;
    make_schema(&s);
    px_err err = {0};
    px_assert_ok(px_records_begin(b, &s, (uint64_t)n, &err), &err);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "u%d", i);
        px_value v[3] = {{.type = PX_FIELD_TEXT, .p = (const uint8_t *)name, .len = (uint32_t)strlen(name)},
                         {.type = PX_FIELD_INT, .i = -1000 * i},
                         {.type = PX_FIELD_REAL, .r = i + 0.5}};
        px_assert_ok(px_records_append(b, &s, v, i % 2 ? PX_REC_AUTHENTICATED : 0, &err), &err);
    }
}

static void test_roundtrip(void **state) {
    (void)state;
    px_buf b = PX_BUF_INIT;
    build(&b, 5);
    px_records_reader r;
    px_err err = {0};
    px_assert_ok(px_records_open(&r, b.data, b.len, &err), &err);
    assert_int_equal(r.count, 5);
    assert_int_equal(r.schema.user_field, 0);
    assert_int_equal(px_schema_find(&r.schema, "rate"), 2);
    px_value v[PX_RECORDS_MAX_FIELDS];
    uint8_t flags;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(px_records_next(&r, v, &flags, &err), 1);
        assert_int_equal(v[1].i, -1000 * i);
        assert_true(v[2].r == i + 0.5);
        assert_int_equal(flags, i % 2 ? PX_REC_AUTHENTICATED : 0);
    }
    assert_int_equal(px_records_next(&r, v, &flags, &err), 0);
    px_buf_free(&b);
}

static void test_hostile(void **state) {
    (void)state;
    px_buf b = PX_BUF_INIT;
    build(&b, 3);
    px_records_reader r;
    px_value v[PX_RECORDS_MAX_FIELDS];
    px_err err = {0};
    /* Every truncation fails cleanly, in open or in next. */
    for (size_t cut = 0; cut < b.len; cut++) {
        int rc = px_records_open(&r, b.data, cut, &err);
        if (rc == 0)
            while ((rc = px_records_next(&r, v, NULL, &err)) == 1)
                ;
        assert_int_equal(rc, -1);
    }
    /* Trailing garbage is refused. */
    px_buf_append_u8(&b, 0, &err);
    px_assert_ok(px_records_open(&r, b.data, b.len, &err), &err);
    int rc;
    while ((rc = px_records_next(&r, v, NULL, &err)) == 1)
        ;
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err.msg, "after its last record"));
    /* Bad magic, bad flags, a huge declared length. */
    b.data[0] = 'X';
    px_assert_fails(px_records_open(&r, b.data, b.len, &err), &err, PX_E_INVALID);
    px_buf_free(&b);
    build(&b, 1);
    px_assert_ok(px_records_open(&r, b.data, b.len, &err), &err);
    b.data[r.off] = 0x80;
    assert_int_equal(px_records_next(&r, v, NULL, &err), -1);
    b.data[r.off] = 0;
    b.data[r.off + 4] = 0xff; /* text length high byte */
    assert_int_equal(px_records_next(&r, v, NULL, &err), -1);
    assert_int_equal(err.code, PX_E_LIMIT);
    px_buf_free(&b);
}

static void test_schema_rules(void **state) {
    (void)state;
    px_schema s;
    px_err err = {0};
    make_schema(&s);
    strcpy(s.fields[1].name, "user");
    px_assert_fails(px_schema_valid(&s, &err), &err, PX_E_INVALID);
    make_schema(&s);
    strcpy(s.fields[1].name, "bad name");
    px_assert_fails(px_schema_valid(&s, &err), &err, PX_E_INVALID);
    make_schema(&s);
    s.user_field = 7;
    px_assert_fails(px_schema_valid(&s, &err), &err, PX_E_INVALID);
    make_schema(&s);
    px_buf b = PX_BUF_INIT;
    px_value v[3] = {{.type = PX_FIELD_TEXT, .p = (const uint8_t *)"\xff", .len = 1},
                     {.type = PX_FIELD_INT},
                     {.type = PX_FIELD_REAL}};
    px_assert_fails(px_records_append(&b, &s, v, 0, &err), &err, PX_E_INVALID);
    assert_int_equal(b.len, 0);
    v[0].p = (const uint8_t *)"ok";
    v[0].len = 2;
    v[1].type = PX_FIELD_REAL;
    px_assert_fails(px_records_append(&b, &s, v, 0, &err), &err, PX_E_INVALID);
    assert_int_equal(b.len, 0);
    px_buf_free(&b);
}

static void test_vector(void **state) {
    (void)state;
    double in[4] = {1.5, -0.0, NAN, INFINITY}, *out = NULL;
    uint32_t n = 0;
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_vector_encode(&b, in, 4, &err), &err);
    px_assert_ok(px_vector_decode(&out, &n, b.data, b.len, &err), &err);
    assert_int_equal(n, 4);
    assert_memory_equal(in, out, sizeof in); /* bit-exact, NaN and -0 included */
    free(out);
    px_assert_fails(px_vector_decode(&out, &n, b.data, b.len - 1, &err), &err, PX_E_INVALID);
    b.data[7] = 0x7f;
    px_assert_fails(px_vector_decode(&out, &n, b.data, b.len, &err), &err, PX_E_LIMIT);
    px_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_schema_rules),
        cmocka_unit_test(test_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
