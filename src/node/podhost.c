/* Stages at the POD (docs/executor.md, "Stages at PODs"): the POD's node
 * hosts trust-λ instances as an executor does (the same worker, build,
 * measurement, evidence and release after log), over its own data only.
 *
 * Admission (POST /v1/admit with a plan whose first stages are "at":
 * "pod"): the POD checks the plan as for any task (podrole.c), then its
 * hosting policy, starts one instance per stage at the POD back to front
 * (the last one sealing to the partition of the stage after the PODs that
 * this POD is dealt to, and a delivering one to a fresh inbox key only this
 * node holds), records the admission and charges every dataset, and
 * publishes a statement per instance (its config and evidence) in the log.
 *
 * Run (POST /v1/pod-run with the code the consumer sealed to those
 * instances): the POD releases its data to its own first instance (the
 * release never leaves the node), steps each instance in turn, keeps the
 * delivery in its inbox (a row per campaign, delivered or not, so the write
 * says nothing) and answers with what leaves: the last instance's proof,
 * evidence and sealed output. A last instance of a serving kind (fl-user)
 * whose step succeeded stays, answering its consumer until the deadline
 * (POST /v1/pod-serve, podserve.c). */
#include <string.h>

#include "node/node.h"
#include "node/podside.h"

#define PX_POD_TASKS_MAX 64

void px_node_pod_task_clear(px_pod_task *t) {
    for (uint32_t s = 0; s < PX_MANIFEST_MAX_STAGES; s++) {
        if (t->started[s])
            px_lambda_host_free(&t->host[s]);
        px_buf_free(&t->config[s]);
    }
    px_manifest_free(&t->m);
    px_memzero(t, sizeof *t);
}

void px_node_pod_tasks_free(px_node *n) {
    for (size_t i = 0; n->tasks && i < n->ntasks; i++)
        px_node_pod_task_clear(&n->tasks[i]);
    free(n->tasks);
    n->tasks = NULL;
    n->ntasks = 0;
}

/* Tasks left idle, or serving, past their deadline; n->mu held. */
static void reap_locked(px_node *n, int64_t now) {
    for (size_t i = 0; i < n->ntasks; i++)
        if (n->tasks[i].used && !n->tasks[i].busy && n->tasks[i].deadline < now)
            px_node_pod_task_clear(&n->tasks[i]);
}

void px_node_pod_tasks_reap(px_node *n, int64_t now) {
    pthread_mutex_lock(&n->mu);
    reap_locked(n, now);
    pthread_mutex_unlock(&n->mu);
}

/* A free task slot; tasks past their deadline are dropped first. */
static px_pod_task *task_take(px_node *n, px_err *err) {
    px_pod_task *t = NULL;
    int64_t now = px_now_ms();
    pthread_mutex_lock(&n->mu);
    if (!n->tasks && (n->tasks = calloc(PX_POD_TASKS_MAX, sizeof *n->tasks)))
        n->ntasks = PX_POD_TASKS_MAX;
    reap_locked(n, now);
    for (size_t i = 0; i < n->ntasks && !t; i++)
        if (!n->tasks[i].used) {
            t = &n->tasks[i];
            t->used = t->busy = 1;
        }
    pthread_mutex_unlock(&n->mu);
    if (!t)
        px_fail(err, PX_E_UNAVAILABLE, "POD %s hosts too many campaigns at once", n->cfg.id);
    return t;
}

static void task_drop(px_node *n, px_pod_task *t) {
    pthread_mutex_lock(&n->mu);
    px_node_pod_task_clear(t);
    pthread_mutex_unlock(&n->mu);
}

/* ---- the log, for the instances' statements ---------------------------------- */

/* Each statement appended (signed by this node), waited for until durable,
 * and its checkpoint and inclusion proof checked against the membership's
 * log key before the worker is shown them (it checks them again). */
