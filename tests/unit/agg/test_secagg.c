/* Secure aggregation end to end: exact sums with dropouts, masked updates
 * that hide the plain ones, and every refusal with the message naming why
 * (a replayed round, a second reveal, too few survivors, another roster,
 * a corrupt share, a missing reveal). */
#include "agg_testlib.h"

static void check_round(uint32_t n, uint32_t dim, unsigned percent) {
    sim s;
    sim_init(&s, n, 8, 5, dim, 3);
    uint32_t dropped = sim_drop_spread(&s, percent);
    assert_int_equal(dropped, n * percent / 100);
    sim_mask(&s);
    sim_reveal(&s);
    uint32_t *sum = malloc(dim * 4), *want = malloc(dim * 4);
    px_err err = {0};
    px_assert_ok(sim_unmask(&s, sum, &err), &err);
    sim_plain_sum(&s, want);
    assert_memory_equal(sum, want, dim * 4);
    free(sum);
    free(want);
    sim_free(&s);
}

static void test_sum_no_dropout(void **state) {
    (void)state;
    check_round(20, 1000, 0);
    check_round(9, 17, 0); /* deg = 8 = n - 1: the complete graph */
}

static void test_sum_10_percent(void **state) {
    (void)state;
    check_round(50, 777, 10);
}

static void test_sum_30_percent(void **state) {
    (void)state;
    check_round(20, 300, 30);
    check_round(100, 300, 30);
}

/* Random dropouts: each survivor must keep t of its neighbours. Without
 * pruning, a user left short refuses to reveal and the round is refused
 * naming who; after px_agg_survivors_prune the sum is exact. */
static void test_random_dropouts(void **state) {
    (void)state;
    for (int trial = 0; trial < 6; trial++) {
        sim s;
        sim_init(&s, 100, 8, 5, 64, 9 + (uint32_t)trial);
        for (uint32_t i = 0; i < 100; i++)
            s.dropped[i] = randombytes_uniform(100) < 30;
        sim_mask(&s);
        size_t c;
        px_agg_msg *m = sim_share_msgs(&s, &c);
        px_err err = {0};
        px_buf r = PX_BUF_INIT;
        int refused = 0;
        for (uint32_t i = 0; i < 100; i++)
            if (!s.dropped[i] && px_agg_user_reveal(s.users[i], s.bitmap, s.bitmap_len, m, c, &r, &err)) {
                assert_int_equal(err.code, PX_E_DENIED);
                assert_non_null(strstr(err.msg, "neighbours survive"));
                refused++;
            }
        px_buf_free(&r);
        free(m);
        /* 30% of 8 neighbours: about 19% of users are left short. */
        assert_true(refused > 0);
        sim_free(&s);

        sim_init(&s, 100, 8, 5, 64, 9 + (uint32_t)trial);
        for (uint32_t i = 0; i < 100; i++)
            s.dropped[i] = randombytes_uniform(100) < 30;
        sim_mask(&s);
        uint32_t removed, before, after;
        px_assert_ok(px_agg_survivors_count(&s.p, s.bitmap, s.bitmap_len, &before, &err), &err);
        px_assert_ok(px_agg_survivors_prune(&s.p, s.bitmap, s.bitmap_len, &removed, &err), &err);
        px_assert_ok(px_agg_survivors_count(&s.p, s.bitmap, s.bitmap_len, &after, &err), &err);
        assert_int_equal(before - after, removed);
        for (uint32_t i = 0; i < 100; i++)
            if (!agg_bit(s.bitmap, i))
                s.dropped[i] = 1; /* left out: its messages are not used */
        uint32_t sum[64], want[64];
        if (after >= 5) {
            sim_reveal(&s);
            px_assert_ok(sim_unmask(&s, sum, &err), &err);
            sim_plain_sum(&s, want);
            assert_memory_equal(sum, want, sizeof sum);
        }
        sim_free(&s);
    }
}

