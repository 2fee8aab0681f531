/* A task as the log tells it: the tasks list (one summary per task), and a
 * task's page: its manifest, its plan's instances with their evidence, the
 * releases, each stage instance's accepted-input statement and proof with
 * inclusion proofs, and the audit, computed by px_audit_run_at exactly as
 * `pixiu audit` computes it on this machine (same membership keys, same
 * build), so the failure a page names is the one the CLI names. */
#include <string.h>

#include "explorer/ex.h"

typedef struct ex_tctx {
    px_entry *e;
    size_t n;
    px_explorer_trust trust;
    int trusted;
    px_audit a;
    int audited;
    px_plan plan;
    int has_plan;
    px_attested *att; /* one per plan instance when the plan checked */
    char att_why[PX_ERR_MSG_MAX];
} ex_tctx;

static void tctx_free(px_explorer *x, ex_tctx *c) {
    ex_entries_free(c->e, c->n);
    if (c->audited)
        px_audit_free(&c->a);
    if (c->has_plan)
        px_plan_free(&c->plan);
    free(c->att);
    if (c->trusted && x->o.trust_put)
        x->o.trust_put(x->o.ctx, &c->trust);
    memset(c, 0, sizeof *c);
}

static int tctx_load(px_explorer *x, const uint8_t id[PX_SHA256_BYTES], int64_t now, ex_tctx *c, px_err *err) {
    memset(c, 0, sizeof *c);
    if (ex_entries(x, PX_LOG_BY_MANIFEST, id, &c->e, &c->n, err))
        return -1;
    if (!x->o.trust_get || x->o.trust_get(x->o.ctx, &c->trust, err))
        return px_err_prefix(err, "trust: ");
    c->trusted = 1;
    if (px_audit_run_at(&c->a, id, c->e, c->n, c->trust.pods, c->trust.npods, px_exec_evidence_check, &c->trust.exec,
                        now, err))
        return -1;
    c->audited = 1;
    int found = px_plan_first(c->e, c->n, id, &c->plan, err);
    if (found < 0)
        return -1;
    c->has_plan = found;
    if (found) {
        px_err cerr = {0};
        c->att = calloc(c->plan.ninstances, sizeof *c->att);
        if (!c->att)
            return px_fail(err, PX_E_NOMEM, "out of memory");
        if (px_plan_check(&c->plan, px_exec_evidence_check, &c->trust.exec, 0, c->plan.manifest.created, c->att,
                          &cerr)) {
            snprintf(c->att_why, sizeof c->att_why, "%s", cerr.msg);
            free(c->att);
            c->att = NULL;
        }
    }
    return 0;
}

/* ---- pieces ------------------------------------------------------------------------- */

static const char *stage_kind(const px_plan *p, uint32_t stage) {
    return stage < p->manifest.nstages ? px_stage_type_name(p->manifest.stages[stage].kind) : "?";
}

/* The ε a DP stage's ok proof states, or NULL. */
static const char *dp_epsilon(const ex_tctx *c) {
    for (size_t i = 0; i < c->n; i++) {
        const px_entry *e = &c->e[i];
        if (e->kind == PX_ENTRY_EXEC && !strcmp(e->stage_kind, "dp") && !strcmp(e->status, "ok")) {
            json_t *dp = json_object_get(e->st.predicate, "dp");
            const char *eps = json_string_value(json_object_get(dp, "epsilon"));
            if (eps && px_decimal_valid(eps))
                return eps;
        }
    }
    return NULL;
}

static void times_of(const ex_tctx *c, int64_t *start, int64_t *end) {
    *start = *end = 0;
    for (size_t i = 0; i < c->n; i++) {
        const px_entry *e = &c->e[i];
        if (e->kind != PX_ENTRY_EXEC)
            continue;
        json_t *s = json_object_get(e->st.predicate, "started"), *f = json_object_get(e->st.predicate, "finished");
        if (json_is_integer(s) && (!*start || json_integer_value(s) < *start))
            *start = json_integer_value(s);
        if (json_is_integer(f) && json_integer_value(f) > *end)
            *end = json_integer_value(f);
    }
}

