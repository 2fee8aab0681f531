/* Fuzz the evidence reader: the envelope, the claims with their build, and
 * verification against a fixed trusted key with a policy that accepts one
 * build (so refusals explain what differs from it). Nothing may crash or
 * leak. */
#include <string.h>

#include "pixiu/tee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The accepted build: worker and runner hashed from their names. */
static void reference_build(px_tee_build *b, uint8_t digest[PX_SHA256_BYTES]) {
    static const char *const names[] = {"worker", "runner"};
    px_tee_build_init(b, "0.1.0", NULL);
    for (size_t i = 0; i < 2; i++) {
        uint8_t d[PX_SHA256_BYTES];
        px_sha256(d, names[i], strlen(names[i]));
        px_tee_build_add(b, names[i], d, NULL);
    }
    px_tee_build_digest(digest, b, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static px_verifier v;
    static px_tee_build ref;
    static uint8_t accepted[1][PX_SHA256_BYTES];
    static px_evidence ev;
    static int ready;
    if (!ready) {
        px_signer s;
        uint8_t seed[PX_SIGN_SEEDBYTES] = {7};
        px_crypto_init(NULL);
        px_signer_from_seed(&s, "node-a", seed, NULL);
        px_signer_verifier(&s, &v);
        reference_build(&ref, accepted[0]);
        ready = 1;
    }
    px_err err;
    if (px_evidence_parse(&ev, data, size, &err) == 0) {
        uint8_t d[PX_SHA256_BYTES];
        char why[256];
        px_tee_build_digest(d, &ev.build, &err);
        px_tee_build_diff(&ref, &ev.build, why, sizeof why);
    }
    uint8_t nonce[PX_TEE_NONCE_BYTES] = {0};
    px_evidence_policy pol = {&v, 1, 1, NULL, nonce, "node-a", (const uint8_t(*)[PX_SHA256_BYTES])accepted, 1, &ref};
    px_evidence_verify(data, size, &pol, &ev, NULL, &err);
    return 0;
}
