/* The audit: walk a task's log entries in log order and name the first step
 * that failed or is missing, and why. It reads nothing but the entries, the
 * POD keys and the evidence checker, so every party holding the same log
 * prefix computes the same verdict (docs/executor.md, "Audit"). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "exec/util.h"

typedef struct walk {
    px_audit *a;
    const uint8_t *mid;
    const px_entry *e;
    size_t n;
    const px_pod_key *pods;
    size_t npods;
    px_plan plan;
    px_attested *att;
    const px_entry **ok; /* per plan instance: its accepted ok proof */
    px_err *err;
} walk;

static void say(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(walk *w, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    px_buf_printf(&w->a->report, NULL, "%s\n", line);
}

/* Record the verdict once: the first broken step wins. */
static int broke(walk *w, px_verdict v, int64_t stage, const char *node, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int broke(walk *w, px_verdict v, int64_t stage, const char *node, const char *status, const char *fmt, ...) {
    px_audit *a = w->a;
    a->verdict = v;
    a->stage = stage;
    snprintf(a->node, sizeof a->node, "%s", node ? node : "");
    snprintf(a->status, sizeof a->status, "%s", status);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->why, sizeof a->why, fmt, ap);
    va_end(ap);
    return 1;
}

static int for_manifest(const walk *w, const px_entry *e, px_entry_kind k) {
    return e->kind == k && px_ct_equal(e->manifest, w->mid, PX_SHA256_BYTES);
}

static void hex8(char out[17], const uint8_t *p) {
    px_hex_encode(out, p, 8);
}

/* ---- plan ----------------------------------------------------------------- */

/* 1 if the plan bytes published at `index` parse as a plan for the
 * manifest signed by its consumer (then w->plan holds it), 0 if not. */
static int take_plan(walk *w, uint64_t index, const uint8_t *raw, size_t len, int parts) {
    px_err perr = {0};
    px_plan p;
    if (px_plan_parse(&p, raw, len, &perr)) {
        say(w, "entry %" PRIu64 ": ignored: %s%s", index, parts ? "plan assembled from parts: " : "", perr.msg);
        return 0;
    }
    if (!px_ct_equal(p.manifest.id, w->mid, PX_SHA256_BYTES)) {
        say(w, "entry %" PRIu64 ": ignored: plan for another manifest", index);
        px_plan_free(&p);
        return 0;
    }
    w->plan = p;
    say(w, "plan: entry %" PRIu64 "%s by %s: %zu stages, %zu instances", index, parts ? " (last of its parts)" : "",
        p.manifest.consumer_id, p.manifest.nstages, p.ninstances);
    return 1;
}

/* The first plan in log order: a plan entry, or a chain of plan parts at
 * the index of the entry that completed it. */
static int first_plan(walk *w) {
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
        if (!found && i < w->n && for_manifest(w, &w->e[i], PX_ENTRY_PLAN))
            found = take_plan(w, w->e[i].index, w->e[i].raw.data, w->e[i].raw.len, 0);
    }
    px_plan_assembled_free(asm_, na);
    return found;
}

static int find_plan(walk *w, px_evidence_check_fn check, void *ctx) {
    int found = first_plan(w);
    if (found < 0)
        return -1;
    if (!found)
        return broke(w, PX_AUDIT_NO_PLAN, -1, NULL, "no-plan", "no plan signed by the manifest's consumer in the log");
    const px_plan *p = &w->plan;
    /* Judged as at the manifest's creation, so the verdict does not
     * depend on when the audit runs. */
    w->att = calloc(p->ninstances, sizeof *w->att);
    w->ok = calloc(p->ninstances, sizeof *w->ok);
    if (!w->att || !w->ok)
        return px_fail(w->err, PX_E_NOMEM, "out of memory auditing");
    px_err cerr = {0};
    if (px_plan_check(p, check, ctx, 0, p->manifest.created, w->att, &cerr))
        return broke(w, PX_AUDIT_FAILED, -1, p->manifest.consumer_id, "bad-plan", "%s", cerr.msg);
    return 0;
}

/* ---- releases ------------------------------------------------------------- */

static const px_pod_key *pod_key(const walk *w, const char *id) {
    for (size_t i = 0; i < w->npods; i++)
        if (!strcmp(w->pods[i].id, id))
            return &w->pods[i];
    return NULL;
}

static int stage_key_attested(const walk *w, uint32_t stage, const uint8_t *key) {
    for (size_t i = 0; i < w->plan.ninstances; i++)
        if (w->plan.instances[i].stage == stage && px_ct_equal(w->att[i].box_pk, key, PX_BOX_PUBLICKEYBYTES))
            return 1;
    return 0;
}

