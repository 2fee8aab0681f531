/* Parameters, the roster, the graph's public face and survivor sets: the
 * things every party of a round computes alike before any secret is used. */
#include <stdlib.h>

#include "agg/agg_int.h"

int px_agg_params_check(const px_agg_params *p, px_err *err) {
    if (!p)
        return px_fail(err, PX_E_INVALID, "secagg parameters: missing");
    if (p->n < 2 || p->n > PX_AGG_N_MAX)
        return px_fail(err, PX_E_INVALID, "secagg parameters: n = %u users, need 2..%u", p->n, PX_AGG_N_MAX);
    if (p->k < 2 || p->k > PX_AGG_K_MAX || p->k % 2)
        return px_fail(err, PX_E_INVALID,
                       "secagg parameters: k = %u neighbours, need an even number in 2..%u (k/2 on each side of the ring)",
                       p->k, PX_AGG_K_MAX);
    uint32_t deg = px_agg_params_degree(p);
    /* t > deg/2: each neighbour answers either a share of u's self-mask
     * seed or its pairwise seed with u, never both; with t > deg/2 no
     * split of u's neighbours yields both b_u and all of u's pairwise
     * seeds, even for a server that shows them different survivor sets. */
    if (p->t <= deg / 2 || p->t > deg)
        return px_fail(err, PX_E_INVALID,
                       "secagg parameters: t = %u with %u neighbours, need %u..%u (more than half the neighbours)",
                       p->t, deg, deg / 2 + 1, deg);
    if (p->dim < 1 || p->dim > PX_AGG_DIM_MAX)
        return px_fail(err, PX_E_INVALID, "secagg parameters: dim = %u, need 1..%u", p->dim, PX_AGG_DIM_MAX);
    if (p->min_survivors > p->n)
        return px_fail(err, PX_E_INVALID, "secagg parameters: min_survivors = %u exceeds n = %u",
                       p->min_survivors, p->n);
    /* Each |q_i| <= clip, so n x clip < 2^31 keeps every word of the sum
     * within int32: it dequantises to the true sum, never a wrapped one. */
    if (p->clip >= (UINT64_C(1) << 31) / p->n + ((UINT64_C(1) << 31) % p->n != 0))
        return px_fail(err, PX_E_INVALID,
                       "secagg parameters: n x clip = %u x %llu reaches 2^31, the sum could wrap (lower the scale or the clip)",
                       p->n, (unsigned long long)p->clip);
    return 0;
}

uint32_t px_agg_params_degree(const px_agg_params *p) {
    return p->k < p->n - 1 ? p->k : p->n - 1;
}

void agg_ctx(const px_agg_params *p, uint8_t ctx[AGG_CTX_BYTES]) {
    memcpy(ctx, p->manifest, 32);
    ctx[32] = (uint8_t)p->round;
    ctx[33] = (uint8_t)(p->round >> 8);
    ctx[34] = (uint8_t)(p->round >> 16);
    ctx[35] = (uint8_t)(p->round >> 24);
}

static int cmp_key(const void *a, const void *b) {
    return memcmp(*(const uint8_t *const *)a, *(const uint8_t *const *)b, 32);
}

int px_agg_roster_digest(const uint8_t *roster, uint32_t n, uint8_t out[32], px_err *err) {
    if (!roster || n < 2 || n > PX_AGG_N_MAX)
        return px_fail(err, PX_E_INVALID, "secagg roster: %u keys, need 2..%u", n, PX_AGG_N_MAX);
    /* Equal keys would give two users the same pairwise seeds with
     * everyone, and a user the seed it shares with itself. */
    const uint8_t **sorted = malloc((size_t)n * sizeof *sorted);
    if (!sorted)
        return px_fail(err, PX_E_NOMEM, "secagg roster: out of memory for %u keys", n);
    for (uint32_t i = 0; i < n; i++)
        sorted[i] = roster + (size_t)i * 32;
    qsort(sorted, n, sizeof *sorted, cmp_key);
    for (uint32_t i = 1; i < n; i++)
        if (memcmp(sorted[i - 1], sorted[i], 32) == 0) {
            uint32_t a = (uint32_t)((sorted[i - 1] - roster) / 32), b = (uint32_t)((sorted[i] - roster) / 32);
            free(sorted);
            return px_fail(err, PX_E_INVALID, "secagg roster: keys %u and %u are equal", a < b ? a : b,
                           a < b ? b : a);
        }
    free(sorted);
    px_sha256(out, roster, (size_t)n * 32);
    return 0;
}

