/* Fuzz the PXR1 record-stream reader and the PXV1 vector decoder: every
 * record read must re-encode to the bytes it came from. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    double *vec;
    uint32_t n;
    if (px_vector_decode(&vec, &n, data, size, NULL) == 0)
        free(vec);
    px_records_reader r;
    if (px_records_open(&r, data, size, NULL) != 0)
        return 0;
    px_value v[PX_RECORDS_MAX_FIELDS];
    uint8_t flags;
    px_buf out = PX_BUF_INIT;
    while (px_records_next(&r, v, &flags, NULL) == 1) {
        px_buf_reset(&out);
        if (px_records_append(&out, &r.schema, v, flags, NULL) || out.len != r.off - r.record_start ||
            memcmp(out.data, data + r.record_start, out.len) != 0)
            abort();
    }
    px_buf_free(&out);
    return 0;
}
