/* The sparse neighbour graph (Bell et al., CCS 2020): a circulant with
 * random offsets over a random order of the users. Random offsets, not the
 * k/2 nearest places: on a ring of nearest neighbours a run of dropped
 * users starves the users at its edge of live neighbours, they are left
 * out in turn, and the run grows until nobody is left (seen at 20%
 * dropouts with k = 8); with offsets spread over the ring a user's
 * neighbours are far apart and dropouts do not cascade. Everyone derives the same
 * graph from the manifest id and the round, so no party chooses who masks
 * with whom (a server that picked the graph could isolate a user among
 * users it controls); a fresh order each round spreads the pairs.
 *
 * The order is a Fisher-Yates shuffle drawing u32 words from ChaCha20
 * keyed by the graph seed, each index by rejection (no modulo bias), so
 * any implementation reproduces it from the header's definition. */
#include <stdlib.h>

#include "agg/agg_int.h"

#define BLOCK 64

typedef struct word_stream {
    uint8_t key[32];
    uint8_t buf[BLOCK];
    unsigned used;
    uint32_t block;
} word_stream;

static uint32_t next_word(word_stream *s) {
    if (s->used == BLOCK) {
        static const uint8_t zero[BLOCK];
        uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
        crypto_stream_chacha20_ietf_xor_ic(s->buf, zero, BLOCK, nonce, s->block++, s->key);
        s->used = 0;
    }
    uint32_t w = px_load_u32le(s->buf + s->used);
    s->used += 4;
    return w;
}

/* Uniform in [0, bound], bound < 2^32 - 1: reject the top partial range. */
static uint32_t next_below_eq(word_stream *s, uint32_t bound) {
    uint64_t range = (uint64_t)bound + 1;
    uint64_t limit = (UINT64_C(1) << 32) - ((UINT64_C(1) << 32) % range);
    for (;;) {
        uint32_t w = next_word(s);
        if (w < limit)
            return (uint32_t)(w % range);
    }
}

int agg_graph_build(agg_graph *g, const px_agg_params *p, px_err *err) {
    if (px_agg_params_check(p, err))
        return -1;
    uint32_t n = p->n;
    uint32_t *pos = malloc((size_t)n * sizeof *pos), *user = malloc((size_t)n * sizeof *user);
    if (!pos || !user) {
        free(pos);
        free(user);
        return px_fail(err, PX_E_NOMEM, "secagg graph: out of memory for %u users", n);
    }
    word_stream s;
    memset(&s, 0, sizeof s);
    s.used = BLOCK;
    uint8_t round[4] = {(uint8_t)p->round, (uint8_t)(p->round >> 8), (uint8_t)(p->round >> 16),
                        (uint8_t)(p->round >> 24)};
    static const char label[] = "PIXIU-secagg-graph-v1";
    const void *parts[] = {label, p->manifest, round};
    const size_t lens[] = {sizeof label - 1, 32, 4};
    px_sha256_parts(s.key, 3, parts, lens);
    for (uint32_t i = 0; i < n; i++)
        user[i] = i;
    for (uint32_t i = n - 1; i >= 1; i--) {
        uint32_t j = next_below_eq(&s, i);
        uint32_t tmp = user[i];
        user[i] = user[j];
        user[j] = tmp;
    }
    for (uint32_t r = 0; r < n; r++)
        pos[user[r]] = r;
    g->n = n;
    g->deg = px_agg_params_degree(p);
    /* deg/2 distinct offsets in [1, (n-1)/2], from the same stream: then
     * r + d and r - d' never meet (d + d' < n) and the degree is deg. */
    if (g->deg < n - 1) {
        uint32_t half = (n - 1) / 2;
        for (uint32_t c = 0; c < g->deg / 2;) {
            uint32_t d = next_below_eq(&s, half - 1) + 1, dup = 0;
            for (uint32_t e = 0; e < c; e++)
                dup |= g->off[e] == d;
            if (!dup)
                g->off[c++] = d;
        }
    }
    g->pos = pos;
    g->user = user;
    return 0;
}

void agg_graph_free(agg_graph *g) {
    free(g->pos);
    free(g->user);
    g->pos = g->user = NULL;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void agg_graph_neighbours(const agg_graph *g, uint32_t i, uint32_t *nbrs) {
    uint32_t c = 0;
    if (g->deg == g->n - 1) {
        for (uint32_t v = 0; v < g->n; v++)
            if (v != i)
                nbrs[c++] = v;
        return;
    }
    /* deg even and < n - 1: the offsets ±off[j] reach distinct users. */
    uint32_t r = g->pos[i];
    for (uint32_t j = 0; j < g->deg / 2; j++) {
        nbrs[c++] = g->user[(r + g->off[j]) % g->n];
        nbrs[c++] = g->user[(r + g->n - g->off[j]) % g->n];
    }
    qsort(nbrs, c, sizeof *nbrs, cmp_u32);
}

int agg_graph_rank(const agg_graph *g, uint32_t i, uint32_t v) {
    uint32_t nb[PX_AGG_K_MAX];
    agg_graph_neighbours(g, i, nb);
    for (uint32_t j = 0; j < g->deg; j++)
        if (nb[j] == v)
            return (int)j;
    return -1;
}
