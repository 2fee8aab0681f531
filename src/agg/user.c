/* The user's side of a round: mask the update once, then answer one
 * survivor set once.
 *
 * Why the refusals in reveal: a neighbour v of u reveals either its share
 * of b_u (u survived) or its pairwise seed s_vu (u dropped). The
 * aggregator can unmask y_u alone only with b_u and every s_uv. If a user
 * answered twice, or answered a set in which fewer than t of its
 * neighbours survive (it would reveal more than deg - t of its own pairwise
 * seeds), a server showing different survivor sets to different users
 * could collect both; with t > deg/2 and these refusals it cannot. */
#include <stdlib.h>

#include "agg/agg_int.h"

struct px_agg_user {
    px_agg_params p;
    uint32_t me;
    uint8_t sk[32];
    uint8_t *roster; /* n x 32 */
    uint8_t roster_digest[32];
    agg_graph g;
    uint32_t nbrs[PX_AGG_K_MAX];
    int masked;   /* px_agg_user_mask succeeded */
    int answered; /* px_agg_user_reveal succeeded */
};

px_agg_user *px_agg_user_new(const px_agg_params *p, const uint8_t *roster, uint32_t me, const uint8_t sk[32],
                             px_err *err) {
    if (px_agg_params_check(p, err))
        return NULL;
    if (me >= p->n) {
        px_fail(err, PX_E_INVALID, "secagg user: index %u out of range (n = %u)", me, p->n);
        return NULL;
    }
    if (px_crypto_init(err))
        return NULL;
    uint8_t digest[32], pk[32];
    if (px_agg_roster_digest(roster, p->n, digest, err))
        return NULL;
    crypto_scalarmult_base(pk, sk);
    int match = sodium_memcmp(pk, roster + (size_t)me * 32, 32) == 0;
    sodium_memzero(pk, sizeof pk);
    if (!match) {
        px_fail(err, PX_E_INVALID, "secagg user: the secret key does not match roster key %u", me);
        return NULL;
    }
    px_agg_user *u = calloc(1, sizeof *u);
    uint8_t *r = malloc((size_t)p->n * 32);
    if (!u || !r) {
        free(u);
        free(r);
        px_fail(err, PX_E_NOMEM, "secagg user: out of memory for a roster of %u", p->n);
        return NULL;
    }
    if (agg_graph_build(&u->g, p, err)) {
        free(u);
        free(r);
        return NULL;
    }
    memcpy(r, roster, (size_t)p->n * 32);
    u->p = *p;
    u->me = me;
    memcpy(u->sk, sk, 32);
    u->roster = r;
    memcpy(u->roster_digest, digest, 32);
    agg_graph_neighbours(&u->g, me, u->nbrs);
    return u;
}

void px_agg_user_free(px_agg_user *u) {
    if (!u)
        return;
    agg_graph_free(&u->g);
    free(u->roster);
    sodium_memzero(u, sizeof *u);
    free(u);
}

static const uint8_t *key_of(const px_agg_user *u, uint32_t i) {
    return u->roster + (size_t)i * 32;
}

/* s_{me,v}, failing with a message naming v's key. */
static int pair_seed(const px_agg_user *u, uint32_t v, uint8_t seed[32], px_err *err) {
    if (agg_pair_seed(&u->p, u->sk, key_of(u, u->me), key_of(u, v), seed))
        return px_fail(err, PX_E_INVALID, "secagg user %u: roster key %u is a low-order point (no shared secret)",
                       u->me, v);
    return 0;
}

