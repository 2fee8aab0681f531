/* The audit of one stage instance, from the log alone.
 *
 * An instance signs an accepted-input statement before its stage runs and
 * is shown it in the log before it may run (release after log,
 * docs/lambda.md); it signs its proof after, and releases nothing before
 * that is in the log too. So what the log holds for an instance tells who
 * is at fault without anyone's word:
 *
 *   a proof                         its status (ok, or the failure it signed)
 *   accepted, no proof, deadline    "silent": the executor node hosting it
 *   accepted, no proof yet          "running": nobody, until the deadline
 *   nothing                         "missing": it never accepted input, which
 *                                   the log cannot pin on anyone; a
 *                                   consumer's report is quoted as a claim
 *
 * A consumer's report never decides a verdict: it is noted, and ignored when
 * the instance logged its proof. */
#include <inttypes.h>
#include <string.h>

#include "exec/audit_int.h"

static void hex8(char out[17], const uint8_t *p) {
    px_hex_encode(out, p, 8);
}

/* The producer an input names must be a valid release (stage 0) or an
 * accepted ok proof of the previous stage, and must have output that digest. */
static int input_proven(px_walk *w, uint32_t stage, const px_input_ref *in) {
    if (w->kpod && stage == w->kpod)
        return px_walk_pod_input(w, in);
    if (stage == 0) {
        for (size_t i = 0; i < w->n; i++) {
            const px_entry *e = &w->e[i];
            if (px_ct_equal(e->id, in->proof, PX_SHA256_BYTES) && px_walk_subject_has(e, in->digest) &&
                px_walk_release_ok(w, e)) {
                w->a->releases++;
                return 1;
            }
        }
        return 0;
    }
    for (size_t i = 0; i < w->plan.ninstances; i++) {
        const px_entry *p = w->ok[i];
        if (w->plan.instances[i].stage == stage - 1 && p && px_ct_equal(p->id, in->proof, PX_SHA256_BYTES) &&
            px_walk_subject_has(p, in->digest))
            return 1;
    }
    return 0;
}

static int input_code(const char *status) {
    static const char *const codes[] = {"bad-input", "bad-proof", "digest-mismatch", NULL};
    for (size_t i = 0; codes[i]; i++)
        if (!strcmp(status, codes[i]))
            return 1;
    return 0;
}

static const char *upstream(uint32_t stage, const char *status) {
    if (!input_code(status))
        return "";
    return stage == 0 ? " (what reached it did not match the POD releases)"
                      : " (what reached it did not match the previous stage's proof)";
}

/* Who a signed failure proves at fault. Input failures: what reached the
 * stage was sealed by a producer and relayed by the consumer, and a sealed
 * box does not say who sealed it, so nobody. Failures of the task's own code
 * (or of other code than the attested digest) are the consumer's. */
static const char *failure_blame(const px_walk *w, const px_plan_instance *in, const char *status) {
    static const char *const code_faults[] = {"trap", "cpu-limit", "memory-limit", "forbidden-syscall",
                                              "invalid-module", NULL};
    if (!w->plan.manifest.stages[in->stage].has_code)
        return NULL;
    for (size_t i = 0; code_faults[i]; i++)
        if (!strcmp(status, code_faults[i]))
            return w->plan.manifest.consumer_id;
    return NULL;
}

static int same_instance(const px_entry *e, const px_plan_instance *in) {
    return e->stage == in->stage && e->partition == in->partition;
}

/* The instance's first accepted-input statement in log order: signed by
 * its attested key, naming its evidence. */
