/* Fuzz the evidence reader: the envelope, the claims, and verification
 * against a fixed trusted key with a policy. Nothing may crash or leak. */
#include <string.h>

#include "pixiu/tee.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static px_verifier v;
    static int ready;
    if (!ready) {
        px_signer s;
        uint8_t seed[PX_SIGN_SEEDBYTES] = {7};
        px_crypto_init(NULL);
        px_signer_from_seed(&s, "node-a", seed, NULL);
        px_signer_verifier(&s, &v);
        ready = 1;
    }
    px_evidence ev;
    px_err err;
    px_evidence_parse(&ev, data, size, &err);
    uint8_t nonce[PX_TEE_NONCE_BYTES] = {0};
    px_evidence_policy pol = {&v, 1, 1, NULL, nonce, "node-a", NULL, 0, NULL};
    px_evidence_verify(data, size, &pol, &ev, NULL, &err);
    return 0;
}
