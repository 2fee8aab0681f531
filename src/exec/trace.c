/* Trace: the lineage of a digest. From the steps that output it, back
 * along declared edges only: each execution proof names, for each input,
 * the id of the proof (or release) that produced it, and the trace follows
 * exactly that entry, never whatever else in the log happens to have the
 * same digest. Every step is checked against its signer before it is
 * followed: an execution proof against the key its task's plan attests
 * for that stage and partition (found in the log and checked as the audit
 * does), a release against the POD's key. A step that does not check is
 * shown as unverified and not followed; a failed step is never a producer;
 * a trace does not leave the task it is in (it stops at POD releases). */
#include <stdio.h>
#include <string.h>

#include "exec/trace.h"

typedef struct plan_cache {
    uint8_t mid[PX_SHA256_BYTES];
    int ok;
    char why[PX_TRACE_NOTE_MAX];
    px_plan plan;
    px_attested *att;
} plan_cache;

typedef struct tracer {
    const px_trace_src *src;
    px_tgraph g;
    plan_cache *plans;
    size_t nplans;
    px_err *err;
} tracer;

static void hex8(char out[17], const uint8_t *p) {
    px_hex_encode(out, p, 8);
}

static int subject_has(const px_entry *e, const uint8_t *d) {
    for (size_t i = 0; i < e->st.nsubjects; i++)
        if (px_ct_equal(e->st.subjects[i].sha256, d, PX_SHA256_BYTES))
            return 1;
    return 0;
}

static void free_entries(px_entry *e, size_t n) {
    for (size_t i = 0; i < n; i++)
        px_entry_free(&e[i]);
    free(e);
}

/* ---- the plans of the tasks met on the way ------------------------------------ */

static int load_plan(tracer *t, plan_cache *c) {
    px_entry *e = NULL;
    size_t n = 0;
    char m[17];
    hex8(m, c->mid);
    if (t->src->manifest(t->src->ctx, c->mid, &e, &n, t->err))
        return -1;
    int found = px_plan_first(e, n, c->mid, &c->plan, t->err);
    free_entries(e, n);
    if (found < 0)
        return -1;
    if (!found) {
        snprintf(c->why, sizeof c->why, "no plan of task %s... in the log", m);
        return 0;
    }
    if (!(c->att = calloc(c->plan.ninstances + 1, sizeof *c->att)))
        return px_fail(t->err, PX_E_NOMEM, "out of memory tracing");
    /* As the audit judges it: at the manifest's creation. */
    px_err cerr = {0};
    if (px_plan_check(&c->plan, t->src->check, t->src->check_ctx, 0, c->plan.manifest.created, c->att, &cerr)) {
        snprintf(c->why, sizeof c->why, "the plan of task %s... does not check: %.120s", m, cerr.msg);
        return 0;
    }
    c->ok = 1;
    return 0;
}

static plan_cache *plan_of(tracer *t, const uint8_t *mid) {
    for (size_t i = 0; i < t->nplans; i++)
        if (px_ct_equal(t->plans[i].mid, mid, PX_SHA256_BYTES))
            return &t->plans[i];
    plan_cache *v = realloc(t->plans, (t->nplans + 1) * sizeof *v);
    if (!v) {
        px_fail(t->err, PX_E_NOMEM, "out of memory tracing");
        return NULL;
    }
    t->plans = v;
    plan_cache *c = &t->plans[t->nplans++];
    memset(c, 0, sizeof *c);
    memcpy(c->mid, mid, PX_SHA256_BYTES);
    return load_plan(t, c) ? NULL : c;
}

/* ---- checking a step against its signer ------------------------------------------ */

static const px_pod_key *pod_key(const px_trace_src *s, const char *id) {
    for (size_t i = 0; i < s->npods; i++)
        if (!strcmp(s->pods[i].id, id))
            return &s->pods[i];
    return NULL;
}

/* "" when e is signed by whom its task says, else why not. */
static int check_exec(const plan_cache *c, const px_entry *e, char *why, size_t cap) {
    const px_plan *p = &c->plan;
    for (size_t k = 0; k < p->ninstances; k++) {
        const px_plan_instance *in = &p->instances[k];
        if (in->stage != e->stage || in->partition != e->partition)
            continue;
        const char *kind = px_manifest_kind_name(p->manifest.stages[in->stage].kind);
        if (strcmp(kind, e->stage_kind))
            return snprintf(why, cap, "it says kind %s, its task's stage %u is %s", e->stage_kind, e->stage, kind);
        if (px_dsse_verify_pk(&e->env, c->att[k].sign_pk, NULL))
            return snprintf(why, cap, "not signed by the attested instance of stage %u partition %u (on %s)",
                            e->stage, e->partition, in->node);
        return 0;
    }
    return snprintf(why, cap, "its task has no stage %u partition %u", e->stage, e->partition);
}

