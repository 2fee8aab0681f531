/* The λ build as a node sees it: every file an instance runs, where it is,
 * and what it hashed to (the digests form the build of pixiu/tee.h).
 *
 * The node computes it once at start and checks each file's identity per
 * recruitment, hashing again what changed, so a runner swapped on disk
 * gives another build rather than running under the old one. The worker
 * is then handed the exact paths (INIT) and runs those, so what is
 * measured is what runs; the environment (PIXIU_WASM_RUNNER, PATH,
 * PIXIU_CACHE_DIR) is read here, on the node, and nowhere else. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pixiu/lambda.h"
#include "pixiu/sandbox.h"

#define HASH_TRIES 3

/* ---- files ------------------------------------------------------------------- */

static int identity(px_lambda_file *f, const char *path, px_err *err) {
    struct stat st;
    if (stat(path, &st) != 0)
        return px_fail(err, PX_E_NOTFOUND, "build component %s is gone", path);
    if (!S_ISREG(st.st_mode))
        return px_fail(err, PX_E_INVALID, "build component %s is not a regular file", path);
    f->dev = (uint64_t)st.st_dev;
    f->ino = (uint64_t)st.st_ino;
    f->size = (uint64_t)st.st_size;
    f->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    f->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
    return 0;
}

static int same_identity(const px_lambda_file *a, const px_lambda_file *b) {
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
           a->ctime_ns == b->ctime_ns;
}

/* Hash a file and record the identity it had, which must be the same before
 * and after reading: a file being replaced is read again. */
static int hash_file(px_lambda_file *f, uint8_t out[PX_SHA256_BYTES], px_err *err) {
    for (int i = 0; i < HASH_TRIES; i++) {
        px_lambda_file before = *f, after = *f;
        if (identity(&before, f->path, err) || px_tee_file_digest(out, f->path, err) ||
            identity(&after, f->path, err))
            return -1;
        if (same_identity(&before, &after)) {
            *f = after;
            return 0;
        }
    }
    return px_fail(err, PX_E_UNAVAILABLE, "build component %s keeps changing while it is hashed", f->path);
}