static void test_masked_hides(void **state) {
    (void)state;
    sim s;
    sim_init(&s, 10, 4, 3, 4096, 1);
    memset(s.q, 0, 4096 * 4); /* user 0 sends zeros: y_0 is all mask */
    sim_mask(&s);
    px_agg_masked_view v;
    px_err err = {0};
    px_assert_ok(px_agg_masked_parse(&v, s.masked[0].data, s.masked[0].len, &err), &err);
    unsigned same = 0, ones = 0;
    for (uint32_t i = 0; i < 4096; i++) {
        uint32_t y = px_load_u32le(v.words + 4 * i);
        same += y == s.q[i];
        ones += (unsigned)__builtin_popcount(y);
    }
    assert_true(same <= 2);
    /* 131072 bits: uniform gives 65536 ones, sd 181. */
    assert_in_range(ones, 65536 - 1500, 65536 + 1500);
    /* A second mask of the same update differs (a fresh b_u). */
    px_buf again = PX_BUF_INIT, sh = PX_BUF_INIT;
    px_assert_fails(px_agg_user_mask(s.users[0], s.q, &again, &sh, &err), &err, PX_E_STATE);
    assert_int_equal(again.len + sh.len, 0);
    px_agg_user *u = px_agg_user_new(&s.p, s.roster, 0, s.sk[0], &err);
    px_assert_ok(px_agg_user_mask(u, s.q, &again, &sh, &err), &err);
    assert_memory_not_equal(again.data + 88, s.masked[0].data + 88, 4096 * 4);
    px_agg_user_free(u);
    px_buf_free(&again);
    px_buf_free(&sh);
    sim_free(&s);
}

static void test_replay_refused(void **state) {
    (void)state;
    sim a, b;
    sim_init(&a, 12, 4, 3, 32, 4);
    sim_mask(&a);
    sim_reveal(&a);
    /* Round 5 over the same roster: user 2's MASKED from round 4 replayed. */
    sim_init(&b, 12, 4, 3, 32, 5);
    memcpy(b.roster, a.roster, 12 * 32);
    memcpy(b.sk, a.sk, 12 * 32);
    for (uint32_t i = 0; i < 12; i++) {
        px_agg_user_free(b.users[i]);
        px_err e = {0};
        b.users[i] = px_agg_user_new(&b.p, b.roster, i, b.sk[i], &e);
    }
    sim_mask(&b);
    sim_reveal(&b);
    px_buf keep = b.masked[2];
    b.masked[2] = a.masked[2];
    uint32_t sum[32];
    px_err err = {0};
    px_assert_fails(sim_unmask(&b, sum, &err), &err, PX_E_STATE);
    assert_string_equal(err.msg, "masked update from user 2: round 4, expected 5 (a replay from an earlier round)");
    b.masked[2] = keep;
    /* An old REVEAL likewise. */
    keep = b.reveal[7];
    b.reveal[7] = a.reveal[7];
    px_assert_fails(sim_unmask(&b, sum, &err), &err, PX_E_STATE);
    assert_non_null(strstr(err.msg, "reveal from user 7: round 4, expected 5"));
    b.reveal[7] = keep;
    px_assert_ok(sim_unmask(&b, sum, &err), &err);
    /* An old SHARES handed to a user of round 5. */
    sim c;
    sim_init(&c, 12, 4, 3, 32, 5);
    sim_mask(&c);
    size_t n;
    px_agg_msg *m = sim_share_msgs(&c, &n);
    uint32_t nb[PX_AGG_K_MAX], deg;
    px_assert_ok(px_agg_neighbours_get(&c.p, 0, nb, &deg, &err), &err);
    c.shares[nb[0]].data[8] = 4; /* the round field */
    px_buf r = PX_BUF_INIT;
    px_assert_fails(px_agg_user_reveal(c.users[0], c.bitmap, c.bitmap_len, m, n, &r, &err), &err, PX_E_STATE);
    assert_non_null(strstr(err.msg, "a replay from an earlier round"));
    assert_int_equal(r.len, 0);
    px_buf_free(&r);
    free(m);
    sim_free(&c);
    sim_free(&a);
    sim_free(&b);
}

