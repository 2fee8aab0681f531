/* Fuzz the accepted-input statement reader. The input is used twice: as a
 * whole envelope, and as the statement payload of an envelope this harness
 * signs with the key it then verifies under, so the predicate parser is
 * reached past the signature check. */
#include <stdlib.h>

#include "pixiu/lambda.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static px_signer key;
    static int ready;
    px_err err = {0};
    if (!ready) {
        if (px_crypto_init(&err) || px_signer_generate(&key, "instance", &err))
            abort();
        ready = 1;
    }
    px_accepted a;
    px_accepted_verify(&a, data, size, key.kp.pk, &err);
    px_buf env = PX_BUF_INIT;
    if (px_dsse_sign(&env, PX_INTOTO_PAYLOAD_TYPE, data, size, &key, 1, &err) == 0 &&
        px_accepted_verify(&a, env.data, env.len, key.kp.pk, &err) == 0 && (a.ninputs == 0 || a.ninputs > 256))
        abort();
    px_buf_free(&env);
    return 0;
}
