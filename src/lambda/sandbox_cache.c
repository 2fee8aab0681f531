/* The object cache: compiled tasks kept encrypted at rest.
 *
 * A cold compile costs seconds, so objects are cached; but an operator who
 * reads the node's disk after a task must learn nothing of the task's code
 * from it. So each entry is sealed under a key only a holder of the module
 * bytes can compute, and named so that the name does not reveal which
 * (public) code digest it belongs to:
 *
 *   key  = BLAKE2b-256(key = "PIXIU-wasm-object-key-v1", module)
 *   name = hex BLAKE2b-256(key = "PIXIU-wasm-object-name-v1",
 *                          module || toolchain digest (hex))
 *   file = "PXO1" || XChaCha20-Poly1305(key, random nonce,
 *                                       ad = "PXO1" || name, object)
 *
 * The code digest (SHA-256 of the module) is public; neither the key nor
 * the name can be computed from it, only from the module itself
 * (convergent: every node that holds the code derives the same key and
 * name). The associated data binds an entry to its name, so entries cannot
 * be swapped. An entry that does not decrypt (tampered, truncated, from
 * another key) is never loaded: the module is compiled again and the
 * entry replaced.
 *
 * Earlier versions kept plaintext objects ("<sha256>-<toolchain>.so") and
 * compile directories ("tmp-XXXXXX") in the cache; px_sb_cache_sweep
 * removes them. A compile killed before it removed its directory in the
 * work directory leaves plaintext in memory (not on disk) until
 * px_sb_work_sweep, at the next init, removes it.
 */
#include <dirent.h>
#include <sys/file.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "lambda/sandbox_int.h"
#include "pixiu/crypto.h"

#define MAGIC "PXO1"
#define MAGIC_LEN 4
#define ENTRY_MAX (512u << 20) /* as the compile's RLIMIT_FSIZE */

static const char key_label[] = "PIXIU-wasm-object-key-v1";
static const char name_label[] = "PIXIU-wasm-object-name-v1";

void px_sb_cache_key(const uint8_t *m, size_t n, const char *toolchain,
                     px_sb_cache_id *id) {
    crypto_generichash(id->key, sizeof id->key, m, n,
                       (const uint8_t *)key_label, sizeof key_label - 1);
    crypto_generichash_state st;
    uint8_t d[32];
    crypto_generichash_init(&st, (const uint8_t *)name_label,
                            sizeof name_label - 1, sizeof d);
    crypto_generichash_update(&st, m, n);
    crypto_generichash_update(&st, (const uint8_t *)toolchain,
                              strlen(toolchain));
    crypto_generichash_final(&st, d, sizeof d);
    px_hex_encode(id->name, d, sizeof d);
}

static int entry_path(const px_sandbox *sb, const px_sb_cache_id *id,
                      char *path, px_err *err) {
    char file[sizeof id->name + 8];
    snprintf(file, sizeof file, "obj-%s", id->name);
    return px_sb_path_join(path, sb->cache_dir, file, err);
}

int px_sb_cache_lock(const px_sandbox *sb, const px_sb_cache_id *id) {
    char file[sizeof id->name + 8], path[PX_SANDBOX_PATH_MAX];
    snprintf(file, sizeof file, "lck-%s", id->name);
    if (px_sb_path_join(path, sb->cache_dir, file, NULL))
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    return fd;
}

void px_sb_cache_unlock(int fd) {
    if (fd >= 0)
        close(fd); /* releases the lock */
}

static void ad_of(const px_sb_cache_id *id, uint8_t *ad, size_t *adlen) {
    memcpy(ad, MAGIC, MAGIC_LEN);
    memcpy(ad + MAGIC_LEN, id->name, 64);
    *adlen = MAGIC_LEN + 64;
}

