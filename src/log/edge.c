/* The right edge of the Merkle tree, held as the last tile of each level
 * (see edge.h). */
#include <stdlib.h>
#include <string.h>

#include "log/edge.h"

static int list_add(px_log_tile_list *l, int level, const px_log_edge_tile *t, px_err *err) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        px_log_tile_write *w = realloc(l->w, cap * sizeof *w);
        if (!w)
            return px_fail(err, PX_E_NOMEM, "out of memory");
        l->w = w;
        l->cap = cap;
    }
    /* Hash pointers are set by px_log_tile_list_finish: bytes may move. */
    px_log_tile_write *w = &l->w[l->n];
    w->level = level;
    w->index = t->index;
    w->width = t->width;
    w->hashes = (const uint8_t *)(uintptr_t)l->bytes.len; /* offset for now */
    if (px_buf_append(&l->bytes, t->hashes, (size_t)t->width * PX_LOG_HASH_BYTES, err))
        return -1;
    l->n++;
    return 0;
}

void px_log_tile_list_finish(px_log_tile_list *l) {
    for (size_t i = 0; i < l->n; i++)
        l->w[i].hashes = l->bytes.data + (uintptr_t)l->w[i].hashes;
}

void px_log_tile_list_reset(px_log_tile_list *l) {
    l->n = 0;
    l->bytes.len = 0;
}

void px_log_tile_list_free(px_log_tile_list *l) {
    free(l->w);
    free(l->bytes.data);
    memset(l, 0, sizeof *l);
}

/* Fold h, hash number w (from 0) of tile t, into t's peaks: like a binary
 * increment, each peak it completes merges into the next one up. */
static void peaks_push(px_log_edge_tile *t, unsigned w, const uint8_t h[PX_LOG_HASH_BYTES]) {
    uint8_t carry[PX_LOG_HASH_BYTES];
    memcpy(carry, h, PX_LOG_HASH_BYTES);
    unsigned k = 0;
    for (; (w >> k) & 1; k++)
        px_log_node_hash(carry, t->peaks[k], carry);
    memcpy(t->peaks[k], carry, PX_LOG_HASH_BYTES);
}

static int append_at(px_log_edge *e, int level, const uint8_t h[PX_LOG_HASH_BYTES],
                     px_log_tile_list *list, px_err *err) {
    if (level >= PX_LOG_MAX_LEVELS)
        return px_fail(err, PX_E_LIMIT, "log: tree is full");
    px_log_edge_tile *t = &e->t[level];
    if (t->width == PX_LOG_TILE_WIDTH) {
        t->index++;
        t->width = 0;
    }
    memcpy(t->hashes + (size_t)t->width * PX_LOG_HASH_BYTES, h, PX_LOG_HASH_BYTES);
    peaks_push(t, t->width, h);
    t->width++;
    t->dirty = 1;
    if (t->width < PX_LOG_TILE_WIDTH)
        return 0;
    /* A full tile is final: write it now and carry its root one level up. */
    if (list_add(list, level, t, err))
        return -1;
    t->dirty = 0;
    return append_at(e, level + 1, t->peaks[PX_LOG_TILE_HEIGHT], list, err);
}

int px_log_edge_append(px_log_edge *e, const uint8_t leaf[PX_LOG_HASH_BYTES], px_log_tile_list *list,
                       px_err *err) {
    if (append_at(e, 0, leaf, list, err))
        return -1;
    e->size++;
    return 0;
}

int px_log_edge_flush(px_log_edge *e, px_log_tile_list *list, px_err *err) {
    for (int l = 0; l < PX_LOG_MAX_LEVELS; l++) {
        px_log_edge_tile *t = &e->t[l];
        if (t->dirty && t->width) {
            if (list_add(list, l, t, err))
                return -1;
            t->dirty = 0;
        }
    }
    return 0;
}

/* Hashes at level l of a tree of size n: floor(n / 256^l). */
static uint64_t level_count(uint64_t size, int level) {
    return level * PX_LOG_TILE_HEIGHT >= 64 ? 0 : size >> (level * PX_LOG_TILE_HEIGHT);
}

int px_log_edge_load(px_log_edge *e, px_log_store *s, uint64_t size, px_err *err) {
    memset(e, 0, sizeof *e);
    e->size = size;
    px_buf b = PX_BUF_INIT;
    for (int l = 0; l < PX_LOG_MAX_LEVELS; l++) {
        uint64_t n = level_count(size, l);
        if (n == 0)
            break;
        px_log_edge_tile *t = &e->t[l];
        t->index = (n - 1) / PX_LOG_TILE_WIDTH;
        t->width = (unsigned)(n - t->index * PX_LOG_TILE_WIDTH);
        px_buf_reset(&b);
        if (s->ops->tile(s, l, t->index, &b, err))
            goto fail;
        if (b.len < (size_t)t->width * PX_LOG_HASH_BYTES) {
            px_fail(err, PX_E_STATE, "log store: tile %d/%llu holds %zu hashes, the checkpoint needs %u", l,
                    (unsigned long long)t->index, b.len / PX_LOG_HASH_BYTES, t->width);
            goto fail;
        }
        memcpy(t->hashes, b.data, (size_t)t->width * PX_LOG_HASH_BYTES);
        for (unsigned w = 0; w < t->width; w++)
            peaks_push(t, w, t->hashes + (size_t)w * PX_LOG_HASH_BYTES);
    }
    px_buf_free(&b);
    return 0;
fail:
    px_buf_free(&b);
    return -1;
}

static int edge_node(void *ctx, unsigned height, uint64_t index, uint8_t out[PX_LOG_HASH_BYTES],
                     px_err *err) {
    const px_log_edge *e = ctx;
    unsigned level = height / PX_LOG_TILE_HEIGHT, r = height % PX_LOG_TILE_HEIGHT;
    uint64_t bottom = index << r;
    if (level >= PX_LOG_MAX_LEVELS)
        return px_fail(err, PX_E_INTERNAL, "log: node height %u out of range", height);
    const px_log_edge_tile *t = &e->t[level];
    uint64_t off = bottom - t->index * PX_LOG_TILE_WIDTH;
    if (bottom / PX_LOG_TILE_WIDTH != t->index || off + (1u << r) > t->width)
        return px_fail(err, PX_E_INTERNAL, "log: node %u/%llu is not on the right edge", height,
                       (unsigned long long)index);
    /* The root's split asks for exactly the peaks; anything else is hashed. */
    if (((t->width >> r) & 1) && off == (uint64_t)(t->width >> (r + 1)) << (r + 1))
        memcpy(out, t->peaks[r], PX_LOG_HASH_BYTES);
    else
        px_log_root_from_hashes(out, t->hashes + off * PX_LOG_HASH_BYTES, 1u << r);
    return 0;
}

int px_log_edge_root(const px_log_edge *e, uint8_t out[PX_LOG_HASH_BYTES], px_err *err) {
    if (e->size == 0) {
        px_log_empty_root(out);
        return 0;
    }
    return px_log_range_root(edge_node, (void *)e, 0, e->size, out, err);
}