int px_lambda_build_add(px_lambda_build *b, const char *name, const uint8_t sha256[PX_SHA256_BYTES],
                        const char *path, px_err *err) {
    if (!path || path[0] != '/' || strlen(path) >= PX_LAMBDA_PATH_MAX)
        return px_fail(err, PX_E_INVALID, "build component \"%.60s\" needs an absolute path", name);
    size_t i = b->build.n;
    if (px_tee_build_add(&b->build, name, sha256, err))
        return -1;
    memset(&b->files[i], 0, sizeof b->files[i]);
    if (!(b->files[i].path = strdup(path))) {
        b->build.n--;
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    return 0;
}

int px_lambda_build_seal(px_lambda_build *b, px_err *err) {
    return px_tee_build_digest(b->digest, &b->build, err);
}

/* Hash a file now and add it under name. */
static int add_file(px_lambda_build *b, const char *name, const char *path, px_err *err) {
    px_lambda_file f = {.path = (char *)path};
    uint8_t d[PX_SHA256_BYTES];
    if (hash_file(&f, d, err) || px_lambda_build_add(b, name, d, path, err))
        return px_err_prefix(err, "build component \"%s\": ", name);
    f.path = b->files[b->build.n - 1].path;
    b->files[b->build.n - 1] = f;
    return 0;
}

/* ---- what the sandbox runs ------------------------------------------------------- */

/* Every file of the sandbox that shapes what a task compiles to and runs
 * with, in the sandbox's fixed order (docs/sandbox.md). */
static int sandbox_files(px_lambda_build *b, const px_sandbox *sb, px_err *err) {
    size_t n = 0;
    px_sandbox_component *c = calloc(PX_SANDBOX_COMPONENTS_MAX, sizeof *c);
    int rc = c ? px_sandbox_components(sb, c, PX_SANDBOX_COMPONENTS_MAX, &n, err)
               : px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = add_file(b, c[i].name, c[i].path, err);
    free(c);
    return rc;
}

/* The worker binary as given, made absolute (it is what the node starts). */
static int worker_file(const char *worker_path, char *out, size_t cap, px_err *err) {
    char cwd[PATH_MAX];
    int n = worker_path[0] == '/'      ? snprintf(out, cap, "%s", worker_path)
            : getcwd(cwd, sizeof cwd) ? snprintf(out, cap, "%s/%s", cwd, worker_path)
                                      : -1;
    if (n < 0 || (size_t)n >= cap || access(out, X_OK) != 0)
        return px_fail(err, PX_E_NOTFOUND, "worker %s is not an executable file", worker_path);
    return 0;
}

int px_lambda_build_init(px_lambda_build *b, const char *worker_path, px_err *err) {
    memset(b, 0, sizeof *b);
    char worker[PX_LAMBDA_PATH_MAX];
    px_sandbox sb;
    int rc = px_tee_build_init(&b->build, NULL, err) || worker_file(worker_path, worker, sizeof worker, err) ||
             add_file(b, "worker", worker, err) || px_sandbox_init_tools(&sb, NULL, err) ||
             sandbox_files(b, &sb, err) || px_lambda_build_seal(b, err);
    if (rc == 0 && (size_t)snprintf(b->cache_dir, sizeof b->cache_dir, "%s", sb.cache_dir) >= sizeof b->cache_dir)
        rc = px_fail(err, PX_E_LIMIT, "cache directory path too long");
    if (rc) {
        px_lambda_build_free(b);
        return px_err_prefix(err, "the λ build: ");
    }
    return 0;
}

int px_lambda_build_refresh(px_lambda_build *b, int *changed, px_err *err) {
    int any = 0;
    for (size_t i = 0; i < b->build.n; i++) {
        px_lambda_file now = b->files[i];
        if (identity(&now, now.path, err))
            return px_err_prefix(err, "the λ build: ");
        if (same_identity(&now, &b->files[i]))
            continue;
        if (hash_file(&b->files[i], b->build.c[i].sha256, err))
            return px_err_prefix(err, "the λ build: ");
        any = 1;
    }
    if (any && px_lambda_build_seal(b, err))
        return -1;
    if (changed)
        *changed = any;
    return 0;
}

const char *px_lambda_build_path(const px_lambda_build *b, const char *name) {
    const px_tee_component *c = px_tee_build_find(&b->build, name);
    return c ? b->files[c - b->build.c].path : NULL;
}

int px_lambda_build_copy(px_lambda_build *dst, const px_lambda_build *src, px_err *err) {
    memcpy(dst, src, sizeof *dst);
    for (size_t i = 0; i < src->build.n; i++)
        dst->files[i].path = NULL;
    for (size_t i = 0; i < src->build.n; i++)
        if (!(dst->files[i].path = strdup(src->files[i].path))) {
            px_lambda_build_free(dst);
            return px_fail(err, PX_E_NOMEM, "out of memory");
        }
    return 0;
}

void px_lambda_build_free(px_lambda_build *b) {
    if (!b)
        return;
    for (size_t i = 0; i < b->build.n && i < PX_TEE_BUILD_MAX; i++)
        free(b->files[i].path);
    memset(b, 0, sizeof *b);
}

int px_lambda_build_sandbox(const px_lambda_build *b, px_sandbox *sb, px_err *err) {
    px_sandbox_tools t = {.cache_dir = b->cache_dir[0] ? b->cache_dir : NULL,
                          .runner = px_lambda_build_path(b, "runner"),
                          .wasm2c = px_lambda_build_path(b, "wasm2c"),
                          .cc = px_lambda_build_path(b, "cc"),
                          .sweep_later = 1};
    if (!t.runner || !t.wasm2c || !t.cc)
        return px_fail(err, PX_E_INVALID, "the build names no %s", !t.runner ? "runner" : !t.wasm2c ? "wasm2c" : "cc");
    return px_sandbox_init_tools(sb, &t, err) ? px_err_prefix(err, "sandbox: ") : 0;
}
