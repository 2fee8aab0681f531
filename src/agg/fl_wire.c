/* The federated-learning blocks (docs/formats.md, "Federated learning"):
 * the model (PXFM) the training code reads and the aggregator moves, the
 * update (PXFU) the training code writes, the round's broadcast (PXFB) the
 * consumer seals to each user λ, and the reveals (PXFR) it seals to the
 * aggregator. Every length is checked before it is used; all integers are
 * little-endian. */
#include <math.h>
#include <string.h>

#include "agg/fl_int.h"

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) {
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int put32(px_buf *b, uint32_t v, px_err *err) {
    uint8_t p[4];
    wr32(p, v);
    return px_buf_append(b, p, 4, err);
}

static int head(const uint8_t *p, size_t len, const char *magic, size_t min, const char *what, px_err *err) {
    if (len < min || memcmp(p, magic, 4))
        return px_fail(err, PX_E_INVALID, "%s: %s", what, len < min ? "truncated" : "wrong magic");
    if (rd32(p + 4) != 1)
        return px_fail(err, PX_E_INVALID, "%s: version %u is not 1", what, rd32(p + 4));
    return 0;
}

/* float32 from its little-endian bits; refuses what is not finite. */
static int rdf(const uint8_t *p, float *out) {
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    *out = f;
    return isfinite(f) ? 0 : -1;
}

int px_fl_model_parse(px_fl_model *m, const uint8_t *p, size_t len, px_err *err) {
    if (head(p, len, PX_FL_MODEL_MAGIC, PX_FL_MODEL_HEADER, "model", err))
        return -1;
    uint32_t dim = rd32(p + 8);
    if (dim == 0 || dim > PX_AGG_FL_MAX_DIM || len != PX_FL_MODEL_HEADER + 4 * (size_t)dim)
        return px_fail(err, PX_E_INVALID, "model: %zu bytes do not hold %u weights", len, dim);
    float *w = malloc(sizeof *w * dim);
    if (!w)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < dim; i++)
        if (rdf(p + PX_FL_MODEL_HEADER + 4 * (size_t)i, &w[i])) {
            free(w);
            return px_fail(err, PX_E_INVALID, "model: weight %u is not finite", i);
        }
    m->dim = dim;
    m->round = rd32(p + 12);
    m->seed = rd64(p + 16);
    m->w = w;
    return 0;
}

int px_fl_model_write(px_buf *out, const float *w, uint32_t dim, uint32_t round, uint64_t seed, px_err *err) {
    size_t at = out->len;
    int rc = px_buf_append(out, PX_FL_MODEL_MAGIC, 4, err) || put32(out, 1, err) || put32(out, dim, err) ||
             put32(out, round, err) || put32(out, (uint32_t)seed, err) || put32(out, (uint32_t)(seed >> 32), err);
    for (uint32_t i = 0; rc == 0 && i < dim; i++) {
        uint32_t u;
        memcpy(&u, &w[i], 4);
        rc = put32(out, u, err);
    }
    if (rc)
        out->len = at;
    return rc;
}

void px_fl_model_free(px_fl_model *m) {
    free(m->w);
    memset(m, 0, sizeof *m);
}

int px_fl_update_parse(float *x, uint32_t dim, const uint8_t *p, size_t len, px_err *err) {
    if (head(p, len, PX_FL_UPDATE_MAGIC, PX_FL_UPDATE_HEADER, "update", err))
        return -1;
    if (rd32(p + 8) != dim)
        return px_fail(err, PX_E_INVALID, "update: dim %u is not the model's %u", rd32(p + 8), dim);
    if (len != PX_FL_UPDATE_HEADER + 4 * (size_t)dim)
        return px_fail(err, PX_E_INVALID, "update: %zu bytes do not hold %u values", len, dim);
    for (uint32_t i = 0; i < dim; i++)
        if (rdf(p + PX_FL_UPDATE_HEADER + 4 * (size_t)i, &x[i]))
            return px_fail(err, PX_E_INVALID, "update: value %u is not finite", i);
    return 0;
}

/* ---- the broadcast ------------------------------------------------------------ */

