/* The per-user map's host side: the platform, not the task, decides what a
 * user is. Records are grouped by the stream's user field across inputs,
 * each group is a well-formed stream holding exactly that user's records,
 * tags are keyed (another key, other tags), blocks partition users, and a
 * run's output counts only as exactly one vector of the declared length. */
#include "px_test.h"
#include "lambda/stage_map.h"

static void schema(px_schema *s) {
    memset(s, 0, sizeof *s);
    s->nfields = 2;
    strcpy(s->fields[0].name, "user");
    s->fields[0].type = PX_FIELD_TEXT;
    strcpy(s->fields[1].name, "amount");
    s->fields[1].type = PX_FIELD_INT;
    s->user_field = 0;
}

/* A stream of n records whose users are names[i % nnames]. */
static void stream(px_buf *b, int n, const char *const *names, int nnames, int64_t base) {
    px_schema s;
    schema(&s);
    px_err err = {0};
    px_assert_ok(px_records_begin(b, &s, (uint64_t)n, &err), &err);
    for (int i = 0; i < n; i++) {
        const char *u = names[i % nnames];
        px_value v[2] = {{.type = PX_FIELD_TEXT, .p = (const uint8_t *)u, .len = (uint32_t)strlen(u)},
                         {.type = PX_FIELD_INT, .i = base + i}};
        px_assert_ok(px_records_append(b, &s, v, 0, &err), &err);
    }
}

static px_stage_input input(const px_buf *b) {
    px_stage_input in;
    memset(&in, 0, sizeof in);
    in.data = b->data;
    in.len = b->len;
    return in;
}

/* Every record of group g has the same user, and returns that user. */
static void group_user(const px_map_groups *g, size_t i, char *user, size_t cap, uint64_t *count) {
    px_records_reader r;
    px_err err = {0};
    px_assert_ok(px_records_open(&r, g->streams.data + g->off[i], g->len[i], &err), &err);
    px_value v[2];
    user[0] = 0;
    int rc;
    while ((rc = px_records_next(&r, v, NULL, &err)) == 1) {
        char u[32];
        snprintf(u, sizeof u, "%.*s", (int)v[0].len, (const char *)v[0].p);
        if (user[0] && strcmp(u, user))
            fail_msg("group %zu holds users %s and %s", i, user, u);
        snprintf(user, cap, "%s", u);
    }
    assert_int_equal(rc, 0);
    *count = r.count;
}

static px_map_params per_user(void) {
    px_map_params mp;
    memset(&mp, 0, sizeof mp);
    mp.mode = PX_MAP_PER_USER;
    mp.dim = 2;
    return mp;
}

static void test_groups_by_user_across_inputs(void **state) {
    (void)state;
    const char *a[] = {"alice", "bob", "carol"}, *b[] = {"bob", "dave"};
    px_buf s1 = PX_BUF_INIT, s2 = PX_BUF_INIT;
    stream(&s1, 30, a, 3, 0);
    stream(&s2, 10, b, 2, 100);
    px_stage_input in[2] = {input(&s1), input(&s2)};
    uint8_t key[32];
    px_random(key, sizeof key);
    px_map_params mp = per_user();
    px_map_groups g;
    px_err err = {0};
    px_assert_ok(px_map_group(in, 2, &mp, key, &g, &err), &err);
    assert_int_equal(g.n, 4); /* alice, bob (in both inputs), carol, dave */
    assert_int_equal(g.records, 40);
    uint64_t total = 0;
    for (size_t i = 0; i < g.n; i++) {
        char u[32];
        uint64_t c;
        group_user(&g, i, u, sizeof u, &c);
        total += c;
        assert_int_equal(c, !strcmp(u, "bob") ? 15 : !strcmp(u, "alice") || !strcmp(u, "carol") ? 10 : 5);
        for (size_t j = 0; j < i; j++)
            assert_memory_not_equal(g.tag[i], g.tag[j], PX_TAG_BYTES);
    }
    assert_int_equal(total, 40);
    /* Another key, other tags for the same users. */
    px_map_groups h;
    uint8_t key2[32];
    px_random(key2, sizeof key2);
    px_assert_ok(px_map_group(in, 2, &mp, key2, &h, &err), &err);
    assert_int_equal(h.n, 4);
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            assert_memory_not_equal(g.tag[i], h.tag[j], PX_TAG_BYTES);
    px_map_groups_free(&g);
    px_map_groups_free(&h);
    px_buf_free(&s1);
    px_buf_free(&s2);
}

