/* The MASKED, SHARES and REVEAL formats: what a round writes parses back;
 * every truncation, a byte more, another magic or version, counts out of
 * range, entries out of order or of an unknown kind are refused with a
 * message naming the message and the cause. */
#include "agg_testlib.h"

typedef int (*parse_fn)(const uint8_t *data, size_t len, px_err *err);

static int parse_masked(const uint8_t *d, size_t n, px_err *err) {
    px_agg_masked_view v;
    return px_agg_masked_parse(&v, d, n, err);
}
static int parse_shares(const uint8_t *d, size_t n, px_err *err) {
    px_agg_shares_view v;
    return px_agg_shares_parse(&v, d, n, err);
}
static int parse_reveal(const uint8_t *d, size_t n, px_err *err) {
    px_agg_reveal_view v;
    return px_agg_reveal_parse(&v, d, n, err);
}

/* Truncations, one byte more, magic and version, each named. */
static void check_framing(const px_buf *b, parse_fn parse, const char *what) {
    px_err err = {0};
    px_assert_ok(parse(b->data, b->len, &err), &err);
    uint8_t *c = malloc(b->len + 1);
    memcpy(c, b->data, b->len);
    for (size_t n = 0; n < b->len; n++) {
        if (parse(c, n, &err) == 0)
            fail_msg("%s truncated to %zu bytes parsed", what, n);
        assert_int_equal(strncmp(err.msg, what, strlen(what)), 0);
        assert_true(strstr(err.msg, "truncated") != NULL);
    }
    c[b->len] = 0;
    px_assert_fails(parse(c, b->len + 1, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "trailing bytes"));
    c[0] = 'Q';
    px_assert_fails(parse(c, b->len, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "magic"));
    c[0] = 'P';
    c[4] = 2;
    px_assert_fails(parse(c, b->len, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "version 2"));
    c[4] = 1;
    c[7] = 1; /* a reserved byte */
    px_assert_fails(parse(c, b->len, &err), &err, PX_E_INVALID);
    c[7] = 0;
    /* n out of range, the sender out of range. */
    c[16] = 1;
    c[17] = c[18] = c[19] = 0;
    px_assert_fails(parse(c, b->len, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "n = 1 users"));
    memcpy(c, b->data, b->len);
    memcpy(c + 12, c + 16, 4); /* index = n */
    px_assert_fails(parse(c, b->len, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "out of range"));
    /* Garbage of every small length. */
    for (size_t n = 0; n < 200; n++) {
        randombytes_buf(c, n < b->len ? n : b->len);
        assert_int_equal(parse(c, n < b->len ? n : b->len, &err), -1);
    }
    free(c);
}