static json_t *summary_json(const ex_tctx *c, const uint8_t id[PX_SHA256_BYTES], uint64_t first) {
    char hex[2 * PX_SHA256_BYTES + 1];
    ex_hex(hex, id);
    json_t *o = json_pack("{s:s,s:I,s:I,s:s,s:s,s:I,s:s,s:o,s:I}", "task", hex, "plan_entry", (json_int_t)first,
                          "entries", (json_int_t)c->n, "verdict", px_verdict_name(c->a.verdict), "status",
                          c->a.status, "stage", (json_int_t)c->a.stage, "why", c->a.why, "blamed",
                          c->a.blamed[0] && c->a.verdict != PX_AUDIT_OK ? json_string(c->a.blamed) : json_null(),
                          "releases", (json_int_t)c->a.releases);
    if (!o)
        return NULL;
    const char *eps = dp_epsilon(c);
    int64_t start, end;
    times_of(c, &start, &end);
    json_object_set_new(o, "epsilon", eps ? json_string(eps) : json_null());
    json_object_set_new(o, "started", start ? json_integer(start) : json_null());
    json_object_set_new(o, "finished", end ? json_integer(end) : json_null());
    json_object_set_new(o, "duration_ms", start && end >= start ? json_integer(end - start) : json_null());
    if (!c->has_plan) {
        json_object_set_new(o, "name", json_null());
        json_object_set_new(o, "consumer", json_null());
        return o;
    }
    const px_manifest *m = &c->plan.manifest;
    json_t *stages = json_array(), *nodes = json_array();
    for (size_t i = 0; i < m->nstages; i++)
        json_array_append_new(stages, json_string(px_stage_type_name(m->stages[i].kind)));
    for (size_t i = 0; i < c->plan.ninstances; i++)
        json_array_append_new(nodes, json_string(c->plan.instances[i].node));
    json_object_set_new(o, "name", json_string(m->name));
    json_object_set_new(o, "consumer", json_string(m->consumer_id));
    json_object_set_new(o, "created", json_integer(m->created));
    json_object_set_new(o, "deadline", json_integer(m->deadline));
    json_object_set_new(o, "stages", stages);
    json_object_set_new(o, "executors", nodes);
    json_t *pods = json_array();
    for (size_t d = 0; d < m->ndatasets; d++)
        for (size_t k = 0; k < m->datasets[d].npods; k++)
            json_array_append_new(pods, json_string(m->datasets[d].pods[k]));
    json_object_set_new(o, "pods", pods);
    return o;
}

json_t *ex_task_summary(px_explorer *x, ex_task *t, int64_t now, px_err *err) {
    if (t->summary)
        return json_incref(t->summary);
    ex_tctx c;
    if (tctx_load(x, t->id, now, &c, err)) {
        tctx_free(x, &c);
        return NULL;
    }
    json_t *o = summary_json(&c, t->id, t->first);
    /* A verdict of ok or failed is final: what is in the log stays. */
    if (o && (c.a.verdict == PX_AUDIT_OK || c.a.verdict == PX_AUDIT_FAILED))
        t->summary = json_incref(o);
    tctx_free(x, &c);
    if (!o)
        px_fail(err, PX_E_NOMEM, "out of memory");
    return o;
}

/* ---- the tasks list ------------------------------------------------------------------- */

void ex_view_tasks(ex_req *r) {
    px_explorer *x = r->x;
    px_err err = {0};
    char q[24];
    long long page = 0;
    if (ex_query(r->req, "page", q, sizeof q)) {
        char *end;
        page = strtoll(q, &end, 10);
        if (*end || page < 0 || page > 1000000000LL) {
            px_fail(&err, PX_E_INVALID, "page must be a number from 0");
            return ex_fail(r, &err);
        }
    }
    pthread_mutex_lock(&x->mu);
    json_t *arr = json_array(), *o = NULL;
    int rc = ex_index_update(x, &err) || !arr;
    size_t total = x->ntasks, per = PX_EXPLORER_PAGE_MAX;
    int64_t now = px_now_ms();
    /* Newest first. */
    for (size_t k = (size_t)page * per; rc == 0 && k < total && k < ((size_t)page + 1) * per; k++) {
        json_t *s = ex_task_summary(x, &x->tasks[total - 1 - k], now, &err);
        rc = !s || px_x_append(arr, s, &err);
    }
    uint64_t scanned = x->scanned;
    pthread_mutex_unlock(&x->mu);
    if (rc == 0)
        o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:O}", "node", x->node_id, "log_size", (json_int_t)scanned, "total",
                      (json_int_t)total, "page", (json_int_t)page, "per_page", (json_int_t)per, "tasks", arr);
    json_decref(arr);
    if (!o)
        return ex_fail(r, err.msg[0] ? &err : &(px_err){PX_E_NOMEM, "out of memory"});
    ex_json(r, o);
}

