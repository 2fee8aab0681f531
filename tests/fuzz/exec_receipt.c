/* Fuzz the receipt checker: a receipt is read offline from anyone, with
 * and without a trust root. */
#include <stdio.h>
#include <stdlib.h>

#include "pixiu/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_err err = {0};
    if (px_crypto_init(&err))
        abort();
    px_receipt_summary s;
    if (px_receipt_check(data, size, NULL, &s, &err) == 0)
        px_receipt_summary_free(&s);
    /* A fixed trust root: a log key, one POD, one platform, one witness. */
    static px_signer log, pod, platform, witness;
    static px_node_key pods[1];
    static px_node_platform platforms[1];
    static px_cosigner wit;
    static px_verifier lk;
    static const uint8_t build[1][PX_SHA256_BYTES] = {{1}};
    static int ready;
    if (!ready) {
        uint8_t seed[PX_SIGN_SEEDBYTES] = {1};
        if (px_signer_from_seed(&log, "log-1", seed, &err))
            abort();
        seed[0] = 2;
        if (px_signer_from_seed(&pod, "pod-1", seed, &err))
            abort();
        seed[0] = 3;
        if (px_signer_from_seed(&platform, "exec-1", seed, &err))
            abort();
        seed[0] = 4;
        if (px_signer_from_seed(&witness, "witness-1", seed, &err))
            abort();
        px_signer_verifier(&log, &lk);
        snprintf(pods[0].id, sizeof pods[0].id, "pod-1");
        px_signer_verifier(&pod, &pods[0].key);
        snprintf(platforms[0].id, sizeof platforms[0].id, "exec-1");
        px_signer_verifier(&platform, &platforms[0].platform);
        px_cosig_from_signer(&witness, &wit);
        ready = 1;
    }
    px_receipt_root root = {.log_key = &lk, .pods = pods, .npods = 1, .platforms = platforms, .nplatforms = 1,
                            .builds = build, .nbuilds = 1, .witnesses = &wit, .nwitnesses = 1, .min_witnesses = 1};
    if (px_receipt_verify(data, size, &root, &s, &err) == 0)
        px_receipt_summary_free(&s);
    return 0;
}
