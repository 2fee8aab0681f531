/* The audit: walk a task's log entries in log order and name the first step
 * that failed or is missing, why, and the party the log proves at fault. It
 * reads nothing but the entries, the POD keys, the evidence checker and
 * (for one question only: is the deadline past?) the time it judges at, so
 * every party holding the same log prefix computes the same verdict
 * (docs/executor.md, "The audit"). This file walks the plan and the
 * releases and writes the verdict; audit_stage.c judges each stage. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "exec/audit_int.h"

void px_walk_say(px_walk *w, const char *fmt, ...) {
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    px_buf_printf(&w->a->report, NULL, "%s\n", line);
}

int px_walk_broke(px_walk *w, px_verdict v, int64_t stage, uint32_t partition, const char *node, const char *blamed,
                  const char *status, const char *fmt, ...) {
    px_audit *a = w->a;
    a->verdict = v;
    a->stage = stage;
    a->partition = partition;
    snprintf(a->node, sizeof a->node, "%s", node ? node : "");
    snprintf(a->blamed, sizeof a->blamed, "%s", blamed ? blamed : "");
    snprintf(a->status, sizeof a->status, "%s", status);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->why, sizeof a->why, fmt, ap);
    va_end(ap);
    return 1;
}

int px_walk_for_manifest(const px_walk *w, const px_entry *e, px_entry_kind k) {
    return e->kind == k && px_ct_equal(e->manifest, w->mid, PX_SHA256_BYTES);
}

int px_walk_subject_has(const px_entry *e, const uint8_t *d) {
    for (size_t i = 0; i < e->st.nsubjects; i++)
        if (px_ct_equal(e->st.subjects[i].sha256, d, PX_SHA256_BYTES))
            return 1;
    return 0;
}

static void hex8(char out[17], const uint8_t *p) {
    px_hex_encode(out, p, 8);
}

/* ---- plan ----------------------------------------------------------------- */

/* 1 if the plan bytes published at `index` parse as a plan for the
 * manifest signed by its consumer (then w->plan holds it), 0 if not. */
static int take_plan(px_walk *w, uint64_t index, const uint8_t *raw, size_t len, int parts) {
    px_err perr = {0};
    px_plan p;
    if (px_plan_parse(&p, raw, len, &perr)) {
        px_walk_say(w, "entry %" PRIu64 ": ignored: %s%s", index, parts ? "plan assembled from parts: " : "",
                    perr.msg);
        return 0;
    }
    if (!px_ct_equal(p.manifest.id, w->mid, PX_SHA256_BYTES)) {
        px_walk_say(w, "entry %" PRIu64 ": ignored: plan for another manifest", index);
        px_plan_free(&p);
        return 0;
    }
    w->plan = p;
    px_walk_say(w, "plan: entry %" PRIu64 "%s by %s: %zu stages, %zu instances", index,
                parts ? " (last of its parts)" : "", p.manifest.consumer_id, p.manifest.nstages, p.ninstances);
    return 1;
}

/* The first plan in log order: a plan entry, or a chain of plan parts at
 * the index of the entry that completed it. */
static int first_plan(px_walk *w) {
    px_assembled_plan *asm_ = NULL;
    size_t na = 0, k = 0;
    if (px_plan_assemble(w->e, w->n, w->mid, &asm_, &na, w->err))
        return -1;
    int found = 0;
    for (size_t i = 0; !found && (i < w->n || k < na); i++) {
        /* assembled plans completed before entry i come first */
        while (!found && k < na && (i >= w->n || asm_[k].index < w->e[i].index)) {
            found = take_plan(w, asm_[k].index, asm_[k].plan.data, asm_[k].plan.len, 1);
            k++;
        }
        if (!found && i < w->n && px_walk_for_manifest(w, &w->e[i], PX_ENTRY_PLAN))
            found = take_plan(w, w->e[i].index, w->e[i].raw.data, w->e[i].raw.len, 0);
    }
    px_plan_assembled_free(asm_, na);
    return found;
}

