/* Trust roots from the membership: whose platform key vouches for
 * instances on which node, whose key signs which POD's releases; and the
 * builds accepted in measurements, by default this machine's own. */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "node/node.h"

int px_node_sibling_path(char *out, size_t cap, const char *name, px_err *err) {
    return px_file_installed("libexec", name, out, cap, err);
}

int px_node_build(px_lambda_build **out, const char *worker, px_err *err) {
    char self[PATH_MAX];
    if (!worker || !worker[0]) {
        if (px_node_sibling_path(self, sizeof self, "pixiu_worker", err))
            return -1;
        worker = self;
    }
    px_lambda_build *b = calloc(1, sizeof *b);
    if (!b)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    if (px_lambda_build_init(b, worker, err)) {
        free(b);
        return -1;
    }
    *out = b;
    return 0;
}

void px_node_build_free(px_lambda_build *b) {
    px_lambda_build_free(b);
    free(b);
}

void px_node_build_print(FILE *f, const px_lambda_build *b, int json) {
    char hex[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(hex, b->digest, PX_SHA256_BYTES);
    if (!json) {
        fprintf(f, "build %s\nversion %s\n", hex, b->build.version);
        for (size_t i = 0; i < b->build.n; i++) {
            px_hex_encode(hex, b->build.c[i].sha256, PX_SHA256_BYTES);
            fprintf(f, "%s  %s  %s\n", hex, b->build.c[i].name, b->files[i].path);
        }
        return;
    }
    json_t *o = json_pack("{s:s,s:s,s:[]}", "build", hex, "version", b->build.version, "components");
    json_t *arr = json_object_get(o, "components");
    for (size_t i = 0; arr && i < b->build.n; i++) {
        px_hex_encode(hex, b->build.c[i].sha256, PX_SHA256_BYTES);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "name", b->build.c[i].name, "sha256", hex, "path",
                                             b->files[i].path));
    }
    px_buf out = PX_BUF_INIT;
    if (o && px_json_dump(o, &out, NULL) == 0)
        fprintf(f, "%.*s\n", (int)out.len, (const char *)out.data);
    px_buf_free(&out);
    json_decref(o);
}

int px_node_builds_parse(uint8_t (*out)[PX_SHA256_BYTES], char *const *hex, size_t n, px_err *err) {
    for (size_t i = 0; i < n; i++)
        if (strlen(hex[i]) != 2 * PX_SHA256_BYTES ||
            px_hex_decode_exact(out[i], PX_SHA256_BYTES, hex[i], strlen(hex[i]), NULL))
            return px_fail(err, PX_E_INVALID, "build \"%.70s\" is not a hex SHA-256 digest (see `pixiu build`)",
                           hex[i]);
    return 0;
}

int px_node_trust_init(px_node_trust *t, const px_membership *m, const uint8_t (*builds)[PX_SHA256_BYTES],
                       size_t nbuilds, const px_tee_build *reference, px_err *err) {
    memset(t, 0, sizeof *t);
    t->platforms = calloc(m->n + 1, sizeof *t->platforms);
    t->pods = calloc(m->n + 1, sizeof *t->pods);
    t->builds = calloc(nbuilds + 1, sizeof *t->builds);
    if (!t->platforms || !t->pods || !t->builds) {
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
    if (nbuilds)
        memcpy(t->builds, builds, nbuilds * sizeof *t->builds);
    t->nbuilds = nbuilds;
    t->exec = (px_exec_trust){t->platforms, t->nplatforms, (const uint8_t(*)[PX_SHA256_BYTES])t->builds, t->nbuilds,
                              reference};
    return 0;
}

void px_node_trust_free(px_node_trust *t) {
    if (!t)
        return;
    free(t->platforms);
    free(t->pods);
    free(t->builds);
    memset(t, 0, sizeof *t);
}

int px_node_log_url(const px_membership *m, const char *given, char *out, size_t cap, px_err *err) {
    if (!given) {
        const px_member *log = px_node_find_role(m, PX_ROLE_LOG);
        if (!log)
            return px_fail(err, PX_E_INVALID, "the membership names no log node: give --log URL");
        given = log->url;
    }
    return px_logread_resolve(given, out, cap, err);
}
