/* The dispatcher's side of stages at the PODs (docs/executor.md, "Stages
 * at PODs"). The plan holds the executors' instances only; each POD starts
 * its own when it admits the plan and answers with a statement per
 * instance (its config and evidence, signed by the POD). The dispatcher
 * checks every one as anyone could from the log (the evidence under the
 * POD's platform key, the measurement over the manifest's code and that
 * config, the config wired to this POD's partition of the next stage),
 * seals the task code, key and content to it, and asks the POD to run. A
 * POD that refuses, is offline, fails or crashes is left out and named;
 * the task goes on with the others. */
#include <pthread.h>
#include <string.h>

#include "node/dispatch.h"

#define PX_POD_THREADS 32

typedef struct pod_pool {
    px_job *j;
    size_t next;
    int phase; /* 0: admit, 1: run */
    pthread_mutex_t mu;
} pod_pool;

void px_dispatch_pods_free(px_job *j) {
    for (size_t i = 0; j->pods && i < j->npods; i++) {
        px_buf_free(&j->pods[i].proof);
        px_buf_free(&j->pods[i].evidence);
        px_buf_free(&j->pods[i].output);
        px_buf_free(&j->pods[i].fl_shares);
    }
    free(j->pods);
    j->pods = NULL;
    j->npods = 0;
}

/* The attested keys of the partition of the stage after the PODs that the
 * POD at pos is dealt to. */
static int collector_has(const px_job *j, uint32_t pos, const uint8_t *key) {
    uint32_t q = px_manifest_collector_partition(&j->m, pos);
    for (size_t k = 0; k < j->ns; k++)
        if (j->s[k].stage == j->kpod && j->s[k].partition == q &&
            px_ct_equal(j->s[k].att.box_pk, key, PX_BOX_PUBLICKEYBYTES))
            return 1;
    return 0;
}

/* The config of stage s at this POD sends only where it must: the POD's
 * next instance, or its partition of the stage after the PODs. */
static int wired(const px_job *j, const px_podside *ps, uint32_t s, const px_stage_config *c, px_err *err) {
    for (size_t i = 0; i < c->nsuccessors; i++) {
        int ok = s + 1 < j->kpod ? px_ct_equal(c->successors[i], ps->att[s + 1].box_pk, PX_BOX_PUBLICKEYBYTES)
                                 : collector_has(j, ps->pos, c->successors[i]);
        if (!ok)
            return px_fail(err, PX_E_VERIFY, "stage %u at %s seals its output to a key that is not %s", s,
                           ps->node->id, s + 1 < j->kpod ? "its next stage's" : "its partition of the next stage");
    }
    return 0;
}

/* Every instance the POD says it started, checked; back to front, so the
 * next stage's key is known when a config is checked. */
static int take_instances(px_job *j, px_podside *ps, const json_t *arr, px_err *err) {
    if (json_array_size(arr) != j->kpod)
        return px_fail(err, PX_E_INVALID, "%s sent %zu instances for %u stages at the POD", ps->node->id,
                       json_array_size(arr), j->kpod);
    for (uint32_t s = j->kpod; s-- > 0;) {
        const json_t *o = json_array_get(arr, s);
        px_buf st = PX_BUF_INIT;
        px_entry e;
        px_stage_config c;
        int rc = px_json_b64(o, "statement", &st, err) || px_entry_parse(&e, 0, st.data, st.len, err);
        px_buf_free(&st);
        if (rc)
            return px_err_prefix(err, "%s: ", ps->node->id);
        rc = e.stage != s || strcmp(e.pod, ps->node->id)
                 ? px_fail(err, PX_E_VERIFY, "%s sent a statement for stage %u of %s", ps->node->id, e.stage, e.pod)
                 : px_podinst_check(&e, &j->m, ps->node->signing.pk, px_exec_evidence_check, &j->trust.exec,
                                    &ps->att[s], &c, err);
        px_entry_free(&e);
        if (rc)
            return -1;
        rc = wired(j, ps, s, &c, err);
        px_lambda_config_free(&c);
        if (rc)
            return -1;
    }
    return 0;
}

static void admit_one(px_job *j, px_podside *ps) {
    px_dispatch_reply rep = {0};
    json_t *arr;
    px_err err = {0};
    if (px_dispatch_ask_admit(j, ps->node, &rep, &err) ||
        px_x_arr(rep.doc, "instances", 1, PX_MANIFEST_MAX_STAGES, &arr, &err) || take_instances(j, ps, arr, &err))
        snprintf(ps->failure, sizeof ps->failure, "refused: %.200s", err.msg);
    else
        ps->admitted = 1;
    px_dispatch_reply_free(&rep);
}

/* The code for each stage at the POD that runs code, sealed to the
 * instance whose evidence was checked; then the POD's one run. */