static int find_plan(px_walk *w, px_evidence_check_fn check, void *ctx) {
    int found = first_plan(w);
    if (found < 0)
        return -1;
    if (!found)
        return px_walk_broke(w, PX_AUDIT_NO_PLAN, -1, 0, NULL, NULL, "no-plan",
                             "no plan signed by the manifest's consumer in the log");
    const px_plan *p = &w->plan;
    /* Judged as at the manifest's creation, so the verdict does not
     * depend on when the audit runs. */
    w->att = calloc(p->ninstances, sizeof *w->att);
    w->ok = calloc(p->ninstances, sizeof *w->ok);
    if (!w->att || !w->ok)
        return px_fail(w->err, PX_E_NOMEM, "out of memory auditing");
    /* The log the first instance answers to (the plan check holds every
     * instance to it), named even when the plan is bad. */
    px_stage_config c;
    if (px_lambda_config_parse(&c, p->instances[0].config.data, p->instances[0].config.len, NULL) == 0) {
        w->a->log = c.log;
        px_lambda_config_free(&c);
    }
    px_err cerr = {0};
    if (px_plan_check(p, check, ctx, 0, p->manifest.created, w->att, &cerr))
        return px_walk_broke(w, PX_AUDIT_FAILED, -1, 0, p->manifest.consumer_id, p->manifest.consumer_id, "bad-plan",
                             "%s", cerr.msg);
    return 0;
}

/* ---- releases ------------------------------------------------------------- */

static const px_pod_key *pod_key(const px_walk *w, const char *id) {
    for (size_t i = 0; i < w->npods; i++)
        if (!strcmp(w->pods[i].id, id))
            return &w->pods[i];
    return NULL;
}

static int stage_key_attested(const px_walk *w, uint32_t stage, const uint8_t *key) {
    for (size_t i = 0; i < w->plan.ninstances; i++)
        if (w->plan.instances[i].stage == stage && px_ct_equal(w->att[i].box_pk, key, PX_BOX_PUBLICKEYBYTES))
            return 1;
    return 0;
}

/* 1 if e is a release by a listed POD, signed by its key. */
static int release_signed(const px_walk *w, const px_entry *e) {
    const px_pod_key *k = pod_key(w, e->pod);
    return k && px_manifest_has_pod(&w->plan.manifest, e->pod) && !px_dsse_verify_pk(&e->env, k->sign_pk, NULL);
}

int px_walk_release_ok(const px_walk *w, const px_entry *e) {
    return px_walk_for_manifest(w, e, PX_ENTRY_RELEASE) && release_signed(w, e) &&
           stage_key_attested(w, 0, e->stage_key);
}

static int check_releases(px_walk *w) {
    for (size_t i = 0; i < w->n; i++) {
        const px_entry *e = &w->e[i];
        if (!px_walk_for_manifest(w, e, PX_ENTRY_RELEASE))
            continue;
        if (!px_manifest_has_pod(&w->plan.manifest, e->pod) || !pod_key(w, e->pod)) {
            px_walk_say(w, "entry %" PRIu64 ": ignored: release by %s, not a known POD of the manifest", e->index,
                        e->pod);
            continue;
        }
        if (!release_signed(w, e)) {
            px_walk_say(w, "entry %" PRIu64 ": ignored: release claims %s but is not signed by its key", e->index,
                        e->pod);
            continue;
        }
        char key[17];
        hex8(key, e->stage_key);
        if (!stage_key_attested(w, 0, e->stage_key))
            return px_walk_broke(w, PX_AUDIT_FAILED, -1, 0, e->pod, e->pod, "bad-release",
                                 "%s released %s to key %s... which is not an attested key of stage 0", e->pod,
                                 e->dataset, key);
        px_walk_say(w, "release: entry %" PRIu64 " %s %s: %" PRIu64 " records (%" PRIu64 " signed, %" PRIu64
                    " unsigned)", e->index, e->pod, e->dataset, e->records, e->authenticated, e->alleged);
    }
    return 0;
}

