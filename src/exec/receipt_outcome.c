/* What a receipt says about its task's outcome. A receipt is built for
 * every task that got as far as a published plan: for success it states
 * the result digest; for a failure the audit's verdict (stage, partition,
 * status, reason, the party the log blames). Checking recomputes the audit
 * over the receipt's entries and requires it to say exactly that, so a
 * failure receipt blames nobody the log does not.
 *
 *   "outcome": "ok",     "result": "<hex>"
 *   "outcome": "failed", "failure": {"verdict", "stage", "partition",
 *                                    "node", "status", "reason", "blamed"}
 *
 * ("blamed" is null when the log proves nobody at fault; "stage" is -1
 * for a failure before stage 0.) The audit is judged at the time of the
 * newest cosignature on the receipt's checkpoint: a witness's signed word
 * that the log had no more than this by then, which is what a "silent"
 * verdict (no proof by the deadline) rests on. Without a cosignature no
 * time is known and an instance that accepted its input stays "running". */
#include <string.h>

#include "exec/util.h"

static int failure_json(json_t *r, const px_audit *a, px_err *err) {
    json_t *f = json_object();
    if (px_x_set(r, "failure", f, err) || px_x_set(f, "verdict", json_string(px_verdict_name(a->verdict)), err) ||
        px_x_set(f, "stage", json_integer(a->stage), err) || px_x_set(f, "partition", json_integer(a->partition), err) ||
        px_x_set(f, "node", json_string(a->node), err) || px_x_set(f, "status", json_string(a->status), err) ||
        px_x_set(f, "reason", json_string(a->why), err) ||
        px_x_set(f, "blamed", a->blamed[0] ? json_string(a->blamed) : json_null(), err))
        return -1;
    return 0;
}

int px_receipt_outcome_build(json_t *r, const px_receipt_parts *p, px_err *err) {
    if (p->failure) {
        if (p->failure->verdict == PX_AUDIT_OK)
            return px_fail(err, PX_E_INVALID, "a failure receipt needs a failed audit");
        return px_x_set(r, "outcome", json_string("failed"), err) || failure_json(r, p->failure, err) ? -1 : 0;
    }
    return px_x_set(r, "outcome", json_string("ok"), err) ||
                   px_x_set_hex(r, "result", p->result, PX_SHA256_BYTES, err)
               ? -1
               : 0;
}

/* ---- checking ----------------------------------------------------------------- */

int64_t px_receipt_time(const char *text, size_t len, const px_cosigner *ws, size_t nw) {
    px_note note;
    if (!text || px_note_parse(&note, text, len, NULL))
        return 0;
    uint64_t newest = 0;
    for (size_t i = 0; i < nw; i++) {
        uint64_t ts = 0;
        if (px_cosig_verify(&note, &ws[i], &ts, NULL) == 0 && ts > newest)
            newest = ts;
    }
    px_note_free(&note);
    return newest > (uint64_t)(INT64_MAX / 1000) ? 0 : (int64_t)newest * 1000;
}

/* Judged by the pinned witnesses when there are, else by those the
 * receipt lists. */
static int64_t cosigned_at(const json_t *doc, const px_receipt_pins *pins, const px_cosigner *listed, size_t nlisted) {
    const json_t *cp = json_object_get(doc, "checkpoint");
    if (!json_is_string(cp))
        return 0;
    if (pins && pins->nwitnesses)
        return px_receipt_time(json_string_value(cp), json_string_length(cp), pins->witnesses, pins->nwitnesses);
    return px_receipt_time(json_string_value(cp), json_string_length(cp), listed, nlisted);
}

static int same_key(const px_verifier *a, const px_verifier *b) {
    return !strcmp(a->name, b->name) && a->id == b->id && px_ct_equal(a->pk, b->pk, PX_SIGN_PUBLICKEYBYTES);
}

