/* Fuzz the PXR1 record-stream reader, the PXV1 vector decoder and the PXT1
 * tagged-vector reader: every record or entry read must re-encode to the
 * bytes it came from. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/records.h"

static void tagged(const uint8_t *data, size_t size) {
    px_tagged_reader r;
    if (px_tagged_open(&r, data, size, NULL) != 0)
        return;
    double *v = malloc(r.dim * sizeof *v);
    px_buf out = PX_BUF_INIT;
    const uint8_t *tag;
    int present, rc;
    size_t at = r.off;
    if (!v || px_tagged_begin(&out, r.dim, r.count, NULL))
        abort();
    while ((rc = px_tagged_next(&r, &tag, &present, v, NULL)) == 1) {
        if (px_tagged_append(&out, r.dim, tag, present ? v : NULL, NULL))
            abort();
        at = r.off;
    }
    /* Everything read so far re-encodes byte for byte. */
    if (memcmp(out.data + PX_TAGGED_HEADER_BYTES, data + PX_TAGGED_HEADER_BYTES, at - PX_TAGGED_HEADER_BYTES) != 0)
        abort();
    px_buf_free(&out);
    free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tagged(data, size);
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
