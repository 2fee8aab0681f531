/* The plan head: the part of a plan a POD needs signed to check one path
 * through it. It names the manifest, the plan's nonce and time, the number
 * of instances and the RFC 6962 Merkle root over one leaf per instance in
 * (stage, partition) order:
 *
 *   leaf(i) = "PXPI1" || stage (u32 BE) || partition (u32 BE) ||
 *             node length (u8) || node || recruit nonce (32) ||
 *             SHA-256(config) || SHA-256(evidence)
 *
 * hashed as an RFC 6962 leaf (0x00 prefix), so the log's tree code proves
 * and checks inclusion, and no JSON needs a canonical form. The config and
 * evidence enter as digests: a POD checks those of the instances on its
 * path, against their bytes, and nothing else. */
#include <stdlib.h>
#include <string.h>

#include "exec/planhead.h"

#define LEAF_MAGIC "PXPI1"
#define LEAF_MAGIC_LEN 5

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void px_x_plan_leaf(uint8_t out[PX_SHA256_BYTES], const px_plan_instance *in) {
    uint8_t b[LEAF_MAGIC_LEN + 8 + 1 + PX_NODE_ID_MAX + PX_TEE_NONCE_BYTES + 2 * PX_SHA256_BYTES];
    size_t nl = strlen(in->node), k = 0;
    memcpy(b, LEAF_MAGIC, LEAF_MAGIC_LEN);
    k += LEAF_MAGIC_LEN;
    put_be32(b + k, in->stage);
    put_be32(b + k + 4, in->partition);
    k += 8;
    b[k++] = (uint8_t)nl;
    memcpy(b + k, in->node, nl);
    k += nl;
    memcpy(b + k, in->nonce, PX_TEE_NONCE_BYTES);
    k += PX_TEE_NONCE_BYTES;
    px_sha256(b + k, in->config.data, in->config.len);
    k += PX_SHA256_BYTES;
    px_sha256(b + k, in->evidence.data, in->evidence.len);
    k += PX_SHA256_BYTES;
    px_log_leaf_hash(out, b, k);
}

int px_x_plan_leaves(uint8_t **out, const px_plan_instance *ins, size_t n, px_err *err) {
    uint8_t *h = malloc(n ? n * PX_SHA256_BYTES : 1);
    if (!h)
        return px_fail(err, PX_E_NOMEM, "out of memory hashing plan instances");
    for (size_t i = 0; i < n; i++)
        px_x_plan_leaf(h + i * PX_SHA256_BYTES, &ins[i]);
    *out = h;
    return 0;
}

/* ---- the instance tree's proofs ------------------------------------------ */

typedef struct leaves {
    const uint8_t *h;
    size_t n;
} leaves;

static int subtree(void *ctx, unsigned height, uint64_t index, uint8_t out[PX_LOG_HASH_BYTES], px_err *err) {
    const leaves *l = ctx;
    uint64_t lo = index << height, w = (uint64_t)1 << height;
    if (height >= 32 || lo >= l->n || w > l->n - lo)
        return px_fail(err, PX_E_INVALID, "no subtree of height %u at %llu in %zu instances", height,
                       (unsigned long long)index, l->n);
    px_log_root_from_hashes(out, l->h + lo * PX_SHA256_BYTES, w);
    return 0;
}

int px_x_plan_prove(px_buf *out, const uint8_t *hashes, size_t n, size_t index, px_err *err) {
    leaves l = {hashes, n};
    return px_log_prove_inclusion(subtree, &l, index, n, out, err);
}

/* Where each (stage, partition) sits in the tree: the instances of the
 * executor stages in order, each stage's partitions in order. */
size_t px_x_plan_slot(const px_manifest *m, uint32_t stage, uint32_t partition) {
    size_t k = 0;
    for (uint32_t s = px_manifest_pod_stages(m); s < stage && s < m->nstages; s++)
        k += m->stages[s].partitions;
    return k + partition;
}

size_t px_x_plan_slots(const px_manifest *m) {
    return px_x_plan_slot(m, (uint32_t)m->nstages, 0);
}

