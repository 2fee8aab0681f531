/* The MASKED, SHARES and REVEAL formats (pixiu/agg.h), parsed strictly:
 * known magic and version, zero reserved bytes, exact lengths, counts and
 * indices in range, entries strictly ascending (so none twice). These
 * parsers see bytes from other parties; they check structure only, and
 * the user and aggregator functions then check each field against the
 * round they are in, naming what differs. */
#include "agg/agg_int.h"

static void get32(uint8_t out[32], const uint8_t *p) {
    memcpy(out, p, 32);
}

int agg_put_header(px_buf *b, const char *magic, const px_agg_params *p, uint32_t index, px_err *err) {
    if (px_buf_append(b, magic, 4, err) || px_buf_append_u32le(b, AGG_VERSION, err) ||
        px_buf_append_u32le(b, p->round, err) || px_buf_append_u32le(b, index, err) ||
        px_buf_append_u32le(b, p->n, err))
        return -1;
    return 0;
}

/* Magic, version, and the three u32 every message starts with. */
static int get_header(const char *what, const char *magic, const uint8_t *data, size_t len, size_t fixed,
                      uint32_t *round, uint32_t *index, uint32_t *n, px_err *err) {
    if (!data || len < fixed)
        return px_fail(err, PX_E_INVALID, "%s: truncated (%zu bytes, the header needs %zu)", what, data ? len : 0,
                       fixed);
    if (memcmp(data, magic, 4) != 0)
        return px_fail(err, PX_E_INVALID, "%s: not a %s message (magic is not \"%s\")", what, what, magic);
    if (px_load_u32le(data + 4) != AGG_VERSION)
        return px_fail(err, PX_E_INVALID, "%s: version %u, only version %u is known", what,
                       px_load_u32le(data + 4), AGG_VERSION);
    *round = px_load_u32le(data + 8);
    *index = px_load_u32le(data + 12);
    *n = px_load_u32le(data + 16);
    if (*n < 2 || *n > PX_AGG_N_MAX)
        return px_fail(err, PX_E_INVALID, "%s: n = %u users, need 2..%u", what, *n, PX_AGG_N_MAX);
    if (*index >= *n)
        return px_fail(err, PX_E_INVALID, "%s: user %u out of range (n = %u)", what, *index, *n);
    return 0;
}

/* count entries of size esz after fixed bytes, exactly. */
static int check_count(const char *what, uint32_t count, size_t len, size_t fixed, size_t esz, px_err *err) {
    if (count > PX_AGG_K_MAX)
        return px_fail(err, PX_E_LIMIT, "%s: %u entries, at most %u (one per neighbour)", what, count,
                       PX_AGG_K_MAX);
    size_t want = fixed + (size_t)count * esz;
    if (len != want)
        return px_fail(err, PX_E_INVALID, "%s: %zu bytes for %u entries (expected %zu: %s)", what, len, count, want,
                       len < want ? "truncated" : "trailing bytes");
    return 0;
}

int px_agg_masked_parse(px_agg_masked_view *v, const uint8_t *data, size_t len, px_err *err) {
    static const char what[] = "masked update";
    uint32_t round = 0, index = 0, n = 0;
    if (get_header(what, "PXSM", data, len, PX_AGG_MASKED_HEADER, &round, &index, &n, err))
        return -1;
    uint32_t dim = px_load_u32le(data + 20);
    if (dim < 1 || dim > PX_AGG_DIM_MAX)
        return px_fail(err, dim ? PX_E_LIMIT : PX_E_INVALID, "%s: dim = %u, need 1..%u", what, dim, PX_AGG_DIM_MAX);
    size_t want = PX_AGG_MASKED_HEADER + (size_t)dim * 4;
    if (len != want)
        return px_fail(err, PX_E_INVALID, "%s: %zu bytes for dim %u (expected %zu: %s)", what, len, dim, want,
                       len < want ? "truncated" : "trailing bytes");
    v->round = round;
    v->index = index;
    v->n = n;
    v->dim = dim;
    get32(v->roster, data + 24);
    get32(v->commit, data + 56);
    v->words = data + PX_AGG_MASKED_HEADER;
    return 0;
}

int px_agg_shares_parse(px_agg_shares_view *v, const uint8_t *data, size_t len, px_err *err) {
    static const char what[] = "shares";
    uint32_t round = 0, index = 0, n = 0;
    if (get_header(what, "PXSS", data, len, PX_AGG_SHARES_HEADER, &round, &index, &n, err))
        return -1;
    uint32_t count = px_load_u32le(data + 52);
    if (check_count(what, count, len, PX_AGG_SHARES_HEADER, PX_AGG_SHARES_ENTRY, err))
        return -1;
    const uint8_t *e = data + PX_AGG_SHARES_HEADER;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t to = px_load_u32le(e + (size_t)i * PX_AGG_SHARES_ENTRY);
        if (to >= n || to == index)
            return px_fail(err, PX_E_INVALID, "shares: entry %u is addressed to user %u (n = %u, sender %u)", i, to,
                           n, index);
        if (i && to <= px_load_u32le(e + (size_t)(i - 1) * PX_AGG_SHARES_ENTRY))
            return px_fail(err, PX_E_INVALID, "shares: entry %u: recipient %u does not ascend", i, to);
    }
    v->round = round;
    v->index = index;
    v->n = n;
    v->count = count;
    get32(v->roster, data + 20);
    v->entries = e;
    return 0;
}

int px_agg_reveal_parse(px_agg_reveal_view *v, const uint8_t *data, size_t len, px_err *err) {
    static const char what[] = "reveal";
    uint32_t round = 0, index = 0, n = 0;
    if (get_header(what, "PXSR", data, len, PX_AGG_REVEAL_HEADER, &round, &index, &n, err))
        return -1;
    uint32_t count = px_load_u32le(data + 84);
    if (check_count(what, count, len, PX_AGG_REVEAL_HEADER, PX_AGG_REVEAL_ENTRY, err))
        return -1;
    const uint8_t *e = data + PX_AGG_REVEAL_HEADER;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *x = e + (size_t)i * PX_AGG_REVEAL_ENTRY;
        uint32_t about = px_load_u32le(x);
        if (about >= n || about == index)
            return px_fail(err, PX_E_INVALID, "reveal: entry %u is about user %u (n = %u, revealer %u)", i, about,
                           n, index);
        if (i && about <= px_load_u32le(x - PX_AGG_REVEAL_ENTRY))
            return px_fail(err, PX_E_INVALID, "reveal: entry %u: user %u does not ascend", i, about);
        if (x[4] != PX_AGG_REVEAL_SHARE && x[4] != PX_AGG_REVEAL_SEED)
            return px_fail(err, PX_E_INVALID, "reveal: entry %u has kind %u (1 share, 2 seed)", i, x[4]);
    }
    v->round = round;
    v->index = index;
    v->n = n;
    v->count = count;
    get32(v->roster, data + 20);
    get32(v->survivors, data + 52);
    v->entries = e;
    return 0;
}

void px_agg_shares_entry(const px_agg_shares_view *v, uint32_t i, uint32_t *to, const uint8_t **sealed) {
    const uint8_t *e = v->entries + (size_t)i * PX_AGG_SHARES_ENTRY;
    *to = px_load_u32le(e);
    *sealed = e + 4;
}

void px_agg_reveal_entry(const px_agg_reveal_view *v, uint32_t i, uint32_t *about, uint8_t *kind,
                         const uint8_t **value) {
    const uint8_t *e = v->entries + (size_t)i * PX_AGG_REVEAL_ENTRY;
    *about = px_load_u32le(e);
    *kind = e[4];
    *value = e + 5;
}
