/* The log's storage interface (internal). One writer (the log's committer
 * thread) calls commit; any thread may call the readers concurrently.
 *
 * A commit is atomic and durable when it returns 0: the new entries, the
 * tiles they changed, their index keys and the checkpoint that covers them
 * are stored together or not at all. Because the checkpoint is only
 * published after its commit, every checkpoint the log ever showed
 * describes durable data. */
#ifndef PX_LOG_STORE_H
#define PX_LOG_STORE_H

#include "pixiu/log.h"

typedef struct px_log_tile_write {
    int level;
    uint64_t index;
    unsigned width;        /* hashes, 1..256 */
    const uint8_t *hashes; /* width * 32 bytes */
} px_log_tile_write;

typedef struct px_log_key_row {
    px_log_key_kind kind;
    uint8_t digest[PX_SHA256_BYTES];
    uint64_t index;
} px_log_key_row;

typedef struct px_log_commit {
    uint64_t first; /* index of entries[0]; must equal the stored size */
    size_t n;
    const uint8_t *const *entries;
    const size_t *lens;
    const px_log_tile_write *tiles;
    size_t ntiles;
    const px_log_key_row *keys;
    size_t nkeys;
    uint64_t size; /* first + n */
    const char *checkpoint; /* the signed note for size */
    size_t checkpoint_len;
} px_log_commit;

typedef struct px_log_store px_log_store;

typedef struct px_log_store_ops {
    const char *name;
    int (*commit)(px_log_store *s, const px_log_commit *c, px_err *err);
    /* Latest checkpoint note (appended) and its size; size 0 and nothing
     * appended for a new store. */
    int (*latest)(px_log_store *s, uint64_t *size, px_buf *note, px_err *err);
    /* Append the stored hashes of tile (level, index); PX_E_NOTFOUND if none. */
    int (*tile)(px_log_store *s, int level, uint64_t index, px_buf *out, px_err *err);
    /* Append entries start..start+n-1 as an entry bundle (u16 BE lengths). */
    int (*entries)(px_log_store *s, uint64_t start, uint64_t n, px_buf *out, px_err *err);
    int (*lookup)(px_log_store *s, px_log_key_kind kind, const uint8_t digest[PX_SHA256_BYTES], uint64_t from,
                  uint64_t *out, size_t max, size_t *n, px_err *err);
    /* Every checkpoint note ever committed, oldest first, for audits. */
    int (*history)(px_log_store *s, int (*fn)(void *ctx, uint64_t size, const char *note,
                                              size_t len, px_err *err),
                   void *ctx, px_err *err);
    void (*close)(px_log_store *s);
} px_log_store_ops;

struct px_log_store {
    const px_log_store_ops *ops;
};

int px_log_store_sqlite_open(px_log_store **out, const char *path, px_err *err);
int px_log_store_pg_open(px_log_store **out, const char *conninfo, px_err *err);
/* "sqlite:PATH", "postgres:CONNINFO" / "postgresql://...", or a path. */
int px_log_store_open(px_log_store **out, const char *spec, px_err *err);

#endif
