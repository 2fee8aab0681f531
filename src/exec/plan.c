/* Stage configs and the signed plan. A stage config is what an instance is
 * born with (its SHA-256 is part of the measurement), so the successor keys
 * it names are attested. The plan gathers, for one manifest, every
 * recruited instance's config and evidence under the consumer's signature;
 * it is an in-toto statement so the log indexes it under the manifest id. */
#include <stdlib.h>
#include <string.h>

#include "exec/util.h"

/* ---- stage config ------------------------------------------------------- */

static int config_limits(json_t *c, const px_stage_spec *s, px_err *err) {
    if (!s->cpu_ms && !s->mem_mb && !s->timeout_ms)
        return 0;
    json_t *l = json_object();
    if (px_x_set(c, "limits", l, err))
        return -1;
    if ((s->cpu_ms && px_x_set(l, "cpu_ms", json_integer((json_int_t)s->cpu_ms), err)) ||
        (s->mem_mb && px_x_set(l, "mem_mb", json_integer((json_int_t)s->mem_mb), err)) ||
        (s->timeout_ms && px_x_set(l, "timeout_ms", json_integer((json_int_t)s->timeout_ms), err)))
        return -1;
    return 0;
}

static int config_dp(json_t *c, const px_stage_spec *s, px_err *err) {
    if (s->kind != PX_STAGE_DP)
        return 0;
    json_t *dp = json_object();
    if (px_x_set(c, "dp", dp, err) || px_x_set(dp, "mechanism", json_string(s->mechanism), err) ||
        px_x_set(dp, "epsilon", json_string(s->epsilon), err) || px_x_set(dp, "delta", json_string(s->delta), err))
        return -1;
    return 0;
}

static int config_fill(json_t *c, const px_manifest *m, uint32_t stage, uint32_t partition,
                       const uint8_t (*succ)[PX_BOX_PUBLICKEYBYTES], size_t nsucc, px_err *err) {
    const px_stage_spec *s = &m->stages[stage];
    json_t *arr = json_array();
    if (px_x_set(c, "schema", json_string(PX_STAGE_CONFIG_SCHEMA), err) ||
        px_x_set_hex(c, "manifest", m->id, sizeof m->id, err) ||
        px_x_set(c, "stage", json_integer(stage), err) || px_x_set(c, "partition", json_integer(partition), err) ||
        px_x_set(c, "kind", json_string(px_stage_kind_name(s->kind)), err) ||
        (s->has_code && px_x_set_hex(c, "code", s->code, sizeof s->code, err)) ||
        px_x_set(c, "successors", arr, err))
        return -1;
    for (size_t i = 0; i < nsucc; i++) {
        char hex[2 * PX_BOX_PUBLICKEYBYTES + 1];
        px_hex_encode(hex, succ[i], PX_BOX_PUBLICKEYBYTES);
        if (px_x_append(arr, json_string(hex), err))
            return -1;
    }
    if (config_limits(c, s, err) || config_dp(c, s, err))
        return -1;
    if (s->params && px_x_set(c, "params", json_deep_copy(s->params), err))
        return -1;
    return 0;
}

int px_stage_config_build(px_buf *out, const px_manifest *m, uint32_t stage, uint32_t partition,
                          const uint8_t (*successors)[PX_BOX_PUBLICKEYBYTES], size_t nsuccessors, px_err *err) {
    if (stage >= m->nstages || partition >= m->stages[stage].partitions)
        return px_fail(err, PX_E_INVALID, "stage %u partition %u is not in the manifest", stage, partition);
    if (nsuccessors == 0 || nsuccessors > PX_STAGE_MAX_SUCCESSORS)
        return px_fail(err, PX_E_INVALID, "a stage needs 1 to %d successor keys", PX_STAGE_MAX_SUCCESSORS);
    json_t *c = json_object();
    if (!c)
        return px_fail(err, PX_E_NOMEM, "out of memory building a stage config");
    int rc = config_fill(c, m, stage, partition, successors, nsuccessors, err);
    if (rc == 0)
        rc = px_json_dump(c, out, err);
    json_decref(c);
    return rc;
}

