/* The proof generator: the λ's single exit. Every step, failed or not,
 * leaves through here as an in-toto Statement v1 in a DSSE envelope signed
 * by the instance key, with the execution predicate of docs/formats.md
 * (members in the documented order). This file also holds the reader of
 * such proofs, so that writer and reader agree by construction. */
#include <string.h>

#include "lambda/step_internal.h"

#define PROOF_MAX_FIELDS 12

json_t *px_proofgen_hex(const uint8_t *p, size_t n) {
    char hex[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(hex, p, n);
    return json_string(hex);
}

static json_t *digest_obj(const uint8_t d[PX_SHA256_BYTES]) {
    json_t *o = json_object();
    if (o && json_object_set_new(o, "sha256", px_proofgen_hex(d, PX_SHA256_BYTES))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *px_proofgen_inputs(const px_stage_input *in, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        json_t *e = json_object();
        if (!e || json_object_set_new(e, "digest", digest_obj(in[i].digest)) ||
            json_object_set_new(e, "proof", json_string(in[i].proof_id)) || json_array_append_new(a, e)) {
            json_decref(e);
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* A POD-side instance states no record counts: they would publish, per
 * person, how much data the POD holds. The user count stays (a DP stage
 * bounds its inputs by it). */
static int add_pod_counts(json_t *p, const px_stage_out *s) {
    if (!s || !s->has_counts || !s->counts.has_users)
        return 0;
    json_t *c = json_object();
    return !c || json_object_set_new(c, "users", json_integer((json_int_t)s->counts.users)) ||
                   json_object_set_new(p, "counts", c)
               ? -1
               : 0;
}

static int add_stage_reports(json_t *p, const px_stage_out *s, int at_pod) {
    int bad = 0;
    if (at_pod)
        return add_pod_counts(p, s) || (s && s->has_dp) ? -1 : 0;
    if (s && s->has_counts) {
        json_t *c = json_object();
        bad |= !c || json_object_set_new(c, "records", json_integer((json_int_t)s->counts.records)) ||
               json_object_set_new(c, "authenticated", json_integer((json_int_t)s->counts.authenticated)) ||
               json_object_set_new(c, "alleged", json_integer((json_int_t)s->counts.alleged)) ||
               json_object_set_new(c, "dropped", json_integer((json_int_t)s->counts.dropped));
        if (c && s->counts.has_users)
            bad |= json_object_set_new(c, "users", json_integer((json_int_t)s->counts.users));
        bad |= !c || json_object_set_new(p, "counts", c);
    }
    if (s && s->has_dp) {
        json_t *d = json_object();
        bad |= !d || json_object_set_new(d, "mechanism", json_string(s->dp.mechanism)) ||
               json_object_set_new(d, "epsilon", json_string(s->dp.epsilon)) ||
               json_object_set_new(d, "delta", json_string(s->dp.delta)) ||
               json_object_set_new(d, "rho", json_string(s->dp.rho));
        if (d && s->dp.has_enforced)
            bad |= json_object_set_new(d, "used", json_integer((json_int_t)s->dp.used)) ||
                   json_object_set_new(d, "clamped", json_integer((json_int_t)s->dp.clamped)) ||
                   json_object_set_new(d, "rejected", json_integer((json_int_t)s->dp.rejected)) ||
                   json_object_set_new(d, "limited", json_integer((json_int_t)s->dp.limited));
        bad |= !d || json_object_set_new(p, "dp", d);
    }
    if (s && s->has_derived) {
        json_t *d = json_object();
        bad |= !d || json_object_set_new(d, "manifest", px_proofgen_hex(s->derived.manifest, PX_SHA256_BYTES)) ||
               json_object_set_new(d, "result", px_proofgen_hex(s->derived.result, PX_SHA256_BYTES)) ||
               json_object_set_new(d, "receipt", px_proofgen_hex(s->derived.receipt, PX_SHA256_BYTES));
        bad |= !d || json_object_set_new(p, "derived", d);
    }
    if (s && s->report)
        bad |= !json_is_object(s->report) || json_object_set(p, "report", s->report);
    return bad ? -1 : 0;
}

json_t *px_proofgen_stage(const px_stage_config *c) {
    json_t *stage = json_object();
    if (stage && (json_object_set_new(stage, "index", json_integer(c->index)) ||
                  json_object_set_new(stage, "kind", json_string(c->kind)) ||
                  json_object_set_new(stage, "partition", json_integer(c->partition)))) {
        json_decref(stage);
        return NULL;
    }
    return stage;
}

static json_t *predicate_json(const px_proof_draft *d) {
    const px_stage_config *c = &d->l->config;
    json_t *p = json_object(), *stage = px_proofgen_stage(c);
    if (!p || !stage) {
        json_decref(p);
        json_decref(stage);
        return NULL;
    }
    int bad = json_object_set_new(p, "manifest", px_proofgen_hex(c->manifest, PX_SHA256_BYTES)) ||
           json_object_set_new(p, "stage", stage) ||
           json_object_set_new(p, "measurement", px_proofgen_hex(d->l->measurement, PX_SHA256_BYTES)) ||
           json_object_set_new(p, "evidence", px_proofgen_hex(d->l->evidence_digest, PX_SHA256_BYTES)) ||
           json_object_set_new(p, "inputs", px_proofgen_inputs(d->inputs, d->ninputs)) ||
           add_stage_reports(p, d->stage, c->at_pod) || json_object_set_new(p, "status", json_string(d->status));
    if (d->reason)
        bad |= json_object_set_new(p, "reason", json_string(d->reason));
    bad |= json_object_set_new(p, "started", json_integer(d->started)) ||
           json_object_set_new(p, "finished", json_integer(d->finished));
    if (bad) {
        json_decref(p);
        return NULL;
    }
    return p;
}

int px_proofgen_sign(px_buf *out, const px_proof_draft *d, px_err *err) {
    json_t *pred = predicate_json(d);
    if (!pred)
        return px_fail(err, PX_E_NOMEM, "cannot build the execution predicate");
    px_subject subj[2];
    int ok = !strcmp(d->status, PX_STATUS_OK);
    subj[0].name = (char *)(ok ? "output" : "failed-input");
    memcpy(subj[0].sha256, d->subject, PX_SHA256_BYTES);
    /* A delivering instance names its delivery too, by its commitment:
     * same shape, whatever it delivered. */
    size_t nsubj = 1;
    if (ok && d->delivery) {
        subj[1].name = (char *)"delivery";
        memcpy(subj[1].sha256, d->delivery, PX_SHA256_BYTES);
        nsubj = 2;
    }
    px_buf st = PX_BUF_INIT;
    int rc = px_statement_build(&st, subj, nsubj, PX_EXEC_PREDICATE, pred, err);
    json_decref(pred);
    if (rc == 0)
        rc = px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, &d->l->signer, 1, err);
    px_buf_free(&st);
    return rc;
}

/* ---- reading ----------------------------------------------------------- */

int px_proofgen_read_stage(const json_t *s, uint32_t *index_out, uint32_t *partition_out,
                           char kind_out[PX_TEE_KIND_MAX + 1], px_err *err) {
    int64_t index, partition;
    const char *kind;
    if (!json_is_object(s))
        return px_fail(err, PX_E_INVALID, "field \"stage\" must be an object");
    if (px_json_int(s, "index", &index, err) || px_json_str(s, "kind", &kind, err) ||
        px_json_int(s, "partition", &partition, err))
        return -1;
    if (index < 0 || index > UINT32_MAX || partition < 0 || partition > UINT32_MAX || !px_tee_kind_valid(kind))
        return px_fail(err, PX_E_INVALID, "\"stage\" has an out-of-range index, partition or kind");
    *index_out = (uint32_t)index;
    *partition_out = (uint32_t)partition;
    memcpy(kind_out, kind, strlen(kind) + 1);
    return 0;
}

/* counts.users, when present: what a DP stage bounds its inputs by. */
static int read_users(px_exec_proof *p, const json_t *counts, px_err *err) {
    const json_t *u = json_object_get(counts, "users");
    if (!u)
        return 0;
    if (!json_is_integer(u) || json_integer_value(u) < 0)
        return px_fail(err, PX_E_INVALID, "\"counts\".\"users\" must be a non-negative integer");
    p->has_users = 1;
    p->users = (uint64_t)json_integer_value(u);
    return 0;
}

/* derived, when present: exactly the three digests. */
static int read_derived(px_exec_proof *p, const json_t *d, px_err *err) {
    if (!d)
        return 0;
    if (!json_is_object(d) || json_object_size(d) != 3 ||
        px_json_hex(d, "manifest", p->derived.manifest, PX_SHA256_BYTES, err) ||
        px_json_hex(d, "result", p->derived.result, PX_SHA256_BYTES, err) ||
        px_json_hex(d, "receipt", p->derived.receipt, PX_SHA256_BYTES, err))
        return px_fail(err, PX_E_INVALID, "\"derived\" must be {\"manifest\", \"result\", \"receipt\"} digests");
    p->has_derived = 1;
    return 0;
}

static int read_predicate(px_exec_proof *p, const json_t *pr, px_err *err) {
    const char *status;
    const json_t *inputs = json_object_get(pr, "inputs");
    if (json_object_size(pr) > PROOF_MAX_FIELDS)
        return px_fail(err, PX_E_INVALID, "execution predicate has too many members");
    if (px_json_hex(pr, "manifest", p->manifest, PX_SHA256_BYTES, err) ||
        px_proofgen_read_stage(json_object_get(pr, "stage"), &p->index, &p->partition, p->kind, err) ||
        px_json_hex(pr, "measurement", p->measurement, PX_SHA256_BYTES, err) ||
        px_json_hex(pr, "evidence", p->evidence, PX_SHA256_BYTES, err) || px_json_str(pr, "status", &status, err) ||
        px_json_int(pr, "started", &p->started, err) || px_json_int(pr, "finished", &p->finished, err))
        return -1;
    if (!json_is_array(inputs))
        return px_fail(err, PX_E_INVALID, "field \"inputs\" must be an array");
    if (!px_status_valid(status))
        return px_fail(err, PX_E_INVALID, "status \"%.32s\" is not a known status", status);
    memcpy(p->status, status, strlen(status) + 1);
    p->ninputs = json_array_size(inputs);
    return read_users(p, json_object_get(pr, "counts"), err) || read_derived(p, json_object_get(pr, "derived"), err);
}

static int read_statement(px_exec_proof *p, const px_dsse *env, px_err *err) {
    px_statement st;
    if (px_statement_parse(&st, env->payload.data, env->payload.len, err))
        return -1;
    int rc = -1;
    if (strcmp(st.predicate_type, PX_EXEC_PREDICATE) != 0)
        px_fail(err, PX_E_INVALID, "predicate type is not %s", PX_EXEC_PREDICATE);
    else if (st.nsubjects != 1 && st.nsubjects != 2)
        px_fail(err, PX_E_INVALID, "an execution proof names one subject (two with a delivery), not %zu",
                st.nsubjects);
    else if (read_predicate(p, st.predicate, err) == 0) {
        int ok = !strcmp(p->status, PX_STATUS_OK);
        const char *want = ok ? "output" : "failed-input";
        if (strcmp(st.subjects[0].name, want) != 0)
            px_fail(err, PX_E_INVALID, "subject of a \"%s\" proof must be named \"%s\"", p->status, want);
        else if (st.nsubjects == 2 && (!ok || strcmp(st.subjects[1].name, "delivery") != 0))
            px_fail(err, PX_E_INVALID, "the second subject of an execution proof can only be an ok proof's "
                    "\"delivery\"");
        else {
            memcpy(p->subject, st.subjects[0].sha256, PX_SHA256_BYTES);
            p->has_delivery = st.nsubjects == 2;
            if (p->has_delivery)
                memcpy(p->delivery, st.subjects[1].sha256, PX_SHA256_BYTES);
            rc = 0;
        }
    }
    px_statement_free(&st);
    return rc;
}

int px_lambda_proof_verify(px_exec_proof *p, const void *env, size_t len,
                         const uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES], px_err *err) {
    px_dsse e;
    if (px_dsse_parse(&e, env, len, err))
        return px_err_prefix(err, "execution proof: ");
    px_exec_proof np;
    memset(&np, 0, sizeof np);
    int rc = -1;
    if (strcmp(e.payload_type, PX_INTOTO_PAYLOAD_TYPE) != 0)
        px_fail(err, PX_E_INVALID, "execution proof: payload type is not %s", PX_INTOTO_PAYLOAD_TYPE);
    else if (px_dsse_verify_pk(&e, sign_pk, err))
        px_err_prefix(err, "execution proof: ");
    else if (read_statement(&np, &e, err))
        px_err_prefix(err, "execution proof: ");
    else
        rc = 0;
    px_dsse_free(&e);
    if (rc)
        return -1;
    px_sha256(np.id, env, len);
    *p = np;
    return 0;
}