static const px_entry *accepted_of(px_walk *w, size_t k) {
    const px_plan_instance *in = &w->plan.instances[k];
    for (size_t i = 0; i < w->n; i++) {
        const px_entry *e = &w->e[i];
        if (!px_walk_for_manifest(w, e, PX_ENTRY_ACCEPTED) || !same_instance(e, in))
            continue;
        if (px_dsse_verify_pk(&e->env, w->att[k].sign_pk, NULL)) {
            px_walk_say(w, "entry %" PRIu64 ": ignored: stage %u accepted-input statement not signed by the attested "
                        "instance", e->index, in->stage);
            continue;
        }
        if (!px_ct_equal(e->evidence, w->att[k].evidence_digest, PX_SHA256_BYTES)) {
            px_walk_say(w, "entry %" PRIu64 ": ignored: stage %u accepted-input statement names other evidence",
                        e->index, in->stage);
            continue;
        }
        return e;
    }
    return NULL;
}

/* The consumer's first signed report about the instance, if any. */
static const px_entry *report_of(const px_walk *w, const px_plan_instance *in) {
    for (size_t i = 0; i < w->n; i++) {
        const px_entry *e = &w->e[i];
        if (px_walk_for_manifest(w, e, PX_ENTRY_REPORT) && same_instance(e, in) &&
            !px_dsse_verify(&e->env, &w->plan.manifest.consumer, NULL))
            return e;
    }
    return NULL;
}

static int same_inputs(const px_entry *a, const px_entry *b) {
    if (a->ninputs != b->ninputs)
        return 0;
    for (size_t i = 0; i < a->ninputs; i++)
        if (!px_ct_equal(a->inputs[i].digest, b->inputs[i].digest, PX_SHA256_BYTES) ||
            !px_ct_equal(a->inputs[i].proof, b->inputs[i].proof, PX_SHA256_BYTES))
            return 0;
    return 1;
}

/* No proof in the log: the accepted-input statement decides. */
static int no_proof(px_walk *w, const px_plan_instance *in, const char *kind, const px_entry *acc,
                    const px_entry *rep) {
    const px_manifest *m = &w->plan.manifest;
    if (acc && w->at > m->deadline)
        return px_walk_broke(w, PX_AUDIT_MISSING, in->stage, in->partition, in->node, in->node, "silent",
                             "stage %u (%s) partition %u on %s accepted its input (entry %" PRIu64
                             ") and logged no proof by the manifest's deadline: %s is silent",
                             in->stage, kind, in->partition, in->node, acc->index, in->node);
    if (acc)
        return px_walk_broke(w, PX_AUDIT_MISSING, in->stage, in->partition, in->node, NULL, "running",
                             "stage %u (%s) partition %u on %s accepted its input (entry %" PRIu64
                             ") and has logged no proof yet; it has until the manifest's deadline (%" PRId64 ")",
                             in->stage, kind, in->partition, in->node, acc->index, m->deadline);
    if (rep)
        return px_walk_broke(w, PX_AUDIT_MISSING, in->stage, in->partition, in->node, NULL, "missing",
                             "stage %u (%s) partition %u on %s never accepted input (no accepted-input statement in "
                             "the log); the consumer reports %s: %s, an unproven claim",
                             in->stage, kind, in->partition, in->node, rep->status, rep->reason);
    return px_walk_broke(w, PX_AUDIT_MISSING, in->stage, in->partition, in->node, NULL, "missing",
                         "stage %u (%s) partition %u on %s never accepted input (no accepted-input statement in the "
                         "log)", in->stage, kind, in->partition, in->node);
}

