/* The POD role: admit a plan (policy, every instance's evidence, wiring,
 * replay, budget), then release each requested dataset sealed to the
 * attested stage-0 instance and publish the signed release statement. */
#include <string.h>

#include "exec/util.h"
#include "node/node.h"

/* The policy's require_dp for a dataset (0 when it has no policy). */
static int dataset_requires_dp(px_pod *pod, const char *dataset, int *out, px_err *err) {
    px_buf b = PX_BUF_INIT;
    px_pod_policy pol;
    *out = 0;
    if (px_pod_policy_get(pod, dataset, &b, err)) {
        px_buf_free(&b);
        return -1;
    }
    int rc = px_pod_policy_parse(&pol, b.data, b.len, err);
    px_buf_free(&b);
    if (rc)
        return -1;
    *out = pol.require_dp;
    px_pod_policy_free(&pol);
    return 0;
}

/* What the POD policy judges: each stage's kind, code and attested level
 * (the lowest over its partitions). */
static int policy_request(const px_plan *p, const px_attested *att, px_pod_stage_req *st) {
    const px_manifest *m = &p->manifest;
    for (size_t s = 0; s < m->nstages; s++) {
        st[s].kind = px_stage_type_name(m->stages[s].kind);
        st[s].code_digest = m->stages[s].has_code ? m->stages[s].code : NULL;
        st[s].level = -1;
    }
    for (size_t i = 0; i < p->ninstances; i++) {
        px_pod_stage_req *r = &st[p->instances[i].stage];
        if (r->level < 0 || (int)att[i].level < r->level)
            r->level = (int)att[i].level;
    }
    return 0;
}

static void dp_amount(const px_manifest *m, const char **eps, const char **delta) {
    *eps = "0";
    *delta = "0";
    for (size_t s = 0; s < m->nstages; s++)
        if (m->stages[s].kind == PX_STAGE_DP) {
            *eps = m->stages[s].epsilon;
            *delta = m->stages[s].delta;
        }
}

/* The first-stage instance this POD releases to: PODs are dealt to the
 * stage's partitions by their position in the dataset's list. */
static const px_attested *first_stage(const px_node *n, const px_plan *p, const px_attested *att,
                                      const px_dataset_spec *d) {
    size_t pos = 0;
    while (pos < d->npods && strcmp(d->pods[pos], n->cfg.id))
        pos++;
    uint32_t q = (uint32_t)(pos % p->manifest.stages[0].partitions);
    for (size_t i = 0; i < p->ninstances; i++)
        if (p->instances[i].stage == 0 && p->instances[i].partition == q)
            return &att[i];
    return &att[0];
}

/* Admit and release one dataset; appends {"dataset","sealed","release"}. */
static int release_one(px_node *n, const px_plan *p, const px_attested *att, const px_dataset_spec *d, json_t *out,
                       px_err *err) {
    const char *dataset = d->name;
    const uint8_t *key = first_stage(n, p, att, d)->box_pk;
    const px_manifest *m = &p->manifest;
    char mid[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(mid, m->id, PX_SHA256_BYTES);
    px_pod_stage_req st[PX_MANIFEST_MAX_STAGES];
    policy_request(p, att, st);
    px_pod_request req = {m->consumer_id, dataset, st, m->nstages};
    const char *eps, *delta;
    dp_amount(m, &eps, &delta);
    if (px_pod_admit(n->pod, mid, &req, eps, delta, err))
        return -1;
    px_buf stream = PX_BUF_INIT, env = PX_BUF_INIT, sealed = PX_BUF_INIT;
    uint64_t index = 0;
    int rc = px_pod_release(n->pod, &n->key, n->cfg.id, mid, dataset, key, &stream, &env, err) ||
             px_seal(&sealed, stream.data, stream.len, key, err) ||
             px_node_log_append(n, env.data, env.len, &index, err);
    if (rc == 0) {
        json_t *r = json_object();
        rc = px_x_append(out, r, err) || px_x_set(r, "dataset", json_string(dataset), err) ||
             px_x_set_b64(r, "sealed", sealed.data, sealed.len, err) ||
             px_x_set_b64(r, "release", env.data, env.len, err) ||
             px_x_set(r, "log_index", json_integer((json_int_t)index), err);
    }
    px_buf_free(&stream);
    px_buf_free(&env);
    px_buf_free(&sealed);
    return rc ? -1 : 0;
}

static int admit(px_node *n, const px_member *sender, const px_plan *p, json_t *out, px_err *err) {
    const px_manifest *m = &p->manifest;
    if (strcmp(sender->id, m->consumer_id) || !px_ct_equal(sender->signing.pk, m->consumer.pk, PX_SIGN_PUBLICKEYBYTES))
        return px_fail(err, PX_E_DENIED, "the plan's consumer %s is not the sender %s", m->consumer_id, sender->id);
    if (!px_manifest_has_pod(m, n->cfg.id))
        return px_fail(err, PX_E_DENIED, "the manifest does not ask this POD (%s)", n->cfg.id);
    int require_dp = 0;
    for (size_t d = 0; d < m->ndatasets; d++) {
        int r;
        if (dataset_requires_dp(n->pod, m->datasets[d].name, &r, err))
            return px_err_prefix(err, "dataset %s: ", m->datasets[d].name);
        require_dp |= r;
    }
    px_membership mem;
    px_node_trust t;
    if (px_node_members(n, &mem, err))
        return -1;
    char *workers[1] = {n->cfg.worker};
    int rc = px_node_trust_init(&t, &mem, workers, n->cfg.worker[0] ? 1 : 0, err);
    if (rc == 0) {
        /* Every instance must answer to the network's log (release after log). */
        const px_member *log = px_node_find_role(&mem, PX_ROLE_LOG);
        rc = log ? px_plan_check_log(p, &log->signing, err) : px_fail(err, PX_E_UNAVAILABLE, "the membership has no log");
        if (rc)
            px_node_trust_free(&t);
    }
    px_membership_free(&mem);
    if (rc)
        return -1;
    px_attested *att = calloc(p->ninstances, sizeof *att);
    rc = att ? px_plan_check(p, px_exec_evidence_check, &t.exec, require_dp, px_now_ms(), att, err)
             : px_fail(err, PX_E_NOMEM, "out of memory");
    px_node_trust_free(&t);
    if (rc == 0)
        rc = px_admissions_record(n->admissions, p, px_now_ms(), err);
    for (size_t d = 0; rc == 0 && d < m->ndatasets; d++)
        for (size_t k = 0; rc == 0 && k < m->datasets[d].npods; k++)
            if (!strcmp(m->datasets[d].pods[k], n->cfg.id) && release_one(n, p, att, &m->datasets[d], out, err))
                rc = px_err_prefix(err, "dataset %s: ", m->datasets[d].name);
    free(att);
    return rc;
}

void px_node_admit(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp) {
    px_err err = {0};
    px_plan p;
    if (px_plan_parse(&p, req->body, req->body_len, &err)) {
        px_node_reply_err(resp, &err);
        return;
    }
    json_t *releases = json_array();
    if (!releases || admit(n, sender, &p, releases, &err)) {
        px_node_reply_err(resp, &err);
        json_decref(releases);
    } else {
        px_node_reply_json(resp, json_pack("{s:s,s:o}", "pod", n->cfg.id, "releases", releases));
    }
    px_plan_free(&p);
}
