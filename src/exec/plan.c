/* Stage configs and the signed plan. A stage config is what an instance is
 * born with (its SHA-256 is part of the measurement), so the successor keys
 * it names are attested. The plan gathers, for one manifest, every
 * recruited instance's config and evidence under the consumer's signature;
 * it is an in-toto statement so the log indexes it under the manifest id. */
#include <stdlib.h>
#include <string.h>

#include "exec/planhead.h"

/* ---- stage config (format: pixiu/lambda.h) -------------------------------- */

static int append_keys(json_t *arr, const px_verifier *v, size_t n, px_err *err) {
    for (size_t i = 0; i < n; i++) {
        px_buf b = PX_BUF_INIT;
        int rc = px_verifier_format(&v[i], &b, err) || px_x_append(arr, json_stringn((char *)b.data, b.len), err);
        px_buf_free(&b);
        if (rc)
            return -1;
    }
    return 0;
}

int px_x_config_fill(json_t *c, const px_manifest *m, uint32_t stage, uint32_t partition,
                     const uint8_t (*succ)[PX_BOX_PUBLICKEYBYTES], size_t nsucc, const px_verifier *plat, size_t nplat,
                     const px_verifier *pods, size_t npods, const px_verifier *log_key, px_err *err) {
    const px_stage_spec *s = &m->stages[stage];
    json_t *st = json_object(), *arr = json_array(), *pred = json_object(), *pk = json_array(), *pp = json_array();
    if (px_x_set_hex(c, "manifest", m->id, sizeof m->id, err) || px_x_set(c, "stage", st, err) ||
        px_x_set(st, "index", json_integer(stage), err) ||
        px_x_set(st, "kind", json_string(px_manifest_kind_name(s->kind)), err) ||
        px_x_set(st, "partition", json_integer(partition), err) || px_x_set(c, "successors", arr, err) ||
        px_x_set(c, "predecessors", pred, err) || px_x_set(pred, "platform_keys", pk, err) ||
        px_x_set(pred, "min_level", json_integer(stage ? m->stages[stage - 1].min_level : 0), err) ||
        px_x_set(pred, "pods", pp, err))
        return -1;
    /* The stage after stages at the PODs takes one input per POD node. */
    if (stage > 0 && m->stages[stage - 1].at_pod && !s->at_pod &&
        px_x_set(pred, "one_per_node", json_true(), err))
        return -1;
    for (size_t i = 0; i < nsucc; i++) {
        char hex[2 * PX_BOX_PUBLICKEYBYTES + 1];
        px_hex_encode(hex, succ[i], PX_BOX_PUBLICKEYBYTES);
        if (px_x_append(arr, json_string(hex), err))
            return -1;
    }
    if (append_keys(pk, plat, nplat, err) || append_keys(pp, pods, npods, err))
        return -1;
    /* Release after log: the instance is shown its statements under this
     * key and releases nothing after the manifest's deadline. */
    px_buf lk = PX_BUF_INIT;
    int rc = px_verifier_format(log_key, &lk, err) || px_x_set(c, "log", json_stringn((char *)lk.data, lk.len), err) ||
             px_x_set(c, "deadline", json_integer(m->deadline), err);
    px_buf_free(&lk);
    if (rc)
        return -1;
    if (!px_limits_empty(&s->limits) && px_x_set(c, "limits", px_limits_json(&s->limits), err))
        return -1;
    if (s->at_pod && (px_x_set(c, "at", json_string("pod"), err) ||
                      (s->pad_ms && px_x_set(c, "pad_ms", json_integer(s->pad_ms), err))))
        return -1;
    if (s->params && px_x_set(c, "params", json_deep_copy(s->params), err))
        return -1;
    return 0;
}

