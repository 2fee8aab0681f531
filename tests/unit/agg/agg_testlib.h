/* Test support for secure aggregation: a whole round simulated in one
 * process (real keys, real sealing), with chosen dropouts. */
#ifndef PX_AGG_TESTLIB_H
#define PX_AGG_TESTLIB_H

#include "px_test.h"

#include <sodium.h>

#include "agg/agg_int.h"

typedef struct sim {
    px_agg_params p;
    uint8_t *roster;   /* n x 32 */
    uint8_t (*sk)[32]; /* n */
    uint32_t *q;       /* n x dim */
    px_agg_user **users;
    px_buf *masked, *shares, *reveal;
    uint8_t *dropped;  /* 1: never sent its update */
    uint8_t bitmap[PX_AGG_N_MAX / 8];
    size_t bitmap_len;
} sim;

static inline void sim_init(sim *s, uint32_t n, uint32_t k, uint32_t t, uint32_t dim, uint32_t round) {
    memset(s, 0, sizeof s[0]);
    s->p.n = n;
    s->p.k = k;
    s->p.t = t;
    s->p.dim = dim;
    s->p.round = round;
    memset(s->p.manifest, 0x5a, 32);
    s->roster = malloc((size_t)n * 32);
    s->sk = malloc((size_t)n * 32);
    s->q = malloc((size_t)n * dim * 4);
    s->users = calloc(n, sizeof *s->users);
    s->masked = calloc(n, sizeof *s->masked);
    s->shares = calloc(n, sizeof *s->shares);
    s->reveal = calloc(n, sizeof *s->reveal);
    s->dropped = calloc(n, 1);
    for (uint32_t i = 0; i < n; i++)
        crypto_box_keypair(s->roster + (size_t)i * 32, s->sk[i]);
    randombytes_buf(s->q, (size_t)n * dim * 4);
    /* Small signed values, as quantised updates are. */
    for (size_t i = 0; i < (size_t)n * dim; i++)
        s->q[i] = (uint32_t)((int32_t)(s->q[i] % 200001) - 100000);
    s->bitmap_len = (n + 7) / 8;
    px_err err = {0};
    for (uint32_t i = 0; i < n; i++) {
        s->users[i] = px_agg_user_new(&s->p, s->roster, i, s->sk[i], &err);
        if (!s->users[i])
            fail_msg("user %u: %s", i, err.msg);
    }
}

static inline void sim_free(sim *s) {
    for (uint32_t i = 0; i < s->p.n; i++) {
        px_agg_user_free(s->users[i]);
        px_buf_free(&s->masked[i]);
        px_buf_free(&s->shares[i]);
        px_buf_free(&s->reveal[i]);
    }
    free(s->roster);
    free(s->sk);
    free(s->q);
    free(s->users);
    free(s->masked);
    free(s->shares);
    free(s->reveal);
    free(s->dropped);
}

/* Everyone not dropped masks; the bitmap is the survivors. */
static inline void sim_mask(sim *s) {
    px_err err = {0};
    memset(s->bitmap, 0, sizeof s->bitmap);
    for (uint32_t i = 0; i < s->p.n; i++) {
        if (s->dropped[i])
            continue;
        px_assert_ok(px_agg_user_mask(s->users[i], s->q + (size_t)i * s->p.dim, &s->masked[i], &s->shares[i], &err),
                     &err);
        s->bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
    }
}

/* The SHARES of all survivors, as the aggregator forwards them. */
static inline px_agg_msg *sim_share_msgs(const sim *s, size_t *count) {
    px_agg_msg *m = calloc(s->p.n, sizeof *m);
    size_t c = 0;
    for (uint32_t i = 0; i < s->p.n; i++)
        if (!s->dropped[i])
            m[c++] = (px_agg_msg){s->shares[i].data, s->shares[i].len};
    *count = c;
    return m;
}

static inline void sim_reveal(sim *s) {
    size_t c;
    px_agg_msg *m = sim_share_msgs(s, &c);
    px_err err = {0};
    for (uint32_t i = 0; i < s->p.n; i++)
        if (!s->dropped[i])
            px_assert_ok(px_agg_user_reveal(s->users[i], s->bitmap, s->bitmap_len, m, c, &s->reveal[i], &err), &err);
    free(m);
}

/* Unmask with every survivor's messages; returns px_agg_unmask's result. */
static inline int sim_unmask(const sim *s, uint32_t *sum, px_err *err) {
    px_agg_msg *mm = calloc(s->p.n, sizeof *mm), *rm = calloc(s->p.n, sizeof *rm);
    size_t nm = 0, nr = 0;
    for (uint32_t i = 0; i < s->p.n; i++) {
        if (s->dropped[i])
            continue;
        mm[nm++] = (px_agg_msg){s->masked[i].data, s->masked[i].len};
        if (s->reveal[i].len)
            rm[nr++] = (px_agg_msg){s->reveal[i].data, s->reveal[i].len};
    }
    int rc = px_agg_unmask(&s->p, s->roster, s->bitmap, s->bitmap_len, mm, nm, rm, nr, sum, err);
    free(mm);
    free(rm);
    return rc;
}

/* The plain sum of the survivors' updates. */
static inline void sim_plain_sum(const sim *s, uint32_t *sum) {
    memset(sum, 0, (size_t)s->p.dim * 4);
    for (uint32_t i = 0; i < s->p.n; i++)
        if (!s->dropped[i])
            for (uint32_t j = 0; j < s->p.dim; j++)
                sum[j] += s->q[(size_t)i * s->p.dim + j];
}

/* Drops about `percent` of the users, spread on the graph's ring (every
 * third ring position at most) so each survivor keeps at least t = k/2+1
 * of its k neighbours: the dropout pattern k = 8 tolerates. */
/* Drop percent% of the users so that every survivor keeps t live
 * neighbours (dropouts the protocol can absorb without pruning): greedily
 * in ring order, a user drops only if none of its neighbours that stay
 * would be left with fewer than t live ones. */
static inline uint32_t sim_drop_spread(sim *s, unsigned percent) {
    agg_graph g;
    px_err err = {0};
    px_assert_ok(agg_graph_build(&g, &s->p, &err), &err);
    uint32_t want = s->p.n * percent / 100, got = 0, nb[PX_AGG_K_MAX], nb2[PX_AGG_K_MAX];
    for (uint32_t r = 0; r < s->p.n && got < want; r++) {
        uint32_t u = g.user[r];
        int ok = 1;
        agg_graph_neighbours(&g, u, nb);
        for (uint32_t j = 0; j < g.deg && ok; j++) {
            if (s->dropped[nb[j]])
                continue;
            uint32_t alive = 0;
            agg_graph_neighbours(&g, nb[j], nb2);
            for (uint32_t e = 0; e < g.deg; e++)
                alive += !s->dropped[nb2[e]] && nb2[e] != u;
            ok = alive >= s->p.t;
        }
        if (ok) {
            s->dropped[u] = 1;
            got++;
        }
    }
    agg_graph_free(&g);
    return got;
}

#endif