int px_agg_neighbours_get(const px_agg_params *p, uint32_t i, uint32_t *nbrs, uint32_t *count, px_err *err) {
    if (px_agg_params_check(p, err))
        return -1;
    if (i >= p->n)
        return px_fail(err, PX_E_INVALID, "secagg graph: user %u out of range (n = %u)", i, p->n);
    agg_graph g;
    if (agg_graph_build(&g, p, err))
        return -1;
    agg_graph_neighbours(&g, i, nbrs);
    *count = g.deg;
    agg_graph_free(&g);
    return 0;
}

int agg_survivors_check(const px_agg_params *p, const uint8_t *bitmap, size_t len, uint32_t *count,
                        px_err *err) {
    size_t want = ((size_t)p->n + 7) / 8;
    if (!bitmap || len != want)
        return px_fail(err, PX_E_INVALID, "survivor set: %zu bytes, expected %zu for %u users", bitmap ? len : 0,
                       want, p->n);
    if (p->n % 8 && bitmap[want - 1] >> (p->n % 8))
        return px_fail(err, PX_E_INVALID, "survivor set: bits set beyond user %u", p->n - 1);
    uint32_t c = 0;
    for (uint32_t i = 0; i < p->n; i++)
        c += (uint32_t)agg_bit(bitmap, i);
    *count = c;
    return 0;
}

int agg_survivors_enough(const px_agg_params *p, uint32_t count, px_err *err) {
    uint32_t need = p->min_survivors > p->t ? p->min_survivors : p->t;
    if (count < need)
        return px_fail(err, PX_E_DENIED, "too few survivors: %u of %u, need %u", count, p->n, need);
    return 0;
}

int px_agg_survivors_count(const px_agg_params *p, const uint8_t *bitmap, size_t len, uint32_t *count,
                           px_err *err) {
    if (px_agg_params_check(p, err))
        return -1;
    return agg_survivors_check(p, bitmap, len, count, err);
}

int px_agg_survivors_digest(const px_agg_params *p, const uint8_t *bitmap, size_t len, uint8_t out[32],
                            px_err *err) {
    uint32_t c;
    if (px_agg_survivors_count(p, bitmap, len, &c, err))
        return -1;
    static const char label[] = "PIXIU-secagg-survivors-v1";
    uint8_t ctx[AGG_CTX_BYTES], nb[4] = {(uint8_t)p->n, (uint8_t)(p->n >> 8), (uint8_t)(p->n >> 16),
                                         (uint8_t)(p->n >> 24)};
    agg_ctx(p, ctx);
    const void *parts[] = {label, ctx, nb, bitmap};
    const size_t lens[] = {sizeof label - 1, sizeof ctx, 4, len};
    px_sha256_parts(out, 4, parts, lens);
    return 0;
}

int px_agg_survivors_prune(const px_agg_params *p, uint8_t *bitmap, size_t len, uint32_t *removed, px_err *err) {
    uint32_t count;
    if (px_agg_survivors_count(p, bitmap, len, &count, err))
        return -1;
    agg_graph g;
    uint8_t *b = malloc(len);
    if (!b)
        return px_fail(err, PX_E_NOMEM, "survivor set: out of memory");
    if (agg_graph_build(&g, p, err)) {
        free(b);
        return -1;
    }
    memcpy(b, bitmap, len);
    uint32_t nb[PX_AGG_K_MAX], gone = 0;
    /* Removing one user can leave a neighbour short in turn: repeat until
     * a pass removes nobody (at most n passes). */
    for (int changed = 1; changed;) {
        changed = 0;
        for (uint32_t u = 0; u < p->n; u++) {
            if (!agg_bit(b, u))
                continue;
            agg_graph_neighbours(&g, u, nb);
            uint32_t alive = 0;
            for (uint32_t j = 0; j < g.deg; j++)
                alive += (uint32_t)agg_bit(b, nb[j]);
            if (alive < p->t) {
                b[u / 8] &= (uint8_t) ~(1u << (u % 8));
                gone++;
                changed = 1;
            }
        }
    }
    agg_graph_free(&g);
    memcpy(bitmap, b, len);
    free(b);
    *removed = gone;
    return 0;
}
