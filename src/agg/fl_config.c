/* The params fl-user and fl-agg share (docs/fl.md, "Params"). One parser
 * for the manifest's rules and the stages' birth checks, so a config a
 * stage would refuse is refused before anyone is recruited or charged. */
#include <string.h>

#include "pixiu/agg.h"
#include "pixiu/dp.h"

static int uint_in(const json_t *p, const char *key, uint64_t lo, uint64_t hi, uint32_t *out, px_err *err) {
    json_t *v = json_object_get(p, key);
    if (!v)
        return px_fail(err, PX_E_INVALID, "params: \"%s\" is required", key);
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)lo || json_integer_value(v) > (json_int_t)hi)
        return px_fail(err, PX_E_INVALID, "params: \"%s\" must be an integer in %llu..%llu", key,
                       (unsigned long long)lo, (unsigned long long)hi);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

static int decimal_in(const json_t *p, const char *key, char *out, size_t cap, px_err *err) {
    const char *s = json_string_value(json_object_get(p, key));
    if (!s)
        return px_fail(err, PX_E_INVALID, "params: \"%s\" is required, as a decimal string", key);
    if (!px_decimal_valid(s) || strlen(s) >= cap)
        return px_fail(err, PX_E_INVALID, "params: \"%s\" is not a decimal: \"%.40s\"", key, s);
    snprintf(out, cap, "%s", s);
    return 0;
}

/* floor(clip * scale), exactly: the integer bound the user λ checks. */
static int clip_bound(px_agg_fl_config *c, px_err *err) {
    px_dp_q q;
    if (px_dp_q_parse(&q, c->clip, strlen(c->clip), err))
        return px_err_prefix(err, "params: clip: ");
    unsigned __int128 b = (unsigned __int128)q.num * c->scale / q.den;
    if (b == 0 || b > UINT32_MAX)
        return px_fail(err, PX_E_INVALID, "params: clip %s at scale %u bounds the update by %s: it must be 1..2^32-1 "
                       "in fixed point", c->clip, c->scale, b == 0 ? "0" : "more than 2^32");
    c->clip_q = (uint64_t)b;
    return 0;
}

int px_agg_fl_config_parse(px_agg_fl_config *out, const json_t *params, int agg, px_err *err) {
    static const char *const user_keys[] = {"dim", "scale", "clip", "neighbors", "threshold", NULL};
    static const char *const agg_keys[] = {"dim",           "scale",  "clip",    "neighbors", "threshold",
                                           "min_survivors", "rounds", "epsilon", "delta",     NULL};
    px_agg_fl_config c;
    memset(&c, 0, sizeof c);
    if (!params || !json_is_object(params))
        return px_fail(err, PX_E_INVALID, "params: an object is required (dim, scale, clip, neighbors, threshold)");
    if (px_json_only(params, "params", agg ? agg_keys : user_keys, err) ||
        uint_in(params, "dim", 1, PX_AGG_FL_MAX_DIM, &c.dim, err) ||
        uint_in(params, "scale", 1, PX_AGG_FL_MAX_SCALE, &c.scale, err) ||
        decimal_in(params, "clip", c.clip, sizeof c.clip, err) || clip_bound(&c, err) ||
        uint_in(params, "neighbors", 2, PX_AGG_K_MAX, &c.neighbors, err) ||
        uint_in(params, "threshold", 1, PX_AGG_K_MAX, &c.threshold, err))
        return -1;
    if (c.neighbors % 2)
        return px_fail(err, PX_E_INVALID, "params: neighbors %u must be even (half on either side of a ring)",
                       c.neighbors);
    /* A self-mask is rebuilt from threshold shares among its neighbours:
     * fewer than half of them must not be enough, or two disjoint groups
     * could rebuild it and the pairwise seeds of the same user. */
    if (c.threshold * 2 <= c.neighbors || c.threshold > c.neighbors)
        return px_fail(err, PX_E_INVALID, "params: threshold %u must be more than half of neighbors %u and at most it",
                       c.threshold, c.neighbors);
    if (agg) {
        c.agg = 1;
        if (uint_in(params, "min_survivors", 2, 1u << 20, &c.min_survivors, err) ||
            uint_in(params, "rounds", 1, 100, &c.rounds, err) ||
            decimal_in(params, "epsilon", c.epsilon, sizeof c.epsilon, err) ||
            decimal_in(params, "delta", c.delta, sizeof c.delta, err))
            return -1;
        if (c.min_survivors <= c.threshold)
            return px_fail(err, PX_E_INVALID, "params: min_survivors %u must exceed threshold %u", c.min_survivors,
                           c.threshold);
    }
    *out = c;
    return 0;
}

int px_agg_fl_config_same(const px_agg_fl_config *a, const px_agg_fl_config *b) {
    return a->dim == b->dim && a->scale == b->scale && a->clip_q == b->clip_q && !strcmp(a->clip, b->clip) &&
           a->neighbors == b->neighbors && a->threshold == b->threshold;
}