/* ---- one task ------------------------------------------------------------------------ */

static const px_entry *by_id(const ex_tctx *c, const uint8_t *id) {
    for (size_t i = 0; i < c->n; i++)
        if (px_ct_equal(c->e[i].id, id, PX_SHA256_BYTES))
            return &c->e[i];
    return NULL;
}

static json_t *hexj(const uint8_t *d) {
    char h[2 * PX_SHA256_BYTES + 1];
    ex_hex(h, d);
    return json_string(h);
}

static json_t *manifest_json(const px_manifest *m) {
    json_t *stages = json_array(), *ds = json_array(), *rcv = json_array();
    for (size_t i = 0; i < m->nstages; i++) {
        const px_stage_spec *s = &m->stages[i];
        json_t *o = json_pack("{s:I,s:s,s:I,s:I,s:b}", "index", (json_int_t)i, "kind", px_stage_type_name(s->kind),
                              "partitions", (json_int_t)s->partitions, "min_level", (json_int_t)s->min_level, "at_pod",
                              s->at_pod);
        if (s->has_code)
            json_object_set_new(o, "code", hexj(s->code));
        if (s->kind == PX_STAGE_DP)
            json_object_set_new(o, "dp", json_pack("{s:s,s:s,s:s}", "mechanism", s->mechanism, "epsilon", s->epsilon,
                                                   "delta", s->delta));
        json_array_append_new(stages, o);
    }
    for (size_t i = 0; i < m->ndatasets; i++) {
        json_t *pods = json_array();
        for (size_t k = 0; k < m->datasets[i].npods; k++)
            json_array_append_new(pods, json_string(m->datasets[i].pods[k]));
        json_array_append_new(ds, json_pack("{s:s,s:o}", "name", m->datasets[i].name, "pods", pods));
    }
    for (size_t i = 0; i < m->nreceivers; i++)
        json_array_append_new(rcv, json_string(m->receivers[i].id));
    return json_pack("{s:s,s:s,s:I,s:I,s:o,s:o,s:o}", "name", m->name, "consumer", m->consumer_id, "created",
                     (json_int_t)m->created, "deadline", (json_int_t)m->deadline, "stages", stages, "datasets", ds,
                     "receivers", rcv);
}

static json_t *instance_json(const ex_tctx *c, size_t k) {
    const px_plan_instance *in = &c->plan.instances[k];
    uint8_t ev[PX_SHA256_BYTES];
    px_sha256(ev, in->evidence.data, in->evidence.len);
    json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:o,s:b}", "stage", (json_int_t)in->stage, "partition",
                          (json_int_t)in->partition, "node", in->node, "kind", stage_kind(&c->plan, in->stage),
                          "evidence", hexj(ev), "attested", c->att != NULL);
    if (c->att) {
        const px_attested *a = &c->att[k];
        json_object_set_new(o, "backend", json_string(a->backend));
        json_object_set_new(o, "level", json_integer(a->level));
        json_object_set_new(o, "measurement", hexj(a->measurement));
        json_object_set_new(o, "build", hexj(a->build));
        json_object_set_new(o, "sign_key", hexj(a->sign_pk));
    }
    return o;
}

/* {"entry", "id", "time", "inclusion"} of one entry. */
static json_t *entry_ref(px_explorer *x, const px_entry *e, uint64_t size, px_err *err) {
    json_t *inc = ex_inclusion(x, e->index, size, err);
    if (!inc)
        return NULL;
    return json_pack("{s:I,s:o,s:o}", "entry", (json_int_t)e->index, "id", hexj(e->id), "inclusion", inc);
}