/* 1 if e is a release by a listed POD, signed by its key. */
static int release_valid(walk *w, const px_entry *e) {
    const px_pod_key *k = pod_key(w, e->pod);
    if (!px_manifest_has_pod(&w->plan.manifest, e->pod) || !k) {
        say(w, "entry %" PRIu64 ": ignored: release by %s, not a known POD of the manifest", e->index, e->pod);
        return 0;
    }
    if (px_dsse_verify_pk(&e->env, k->sign_pk, NULL)) {
        say(w, "entry %" PRIu64 ": ignored: release claims %s but is not signed by its key", e->index, e->pod);
        return 0;
    }
    return 1;
}

static int check_releases(walk *w) {
    for (size_t i = 0; i < w->n; i++) {
        const px_entry *e = &w->e[i];
        if (!for_manifest(w, e, PX_ENTRY_RELEASE) || !release_valid(w, e))
            continue;
        char key[17];
        hex8(key, e->stage_key);
        if (!stage_key_attested(w, 0, e->stage_key))
            return broke(w, PX_AUDIT_FAILED, -1, e->pod, "bad-release",
                         "%s released %s to key %s... which is not an attested key of stage 0", e->pod, e->dataset, key);
        say(w, "release: entry %" PRIu64 " %s %s: %" PRIu64 " records (%" PRIu64 " signed, %" PRIu64 " unsigned)",
            e->index, e->pod, e->dataset, e->records, e->authenticated, e->alleged);
    }
    return 0;
}

/* ---- stages --------------------------------------------------------------- */

static int subject_has(const px_entry *e, const uint8_t *d) {
    for (size_t i = 0; i < e->st.nsubjects; i++)
        if (px_ct_equal(e->st.subjects[i].sha256, d, PX_SHA256_BYTES))
            return 1;
    return 0;
}

/* The producer an input names must be a valid release (stage 0) or an
 * accepted ok proof of the previous stage, and must have output that digest. */
static int input_proven(walk *w, uint32_t stage, const px_input_ref *in) {
    if (stage == 0) {
        for (size_t i = 0; i < w->n; i++) {
            const px_entry *e = &w->e[i];
            if (for_manifest(w, e, PX_ENTRY_RELEASE) && px_ct_equal(e->id, in->proof, PX_SHA256_BYTES) &&
                subject_has(e, in->digest) && pod_key(w, e->pod) &&
                !px_dsse_verify_pk(&e->env, pod_key(w, e->pod)->sign_pk, NULL) &&
                stage_key_attested(w, 0, e->stage_key)) {
                w->a->releases++;
                return 1;
            }
        }
        return 0;
    }
    for (size_t i = 0; i < w->plan.ninstances; i++) {
        const px_entry *p = w->ok[i];
        if (w->plan.instances[i].stage == stage - 1 && p && px_ct_equal(p->id, in->proof, PX_SHA256_BYTES) &&
            subject_has(p, in->digest))
            return 1;
    }
    return 0;
}

static const char *blame(uint32_t stage, const char *status) {
    static const char *const input_codes[] = {"bad-input", "bad-proof", "digest-mismatch", NULL};
    for (size_t i = 0; input_codes[i]; i++)
        if (!strcmp(status, input_codes[i]))
            return stage == 0 ? " (what reached it did not match the POD releases)"
                              : " (what reached it did not match the previous stage's proof)";
    return "";
}

static int missing(walk *w, size_t k, const px_plan_instance *in, const char *kind) {
    for (size_t i = 0; i < w->n; i++) {
        const px_entry *e = &w->e[i];
        if (!for_manifest(w, e, PX_ENTRY_REPORT) || e->stage != in->stage || e->partition != in->partition ||
            px_dsse_verify(&e->env, &w->plan.manifest.consumer, NULL))
            continue;
        return broke(w, PX_AUDIT_MISSING, in->stage, in->node, e->status,
                     "stage %u (%s) partition %u on %s left no proof; the consumer reported: %s: %s", in->stage, kind,
                     in->partition, in->node, e->status, e->reason);
    }
    (void)k;
    return broke(w, PX_AUDIT_MISSING, in->stage, in->node, "missing",
                 "stage %u (%s) partition %u on %s left no proof in the log", in->stage, kind, in->partition, in->node);
}