static int log_statement(void *ctx, const uint8_t *entry, size_t len, px_log_receipt *out, px_err *err) {
    px_node *n = ctx;
    px_membership m;
    if (px_node_members(n, &m, err))
        return -1;
    const px_member *log = px_node_find_role(&m, PX_ROLE_LOG);
    px_buf resp = PX_BUF_INIT;
    int status = 0, rc = -1;
    if (!log)
        px_fail(err, PX_E_UNAVAILABLE, "the membership has no log");
    else if (px_signed_call(&n->key, n->cfg.id, log->id, "POST", log->url, "/log/add?wait=1", entry, len,
                            PX_NODE_CALL_TIMEOUT_MS, 1 << 20, &status, &resp, err) == 0) {
        if (status != 200)
            px_fail(err, PX_E_UNAVAILABLE, "log %s refused the entry: HTTP %d %.*s", log->id, status,
                    (int)(resp.len > 160 ? 160 : resp.len), (const char *)resp.data);
        else
            rc = px_log_append_answer(resp.data, resp.len, entry, len, &log->signing, out, err);
    }
    px_buf_free(&resp);
    px_membership_free(&m);
    return rc;
}

/* ---- admission ------------------------------------------------------------------ */

/* The dataset's policy, parsed. */
static int policy_of(px_node *n, const char *dataset, px_pod_policy *pol, px_err *err) {
    px_buf b = PX_BUF_INIT;
    pthread_mutex_lock(&n->pod_mu);
    int rc = px_pod_policy_get(n->pod, dataset, &b, err);
    pthread_mutex_unlock(&n->pod_mu);
    if (rc == 0)
        rc = px_pod_policy_parse(pol, b.data, b.len, err);
    px_buf_free(&b);
    return rc;
}

/* Refuse before starting anything: the policy of every dataset of this POD
 * the plan reads (the charge checks it again, with the budget and caps). */
static int precheck(px_node *n, const px_plan *p, const px_attested *att, px_err *err) {
    const px_manifest *m = &p->manifest;
    px_pod_stage_req st[PX_MANIFEST_MAX_STAGES];
    px_node_topics topics;
    px_pod_instance_req *in = calloc(p->ninstances + 1, sizeof *in);
    if (!in)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_node_policy_request(p, att, st, in, &topics);
    int rc = 0;
    for (size_t d = 0; rc == 0 && d < m->ndatasets; d++) {
        if (!px_manifest_has_pod(m, n->cfg.id))
            continue;
        int listed = 0;
        for (size_t k = 0; k < m->datasets[d].npods; k++)
            listed |= !strcmp(m->datasets[d].pods[k], n->cfg.id);
        if (!listed)
            continue;
        px_pod_policy pol;
        px_pod_request req = {m->consumer_id, m->datasets[d].name, st, m->nstages, in, p->ninstances};
        if (policy_of(n, m->datasets[d].name, &pol, err))
            rc = px_err_prefix(err, "dataset %s: ", m->datasets[d].name);
        else {
            rc = px_pod_policy_check(&pol, &req, err);
            px_pod_policy_free(&pol);
        }
    }
    free(in);
    return rc;
}

/* The partition of the stage after the PODs this POD is dealt to: its
 * attested keys are where the last POD-side instance seals to. */
static size_t collector_keys(const px_plan *p, const px_attested *att, uint32_t pos,
                             uint8_t (*out)[PX_BOX_PUBLICKEYBYTES]) {
    const px_manifest *m = &p->manifest;
    uint32_t k = px_manifest_pod_stages(m), q = px_manifest_collector_partition(m, pos);
    size_t n = 0;
    for (size_t i = 0; i < p->ninstances && n < PX_LAMBDA_MAX_SUCCESSORS; i++)
        if (p->instances[i].stage == k && p->instances[i].partition == q)
            memcpy(out[n++], att[i].box_pk, PX_BOX_PUBLICKEYBYTES);
    return n;
}