static json_t *proof_json(px_explorer *x, const ex_tctx *c, const px_entry *e, uint64_t size, px_err *err) {
    json_t *o = entry_ref(x, e, size, err);
    if (!o)
        return NULL;
    json_t *subj = json_array(), *ins = json_array();
    for (size_t i = 0; i < e->st.nsubjects; i++)
        json_array_append_new(subj, hexj(e->st.subjects[i].sha256));
    for (size_t i = 0; i < e->ninputs; i++) {
        const px_entry *p = by_id(c, e->inputs[i].proof);
        json_array_append_new(ins, json_pack("{s:o,s:o,s:o}", "digest", hexj(e->inputs[i].digest), "proof",
                                             hexj(e->inputs[i].proof), "entry",
                                             p ? json_integer((json_int_t)p->index) : json_null()));
    }
    json_object_set_new(o, "status", json_string(e->status));
    json_object_set_new(o, "reason", json_string(e->reason));
    json_object_set_new(o, "subject", subj);
    json_object_set_new(o, "inputs", ins);
    const json_t *p = e->st.predicate;
    static const char *const copy[] = {"counts", "dp", "started", "finished", "measurement", "evidence", NULL};
    for (size_t i = 0; copy[i]; i++) {
        json_t *v = json_object_get(p, copy[i]);
        if (v)
            json_object_set(o, copy[i], v);
    }
    return o;
}

static int signed_by(const px_entry *e, const ex_tctx *c, size_t k) {
    return c->att && !px_dsse_verify_pk(&e->env, c->att[k].sign_pk, NULL);
}

/* One plan instance: its first accepted statement and first proof, as the
 * audit takes them (signed by the attested instance), and its state. */
static json_t *step_json(px_explorer *x, const ex_tctx *c, size_t k, uint64_t size, int64_t now, px_err *err) {
    const px_plan_instance *in = &c->plan.instances[k];
    const px_entry *acc = NULL, *proof = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const px_entry *e = &c->e[i];
        if (e->stage != in->stage || e->partition != in->partition || !px_ct_equal(e->manifest, c->plan.manifest.id,
                                                                                   PX_SHA256_BYTES))
            continue;
        if (!acc && e->kind == PX_ENTRY_ACCEPTED && signed_by(e, c, k) &&
            px_ct_equal(e->evidence, c->att[k].evidence_digest, PX_SHA256_BYTES))
            acc = e;
        if (!proof && e->kind == PX_ENTRY_EXEC && signed_by(e, c, k))
            proof = e;
    }
    /* After the step the audit names, an instance that logged nothing was
     * never reached: its input never came. */
    int after = c->a.verdict != PX_AUDIT_OK && c->a.stage >= 0 && (int64_t)in->stage > c->a.stage;
    const char *state = proof ? proof->status
                        : acc ? (now > c->plan.manifest.deadline ? "silent" : "running")
                        : after ? "not-reached"
                                : "missing";
    json_t *o = json_pack("{s:I,s:I,s:s,s:s,s:s}", "stage", (json_int_t)in->stage, "partition",
                          (json_int_t)in->partition, "kind", stage_kind(&c->plan, in->stage), "node", in->node,
                          "state", state);
    json_t *aj = acc ? entry_ref(x, acc, size, err) : json_null();
    json_t *pj = proof ? proof_json(x, c, proof, size, err) : json_null();
    if (!o || !aj || !pj) {
        json_decref(o);
        json_decref(aj);
        json_decref(pj);
        return NULL;
    }
    json_object_set_new(o, "accepted", aj);
    json_object_set_new(o, "proof", pj);
    /* The step the audit names, in the audit's words. */
    const px_audit *a = &c->a;
    int named = a->verdict != PX_AUDIT_OK && a->stage == (int64_t)in->stage && a->partition == in->partition;
    json_object_set_new(o, "audit", named ? json_pack("{s:s,s:s,s:s,s:o}", "verdict", px_verdict_name(a->verdict),
                                                      "status", a->status, "why", a->why, "blamed",
                                                      a->blamed[0] ? json_string(a->blamed) : json_null())
                                          : json_null());
    return o;
}