int px_sb_cache_get(const px_sandbox *sb, const px_sb_cache_id *id,
                    px_buf *object, px_err *err) {
    char path[PX_SANDBOX_PATH_MAX];
    if (entry_path(sb, id, path, err))
        return -1;
    px_buf sealed = PX_BUF_INIT;
    int rc = px_file_read(path, ENTRY_MAX, &sealed, err);
    if (rc) {
        px_buf_free(&sealed);
        return px_fail(err, PX_E_NOTFOUND, "no cached object");
    }
    uint8_t ad[MAGIC_LEN + 64];
    size_t adlen;
    ad_of(id, ad, &adlen);
    if (sealed.len < MAGIC_LEN || memcmp(sealed.data, MAGIC, MAGIC_LEN))
        rc = px_fail(err, PX_E_VERIFY, "cached object %s is not a sealed "
                     "entry", path);
    else if (px_aead_decrypt(object, sealed.data + MAGIC_LEN,
                             sealed.len - MAGIC_LEN, ad, adlen, id->key, err))
        rc = px_fail(err, PX_E_VERIFY, "cached object %s failed "
                     "authentication (tampered or corrupt)", path);
    px_buf_free(&sealed);
    return rc;
}

int px_sb_cache_put(const px_sandbox *sb, const px_sb_cache_id *id,
                    const px_buf *object, px_err *err) {
    char path[PX_SANDBOX_PATH_MAX];
    if (entry_path(sb, id, path, err))
        return -1;
    uint8_t ad[MAGIC_LEN + 64];
    size_t adlen;
    ad_of(id, ad, &adlen);
    px_buf sealed = PX_BUF_INIT;
    int rc = px_buf_append(&sealed, MAGIC, MAGIC_LEN, err);
    if (!rc)
        rc = px_aead_encrypt(&sealed, object->data, object->len, ad, adlen,
                             id->key, err);
    /* Written to a temporary name, synced and renamed: concurrent compiles
     * of one module both succeed and a reader never sees a partial entry
     * (a partial one would fail authentication anyway). */
    if (!rc)
        rc = px_file_write_atomic(path, sealed.data, sealed.len, 0600, err);
    px_buf_free(&sealed);
    return rc;
}

static int all_hex(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

void px_sb_remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[PX_SANDBOX_PATH_MAX];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                px_sb_path_join(p, dir, e->d_name, NULL) == 0)
                unlink(p);
        closedir(d);
    }
    rmdir(dir);
}

void px_sb_cache_sweep(const px_sandbox *sb) {
    DIR *d = opendir(sb->cache_dir);
    if (!d)
        return;
    struct dirent *e;
    char p[PX_SANDBOX_PATH_MAX];
    while ((e = readdir(d))) {
        const char *s = e->d_name;
        size_t n = strlen(s);
        int legacy_object = n == 64 + 1 + 16 + 3 && all_hex(s, 64) &&
                            s[64] == '-' && all_hex(s + 65, 16) &&
                            !strcmp(s + 81, ".so");
        int legacy_dir = n == 10 && !strncmp(s, "tmp-", 4);
        if (!(legacy_object || legacy_dir) ||
            px_sb_path_join(p, sb->cache_dir, s, NULL))
            continue;
        if (legacy_dir)
            px_sb_remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
}

void px_sb_work_sweep(const px_sandbox *sb) {
    static const char prefix[] = "pixiu-compile-";
    DIR *d = opendir(sb->work_dir);
    if (!d)
        return;
    struct dirent *e;
    char p[PX_SANDBOX_PATH_MAX];
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, sizeof prefix - 1))
            continue;
        char *end;
        long pid = strtol(e->d_name + sizeof prefix - 1, &end, 10);
        /* Only directories of processes that are gone: a live one may be
         * compiling right now. */
        if (pid <= 0 || *end != '-' || kill((pid_t)pid, 0) == 0 ||
            errno != ESRCH ||
            px_sb_path_join(p, sb->work_dir, e->d_name, NULL))
            continue;
        px_sb_remove_tree(p);
    }
    closedir(d);
}
