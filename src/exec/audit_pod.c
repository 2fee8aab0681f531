/* The audit of the stages at the PODs (docs/executor.md, "Stages at
 * PODs"), from the log alone. The plan has no instance for them: each POD
 * says which instances it started (a statement it signs, with their config
 * and evidence), and the audit checks each as it checks a plan's: the
 * POD's platform key vouches for the evidence, whose measurement covers
 * the manifest's code and that config. Then each POD's steps are walked:
 * its release, each instance's proof, each input the proof of the one
 * before. A POD whose stages did not run (it refused, was offline, failed
 * or went silent) is named in the report, with the party the log proves at
 * fault; the task goes on without it, so it never decides the verdict.
 * The counts make the delivery report: how many POD-side instances ran the
 * manifest's exact code, and how many of their outputs were used. */
#include <inttypes.h>
#include <string.h>

#include "exec/audit_int.h"

static const px_pod_key *key_of(const px_walk *w, const char *id) {
    for (size_t i = 0; i < w->npods; i++)
        if (!strcmp(w->pods[i].id, id))
            return &w->pods[i];
    return NULL;
}

px_walk_pod *px_walk_pod_of(px_walk *w, const char *id) {
    int64_t pos = px_manifest_pod_position(&w->plan.manifest, id);
    return pos >= 0 && (size_t)pos < w->nwpods ? &w->wpods[pos] : NULL;
}

static int pods_init(px_walk *w) {
    const px_manifest *m = &w->plan.manifest;
    w->nwpods = px_manifest_pod_count(m);
    if (!(w->wpods = calloc(w->nwpods + 1, sizeof *w->wpods)))
        return px_fail(w->err, PX_E_NOMEM, "out of memory auditing");
    for (size_t d = 0; d < m->ndatasets; d++)
        for (size_t k = 0; k < m->datasets[d].npods; k++) {
            px_walk_pod *p = px_walk_pod_of(w, m->datasets[d].pods[k]);
            if (p && !p->id) {
                p->id = m->datasets[d].pods[k];
                p->key = key_of(w, p->id);
            }
        }
    w->a->pods = w->nwpods;
    return 0;
}

/* The first statement per POD and stage that checks counts. */
static void take_statements(px_walk *w) {
    for (size_t i = 0; i < w->n; i++) {
        const px_entry *e = &w->e[i];
        if (!px_walk_for_manifest(w, e, PX_ENTRY_POD_INSTANCE))
            continue;
        px_walk_pod *p = px_walk_pod_of(w, e->pod);
        if (!p || !p->key) {
            px_walk_say(w, "entry %" PRIu64 ": ignored: instance statement by %s, not a known POD of the manifest",
                        e->index, e->pod);
            continue;
        }
        if (e->stage >= w->kpod || p->have[e->stage])
            continue;
        px_err cerr = {0};
        if (px_podinst_check(e, &w->plan.manifest, p->key->sign_pk, w->check, w->check_ctx, &p->att[e->stage], NULL,
                             &cerr)) {
            px_walk_say(w, "entry %" PRIu64 ": ignored: %s", e->index, cerr.msg);
            continue;
        }
        p->have[e->stage] = 1;
    }
}

/* A release by this POD to its own first instance, for input `in`. */
static int release_of(px_walk *w, const px_walk_pod *p, const px_input_ref *in) {
    for (size_t i = 0; i < w->n; i++) {
        const px_entry *e = &w->e[i];
        if (px_ct_equal(e->id, in->proof, PX_SHA256_BYTES) && px_walk_for_manifest(w, e, PX_ENTRY_RELEASE) &&
            !strcmp(e->pod, p->id) && px_walk_subject_has(e, in->digest) &&
            px_ct_equal(e->stage_key, p->att[0].box_pk, PX_BOX_PUBLICKEYBYTES) &&
            !px_dsse_verify_pk(&e->env, p->key->sign_pk, NULL))
            return 1;
    }
    return 0;
}

/* Every input of stage s's proof came from this POD: its release, or its
 * previous instance's ok proof. */
static int inputs_ok(px_walk *w, const px_walk_pod *p, uint32_t s, const px_entry *e, uint64_t *releases) {
    if (e->ninputs == 0)
        return 0;
    for (size_t k = 0; k < e->ninputs; k++) {
        if (s == 0 && release_of(w, p, &e->inputs[k]))
            (*releases)++;
        else if (s == 0 || !p->ok[s - 1] || !px_ct_equal(p->ok[s - 1]->id, e->inputs[k].proof, PX_SHA256_BYTES) ||
                 !px_walk_subject_has(p->ok[s - 1], e->inputs[k].digest))
            return 0;
    }
    return 1;
}

