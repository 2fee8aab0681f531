/* What a poll receipt's entries must say, checked by any reader offline:
 * the poll statement holds under the reader's trust (membership keys,
 * accepted builds); the issuer's count, every release and the tally's
 * statements are signed by who the statement names; the tally took
 * exactly the releases shown and stated counts that add up; the spent
 * list in the log is exactly the one it committed to, each token the
 * poll key's, none twice, as many as ballots accepted, no more than the
 * issuer issued; and the result is the one the tally's proof names. */
#include <string.h>

#include "pixiu/proof.h"
#include "poll/pjson.h"
#include "poll/receipt_int.h"

#define TOKEN_NONCE_OFF (4 + 1 + 3 * 32)

typedef struct state {
    px_poll_plan plan;
    int have_plan;
    px_poll_attested att;
    uint8_t (*releases)[32]; /* release envelope ids */
    size_t nrel;
    int have_issued;
    json_t *pred; /* the tally proof's predicate */
    uint8_t subject[32];
    int have_accepted;
    px_buf spent;
    uint32_t parts, got;
} state;

static int only_one(int *seen, const char *what, px_err *err) {
    if ((*seen)++)
        return px_fail(err, PX_E_INVALID, "two %s entries", what);
    return 0;
}

static int check_release(state *st, const px_buf *b, px_err *err) {
    const px_poll_survey *s = &st->plan.survey;
    px_dsse e;
    px_statement sm;
    uint8_t m[32], k[32];
    if (px_dsse_parse(&e, b->data, b->len, err))
        return px_err_prefix(err, "release: ");
    int ok = 0;
    for (size_t i = 0; i <= s->nboxes && !ok; i++)
        ok = !px_dsse_verify(&e, i ? &s->boxes[i - 1].key : &s->issuer.key, NULL);
    int rc = ok ? px_statement_parse(&sm, e.payload.data, e.payload.len, err)
                : px_fail(err, PX_E_VERIFY, "release: not signed by the survey's issuer or a box");
    px_dsse_free(&e);
    if (rc)
        return -1;
    if (strcmp(sm.predicate_type, PX_RELEASE_PREDICATE) || px_json_hex(sm.predicate, "manifest", m, 32, err) ||
        px_json_hex(sm.predicate, "stage_key", k, 32, err))
        rc = px_fail(err, PX_E_INVALID, "release: not a release statement");
    else if (!px_ct_equal(m, s->id, 32) || !px_ct_equal(k, st->att.box_pk, 32))
        rc = px_fail(err, PX_E_VERIFY, "release: for another poll or another tally instance");
    px_statement_free(&sm);
    if (rc)
        return -1;
    uint8_t(*r)[32] = realloc(st->releases, (st->nrel + 1) * sizeof *r);
    if (!r)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    st->releases = r;
    px_sha256(r[st->nrel++], b->data, b->len);
    return 0;
}

static int check_proof(state *st, const px_buf *b, px_err *err) {
    px_exec_proof p;
    px_dsse e;
    if (px_exec_proof_verify(&p, b->data, b->len, st->att.sign_pk, err))
        return px_err_prefix(err, "tally proof: ");
    if (strcmp(p.status, PX_STATUS_OK) || !px_ct_equal(p.manifest, st->plan.survey.id, 32) ||
        strcmp(p.kind, PX_POLL_TALLY_KIND) || !px_ct_equal(p.evidence, st->att.evidence_digest, 32) ||
        !px_ct_equal(p.measurement, st->att.measurement, 32))
        return px_fail(err, PX_E_VERIFY, "tally proof: not an ok proof of this poll's attested tally (status %s)",
                       p.status);
    memcpy(st->subject, p.subject, 32);
    if (px_dsse_parse(&e, b->data, b->len, err))
        return -1;
    json_t *doc = px_json_parse(e.payload.data, e.payload.len, 1 << 20, err);
    px_dsse_free(&e);
    if (!doc)
        return -1;
    st->pred = json_incref(json_object_get(doc, "predicate"));
    json_decref(doc);
    /* Its inputs are exactly the releases shown, each once. */
    json_t *in = json_object_get(st->pred, "inputs"), *v;
    size_t i;
    if (json_array_size(in) != st->nrel)
        return px_fail(err, PX_E_VERIFY, "tally proof: %zu inputs, the receipt shows %zu releases",
                       json_array_size(in), st->nrel);
    json_array_foreach(in, i, v) {
        uint8_t id[32];
        size_t k = 0;
        if (px_json_hex(v, "proof", id, 32, err))
            return px_err_prefix(err, "tally proof: ");
        while (k < st->nrel && !px_ct_equal(st->releases[k], id, 32))
            k++;
        if (k == st->nrel)
            return px_fail(err, PX_E_VERIFY, "tally proof: input %zu is not a release in the receipt", i);
    }
    return 0;
}