/* Start this POD's instance of stage s: config, worker, evidence. */
static int start_one(px_node *n, px_pod_task *t, uint32_t s, const uint8_t (*succ)[PX_BOX_PUBLICKEYBYTES],
                     size_t nsucc, const px_verifier *log_key, px_err *err) {
    const px_manifest *m = &t->m;
    const px_stage_spec *sp = &m->stages[s];
    px_verifier pod_v, plat_v;
    px_signer_verifier(&n->key, &pod_v);
    px_signer_verifier(&n->platform, &plat_v);
    int deliver = sp->params && json_object_get(sp->params, "deliver");
    if (deliver) {
        px_box_keygen(&t->inbox);
        t->has_inbox = 1;
    }
    if (px_podinst_config_build(&t->config[s], m, s, t->pos, succ, nsucc, &pod_v, &plat_v, log_key,
                                  deliver ? t->inbox.pk : NULL, err))
        return -1;
    px_lambda_build *b = calloc(1, sizeof *b);
    if (!b)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    pthread_mutex_lock(&n->build_mu);
    int rc = px_lambda_build_refresh(n->build, NULL, err) || px_lambda_build_copy(b, n->build, err);
    pthread_mutex_unlock(&n->build_mu);
    uint8_t nonce[PX_TEE_NONCE_BYTES];
    px_random(nonce, sizeof nonce);
    if (rc == 0) {
        px_lambda_host_req r = {
            .backend = &px_tee_process, .build = b, .platform = &n->platform, .node = n->cfg.id,
            .kind = px_manifest_kind_name(sp->kind), .code_digest = sp->has_code ? sp->code : NULL,
            .config = t->config[s].data, .config_len = t->config[s].len, .nonce = nonce,
            /* The worker's own limits are the platform's; the task's are in the
             * config, and its runner enforces them. */
            .timeout_ms = (int)sp->limits.timeout_ms};
        rc = px_lambda_host_start_from(&t->host[s], &r, n->pool, err);
        t->started[s] = rc == 0;
        /* The last instance at the POD of a serving kind stays after its
         * ok step, answering its consumer (podserve.c). */
        t->host[s].serve = s + 1 == t->k && px_node_kind_serves(sp->kind);
    }
    px_lambda_build_free(b);
    free(b);
    if (rc == 0)
        memcpy(t->nonce[s], nonce, sizeof nonce);
    return rc ? px_err_prefix(err, "stage %u (%s) at this POD: ", s, px_manifest_kind_name(sp->kind)) : 0;
}

/* Back to front, so each config names its successor's key. */
static int start_all(px_node *n, px_pod_task *t, const px_plan *p, const px_attested *att, px_err *err) {
    px_membership mem;
    if (px_node_members(n, &mem, err))
        return -1;
    const px_member *log = px_node_find_role(&mem, PX_ROLE_LOG);
    px_verifier log_key;
    if (log)
        log_key = log->signing;
    px_membership_free(&mem);
    if (!log)
        return px_fail(err, PX_E_UNAVAILABLE, "the membership has no log");
    uint8_t succ[PX_LAMBDA_MAX_SUCCESSORS][PX_BOX_PUBLICKEYBYTES];
    size_t nsucc = collector_keys(p, att, t->pos, succ);
    if (nsucc == 0)
        return px_fail(err, PX_E_INVALID, "the plan has no instance of stage %u for this POD's partition", t->k);
    for (uint32_t s = t->k; s-- > 0;) {
        if (start_one(n, t, s, (const uint8_t(*)[PX_BOX_PUBLICKEYBYTES])succ, nsucc, &log_key, err))
            return -1;
        memcpy(succ[0], t->host[s].box_pk, PX_BOX_PUBLICKEYBYTES);
        nsucc = 1;
    }
    return 0;
}