static const px_entry *accepted_by(const px_walk *w, const px_walk_pod *p, uint32_t s) {
    for (size_t i = 0; i < w->n; i++) {
        const px_entry *e = &w->e[i];
        if (px_walk_for_manifest(w, e, PX_ENTRY_ACCEPTED) && e->stage == s &&
            px_ct_equal(e->evidence, p->att[s].evidence_digest, PX_SHA256_BYTES) &&
            !px_dsse_verify_pk(&e->env, p->att[s].sign_pk, NULL))
            return e;
    }
    return NULL;
}

/* Why stage s of this POD has no ok proof: one line naming it. */
static void no_ok(px_walk *w, const px_walk_pod *p, uint32_t s, const char *kind, const px_entry *failed) {
    const px_entry *acc = accepted_by(w, p, s);
    if (failed)
        px_walk_say(w, "stage %u (%s) at %s: failed: %s: %s", s, kind, p->id, failed->status, failed->reason);
    else if (acc && w->at > w->plan.manifest.deadline)
        px_walk_say(w, "stage %u (%s) at %s: accepted its input (entry %" PRIu64 ") and logged no proof by the "
                    "deadline: %s is silent (blamed: %s)", s, kind, p->id, acc->index, p->id, p->id);
    else if (acc)
        px_walk_say(w, "stage %u (%s) at %s: accepted its input (entry %" PRIu64 ") and has logged no proof yet",
                    s, kind, p->id, acc->index);
    else
        px_walk_say(w, "stage %u (%s) at %s: never accepted input", s, kind, p->id);
}

static void walk_pod(px_walk *w, px_walk_pod *p) {
    const px_manifest *m = &w->plan.manifest;
    for (uint32_t s = 0; s < w->kpod; s++) {
        const char *kind = px_manifest_kind_name(m->stages[s].kind);
        if (!p->have[s]) {
            px_walk_say(w, "stage %u (%s) at %s: no instance (the POD refused, was offline, or stopped before "
                        "starting it)", s, kind, p->id);
            return;
        }
        const px_entry *ok = NULL, *failed = NULL;
        uint64_t releases = 0;
        for (size_t i = 0; i < w->n && !ok && !failed; i++) {
            const px_entry *e = &w->e[i];
            if (!px_walk_for_manifest(w, e, PX_ENTRY_EXEC) || e->stage != s ||
                px_dsse_verify_pk(&e->env, p->att[s].sign_pk, NULL))
                continue;
            if (strcmp(e->status, "ok"))
                failed = e;
            else if (inputs_ok(w, p, s, e, &releases))
                ok = e;
            else
                px_walk_say(w, "entry %" PRIu64 ": ignored: stage %u proof at %s names inputs that are not its "
                            "own", e->index, s, p->id);
        }
        if (!ok) {
            no_ok(w, p, s, kind, failed);
            return;
        }
        p->ok[s] = ok;
        w->a->releases += releases;
    }
    w->a->pods_ran++;
}

int px_walk_pods(px_walk *w) {
    if (pods_init(w))
        return -1;
    take_statements(w);
    for (size_t i = 0; i < w->nwpods; i++)
        if (w->wpods[i].id && w->wpods[i].key)
            walk_pod(w, &w->wpods[i]);
    return 0;
}

int px_walk_pod_input(px_walk *w, const px_input_ref *in) {
    for (size_t i = 0; i < w->nwpods; i++) {
        px_walk_pod *p = &w->wpods[i];
        const px_entry *last = w->kpod ? p->ok[w->kpod - 1] : NULL;
        if (last && px_ct_equal(last->id, in->proof, PX_SHA256_BYTES) && px_walk_subject_has(last, in->digest)) {
            if (!p->used)
                w->a->pods_used++;
            p->used = 1;
            return 1;
        }
    }
    return 0;
}

void px_walk_pods_report(px_walk *w) {
    const px_stage_spec *s = &w->plan.manifest.stages[w->kpod - 1];
    char code[2 * PX_SHA256_BYTES + 1] = "built-in";
    if (s->has_code)
        px_hex_encode(code, s->code, PX_SHA256_BYTES);
    px_walk_say(w, "stages at the PODs: %" PRIu64 " of %" PRIu64 " PODs ran stage %u (%s) with code %s to an ok "
                "proof; the stage after them used %" PRIu64 " of their outputs", w->a->pods_ran, w->a->pods,
                w->kpod - 1, px_manifest_kind_name(s->kind), code, w->a->pods_used);
}