static int check_accepted(state *st, const px_buf *b, px_err *err) {
    px_accepted a;
    if (px_accepted_verify(&a, b->data, b->len, st->att.sign_pk, err))
        return px_err_prefix(err, "tally accepted statement: ");
    if (!px_ct_equal(a.manifest, st->plan.survey.id, 32) || a.ninputs != st->nrel)
        return px_fail(err, PX_E_VERIFY, "tally accepted statement: not for this poll and these releases");
    st->have_accepted = 1;
    return 0;
}

static int check_spent_part(state *st, const px_buf *b, px_err *err) {
    uint32_t part, parts;
    if (px_poll_spent_part_read(b->data, b->len, &st->plan.survey.conductor.key, st->plan.survey.id, &part, &parts,
                                &st->spent, err))
        return -1;
    if ((st->parts && parts != st->parts) || part != st->got)
        return px_fail(err, PX_E_INVALID, "spent list: part %u of %u out of order", part, parts);
    st->parts = parts;
    st->got++;
    return 0;
}

/* The spent list: the digest the tally stated, the count it accepted,
 * strictly ascending nonces (none twice), every token the poll key's. */
static int check_spent(state *st, const json_t *rep, uint64_t accepted, px_err *err) {
    uint8_t want[32], got[32];
    if (st->got != st->parts || !st->parts)
        return px_fail(err, PX_E_INVALID, "spent list: %u of %u parts", st->got, st->parts);
    if (px_json_hex(rep, "spent", want, 32, err))
        return px_err_prefix(err, "tally report: ");
    px_poll_spent_digest(got, st->spent.data, st->spent.len);
    if (!px_ct_equal(got, want, 32))
        return px_fail(err, PX_E_VERIFY, "spent list: the tokens in the log are not the list the tally committed to");
    uint64_t n = 0;
    const uint8_t *prev = NULL;
    for (size_t off = 0; off < st->spent.len; n++) {
        px_poll_token t;
        size_t tl = PX_POLL_TOKEN_FIXED + px_load_u16le(st->spent.data + off + PX_POLL_TOKEN_FIXED - 2);
        if (px_poll_token_parse(&t, st->spent.data + off, tl, err) ||
            px_poll_token_verify(&t, st->plan.survey.key, st->plan.survey.id, err))
            return px_err_prefix(err, "spent token %llu: ", (unsigned long long)n);
        const uint8_t *nonce = st->spent.data + off + TOKEN_NONCE_OFF;
        if (prev && memcmp(prev, nonce, 32) >= 0)
            return px_fail(err, PX_E_VERIFY, "spent list: token %llu is not after the one before (counted twice?)",
                           (unsigned long long)n);
        prev = nonce;
        off += tl;
    }
    if (n != accepted)
        return px_fail(err, PX_E_VERIFY, "spent list: %llu tokens for %llu accepted ballots", (unsigned long long)n,
                       (unsigned long long)accepted);
    return 0;
}

static int report_counts(px_poll_summary *s, const json_t *rep, px_err *err) {
    int64_t v;
    json_t *ref;
    if (px_pj_int(rep, "received", 0, PX_POLL_MAX_BALLOTS, &v, err))
        return px_err_prefix(err, "tally report: ");
    s->received = (uint64_t)v;
    if (px_pj_int(rep, "accepted", 0, PX_POLL_MAX_BALLOTS, &v, err) || px_pj_obj(rep, "refused", &ref, err))
        return px_err_prefix(err, "tally report: ");
    s->accepted = (uint64_t)v;
    uint64_t sum = s->accepted;
    for (int r = 1; r < PX_POLL_NREASONS; r++) {
        if (px_pj_int(ref, px_poll_reason_name((px_poll_reason)r), 0, PX_POLL_MAX_BALLOTS, &v, err))
            return px_err_prefix(err, "tally report: refused: ");
        s->refused[r] = (uint64_t)v;
        sum += (uint64_t)v;
    }
    if (sum != s->received)
        return px_fail(err, PX_E_VERIFY, "tally report: accepted and refused do not add up to received");
    if (px_pj_int(rep, "issued", 0, INT64_C(1) << 40, &v, err))
        return px_err_prefix(err, "tally report: ");
    if ((uint64_t)v != s->issuer.issued)
        return px_fail(err, PX_E_VERIFY, "tally report: issued %lld, the issuer's count says %llu", (long long)v,
                       (unsigned long long)s->issuer.issued);
    if (s->accepted > s->issuer.issued)
        return px_fail(err, PX_E_VERIFY, "more ballots accepted than tokens issued");
    if (s->members && s->issuer.issued > s->members)
        return px_fail(err, PX_E_VERIFY, "more tokens issued (%llu) than members (%llu)",
                       (unsigned long long)s->issuer.issued, (unsigned long long)s->members);
    return 0;
}

