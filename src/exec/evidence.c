/* Checking an instance's evidence for a plan: signed by the platform key
 * the membership lists for the node it claims, answering the recruiter's
 * nonce, run by an accepted build, and measuring exactly (that build, the
 * stage kind, the manifest's code, this config). */
#include <string.h>

#include "exec/util.h"

static const px_verifier *platform_of(const px_exec_trust *t, const char *node) {
    for (size_t i = 0; i < t->nnodes; i++)
        if (!strcmp(t->nodes[i].id, node))
            return &t->nodes[i].platform;
    return NULL;
}

/* The measurement is recomputed from the build the evidence lists, so the
 * list a verifier reads is the one the instance was measured under. */
static int measurement_expected(const px_stage_spec *spec, const uint8_t build[PX_SHA256_BYTES],
                                const uint8_t *config, size_t config_len, const uint8_t *got, px_err *err) {
    uint8_t cd[PX_SHA256_BYTES], want[PX_TEE_MEASUREMENT_BYTES];
    const uint8_t *code = spec->has_code ? spec->code : px_tee_builtin_code;
    px_sha256(cd, config, config_len);
    if (px_tee_measure(want, build, px_manifest_kind_name(spec->kind), code, cd, err))
        return -1;
    if (!px_ct_equal(want, got, sizeof want))
        return px_fail(err, PX_E_VERIFY, "measurement is not that of a %s stage with the manifest's code and this "
                       "config under the build the evidence lists", px_manifest_kind_name(spec->kind));
    return 0;
}

int px_exec_evidence_check(void *ctx, const char *node, const uint8_t *evidence, size_t ev_len,
                           const uint8_t nonce[PX_TEE_NONCE_BYTES], const px_stage_spec *spec, const uint8_t *config,
                           size_t config_len, px_attested *out, px_err *err) {
    const px_exec_trust *t = ctx;
    const px_verifier *platform = platform_of(t, node);
    if (!platform)
        return px_fail(err, PX_E_VERIFY, "node \"%s\" is not a member with a platform key", node);
    if (t->nbuilds == 0)
        return px_fail(err, PX_E_VERIFY, "no build is accepted");
    px_evidence_policy policy = {.platform_keys = platform, .nplatform_keys = 1, .min_level = 0, .nonce = nonce,
                                 .node = node, .builds = t->builds, .nbuilds = t->nbuilds,
                                 .reference = t->reference};
    px_evidence ev;
    uint8_t build[PX_SHA256_BYTES];
    if (px_evidence_verify(evidence, ev_len, &policy, &ev, NULL, err) || px_tee_build_digest(build, &ev.build, err) ||
        measurement_expected(spec, build, config, config_len, ev.measurement, err))
        return -1;
    memset(out, 0, sizeof *out);
    snprintf(out->backend, sizeof out->backend, "%s", ev.backend);
    out->level = ev.level < 0 ? 0 : (uint32_t)ev.level;
    memcpy(out->measurement, ev.measurement, sizeof out->measurement);
    memcpy(out->build, build, sizeof out->build);
    memcpy(out->box_pk, ev.box_pk, sizeof out->box_pk);
    memcpy(out->sign_pk, ev.sign_pk, sizeof out->sign_pk);
    px_evidence_digest(out->evidence_digest, evidence, ev_len);
    return 0;
}