int px_plan_config_build(px_buf *out, const px_manifest *m, uint32_t stage, uint32_t partition,
                          const uint8_t (*successors)[PX_BOX_PUBLICKEYBYTES], size_t nsuccessors,
                          const px_verifier *platform_keys, size_t nplatform, const px_verifier *pods, size_t npods,
                          const px_verifier *log_key, px_err *err) {
    if (stage >= m->nstages || partition >= m->stages[stage].partitions)
        return px_fail(err, PX_E_INVALID, "stage %u partition %u is not in the manifest", stage, partition);
    if (nsuccessors == 0 || nsuccessors > PX_LAMBDA_MAX_SUCCESSORS)
        return px_fail(err, PX_E_INVALID, "a stage needs 1 to %d successor keys", PX_LAMBDA_MAX_SUCCESSORS);
    if (nplatform > PX_LAMBDA_MAX_TRUSTED || npods > PX_LAMBDA_MAX_TRUSTED || nplatform + npods == 0)
        return px_fail(err, PX_E_INVALID, "a stage must trust 1 to %d platform or POD keys", PX_LAMBDA_MAX_TRUSTED);
    json_t *c = json_object();
    if (!c)
        return px_fail(err, PX_E_NOMEM, "out of memory building a stage config");
    int rc = px_x_config_fill(c, m, stage, partition, successors, nsuccessors, platform_keys, nplatform, pods, npods,
                              log_key, err);
    if (rc == 0)
        rc = px_json_dump(c, out, err);
    json_decref(c);
    return rc;
}

/* ---- plan: signing -------------------------------------------------------- */

int px_x_plan_instance_json(json_t *o, const px_plan_instance *in, px_err *err) {
    if (px_x_set(o, "stage", json_integer(in->stage), err) ||
        px_x_set(o, "partition", json_integer(in->partition), err) ||
        px_x_set(o, "node", json_string(in->node), err) || px_x_set_hex(o, "nonce", in->nonce, PX_TEE_NONCE_BYTES, err) ||
        px_x_set_b64(o, "config", in->config.data, in->config.len, err) ||
        px_x_set_b64(o, "evidence", in->evidence.data, in->evidence.len, err))
        return -1;
    return 0;
}

static int instance_cmp(const void *a, const void *b) {
    const px_plan_instance *x = a, *y = b;
    if (x->stage != y->stage)
        return x->stage < y->stage ? -1 : 1;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

/* The plan's predicate: the manifest, the signed head, the instances in
 * (stage, partition) order, the order of the head's tree. */
static int plan_predicate(json_t *p, const px_manifest *m, const px_buf *head, const px_plan_instance *ins, size_t n,
                          px_err *err) {
    json_t *arr = json_array();
    if (px_x_set_hex(p, "manifest", m->id, sizeof m->id, err) ||
        px_x_set_b64(p, "envelope", m->envelope.data, m->envelope.len, err) ||
        px_x_set_b64(p, "head", head->data, head->len, err) || px_x_set(p, "instances", arr, err))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (px_x_append(arr, json_object(), err) || px_x_plan_instance_json(json_array_get(arr, i), &ins[i], err))
            return -1;
    return 0;
}

/* The head over the sorted instances, then the plan around it. */
static int sign_sorted(px_buf *out, const px_manifest *m, const px_plan_instance *ins, size_t n,
                       const px_signer *consumer, px_err *err) {
    uint8_t nonce[PX_NONCE_BYTES], root[PX_SHA256_BYTES], *leaves = NULL;
    px_random(nonce, sizeof nonce);
    if (px_x_plan_leaves(&leaves, ins, n, err))
        return -1;
    px_log_root_from_hashes(root, leaves, n);
    free(leaves);
    json_t *pred = json_object();
    px_buf head = PX_BUF_INIT, stmt = PX_BUF_INIT;
    px_subject subj = {.name = (char *)"manifest"};
    memcpy(subj.sha256, m->id, sizeof subj.sha256);
    int rc = pred ? 0 : px_fail(err, PX_E_NOMEM, "out of memory building a plan");
    if (rc == 0)
        rc = px_x_plan_head_sign(&head, m, nonce, px_now_ms(), root, n, consumer, err) ||
             plan_predicate(pred, m, &head, ins, n, err) ||
             px_statement_build(&stmt, &subj, 1, PX_PLAN_PREDICATE, pred, err) ||
             px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, stmt.data, stmt.len, consumer, 1, err);
    json_decref(pred);
    px_buf_free(&head);
    px_buf_free(&stmt);
    return rc ? -1 : 0;
}

