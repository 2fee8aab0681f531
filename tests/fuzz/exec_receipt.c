/* Fuzz the receipt checker: a receipt is read offline from anyone. */
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
    return 0;
}