static int check_result(const px_poll_rentries *re, const state *st, px_poll_summary *s, px_err *err) {
    uint8_t c[32];
    px_commit_digest(c, re->r, re->result.data, re->result.len);
    if (!px_ct_equal(c, st->subject, 32))
        return px_fail(err, PX_E_VERIFY, "the result is not the output the tally's proof names");
    json_t *doc = px_json_parse(re->result.data, re->result.len, 512u << 20, err);
    if (!doc)
        return px_err_prefix(err, "result: ");
    uint8_t poll[32];
    int64_t acc;
    int rc = px_json_hex(doc, "poll", poll, 32, err) || px_pj_int(doc, "accepted", 0, PX_POLL_MAX_BALLOTS, &acc, err);
    if (!rc && (!px_ct_equal(poll, st->plan.survey.id, 32) || (uint64_t)acc != s->accepted))
        rc = px_fail(err, PX_E_VERIFY, "result: another poll or count");
    json_decref(doc);
    return rc ? -1 : px_buf_append(&s->result, re->result.data, re->result.len, err);
}

static int walk(const px_poll_rentries *re, const px_poll_trust *t, state *st, px_poll_summary *s, px_err *err) {
    int seen_poll = 0, seen_proof = 0;
    /* The statement first: everything else is judged by what it names. */
    for (size_t i = 0; i < re->n; i++)
        if (re->e[i].role == PX_PR_POLL) {
            if (only_one(&seen_poll, "poll", err) ||
                t->check_plan(t->ctx, re->e[i].entry.data, re->e[i].entry.len, &st->plan, &st->att, err))
                return -1;
            st->have_plan = 1;
        }
    if (!st->have_plan)
        return px_fail(err, PX_E_INVALID, "no poll statement");
    if (!px_ct_equal(st->plan.survey.id, re->poll, 32))
        return px_fail(err, PX_E_VERIFY, "the poll statement is for another poll");
    for (size_t i = 0; i < re->n; i++) {
        const px_buf *b = &re->e[i].entry;
        int rc = 0;
        switch (re->e[i].role) {
        case PX_PR_ISSUED:
            rc = only_one(&st->have_issued, "issued", err) ||
                 px_poll_issued_verify(&s->issuer, b->data, b->len, &st->plan.survey.issuer.key, err);
            if (!rc && !px_ct_equal(s->issuer.poll, re->poll, 32))
                rc = px_fail(err, PX_E_VERIFY, "the issuer's count is for another poll");
            break;
        case PX_PR_RELEASE:
            rc = check_release(st, b, err);
            break;
        case PX_PR_SPENT:
            rc = check_spent_part(st, b, err);
            break;
        default:
            break;
        }
        if (rc)
            return -1;
    }
    for (size_t i = 0; i < re->n; i++) {
        const px_buf *b = &re->e[i].entry;
        if ((re->e[i].role == PX_PR_PROOF && (only_one(&seen_proof, "tally proof", err) || check_proof(st, b, err))) ||
            (re->e[i].role == PX_PR_ACCEPTED && check_accepted(st, b, err)))
            return -1;
    }
    if (!st->have_issued || !seen_proof || !st->have_accepted)
        return px_fail(err, PX_E_INVALID, "the receipt lacks the issuer's count, the tally's proof or its acceptance");
    return 0;
}

int px_poll_receipt_verify(const void *json, size_t len, const px_poll_trust *t, px_poll_summary *s, px_err *err) {
    px_poll_rentries re;
    state st;
    memset(&st, 0, sizeof st);
    memset(s, 0, sizeof *s);
    if (px_poll_receipt_read(&re, json, len, t, err))
        return -1;
    int rc = walk(&re, t, &st, s, err);
    json_t *rep = rc ? NULL : json_object_get(st.pred, "report");
    if (!rc && !json_is_object(rep))
        rc = px_fail(err, PX_E_VERIFY, "the tally's proof has no report");
    if (!rc) {
        const px_poll_survey *sv = &st.plan.survey;
        s->members = sv->members;
        rc = report_counts(s, rep, err) || check_spent(&st, rep, s->accepted, err) || check_result(&re, &st, s, err);
        memcpy(s->poll, sv->id, 32);
        snprintf(s->name, sizeof s->name, "%s", sv->name);
        snprintf(s->epsilon, sizeof s->epsilon, "%s", sv->epsilon);
        s->spent = s->accepted;
        s->releases = st.nrel;
        s->log_size = re.log_size;
        s->witnesses = re.witnesses;
    }
    if (st.have_plan)
        px_poll_plan_free(&st.plan);
    free(st.releases);
    json_decref(st.pred);
    px_buf_free(&st.spent);
    px_poll_rentries_free(&re);
    if (rc) {
        px_poll_summary_free(s);
        return px_err_prefix(err, "poll receipt: ");
    }
    return 0;
}
