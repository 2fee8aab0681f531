/* Fuzz what a POD reads when asked to admit: a plan path (JSON, base64,
 * the manifest and head envelopes, inclusion proofs). */
#include <stdlib.h>

#include "pixiu/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_err err = {0};
    if (px_crypto_init(&err))
        abort();
    px_plan p;
    if (px_plan_path_parse(&p, data, size, "pod-1", &err) == 0)
        px_plan_free(&p);
    return 0;
}