int px_agg_user_mask(px_agg_user *u, const uint32_t *q, px_buf *masked, px_buf *shares, px_err *err) {
    const px_agg_params *p = &u->p;
    if (u->masked)
        return px_fail(err, PX_E_STATE, "secagg user %u: round %u is already masked (one update per round)", u->me,
                       p->round);
    if (!q || !masked || !shares)
        return px_fail(err, PX_E_INVALID, "secagg user %u: missing update or output", u->me);
    /* The user's λ refuses an over-long update itself: the aggregator only
     * ever sees it masked, so this is the one place the bound holds. */
    if (p->clip && px_agg_clip_check(q, p->dim, p->clip, err))
        return px_err_prefix(err, "secagg user %u: ", u->me);
    uint32_t deg = u->g.deg;
    agg_stream *s = sodium_malloc((deg + 1) * sizeof *s);
    if (!s)
        return px_fail(err, PX_E_NOMEM, "secagg user %u: out of memory", u->me);
    size_t m0 = masked->len, s0 = shares->len;
    uint8_t b[32], commit[32], ys[PX_AGG_K_MAX][32], xs[PX_AGG_K_MAX];
    uint8_t plain[AGG_SHARE_PLAIN];
    randombytes_buf(b, sizeof b);
    agg_self_commit(p, u->me, b, commit);
    memcpy(s[0].key, b, 32);
    s[0].sign = 1;
    for (uint32_t j = 0; j < deg; j++) {
        if (pair_seed(u, u->nbrs[j], s[j + 1].key, err))
            goto fail;
        s[j + 1].sign = u->nbrs[j] > u->me ? 1 : -1;
        xs[j] = (uint8_t)(j + 1);
    }
    agg_shamir_split(b, p->t, xs, deg, ys);

    /* MASKED: header, then y = q + masks written in place. */
    if (agg_put_header(masked, "PXSM", p, u->me, err) || px_buf_append_u32le(masked, p->dim, err) ||
        px_buf_append(masked, u->roster_digest, 32, err) || px_buf_append(masked, commit, 32, err) ||
        px_buf_reserve(masked, (size_t)p->dim * 4, err))
        goto fail;
    /* A chunk at a time, so the update, the keystreams and the output are
     * each touched once while in cache. */
    for (size_t off = 0; off < p->dim; off += AGG_CHUNK_WORDS) {
        size_t m = p->dim - off < AGG_CHUNK_WORDS ? p->dim - off : AGG_CHUNK_WORDS;
        uint32_t y[AGG_CHUNK_WORDS];
        memcpy(y, q + off, m * 4);
        agg_streams_apply(y, off, m, s, deg + 1);
        uint8_t *w = masked->data + masked->len + off * 4;
        for (size_t i = 0; i < m; i++) {
            w[4 * i] = (uint8_t)y[i];
            w[4 * i + 1] = (uint8_t)(y[i] >> 8);
            w[4 * i + 2] = (uint8_t)(y[i] >> 16);
            w[4 * i + 3] = (uint8_t)(y[i] >> 24);
        }
    }
    masked->len += (size_t)p->dim * 4;

    /* SHARES: each neighbour's share sealed to its key, bound to the task,
     * the round, both users and the x coordinate. */
    if (agg_put_header(shares, "PXSS", p, u->me, err) || px_buf_append(shares, u->roster_digest, 32, err) ||
        px_buf_append_u32le(shares, deg, err) || px_buf_reserve(shares, (size_t)deg * PX_AGG_SHARES_ENTRY, err))
        goto fail;
    for (uint32_t j = 0; j < deg; j++) {
        uint32_t v = u->nbrs[j];
        memcpy(plain, p->manifest, 32);
        uint32_t f[3] = {p->round, u->me, v};
        for (int k = 0; k < 3; k++)
            for (int byte = 0; byte < 4; byte++)
                plain[32 + 4 * k + byte] = (uint8_t)(f[k] >> (8 * byte));
        plain[44] = xs[j];
        memcpy(plain + 45, ys[j], 32);
        uint8_t *e = shares->data + shares->len;
        e[0] = (uint8_t)v;
        e[1] = (uint8_t)(v >> 8);
        e[2] = (uint8_t)(v >> 16);
        e[3] = (uint8_t)(v >> 24);
        if (crypto_box_seal(e + 4, plain, sizeof plain, key_of(u, v)) != 0) {
            px_fail(err, PX_E_INVALID, "secagg user %u: cannot seal a share to roster key %u", u->me, v);
            goto fail;
        }
        shares->len += PX_AGG_SHARES_ENTRY;
    }
    u->masked = 1;
    sodium_memzero(b, sizeof b);
    sodium_memzero(ys, sizeof ys);
    sodium_memzero(plain, sizeof plain);
    sodium_free(s);
    return 0;
fail:
    sodium_memzero(b, sizeof b);
    sodium_memzero(ys, sizeof ys);
    sodium_memzero(plain, sizeof plain);
    sodium_free(s);
    if (masked->len > m0)
        sodium_memzero(masked->data + m0, masked->len - m0);
    if (shares->len > s0)
        sodium_memzero(shares->data + s0, shares->len - s0);
    masked->len = m0;
    shares->len = s0;
    return -1;
}

/* The sealed shares addressed to this user, by the sender's position in
 * N(me) (NULL: none given). Every message must be of this round and
 * roster, and at most one per sender; a neighbour's must have an entry for
 * this user. Others' messages are checked and otherwise skipped. */
static int index_shares(const px_agg_user *u, const px_agg_msg *msgs, size_t nmsgs,
                        const uint8_t *sealed_from[PX_AGG_K_MAX], px_err *err) {
    uint32_t deg = u->g.deg;
    for (uint32_t j = 0; j < deg; j++)
        sealed_from[j] = NULL;
    for (size_t m = 0; m < nmsgs; m++) {
        px_agg_shares_view sv;
        if (px_agg_shares_parse(&sv, msgs[m].data, msgs[m].len, err))
            return px_err_prefix(err, "secagg user %u: SHARES message %zu: ", u->me, m);
        uint32_t v = sv.index;
        if (sv.round != u->p.round)
            return px_fail(err, PX_E_STATE, "shares from user %u: round %u, expected %u (%s)", v, sv.round,
                           u->p.round, sv.round < u->p.round ? "a replay from an earlier round" : "a later round");
        if (sv.n != u->p.n || memcmp(sv.roster, u->roster_digest, 32) != 0)
            return px_fail(err, PX_E_VERIFY, "shares from user %u: another roster (digest or n differs)", v);
        uint32_t j = 0;
        while (j < deg && u->nbrs[j] != v)
            j++;
        if (j == deg)
            continue;
        if (sealed_from[j])
            return px_fail(err, PX_E_INVALID, "shares from user %u: given twice", v);
        for (uint32_t i = 0; i < sv.count && !sealed_from[j]; i++) {
            uint32_t to;
            const uint8_t *sealed;
            px_agg_shares_entry(&sv, i, &to, &sealed);
            if (to == u->me)
                sealed_from[j] = sealed;
        }
        if (!sealed_from[j])
            return px_fail(err, PX_E_INVALID, "shares from user %u: no entry for its neighbour %u", v, u->me);
    }
    return 0;
}

