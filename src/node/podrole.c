/* The POD role: admit a plan (policy, every instance's evidence, wiring,
 * replay, budget), then release each requested dataset sealed to the
 * attested stage-0 instance and publish the signed release statement. */
#include <string.h>

#include "exec/util.h"
#include "node/node.h"
#include "node/podside.h"

/* The policy's require_dp for a dataset (0 when it has no policy). */
static int dataset_requires_dp(px_node *n, const char *dataset, int *out, px_err *err) {
    px_buf b = PX_BUF_INIT;
    px_pod_policy pol;
    *out = 0;
    pthread_mutex_lock(&n->pod_mu);
    int got = px_pod_policy_get(n->pod, dataset, &b, err);
    pthread_mutex_unlock(&n->pod_mu);
    if (got) {
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
 * (the lowest over its partitions), what a stage at the POD asks of it,
 * and each instance's node and level. A stage at the POD has no instance
 * in the plan: the POD starts it, at its own level. */
int px_node_policy_request(const px_plan *p, const px_attested *att, px_pod_stage_req *st, px_pod_instance_req *in,
                           px_node_topics *topics) {
    const px_manifest *m = &p->manifest;
    for (size_t i = 0; i < p->ninstances; i++)
        in[i] = (px_pod_instance_req){p->instances[i].stage, p->instances[i].partition,
                                      px_manifest_kind_name(m->stages[p->instances[i].stage].kind),
                                      p->instances[i].node, (int)att[i].level};
    for (size_t s = 0; s < m->nstages; s++) {
        const px_stage_spec *sp = &m->stages[s];
        memset(&st[s], 0, sizeof st[s]);
        st[s].kind = px_manifest_kind_name(sp->kind);
        /* fl-agg's "code" is the round's model, not code a policy lists. */
        st[s].code_digest = sp->has_code && sp->kind != PX_STAGE_FL_AGG ? sp->code : NULL;
        st[s].level = sp->at_pod ? (int)PX_NODE_POD_LEVEL : -1;
        st[s].at_pod = sp->at_pod;
        st[s].pad_ms = sp->pad_ms;
        /* What the task may use is the stage's limits (one place). */
        st[s].cpu_ms = sp->limits.cpu_ms;
        st[s].mem_mb = sp->limits.mem_mb;
        for (size_t t = 0; t < sp->ntopics && t < PX_MANIFEST_MAX_TOPICS; t++)
            topics->v[s][t] = sp->topics[t];
        st[s].topics = topics->v[s];
        st[s].ntopics = sp->ntopics;
    }
    for (size_t i = 0; i < p->ninstances; i++) {
        px_pod_stage_req *r = &st[p->instances[i].stage];
        if (r->level < 0 || (int)att[i].level < r->level)
            r->level = (int)att[i].level;
    }
    return 0;
}

/* What the task spends: the sum over its stages that spend budget (dp,
 * fl-agg; basic composition; each amount rounded up, as the ledger
 * charges). A training is charged once, in its first round, for all its
 * rounds (fl-agg's "dp" states the whole training's): a later round is
 * admitted only under its first round (px_admissions_training_check) and
 * charges nothing. */
int px_node_dp_amount(const px_manifest *m, char eps[PX_AMOUNT_TEXT_MAX], char delta[PX_AMOUNT_TEXT_MAX],
                      px_err *err) {
    int64_t e = 0, d = 0;
    for (size_t s = 0; s < m->nstages && !(m->has_training && m->training.has_first); s++) {
        int64_t se, sd;
        if (!px_manifest_spends(m->stages[s].kind))
            continue;
        if (px_eps_parse(&se, m->stages[s].epsilon, PX_ROUND_UP, err) ||
            px_delta_parse(&sd, m->stages[s].delta, PX_ROUND_UP, err))
            return px_err_prefix(err, "stage %zu: ", s);
        if (se > PX_EPS_MAX_UNITS - e || sd > PX_DELTA_MAX_UNITS - d)
            return px_fail(err, PX_E_LIMIT, "the task's dp and fl-agg stages spend more than a ledger can hold");
        e += se;
        d += sd;
    }
    px_eps_format(eps, e);
    px_delta_format(delta, d);
    return 0;
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

/* The reply being built: its releases array lives in jb's document, and
 * the sealed bytes and statements it refers to (attachments are borrowed
 * until the reply is encoded) are kept here. */
typedef struct admit_out {
    px_jb jb;
    json_t *releases;
    px_buf keep[2 * PX_MANIFEST_MAX_DATASETS];
    size_t nkeep;
} admit_out;

static void admit_out_free(admit_out *o) {
    for (size_t i = 0; i < o->nkeep; i++)
        px_buf_free(&o->keep[i]);
    px_jb_free(&o->jb);
}

/* Admit and release one dataset; appends {"dataset","sealed","release"}. */
static int release_one(px_node *n, const px_plan *p, const px_attested *att, const px_dataset_spec *d, admit_out *out,
                       px_err *err) {
    const char *dataset = d->name;
    const uint8_t *key = first_stage(n, p, att, d)->box_pk;
    const px_manifest *m = &p->manifest;
    char mid[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(mid, m->id, PX_SHA256_BYTES);
    px_pod_stage_req st[PX_MANIFEST_MAX_STAGES];
    px_node_topics topics;
    px_pod_instance_req *in = calloc(p->ninstances + 1, sizeof *in);
    if (!in)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_node_policy_request(p, att, st, in, &topics);
    px_pod_request req = {m->consumer_id, dataset, st, m->nstages, in, p->ninstances};
    char eps[PX_AMOUNT_TEXT_MAX], delta[PX_AMOUNT_TEXT_MAX];
    if (px_node_dp_amount(m, eps, delta, err)) {
        free(in);
        return -1;
    }
    pthread_mutex_lock(&n->pod_mu);
    int admitted = px_pod_admit(n->pod, mid, &req, eps, delta, err);
    free(in);
    px_buf stream = PX_BUF_INIT, env = PX_BUF_INIT, sealed = PX_BUF_INIT;
    int released = admitted ? -1 : px_pod_release(n->pod, &n->key, n->cfg.id, mid, dataset, key, &stream, &env, err);
    pthread_mutex_unlock(&n->pod_mu);
    if (admitted || released) {
        px_buf_free(&stream);
        px_buf_free(&env);
        return -1;
    }
    uint64_t index = 0;
    int rc = px_seal(&sealed, stream.data, stream.len, key, err) || /* the committed payload */
             px_node_log_append(n, env.data, env.len, &index, err);
    px_buf_free(&stream);
    if (rc == 0 && out->nkeep + 2 > sizeof out->keep / sizeof out->keep[0])
        rc = px_fail(err, PX_E_INTERNAL, "more releases than datasets");
    if (rc) {
        px_buf_free(&env);
        px_buf_free(&sealed);
        return -1;
    }
    /* Kept until the reply is encoded: the writer borrows them. */
    px_buf *ks = &out->keep[out->nkeep++], *ke = &out->keep[out->nkeep++];
    *ks = sealed;
    *ke = env;
    json_t *r = json_object();
    rc = px_x_append(out->releases, r, err) || px_x_set(r, "dataset", json_string(dataset), err) ||
         px_jb_set_bytes(&out->jb, r, "sealed", ks->data, ks->len, err) ||
         px_jb_set_bytes(&out->jb, r, "release", ke->data, ke->len, err) ||
         px_x_set(r, "log_index", json_integer((json_int_t)index), err);
    return rc ? -1 : 0;
}

/* The builds this POD accepts: the one its own node runs, and those its
 * owner added (`pixiu pod policy build add`). A refusal names what differs
 * from its own build, a copy of which *ref receives (free it after t). */
static int accepted_builds(px_node *n, const px_membership *mem, px_node_trust *t, px_tee_build **ref,
                           px_err *err) {
    uint8_t(*builds)[PX_SHA256_BYTES] = NULL, (*all)[PX_SHA256_BYTES] = NULL;
    size_t nb = 0;
    *ref = NULL;
    if (px_pod_build_list(n->pod, &builds, &nb, err))
        return -1;
    all = realloc(builds, (nb + 1) * sizeof *builds);
    if (!all || (n->build && !(*ref = malloc(sizeof **ref)))) {
        free(all ? all : builds);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    if (n->build) { /* an executor role may be refreshing it */
        pthread_mutex_lock(&n->build_mu);
        memcpy(all[nb++], n->build->digest, PX_SHA256_BYTES);
        **ref = n->build->build;
        pthread_mutex_unlock(&n->build_mu);
    }
    int rc = nb ? px_node_trust_init(t, mem, (const uint8_t(*)[PX_SHA256_BYTES])all, nb, *ref, err)
                : px_fail(err, PX_E_DENIED, "this POD accepts no build (its own could not be computed; add one with "
                                            "`pixiu pod policy build add`)");
    free(all);
    return rc;
}

static int admit(px_node *n, const px_member *sender, const px_plan *p, admit_out *out, json_t *hosted, px_err *err) {
    const px_manifest *m = &p->manifest;
    if (strcmp(sender->id, m->consumer_id) || !px_ct_equal(sender->signing.pk, m->consumer.pk, PX_SIGN_PUBLICKEYBYTES))
        return px_fail(err, PX_E_DENIED, "the plan's consumer %s is not the sender %s", m->consumer_id, sender->id);
    if (!px_manifest_has_pod(m, n->cfg.id))
        return px_fail(err, PX_E_DENIED, "the manifest does not ask this POD (%s)", n->cfg.id);
    int require_dp = 0;
    for (size_t d = 0; d < m->ndatasets; d++) {
        int r;
        if (dataset_requires_dp(n, m->datasets[d].name, &r, err))
            return px_err_prefix(err, "dataset %s: ", m->datasets[d].name);
        require_dp |= r;
    }
    px_membership mem;
    px_node_trust t;
    if (px_node_members(n, &mem, err))
        return -1;
    px_tee_build *ref = NULL;
    int rc = accepted_builds(n, &mem, &t, &ref, err);
    if (rc == 0) {
        /* Every instance must answer to the network's log (release after log). */
        const px_member *log = px_node_find_role(&mem, PX_ROLE_LOG);
        rc = log ? px_plan_check_log(p, &log->signing, err) : px_fail(err, PX_E_UNAVAILABLE, "the membership has no log");
        if (rc)
            px_node_trust_free(&t);
    }
    px_membership_free(&mem);
    if (rc) {
        free(ref);
        return -1;
    }
    px_attested *att = calloc(p->ninstances, sizeof *att);
    rc = att ? px_plan_check(p, px_exec_evidence_check, &t.exec, require_dp, px_now_ms(), att, err)
             : px_fail(err, PX_E_NOMEM, "out of memory");
    px_node_trust_free(&t);
    free(ref);
    /* Stages at the POD: the POD starts its own instances and releases
     * nothing yet (podhost.c). */
    if (rc == 0 && px_manifest_pod_stages(m)) {
        rc = px_node_pod_admit(n, p, att, hosted, err);
        free(att);
        return rc;
    }
    if (rc == 0)
        rc = px_admissions_admit(n->admissions, p, att, px_now_ms(), err);
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
    if (px_plan_path_parse(&p, req->body, req->body_len, n->cfg.id, &err)) {
        px_node_reply_err(resp, &err);
        return;
    }
    /* The reply's sealed data goes as attachments to a client that reads
     * them, as base64 to anyone else. */
    admit_out *out = calloc(1, sizeof *out);
    json_t *hosted = json_array();
    int rc = !out || !hosted ? px_fail(&err, PX_E_NOMEM, "out of memory")
                             : px_jb_init(&out->jb, !px_node_wants_jb(req), &err);
    if (rc == 0)
        rc = px_x_set(out->jb.doc, "pod", json_string(n->cfg.id), &err) ||
             px_x_set(out->jb.doc, "releases", out->releases = json_array(), &err) ||
             px_x_set(out->jb.doc, "instances", json_incref(hosted), &err) ||
             admit(n, sender, &p, out, hosted, &err);
    if (rc)
        px_node_reply_err(resp, &err);
    else
        px_node_reply_jb(resp, &out->jb);
    if (out)
        admit_out_free(out);
    free(out);
    json_decref(hosted);
    px_plan_free(&p);
}
