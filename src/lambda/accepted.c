/* The accepted-input statement: an instance's signed word, given as soon as
 * its code and inputs opened and validated and before its stage runs, that
 * it took these inputs. The host must show it this statement in the log
 * before it runs (step.c), so an executor is on record for every stage it
 * runs; an instance with an accepted statement and no proof by the
 * deadline is silent, which anyone can tell from the log alone
 * (docs/executor.md, "The audit").
 *
 * In-toto Statement v1 in DSSE, signed by the instance key; subject
 * "instance" with the evidence digest; predicate (members in this order):
 *   {"manifest", "stage": {"index", "kind", "partition"}, "measurement",
 *    "evidence", "inputs": [{"digest": {"sha256"}, "proof"}], "accepted"}
 * The inputs are exactly those the execution proof names. Writer and reader
 * are both here so they agree by construction. */
#include <string.h>

#include "lambda/step_internal.h"

#define ACCEPTED_SUBJECT "instance"

static json_t *predicate_json(const struct px_lambda *l, const px_stage_input *in, size_t n, int64_t at) {
    const px_stage_config *c = &l->config;
    json_t *p = json_object(), *stage = px_proofgen_stage(c);
    if (!p || !stage) {
        json_decref(p);
        json_decref(stage);
        return NULL;
    }
    int bad = json_object_set_new(p, "manifest", px_proofgen_hex(c->manifest, PX_SHA256_BYTES)) ||
              json_object_set_new(p, "stage", stage) ||
              json_object_set_new(p, "measurement", px_proofgen_hex(l->measurement, PX_SHA256_BYTES)) ||
              json_object_set_new(p, "evidence", px_proofgen_hex(l->evidence_digest, PX_SHA256_BYTES)) ||
              json_object_set_new(p, "inputs", px_proofgen_inputs(in, n)) ||
              json_object_set_new(p, "accepted", json_integer(at));
    if (bad) {
        json_decref(p);
        return NULL;
    }
    return p;
}

int px_accepted_sign(px_buf *out, const struct px_lambda *l, const px_stage_input *inputs, size_t n, int64_t at,
                     px_err *err) {
    json_t *pred = predicate_json(l, inputs, n, at);
    if (!pred)
        return px_fail(err, PX_E_NOMEM, "cannot build the accepted-input predicate");
    px_subject subj;
    subj.name = (char *)ACCEPTED_SUBJECT;
    memcpy(subj.sha256, l->evidence_digest, PX_SHA256_BYTES);
    px_buf st = PX_BUF_INIT;
    int rc = px_statement_build(&st, &subj, 1, PX_ACCEPTED_PREDICATE, pred, err);
    json_decref(pred);
    if (rc == 0)
        rc = px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, &l->signer, 1, err);
    px_buf_free(&st);
    return rc;
}

/* ---- reading ----------------------------------------------------------- */

static int read_inputs(const json_t *a, px_err *err) {
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > PX_LAMBDA_MAX_INPUTS)
        return px_fail(err, PX_E_INVALID, "field \"inputs\" must be an array of 1..%d inputs", PX_LAMBDA_MAX_INPUTS);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *e = json_array_get(a, i);
        uint8_t d[PX_SHA256_BYTES], id[PX_SHA256_BYTES];
        if (!json_is_object(e) || json_object_size(e) != 2 || !json_is_object(json_object_get(e, "digest")) ||
            json_object_size(json_object_get(e, "digest")) != 1 ||
            px_json_hex(json_object_get(e, "digest"), "sha256", d, sizeof d, NULL) ||
            px_json_hex(e, "proof", id, sizeof id, NULL))
            return px_fail(err, PX_E_INVALID, "input %zu is not {\"digest\": {\"sha256\"}, \"proof\"}", i);
    }
    return 0;
}

static int read_predicate(px_accepted *a, const json_t *pr, px_err *err) {
    static const char *const keys[] = {"manifest", "measurement", "evidence", "inputs", "stage", "accepted", NULL};
    if (px_json_only(pr, "accepted-input predicate", keys, err))
        return -1;
    if (px_json_hex(pr, "manifest", a->manifest, PX_SHA256_BYTES, err) ||
        px_proofgen_read_stage(json_object_get(pr, "stage"), &a->index, &a->partition, a->kind, err) ||
        px_json_hex(pr, "measurement", a->measurement, PX_SHA256_BYTES, err) ||
        px_json_hex(pr, "evidence", a->evidence, PX_SHA256_BYTES, err) ||
        read_inputs(json_object_get(pr, "inputs"), err) || px_json_int(pr, "accepted", &a->accepted, err))
        return -1;
    a->ninputs = json_array_size(json_object_get(pr, "inputs"));
    return 0;
}

static int read_statement(px_accepted *a, const px_dsse *env, px_err *err) {
    px_statement st;
    if (px_statement_parse(&st, env->payload.data, env->payload.len, err))
        return -1;
    int rc = -1;
    if (strcmp(st.predicate_type, PX_ACCEPTED_PREDICATE) != 0)
        px_fail(err, PX_E_INVALID, "predicate type is not %s", PX_ACCEPTED_PREDICATE);
    else if (st.nsubjects != 1 || strcmp(st.subjects[0].name, ACCEPTED_SUBJECT) != 0)
        px_fail(err, PX_E_INVALID, "an accepted-input statement names exactly one subject, \"%s\"", ACCEPTED_SUBJECT);
    else if (read_predicate(a, st.predicate, err) == 0) {
        if (!px_ct_equal(st.subjects[0].sha256, a->evidence, PX_SHA256_BYTES))
            px_fail(err, PX_E_INVALID, "the subject is not the evidence digest the predicate names");
        else
            rc = 0;
    }
    px_statement_free(&st);
    return rc;
}

int px_accepted_verify(px_accepted *a, const void *env, size_t len, const uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES],
                       px_err *err) {
    px_dsse e;
    if (px_dsse_parse(&e, env, len, err))
        return px_err_prefix(err, "accepted-input statement: ");
    px_accepted na;
    memset(&na, 0, sizeof na);
    int rc = -1;
    if (strcmp(e.payload_type, PX_INTOTO_PAYLOAD_TYPE) != 0)
        px_fail(err, PX_E_INVALID, "accepted-input statement: payload type is not %s", PX_INTOTO_PAYLOAD_TYPE);
    else if (px_dsse_verify_pk(&e, sign_pk, err))
        px_err_prefix(err, "accepted-input statement: ");
    else if (read_statement(&na, &e, err))
        px_err_prefix(err, "accepted-input statement: ");
    else
        rc = 0;
    px_dsse_free(&e);
    if (rc)
        return -1;
    px_sha256(na.id, env, len);
    *a = na;
    return 0;
}