int px_plan_sign(px_buf *out, const px_manifest *m, const px_plan_instance *instances, size_t n,
                 const px_signer *consumer, px_err *err) {
    if (n == 0 || n > PX_PLAN_MAX_INSTANCES)
        return px_fail(err, PX_E_INVALID, "a plan needs 1 to %d instances", PX_PLAN_MAX_INSTANCES);
    px_plan_instance *sorted = malloc(n * sizeof *sorted); /* shallow: the bytes stay the caller's */
    if (!sorted)
        return px_fail(err, PX_E_NOMEM, "out of memory building a plan");
    memcpy(sorted, instances, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, instance_cmp);
    int rc = sign_sorted(out, m, sorted, n, consumer, err);
    free(sorted);
    return rc;
}

/* ---- plan: parsing ------------------------------------------------------- */

int px_x_plan_instance_read(px_plan_instance *in, const json_t *o, px_err *err) {
    static const char *const keys[] = {"stage", "partition", "node", "nonce", "config", "evidence", NULL};
    int64_t stage, part;
    if (px_json_only(o, "plan instance", keys, err) || px_json_int(o, "stage", &stage, err) ||
        px_json_int(o, "partition", &part, err) || px_x_strcpy(o, "node", in->node, sizeof in->node, err) ||
        px_json_hex(o, "nonce", in->nonce, sizeof in->nonce, err) || px_json_b64(o, "config", &in->config, err) ||
        px_json_b64(o, "evidence", &in->evidence, err))
        return -1;
    if (stage < 0 || stage >= PX_MANIFEST_MAX_STAGES || part < 0 || part >= PX_PLAN_MAX_INSTANCES)
        return px_fail(err, PX_E_INVALID, "stage or partition out of range");
    if (!px_id_valid(in->node))
        return px_fail(err, PX_E_INVALID, "invalid node id");
    if (in->config.len > PX_STAGE_CONFIG_MAX_BYTES || in->evidence.len > PX_EVIDENCE_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "config or evidence too large");
    in->stage = (uint32_t)stage;
    in->partition = (uint32_t)part;
    return 0;
}

/* Instances must cover every (stage, partition) of the manifest once. */
static int instances_cover(const px_plan *p, px_err *err) {
    const px_manifest *m = &p->manifest;
    size_t k = 0;
    /* Stages at PODs have no instance in the plan: each POD starts its own
     * (docs/executor.md, "Stages at PODs"). */
    for (uint32_t s = px_manifest_pod_stages(m); s < m->nstages; s++)
        for (uint32_t q = 0; q < m->stages[s].partitions; q++, k++) {
            if (k >= p->ninstances || p->instances[k].stage != s || p->instances[k].partition != q)
                return px_fail(err, PX_E_INVALID, "plan has no instance for stage %u (%s) partition %u", s,
                               px_manifest_kind_name(m->stages[s].kind), q);
        }
    if (k != p->ninstances)
        return px_fail(err, PX_E_INVALID, "plan instance for stage %u partition %u is not in the manifest or "
                       "is listed twice", p->instances[k].stage, p->instances[k].partition);
    return 0;
}

/* The head's root is the root of the instances the plan lists. */
static int root_matches(px_plan *p, px_err *err) {
    uint8_t root[PX_SHA256_BYTES];
    if (px_x_plan_leaves(&p->leaves, p->instances, p->ninstances, err))
        return -1;
    px_log_root_from_hashes(root, p->leaves, p->ninstances);
    if (!px_ct_equal(root, p->root, sizeof root))
        return px_fail(err, PX_E_VERIFY, "its instances are not the ones its head's root commits to");
    for (size_t i = 0; i < p->ninstances; i++)
        p->instances[i].index = (uint32_t)i;
    return 0;
}