/* ---- the walk ------------------------------------------------------------- */

static int walk_all(px_walk *w, px_evidence_check_fn check, void *ctx) {
    int r = find_plan(w, check, ctx);
    if (r)
        return r;
    /* Stages at the PODs: each POD's own instances, releases and steps
     * (audit_pod.c); the plan's instances come after them. */
    w->kpod = px_manifest_pod_stages(&w->plan.manifest);
    if (w->kpod ? px_walk_pods(w) : (r = check_releases(w)))
        return w->kpod ? -1 : r;
    for (size_t k = 0; k < w->plan.ninstances; k++)
        if ((r = px_walk_instance(w, k)))
            return r;
    if (w->kpod)
        px_walk_pods_report(w);
    if (w->a->releases == 0)
        return px_walk_broke(w, PX_AUDIT_FAILED, 0, 0, w->kpod ? "" : w->plan.instances[0].node, NULL, "no-release",
                             "the first stage consumed no valid POD release");
    const px_entry *last = w->ok[w->plan.ninstances - 1];
    memcpy(w->a->result, last->st.subjects[0].sha256, PX_SHA256_BYTES);
    w->a->verdict = PX_AUDIT_OK;
    snprintf(w->a->status, sizeof w->a->status, "ok");
    return 0;
}

int px_audit_run_at(px_audit *a, const uint8_t manifest_id[PX_SHA256_BYTES], const px_entry *entries, size_t n,
                    const px_pod_key *pods, size_t npods, px_evidence_check_fn check, void *ctx, int64_t at,
                    px_err *err) {
    memset(a, 0, sizeof *a);
    a->stage = -1;
    px_walk w = {.a = a, .mid = manifest_id, .e = entries, .n = n, .pods = pods, .npods = npods, .at = at,
                 .err = err, .check = check, .check_ctx = ctx};
    int r = walk_all(&w, check, ctx);
    px_plan_free(&w.plan);
    free(w.att);
    free(w.ok);
    free(w.wpods);
    if (r < 0) {
        px_audit_free(a);
        return -1;
    }
    if (a->verdict == PX_AUDIT_OK) {
        char hex[2 * PX_SHA256_BYTES + 1];
        px_hex_encode(hex, a->result, sizeof a->result);
        px_walk_say(&w, "verdict: ok: result %s from %" PRIu64 " releases", hex, a->releases);
    } else {
        px_walk_say(&w, "verdict: %s (%s): %s", px_verdict_name(a->verdict), a->status, a->why);
        if (a->blamed[0])
            px_walk_say(&w, "blamed: %s", a->blamed);
        else
            px_walk_say(&w, "blamed: nobody (the log proves no party at fault)");
    }
    if (!px_buf_cstr(&a->report, err)) {
        px_audit_free(a);
        return -1;
    }
    return 0;
}

int px_audit_run(px_audit *a, const uint8_t manifest_id[PX_SHA256_BYTES], const px_entry *entries, size_t n,
                 const px_pod_key *pods, size_t npods, px_evidence_check_fn check, void *ctx, px_err *err) {
    return px_audit_run_at(a, manifest_id, entries, n, pods, npods, check, ctx, 0, err);
}

void px_audit_free(px_audit *a) {
    if (!a)
        return;
    px_buf_free(&a->report);
    memset(a, 0, sizeof *a);
}

const char *px_verdict_name(px_verdict v) {
    switch (v) {
    case PX_AUDIT_OK: return "ok";
    case PX_AUDIT_FAILED: return "failed";
    case PX_AUDIT_MISSING: return "missing";
    case PX_AUDIT_NO_PLAN: return "no-plan";
    }
    return "unknown";
}
