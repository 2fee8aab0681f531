/* The right edge of the tree (internal): the last tile of every level.
 * Appending a leaf only ever changes these tiles, and every complete
 * subtree the root of the tree needs lies inside them, so the sequencer
 * keeps them in memory and writes the changed ones with each commit. */
#ifndef PX_LOG_EDGE_H
#define PX_LOG_EDGE_H

#include "log/store.h"

typedef struct px_log_edge_tile {
    uint64_t index;
    unsigned width; /* 0..256 hashes held */
    int dirty;      /* changed since the last commit */
    /* peaks[k], for each bit k set in width: the root of the complete
     * subtree of 2^k hashes that bit stands for, kept as hashes arrive, so
     * the tree's root costs a node hash per level of the binary split
     * instead of re-hashing up to 255 hashes of each partial tile for
     * every checkpoint. peaks[8] of a full tile is the tile's root. */
    uint8_t peaks[PX_LOG_TILE_HEIGHT + 1][PX_LOG_HASH_BYTES];
    uint8_t hashes[PX_LOG_TILE_WIDTH * PX_LOG_HASH_BYTES];
} px_log_edge_tile;

typedef struct px_log_edge {
    uint64_t size;
    px_log_edge_tile t[PX_LOG_MAX_LEVELS];
} px_log_edge;

/* Tiles completed or changed while appending, to be written by a commit. */
typedef struct px_log_tile_list {
    px_log_tile_write *w;
    uint8_t *data; /* the hashes of every write, in order */
    size_t n, cap;
    px_buf bytes;
} px_log_tile_list;

/* Load the edge of a tree of the given size from a store. */
int px_log_edge_load(px_log_edge *e, px_log_store *s, uint64_t size, px_err *err);
/* Append one leaf hash; completed tiles are added to list. */
int px_log_edge_append(px_log_edge *e, const uint8_t leaf[PX_LOG_HASH_BYTES], px_log_tile_list *list,
                       px_err *err);
/* Add the tiles still dirty (partial) to list and mark them clean. */
int px_log_edge_flush(px_log_edge *e, px_log_tile_list *list, px_err *err);
/* Root hash of the tree the edge describes. */
int px_log_edge_root(const px_log_edge *e, uint8_t out[PX_LOG_HASH_BYTES], px_err *err);
/* Fix up list->w[i].hashes pointers once list->bytes stopped moving. */
void px_log_tile_list_finish(px_log_tile_list *list);
void px_log_tile_list_reset(px_log_tile_list *list);
void px_log_tile_list_free(px_log_tile_list *list);

#endif