static void test_blocks_partition_users(void **state) {
    (void)state;
    const char *names[40];
    char buf[40][8];
    for (int i = 0; i < 40; i++) {
        snprintf(buf[i], sizeof buf[i], "u%02d", i);
        names[i] = buf[i];
    }
    px_buf s = PX_BUF_INIT;
    stream(&s, 400, names, 40, 0);
    px_stage_input in = input(&s);
    uint8_t key[32];
    px_random(key, sizeof key);
    px_map_params mp = per_user();
    mp.mode = PX_MAP_SAMPLE_AGG;
    mp.blocks = 4;
    px_map_groups g;
    px_err err = {0};
    px_assert_ok(px_map_group(&in, 1, &mp, key, &g, &err), &err);
    assert_int_equal(g.n, 4); /* always one entry per block */
    uint64_t total = 0;
    for (size_t i = 0; i < g.n; i++) {
        px_records_reader r;
        px_assert_ok(px_records_open(&r, g.streams.data + g.off[i], g.len[i], &err), &err);
        total += r.count;
        assert_int_equal(g.empty[i], r.count == 0);
        assert_int_equal(r.count % 10, 0); /* a user's 10 records stay together */
    }
    assert_int_equal(total, 400);
    px_map_groups_free(&g);
    px_buf_free(&s);
}

static void test_refuses_streams_without_users(void **state) {
    (void)state;
    px_schema s;
    schema(&s);
    s.user_field = PX_NO_USER_FIELD;
    px_buf b = PX_BUF_INIT, ok = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_records_begin(&b, &s, 0, &err), &err);
    px_stage_input in = input(&b);
    uint8_t key[32] = {0};
    px_map_params mp = per_user();
    px_map_groups g;
    px_assert_fails(px_map_group(&in, 1, &mp, key, &g, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "no user field"));
    /* Two inputs of different schemas. */
    const char *u[] = {"x"};
    stream(&ok, 1, u, 1, 0);
    s.user_field = 1;
    px_buf_reset(&b);
    px_assert_ok(px_records_begin(&b, &s, 0, &err), &err);
    px_stage_input two[2] = {input(&ok), input(&b)};
    px_assert_fails(px_map_group(two, 2, &mp, key, &g, &err), &err, PX_E_INVALID);
    px_buf_free(&b);
    px_buf_free(&ok);
}

/* Exactly one PXV1 of dim values, from an ok run: anything else is absent. */
static void test_collect_one_vector_per_run(void **state) {
    (void)state;
    const char *names[] = {"a", "b", "c", "d", "e"};
    px_buf s = PX_BUF_INIT, raw = PX_BUF_INIT, out = PX_BUF_INIT;
    stream(&s, 5, names, 5, 0);
    px_stage_input in = input(&s);
    uint8_t key[32];
    px_random(key, sizeof key);
    px_map_params mp = per_user();
    px_map_groups g;
    px_err err = {0};
    px_assert_ok(px_map_group(&in, 1, &mp, key, &g, &err), &err);
    assert_int_equal(g.n, 5);
    px_sandbox_run_out runs[5];
    memset(runs, 0, sizeof runs);
    const double v[3] = {1, 2, 3};
    /* run 0: one vector; run 1: two vectors; run 2: three values;
     * run 3: trapped; run 4: garbage. */
    runs[0].off = raw.len;
    px_vector_encode(&raw, v, 2, &err);
    runs[0].len = raw.len - runs[0].off;
    runs[1].off = raw.len;
    px_vector_encode(&raw, v, 2, &err);
    px_vector_encode(&raw, v, 2, &err);
    runs[1].len = raw.len - runs[1].off;
    runs[2].off = raw.len;
    px_vector_encode(&raw, v, 3, &err);
    runs[2].len = raw.len - runs[2].off;
    runs[3].status = PX_SB_TRAP;
    runs[4].off = raw.len;
    px_buf_append(&raw, "PXV1\x02\x00\x00\x00garbage!", 16, &err);
    runs[4].len = raw.len - runs[4].off;
    px_assert_ok(px_map_collect(&g, &mp, &raw, runs, &out, &err), &err);
    px_tagged_reader r;
    px_assert_ok(px_tagged_open(&r, out.data, out.len, &err), &err);
    assert_int_equal(r.count, 5);
    assert_int_equal(out.len, PX_TAGGED_HEADER_BYTES + 5 * px_tagged_entry_bytes(2));
    const uint8_t *tag;
    int present;
    double vals[2];
    for (int i = 0; i < 5; i++) {
        assert_int_equal(px_tagged_next(&r, &tag, &present, vals, &err), 1);
        assert_memory_equal(tag, g.tag[i], PX_TAG_BYTES);
        assert_int_equal(present, i == 0);
    }
    assert_int_equal(px_tagged_next(&r, &tag, &present, vals, &err), 0);
    px_map_groups_free(&g);
    px_buf_free(&s);
    px_buf_free(&raw);
    px_buf_free(&out);
}