static int check_release(const px_trace_src *s, const plan_cache *c, const px_entry *e, char *why, size_t cap) {
    const px_pod_key *k = pod_key(s, e->pod);
    if (!px_manifest_has_pod(&c->plan.manifest, e->pod))
        return snprintf(why, cap, "%s is not a POD of its task", e->pod);
    if (!k)
        return snprintf(why, cap, "no key is known for POD %s", e->pod);
    if (px_dsse_verify_pk(&e->env, k->sign_pk, NULL))
        return snprintf(why, cap, "not signed by %s's key", e->pod);
    for (size_t i = 0; i < c->plan.ninstances; i++)
        if (c->plan.instances[i].stage == 0 && px_ct_equal(c->att[i].box_pk, e->stage_key, PX_BOX_PUBLICKEYBYTES))
            return 0;
    return snprintf(why, cap, "released to a key that is not an attested stage 0 key of its task");
}

static int verify_step(tracer *t, px_tstep *st) {
    plan_cache *c = plan_of(t, st->e.manifest);
    if (!c)
        return -1;
    if (!c->ok)
        snprintf(st->why, sizeof st->why, "%s", c->why);
    else if (st->e.kind == PX_ENTRY_EXEC)
        check_exec(c, &st->e, st->why, sizeof st->why);
    else
        check_release(t->src, c, &st->e, st->why, sizeof st->why);
    st->verified = st->why[0] == 0;
    return 0;
}

/* ---- the graph ------------------------------------------------------------------- */

static int grow(void **v, size_t *cap, size_t n, size_t size, px_err *err) {
    if (n >= PX_TRACE_MAX_NODES)
        return px_fail(err, PX_E_LIMIT, "trace has more than %d steps or digests", PX_TRACE_MAX_NODES);
    if (n < *cap)
        return 0;
    size_t c = *cap ? 2 * *cap : 16;
    void *p = realloc(*v, c * size);
    if (!p)
        return px_fail(err, PX_E_NOMEM, "out of memory tracing");
    *v = p;
    *cap = c;
    return 0;
}

static int add_node(tracer *t, const uint8_t *d, size_t *out) {
    px_tgraph *g = &t->g;
    if (grow((void **)&g->node, &g->capnodes, g->nnodes, sizeof *g->node, t->err))
        return -1;
    px_tnode *n = &g->node[g->nnodes];
    memset(n, 0, sizeof *n);
    memcpy(n->digest, d, PX_SHA256_BYTES);
    *out = g->nnodes++;
    return 0;
}

static int node_add_step(tracer *t, size_t node, size_t step) {
    px_tnode *n = &t->g.node[node];
    size_t *v = realloc(n->steps, (n->nsteps + 1) * sizeof *v);
    if (!v)
        return px_fail(t->err, PX_E_NOMEM, "out of memory tracing");
    n->steps = v;
    n->steps[n->nsteps++] = step;
    return 0;
}

/* Take ownership of *e as a step (or find the step it already is). */
static int add_step(tracer *t, px_entry *e, size_t *out) {
    px_tgraph *g = &t->g;
    for (size_t i = 0; i < g->nsteps; i++)
        if (px_ct_equal(g->step[i].e.id, e->id, PX_SHA256_BYTES)) {
            px_entry_free(e);
            *out = i;
            return 0;
        }
    if (grow((void **)&g->step, &g->capsteps, g->nsteps, sizeof *g->step, t->err))
        return -1;
    px_tstep *s = &g->step[g->nsteps];
    memset(s, 0, sizeof *s);
    s->e = *e;
    memset(e, 0, sizeof *e);
    s->node = PX_TRACE_NONE;
    if (s->e.ninputs && !(s->in_node = malloc(s->e.ninputs * sizeof *s->in_node)))
        return px_fail(t->err, PX_E_NOMEM, "out of memory tracing");
    for (size_t k = 0; k < s->e.ninputs; k++)
        s->in_node[k] = PX_TRACE_NONE;
    *out = g->nsteps++;
    return 0;
}

/* The root's producers: ok steps and releases whose subject is the digest
 * (of one task when asked). Failed steps name their input as their
 * subject: they are left out, counted. */
static int root(tracer *t, const uint8_t *d) {
    px_entry *e = NULL;
    size_t n = 0, r;
    if (add_node(t, d, &r) || t->src->subject(t->src->ctx, d, &e, &n, t->err))
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int step = (e[i].kind == PX_ENTRY_EXEC || e[i].kind == PX_ENTRY_RELEASE) && subject_has(&e[i], d);
        if (!step)
            continue;
        if ((e[i].kind == PX_ENTRY_EXEC && strcmp(e[i].status, "ok")) ||
            (t->src->task && !px_ct_equal(e[i].manifest, t->src->task, PX_SHA256_BYTES))) {
            t->g.ignored++;
            continue;
        }
        size_t s;
        rc = add_step(t, &e[i], &s) || node_add_step(t, 0, s);
    }
    free_entries(e, n);
    if (rc == 0 && t->g.node[0].nsteps == 0)
        snprintf(t->g.node[0].note, sizeof t->g.node[0].note, "%s",
                 t->g.ignored ? "no ok step or release in the log produced it" : "unknown to the log");
    return rc;
}

