/* One POD's path through a plan: the instances its data can pass through,
 * each with its inclusion proof under the root the consumer signed in the
 * plan head (docs/executor.md, "Plan paths").
 *
 * A whole plan grows with its task: the manifest lists the PODs, and each
 * first-stage partition's config lists its PODs' keys. When every POD
 * checks every instance, a task's admission costs the square of its size.
 * A POD's data goes to one first-stage partition per dataset it is in and
 * from there to what that partition feeds, stage by stage
 * (px_manifest_feeds: partition q to partition q between stages of equal
 * partitions, all to all otherwise), so that is all a path holds; the
 * instances only other PODs' data reaches are left out. With stages at the
 * PODs the path starts from every partition of the first executor stage
 * (those tasks have few executor instances).
 *
 *   {"envelope": base64 manifest envelope,
 *    "head": base64 plan head envelope,
 *    "instances": [{"index": leaf, "proof": [hex, ...], "instance": {...}}]}
 *
 * The leaf of a (stage, partition) is fixed by the manifest, so a path
 * cannot pass one instance off as another's, and its instances must be
 * exactly the ones the POD's path needs: no fewer (a later partition left
 * out could hide where the data goes) and no others. What the path's
 * configs name as successors must be on the path too (px_plan_check), so
 * a consumer that wired otherwise than px_manifest_feeds says is refused. */
#include <stdlib.h>
#include <string.h>

#include "exec/planhead.h"

#define PATH_KEYS {"envelope", "head", "instances", NULL}

/* The instances on the POD's path, by (stage, partition): the first
 * executor stage's partitions each of its datasets deals it to (by its
 * position in the dataset's list, as the POD releases; all of them with
 * stages at the PODs), then whatever those feed, stage by stage. */
typedef struct px_path_set {
    uint8_t on[PX_MANIFEST_MAX_STAGES][PX_PLAN_MAX_INSTANCES];
} px_path_set;

static void path_set(const px_manifest *m, const char *pod, px_path_set *ps) {
    uint32_t k0 = px_manifest_pod_stages(m);
    memset(ps, 0, sizeof *ps);
    if (k0 >= m->nstages)
        return;
    uint32_t parts = m->stages[k0].partitions;
    for (uint32_t q = 0; k0 && q < parts; q++)
        ps->on[k0][q] = 1;
    for (size_t d = 0; !k0 && d < m->ndatasets; d++)
        for (size_t k = 0; k < m->datasets[d].npods; k++)
            if (!strcmp(m->datasets[d].pods[k], pod))
                ps->on[k0][k % parts] = 1;
    for (uint32_t s = k0 + 1; s < m->nstages; s++)
        for (uint32_t a = 0; a < m->stages[s - 1].partitions; a++)
            for (uint32_t b = 0; ps->on[s - 1][a] && b < m->stages[s].partitions; b++)
                if (px_manifest_feeds(m, s - 1, a, b))
                    ps->on[s][b] = 1;
}

static int on_path(const px_path_set *ps, uint32_t stage, uint32_t partition) {
    return stage < PX_MANIFEST_MAX_STAGES && partition < PX_PLAN_MAX_INSTANCES && ps->on[stage][partition];
}

/* ---- building (the consumer's dispatcher) ---------------------------------- */

static int path_instance(json_t *arr, const px_plan *p, const uint8_t *leaves, size_t i, px_err *err) {
    px_buf proof = PX_BUF_INIT;
    json_t *o = json_object(), *in = json_object(), *hs = json_array();
    int rc = px_x_append(arr, o, err) || px_x_set(o, "index", json_integer((json_int_t)i), err) ||
             px_x_set(o, "proof", hs, err) || px_x_set(o, "instance", in, err) ||
             px_x_plan_instance_json(in, &p->instances[i], err) ||
             px_x_plan_prove(&proof, leaves, p->ninstances, i, err);
    for (size_t k = 0; rc == 0 && k < proof.len / PX_SHA256_BYTES; k++) {
        char hex[2 * PX_SHA256_BYTES + 1];
        px_hex_encode(hex, proof.data + k * PX_SHA256_BYTES, PX_SHA256_BYTES);
        rc = px_x_append(hs, json_string(hex), err);
    }
    px_buf_free(&proof);
    return rc ? -1 : 0;
}

int px_plan_path(px_buf *out, const px_plan *p, const char *pod, px_err *err) {
    const px_manifest *m = &p->manifest;
    if (p->is_path || !p->leaves)
        return px_fail(err, PX_E_INVALID, "a path is cut from a whole plan, not from another path");
    if (!px_manifest_has_pod(m, pod))
        return px_fail(err, PX_E_INVALID, "the manifest does not ask POD %s", pod);
    px_path_set ps;
    path_set(m, pod, &ps);
    json_t *o = json_object(), *arr = NULL;
    int rc = o ? 0 : px_fail(err, PX_E_NOMEM, "out of memory building a plan path");
    if (rc == 0)
        rc = px_x_set_b64(o, "envelope", m->envelope.data, m->envelope.len, err) ||
             px_x_set_b64(o, "head", p->head.data, p->head.len, err) ||
             px_x_set(o, "instances", arr = json_array(), err);
    for (size_t i = 0; rc == 0 && i < p->ninstances; i++)
        if (on_path(&ps, p->instances[i].stage, p->instances[i].partition))
            rc = path_instance(arr, p, p->leaves, i, err);
    if (rc == 0)
        rc = px_json_dump(o, out, err);
    json_decref(o);
    return rc ? -1 : 0;
}