static void test_tagged_format_hostile(void **state) {
    (void)state;
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    uint8_t tag[PX_TAG_BYTES] = {1};
    const double v[2] = {1, 2};
    px_assert_ok(px_tagged_begin(&b, 2, 2, &err), &err);
    px_assert_ok(px_tagged_append(&b, 2, tag, v, &err), &err);
    px_assert_ok(px_tagged_append(&b, 2, tag, NULL, &err), &err);
    px_tagged_reader r;
    px_assert_ok(px_tagged_open(&r, b.data, b.len, &err), &err);
    /* Truncated, extended, a count that lies, a dim of 0. */
    px_assert_fails(px_tagged_open(&r, b.data, b.len - 1, &err), &err, PX_E_INVALID);
    px_buf_append(&b, "x", 1, &err);
    px_assert_fails(px_tagged_open(&r, b.data, b.len, &err), &err, PX_E_INVALID);
    b.len--;
    b.data[8] = 3;
    px_assert_fails(px_tagged_open(&r, b.data, b.len, &err), &err, PX_E_INVALID);
    b.data[8] = 2;
    b.data[4] = 0;
    px_assert_fails(px_tagged_open(&r, b.data, b.len, &err), &err, PX_E_INVALID);
    b.data[4] = 2;
    /* An absent entry may not smuggle values; unknown flags are refused. */
    size_t e1 = PX_TAGGED_HEADER_BYTES + px_tagged_entry_bytes(2);
    b.data[e1 + PX_TAG_BYTES + 1] = 0x40;
    px_assert_ok(px_tagged_open(&r, b.data, b.len, &err), &err);
    const uint8_t *t;
    int present;
    double vals[2];
    assert_int_equal(px_tagged_next(&r, &t, &present, vals, &err), 1);
    assert_int_equal(px_tagged_next(&r, &t, &present, vals, &err), -1);
    b.data[e1 + PX_TAG_BYTES + 1] = 0;
    b.data[e1 + PX_TAG_BYTES] = 0x02;
    px_assert_ok(px_tagged_open(&r, b.data, b.len, &err), &err);
    assert_int_equal(px_tagged_next(&r, &t, &present, vals, &err), 1);
    assert_int_equal(px_tagged_next(&r, &t, &present, vals, &err), -1);
    px_buf_free(&b);
}

static void test_params(void **state) {
    (void)state;
    px_err err = {0};
    px_map_params mp;
    const char *ok[] = {"{}", "{\"cpu_ms\":5}",
                        "{\"map\":\"per-user\",\"dim\":3,\"pseudonym\":"
                        "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
                        "{\"map\":\"sample-and-aggregate\",\"dim\":1,\"blocks\":8,\"pseudonym\":"
                        "\"0000000000000000000000000000000000000000000000000000000000000000\"}"};
    const char *bad[] = {"{\"dim\":3}", "{\"map\":\"per-row\",\"dim\":1}",
                         "{\"map\":\"per-user\",\"dim\":0,\"pseudonym\":\"00\"}",
                         "{\"map\":\"per-user\",\"dim\":2}",
                         "{\"map\":\"per-user\",\"dim\":2,\"blocks\":3,\"pseudonym\":"
                         "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
                         "{\"map\":\"sample-and-aggregate\",\"dim\":2,\"blocks\":1,\"pseudonym\":"
                         "\"0000000000000000000000000000000000000000000000000000000000000000\"}"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        json_t *p = json_loads(ok[i], 0, NULL);
        px_assert_ok(px_map_params_read(p, &mp, &err), &err);
        json_decref(p);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *p = json_loads(bad[i], 0, NULL);
        if (px_map_params_read(p, &mp, &err) == 0)
            fail_msg("params %s were accepted", bad[i]);
        json_decref(p);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_groups_by_user_across_inputs), cmocka_unit_test(test_blocks_partition_users),
        cmocka_unit_test(test_refuses_streams_without_users), cmocka_unit_test(test_collect_one_vector_per_run),
        cmocka_unit_test(test_tagged_format_hostile),         cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
