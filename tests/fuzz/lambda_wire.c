/* Fuzz the node <-> worker framing: field splitting, STEP decoding and
 * INIT decoding (the build a worker is handed). */
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
    static px_lambda_build build;
    char kind[PX_TEE_KIND_MAX + 1];
    const uint8_t *code_digest;
    px_bytes config;
    if (px_wire_init_decode(data, size, kind, &code_digest, &config, &build, &err) == 0) {
        px_buf b = PX_BUF_INIT;
        if (px_wire_init_encode(&b, kind, code_digest, config.p, config.n, &build, &err) == 0 &&
            (b.len != size || memcmp(b.data, data, size)))
            abort();
        px_buf_free(&b);
        px_lambda_build_free(&build);
    }
    return 0;
}