/* Why the entry an input names cannot be its producer, or "" if it can. */
static void edge_check(const px_entry *p, const px_entry *c, char *why, size_t cap) {
    why[0] = 0;
    if (!px_ct_equal(c->manifest, p->manifest, PX_SHA256_BYTES))
        snprintf(why, cap, "its declared producer (log entry %llu) is in another task: not followed",
                 (unsigned long long)c->index);
    else if (p->stage == 0 && c->kind != PX_ENTRY_RELEASE)
        snprintf(why, cap, "its declared producer (log entry %llu) is not a release", (unsigned long long)c->index);
    else if (p->stage > 0 && (c->kind != PX_ENTRY_EXEC || c->stage + 1 != p->stage))
        snprintf(why, cap, "its declared producer (log entry %llu) is not a step of stage %u",
                 (unsigned long long)c->index, p->stage - 1);
    else if (c->kind == PX_ENTRY_EXEC && strcmp(c->status, "ok"))
        snprintf(why, cap, "its declared producer (log entry %llu) failed (%s): a failed step produces nothing",
                 (unsigned long long)c->index, c->status);
}

/* Input k of step s: the one entry whose id the input names. */
static int follow(tracer *t, size_t s, size_t k) {
    const px_input_ref in = t->g.step[s].e.inputs[k];
    px_entry *e = NULL;
    size_t n = 0, hit = PX_TRACE_NONE, node;
    if (t->src->subject(t->src->ctx, in.digest, &e, &n, t->err))
        return -1;
    for (size_t i = 0; i < n && hit == PX_TRACE_NONE; i++)
        if (px_ct_equal(e[i].id, in.proof, PX_SHA256_BYTES) && subject_has(&e[i], in.digest))
            hit = i;
    char why[PX_TRACE_NOTE_MAX] = "";
    if (hit == PX_TRACE_NONE) {
        char id[17];
        hex8(id, in.proof);
        snprintf(why, sizeof why, "its declared producer (entry id %s...) is not in the log", id);
    } else {
        edge_check(&t->g.step[s].e, &e[hit], why, sizeof why);
    }
    int rc = 0;
    if (why[0]) {
        rc = add_node(t, in.digest, &node);
        if (rc == 0)
            snprintf(t->g.node[node].note, sizeof t->g.node[node].note, "%s", why);
    } else {
        size_t c;
        rc = add_step(t, &e[hit], &c);
        if (rc == 0 && t->g.step[c].node == PX_TRACE_NONE)
            rc = add_node(t, in.digest, &node) || node_add_step(t, node, c);
        if (rc == 0 && t->g.step[c].node == PX_TRACE_NONE)
            t->g.step[c].node = node;
        else if (rc == 0)
            node = t->g.step[c].node;
    }
    free_entries(e, n);
    if (rc == 0)
        t->g.step[s].in_node[k] = node;
    return rc;
}

/* Breadth first: each step is checked when reached; only verified
 * execution steps lead further back. */
static int build(tracer *t, const uint8_t *d) {
    if (root(t, d))
        return -1;
    for (size_t s = 0; s < t->g.nsteps; s++) {
        if (verify_step(t, &t->g.step[s]))
            return -1;
        if (!t->g.step[s].verified || t->g.step[s].e.kind != PX_ENTRY_EXEC)
            continue;
        for (size_t k = 0; k < t->g.step[s].e.ninputs; k++)
            if (follow(t, s, k))
                return -1;
    }
    return 0;
}

static void tracer_free(tracer *t) {
    for (size_t i = 0; i < t->g.nsteps; i++) {
        px_entry_free(&t->g.step[i].e);
        free(t->g.step[i].in_node);
    }
    for (size_t i = 0; i < t->g.nnodes; i++)
        free(t->g.node[i].steps);
    free(t->g.step);
    free(t->g.node);
    for (size_t i = 0; i < t->nplans; i++) {
        px_plan_free(&t->plans[i].plan);
        free(t->plans[i].att);
    }
    free(t->plans);
}

int px_trace(px_buf *out, const uint8_t digest[PX_SHA256_BYTES], const px_trace_src *src, px_trace_format fmt,
             size_t *unverified, px_err *err) {
    if (!src || !src->subject || !src->manifest || !src->check)
        return px_fail(err, PX_E_INVALID, "trace: a log to read and an evidence checker are needed");
    tracer t = {.src = src, .err = err};
    px_buf o = PX_BUF_INIT;
    int rc = build(&t, digest);
    if (rc == 0) {
        if (fmt == PX_TRACE_JSON)
            rc = px_trace_render_json(&o, &t.g, err);
        else if (fmt == PX_TRACE_DOT)
            rc = px_trace_render_dot(&o, &t.g, err);
        else
            rc = px_trace_render_text(&o, &t.g, err);
    }
    if (rc == 0)
        rc = px_buf_append(out, o.data, o.len, err);
    if (rc == 0 && unverified) {
        *unverified = 0;
        for (size_t i = 0; i < t.g.nsteps; i++)
            *unverified += !t.g.step[i].verified;
    }
    px_buf_free(&o);
    tracer_free(&t);
    return rc;
}
