/* Mirror a log into a directory in the static C2SP tlog-tiles layout, so
 * any web server can serve it, checking everything on the way: every
 * entry hashes to its level-0 tile hash, every higher tile hash is the
 * root of the full tile below it, and the tree root equals the signed
 * checkpoint's. A mirror is therefore also a full audit of the log's
 * contents at that checkpoint. Full tiles already present in the
 * directory are immutable and read locally instead of fetched again (and
 * still checked). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pixiu/log.h"

#define PATH_MAX_LEN 4096
#define TILE_BYTES (PX_LOG_TILE_WIDTH * PX_LOG_HASH_BYTES)
#define TIMEOUT_MS 60000
#define RESP_MAX (16u << 20)

/* mkdir -p for the directories of path. */
static int make_parents(char *path, px_err *err) {
    for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        int bad = mkdir(path, 0755) != 0 && errno != EEXIST;
        *p = '/';
        if (bad)
            return px_fail(err, PX_E_IO, "mirror: cannot create directory for %s", path);
    }
    return 0;
}

static int tile_file(const char *dir, int level, uint64_t index, unsigned width, char *out, px_err *err) {
    px_buf p = PX_BUF_INIT;
    int rc = px_log_tile_path_format(level, index, width, &p, err);
    if (!rc && (size_t)snprintf(out, PATH_MAX_LEN, "%s/tile/%s", dir, px_buf_cstr(&p, NULL)) >= PATH_MAX_LEN)
        rc = px_fail(err, PX_E_LIMIT, "mirror: path too long");
    px_buf_free(&p);
    return rc;
}

/* The resource's bytes: a local copy of an immutable full tile if present,
 * else fetched; *fetched says which. */
static int get_resource(const char *url, const char *dir, int level, uint64_t index, unsigned width, px_buf *out,
                        int *fetched, px_err *err) {
    char path[PATH_MAX_LEN], rel[PATH_MAX_LEN];
    if (tile_file(dir, level, index, width, path, err))
        return -1;
    struct stat st;
    *fetched = 0;
    if (width == PX_LOG_TILE_WIDTH && stat(path, &st) == 0)
        return px_file_read(path, RESP_MAX, out, err);
    snprintf(rel, sizeof rel, "%s%s", url, path + strlen(dir));
    int status = 0;
    if (px_http_call("GET", rel, NULL, 0, NULL, 0, TIMEOUT_MS, RESP_MAX, &status, out, err))
        return -1;
    if (status != 200)
        return px_fail(err, PX_E_UNAVAILABLE, "mirror: %s: HTTP %d", rel, status);
    *fetched = 1;
    return 0;
}

static int save(const char *dir, int level, uint64_t index, unsigned width, const px_buf *b, px_err *err) {
    char path[PATH_MAX_LEN];
    if (tile_file(dir, level, index, width, path, err) || make_parents(path, err))
        return -1;
    return px_file_write_atomic(path, b->data, b->len, 0644, err);
}

/* Check an entry bundle against the level-0 hashes it must produce. */
static int check_bundle(const px_buf *b, const uint8_t *hashes, unsigned width, uint64_t tile, px_err *err) {
    const uint8_t *ents[PX_LOG_TILE_WIDTH];
    size_t lens[PX_LOG_TILE_WIDTH], n;
    if (px_log_bundle_split(b->data, b->len, ents, lens, PX_LOG_TILE_WIDTH, &n, err))
        return -1;
    if (n != width)
        return px_fail(err, PX_E_VERIFY, "mirror: entry bundle %llu holds %zu entries, not %u", (unsigned long long)tile,
                       n, width);
    for (size_t i = 0; i < n; i++) {
        uint8_t leaf[PX_LOG_HASH_BYTES];
        px_log_leaf_hash(leaf, ents[i], lens[i]);
        if (!px_ct_equal(leaf, hashes + i * PX_LOG_HASH_BYTES, PX_LOG_HASH_BYTES))
            return px_fail(err, PX_E_VERIFY, "mirror: entry %llu does not hash to its tile hash",
                           (unsigned long long)(tile * PX_LOG_TILE_WIDTH + i));
    }
    return 0;
}