static int check_proof(px_walk *w, const px_plan_instance *in, const px_entry *e, const px_entry *acc,
                       const char *kind) {
    if (strcmp(e->stage_kind, kind))
        return px_walk_broke(w, PX_AUDIT_FAILED, in->stage, in->partition, in->node, in->node, "bad-proof",
                             "stage %u proof (entry %" PRIu64 ") says kind %s, the manifest says %s", in->stage,
                             e->index, e->stage_kind, kind);
    if (e->ninputs == 0)
        return px_walk_broke(w, PX_AUDIT_FAILED, in->stage, in->partition, in->node, in->node, "bad-proof",
                             "stage %u (%s) proof (entry %" PRIu64 ") names no input", in->stage, kind, e->index);
    /* The instance may run only once its acceptance is on record. */
    if (!acc || acc->index > e->index || !same_inputs(acc, e))
        return px_walk_broke(w, PX_AUDIT_FAILED, in->stage, in->partition, in->node, in->node, "unaccepted",
                             "stage %u (%s) on %s proved output (entry %" PRIu64 ") without an accepted-input "
                             "statement for those inputs before it in the log", in->stage, kind, in->node, e->index);
    for (size_t j = 0; j < e->ninputs; j++)
        if (!input_proven(w, in->stage, &e->inputs[j])) {
            char d[17];
            hex8(d, e->inputs[j].digest);
            return px_walk_broke(w, PX_AUDIT_FAILED, in->stage, in->partition, in->node, NULL, "unproven-input",
                                 "stage %u (%s) on %s used input %s... that no %s in the log produced", in->stage,
                                 kind, in->node, d,
                                 in->stage == 0 ? "valid release"
                                 : w->kpod && in->stage == w->kpod ? "ok proof of a stage at a POD"
                                                                   : "ok proof of the previous stage");
        }
    return 0;
}

int px_walk_instance(px_walk *w, size_t k) {
    const px_plan_instance *in = &w->plan.instances[k];
    const char *kind = px_manifest_kind_name(w->plan.manifest.stages[in->stage].kind);
    const px_entry *first_ok = NULL;
    for (size_t i = 0; i < w->n; i++) {
        const px_entry *e = &w->e[i];
        if (!px_walk_for_manifest(w, e, PX_ENTRY_EXEC) || !same_instance(e, in))
            continue;
        if (px_dsse_verify_pk(&e->env, w->att[k].sign_pk, NULL)) {
            px_walk_say(w, "entry %" PRIu64 ": ignored: stage %u proof not signed by the attested instance", e->index,
                        in->stage);
            continue;
        }
        if (strcmp(e->status, "ok"))
            return px_walk_broke(w, PX_AUDIT_FAILED, in->stage, in->partition, in->node,
                                 failure_blame(w, in, e->status), e->status,
                                 "stage %u (%s) on %s signed a failure: %s: %s%s", in->stage, kind, in->node,
                                 e->status, e->reason, upstream(in->stage, e->status));
        if (first_ok && (first_ok->st.nsubjects != e->st.nsubjects ||
                         !px_walk_subject_has(first_ok, e->st.subjects[0].sha256)))
            return px_walk_broke(w, PX_AUDIT_FAILED, in->stage, in->partition, in->node, in->node, "equivocation",
                                 "stage %u (%s) on %s signed two different outputs (entries %" PRIu64 " and %" PRIu64
                                 ")", in->stage, kind, in->node, first_ok->index, e->index);
        if (!first_ok)
            first_ok = e;
    }
    const px_entry *acc = accepted_of(w, k), *rep = report_of(w, in);
    if (!first_ok)
        return no_proof(w, in, kind, acc, rep);
    if (rep)
        px_walk_say(w, "entry %" PRIu64 ": ignored: the consumer reports stage %u partition %u on %s %s, but the "
                    "instance logged its proof (entry %" PRIu64 ")", rep->index, in->stage, in->partition, in->node,
                    rep->status, first_ok->index);
    if (check_proof(w, in, first_ok, acc, kind))
        return 1;
    w->ok[k] = first_ok;
    /* Counts are the prover's to state; a stage that reads no records
     * (a task's map, the DP stage) has none worth a line. */
    char counts[128] = "";
    if (!strcmp(kind, "prover"))
        snprintf(counts, sizeof counts, ", %" PRIu64 " records (%" PRIu64 " authenticated, %" PRIu64 " alleged)",
                 first_ok->records, first_ok->authenticated, first_ok->alleged);
    else if (first_ok->records)
        snprintf(counts, sizeof counts, ", %" PRIu64 " records", first_ok->records);
    px_walk_say(w, "stage %u (%s) partition %u on %s: ok, accepted entry %" PRIu64 ", proof entry %" PRIu64 "%s",
                in->stage, kind, in->partition, in->node, acc->index, first_ok->index, counts);
    return 0;
}