static void run_one(px_job *j, px_podside *ps) {
    char mid[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(mid, j->m.id, PX_SHA256_BYTES);
    json_t *req = json_pack("{s:s,s:[]}", "manifest", mid, "code"), *rep = NULL;
    px_buf body = PX_BUF_INIT;
    px_err err = {0};
    int rc = req ? 0 : px_fail(&err, PX_E_NOMEM, "out of memory");
    for (uint32_t s = 0; rc == 0 && s < j->kpod; s++) {
        const px_stage_spec *sp = &j->m.stages[s];
        if (!sp->has_code)
            continue;
        px_buf code = PX_BUF_INIT;
        json_t *c = json_object();
        rc = (sp->kind == PX_STAGE_FL_USER ? px_dispatch_fl_seal_user(j, ps, ps->att[s].box_pk, &code, &err)
                                           : px_dispatch_seal_code(j, sp, ps->att[s].box_pk, &code, &err)) ||
             px_x_append(json_object_get(req, "code"), c, &err) || px_x_set(c, "stage", json_integer(s), &err) ||
             px_x_set_b64(c, "sealed", code.data, code.len, &err);
        px_buf_free(&code);
    }
    if (rc == 0)
        rc = px_json_dump(req, &body, &err) ||
             px_dispatch_call(j, ps->node, "/v1/pod-run", body.data, body.len, &rep, &err) ||
             px_json_b64(rep, "proof", &ps->proof, &err) || px_json_b64(rep, "evidence", &ps->evidence, &err);
    /* What came back must be the proof of its last attested instance. */
    px_exec_proof p;
    if (rc == 0 && px_lambda_proof_verify(&p, ps->proof.data, ps->proof.len, ps->att[j->kpod - 1].sign_pk, &err))
        rc = -1;
    if (rc == 0 && (p.index != j->kpod - 1 || strcmp(p.status, PX_STATUS_OK)))
        rc = px_fail(&err, PX_E_INVALID, "stage %u at the POD ended %s", p.index, p.status);
    if (rc == 0)
        rc = px_json_b64(rep, "output", &ps->output, &err);
    if (rc)
        snprintf(ps->failure, sizeof ps->failure, "ran no stage to an ok proof: %.200s", err.msg);
    else
        ps->ran = 1;
    json_decref(req);
    json_decref(rep);
    px_buf_free(&body);
}

static void *pool_main(void *arg) {
    pod_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->j->npods)
            return NULL;
        px_podside *ps = &p->j->pods[i];
        uint64_t t0 = px_mono_ns();
        if (p->phase == 0)
            admit_one(p->j, ps);
        else if (ps->admitted)
            run_one(p->j, ps);
        ps->ms += px_dispatch_ms_since(t0);
    }
}

/* Every POD at once (up to PX_POD_THREADS calls at a time): a run mostly
 * waits out its instances' pad. */
static void each_pod(px_job *j, int phase) {
    pod_pool p = {.j = j, .phase = phase};
    pthread_t th[PX_POD_THREADS];
    size_t started = 0;
    pthread_mutex_init(&p.mu, NULL);
    while (started < PX_POD_THREADS && started < j->npods && pthread_create(&th[started], NULL, pool_main, &p) == 0)
        started++;
    pool_main(&p);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&p.mu);
}

static int pods_list(px_job *j, px_err *err) {
    size_t n = px_manifest_pod_count(&j->m);
    if (!(j->pods = calloc(n + 1, sizeof *j->pods)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t d = 0; d < j->m.ndatasets; d++)
        for (size_t k = 0; k < j->m.datasets[d].npods; k++) {
            const char *id = j->m.datasets[d].pods[k];
            int64_t pos = px_manifest_pod_position(&j->m, id);
            if (pos < 0 || (size_t)pos >= n || j->pods[pos].node)
                continue;
            j->pods[pos].node = px_membership_find(j->o->members, id);
            j->pods[pos].pos = (uint32_t)pos;
        }
    j->npods = n;
    return 0;
}

int px_dispatch_pods(px_job *j, px_err *err) {
    if (pods_list(j, err))
        return -1;
    each_pod(j, 0);
    size_t admitted = 0;
    for (size_t i = 0; i < j->npods; i++)
        admitted += j->pods[i].admitted;
    px_dispatch_progress(j, "  %zu of %zu PODs admitted the plan and started their instances", admitted, j->npods);
    if (j->m.has_training && px_dispatch_fl_roster(j, err)) {
        for (size_t i = 0; i < j->npods; i++)
            if (!j->pods[i].admitted)
                px_dispatch_progress(j, "  %s: %s", j->pods[i].node->id, j->pods[i].failure);
        return -1;
    }
    each_pod(j, 1);
    j->r->pods = j->npods;
    for (size_t i = 0; i < j->npods; i++) {
        px_podside *ps = &j->pods[i];
        j->r->pods_ms += ps->ms;
        if (ps->ran) {
            j->r->pods_ran++;
            continue;
        }
        j->r->pods_missing++;
        if (!ps->admitted)
            j->r->refusals++;
        px_dispatch_progress(j, "  %s: %s", ps->node->id, ps->failure);
    }
    px_dispatch_progress(j, "  %zu PODs ran the stages at the POD, %zu did not", j->r->pods_ran, j->r->pods_missing);
    if (j->r->pods_ran == 0) {
        /* Name why (the first POD's failure and how many share it), so the
         * task's one-line failure says more than that nothing ran. */
        if (j->npods == 0)
            return px_fail(err, PX_E_DENIED, "no POD ran the stages at the POD");
        const px_podside *first = &j->pods[0];
        size_t same = 0;
        for (size_t i = 0; i < j->npods; i++)
            same += !strcmp(j->pods[i].failure, first->failure);
        return px_fail(err, PX_E_DENIED, "no POD ran the stages at the POD: %s: %.200s (%zu of %zu PODs alike)",
                       first->node->id, first->failure, same, j->npods);
    }
    return 0;
}

int px_dispatch_pod_inputs(const px_job *j, const px_slot *sl, px_jb *jb, json_t *arr, px_err *err) {
    for (size_t i = 0; i < j->npods; i++) {
        const px_podside *ps = &j->pods[i];
        if (!ps->ran || px_manifest_collector_partition(&j->m, ps->pos) != sl->partition)
            continue;
        if (px_dispatch_add_input(jb, arr, &ps->output, &ps->proof, &ps->evidence, err))
            return -1;
    }
    return 0;
}