static void test_second_reveal(void **state) {
    (void)state;
    sim s;
    sim_init(&s, 10, 4, 3, 8, 2);
    sim_mask(&s);
    sim_reveal(&s);
    size_t c;
    px_agg_msg *m = sim_share_msgs(&s, &c);
    px_buf r = PX_BUF_INIT;
    px_err err = {0};
    /* The same set again, or another one: the user answered already. */
    px_assert_fails(px_agg_user_reveal(s.users[3], s.bitmap, s.bitmap_len, m, c, &r, &err), &err, PX_E_STATE);
    assert_string_equal(err.msg, "reveal: user 3 already answered a survivor set in round 2 (a second request)");
    uint32_t nb[PX_AGG_K_MAX], deg;
    px_assert_ok(px_agg_neighbours_get(&s.p, 3, nb, &deg, &err), &err);
    s.bitmap[nb[0] / 8] &= (uint8_t) ~(1u << (nb[0] % 8));
    px_assert_fails(px_agg_user_reveal(s.users[3], s.bitmap, s.bitmap_len, m, c, &r, &err), &err, PX_E_STATE);
    assert_int_equal(r.len, 0);
    px_buf_free(&r);
    free(m);
    sim_free(&s);
}

static void test_too_few_survivors(void **state) {
    (void)state;
    sim s;
    sim_init(&s, 20, 8, 5, 8, 1);
    s.p.min_survivors = 10;
    for (uint32_t i = 0; i < 20; i++)
        px_agg_user_free(s.users[i]);
    for (uint32_t i = 0; i < 20; i++) {
        px_err e = {0};
        s.users[i] = px_agg_user_new(&s.p, s.roster, i, s.sk[i], &e);
    }
    for (uint32_t i = 9; i < 20; i++)
        s.dropped[i] = 1;
    sim_mask(&s);
    size_t c;
    px_agg_msg *m = sim_share_msgs(&s, &c);
    px_buf r = PX_BUF_INIT;
    px_err err = {0};
    px_assert_fails(px_agg_user_reveal(s.users[0], s.bitmap, s.bitmap_len, m, c, &r, &err), &err, PX_E_DENIED);
    assert_string_equal(err.msg, "too few survivors: 9 of 20, need 10");
    uint32_t sum[8];
    px_assert_fails(sim_unmask(&s, sum, &err), &err, PX_E_DENIED);
    assert_string_equal(err.msg, "too few survivors: 9 of 20, need 10");
    /* A set that does not include the user. */
    s.bitmap[0] &= (uint8_t)~1u;
    px_assert_fails(px_agg_user_reveal(s.users[0], s.bitmap, s.bitmap_len, m, c, &r, &err), &err, PX_E_DENIED);
    assert_string_equal(err.msg, "reveal: user 0 is not among the survivors");
    assert_int_equal(r.len, 0);
    px_buf_free(&r);
    free(m);
    sim_free(&s);
}

/* Enough survivors overall, but a user whose neighbourhood mostly dropped
 * refuses (it would hand out more than k - t of its pairwise seeds). */