static int config_read(px_stage_config *c, const json_t *o, px_err *err) {
    static const char *const keys[] = {"schema", "manifest", "stage", "partition", "kind", "code",
                                       "successors", "limits", "dp", "params", NULL};
    const char *schema, *kind;
    int64_t stage, partition;
    json_t *succ, *v;
    size_t i;
    if (px_x_only_keys(o, "stage config", keys, err) || px_json_str(o, "schema", &schema, err))
        return -1;
    if (strcmp(schema, PX_STAGE_CONFIG_SCHEMA))
        return px_fail(err, PX_E_INVALID, "stage config schema is not %s", PX_STAGE_CONFIG_SCHEMA);
    if (px_json_hex(o, "manifest", c->manifest, sizeof c->manifest, err) ||
        px_json_int(o, "stage", &stage, err) || px_json_int(o, "partition", &partition, err) ||
        px_json_str(o, "kind", &kind, err))
        return -1;
    if (stage < 0 || stage >= PX_MANIFEST_MAX_STAGES || partition < 0 || partition >= PX_PLAN_MAX_INSTANCES)
        return px_fail(err, PX_E_INVALID, "stage config: stage or partition out of range");
    c->stage = (uint32_t)stage;
    c->partition = (uint32_t)partition;
    if (px_stage_kind_parse(kind, &c->kind))
        return px_fail(err, PX_E_INVALID, "stage config: unknown kind \"%.32s\"", kind);
    if (json_object_get(o, "code")) {
        if (px_json_hex(o, "code", c->code, sizeof c->code, err))
            return -1;
        c->has_code = 1;
    }
    if (px_x_arr(o, "successors", 1, PX_STAGE_MAX_SUCCESSORS, &succ, err))
        return -1;
    if (!(c->successors = calloc(json_array_size(succ), sizeof *c->successors)))
        return px_fail(err, PX_E_NOMEM, "out of memory reading successors");
    json_array_foreach(succ, i, v) {
        if (px_x_hex_value(v, "successor key", c->successors[i], PX_BOX_PUBLICKEYBYTES, err))
            return -1;
        c->nsuccessors = i + 1;
    }
    json_t *params = json_object_get(o, "params");
    if (params && !json_is_object(params))
        return px_fail(err, PX_E_INVALID, "stage config: \"params\" must be an object");
    c->params = params ? json_incref(params) : NULL;
    return 0;
}

int px_stage_config_parse(px_stage_config *c, const void *json, size_t len, px_err *err) {
    memset(c, 0, sizeof *c);
    json_t *o = px_json_parse(json, len, PX_STAGE_CONFIG_MAX_BYTES, err);
    if (!o)
        return px_err_prefix(err, "stage config: ");
    int rc = config_read(c, o, err);
    json_decref(o);
    if (rc) {
        px_stage_config_free(c);
        return px_err_prefix(err, "stage config: ");
    }
    return 0;
}

void px_stage_config_free(px_stage_config *c) {
    if (!c)
        return;
    free(c->successors);
    json_decref(c->params);
    memset(c, 0, sizeof *c);
}

/* ---- plan: signing -------------------------------------------------------- */

static int instance_json(json_t *arr, const px_plan_instance *in, px_err *err) {
    json_t *o = json_object();
    if (px_x_append(arr, o, err))
        return -1;
    if (px_x_set(o, "stage", json_integer(in->stage), err) ||
        px_x_set(o, "partition", json_integer(in->partition), err) ||
        px_x_set(o, "node", json_string(in->node), err) || px_x_set_hex(o, "nonce", in->nonce, PX_NONCE_BYTES, err) ||
        px_x_set_b64(o, "config", in->config.data, in->config.len, err) ||
        px_x_set_b64(o, "evidence", in->evidence.data, in->evidence.len, err))
        return -1;
    return 0;
}

static int plan_predicate(json_t *p, const px_manifest *m, const px_plan_instance *ins, size_t n, px_err *err) {
    uint8_t nonce[PX_NONCE_BYTES];
    px_random(nonce, sizeof nonce);
    json_t *arr = json_array();
    if (px_x_set_hex(p, "manifest", m->id, sizeof m->id, err) ||
        px_x_set_b64(p, "envelope", m->envelope.data, m->envelope.len, err) ||
        px_x_set_hex(p, "nonce", nonce, sizeof nonce, err) ||
        px_x_set(p, "created", json_integer(px_now_ms()), err) || px_x_set(p, "instances", arr, err))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (instance_json(arr, &ins[i], err))
            return -1;
    return 0;
}

