/* The wiring checks a POD runs before it seals a single record to a plan:
 * each instance is who its evidence says, configured as the manifest says,
 * and its output can only be opened by the next stage's attested instances
 * (or, for the last stage, by the manifest's receivers). */
#include <string.h>

#include "exec/util.h"

static int short_hex(char out[17], const uint8_t *k) {
    px_hex_encode(out, k, 8);
    return 0;
}

int px_plan_config_matches(const px_stage_config *c, const px_manifest *m, uint32_t stage, uint32_t partition,
                            px_err *err) {
    if (stage >= m->nstages)
        return px_fail(err, PX_E_VERIFY, "the manifest has no stage %u", stage);
    const px_stage_spec *s = &m->stages[stage];
    if (!px_ct_equal(c->manifest, m->id, PX_SHA256_BYTES))
        return px_fail(err, PX_E_VERIFY, "its config names another manifest");
    if (c->index != stage || c->partition != partition)
        return px_fail(err, PX_E_VERIFY, "its config is for stage %u partition %u", c->index, c->partition);
    if (strcmp(c->kind, px_manifest_kind_name(s->kind)))
        return px_fail(err, PX_E_VERIFY, "its config runs a %s stage, the manifest says %s", c->kind,
                       px_manifest_kind_name(s->kind));
    /* What the instance runs under is what the manifest states, so what
     * a POD read before releasing is what happens: the task's limits, and
     * the params (a DP stage's params are what it spends). */
    if (!px_limits_equal(&c->limits, &s->limits))
        return px_fail(err, PX_E_VERIFY, "its config's limits are not the manifest's");
    json_t *none = s->params ? NULL : json_object();
    int same = json_equal(c->params, s->params ? s->params : none);
    json_decref(none);
    if (!same)
        return px_fail(err, PX_E_VERIFY, "its config's params are not the manifest's");
    return 0;
}

/* The config must say exactly what the manifest and the plan say. */
static int config_matches(const px_plan *p, const px_plan_instance *in, const px_stage_config *c, px_err *err) {
    if (px_plan_config_matches(c, &p->manifest, in->stage, in->partition, err))
        return -1;
    /* The code digest is not in the config: the evidence check compares
     * the measurement, which covers the manifest's code digest. */
    if (c->deadline != p->manifest.deadline)
        return px_fail(err, PX_E_VERIFY, "its config's deadline is not the manifest's: it could release after it");
    /* After stages at the PODs: each POD's output taken once. */
    if (in->stage > 0 && p->manifest.stages[in->stage - 1].at_pod && !c->one_per_node)
        return px_fail(err, PX_E_VERIFY, "it follows stages at the PODs and its config does not take one input per "
                       "POD node");
    if (c->at_pod)
        return px_fail(err, PX_E_VERIFY, "its config says it runs at a POD, the plan places it on an executor");
    return 0;
}

static int same_key(const px_verifier *a, const px_verifier *b) {
    return !strcmp(a->name, b->name) && a->id == b->id && px_ct_equal(a->pk, b->pk, PX_SIGN_PUBLICKEYBYTES);
}

static int key_in_stage(const px_plan *p, const px_attested *att, uint32_t stage, const uint8_t *key) {
    for (size_t i = 0; i < p->ninstances; i++)
        if (p->instances[i].stage == stage && px_ct_equal(att[i].box_pk, key, PX_BOX_PUBLICKEYBYTES))
            return 1;
    return 0;
}

static int key_is_receiver(const px_manifest *m, const uint8_t *key) {
    for (size_t i = 0; i < m->nreceivers; i++)
        if (px_ct_equal(m->receivers[i].box_pk, key, PX_BOX_PUBLICKEYBYTES))
            return 1;
    return 0;
}

static int successors_ok(const px_plan *p, const px_attested *att, const px_plan_instance *in,
                         const px_stage_config *c, px_err *err) {
    const px_manifest *m = &p->manifest;
    int last = in->stage + 1 == m->nstages;
    for (size_t k = 0; k < c->nsuccessors; k++) {
        char hex[17];
        short_hex(hex, c->successors[k]);
        if (last && !key_is_receiver(m, c->successors[k]))
            return px_fail(err, PX_E_DENIED, "last stage delivers to key %s... which is not a receiver of the "
                           "manifest", hex);
        if (!last && !key_in_stage(p, att, in->stage + 1, c->successors[k]))
            return px_fail(err, PX_E_DENIED, "successor key %s... is not an attested key of stage %u (%s)", hex,
                           in->stage + 1, px_manifest_kind_name(m->stages[in->stage + 1].kind));
    }
    return 0;
}