static void test_neighbourhood_guard(void **state) {
    (void)state;
    sim s;
    sim_init(&s, 30, 8, 5, 8, 1);
    uint32_t nb[PX_AGG_K_MAX], deg;
    px_err err = {0};
    px_assert_ok(px_agg_neighbours_get(&s.p, 4, nb, &deg, &err), &err);
    assert_int_equal(deg, 8);
    for (int j = 0; j < 4; j++)
        s.dropped[nb[j]] = 1;
    sim_mask(&s);
    size_t c;
    px_agg_msg *m = sim_share_msgs(&s, &c);
    px_buf r = PX_BUF_INIT;
    px_assert_fails(px_agg_user_reveal(s.users[4], s.bitmap, s.bitmap_len, m, c, &r, &err), &err, PX_E_DENIED);
    assert_string_equal(err.msg,
                        "reveal: only 4 of user 4's 8 neighbours survive, need t = 5 (it would expose its masks)");
    px_buf_free(&r);
    free(m);
    sim_free(&s);
}

static void test_tampered(void **state) {
    (void)state;
    sim s;
    sim_init(&s, 16, 6, 4, 40, 7);
    s.dropped[5] = 1;
    sim_mask(&s);
    sim_reveal(&s);
    uint32_t sum[40], want[40];
    px_err err = {0};
    /* The roster digest in a MASKED. */
    s.masked[3].data[30] ^= 1;
    px_assert_fails(sim_unmask(&s, sum, &err), &err, PX_E_VERIFY);
    assert_string_equal(err.msg, "masked update from user 3: another roster (digest or n differs)");
    s.masked[3].data[30] ^= 1;
    /* The survivors digest in a REVEAL. */
    s.reveal[6].data[60] ^= 1;
    px_assert_fails(sim_unmask(&s, sum, &err), &err, PX_E_VERIFY);
    assert_string_equal(err.msg, "reveal from user 6: it answers another survivor set");
    s.reveal[6].data[60] ^= 1;
    /* A share value: the self mask no longer opens its commitment. */
    px_agg_reveal_view rv;
    px_assert_ok(px_agg_reveal_parse(&rv, s.reveal[0].data, s.reveal[0].len, &err), &err);
    uint32_t about = 0;
    uint8_t kind = 0;
    const uint8_t *val;
    uint32_t j = 0;
    for (; j < rv.count; j++) {
        px_agg_reveal_entry(&rv, j, &about, &kind, &val);
        if (kind == PX_AGG_REVEAL_SHARE)
            break;
    }
    size_t off = (size_t)(val - s.reveal[0].data);
    s.reveal[0].data[off] ^= 0x40;
    int rc = sim_unmask(&s, sum, &err);
    if (rc == 0) { /* user 0's share was not among the t used */
        sim_plain_sum(&s, want);
        assert_memory_equal(sum, want, sizeof sum);
    } else {
        assert_int_equal(err.code, PX_E_VERIFY);
        char m[128];
        snprintf(m, sizeof m, "user %u's self mask: the revealed shares do not open its commitment", about);
        assert_non_null(strstr(err.msg, m));
    }
    s.reveal[0].data[off] ^= 0x40;
    /* A kind flipped: a share where a seed is due. */
    s.reveal[0].data[off - 1] = kind == PX_AGG_REVEAL_SHARE ? PX_AGG_REVEAL_SEED : PX_AGG_REVEAL_SHARE;
    px_assert_fails(sim_unmask(&s, sum, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "reveal from user 0: entry about user"));
    s.reveal[0].data[off - 1] = kind;
    /* One MASKED twice, or one missing. */
    memset(sum, 0xee, sizeof sum);
    px_agg_msg mm[16], rm[16];
    size_t nm = 0, nr = 0;
    for (uint32_t i = 0; i < 16; i++)
        if (!s.dropped[i]) {
            mm[nm++] = (px_agg_msg){s.masked[i].data, s.masked[i].len};
            rm[nr++] = (px_agg_msg){s.reveal[i].data, s.reveal[i].len};
        }
    mm[nm] = mm[0];
    px_assert_fails(px_agg_unmask(&s.p, s.roster, s.bitmap, s.bitmap_len, mm, nm + 1, rm, nr, sum, &err), &err,
                    PX_E_INVALID);
    assert_string_equal(err.msg, "masked update from user 0: given twice");
    px_assert_fails(px_agg_unmask(&s.p, s.roster, s.bitmap, s.bitmap_len, mm, nm - 1, rm, nr, sum, &err), &err,
                    PX_E_INVALID);
    assert_non_null(strstr(err.msg, "no masked update from survivor"));
    assert_int_equal(sum[0], 0xeeeeeeeeu); /* untouched on failure */
    /* A survivor next to the dropped user 5 gives no reveal. */
    uint32_t nb[PX_AGG_K_MAX], deg;
    px_assert_ok(px_agg_neighbours_get(&s.p, 5, nb, &deg, &err), &err);
    px_agg_msg rm2[16];
    size_t k = 0;
    for (uint32_t i = 0; i < 16; i++)
        if (!s.dropped[i] && i != nb[0])
            rm2[k++] = (px_agg_msg){s.reveal[i].data, s.reveal[i].len};
    px_assert_fails(px_agg_unmask(&s.p, s.roster, s.bitmap, s.bitmap_len, mm, nm, rm2, k, sum, &err), &err,
                    PX_E_INVALID);
    char m[128];
    snprintf(m, sizeof m, "no reveal from survivor %u: it holds the pairwise seed with dropped user 5", nb[0]);
    assert_string_equal(err.msg, m);
    px_assert_ok(px_agg_unmask(&s.p, s.roster, s.bitmap, s.bitmap_len, mm, nm, rm, nr, sum, &err), &err);
    sim_plain_sum(&s, want);
    assert_memory_equal(sum, want, sizeof sum);
    sim_free(&s);
}