/* ---- reading (the POD) ------------------------------------------------------- */

static int proof_read(const json_t *o, uint8_t *proof, size_t *n, px_err *err) {
    json_t *arr, *v;
    size_t i;
    if (px_x_arr(o, "proof", 0, PX_LOG_MAX_PROOF, &arr, err))
        return -1;
    json_array_foreach(arr, i, v) {
        if (px_x_hex_value(v, "a proof hash", proof + i * PX_SHA256_BYTES, PX_SHA256_BYTES, err))
            return -1;
    }
    *n = json_array_size(arr);
    return 0;
}

/* One instance of the path: where the manifest puts it, included there. */
static int instance_take(px_plan *p, px_plan_instance *in, const json_t *o, px_err *err) {
    static const char *const keys[] = {"index", "proof", "instance", NULL};
    const px_manifest *m = &p->manifest;
    uint8_t proof[PX_LOG_MAX_PROOF * PX_SHA256_BYTES], leaf[PX_SHA256_BYTES];
    size_t nproof;
    int64_t index;
    json_t *body;
    if (px_json_only(o, "path instance", keys, err) || px_json_int(o, "index", &index, err) ||
        proof_read(o, proof, &nproof, err) || px_x_obj(o, "instance", &body, err) ||
        px_x_plan_instance_read(in, body, err))
        return -1;
    if (in->stage < px_manifest_pod_stages(m) || in->stage >= m->nstages ||
        in->partition >= m->stages[in->stage].partitions)
        return px_fail(err, PX_E_INVALID, "stage %u partition %u is not an executor instance of the manifest",
                       in->stage, in->partition);
    if (index < 0 || (size_t)index != px_x_plan_slot(m, in->stage, in->partition))
        return px_fail(err, PX_E_VERIFY, "stage %u partition %u claims leaf %lld, the manifest puts it at %zu",
                       in->stage, in->partition, (long long)index, px_x_plan_slot(m, in->stage, in->partition));
    px_x_plan_leaf(leaf, in);
    if (px_log_verify_inclusion((uint64_t)index, p->total, leaf, proof, nproof, p->root, err))
        return px_err_prefix(err, "stage %u partition %u is not in the plan its head signs: ", in->stage,
                             in->partition);
    in->index = (uint32_t)index;
    return 0;
}

/* The path holds exactly the POD's instances, in leaf order. */
static int path_complete(const px_plan *p, const char *pod, px_err *err) {
    const px_manifest *m = &p->manifest;
    px_path_set ps;
    path_set(m, pod, &ps);
    size_t k = 0;
    for (uint32_t s = px_manifest_pod_stages(m); s < m->nstages; s++)
        for (uint32_t q = 0; q < m->stages[s].partitions; q++) {
            if (!on_path(&ps, s, q))
                continue;
            if (k >= p->ninstances || p->instances[k].stage != s || p->instances[k].partition != q)
                return px_fail(err, PX_E_INVALID, "the path leaves out stage %u (%s) partition %u, which this "
                               "POD's data can reach", s, px_manifest_kind_name(m->stages[s].kind), q);
            k++;
        }
    if (k != p->ninstances)
        return px_fail(err, PX_E_INVALID, "the path holds stage %u partition %u, which is not on this POD's path "
                       "or is listed twice", p->instances[k].stage, p->instances[k].partition);
    return 0;
}

static int path_read(px_plan *p, const json_t *o, const char *pod, px_err *err) {
    static const char *const keys[] = PATH_KEYS;
    px_buf b = PX_BUF_INIT;
    json_t *arr, *v;
    size_t i;
    if (px_json_only(o, "plan path", keys, err))
        return -1;
    int rc = px_json_b64(o, "envelope", &b, err) || px_manifest_parse(&p->manifest, b.data, b.len, err);
    px_buf_free(&b);
    if (rc)
        return -1;
    if (!px_manifest_has_pod(&p->manifest, pod))
        return px_fail(err, PX_E_DENIED, "the manifest does not ask this POD (%s)", pod);
    rc = px_json_b64(o, "head", &b, err) || px_x_plan_head_read(p, b.data, b.len, err);
    px_buf_free(&b);
    if (rc || px_x_arr(o, "instances", 1, PX_PLAN_MAX_INSTANCES, &arr, err))
        return -1;
    if (!(p->instances = calloc(json_array_size(arr), sizeof *p->instances)))
        return px_fail(err, PX_E_NOMEM, "out of memory reading a plan path");
    json_array_foreach(arr, i, v) {
        p->ninstances = i + 1;
        if (instance_take(p, &p->instances[i], v, err))
            return px_err_prefix(err, "instance %zu: ", i);
    }
    return path_complete(p, pod, err);
}

int px_plan_path_parse(px_plan *p, const void *path, size_t len, const char *pod, px_err *err) {
    memset(p, 0, sizeof *p);
    p->is_path = 1;
    if (len > PX_PLAN_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "plan path of %zu bytes exceeds %u", len, PX_PLAN_MAX_BYTES);
    json_t *o = px_json_parse(path, len, PX_PLAN_MAX_BYTES, err);
    int rc = o ? path_read(p, o, pod, err) : -1;
    json_decref(o);
    if (rc) {
        px_plan_free(p);
        return px_err_prefix(err, "plan path: ");
    }
    return 0;
}
