/* Instances a POD hosts for the stages placed at the PODs ("at": "pod",
 * docs/executor.md). The plan holds the executors' instances only; each
 * POD starts its own POD-side instances when it admits a plan, with a
 * config it builds from the manifest and the plan, and says so in the log
 * with a statement signed by its key that carries the config and the
 * evidence. Anyone holding the log can then check that the instance ran
 * the manifest's code with that config (the measurement covers both). */
#include <string.h>

#include "exec/util.h"

int px_podinst_sign(px_buf *out, const uint8_t manifest[PX_SHA256_BYTES], const px_podinst *pi,
                    const px_signer *pod_key, px_err *err) {
    json_t *p = json_object(), *st = json_object();
    px_buf stmt = PX_BUF_INIT;
    px_subject subj = {.name = (char *)"instance"};
    px_evidence_digest(subj.sha256, pi->evidence, pi->evidence_len);
    int rc = !p || !st ? px_fail(err, PX_E_NOMEM, "out of memory") : 0;
    if (rc == 0)
        rc = px_x_set_hex(p, "manifest", manifest, PX_SHA256_BYTES, err) ||
             px_x_set(p, "pod", json_string(pi->pod), err) || px_x_set(p, "stage", json_incref(st), err) ||
             px_x_set(st, "index", json_integer(pi->stage), err) || px_x_set(st, "kind", json_string(pi->kind), err) ||
             px_x_set(st, "partition", json_integer(pi->partition), err) ||
             px_x_set_hex(p, "nonce", pi->nonce, PX_TEE_NONCE_BYTES, err) ||
             px_x_set_b64(p, "config", pi->config, pi->config_len, err) ||
             px_x_set_b64(p, "evidence", pi->evidence, pi->evidence_len, err) ||
             px_statement_build(&stmt, &subj, 1, PX_POD_INSTANCE_PREDICATE, p, err) ||
             px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, stmt.data, stmt.len, pod_key, 1, err);
    json_decref(st);
    json_decref(p);
    px_buf_free(&stmt);
    return rc ? -1 : 0;
}

uint32_t px_manifest_collector_partition(const px_manifest *m, uint64_t pos) {
    uint32_t k = px_manifest_pod_stages(m);
    return k < m->nstages ? (uint32_t)(pos % m->stages[k].partitions) : 0;
}

int px_podinst_config_build(px_buf *out, const px_manifest *m, uint32_t stage, uint32_t partition,
                              const uint8_t (*successors)[PX_BOX_PUBLICKEYBYTES], size_t nsuccessors,
                              const px_verifier *pod_key, const px_verifier *platform_key,
                              const px_verifier *log_key, const uint8_t *inbox, px_err *err) {
    if (stage >= px_manifest_pod_stages(m))
        return px_fail(err, PX_E_INVALID, "stage %u is not at the PODs", stage);
    if (nsuccessors == 0 || nsuccessors > PX_LAMBDA_MAX_SUCCESSORS)
        return px_fail(err, PX_E_INVALID, "a stage needs 1 to %d successor keys", PX_LAMBDA_MAX_SUCCESSORS);
    json_t *c = json_object();
    if (!c)
        return px_fail(err, PX_E_NOMEM, "out of memory building a stage config");
    /* Stage 0 reads the POD's own release; a later stage, the POD's own
     * instance of the stage before, on this node. */
    int rc = px_x_config_fill(c, m, stage, partition, successors, nsuccessors, stage ? platform_key : NULL,
                              stage ? 1 : 0, stage ? NULL : pod_key, stage ? 0 : 1, log_key, err);
    if (rc == 0 && inbox)
        rc = px_x_set_hex(c, "inbox", inbox, PX_BOX_PUBLICKEYBYTES, err);
    if (rc == 0)
        rc = px_json_dump(c, out, err);
    json_decref(c);
    return rc;
}

/* The config must be that of the POD-side instance the statement says. */
static int config_fits(const px_manifest *m, const px_entry *e, const px_stage_config *c, px_err *err) {
    const px_stage_spec *s = &m->stages[e->stage];
    if (!px_ct_equal(c->manifest, m->id, PX_SHA256_BYTES) || c->index != e->stage || c->partition != e->partition ||
        strcmp(c->kind, px_manifest_kind_name(s->kind)))
        return px_fail(err, PX_E_VERIFY, "its config is not for stage %u partition %u of this manifest", e->stage,
                       e->partition);
    if (!c->at_pod || c->pad_ms != s->pad_ms)
        return px_fail(err, PX_E_VERIFY, "its config is not that of a POD-side instance with the stage's pad");
    if (c->deadline != m->deadline)
        return px_fail(err, PX_E_VERIFY, "its config's deadline is not the manifest's");
    int deliver = s->params && json_object_get(s->params, "deliver");
    if (c->has_inbox != deliver)
        return px_fail(err, PX_E_VERIFY, "its config %s an inbox", c->has_inbox ? "has" : "lacks");
    return 0;
}

int px_podinst_check(const px_entry *e, const px_manifest *m, const uint8_t pod_pk[PX_SIGN_PUBLICKEYBYTES],
                     px_evidence_check_fn check, void *ctx, px_attested *att, px_stage_config *cfg, px_err *err) {
    if (e->kind != PX_ENTRY_POD_INSTANCE || !px_ct_equal(e->manifest, m->id, PX_SHA256_BYTES))
        return px_fail(err, PX_E_INVALID, "not a POD instance statement of this manifest");
    if (!px_manifest_has_pod(m, e->pod))
        return px_fail(err, PX_E_VERIFY, "%s is not a POD of the manifest", e->pod);
    if (px_dsse_verify_pk(&e->env, pod_pk, NULL))
        return px_fail(err, PX_E_VERIFY, "the statement is not signed by %s's key", e->pod);
    if (e->stage >= px_manifest_pod_stages(m))
        return px_fail(err, PX_E_VERIFY, "stage %u is not at the PODs", e->stage);
    const px_stage_spec *s = &m->stages[e->stage];
    if (strcmp(e->stage_kind, px_manifest_kind_name(s->kind)))
        return px_fail(err, PX_E_VERIFY, "stage %u is a %s stage, not %s", e->stage, px_manifest_kind_name(s->kind),
                       e->stage_kind);
    if ((int64_t)e->partition != px_manifest_pod_position(m, e->pod))
        return px_fail(err, PX_E_VERIFY, "partition %u is not %s's position in the manifest", e->partition, e->pod);
    px_stage_config c;
    if (px_lambda_config_parse(&c, e->config.data, e->config.len, err))
        return -1;
    int rc = config_fits(m, e, &c, err);
    if (rc == 0 && check(ctx, e->pod, e->inst_evidence.data, e->inst_evidence.len, e->nonce, s, e->config.data, e->config.len,
                         att, err))
        rc = px_err_prefix(err, "evidence: ");
    if (rc == 0 && att->level < s->min_level)
        rc = px_fail(err, PX_E_DENIED, "evidence security level %u is below the manifest's minimum %u", att->level,
                     s->min_level);
    if (rc == 0 && cfg)
        *cfg = c;
    else
        px_lambda_config_free(&c);
    if (rc)
        return px_err_prefix(err, "stage %u (%s) on %s: ", e->stage, e->stage_kind, e->pod);
    return 0;
}
