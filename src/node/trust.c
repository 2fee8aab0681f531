/* Trust roots from the membership file: whose platform key vouches for
 * instances on which node, whose key signs which POD's releases, and which
 * worker builds are accepted in measurements. */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "node/node.h"

int px_node_sibling_path(char *out, size_t cap, const char *name, px_err *err) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return px_fail(err, PX_E_IO, "cannot find the running executable");
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    if (snprintf(out, cap, "%s/%s", self, name) >= (int)cap)
        return px_fail(err, PX_E_LIMIT, "path of %s too long", name);
    return 0;
}

static int worker_digest(uint8_t out[PX_SHA256_BYTES], const char *arg, px_err *err) {
    if (strlen(arg) == 2 * PX_SHA256_BYTES && px_hex_decode_exact(out, PX_SHA256_BYTES, arg, strlen(arg), NULL) == 0)
        return 0;
    if (px_tee_file_digest(out, arg, err))
        return px_err_prefix(err, "worker build %s: ", arg);
    return 0;
}

static int add_workers(px_node_trust *t, char *const *workers, size_t n, px_err *err) {
    char self[PATH_MAX];
    char *dflt[1] = {self};
    if (n == 0) {
        if (px_node_sibling_path(self, sizeof self, "pixiu_worker", err))
            return -1;
        workers = dflt;
        n = 1;
    }
    if (!(t->workers = calloc(n, sizeof *t->workers)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (worker_digest(t->workers[i], workers[i], err))
            return -1;
    t->nworkers = n;
    return 0;
}

int px_node_trust_init(px_node_trust *t, const px_membership *m, char *const *workers, size_t nworkers,
                       px_err *err) {
    memset(t, 0, sizeof *t);
    t->platforms = calloc(m->n + 1, sizeof *t->platforms);
    t->pods = calloc(m->n + 1, sizeof *t->pods);
    if (!t->platforms || !t->pods) {
        px_node_trust_free(t);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < m->n; i++) {
        const px_member *n = &m->nodes[i];
        if (n->has_platform) {
            memcpy(t->platforms[t->nplatforms].id, n->id, strlen(n->id) + 1);
            t->platforms[t->nplatforms++].platform = n->platform;
        }
        if (n->roles & PX_ROLE_POD) {
            memcpy(t->pods[t->npods].id, n->id, strlen(n->id) + 1);
            memcpy(t->pods[t->npods++].sign_pk, n->signing.pk, PX_SIGN_PUBLICKEYBYTES);
        }
    }
    if (add_workers(t, workers, nworkers, err)) {
        px_node_trust_free(t);
        return -1;
    }
    t->exec = (px_exec_trust){t->platforms, t->nplatforms, (const uint8_t(*)[PX_SHA256_BYTES])t->workers,
                              t->nworkers};
    return 0;
}

void px_node_trust_free(px_node_trust *t) {
    if (!t)
        return;
    free(t->platforms);
    free(t->pods);
    free(t->workers);
    memset(t, 0, sizeof *t);
}