static void test_users_and_params(void **state) {
    (void)state;
    sim s;
    sim_init(&s, 10, 4, 3, 8, 1);
    px_err err = {0};
    /* A secret key that is not the roster's. */
    assert_null(px_agg_user_new(&s.p, s.roster, 1, s.sk[2], &err));
    assert_string_equal(err.msg, "secagg user: the secret key does not match roster key 1");
    /* Equal keys in the roster. */
    uint8_t *r = malloc(10 * 32);
    memcpy(r, s.roster, 10 * 32);
    memcpy(r + 7 * 32, r + 2 * 32, 32);
    uint8_t d[32];
    px_assert_fails(px_agg_roster_digest(r, 10, d, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "secagg roster: keys 2 and 7 are equal");
    free(r);
    px_agg_params p = s.p;
    p.t = 2; /* not more than half of 4 */
    px_assert_fails(px_agg_params_check(&p, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "secagg parameters: t = 2 with 4 neighbours, need 3..4 (more than half the neighbours)");
    p = s.p;
    p.k = 5;
    px_assert_fails(px_agg_params_check(&p, &err), &err, PX_E_INVALID);
    p = s.p;
    p.dim = 0;
    px_assert_fails(px_agg_params_check(&p, &err), &err, PX_E_INVALID);
    /* A clip bound at which the sum of n updates could wrap. */
    p = s.p;
    p.clip = (UINT64_C(1) << 31) / 10 + 1;
    px_assert_fails(px_agg_params_check(&p, &err), &err, PX_E_INVALID);
    assert_string_equal(err.msg, "secagg parameters: n x clip = 10 x 214748365 reaches 2^31, the sum could wrap "
                                 "(lower the scale or the clip)");
    p.clip--;
    px_assert_ok(px_agg_params_check(&p, &err), &err);
    /* The graph: symmetric, deg neighbours, deterministic, per round. */
    p = s.p;
    p.n = 101;
    p.k = 8;
    p.t = 5;
    uint32_t nb[PX_AGG_K_MAX], nb2[PX_AGG_K_MAX], deg, deg2;
    int differs = 0;
    for (uint32_t i = 0; i < 101; i++) {
        px_assert_ok(px_agg_neighbours_get(&p, i, nb, &deg, &err), &err);
        assert_int_equal(deg, 8);
        for (uint32_t j = 0; j < deg; j++) {
            assert_true(nb[j] != i && nb[j] < 101);
            if (j)
                assert_true(nb[j] > nb[j - 1]);
            px_assert_ok(px_agg_neighbours_get(&p, nb[j], nb2, &deg2, &err), &err);
            int back = 0;
            for (uint32_t l = 0; l < deg2; l++)
                back |= nb2[l] == i;
            assert_true(back);
        }
        p.round++;
        px_assert_ok(px_agg_neighbours_get(&p, i, nb2, &deg2, &err), &err);
        p.round--;
        differs |= memcmp(nb, nb2, sizeof nb[0] * 8) != 0;
    }
    assert_true(differs);
    px_assert_fails(px_agg_neighbours_get(&p, 101, nb, &deg, &err), &err, PX_E_INVALID);
    /* Survivor bitmaps: length and padding. */
    uint8_t bm[2] = {0xff, 0x03}, dg[32];
    uint32_t c;
    px_assert_ok(px_agg_survivors_count(&s.p, bm, 2, &c, &err), &err);
    assert_int_equal(c, 10);
    bm[1] = 0x07;
    px_assert_fails(px_agg_survivors_digest(&s.p, bm, 2, dg, &err), &err, PX_E_INVALID);
    px_assert_fails(px_agg_survivors_count(&s.p, bm, 1, &c, &err), &err, PX_E_INVALID);
    sim_free(&s);
}

static void test_shamir(void **state) {
    (void)state;
    for (unsigned a = 1; a < 256; a++)
        assert_int_equal(agg_gf_mul((uint8_t)a, agg_gf_inv((uint8_t)a)), 1);
    assert_int_equal(agg_gf_mul(0x53, 0xca), 0x01); /* FIPS-197's example inverse pair */
    assert_int_equal(agg_gf_mul(0x57, 0x83), 0xc1); /* FIPS-197 section 4.2 */
    uint8_t secret[32], xs[8], ys[8][32], got[32], sx[8], sy[8][32];
    randombytes_buf(secret, 32);
    for (int j = 0; j < 8; j++)
        xs[j] = (uint8_t)(j + 1);
    agg_shamir_split(secret, 5, xs, 8, ys);
    /* Every 5-subset of the 8 shares gives the secret; 4 shares do not. */
    for (unsigned mask = 0; mask < 256; mask++) {
        if (__builtin_popcount(mask) != 5 && __builtin_popcount(mask) != 4)
            continue;
        uint32_t c = 0;
        for (int j = 0; j < 8; j++)
            if (mask >> j & 1) {
                sx[c] = xs[j];
                memcpy(sy[c++], ys[j], 32);
            }
        agg_shamir_combine(sx, (const uint8_t(*)[32])sy, c, got);
        if (c == 5)
            assert_memory_equal(got, secret, 32);
        else
            assert_memory_not_equal(got, secret, 32);
    }
}

/* The derivations are the header's, computed here independently: the
 * pairwise seed a user reveals for a dropped neighbour, the roster and
 * survivors digests, and the graph's shuffle. */
static void test_definitions(void **state) {
    (void)state;
    sim s;
    sim_init(&s, 12, 4, 3, 8, 0x01020304);
    px_err err = {0};
    uint32_t nb[PX_AGG_K_MAX], deg;
    px_assert_ok(px_agg_neighbours_get(&s.p, 0, nb, &deg, &err), &err);
    uint32_t v = nb[1];
    s.dropped[v] = 1;
    sim_mask(&s);
    sim_reveal(&s);
    uint8_t ctx[36], shared[32], want[32];
    memcpy(ctx, s.p.manifest, 32);
    memcpy(ctx + 32, "\x04\x03\x02\x01", 4);
    const uint8_t *pk0 = s.roster, *pkv = s.roster + 32 * v;
    assert_int_equal(crypto_scalarmult(shared, s.sk[0], pkv), 0);
    int lo = memcmp(pk0, pkv, 32) < 0;
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const uint8_t *)"PIXIU-secagg-pair-v1", 20);
    crypto_hash_sha256_update(&h, ctx, 36);
    crypto_hash_sha256_update(&h, shared, 32);
    crypto_hash_sha256_update(&h, lo ? pk0 : pkv, 32);
    crypto_hash_sha256_update(&h, lo ? pkv : pk0, 32);
    crypto_hash_sha256_final(&h, want);
    px_agg_reveal_view rv;
    px_assert_ok(px_agg_reveal_parse(&rv, s.reveal[0].data, s.reveal[0].len, &err), &err);
    uint32_t about;
    uint8_t kind;
    const uint8_t *val;
    px_agg_reveal_entry(&rv, 1, &about, &kind, &val);
    assert_int_equal(about, v);
    assert_int_equal(kind, PX_AGG_REVEAL_SEED);
    assert_memory_equal(val, want, 32);
    /* Roster digest: SHA-256 of the keys; survivors digest: labelled. */
    crypto_hash_sha256(want, s.roster, 12 * 32);
    assert_memory_equal(rv.roster, want, 32);
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const uint8_t *)"PIXIU-secagg-survivors-v1", 25);
    crypto_hash_sha256_update(&h, ctx, 36);
    crypto_hash_sha256_update(&h, (const uint8_t *)"\x0c\x00\x00\x00", 4);
    crypto_hash_sha256_update(&h, s.bitmap, 2);
    crypto_hash_sha256_final(&h, want);
    assert_memory_equal(rv.survivors, want, 32);
    /* The graph: the shuffle of the header, then k/2 random offsets. */
    uint8_t gseed[32];
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const uint8_t *)"PIXIU-secagg-graph-v1", 21);
    crypto_hash_sha256_update(&h, ctx, 36);
    crypto_hash_sha256_final(&h, gseed);
    uint8_t stream[4096] = {0}, nonce[12] = {0};
    crypto_stream_chacha20_ietf(stream, sizeof stream, nonce, gseed);
    uint32_t ring[12], at = 0;
    for (uint32_t i = 0; i < 12; i++)
        ring[i] = i;
    for (uint32_t i = 11; i >= 1; i--) {
        uint64_t range = i + 1, limit = (UINT64_C(1) << 32) - (UINT64_C(1) << 32) % range;
        uint32_t w;
        do {
            w = px_load_u32le(stream + 4 * at++);
        } while (w >= limit);
        uint32_t j = (uint32_t)(w % range), t = ring[i];
        ring[i] = ring[j];
        ring[j] = t;
    }
    /* Then k/2 = 2 distinct offsets in [1, (12-1)/2 = 5], same stream. */
    uint32_t off[2], noff = 0;
    while (noff < 2) {
        uint64_t range = 5, limit = (UINT64_C(1) << 32) - (UINT64_C(1) << 32) % range;
        uint32_t w;
        do {
            w = px_load_u32le(stream + 4 * at++);
        } while (w >= limit);
        uint32_t d = (uint32_t)(w % range) + 1;
        if (noff == 0 || off[0] != d)
            off[noff++] = d;
    }
    for (uint32_t r = 0; r < 12; r++) {
        uint32_t u = ring[r], expect[4] = {ring[(r + off[0]) % 12], ring[(r + 12 - off[0]) % 12],
                                           ring[(r + off[1]) % 12], ring[(r + 12 - off[1]) % 12]};
        px_assert_ok(px_agg_neighbours_get(&s.p, u, nb, &deg, &err), &err);
        for (int e = 0; e < 4; e++) {
            int found = 0;
            for (uint32_t j = 0; j < deg; j++)
                found |= nb[j] == expect[e];
            assert_true(found);
        }
    }
    sim_free(&s);
}

