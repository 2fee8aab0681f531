/* Fuzz the reader of a log's answer to POST /add?wait=1 (index, signed
 * checkpoint, inclusion proof), which an executor checks before it shows
 * it to a trust-λ. */
#include <stdlib.h>

#include "pixiu/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static px_verifier key;
    static int ready;
    px_err err = {0};
    if (!ready) {
        px_signer s;
        if (px_crypto_init(&err) || px_signer_generate(&s, "log.fuzz/pixiu", &err))
            abort();
        px_signer_verifier(&s, &key);
        ready = 1;
    }
    px_log_receipt r;
    static const uint8_t entry[] = "an entry";
    if (px_log_append_answer(data, size, entry, sizeof entry - 1, &key, &r, &err) == 0)
        px_log_receipt_free(&r);
    return 0;
}