static json_t *releases_json(px_explorer *x, const ex_tctx *c, uint64_t size, px_err *err) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < c->n; i++) {
        const px_entry *e = &c->e[i];
        if (e->kind != PX_ENTRY_RELEASE || !px_ct_equal(e->manifest, c->plan.manifest.id, PX_SHA256_BYTES))
            continue;
        int ok = 0;
        for (size_t k = 0; k < c->trust.npods && !ok; k++)
            ok = !strcmp(c->trust.pods[k].id, e->pod) && !px_dsse_verify_pk(&e->env, c->trust.pods[k].sign_pk, NULL);
        json_t *o = entry_ref(x, e, size, err);
        if (!o) {
            json_decref(arr);
            return NULL;
        }
        json_t *eps = json_object_get(e->st.predicate, "epsilon");
        json_object_set_new(o, "pod", json_string(e->pod));
        json_object_set_new(o, "dataset", json_string(e->dataset));
        json_object_set_new(o, "records", json_integer((json_int_t)e->records));
        json_object_set_new(o, "signed", json_integer((json_int_t)e->authenticated));
        json_object_set_new(o, "unsigned", json_integer((json_int_t)e->alleged));
        json_object_set_new(o, "digest", e->st.nsubjects ? hexj(e->st.subjects[0].sha256) : json_null());
        json_object_set_new(o, "epsilon", json_is_string(eps) ? json_incref(eps) : json_null());
        json_object_set_new(o, "signed_by_pod", json_boolean(ok));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *task_json(px_explorer *x, const ex_tctx *c, const ex_task *t, int64_t now, px_err *err) {
    uint64_t size;
    px_buf note = PX_BUF_INIT;
    if (px_log_checkpoint(x->o.log, &note, &size, err))
        return NULL;
    json_t *o = json_pack("{s:o,s:o,s:{s:I,s:s%}}", "summary", summary_json(c, t->id, t->first), "audit",
                          px_audit_json(&c->a), "checkpoint", "size", (json_int_t)size, "note", (const char *)note.data,
                          note.len);
    px_buf_free(&note);
    json_t *ents = json_array();
    for (size_t i = 0; o && ents && i < c->n; i++)
        json_array_append_new(ents, json_pack("{s:I,s:o,s:s}", "entry", (json_int_t)c->e[i].index, "id",
                                              hexj(c->e[i].id), "kind", ex_kind_name(c->e[i].kind)));
    if (!o || !ents) {
        json_decref(o);
        json_decref(ents);
        px_fail(err, PX_E_NOMEM, "out of memory");
        return NULL;
    }
    json_object_set_new(o, "entries", ents);
    if (!c->has_plan)
        return o;
    json_t *inst = json_array(), *steps = json_array();
    for (size_t k = 0; k < c->plan.ninstances; k++) {
        json_array_append_new(inst, instance_json(c, k));
        json_t *s = step_json(x, c, k, size, now, err);
        if (!s) {
            json_decref(inst);
            json_decref(steps);
            json_decref(o);
            return NULL;
        }
        json_array_append_new(steps, s);
    }
    json_t *rel = releases_json(x, c, size, err);
    json_object_set_new(o, "manifest", manifest_json(&c->plan.manifest));
    json_object_set_new(o, "plan", json_pack("{s:o,s:b,s:s}", "instances", inst, "attested", c->att != NULL, "why",
                                             c->att_why));
    json_object_set_new(o, "steps", steps);
    json_object_set_new(o, "releases", rel ? rel : json_array());
    return o;
}

void ex_view_task(ex_req *r) {
    px_explorer *x = r->x;
    px_err err = {0};
    uint8_t id[PX_SHA256_BYTES];
    const char *after;
    if (ex_parse_digest(r->rest, id, &after) || (*after && strcmp(after, "/audit"))) {
        px_fail(&err, PX_E_NOTFOUND, "a task is /ui/task/<64 hex digits of its manifest id>[/audit]");
        return ex_fail(r, &err);
    }
    int64_t now = px_now_ms();
    pthread_mutex_lock(&x->mu);
    int rc = ex_index_update(x, &err);
    ex_task *t = rc ? NULL : ex_index_find(x, id);
    ex_task copy = t ? *t : (ex_task){0};
    pthread_mutex_unlock(&x->mu);
    if (rc)
        return ex_fail(r, &err);
    if (!t) {
        memcpy(copy.id, id, sizeof id);
        copy.first = 0;
    }
    ex_tctx c;
    json_t *o = NULL;
    if (tctx_load(x, id, now, &c, &err) == 0) {
        if (!t && c.n == 0)
            px_fail(&err, PX_E_NOTFOUND, "no entry of the log names task %.16s...", r->rest);
        else
            o = !strcmp(after, "/audit") ? px_audit_json(&c.a) : task_json(x, &c, &copy, now, &err);
    }
    tctx_free(x, &c);
    if (!o)
        return ex_fail(r, err.msg[0] ? &err : &(px_err){PX_E_NOMEM, "out of memory"});
    ex_json(r, o);
}
