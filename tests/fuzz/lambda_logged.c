/* Fuzz the LOGGED frame an instance is shown (index, checkpoint, proof):
 * whatever decodes re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "lambda/step_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_lambda_logged v;
    px_err err;
    if (px_wire_logged_decode(data, size, &v, &err))
        return 0;
    px_log_receipt r;
    memset(&r, 0, sizeof r);
    r.index = v.index;
    px_buf b = PX_BUF_INIT;
    if (px_buf_append(&r.note, v.checkpoint, v.checkpoint_len, &err) ||
        px_buf_append(&r.proof, v.proof, v.nproof * PX_LOG_HASH_BYTES, &err) || px_wire_logged_encode(&b, &r, &err) ||
        b.len != size || memcmp(b.data, data, size))
        abort();
    px_buf_free(&b);
    px_log_receipt_free(&r);
    return 0;
}
