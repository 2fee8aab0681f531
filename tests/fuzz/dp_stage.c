/* Fuzz the DP stage end to end: config and PXV1 vectors from the input.
 * Layout: u16le config length, config bytes, then repeated
 * (u16le length, vector bytes). Whatever comes in, the stage either
 * releases a well-formed PXV1 vector with a predicate, or fails with a
 * message and outputs nothing. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/dp.h"
#include "pixiu/records.h"

#define PX_FUZZ_MAX_VECTORS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) {
        if (px_crypto_init(NULL) != 0)
            abort();
        ready = 1;
    }
    if (size < 2)
        return 0;
    size_t clen = px_load_u16le(data), off = 2;
    if (clen > size - off)
        return 0;
    const uint8_t *cfg = data + off;
    off += clen;
    px_buf vecs[PX_FUZZ_MAX_VECTORS];
    size_t n = 0;
    while (off + 2 <= size && n < PX_FUZZ_MAX_VECTORS) {
        size_t l = px_load_u16le(data + off);
        off += 2;
        if (l > size - off)
            l = size - off;
        vecs[n].data = (uint8_t *)(data + off); /* borrowed, never freed */
        vecs[n].len = l;
        vecs[n].cap = l;
        n++;
        off += l;
    }
    px_buf out = PX_BUF_INIT;
    json_t *pred = NULL;
    px_err err;
    if (px_dp_stage(cfg, clen, vecs, n, &out, &pred, &err) != 0) {
        if (out.len != 0 || pred || err.msg[0] == 0)
            abort();
        return 0;
    }
    double *v;
    uint32_t m;
    if (px_vector_decode(&v, &m, out.data, out.len, NULL) != 0 || !pred)
        abort();
    free(v);
    json_decref(pred);
    px_buf_free(&out);
    return 0;
}
