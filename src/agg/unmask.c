/* The aggregator's side: the sum of the survivors' updates.
 *
 *   sum = Σ_{u∈S} y_u - Σ_{u∈S} PRG(b_u) - Σ_{u∈S, v∈N(u)\S} ±PRG(s_uv)
 *
 * where the pairwise masks between two survivors cancel, b_u comes from t
 * shares revealed by u's surviving neighbours (checked against u's
 * commitment, so a corrupt share is named rather than silently spoiling the
 * sum), and s_uv of a dropped v from u's own reveal. Every message is
 * checked before any word of the sum is computed, so nothing is written on
 * failure. */
#include <stdlib.h>

#include "agg/agg_int.h"

typedef struct state {
    const px_agg_params *p;
    agg_graph g;
    const uint8_t *survivors;
    uint8_t roster_digest[32];
    uint8_t survivors_digest[32];
    px_agg_masked_view *masked; /* by user index (dim 0: none) */
    px_agg_reveal_view *reveal; /* by user index (entries NULL: none) */
    agg_stream *streams;
    size_t nstreams;
} state;

static const char *replay_hint(uint32_t got, uint32_t want) {
    return got < want ? "a replay from an earlier round" : "a later round";
}

static int take_masked(state *st, const px_agg_msg *msgs, size_t nmsgs, px_err *err) {
    const px_agg_params *p = st->p;
    for (size_t m = 0; m < nmsgs; m++) {
        px_agg_masked_view v;
        if (px_agg_masked_parse(&v, msgs[m].data, msgs[m].len, err))
            return px_err_prefix(err, "masked update %zu: ", m);
        if (v.round != p->round)
            return px_fail(err, PX_E_STATE, "masked update from user %u: round %u, expected %u (%s)", v.index,
                           v.round, p->round, replay_hint(v.round, p->round));
        if (v.n != p->n || memcmp(v.roster, st->roster_digest, 32) != 0)
            return px_fail(err, PX_E_VERIFY, "masked update from user %u: another roster (digest or n differs)",
                           v.index);
        if (v.dim != p->dim)
            return px_fail(err, PX_E_INVALID, "masked update from user %u: dim %u, expected %u", v.index, v.dim,
                           p->dim);
        if (!agg_bit(st->survivors, v.index))
            return px_fail(err, PX_E_INVALID, "masked update from user %u, who is not among the survivors", v.index);
        if (st->masked[v.index].dim)
            return px_fail(err, PX_E_INVALID, "masked update from user %u: given twice", v.index);
        st->masked[v.index] = v;
    }
    for (uint32_t i = 0; i < p->n; i++)
        if (agg_bit(st->survivors, i) && !st->masked[i].dim)
            return px_fail(err, PX_E_INVALID, "no masked update from survivor %u", i);
    return 0;
}

static int take_reveals(state *st, const px_agg_msg *msgs, size_t nmsgs, px_err *err) {
    const px_agg_params *p = st->p;
    uint32_t nb[PX_AGG_K_MAX];
    for (size_t m = 0; m < nmsgs; m++) {
        px_agg_reveal_view v;
        if (px_agg_reveal_parse(&v, msgs[m].data, msgs[m].len, err))
            return px_err_prefix(err, "reveal %zu: ", m);
        if (v.round != p->round)
            return px_fail(err, PX_E_STATE, "reveal from user %u: round %u, expected %u (%s)", v.index, v.round,
                           p->round, replay_hint(v.round, p->round));
        if (v.n != p->n || memcmp(v.roster, st->roster_digest, 32) != 0)
            return px_fail(err, PX_E_VERIFY, "reveal from user %u: another roster (digest or n differs)", v.index);
        if (memcmp(v.survivors, st->survivors_digest, 32) != 0)
            return px_fail(err, PX_E_VERIFY, "reveal from user %u: it answers another survivor set", v.index);
        if (!agg_bit(st->survivors, v.index))
            return px_fail(err, PX_E_INVALID, "reveal from user %u, who is not among the survivors", v.index);
        if (st->reveal[v.index].entries)
            return px_fail(err, PX_E_INVALID, "reveal from user %u: given twice", v.index);
        /* Exactly one entry per neighbour, of the kind its survival asks. */
        agg_graph_neighbours(&st->g, v.index, nb);
        if (v.count != st->g.deg)
            return px_fail(err, PX_E_INVALID, "reveal from user %u: %u entries for its %u neighbours", v.index,
                           v.count, st->g.deg);
        for (uint32_t j = 0; j < v.count; j++) {
            uint32_t about;
            uint8_t kind;
            const uint8_t *val;
            px_agg_reveal_entry(&v, j, &about, &kind, &val);
            if (about != nb[j])
                return px_fail(err, PX_E_INVALID, "reveal from user %u: entry %u is about user %u, not a neighbour",
                               v.index, j, about);
            uint8_t want = agg_bit(st->survivors, about) ? PX_AGG_REVEAL_SHARE : PX_AGG_REVEAL_SEED;
            if (kind != want)
                return px_fail(err, PX_E_INVALID, "reveal from user %u: entry about user %u is a %s, but %u %s",
                               v.index, about, kind == PX_AGG_REVEAL_SHARE ? "share" : "seed", about,
                               want == PX_AGG_REVEAL_SHARE ? "survived" : "dropped");
        }
        st->reveal[v.index] = v;
    }
    return 0;
}