/* Opens neighbour v's share for this user and checks what it is bound to:
 * the task, the round, the pair and the x coordinate v dealt it at. */
static int open_share(const px_agg_user *u, uint32_t v, const uint8_t *sealed, uint8_t y[32], px_err *err) {
    uint8_t plain[AGG_SHARE_PLAIN];
    if (crypto_box_seal_open(plain, sealed, PX_AGG_SHARE_SEALED, key_of(u, u->me), u->sk) != 0)
        return px_fail(err, PX_E_VERIFY, "shares from user %u: the share for user %u does not open", v, u->me);
    int rank = agg_graph_rank(&u->g, v, u->me);
    int ok = memcmp(plain, u->p.manifest, 32) == 0 && px_load_u32le(plain + 32) == u->p.round &&
             px_load_u32le(plain + 36) == v && px_load_u32le(plain + 40) == u->me && plain[44] == (uint8_t)(rank + 1);
    if (ok)
        memcpy(y, plain + 45, 32);
    sodium_memzero(plain, sizeof plain);
    if (!ok)
        return px_fail(err, PX_E_VERIFY,
                       "shares from user %u: the share sealed to user %u names another task, round, pair or x", v,
                       u->me);
    return 0;
}

int px_agg_user_reveal(px_agg_user *u, const uint8_t *survivors, size_t survivors_len, const px_agg_msg *shares,
                       size_t nshares, px_buf *reveal, px_err *err) {
    const px_agg_params *p = &u->p;
    if (u->answered)
        return px_fail(err, PX_E_STATE,
                       "reveal: user %u already answered a survivor set in round %u (a second request)", u->me,
                       p->round);
    if (!reveal || (nshares && !shares))
        return px_fail(err, PX_E_INVALID, "reveal: missing input or output");
    uint32_t count;
    uint8_t sdigest[32];
    if (agg_survivors_check(p, survivors, survivors_len, &count, err) ||
        px_agg_survivors_digest(p, survivors, survivors_len, sdigest, err))
        return -1;
    if (!agg_bit(survivors, u->me))
        return px_fail(err, PX_E_DENIED, "reveal: user %u is not among the survivors", u->me);
    if (agg_survivors_enough(p, count, err))
        return -1;
    uint32_t deg = u->g.deg, alive = 0;
    for (uint32_t j = 0; j < deg; j++)
        alive += (uint32_t)agg_bit(survivors, u->nbrs[j]);
    if (alive < p->t)
        return px_fail(err, PX_E_DENIED,
                       "reveal: only %u of user %u's %u neighbours survive, need t = %u (it would expose its masks)",
                       alive, u->me, deg, p->t);

    const uint8_t *sealed_from[PX_AGG_K_MAX];
    if (index_shares(u, shares, nshares, sealed_from, err))
        return -1;
    size_t r0 = reveal->len;
    uint8_t value[32];
    if (agg_put_header(reveal, "PXSR", p, u->me, err) || px_buf_append(reveal, u->roster_digest, 32, err) ||
        px_buf_append(reveal, sdigest, 32, err) || px_buf_append_u32le(reveal, deg, err))
        goto fail;
    for (uint32_t j = 0; j < deg; j++) {
        uint32_t v = u->nbrs[j];
        uint8_t kind;
        if (agg_bit(survivors, v)) {
            if (!sealed_from[j]) {
                px_fail(err, PX_E_INVALID, "reveal: no share from surviving neighbour %u (its SHARES is missing)", v);
                goto fail;
            }
            if (open_share(u, v, sealed_from[j], value, err))
                goto fail;
            kind = PX_AGG_REVEAL_SHARE;
        } else {
            if (pair_seed(u, v, value, err))
                goto fail;
            kind = PX_AGG_REVEAL_SEED;
        }
        if (px_buf_append_u32le(reveal, v, err) || px_buf_append_u8(reveal, kind, err) ||
            px_buf_append(reveal, value, 32, err))
            goto fail;
    }
    sodium_memzero(value, sizeof value);
    u->answered = 1;
    return 0;
fail:
    sodium_memzero(value, sizeof value);
    if (reveal->len > r0)
        sodium_memzero(reveal->data + r0, reveal->len - r0);
    reveal->len = r0;
    return -1;
}