/* The failure the receipt states must be the audit's, member for member. */
static int failure_matches(const json_t *doc, const px_audit *a, px_err *err) {
    static const char *const keys[] = {"verdict", "stage", "partition", "node", "status", "reason", "blamed", NULL};
    json_t *f;
    const char *verdict, *node, *status, *reason;
    int64_t stage, partition;
    if (px_x_obj(doc, "failure", &f, err) || px_json_only(f, "failure", keys, err) ||
        px_json_str(f, "verdict", &verdict, err) || px_json_int(f, "stage", &stage, err) ||
        px_json_int(f, "partition", &partition, err) || px_json_str(f, "node", &node, err) ||
        px_json_str(f, "status", &status, err) || px_json_str(f, "reason", &reason, err))
        return px_err_prefix(err, "failure: ");
    const json_t *b = json_object_get(f, "blamed");
    if (!json_is_null(b) && !json_is_string(b))
        return px_fail(err, PX_E_INVALID, "failure: \"blamed\" must be a node id or null");
    const char *blamed = json_is_string(b) ? json_string_value(b) : "";
    if (a->verdict == PX_AUDIT_OK)
        return px_fail(err, PX_E_VERIFY, "the receipt states a failure but the audit of its entries is ok");
    if (strcmp(verdict, px_verdict_name(a->verdict)) || stage != a->stage || partition != (int64_t)a->partition ||
        strcmp(node, a->node) || strcmp(status, a->status))
        return px_fail(err, PX_E_VERIFY, "the receipt states %s (%s) at stage %lld partition %lld on %s; the audit "
                       "of its entries says %s (%s) at stage %lld partition %u on %s", verdict, status,
                       (long long)stage, (long long)partition, node, px_verdict_name(a->verdict), a->status,
                       (long long)a->stage, a->partition, a->node);
    if (strcmp(blamed, a->blamed))
        return px_fail(err, PX_E_VERIFY, "the receipt blames %s; the audit of its entries blames %s",
                       blamed[0] ? blamed : "nobody", a->blamed[0] ? a->blamed : "nobody");
    if (strcmp(reason, a->why))
        return px_fail(err, PX_E_VERIFY, "the receipt's reason is not the audit's: %s", a->why);
    return 0;
}

int px_receipt_outcome_check(const json_t *doc, const px_receipt_pins *pins, const px_cosigner *witnesses,
                             size_t nwitnesses, const px_verifier *log_key, const px_entry *entries, size_t n,
                             const px_pod_key *pods, size_t npods, px_evidence_check_fn check, void *ctx,
                             px_receipt_summary *s, px_err *err) {
    const char *outcome = "ok";
    if (json_object_get(doc, "outcome") && px_json_str(doc, "outcome", &outcome, err))
        return -1;
    int failed = !strcmp(outcome, "failed");
    if (!failed && strcmp(outcome, "ok"))
        return px_fail(err, PX_E_INVALID, "outcome must be \"ok\" or \"failed\"");
    if (failed ? json_object_get(doc, "result") != NULL : json_object_get(doc, "failure") != NULL)
        return px_fail(err, PX_E_INVALID, "a receipt has a result when it succeeded and a failure when it failed");
    if (!failed && px_json_hex(doc, "result", s->result, PX_SHA256_BYTES, err))
        return -1;
    s->at = cosigned_at(doc, pins, witnesses, nwitnesses);
    if (px_audit_run_at(&s->audit, s->manifest, entries, n, pods, npods, check, ctx, s->at, err))
        return -1;
    if (s->audit.log.name[0] && !same_key(&s->audit.log, log_key))
        return px_fail(err, PX_E_VERIFY, "the task's instances answer to log %s, not to the receipt's log %s",
                       s->audit.log.name, log_key->name);
    if (failed) {
        s->failed = 1;
        return failure_matches(doc, &s->audit, err);
    }
    if (s->audit.verdict != PX_AUDIT_OK)
        return px_fail(err, PX_E_VERIFY, "audit of the receipt's entries: %s: %s", px_verdict_name(s->audit.verdict),
                       s->audit.why);
    if (!px_ct_equal(s->audit.result, s->result, PX_SHA256_BYTES))
        return px_fail(err, PX_E_VERIFY, "the task's last stage output is not the receipt's result");
    return 0;
}
