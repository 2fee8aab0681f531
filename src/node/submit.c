/* The public way to run a task and check its receipt (pixiu/node.h): the
 * consumer's dispatcher and the offline receipt check, from the files a
 * node already has (its config, its key, the membership). */
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

int px_node_submit(const char *node_config, const void *tmpl, size_t len, const uint8_t *code, size_t code_len,
                   FILE *progress, px_submit_result *r, px_err *err) {
    px_node_config cfg;
    px_signer key;
    px_membership mem = {0};
    memset(r, 0, sizeof *r);
    if (px_node_config_load(&cfg, node_config, err))
        return -1;
    if (px_signer_load(&key, cfg.key, err))
        return -1;
    int rc = -1;
    if (px_membership_load(&mem, cfg.membership, err) == 0) {
        px_submit_opts o = {cfg.id, &key, &mem, code, code_len, NULL, 0, progress, NULL, 0, NULL, 0};
        rc = px_submit(&o, tmpl, len, r, err);
        px_membership_free(&mem);
    }
    px_signer_wipe(&key);
    return rc;
}

/* Every witness of the membership, as the cosigner its signing key is. */
static px_cosigner *witnesses(const px_membership *m, size_t *n) {
    px_cosigner *w = calloc(m->n + 1, sizeof *w);
    *n = 0;
    for (size_t i = 0; w && i < m->n; i++) {
        const px_member *x = &m->nodes[i];
        if (!(x->roles & PX_ROLE_WITNESS))
            continue;
        memcpy(w[*n].name, x->signing.name, sizeof w[*n].name);
        memcpy(w[*n].pk, x->signing.pk, sizeof w[*n].pk);
        w[*n].id = px_cosig_key_id(w[*n].name, w[*n].pk);
        (*n)++;
    }
    return w;
}

/* Every POD of the membership with its release key. */
static px_node_key *pods(const px_membership *m, size_t *n) {
    px_node_key *k = calloc(m->n + 1, sizeof *k);
    *n = 0;
    for (size_t i = 0; k && i < m->n; i++)
        if (m->nodes[i].roles & PX_ROLE_POD) {
            snprintf(k[*n].id, sizeof k[*n].id, "%s", m->nodes[i].id);
            k[(*n)++].key = m->nodes[i].signing;
        }
    return k;
}

int px_node_receipt_verify(const char *membership, const void *receipt, size_t len, px_receipt_summary *s,
                           px_err *err) {
    px_membership m = {0};
    px_lambda_build *own = NULL;
    px_node_trust t;
    if (px_membership_load(&m, membership, err))
        return -1;
    const px_member *log = px_node_find_role(&m, PX_ROLE_LOG);
    if (!log) {
        px_membership_free(&m);
        return px_fail(err, PX_E_INVALID, "membership %s names no log", membership);
    }
    if (px_node_build(&own, NULL, err) ||
        px_node_trust_init(&t, &m, (const uint8_t(*)[PX_SHA256_BYTES])&own->digest, 1, &own->build, err)) {
        if (own)
            px_node_build_free(own);
        px_membership_free(&m);
        return -1;
    }
    size_t nw = 0, np = 0;
    px_cosigner *w = witnesses(&m, &nw);
    px_node_key *pk = pods(&m, &np);
    int rc;
    if (!w || !pk) {
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    } else {
        px_receipt_root root = {.log_key = &log->signing, .pods = pk, .npods = np,
                                .platforms = t.platforms, .nplatforms = t.nplatforms,
                                .builds = (const uint8_t(*)[PX_SHA256_BYTES])&own->digest, .nbuilds = 1,
                                .witnesses = w, .nwitnesses = nw, .min_witnesses = nw};
        rc = px_receipt_verify(receipt, len, &root, s, err);
    }
    free(w);
    free(pk);
    px_node_trust_free(&t);
    px_node_build_free(own);
    px_membership_free(&m);
    return rc;
}