/* Charge every dataset of this POD the plan reads (policy, caps, budget). */
static int charge(px_node *n, const px_plan *p, const px_attested *att, px_err *err) {
    const px_manifest *m = &p->manifest;
    char mid[2 * PX_SHA256_BYTES + 1], eps[PX_AMOUNT_TEXT_MAX], delta[PX_AMOUNT_TEXT_MAX];
    px_hex_encode(mid, m->id, PX_SHA256_BYTES);
    px_pod_stage_req st[PX_MANIFEST_MAX_STAGES];
    px_node_topics topics;
    px_pod_instance_req *in = calloc(p->ninstances + 1, sizeof *in);
    if (!in)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_node_policy_request(p, att, st, in, &topics);
    int rc = px_node_dp_amount(m, eps, delta, err);
    for (size_t d = 0; rc == 0 && d < m->ndatasets; d++)
        for (size_t k = 0; rc == 0 && k < m->datasets[d].npods; k++) {
            if (strcmp(m->datasets[d].pods[k], n->cfg.id))
                continue;
            px_pod_request req = {m->consumer_id, m->datasets[d].name, st, m->nstages, in, p->ninstances};
            pthread_mutex_lock(&n->pod_mu);
            rc = px_pod_admit(n->pod, mid, &req, eps, delta, err);
            pthread_mutex_unlock(&n->pod_mu);
            if (rc)
                px_err_prefix(err, "dataset %s: ", m->datasets[d].name);
        }
    free(in);
    return rc;
}

/* Each instance's statement in the log, and in the reply. */
static int publish(px_node *n, px_pod_task *t, json_t *out, px_err *err) {
    const px_manifest *m = &t->m;
    for (uint32_t s = 0; s < t->k; s++) {
        px_buf env = PX_BUF_INIT;
        px_podinst pi = {n->cfg.id, s, t->pos, px_manifest_kind_name(m->stages[s].kind), t->nonce[s],
                         t->config[s].data, t->config[s].len, t->host[s].evidence.data, t->host[s].evidence.len};
        json_t *o = json_object();
        int rc = px_podinst_sign(&env, m->id, &pi, &n->key, err) || px_node_log_append(n, env.data, env.len, NULL, err) ||
                 px_x_append(out, o, err) || px_x_set(o, "stage", json_integer(s), err) ||
                 px_x_set(o, "partition", json_integer(t->pos), err) ||
                 px_x_set_b64(o, "statement", env.data, env.len, err);
        px_buf_free(&env);
        if (rc)
            return -1;
    }
    return 0;
}

int px_node_pod_admit(px_node *n, const px_plan *p, const px_attested *att, json_t *instances, px_err *err) {
    const px_manifest *m = &p->manifest;
    if (!n->hosts)
        return px_fail(err, PX_E_DENIED, "POD %s hosts no stages placed at the POD (it has no platform key or no "
                       "build)", n->cfg.id);
    /* A round of a training: refused before anything starts (the admission
     * checks it again, in its transaction). */
    if (px_admissions_training_check(n->admissions, m, err) || precheck(n, p, att, err))
        return -1;
    px_pod_task *t = task_take(n, err);
    if (!t)
        return -1;
    memcpy(t->manifest, m->id, PX_SHA256_BYTES);
    snprintf(t->consumer, sizeof t->consumer, "%s", m->consumer_id);
    t->deadline = m->deadline;
    t->k = px_manifest_pod_stages(m);
    t->pos = (uint32_t)px_manifest_pod_position(m, n->cfg.id);
    /* The task keeps its own copy of the manifest. */
    int rc = px_manifest_parse(&t->m, m->envelope.data, m->envelope.len, err);
    /* A round of a training is charged before its admission (and round) is
     * recorded: a first round whose charge is refused must leave no row a
     * later round could run under, charging nothing. A crash in between
     * leaves a charge and no round, so later rounds are refused, never run
     * free (and the charge of a first round is final anyway). Other tasks
     * record first, so a charge always has its watch (a refund). */
    if (rc == 0)
        rc = start_all(n, t, p, att, err);
    if (rc == 0 && m->has_training)
        rc = charge(n, p, att, err) ||
             px_admissions_admit_pod(n->admissions, p, att, t->host[t->k - 1].sign_pk, px_now_ms(), err);
    else if (rc == 0)
        rc = px_admissions_admit_pod(n->admissions, p, att, t->host[t->k - 1].sign_pk, px_now_ms(), err) ||
             charge(n, p, att, err);
    if (rc == 0)
        rc = publish(n, t, instances, err);
    if (rc) {
        task_drop(n, t);
        return -1;
    }
    pthread_mutex_lock(&n->mu);
    t->busy = 0;
    pthread_mutex_unlock(&n->mu);
    return 0;
}

