/* The data validator: the λ's single entry. An input is accepted only if
 *   1. it is sealed to this instance's X25519 key and opens;
 *   2. its producer's proof verifies: either an execution proof signed by
 *      an instance whose evidence a trusted platform key signed at the
 *      configured minimum level, or a POD release statement signed by a
 *      trusted POD key and addressed to this instance's key;
 *   3. that proof is for this manifest, says "ok", and names exactly the
 *      commitment to the opened payload (pixiu/crypto.h).
 * Anything else is refused with a status the proof generator signs. */
#include <stdio.h>
#include <string.h>

#include "lambda/step_internal.h"

static int check_exec_proof(const struct px_lambda *l, const px_step_input *in, const uint8_t digest[32],
                            px_exec_proof *producer, px_stage_input *out, const char **status, px_err *err) {
    const px_stage_config *c = &l->config;
    *status = PX_STATUS_BAD_PROOF; /* unless only the digest is wrong */
    /* Which builds ran the predecessors is the plan's business (checked by
     * every POD at admission); here only its platform's signature counts. */
    px_evidence_policy pol = {.platform_keys = c->platform_keys, .nplatform_keys = c->nplatform_keys,
                              .min_level = c->min_level};
    px_evidence ev;
    if (px_evidence_verify(in->evidence, in->evidence_len, &pol, &ev, NULL, err))
        return px_err_prefix(err, "predecessor ");
    px_exec_proof p;
    if (px_lambda_proof_verify(&p, in->proof, in->proof_len, ev.sign_pk, err))
        return px_err_prefix(err, "predecessor ");
    uint8_t evd[PX_SHA256_BYTES];
    px_evidence_digest(evd, in->evidence, in->evidence_len);
    if (!px_ct_equal(p.evidence, evd, sizeof evd) || !px_ct_equal(p.measurement, ev.measurement, 32))
        return px_fail(err, PX_E_VERIFY, "predecessor proof does not cite the evidence it came with");
    if (!px_ct_equal(p.manifest, c->manifest, sizeof p.manifest))
        return px_fail(err, PX_E_VERIFY, "predecessor proof is for another manifest");
    if (p.index >= c->index)
        return px_fail(err, PX_E_VERIFY, "predecessor stage %u does not come before stage %u", p.index, c->index);
    if (strcmp(p.status, PX_STATUS_OK) != 0)
        return px_fail(err, PX_E_VERIFY, "predecessor step failed (%s)", p.status);
    if (!px_ct_equal(p.subject, digest, PX_SHA256_BYTES)) {
        *status = PX_STATUS_DIGEST_MISMATCH;
        return px_fail(err, PX_E_VERIFY, "input digest does not match the digest in the predecessor proof");
    }
    *producer = p;
    snprintf(out->producer_node, sizeof out->producer_node, "%s", ev.node);
    memcpy(out->producer_key, ev.sign_pk, PX_SIGN_PUBLICKEYBYTES);
    return 0;
}

static int verify_release_sig(const px_stage_config *c, const px_dsse *e, px_err *err) {
    for (size_t i = 0; i < c->npods; i++)
        if (px_dsse_verify(e, &c->pods[i], NULL) == 0)
            return 0;
    return px_fail(err, PX_E_VERIFY, "release is not signed by a trusted POD key");
}

static int check_release_claims(const struct px_lambda *l, const px_statement *st, const uint8_t digest[32],
                                const char **status, px_err *err) {
    uint8_t manifest[32], dataset[32], stage_key[32];
    *status = PX_STATUS_BAD_PROOF; /* unless only the digest is wrong */
    if (strcmp(st->predicate_type, PX_RELEASE_PREDICATE) != 0 || st->nsubjects != 1 ||
        strcmp(st->subjects[0].name, "release") != 0)
        return px_fail(err, PX_E_INVALID, "release statement does not have the release predicate and subject");
    if (px_json_hex(st->predicate, "manifest", manifest, 32, err) ||
        px_json_hex(st->predicate, "dataset_digest", dataset, 32, err) ||
        px_json_hex(st->predicate, "stage_key", stage_key, 32, err))
        return px_err_prefix(err, "release: ");
    if (!px_ct_equal(manifest, l->config.manifest, 32))
        return px_fail(err, PX_E_VERIFY, "release is for another manifest");
    if (!px_ct_equal(stage_key, l->box.pk, 32))
        return px_fail(err, PX_E_VERIFY, "release was made for another stage key");
    if (!px_ct_equal(dataset, st->subjects[0].sha256, 32))
        return px_fail(err, PX_E_VERIFY, "release subject and dataset digest differ");
    if (!px_ct_equal(dataset, digest, 32)) {
        *status = PX_STATUS_DIGEST_MISMATCH;
        return px_fail(err, PX_E_VERIFY, "input digest does not match the digest in the release");
    }
    return 0;
}

static int check_release(const struct px_lambda *l, const px_step_input *in, const uint8_t digest[32],
                         const char **status, px_err *err) {
    px_dsse e;
    *status = PX_STATUS_BAD_PROOF;
    if (px_dsse_parse(&e, in->proof, in->proof_len, err))
        return px_err_prefix(err, "release: ");
    int rc = -1;
    px_statement st;
    if (strcmp(e.payload_type, PX_INTOTO_PAYLOAD_TYPE) != 0) {
        px_fail(err, PX_E_INVALID, "release payload type is not %s", PX_INTOTO_PAYLOAD_TYPE);
    } else if (verify_release_sig(&l->config, &e, err) != 0) {
        /* err says so */
    } else if (px_statement_parse(&st, e.payload.data, e.payload.len, err) != 0) {
        px_err_prefix(err, "release: ");
    } else {
        rc = check_release_claims(l, &st, digest, status, err);
        px_statement_free(&st);
    }
    px_dsse_free(&e);
    return rc;
}

int px_validate_input(const struct px_lambda *l, const px_step_input *in, px_buf *plain, px_stage_input *out,
                      const char **status, px_err *err) {
    memset(out, 0, sizeof *out);
    px_sha256(out->digest, in->sealed, in->sealed_len);
    uint8_t pid[PX_SHA256_BYTES];
    px_sha256(pid, in->proof, in->proof_len);
    px_hex_encode(out->proof_id, pid, sizeof pid);
    *status = PX_STATUS_BAD_INPUT;
    if (in->sealed_len > PX_LAMBDA_MAX_INPUT_BYTES)
        return px_fail(err, PX_E_LIMIT, "sealed input exceeds %u bytes", PX_LAMBDA_MAX_INPUT_BYTES);
    px_buf_reset(plain);
    if (px_open_committed(plain, out->digest, in->sealed, in->sealed_len, &l->box, err))
        return px_err_prefix(err, "input: ");
    out->from_release = in->evidence_len == 0;
    px_exec_proof producer;
    int rc = out->from_release ? check_release(l, in, out->digest, status, err)
                               : check_exec_proof(l, in, out->digest, &producer, out, status, err);
    if (rc)
        return -1;
    if (!out->from_release) {
        memcpy(out->producer_kind, producer.kind, sizeof out->producer_kind);
        out->producer_has_users = producer.has_users;
        out->producer_users = producer.users;
    }
    out->data = plain->data;
    out->len = plain->len;
    return 0;
}