static int check_proof(walk *w, const px_plan_instance *in, const px_entry *e, const char *kind) {
    if (strcmp(e->stage_kind, kind))
        return broke(w, PX_AUDIT_FAILED, in->stage, in->node, "bad-proof",
                     "stage %u proof (entry %" PRIu64 ") says kind %s, the manifest says %s", in->stage, e->index,
                     e->stage_kind, kind);
    if (e->ninputs == 0)
        return broke(w, PX_AUDIT_FAILED, in->stage, in->node, "bad-proof",
                     "stage %u (%s) proof (entry %" PRIu64 ") names no input", in->stage, kind, e->index);
    for (size_t j = 0; j < e->ninputs; j++)
        if (!input_proven(w, in->stage, &e->inputs[j])) {
            char d[17];
            hex8(d, e->inputs[j].digest);
            return broke(w, PX_AUDIT_FAILED, in->stage, in->node, "unproven-input",
                         "stage %u (%s) on %s used input %s... that no %s in the log produced", in->stage, kind,
                         in->node, d, in->stage == 0 ? "valid release" : "ok proof of the previous stage");
        }
    return 0;
}

static int check_instance(walk *w, size_t k) {
    const px_plan_instance *in = &w->plan.instances[k];
    const char *kind = px_stage_type_name(w->plan.manifest.stages[in->stage].kind);
    const px_entry *first_ok = NULL;
    for (size_t i = 0; i < w->n; i++) {
        const px_entry *e = &w->e[i];
        if (!for_manifest(w, e, PX_ENTRY_EXEC) || e->stage != in->stage || e->partition != in->partition)
            continue;
        if (px_dsse_verify_pk(&e->env, w->att[k].sign_pk, NULL)) {
            say(w, "entry %" PRIu64 ": ignored: stage %u proof not signed by the attested instance", e->index,
                in->stage);
            continue;
        }
        if (strcmp(e->status, "ok"))
            return broke(w, PX_AUDIT_FAILED, in->stage, in->node, e->status,
                         "stage %u (%s) on %s signed a failure: %s: %s%s", in->stage, kind, in->node, e->status,
                         e->reason, blame(in->stage, e->status));
        if (first_ok && (first_ok->st.nsubjects != e->st.nsubjects ||
                         !subject_has(first_ok, e->st.subjects[0].sha256)))
            return broke(w, PX_AUDIT_FAILED, in->stage, in->node, "equivocation",
                         "stage %u (%s) on %s signed two different outputs (entries %" PRIu64 " and %" PRIu64 ")",
                         in->stage, kind, in->node, first_ok->index, e->index);
        if (!first_ok)
            first_ok = e;
    }
    if (!first_ok)
        return missing(w, k, in, kind);
    if (check_proof(w, in, first_ok, kind))
        return 1;
    w->ok[k] = first_ok;
    say(w, "stage %u (%s) partition %u on %s: ok, entry %" PRIu64 ", %" PRIu64 " records (%" PRIu64
        " authenticated, %" PRIu64 " alleged)", in->stage, kind, in->partition, in->node, first_ok->index,
        first_ok->records, first_ok->authenticated, first_ok->alleged);
    return 0;
}

static int walk_all(walk *w, px_evidence_check_fn check, void *ctx) {
    int r = find_plan(w, check, ctx);
    if (r)
        return r;
    if ((r = check_releases(w)))
        return r;
    for (size_t k = 0; k < w->plan.ninstances; k++)
        if ((r = check_instance(w, k)))
            return r;
    if (w->a->releases == 0)
        return broke(w, PX_AUDIT_FAILED, 0, w->plan.instances[0].node, "no-release",
                     "the first stage consumed no valid POD release");
    const px_entry *last = w->ok[w->plan.ninstances - 1];
    memcpy(w->a->result, last->st.subjects[0].sha256, PX_SHA256_BYTES);
    w->a->verdict = PX_AUDIT_OK;
    snprintf(w->a->status, sizeof w->a->status, "ok");
    return 0;
}

int px_audit_run(px_audit *a, const uint8_t manifest_id[PX_SHA256_BYTES], const px_entry *entries, size_t n,
                 const px_pod_key *pods, size_t npods, px_evidence_check_fn check, void *ctx, px_err *err) {
    memset(a, 0, sizeof *a);
    a->stage = -1;
    walk w = {.a = a, .mid = manifest_id, .e = entries, .n = n, .pods = pods, .npods = npods, .err = err};
    int r = walk_all(&w, check, ctx);
    px_plan_free(&w.plan);
    free(w.att);
    free(w.ok);
    if (r < 0) {
        px_audit_free(a);
        return -1;
    }
    if (a->verdict == PX_AUDIT_OK) {
        char hex[2 * PX_SHA256_BYTES + 1];
        px_hex_encode(hex, a->result, sizeof a->result);
        say(&w, "verdict: ok: result %s from %" PRIu64 " releases", hex, a->releases);
    } else {
        say(&w, "verdict: %s (%s): %s", px_verdict_name(a->verdict), a->status, a->why);
    }
    if (!px_buf_cstr(&a->report, err)) {
        px_audit_free(a);
        return -1;
    }
    return 0;
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
