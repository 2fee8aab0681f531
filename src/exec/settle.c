/* Settling a POD's charge for a task. A POD charges ε when it admits a
 * plan; whether the charge is spent depends on whether a result can have
 * left the task. Every stage releases its sealed output only after its
 * proof is in the log (the host shows it a checkpoint with an inclusion
 * proof first), so once the task's deadline has passed, the log says which:
 * an ok proof of the watched stage (the first stage that spends budget, dp
 * or fl-agg: everything after it is post-processing of a DP release;
 * without one, the last stage) signed
 * by its attested instance means the budget is spent; none means no result
 * left and the charge can be returned, except a training's first round,
 * whose charge is final (px_settle_watch.final). The judgement reads nothing but the
 * task's entries and what the POD kept at admission, so it is the same
 * wherever it runs (docs/pod.md, "Refunds"). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "exec/util.h"

int px_settle_watch_from_plan(px_settle_watch *w, const px_plan *p, const px_attested *att, px_err *err) {
    const px_manifest *m = &p->manifest;
    memset(w, 0, sizeof *w);
    memcpy(w->manifest, m->id, PX_SHA256_BYTES);
    w->deadline = m->deadline;
    w->nstages = (uint32_t)m->nstages;
    w->stage = w->nstages - 1;
    for (size_t s = m->nstages; s-- > 0;)
        if (px_manifest_spends(m->stages[s].kind))
            w->stage = (uint32_t)s;
    /* A training's first round is charged for every round, and the later
     * rounds are admitted under that charge (charging nothing): refunding
     * it would let them run uncharged, so it is final whatever the log says. */
    w->final = m->has_training && !m->training.has_first;
    for (size_t s = 0; s < m->nstages; s++)
        snprintf(w->kinds[s], sizeof w->kinds[s], "%s", px_manifest_kind_name(m->stages[s].kind));
    memcpy(w->consumer, m->consumer.pk, PX_SIGN_PUBLICKEYBYTES);
    if (!(w->inst = calloc(p->ninstances + 1, sizeof *w->inst)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < p->ninstances; i++) {
        w->inst[i].stage = p->instances[i].stage;
        w->inst[i].partition = p->instances[i].partition;
        memcpy(w->inst[i].sign_pk, att[i].sign_pk, PX_SIGN_PUBLICKEYBYTES);
    }
    w->ninst = p->ninstances;
    return 0;
}

void px_settle_watch_free(px_settle_watch *w) {
    if (!w)
        return;
    free(w->inst);
    memset(w, 0, sizeof *w);
}

/* ---- judging --------------------------------------------------------------------- */

/* An execution proof of the task by instance i, signed by its attested key. */
static int by_instance(const px_settle_watch *w, const px_settle_instance *in, const px_entry *e, uint64_t size) {
    return e->index < size && e->kind == PX_ENTRY_EXEC && px_ct_equal(e->manifest, w->manifest, PX_SHA256_BYTES) &&
           e->stage == in->stage && e->partition == in->partition && !px_dsse_verify_pk(&e->env, in->sign_pk, NULL);
}

static const char *kind(const px_settle_watch *w, uint32_t s) {
    return s < w->nstages ? w->kinds[s] : "?";
}

/* The dispatcher's signed word that an instance never answered. */
static const px_entry *report(const px_settle_watch *w, const px_settle_instance *in, const px_entry *e, size_t n,
                              uint64_t size) {
    for (size_t i = 0; i < n; i++)
        if (e[i].index < size && e[i].kind == PX_ENTRY_REPORT &&
            px_ct_equal(e[i].manifest, w->manifest, PX_SHA256_BYTES) && e[i].stage == in->stage &&
            e[i].partition == in->partition && !px_dsse_verify_pk(&e[i].env, w->consumer, NULL))
            return &e[i];
    return NULL;
}

/* Why the watched stage has no ok proof: the first instance, in chain
 * order, that failed, was reported silent, or logged nothing. */
