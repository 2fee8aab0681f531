/* Checking an inbox item again, offline (docs/pod.md, "The inbox"): who
 * delivered it (the consumer that signed the manifest), under which task,
 * that an attested POD-side instance running the manifest's code with its
 * config sealed it, that the proof signed by that instance names exactly
 * this delivery, and that the content is the one the manifest names. */
#include <string.h>

#include "exec/util.h"

/* The instance's evidence: signed by the node's platform key, measuring the
 * manifest's code and this config under the build it lists. */
static int evidence_ok(const px_inbox_item *it, const px_stage_spec *spec, px_evidence *ev, px_err *err) {
    px_verifier plat;
    if (!it->platform.len || px_verifier_parse(&plat, (const char *)it->platform.data, it->platform.len, err))
        return px_fail(err, PX_E_VERIFY, "the item names no valid platform key");
    px_evidence_policy pol = {.platform_keys = &plat, .nplatform_keys = 1};
    uint8_t build[PX_SHA256_BYTES], cd[PX_SHA256_BYTES], want[PX_TEE_MEASUREMENT_BYTES];
    if (px_evidence_verify(it->evidence.data, it->evidence.len, &pol, ev, NULL, err) ||
        px_tee_build_digest(build, &ev->build, err))
        return px_err_prefix(err, "evidence: ");
    px_sha256(cd, it->config.data, it->config.len);
    if (px_tee_measure(want, build, px_manifest_kind_name(spec->kind), spec->has_code ? spec->code : px_tee_builtin_code,
                       cd, err))
        return -1;
    if (!px_ct_equal(want, ev->measurement, sizeof want))
        return px_fail(err, PX_E_VERIFY, "evidence: the measurement is not that of the manifest's code with this "
                       "config");
    return 0;
}

/* The delivery payload: "PXD1" || delivered || len || content || zeros. */
static int payload_ok(const px_inbox_item *it, const px_exec_proof *p, const px_stage_spec *spec,
                      px_inbox_verified *out, px_err *err) {
    const uint8_t *o = it->opening.data;
    size_t n = it->opening.len;
    if (n < PX_COMMIT_HEADERBYTES + PX_DELIVERY_HEADER_BYTES || memcmp(o, PX_COMMIT_MAGIC, 4) ||
        memcmp(o + PX_COMMIT_HEADERBYTES, PX_DELIVERY_MAGIC, 4))
        return px_fail(err, PX_E_INVALID, "the delivery is not a sealed PXD1 payload");
    uint8_t c[PX_SHA256_BYTES];
    px_commit_digest(c, o + 4, o + PX_COMMIT_HEADERBYTES, n - PX_COMMIT_HEADERBYTES);
    if (!p->has_delivery || !px_ct_equal(c, p->delivery, sizeof c))
        return px_fail(err, PX_E_VERIFY, "the proof does not name this delivery");
    px_delivery d;
    if (px_delivery_parse(&d, o + PX_COMMIT_HEADERBYTES, n - PX_COMMIT_HEADERBYTES, err))
        return -1;
    out->delivered = d.delivered;
    if (!out->delivered)
        return 0;
    const char *want = json_string_value(json_object_get(json_object_get(spec->params, "deliver"), "content"));
    uint8_t cd[PX_SHA256_BYTES], wd[PX_SHA256_BYTES];
    px_sha256(cd, d.content, d.len);
    if (!want || px_hex_decode_exact(wd, sizeof wd, want, strlen(want), NULL) || !px_ct_equal(cd, wd, sizeof cd))
        return px_fail(err, PX_E_VERIFY, "the content is not the one the manifest names");
    return px_buf_append(&out->content, d.content, d.len, err);
}

static int check(const px_inbox_item *it, const px_manifest *m, px_inbox_verified *out, px_err *err) {
    char hex[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(hex, m->id, PX_SHA256_BYTES);
    if (strcmp(hex, it->manifest) || strcmp(m->consumer_id, it->consumer))
        return px_fail(err, PX_E_VERIFY, "the item's task or consumer is not its manifest's");
    if (it->stage >= px_manifest_pod_stages(m))
        return px_fail(err, PX_E_VERIFY, "stage %u of the task is not at the PODs", it->stage);
    const px_stage_spec *spec = &m->stages[it->stage];
    px_stage_config c;
    if (px_lambda_config_parse(&c, it->config.data, it->config.len, err))
        return -1;
    int ok = px_ct_equal(c.manifest, m->id, PX_SHA256_BYTES) && c.index == it->stage && c.at_pod && c.has_inbox;
    px_lambda_config_free(&c);
    if (!ok)
        return px_fail(err, PX_E_VERIFY, "the config is not that of a delivering instance of this stage");
    px_evidence ev;
    px_exec_proof p;
    uint8_t evd[PX_SHA256_BYTES];
    if (evidence_ok(it, spec, &ev, err) || px_lambda_proof_verify(&p, it->proof.data, it->proof.len, ev.sign_pk, err))
        return -1;
    px_evidence_digest(evd, it->evidence.data, it->evidence.len);
    if (!px_ct_equal(p.manifest, m->id, PX_SHA256_BYTES) || p.index != it->stage || strcmp(p.status, "ok") ||
        !px_ct_equal(p.evidence, evd, sizeof evd))
        return px_fail(err, PX_E_VERIFY, "the proof is not the ok proof of this instance for this task");
    snprintf(out->node, sizeof out->node, "%s", ev.node);
    out->finished = p.finished;
    return payload_ok(it, &p, spec, out, err);
}

int px_podinst_inbox_verify(const px_inbox_item *it, px_inbox_verified *out, px_err *err) {
    memset(out, 0, sizeof *out);
    px_manifest m;
    if (px_manifest_parse(&m, it->manifest_env.data, it->manifest_env.len, err))
        return px_err_prefix(err, "inbox item %lld: ", (long long)it->id);
    snprintf(out->task, sizeof out->task, "%s", m.name);
    int rc = check(it, &m, out, err);
    px_manifest_free(&m);
    if (rc) {
        px_buf_free(&out->content);
        return px_err_prefix(err, "inbox item %lld: ", (long long)it->id);
    }
    return 0;
}
