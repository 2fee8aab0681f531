/* Fuzz the manifest document parser (through px_manifest_sign, which parses
 * the whole document before signing) and, when a document is accepted, the
 * envelope parser on the signed result. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static px_signer consumer;
    static int ready;
    px_err err = {0};
    if (!ready) {
        uint8_t seed[PX_SIGN_SEEDBYTES] = {0};
        if (px_crypto_init(&err) || px_signer_from_seed(&consumer, "consumer-1", seed, &err))
            abort();
        ready = 1;
    }
    px_buf env = PX_BUF_INIT;
    if (px_manifest_sign(&env, data, size, &consumer, &err) == 0) {
        px_manifest m;
        if (px_manifest_parse(&m, env.data, env.len, &err))
            abort(); /* what we signed must parse */
        px_manifest_free(&m);
    }
    px_buf_free(&env);
    /* The same bytes as an envelope. */
    px_manifest m;
    if (px_manifest_parse(&m, data, size, &err) == 0)
        px_manifest_free(&m);
    return 0;
}