/* The mask is the header's formula: y_0 = q_0 + PRG(b_0) + Σ ±PRG(s_0v)
 * with PRG one ChaCha20 keystream over all dim words (5000 words: across
 * the chunks the code works in), b_0 rebuilt from its neighbours' reveals
 * and checked against its commitment. */
static void test_mask_formula(void **state) {
    (void)state;
    const uint32_t dim = 5000;
    sim s;
    sim_init(&s, 12, 4, 3, dim, 77);
    sim_mask(&s);
    sim_reveal(&s);
    px_err err = {0};
    uint32_t nb[PX_AGG_K_MAX], deg;
    px_assert_ok(px_agg_neighbours_get(&s.p, 0, nb, &deg, &err), &err);
    uint8_t xs[3], ys[3][32], b[32], ctx[36], commit[32];
    for (uint32_t j = 0; j < 3; j++) {
        px_agg_reveal_view rv;
        px_assert_ok(px_agg_reveal_parse(&rv, s.reveal[nb[j]].data, s.reveal[nb[j]].len, &err), &err);
        assert_int_equal(px_load_u32le(rv.entries), 0); /* user 0 comes first */
        assert_int_equal(rv.entries[4], PX_AGG_REVEAL_SHARE);
        xs[j] = (uint8_t)(j + 1);
        memcpy(ys[j], rv.entries + 5, 32);
    }
    agg_shamir_combine(xs, (const uint8_t(*)[32])ys, 3, b);
    memcpy(ctx, s.p.manifest, 32);
    memcpy(ctx + 32, "\x4d\x00\x00\x00", 4);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    crypto_hash_sha256_update(&h, (const uint8_t *)"PIXIU-secagg-self-v1", 20);
    crypto_hash_sha256_update(&h, ctx, 36);
    crypto_hash_sha256_update(&h, (const uint8_t *)"\0\0\0\0", 4);
    crypto_hash_sha256_update(&h, b, 32);
    crypto_hash_sha256_final(&h, commit);
    px_agg_masked_view mv;
    px_assert_ok(px_agg_masked_parse(&mv, s.masked[0].data, s.masked[0].len, &err), &err);
    assert_memory_equal(mv.commit, commit, 32);
    uint32_t *y = malloc(dim * 4);
    uint8_t *ks = malloc(dim * 4), nonce[12] = {0};
    memcpy(y, s.q, dim * 4);
    crypto_stream_chacha20_ietf(ks, dim * 4, nonce, b);
    for (uint32_t i = 0; i < dim; i++)
        y[i] += px_load_u32le(ks + 4 * i);
    for (uint32_t j = 0; j < deg; j++) {
        uint8_t seed[32];
        assert_int_equal(agg_pair_seed(&s.p, s.sk[0], s.roster, s.roster + 32 * nb[j], seed), 0);
        crypto_stream_chacha20_ietf(ks, dim * 4, nonce, seed);
        for (uint32_t i = 0; i < dim; i++)
            y[i] += nb[j] > 0 ? px_load_u32le(ks + 4 * i) : 0u - px_load_u32le(ks + 4 * i);
    }
    for (uint32_t i = 0; i < dim; i++)
        if (px_load_u32le(mv.words + 4 * i) != y[i])
            fail_msg("word %u of the masked update is not the formula's", i);
    free(y);
    free(ks);
    sim_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_no_dropout),     cmocka_unit_test(test_sum_10_percent),
        cmocka_unit_test(test_sum_30_percent),     cmocka_unit_test(test_random_dropouts),
        cmocka_unit_test(test_masked_hides),       cmocka_unit_test(test_replay_refused),
        cmocka_unit_test(test_second_reveal),      cmocka_unit_test(test_too_few_survivors),
        cmocka_unit_test(test_neighbourhood_guard), cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_users_and_params),   cmocka_unit_test(test_shamir),
        cmocka_unit_test(test_definitions),        cmocka_unit_test(test_mask_formula),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
