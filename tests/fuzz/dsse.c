/* Fuzz the DSSE envelope parser and verifier. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const uint8_t pk[32] = {1};
    px_dsse e;
    if (px_dsse_parse(&e, data, size, NULL) != 0)
        return 0;
    if (e.nsigs == 0 || !e.payload_type)
        abort(); /* a parsed envelope always has a type and a signature */
    px_dsse_verify_pk(&e, pk, NULL);
    px_dsse_free(&e);
    return 0;
}