static void test_framing(void **state) {
    (void)state;
    sim s;
    sim_init(&s, 12, 4, 3, 20, 6);
    s.dropped[1] = 1;
    sim_mask(&s);
    sim_reveal(&s);
    check_framing(&s.masked[0], parse_masked, "masked update");
    check_framing(&s.shares[0], parse_shares, "shares");
    check_framing(&s.reveal[0], parse_reveal, "reveal");
    px_err err = {0};
    /* Fields read back. */
    px_agg_masked_view mv;
    px_assert_ok(px_agg_masked_parse(&mv, s.masked[3].data, s.masked[3].len, &err), &err);
    assert_int_equal(mv.round, 6);
    assert_int_equal(mv.index, 3);
    assert_int_equal(mv.n, 12);
    assert_int_equal(mv.dim, 20);
    assert_int_equal(s.masked[3].len, PX_AGG_MASKED_HEADER + 20 * 4);
    px_agg_shares_view sv;
    px_assert_ok(px_agg_shares_parse(&sv, s.shares[3].data, s.shares[3].len, &err), &err);
    assert_int_equal(sv.count, 4);
    assert_int_equal(s.shares[3].len, PX_AGG_SHARES_HEADER + 4 * PX_AGG_SHARES_ENTRY);
    uint32_t nb[PX_AGG_K_MAX], deg;
    px_assert_ok(px_agg_neighbours_get(&s.p, 3, nb, &deg, &err), &err);
    for (uint32_t i = 0; i < sv.count; i++) {
        uint32_t to;
        const uint8_t *sealed;
        px_agg_shares_entry(&sv, i, &to, &sealed);
        assert_int_equal(to, nb[i]);
    }
    px_agg_reveal_view rv;
    px_assert_ok(px_agg_reveal_parse(&rv, s.reveal[3].data, s.reveal[3].len, &err), &err);
    assert_int_equal(rv.count, deg);
    for (uint32_t i = 0; i < rv.count; i++) {
        uint32_t about;
        uint8_t kind;
        const uint8_t *val;
        px_agg_reveal_entry(&rv, i, &about, &kind, &val);
        assert_int_equal(about, nb[i]);
        assert_int_equal(kind, about == 1 ? PX_AGG_REVEAL_SEED : PX_AGG_REVEAL_SHARE);
    }

    /* MASKED: dim 0, dim beyond the limit, a length for another dim. */
    px_buf m = PX_BUF_INIT;
    px_buf_append(&m, s.masked[0].data, s.masked[0].len, &err);
    m.data[20] = 0;
    px_assert_fails(parse_masked(m.data, m.len, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "masked update: dim = 0, need 1..16777216");
    m.data[20] = 0;
    m.data[23] = 0x10;
    px_assert_fails(parse_masked(m.data, m.len, &err), &err, PX_E_LIMIT);
    m.data[23] = 0;
    m.data[20] = 19;
    px_assert_fails(parse_masked(m.data, m.len, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "masked update: 168 bytes for dim 19 (expected 164: trailing bytes)");
    px_buf_free(&m);

    /* SHARES: a count over the limit, a count for more entries than sent,
     * entries out of order, a share addressed to its sender. */
    px_buf_append(&m, s.shares[3].data, s.shares[3].len, &err);
    m.data[52] = 65;
    px_assert_fails(parse_shares(m.data, m.len, &err), &err, PX_E_LIMIT);
    m.data[52] = 5;
    px_assert_fails(parse_shares(m.data, m.len, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "truncated"));
    m.data[52] = 4;
    uint8_t tmp[4];
    memcpy(tmp, m.data + 56, 4);
    memcpy(m.data + 56, m.data + 56 + PX_AGG_SHARES_ENTRY, 4);
    px_assert_fails(parse_shares(m.data, m.len, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "does not ascend"));
    memcpy(m.data + 56, tmp, 4);
    m.data[56] = 3;
    m.data[57] = m.data[58] = m.data[59] = 0;
    px_assert_fails(parse_shares(m.data, m.len, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "shares: entry 0 is addressed to user 3 (n = 12, sender 3)");
    px_buf_free(&m);

    /* REVEAL: an unknown kind, an entry about the revealer, disorder. */
    px_buf_append(&m, s.reveal[3].data, s.reveal[3].len, &err);
    m.data[88 + 4] = 3;
    px_assert_fails(parse_reveal(m.data, m.len, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "reveal: entry 0 has kind 3 (1 share, 2 seed)");
    m.data[88 + 4] = PX_AGG_REVEAL_SHARE;
    memcpy(m.data + 88 + PX_AGG_REVEAL_ENTRY, m.data + 88, 4);
    px_assert_fails(parse_reveal(m.data, m.len, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "does not ascend"));
    m.data[88] = 40;
    px_assert_fails(parse_reveal(m.data, m.len, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "reveal: entry 0 is about user 40 (n = 12, revealer 3)");
    px_buf_free(&m);

    /* A message of one kind given where another is due. */
    px_assert_fails(parse_reveal(s.masked[0].data, s.masked[0].len, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "reveal: not a reveal message (magic is not \"PXSR\")");
    sim_free(&s);
}

/* Garbage given to a user's reveal and to the aggregator is refused by
 * name and leaves the outputs as they were. */
static void test_garbage_in_round(void **state) {
    (void)state;
    sim s;
    sim_init(&s, 10, 4, 3, 16, 2);
    sim_mask(&s);
    size_t c;
    px_agg_msg *m = sim_share_msgs(&s, &c);
    uint8_t junk[300];
    randombytes_buf(junk, sizeof junk);
    m[4] = (px_agg_msg){junk, sizeof junk};
    px_buf r = PX_BUF_INIT;
    px_err err = {0};
    px_assert_fails(px_agg_user_reveal(s.users[0], s.bitmap, s.bitmap_len, m, c, &r, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "secagg user 0: SHARES message 4: shares: not a shares message (magic is not \"PXSS\")");
    assert_int_equal(r.len, 0);
    /* The user can still answer once the junk is gone. */
    free(m);
    m = sim_share_msgs(&s, &c);
    px_assert_ok(px_agg_user_reveal(s.users[0], s.bitmap, s.bitmap_len, m, c, &r, &err), &err);
    px_buf_free(&r);
    free(m);
    s.reveal[0].len = 0;
    for (uint32_t i = 1; i < 10; i++) {
        size_t cc;
        px_agg_msg *mm = sim_share_msgs(&s, &cc);
        px_assert_ok(px_agg_user_reveal(s.users[i], s.bitmap, s.bitmap_len, mm, cc, &s.reveal[i], &err), &err);
        free(mm);
    }
    uint32_t sum[16];
    memset(sum, 0x11, sizeof sum);
    px_buf keep = s.masked[2];
    s.masked[2] = (px_buf){junk, 100, 100};
    px_assert_fails(sim_unmask(&s, sum, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "masked update 2: masked update: not a masked update message (magic is not \"PXSM\")");
    s.masked[2] = keep;
    assert_int_equal(sum[5], 0x11111111u);
    sim_free(&s);
}

/* A sealed share changed in transit does not open; one sealed to the
 * right user by someone else, naming another pair, is refused too. */
static void test_forged_share(void **state) {
    (void)state;
    sim s;
    sim_init(&s, 10, 4, 3, 16, 2);
    sim_mask(&s);
    uint32_t nb[PX_AGG_K_MAX], deg;
    px_err err = {0};
    px_assert_ok(px_agg_neighbours_get(&s.p, 0, nb, &deg, &err), &err);
    uint32_t v = nb[0];
    px_agg_shares_view sv;
    px_assert_ok(px_agg_shares_parse(&sv, s.shares[v].data, s.shares[v].len, &err), &err);
    uint32_t i = 0, to = 0;
    const uint8_t *sealed = NULL;
    for (; i < sv.count; i++) {
        px_agg_shares_entry(&sv, i, &to, &sealed);
        if (to == 0)
            break;
    }
    size_t off = (size_t)(sealed - s.shares[v].data);
    s.shares[v].data[off + 60] ^= 1;
    size_t c;
    px_agg_msg *m = sim_share_msgs(&s, &c);
    px_buf r = PX_BUF_INIT;
    px_assert_fails(px_agg_user_reveal(s.users[0], s.bitmap, s.bitmap_len, m, c, &r, &err), &err, PX_E_VERIFY);
    char want[128];
    snprintf(want, sizeof want, "shares from user %u: the share for user 0 does not open", v);
    assert_string_equal(err.msg, want);
    /* A well-sealed share claiming to be from another user. */
    uint8_t plain[AGG_SHARE_PLAIN] = {0};
    memcpy(plain, s.p.manifest, 32);
    plain[32] = 2;
    plain[36] = (uint8_t)(v + 1) % 10;
    plain[44] = 1;
    assert_int_equal(crypto_box_seal(s.shares[v].data + off, plain, sizeof plain, s.roster), 0);
    px_assert_fails(px_agg_user_reveal(s.users[0], s.bitmap, s.bitmap_len, m, c, &r, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "names another task, round, pair or x"));
    assert_int_equal(r.len, 0);
    /* Restore the share; then neighbour nb[1]'s SHARES given twice, and
     * neighbour v's missing. */
    free(m);
    sim_free(&s);
    sim_init(&s, 10, 4, 3, 16, 2);
    sim_mask(&s);
    px_assert_ok(px_agg_neighbours_get(&s.p, 0, nb, &deg, &err), &err);
    v = nb[0];
    m = sim_share_msgs(&s, &c);
    px_agg_msg keep = m[v];
    m[v] = m[nb[1]];
    px_assert_fails(px_agg_user_reveal(s.users[0], s.bitmap, s.bitmap_len, m, c, &r, &err), &err, PX_E_INVALID);
    snprintf(want, sizeof want, "shares from user %u: given twice", nb[1]);
    assert_string_equal(err.msg, want);
    m[v] = m[c - 1];
    m[c - 1] = keep;
    px_assert_fails(px_agg_user_reveal(s.users[0], s.bitmap, s.bitmap_len, m, c - 1, &r, &err), &err, PX_E_INVALID);
    snprintf(want, sizeof want, "reveal: no share from surviving neighbour %u (its SHARES is missing)", v);
    assert_string_equal(err.msg, want);
    px_assert_ok(px_agg_user_reveal(s.users[0], s.bitmap, s.bitmap_len, m, c, &r, &err), &err);
    px_buf_free(&r);
    free(m);
    sim_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_garbage_in_round),
        cmocka_unit_test(test_forged_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