int px_log_mirror(const char *url, const px_verifier *log_key, const char *dir, uint64_t *size, size_t *fetched,
                  px_err *err) {
    px_buf note = PX_BUF_INIT, level = PX_BUF_INIT, up = PX_BUF_INIT, b = PX_BUF_INIT;
    px_checkpoint cp = {0};
    int rc = -1, got;
    *fetched = 0;
    if (px_log_remote_checkpoint(url, log_key, &note, &cp, err))
        goto out;
    /* Level 0 with its entry bundles, then each level from the one below. */
    for (int l = 0; l < PX_LOG_MAX_LEVELS; l++) {
        uint64_t count = l * PX_LOG_TILE_HEIGHT >= 64 ? 0 : cp.size >> (l * PX_LOG_TILE_HEIGHT);
        if (count == 0)
            break;
        px_buf_reset(&up);
        for (uint64_t t = 0; t * PX_LOG_TILE_WIDTH < count; t++) {
            unsigned w = count - t * PX_LOG_TILE_WIDTH >= PX_LOG_TILE_WIDTH ? PX_LOG_TILE_WIDTH
                                                                             : (unsigned)(count - t * PX_LOG_TILE_WIDTH);
            px_buf_reset(&b);
            if (get_resource(url, dir, l, t, w, &b, &got, err))
                goto out;
            *fetched += (size_t)got;
            if (b.len != (size_t)w * PX_LOG_HASH_BYTES) {
                px_fail(err, PX_E_VERIFY, "mirror: tile %d/%llu has %zu bytes, not %u hashes", l, (unsigned long long)t,
                        b.len, w);
                goto out;
            }
            /* Above level 0, each hash must be the root of the full tile below. */
            if (l > 0 && memcmp(b.data, level.data + t * TILE_BYTES, b.len) != 0) {
                px_fail(err, PX_E_VERIFY, "mirror: tile %d/%llu does not match the tiles below it", l,
                        (unsigned long long)t);
                goto out;
            }
            if (save(dir, l, t, w, &b, err))
                goto out;
            if (l == 0) {
                px_buf bundle = PX_BUF_INIT;
                int bad = get_resource(url, dir, -1, t, w, &bundle, &got, err) ||
                          check_bundle(&bundle, b.data, w, t, err) || save(dir, -1, t, w, &bundle, err);
                *fetched += (size_t)got;
                px_buf_free(&bundle);
                if (bad || px_buf_append(&level, b.data, b.len, err))
                    goto out;
            }
            if (w == PX_LOG_TILE_WIDTH) {
                uint8_t root[PX_LOG_HASH_BYTES];
                px_log_root_from_hashes(root, b.data, PX_LOG_TILE_WIDTH);
                if (px_buf_append(&up, root, sizeof root, err))
                    goto out;
            }
        }
        if (l == 0) {
            uint8_t root[PX_LOG_HASH_BYTES];
            px_log_root_from_hashes(root, level.data, cp.size);
            if (!px_ct_equal(root, cp.root, PX_LOG_HASH_BYTES)) {
                px_fail(err, PX_E_VERIFY, "mirror: the entries do not hash to the checkpoint's root");
                goto out;
            }
        }
        /* The next level's tiles are checked against these roots. */
        px_buf_reset(&level);
        if (px_buf_append(&level, up.data, up.len, err))
            goto out;
    }
    char path[PATH_MAX_LEN];
    if ((size_t)snprintf(path, sizeof path, "%s/checkpoint", dir) >= sizeof path ||
        make_parents(path, err) || px_file_write_atomic(path, note.data, note.len, 0644, err))
        goto out;
    *size = cp.size;
    rc = 0;
out:
    px_checkpoint_free(&cp);
    px_buf_free(&note);
    px_buf_free(&level);
    px_buf_free(&up);
    px_buf_free(&b);
    return rc;
}
