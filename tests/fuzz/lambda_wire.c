/* Fuzz the node <-> worker framing: field splitting and STEP decoding. */
#include <stdlib.h>
#include <string.h>

#include "lambda/step_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_bytes f[8];
    size_t n = 0;
    px_err err;
    px_wire_split(data, size, f, 8, &n, &err);
    px_bytes code;
    px_step_input *in = NULL;
    if (px_wire_step_decode(data, size, &code, &in, &n, &err) == 0) {
        /* Re-encoding what was decoded gives back the same bytes. */
        px_buf b = PX_BUF_INIT;
        if (px_wire_step_encode(&b, code.p, code.n, in, n, &err) == 0 && (b.len != size || memcmp(b.data, data, size)))
            abort();
        px_buf_free(&b);
        free(in);
    }
    return 0;
}