static int check_instance(const px_plan *p, const px_plan_instance *in, const px_stage_config *c,
                          px_evidence_check_fn check, void *ctx, px_attested *att, px_err *err) {
    const px_stage_spec *s = &p->manifest.stages[in->stage];
    if (config_matches(p, in, c, err))
        return -1;
    memset(att, 0, sizeof *att);
    if (check(ctx, in->node, in->evidence.data, in->evidence.len, in->nonce, s, in->config.data, in->config.len,
              att, err))
        return px_err_prefix(err, "evidence: ");
    if (att->level < s->min_level)
        return px_fail(err, PX_E_DENIED, "evidence security level %u (%s) is below the manifest's minimum %u",
                       att->level, att->backend, s->min_level);
    return 0;
}

int px_plan_check(const px_plan *p, px_evidence_check_fn check, void *ctx, int require_dp, int64_t now,
                  px_attested *attested, px_err *err) {
    const px_manifest *m = &p->manifest;
    if (now > m->deadline)
        return px_fail(err, PX_E_DENIED, "plan: the manifest's deadline has passed");
    if (require_dp && !px_manifest_behind_dp(m))
        return px_fail(err, PX_E_DENIED, "plan: policy requires every task behind a dp stage, and this manifest "
                       "has none after its task");
    px_attested *att = calloc(p->ninstances, sizeof *att);
    /* Each config is parsed once: a first-stage config lists its PODs' keys,
     * and every POD checks every config of the plan. */
    px_stage_config *cfg = calloc(p->ninstances, sizeof *cfg);
    size_t parsed = 0;
    if (!att || !cfg) {
        free(att);
        free(cfg);
        return px_fail(err, PX_E_NOMEM, "out of memory checking a plan");
    }
    int rc = 0;
    size_t bad = 0; /* the instance the first failed check is about */
    for (size_t i = 0; i < p->ninstances && rc == 0; i++) {
        bad = i;
        rc = px_lambda_config_parse(&cfg[i], p->instances[i].config.data, p->instances[i].config.len, err);
        if (rc == 0) {
            parsed = i + 1;
            rc = check_instance(p, &p->instances[i], &cfg[i], check, ctx, &att[i], err);
        }
        /* One log for the whole task, so its silence can be read there. */
        if (rc == 0 && !same_key(&cfg[i].log, &cfg[0].log))
            rc = px_fail(err, PX_E_VERIFY, "its config names log %s, the first instance's names %s", cfg[i].log.name,
                         cfg[0].log.name);
    }
    /* Successors are checked once every instance's keys are known. */
    for (size_t i = 0; i < p->ninstances && rc == 0; i++) {
        bad = i;
        rc = successors_ok(p, att, &p->instances[i], &cfg[i], err);
    }
    if (rc) {
        const px_plan_instance *in = &p->instances[bad];
        px_err_prefix(err, "plan: stage %u (%s) partition %u on %s: ", in->stage,
                      px_manifest_kind_name(m->stages[in->stage].kind), in->partition, in->node);
    }
    if (rc == 0 && attested)
        memcpy(attested, att, p->ninstances * sizeof *att);
    for (size_t i = 0; i < parsed; i++)
        px_lambda_config_free(&cfg[i]);
    free(cfg);
    free(att);
    return rc;
}

int px_plan_check_log(const px_plan *p, const px_verifier *log_key, px_err *err) {
    for (size_t i = 0; i < p->ninstances; i++) {
        const px_plan_instance *in = &p->instances[i];
        px_stage_config c;
        if (px_lambda_config_parse(&c, in->config.data, in->config.len, err))
            return px_err_prefix(err, "plan: stage %u partition %u: ", in->stage, in->partition);
        px_verifier named = c.log;
        px_lambda_config_free(&c);
        if (!same_key(&named, log_key))
            return px_fail(err, PX_E_DENIED, "plan: stage %u partition %u on %s is shown its statements in log %s, "
                           "not in the network's log %s", in->stage, in->partition, in->node, named.name, log_key->name);
    }
    return 0;
}