static int plan_read(px_plan *p, const px_statement *st, px_err *err) {
    static const char *const keys[] = {"manifest", "envelope", "head", "instances", NULL};
    const json_t *pred = st->predicate;
    uint8_t mid[PX_SHA256_BYTES];
    px_buf env = PX_BUF_INIT;
    json_t *arr, *v;
    size_t i;
    if (strcmp(st->predicate_type, PX_PLAN_PREDICATE))
        return px_fail(err, PX_E_INVALID, "predicate type is not %s", PX_PLAN_PREDICATE);
    if (px_json_only(pred, "plan", keys, err) || px_json_hex(pred, "manifest", mid, sizeof mid, err))
        return -1;
    int rc = px_json_b64(pred, "envelope", &env, err);
    if (rc == 0)
        rc = px_manifest_parse(&p->manifest, env.data, env.len, err);
    px_buf_free(&env);
    if (rc)
        return -1;
    if (!px_ct_equal(mid, p->manifest.id, sizeof mid))
        return px_fail(err, PX_E_VERIFY, "plan names manifest id that is not the SHA-256 of its manifest");
    if (st->nsubjects != 1 || !px_ct_equal(st->subjects[0].sha256, mid, sizeof mid))
        return px_fail(err, PX_E_INVALID, "plan subject must be exactly the manifest id");
    if (px_x_arr(pred, "instances", 1, PX_PLAN_MAX_INSTANCES, &arr, err))
        return -1;
    if (!(p->instances = calloc(json_array_size(arr), sizeof *p->instances)))
        return px_fail(err, PX_E_NOMEM, "out of memory reading plan instances");
    json_array_foreach(arr, i, v) {
        p->ninstances = i + 1;
        if (px_x_plan_instance_read(&p->instances[i], v, err))
            return px_err_prefix(err, "instance %zu: ", i);
    }
    qsort(p->instances, p->ninstances, sizeof *p->instances, instance_cmp);
    return 0;
}

/* The signed head, and that its root is the instances'. */
static int head_matches(px_plan *p, const px_statement *st, px_err *err) {
    px_buf env = PX_BUF_INIT;
    int rc = px_json_b64(st->predicate, "head", &env, err) || px_x_plan_head_read(p, env.data, env.len, err) ||
             root_matches(p, err);
    px_buf_free(&env);
    return rc ? -1 : 0;
}

int px_plan_parse(px_plan *p, const void *envelope, size_t len, px_err *err) {
    memset(p, 0, sizeof *p);
    if (len > PX_PLAN_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "plan of %zu bytes exceeds %u", len, PX_PLAN_MAX_BYTES);
    px_dsse e;
    px_statement st;
    memset(&e, 0, sizeof e);
    memset(&st, 0, sizeof st);
    int rc = -1;
    if (px_dsse_parse(&e, envelope, len, err))
        goto out;
    if (strcmp(e.payload_type, PX_INTOTO_PAYLOAD_TYPE)) {
        px_fail(err, PX_E_INVALID, "payload type is not %s", PX_INTOTO_PAYLOAD_TYPE);
        goto out;
    }
    if (px_statement_parse(&st, e.payload.data, e.payload.len, err) || plan_read(p, &st, err))
        goto out;
    if (px_dsse_verify(&e, &p->manifest.consumer, err)) {
        px_err_prefix(err, "not signed by the manifest's consumer: ");
        goto out;
    }
    /* What is missing is named before the head's count is. */
    if (instances_cover(p, err) || head_matches(p, &st, err))
        goto out;
    rc = 0;
out:
    px_statement_free(&st);
    px_dsse_free(&e);
    if (rc) {
        px_plan_free(p);
        return px_err_prefix(err, "plan: ");
    }
    return 0;
}

void px_plan_free(px_plan *p) {
    if (!p)
        return;
    for (size_t i = 0; i < p->ninstances; i++) {
        px_buf_free(&p->instances[i].config);
        px_buf_free(&p->instances[i].evidence);
    }
    free(p->instances);
    free(p->leaves);
    px_buf_free(&p->head);
    px_manifest_free(&p->manifest);
    memset(p, 0, sizeof *p);
}
