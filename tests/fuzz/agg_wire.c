/* Fuzz the secure-aggregation formats (MASKED, SHARES, REVEAL): whatever
 * parses rebuilds to exactly the bytes it came from, with its entries in
 * range and ascending; whatever fails says why. The same bytes are then
 * handed to a user's reveal (as a SHARES among honest ones) and to the
 * aggregator's unmask (as one of the messages of a small round), which
 * must refuse by name and leave their outputs as they were. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pixiu/agg.h"

#define N 5
#define DIM 3

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* The fixed header every message starts with, rebuilt from a view. */
static void header(uint8_t *out, const char *magic, uint32_t round, uint32_t index, uint32_t n) {
    memcpy(out, magic, 4);
    put32(out + 4, 1);
    put32(out + 8, round);
    put32(out + 12, index);
    put32(out + 16, n);
}

static void check_parsers(const uint8_t *data, size_t size) {
    px_err err;
    uint8_t *re = malloc(size ? size : 1);
    if (!re)
        return;
    px_agg_masked_view mv;
    if (px_agg_masked_parse(&mv, data, size, &err) == 0) {
        if (size != PX_AGG_MASKED_HEADER + (size_t)mv.dim * 4 || mv.index >= mv.n || mv.words != data + 88)
            abort();
        header(re, "PXSM", mv.round, mv.index, mv.n);
        put32(re + 20, mv.dim);
        memcpy(re + 24, mv.roster, 32);
        memcpy(re + 56, mv.commit, 32);
        memcpy(re + 88, mv.words, (size_t)mv.dim * 4);
        if (memcmp(re, data, size))
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    px_agg_shares_view sv;
    if (px_agg_shares_parse(&sv, data, size, &err) == 0) {
        if (size != PX_AGG_SHARES_HEADER + (size_t)sv.count * PX_AGG_SHARES_ENTRY || sv.count > PX_AGG_K_MAX)
            abort();
        header(re, "PXSS", sv.round, sv.index, sv.n);
        memcpy(re + 20, sv.roster, 32);
        put32(re + 52, sv.count);
        uint32_t prev = 0;
        for (uint32_t i = 0; i < sv.count; i++) {
            uint32_t to;
            const uint8_t *sealed;
            px_agg_shares_entry(&sv, i, &to, &sealed);
            if (to >= sv.n || to == sv.index || (i && to <= prev))
                abort();
            prev = to;
            uint8_t *e = re + PX_AGG_SHARES_HEADER + (size_t)i * PX_AGG_SHARES_ENTRY;
            put32(e, to);
            memcpy(e + 4, sealed, PX_AGG_SHARE_SEALED);
        }
        if (memcmp(re, data, size))
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    px_agg_reveal_view rv;
    if (px_agg_reveal_parse(&rv, data, size, &err) == 0) {
        if (size != PX_AGG_REVEAL_HEADER + (size_t)rv.count * PX_AGG_REVEAL_ENTRY || rv.count > PX_AGG_K_MAX)
            abort();
        header(re, "PXSR", rv.round, rv.index, rv.n);
        memcpy(re + 20, rv.roster, 32);
        memcpy(re + 52, rv.survivors, 32);
        put32(re + 84, rv.count);
        uint32_t prev_about = 0;
        for (uint32_t i = 0; i < rv.count; i++) {
            uint32_t about;
            uint8_t kind;
            const uint8_t *val;
            px_agg_reveal_entry(&rv, i, &about, &kind, &val);
            if (about >= rv.n || about == rv.index || (kind != 1 && kind != 2) || (i && about <= prev_about))
                abort();
            prev_about = about;
            uint8_t *e = re + PX_AGG_REVEAL_HEADER + (size_t)i * PX_AGG_REVEAL_ENTRY;
            put32(e, about);
            e[4] = kind;
            memcpy(e + 5, val, 32);
        }
        if (memcmp(re, data, size))
            abort();
    } else if (!err.msg[0]) {
        abort();
    }
    free(re);
}

/* A round of N users, keys from fixed seeds, everyone surviving. */
typedef struct round {
    px_agg_params p;
    uint8_t roster[N * 32], sk[N][32];
    px_buf masked[N], shares[N], reveal[N];
    uint8_t bitmap[1];
} round_t;

static round_t *round_setup(void) {
    static round_t r;
    static int ready;
    if (ready)
        return &r;
    if (sodium_init() < 0)
        abort();
    memset(&r, 0, sizeof r);
    r.p = (px_agg_params){.n = N, .k = 2, .t = 2, .dim = DIM, .round = 7};
    memset(r.p.manifest, 0x42, 32);
    r.bitmap[0] = (1u << N) - 1;
    for (int i = 0; i < N; i++) {
        uint8_t seed[32] = {(uint8_t)(i + 1)};
        crypto_box_seed_keypair(r.roster + 32 * i, r.sk[i], seed);
    }
    px_agg_user *u[N];
    px_err err;
    uint32_t q[DIM] = {1, 2, 3};
    for (int i = 0; i < N; i++) {
        u[i] = px_agg_user_new(&r.p, r.roster, (uint32_t)i, r.sk[i], &err);
        if (!u[i] || px_agg_user_mask(u[i], q, &r.masked[i], &r.shares[i], &err))
            abort();
    }
    px_agg_msg sm[N];
    for (int i = 0; i < N; i++)
        sm[i] = (px_agg_msg){r.shares[i].data, r.shares[i].len};
    for (int i = 0; i < N; i++) {
        if (px_agg_user_reveal(u[i], r.bitmap, 1, sm, N, &r.reveal[i], &err))
            abort();
        px_agg_user_free(u[i]);
    }
    ready = 1;
    return &r;
}

static void check_round(const uint8_t *data, size_t size) {
    round_t *r = round_setup();
    px_err err;
    /* The input in place of user 1's SHARES, for user 0's reveal. */
    px_agg_msg sm[N];
    for (int i = 0; i < N; i++)
        sm[i] = (px_agg_msg){r->shares[i].data, r->shares[i].len};
    sm[1] = (px_agg_msg){data, size};
    px_agg_user *u = px_agg_user_new(&r->p, r->roster, 0, r->sk[0], &err);
    if (!u)
        abort();
    px_buf out = PX_BUF_INIT;
    if (px_agg_user_reveal(u, r->bitmap, 1, sm, N, &out, &err) != 0 && (out.len || !err.msg[0]))
        abort();
    px_buf_free(&out);
    px_agg_user_free(u);
    /* The input in place of user 2's MASKED, then of its REVEAL. */
    px_agg_msg mm[N], rm[N];
    for (int i = 0; i < N; i++) {
        mm[i] = (px_agg_msg){r->masked[i].data, r->masked[i].len};
        rm[i] = (px_agg_msg){r->reveal[i].data, r->reveal[i].len};
    }
    uint32_t sum[DIM] = {0xa5a5a5a5u, 0xa5a5a5a5u, 0xa5a5a5a5u};
    for (int which = 0; which < 2; which++) {
        if (which)
            rm[2] = (px_agg_msg){data, size}, mm[2] = (px_agg_msg){r->masked[2].data, r->masked[2].len};
        else
            mm[2] = (px_agg_msg){data, size};
        if (px_agg_unmask(&r->p, r->roster, r->bitmap, 1, mm, N, rm, N, sum, &err) == 0) {
            /* A REVEAL that passes opens every commitment, so the sum is
             * right (a MASKED's words carry no such check: the step that
             * delivers it authenticates it). */
            if (which && (sum[0] != N * 1 || sum[1] != N * 2 || sum[2] != N * 3))
                abort();
            sum[0] = sum[1] = sum[2] = 0xa5a5a5a5u;
        } else if (!err.msg[0] || sum[0] != 0xa5a5a5a5u || sum[1] != 0xa5a5a5a5u || sum[2] != 0xa5a5a5a5u) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_parsers(data, size);
    check_round(data, size);
    return 0;
}