/* The value in user r's reveal about user a (r's reveal present). */
static const uint8_t *entry_about(const state *st, uint32_t r, uint32_t a) {
    const px_agg_reveal_view *v = &st->reveal[r];
    for (uint32_t j = 0; j < v->count; j++) {
        uint32_t about;
        uint8_t kind;
        const uint8_t *val;
        px_agg_reveal_entry(v, j, &about, &kind, &val);
        if (about == a)
            return val;
    }
    return NULL;
}

/* The keystreams to subtract: each survivor's self mask and its masks
 * with dropped neighbours. */
static int collect_streams(state *st, px_err *err) {
    const px_agg_params *p = st->p;
    uint32_t nb[PX_AGG_K_MAX];
    uint8_t xs[PX_AGG_K_MAX], ys[PX_AGG_K_MAX][32], b[32], commit[32];
    int rc = -1;
    for (uint32_t u = 0; u < p->n; u++) {
        if (!agg_bit(st->survivors, u))
            continue;
        agg_graph_neighbours(&st->g, u, nb);
        uint32_t have = 0;
        for (uint32_t j = 0; j < st->g.deg && have < p->t; j++) {
            uint32_t v = nb[j];
            if (!agg_bit(st->survivors, v) || !st->reveal[v].entries)
                continue;
            const uint8_t *val = entry_about(st, v, u);
            xs[have] = (uint8_t)(j + 1); /* v's position in N(u), as u dealt it */
            memcpy(ys[have++], val, 32);
        }
        if (have < p->t) {
            px_fail(err, PX_E_INVALID, "user %u's self mask: %u shares revealed, need t = %u", u, have, p->t);
            goto out;
        }
        agg_shamir_combine(xs, (const uint8_t(*)[32])ys, p->t, b);
        agg_self_commit(p, u, b, commit);
        if (sodium_memcmp(commit, st->masked[u].commit, 32) != 0) {
            px_fail(err, PX_E_VERIFY,
                    "user %u's self mask: the revealed shares do not open its commitment (a corrupt share)", u);
            goto out;
        }
        agg_stream *s = &st->streams[st->nstreams++];
        memcpy(s->key, b, 32);
        s->sign = -1;
        for (uint32_t j = 0; j < st->g.deg; j++) {
            uint32_t v = nb[j];
            if (agg_bit(st->survivors, v))
                continue;
            if (!st->reveal[u].entries) {
                px_fail(err, PX_E_INVALID,
                        "no reveal from survivor %u: it holds the pairwise seed with dropped user %u", u, v);
                goto out;
            }
            s = &st->streams[st->nstreams++];
            memcpy(s->key, entry_about(st, u, v), 32);
            /* u added +PRG(s_uv) for v > u and -PRG for v < u: undo it. */
            s->sign = v > u ? -1 : 1;
        }
    }
    rc = 0;
out:
    sodium_memzero(ys, sizeof ys);
    sodium_memzero(b, sizeof b);
    return rc;
}

int px_agg_unmask(const px_agg_params *p, const uint8_t *roster, const uint8_t *survivors, size_t survivors_len,
                  const px_agg_msg *masked, size_t nmasked, const px_agg_msg *reveals, size_t nreveals, uint32_t *sum,
                  px_err *err) {
    if (px_agg_params_check(p, err))
        return -1;
    if (!sum || (nmasked && !masked) || (nreveals && !reveals))
        return px_fail(err, PX_E_INVALID, "unmask: missing input or output");
    if (px_crypto_init(err))
        return -1;
    state st;
    memset(&st, 0, sizeof st);
    st.p = p;
    st.survivors = survivors;
    uint32_t count;
    if (px_agg_roster_digest(roster, p->n, st.roster_digest, err) ||
        agg_survivors_check(p, survivors, survivors_len, &count, err) ||
        px_agg_survivors_digest(p, survivors, survivors_len, st.survivors_digest, err) ||
        agg_survivors_enough(p, count, err))
        return -1;
    if (agg_graph_build(&st.g, p, err))
        return -1;
    int rc = -1;
    const uint8_t **words = malloc((size_t)count * sizeof *words);
    st.masked = calloc(p->n, sizeof *st.masked);
    st.reveal = calloc(p->n, sizeof *st.reveal);
    st.streams = sodium_allocarray((size_t)count * (st.g.deg + 1), sizeof *st.streams);
    if (!words || !st.masked || !st.reveal || !st.streams) {
        px_fail(err, PX_E_NOMEM, "unmask: out of memory for %u users of %u words", p->n, p->dim);
        goto out;
    }
    if (take_masked(&st, masked, nmasked, err) || take_reveals(&st, reveals, nreveals, err) ||
        collect_streams(&st, err))
        goto out;
    /* Everything is checked: from here nothing fails, so the sum is
     * written in place. A chunk at a time: the survivors' words, then the
     * masks removed. */
    uint32_t ns = 0;
    for (uint32_t u = 0; u < p->n; u++)
        if (agg_bit(survivors, u))
            words[ns++] = st.masked[u].words;
    for (size_t off = 0; off < p->dim; off += AGG_CHUNK_WORDS) {
        size_t m = p->dim - off < AGG_CHUNK_WORDS ? p->dim - off : AGG_CHUNK_WORDS;
        uint32_t *a = sum + off;
        memset(a, 0, m * 4);
        for (uint32_t k = 0; k < ns; k++) {
            const uint8_t *w = words[k] + off * 4;
            for (size_t i = 0; i < m; i++)
                a[i] += px_load_u32le(w + i * 4);
        }
        agg_streams_apply(a, off, m, st.streams, st.nstreams);
    }
    rc = 0;
out:
    if (st.streams)
        sodium_free(st.streams);
    free(words);
    free(st.masked);
    free(st.reveal);
    agg_graph_free(&st.g);
    return rc;
}