/* ---- the run ----------------------------------------------------------------- */

typedef struct run_in {
    px_buf sealed[PX_MANIFEST_MAX_DATASETS], env[PX_MANIFEST_MAX_DATASETS];
    px_step_input in[PX_MANIFEST_MAX_DATASETS];
    size_t n;
} run_in;

static void run_in_free(run_in *r) {
    for (size_t i = 0; i < PX_MANIFEST_MAX_DATASETS; i++) {
        px_buf_free(&r->sealed[i]);
        px_buf_free(&r->env[i]);
    }
}

/* Release each dataset of this POD the task reads to its own first
 * instance: sealed here, never sent anywhere; the statement goes to the log. */
static int release_all(px_node *n, px_pod_task *t, run_in *r, px_err *err) {
    const px_manifest *m = &t->m;
    char mid[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(mid, m->id, PX_SHA256_BYTES);
    for (size_t d = 0; d < m->ndatasets; d++) {
        int listed = 0;
        for (size_t k = 0; k < m->datasets[d].npods; k++)
            listed |= !strcmp(m->datasets[d].pods[k], n->cfg.id);
        if (!listed)
            continue;
        px_pod_policy pol;
        if (policy_of(n, m->datasets[d].name, &pol, err))
            return px_err_prefix(err, "dataset %s: ", m->datasets[d].name);
        px_buf stream = PX_BUF_INIT;
        size_t i = r->n;
        pthread_mutex_lock(&n->pod_mu);
        int rc = px_pod_release_at_pod(n->pod, &n->key, n->cfg.id, mid, m->datasets[d].name, t->host[0].box_pk,
                                       &pol.at_pod, &stream, &r->env[i], err);
        pthread_mutex_unlock(&n->pod_mu);
        px_pod_policy_free(&pol);
        if (rc == 0)
            rc = px_seal(&r->sealed[i], stream.data, stream.len, t->host[0].box_pk, err) ||
                 px_node_log_append(n, r->env[i].data, r->env[i].len, NULL, err);
        px_buf_free(&stream);
        if (rc)
            return -1;
        r->in[i] = (px_step_input){r->sealed[i].data, r->sealed[i].len, r->env[i].data, r->env[i].len, NULL, 0};
        r->n++;
    }
    if (r->n == 0)
        return px_fail(err, PX_E_INVALID, "the task reads no dataset of this POD");
    return 0;
}

/* What the delivering instance left for this POD's inbox. The row is
 * written whether it delivered or not: the same columns and sizes. */
static int keep_delivery(px_node *n, px_pod_task *t, uint32_t s, const px_step_result *res, px_err *err) {
    px_inbox_item it;
    memset(&it, 0, sizeof it);
    px_hex_encode(it.manifest, t->m.id, PX_SHA256_BYTES);
    snprintf(it.task, sizeof it.task, "%s", t->m.name);
    snprintf(it.consumer, sizeof it.consumer, "%s", t->m.consumer_id);
    it.received_ms = px_now_ms();
    it.stage = s;
    it.log_index = res->proof_index;
    px_verifier plat;
    px_signer_verifier(&n->platform, &plat);
    px_delivery d;
    int rc = px_seal_open(&it.opening, res->delivery.data, res->delivery.len, &t->inbox, err);
    if (rc == 0 && (it.opening.len < PX_COMMIT_HEADERBYTES ||
                    px_delivery_parse(&d, it.opening.data + PX_COMMIT_HEADERBYTES,
                                      it.opening.len - PX_COMMIT_HEADERBYTES, err)))
        rc = px_fail(err, PX_E_INVALID, "the delivery is not a PXD1 payload");
    if (rc == 0) {
        it.delivered = d.delivered;
        it.size = d.len;
        rc = px_buf_append(&it.manifest_env, t->m.envelope.data, t->m.envelope.len, err) ||
             px_buf_append(&it.config, t->config[s].data, t->config[s].len, err) ||
             px_buf_append(&it.evidence, t->host[s].evidence.data, t->host[s].evidence.len, err) ||
             px_buf_append(&it.proof, res->proof.data, res->proof.len, err) || px_verifier_format(&plat, &it.platform, err);
    }
    while (rc == 0 && it.platform.len && it.platform.data[it.platform.len - 1] == '\n')
        it.platform.len--;
    if (rc == 0) {
        pthread_mutex_lock(&n->pod_mu);
        rc = px_pod_inbox_put(n->pod, &it, err);
        pthread_mutex_unlock(&n->pod_mu);
    }
    px_inbox_item_free(&it);
    return rc ? px_err_prefix(err, "inbox: ") : 0;
}

/* The sealed code the consumer sent for stage s (NULL when none). */
static const px_buf *code_for(const px_buf *codes, const int *have, uint32_t s) {
    return have[s] ? &codes[s] : NULL;
}

/* Every instance in turn on this node; the last one's proof, evidence and
 * sealed output go back. A signed failure ends the run with its proof. */
static int run_all(px_node *n, px_pod_task *t, const px_buf *codes, const int *have, json_t *reply, px_err *err) {
    run_in r;
    memset(&r, 0, sizeof r);
    px_step_result res[PX_MANIFEST_MAX_STAGES];
    memset(res, 0, sizeof res);
    px_lambda_log log = {log_statement, n};
    int rc = release_all(n, t, &r, err);
    uint32_t s = 0;
    for (; rc == 0 && s < t->k; s++) {
        const px_buf *code = code_for(codes, have, s);
        px_step_input prev;
        const px_step_input *in = r.in;
        size_t nin = r.n;
        if (s > 0) {
            prev = (px_step_input){res[s - 1].outputs[0].data, res[s - 1].outputs[0].len, res[s - 1].proof.data,
                                   res[s - 1].proof.len, t->host[s - 1].evidence.data, t->host[s - 1].evidence.len};
            in = &prev;
            nin = 1;
        }
        rc = px_lambda_host_step(&t->host[s], code ? code->data : NULL, code ? code->len : 0, in, nin, &log, &res[s],
                                 err);
        t->started[s] = t->host[s].serving; /* reaped by the step, unless it serves */
        if (rc)
            px_err_prefix(err, "stage %u at this POD: ", s);
        else if (!res[s].ok)
            break;
        else if (res[s].delivery.len)
            rc = keep_delivery(n, t, s, &res[s], err);
    }
    if (rc == 0) {
        uint32_t last = s < t->k ? s : t->k - 1;
        const px_step_result *x = &res[last];
        rc = px_x_set(reply, "pod", json_string(n->cfg.id), err) || px_x_set(reply, "stage", json_integer(last), err) ||
             px_x_set(reply, "partition", json_integer(t->pos), err) ||
             px_x_set(reply, "ok", json_boolean(x->ok && last + 1 == t->k), err) ||
             px_x_set(reply, "status", json_string(x->status), err) ||
             px_x_set_b64(reply, "proof", x->proof.data, x->proof.len, err) ||
             px_x_set_b64(reply, "evidence", t->host[last].evidence.data, t->host[last].evidence.len, err) ||
             px_x_set(reply, "log_index", json_integer((json_int_t)x->proof_index), err);
        if (rc == 0 && x->ok && last + 1 == t->k)
            rc = px_x_set_b64(reply, "output", x->outputs[0].data, x->outputs[0].len, err);
        if (rc == 0 && x->ok && last + 1 == t->k && t->host[last].serving)
            px_node_pod_serving_keep(t, x);
    }
    for (uint32_t i = 0; i < PX_MANIFEST_MAX_STAGES; i++)
        px_step_result_free(&res[i]);
    run_in_free(&r);
    return rc;
}

px_pod_task *px_node_pod_task_find(px_node *n, const uint8_t *mid, const px_member *sender, px_err *err) {
    for (size_t i = 0; i < n->ntasks; i++) {
        px_pod_task *t = &n->tasks[i];
        if (!t->used || !px_ct_equal(t->manifest, mid, PX_SHA256_BYTES))
            continue;
        if (strcmp(t->consumer, sender->id))
            return px_fail(err, PX_E_DENIED, "the task belongs to another consumer"), NULL;
        return t;
    }
    return px_fail(err, PX_E_NOTFOUND, "POD %s hosts no instance of that task", n->cfg.id), NULL;
}

/* The task of this manifest, for its consumer, taken for its one run. */
static px_pod_task *claim(px_node *n, const uint8_t *mid, const px_member *sender, px_err *err) {
    pthread_mutex_lock(&n->mu);
    px_pod_task *t = px_node_pod_task_find(n, mid, sender, err);
    if (!t) {
        /* err names why */
    } else if (t->busy || t->ran)
        t = NULL, px_fail(err, PX_E_STATE, "the task's instances already ran or are running");
    else
        t->busy = 1;
    pthread_mutex_unlock(&n->mu);
    return t;
}

/* {"manifest": "<hex>", "code": [{"stage": s, "sealed": "<base64>"}]} */
static int read_codes(const json_t *o, uint8_t mid[PX_SHA256_BYTES], px_buf *codes, int *have, px_err *err) {
    static const char *const keys[] = {"manifest", "code", NULL};
    static const char *const ckeys[] = {"stage", "sealed", NULL};
    json_t *arr, *v;
    size_t i;
    if (!json_is_object(o) || px_json_only(o, "pod-run request", keys, err) ||
        px_json_hex(o, "manifest", mid, PX_SHA256_BYTES, err) || px_x_arr(o, "code", 0, PX_MANIFEST_MAX_STAGES, &arr, err))
        return px_err_prefix(err, "pod-run: ");
    json_array_foreach(arr, i, v) {
        int64_t s;
        if (px_json_only(v, "code", ckeys, err) || px_json_int(v, "stage", &s, err))
            return px_err_prefix(err, "pod-run: code %zu: ", i);
        if (s < 0 || s >= PX_MANIFEST_MAX_STAGES || have[s])
            return px_fail(err, PX_E_INVALID, "pod-run: code %zu names a bad or repeated stage", i);
        if (px_json_b64(v, "sealed", &codes[s], err))
            return px_err_prefix(err, "pod-run: code %zu: ", i);
        have[s] = 1;
    }
    return 0;
}

void px_node_pod_run(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp) {
    px_err err = {0};
    px_buf codes[PX_MANIFEST_MAX_STAGES];
    int have[PX_MANIFEST_MAX_STAGES] = {0};
    uint8_t mid[PX_SHA256_BYTES];
    memset(codes, 0, sizeof codes);
    json_t *o = px_json_parse(req->body, req->body_len, PX_NODE_BODY_MAX, &err), *reply = json_object();
    px_pod_task *t = NULL;
    int rc = !o || !reply || read_codes(o, mid, codes, have, &err) || !(t = claim(n, mid, sender, &err)) ? -1 : 0;
    if (rc == 0)
        rc = run_all(n, t, codes, have, reply, &err);
    /* A serving instance stays until the deadline (podserve.c); the task
     * never runs again. */
    if (t && rc == 0 && t->serving) {
        pthread_mutex_lock(&n->mu);
        t->ran = 1;
        t->busy = 0;
        pthread_mutex_unlock(&n->mu);
    } else if (t) {
        task_drop(n, t);
    }
    if (rc) {
        px_node_reply_err(resp, &err);
        json_decref(reply);
    } else {
        px_node_reply_json(resp, reply);
    }
    for (size_t i = 0; i < PX_MANIFEST_MAX_STAGES; i++)
        px_buf_free(&codes[i]);
    json_decref(o);
}