int px_plan_sign(px_buf *out, const px_manifest *m, const px_plan_instance *instances, size_t n,
                 const px_signer *consumer, px_err *err) {
    if (n == 0 || n > PX_PLAN_MAX_INSTANCES)
        return px_fail(err, PX_E_INVALID, "a plan needs 1 to %d instances", PX_PLAN_MAX_INSTANCES);
    json_t *pred = json_object();
    px_buf stmt = PX_BUF_INIT;
    px_subject subj = {.name = (char *)"manifest"};
    memcpy(subj.sha256, m->id, sizeof subj.sha256);
    int rc = -1;
    if (!pred) {
        px_fail(err, PX_E_NOMEM, "out of memory building a plan");
        goto out;
    }
    if (plan_predicate(pred, m, instances, n, err) ||
        px_statement_build(&stmt, &subj, 1, PX_PLAN_PREDICATE, pred, err))
        goto out;
    rc = px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, stmt.data, stmt.len, consumer, 1, err);
out:
    json_decref(pred);
    px_buf_free(&stmt);
    return rc;
}

/* ---- plan: parsing ------------------------------------------------------- */

static int instance_read(px_plan_instance *in, const json_t *o, px_err *err) {
    static const char *const keys[] = {"stage", "partition", "node", "nonce", "config", "evidence", NULL};
    int64_t stage, part;
    if (px_x_only_keys(o, "plan instance", keys, err) || px_json_int(o, "stage", &stage, err) ||
        px_json_int(o, "partition", &part, err) || px_x_strcpy(o, "node", in->node, sizeof in->node, err) ||
        px_json_hex(o, "nonce", in->nonce, sizeof in->nonce, err) || px_json_b64(o, "config", &in->config, err) ||
        px_json_b64(o, "evidence", &in->evidence, err))
        return -1;
    if (stage < 0 || stage >= PX_MANIFEST_MAX_STAGES || part < 0 || part >= PX_PLAN_MAX_INSTANCES)
        return px_fail(err, PX_E_INVALID, "stage or partition out of range");
    if (!px_node_id_valid(in->node))
        return px_fail(err, PX_E_INVALID, "invalid node id");
    if (in->config.len > PX_STAGE_CONFIG_MAX_BYTES || in->evidence.len > PX_EVIDENCE_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "config or evidence too large");
    in->stage = (uint32_t)stage;
    in->partition = (uint32_t)part;
    return 0;
}

static int instance_cmp(const void *a, const void *b) {
    const px_plan_instance *x = a, *y = b;
    if (x->stage != y->stage)
        return x->stage < y->stage ? -1 : 1;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

/* Instances must cover every (stage, partition) of the manifest once. */
static int instances_cover(const px_plan *p, px_err *err) {
    const px_manifest *m = &p->manifest;
    size_t k = 0;
    for (uint32_t s = 0; s < m->nstages; s++)
        for (uint32_t q = 0; q < m->stages[s].partitions; q++, k++) {
            if (k >= p->ninstances || p->instances[k].stage != s || p->instances[k].partition != q)
                return px_fail(err, PX_E_INVALID, "plan has no instance for stage %u (%s) partition %u", s,
                               px_stage_kind_name(m->stages[s].kind), q);
        }
    if (k != p->ninstances)
        return px_fail(err, PX_E_INVALID, "plan instance for stage %u partition %u is not in the manifest or "
                       "is listed twice", p->instances[k].stage, p->instances[k].partition);
    return 0;
}

static int plan_read(px_plan *p, const px_statement *st, px_err *err) {
    static const char *const keys[] = {"manifest", "envelope", "nonce", "created", "instances", NULL};
    const json_t *pred = st->predicate;
    uint8_t mid[PX_SHA256_BYTES];
    px_buf env = PX_BUF_INIT;
    json_t *arr, *v;
    size_t i;
    if (strcmp(st->predicate_type, PX_PLAN_PREDICATE))
        return px_fail(err, PX_E_INVALID, "predicate type is not %s", PX_PLAN_PREDICATE);
    if (px_x_only_keys(pred, "plan", keys, err) || px_json_hex(pred, "manifest", mid, sizeof mid, err) ||
        px_json_hex(pred, "nonce", p->nonce, sizeof p->nonce, err) || px_json_int(pred, "created", &p->created, err))
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
        if (instance_read(&p->instances[i], v, err))
            return px_err_prefix(err, "instance %zu: ", i);
    }
    qsort(p->instances, p->ninstances, sizeof *p->instances, instance_cmp);
    return 0;
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
    if (instances_cover(p, err))
        goto out;
    px_sha256(p->id, envelope, len);
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
    px_manifest_free(&p->manifest);
    memset(p, 0, sizeof *p);
}