int px_fl_broadcast_write(px_buf *out, uint32_t round, const uint8_t *roster, uint32_t n, uint32_t index,
                          const uint8_t *model, size_t model_len, px_err *err) {
    size_t at = out->len;
    int rc = px_buf_append(out, PX_FL_BROADCAST_MAGIC, 4, err) || put32(out, 1, err) || put32(out, round, err) ||
             put32(out, n, err) || put32(out, index, err) || px_buf_append(out, roster, 32 * (size_t)n, err) ||
             px_buf_append(out, model, model_len, err);
    if (rc)
        out->len = at;
    return rc;
}

int px_fl_broadcast_parse(px_fl_broadcast *b, const uint8_t *p, size_t len, px_err *err) {
    if (head(p, len, PX_FL_BROADCAST_MAGIC, 20, "broadcast", err))
        return -1;
    uint32_t n = rd32(p + 12), index = rd32(p + 16);
    if (n < 2 || n > PX_AGG_N_MAX || index >= n)
        return px_fail(err, PX_E_INVALID, "broadcast: user %u of a roster of %u", index, n);
    if (len - 20 < 32 * (size_t)n)
        return px_fail(err, PX_E_INVALID, "broadcast: truncated roster of %u keys", n);
    b->round = rd32(p + 8);
    b->n = n;
    b->index = index;
    b->roster = p + 20;
    b->model = p + 20 + 32 * (size_t)n;
    b->model_len = len - 20 - 32 * (size_t)n;
    return 0;
}

/* ---- the reveals --------------------------------------------------------------- */

int px_fl_reveals_begin(px_buf *out, const uint8_t *roster, uint32_t n, uint32_t count, px_err *err) {
    return px_buf_append(out, PX_FL_REVEALS_MAGIC, 4, err) || put32(out, 1, err) || put32(out, n, err) ||
           px_buf_append(out, roster, 32 * (size_t)n, err) || put32(out, count, err);
}

int px_fl_reveals_add(px_buf *out, const uint8_t sign_pk[32], const uint8_t req_hash[32], const uint8_t *resp,
                      size_t resp_len, const uint8_t sig[64], px_err *err) {
    if (resp_len > PX_FL_REVEAL_MAX)
        return px_fail(err, PX_E_LIMIT, "reveal of %zu bytes exceeds %u", resp_len, PX_FL_REVEAL_MAX);
    return px_buf_append(out, sign_pk, 32, err) || px_buf_append(out, req_hash, 32, err) ||
           put32(out, (uint32_t)resp_len, err) || px_buf_append(out, resp, resp_len, err) ||
           px_buf_append(out, sig, 64, err);
}

int px_fl_reveals_parse(px_fl_reveals *r, const uint8_t *p, size_t len, px_err *err) {
    if (head(p, len, PX_FL_REVEALS_MAGIC, 12, "reveals", err))
        return -1;
    uint32_t n = rd32(p + 8);
    if (n < 2 || n > PX_AGG_N_MAX || len - 12 < 32 * (size_t)n + 4)
        return px_fail(err, PX_E_INVALID, "reveals: truncated roster of %u keys", n);
    r->n = n;
    r->roster = p + 12;
    size_t off = 12 + 32 * (size_t)n;
    r->count = rd32(p + off);
    off += 4;
    if (r->count > n)
        return px_fail(err, PX_E_INVALID, "reveals: %u reveals for %u users", r->count, n);
    r->entries = p + off;
    /* Walk once so that px_fl_reveals_next cannot run past the end. */
    for (uint32_t i = 0; i < r->count; i++) {
        if (len - off < 68)
            return px_fail(err, PX_E_INVALID, "reveals: entry %u truncated", i);
        uint32_t rl = rd32(p + off + 64);
        if (rl > PX_FL_REVEAL_MAX || len - off - 68 < (size_t)rl + 64)
            return px_fail(err, PX_E_INVALID, "reveals: entry %u truncated", i);
        off += 68 + (size_t)rl + 64;
    }
    if (off != len)
        return px_fail(err, PX_E_INVALID, "reveals: %zu bytes after the last entry", len - off);
    return 0;
}

size_t px_fl_reveals_next(const uint8_t *entry, px_fl_reveal *out) {
    out->sign_pk = entry;
    out->req_hash = entry + 32;
    out->resp_len = rd32(entry + 64);
    out->resp = entry + 68;
    out->sig = entry + 68 + out->resp_len;
    return 68 + out->resp_len + 64;
}