/* ---- signing and reading ----------------------------------------------------- */

int px_x_plan_head_sign(px_buf *out, const px_manifest *m, const uint8_t nonce[PX_NONCE_BYTES], int64_t created,
                        const uint8_t root[PX_SHA256_BYTES], size_t n, const px_signer *consumer, px_err *err) {
    json_t *pred = json_object();
    px_buf st = PX_BUF_INIT;
    px_subject subj = {.name = (char *)"manifest"};
    memcpy(subj.sha256, m->id, sizeof subj.sha256);
    int rc = pred ? 0 : px_fail(err, PX_E_NOMEM, "out of memory building a plan head");
    if (rc == 0)
        rc = px_x_set_hex(pred, "manifest", m->id, PX_SHA256_BYTES, err) ||
             px_x_set_hex(pred, "nonce", nonce, PX_NONCE_BYTES, err) ||
             px_x_set(pred, "created", json_integer(created), err) ||
             px_x_set(pred, "instances", json_integer((json_int_t)n), err) ||
             px_x_set_hex(pred, "root", root, PX_SHA256_BYTES, err) ||
             px_statement_build(&st, &subj, 1, PX_PLAN_HEAD_PREDICATE, pred, err) ||
             px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, consumer, 1, err);
    json_decref(pred);
    px_buf_free(&st);
    return rc ? -1 : 0;
}

static int head_fields(px_plan *p, const px_statement *st, px_err *err) {
    static const char *const keys[] = {"manifest", "nonce", "created", "instances", "root", NULL};
    const json_t *pred = st->predicate;
    uint8_t mid[PX_SHA256_BYTES];
    int64_t n;
    if (strcmp(st->predicate_type, PX_PLAN_HEAD_PREDICATE))
        return px_fail(err, PX_E_INVALID, "predicate type is not %s", PX_PLAN_HEAD_PREDICATE);
    if (px_json_only(pred, "plan head", keys, err) || px_json_hex(pred, "manifest", mid, sizeof mid, err) ||
        px_json_hex(pred, "nonce", p->nonce, sizeof p->nonce, err) || px_json_int(pred, "created", &p->created, err) ||
        px_json_int(pred, "instances", &n, err) || px_json_hex(pred, "root", p->root, sizeof p->root, err))
        return -1;
    if (!px_ct_equal(mid, p->manifest.id, sizeof mid) || st->nsubjects != 1 ||
        !px_ct_equal(st->subjects[0].sha256, mid, sizeof mid))
        return px_fail(err, PX_E_VERIFY, "it is not for this manifest");
    /* The tree holds one leaf per instance the manifest's stages need. */
    if (n < 1 || n > PX_PLAN_MAX_INSTANCES || (size_t)n != px_x_plan_slots(&p->manifest))
        return px_fail(err, PX_E_INVALID, "it counts %lld instances, the manifest's stages have %zu", (long long)n,
                       px_x_plan_slots(&p->manifest));
    p->total = (size_t)n;
    return 0;
}

int px_x_plan_head_read(px_plan *p, const void *env, size_t len, px_err *err) {
    px_dsse e;
    px_statement st;
    memset(&e, 0, sizeof e);
    memset(&st, 0, sizeof st);
    int rc = px_dsse_parse(&e, env, len, err);
    if (rc == 0 && strcmp(e.payload_type, PX_INTOTO_PAYLOAD_TYPE))
        rc = px_fail(err, PX_E_INVALID, "payload type is not %s", PX_INTOTO_PAYLOAD_TYPE);
    if (rc == 0)
        rc = px_statement_parse(&st, e.payload.data, e.payload.len, err) || head_fields(p, &st, err);
    if (rc == 0 && px_dsse_verify(&e, &p->manifest.consumer, err))
        rc = px_err_prefix(err, "not signed by the manifest's consumer: ");
    if (rc == 0) {
        px_sha256(p->id, env, len);
        px_buf_free(&p->head);
        rc = px_buf_append(&p->head, env, len, err);
    }
    px_statement_free(&st);
    px_dsse_free(&e);
    return rc ? px_err_prefix(err, "head: ") : 0;
}