static void cause(const px_settle_watch *w, const px_entry *e, size_t n, uint64_t size, char *out, size_t cap) {
    int any = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < w->ninst && !any; k++)
            any = by_instance(w, &w->inst[k], &e[i], size);
    if (!any) {
        snprintf(out, cap, "no stage logged an outcome");
        return;
    }
    for (size_t k = 0; k < w->ninst; k++) {
        const px_settle_instance *in = &w->inst[k];
        const px_entry *ok = NULL, *bad = NULL;
        for (size_t i = 0; i < n && !bad; i++)
            if (by_instance(w, in, &e[i], size)) {
                if (strcmp(e[i].status, "ok"))
                    bad = &e[i];
                else if (!ok)
                    ok = &e[i];
            }
        if (bad) {
            snprintf(out, cap, "stage %u (%s) partition %u failed: %s (log entry %" PRIu64 ")", in->stage,
                     kind(w, in->stage), in->partition, bad->status, bad->index);
            return;
        }
        if (ok)
            continue;
        const px_entry *r = report(w, in, e, n, size);
        if (r)
            snprintf(out, cap, "stage %u (%s) partition %u logged no outcome; the consumer reported: %s", in->stage,
                     kind(w, in->stage), in->partition, r->status);
        else
            snprintf(out, cap, "stage %u (%s) partition %u logged no outcome", in->stage, kind(w, in->stage),
                     in->partition);
        return;
    }
    snprintf(out, cap, "every step before it is proven");
}

/* The entry whose id is `id`, among the first `size` of the log. */
static const px_entry *by_id(const px_entry *e, size_t n, uint64_t size, const uint8_t *id) {
    for (size_t i = 0; i < n; i++)
        if (e[i].index < size && px_ct_equal(e[i].id, id, PX_SHA256_BYTES))
            return &e[i];
    return NULL;
}

/* 1 if, following the inputs of ok execution proofs back from `from`, an
 * ok proof signed by pod_key is reached: that POD's output went into it. */
static int lineage_has(const px_entry *e, size_t n, uint64_t size, const px_entry *from, const uint8_t *pod_key,
                       int depth) {
    if (!from || from->kind != PX_ENTRY_EXEC || strcmp(from->status, "ok") || depth > PX_MANIFEST_MAX_STAGES)
        return 0;
    if (!px_dsse_verify_pk(&from->env, pod_key, NULL))
        return 1;
    for (size_t k = 0; k < from->ninputs; k++)
        if (lineage_has(e, n, size, by_id(e, n, size, from->inputs[k].proof), pod_key, depth + 1))
            return 1;
    return 0;
}

int px_settle_judge(const px_settle_watch *w, const px_entry *e, size_t n, uint64_t size, px_settlement *out,
                    px_err *err) {
    memset(out, 0, sizeof *out);
    if (w->stage >= w->nstages || w->ninst == 0)
        return px_fail(err, PX_E_INVALID, "settlement: the watch names no stage");
    if (w->final) {
        snprintf(out->reason, sizeof out->reason, "the first round of a training: its charge pays for every round "
                 "and is final (never refunded)");
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < w->ninst; k++) {
            const px_settle_instance *in = &w->inst[k];
            if (in->stage == w->stage && by_instance(w, in, &e[i], size) && !strcmp(e[i].status, "ok")) {
                /* A POD's own POD-side output must be in what it used. */
                if (w->pod_side && !lineage_has(e, n, size, &e[i], w->pod_key, 0)) {
                    out->refund = 1;
                    snprintf(out->reason, sizeof out->reason, "stage %u (%s) logged its ok proof at log entry %"
                             PRIu64 " without this POD's output (its stage at the POD never ran, or its output was "
                             "not used)", w->stage, kind(w, w->stage), e[i].index);
                    return 0;
                }
                out->index = e[i].index;
                snprintf(out->reason, sizeof out->reason, "stage %u (%s) logged its ok proof at log entry %" PRIu64,
                         w->stage, kind(w, w->stage), e[i].index);
                return 0;
            }
        }
    char why[PX_SETTLE_REASON_MAX];
    cause(w, e, n, size, why, sizeof why);
    out->refund = 1;
    snprintf(out->reason, sizeof out->reason, "%.250s; no ok proof of stage %u (%s) among the log's first %" PRIu64
             " entries after the deadline", why, w->stage, kind(w, w->stage), size);
    return 0;
}
