/* Fuzz the "dp" stage kind's input handling: params from the input, a
 * producer user count, then one input blob that should be a tagged-vector
 * stream (PXT1) from a map stage (or garbage). The run either succeeds with
 * a PXV1 output and a "dp" report, or fails with a status and a message. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/dp.h"
#include "pixiu/lambda.h"
#include "pixiu/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) {
        if (px_crypto_init(NULL) != 0)
            abort();
        ready = 1;
    }
    if (size < 4)
        return 0;
    size_t clen = px_load_u16le(data);
    uint16_t users = px_load_u16le(data + 2);
    if (clen > size - 4)
        return 0;
    json_t *params = px_json_parse(data + 4, clen, 1u << 16, NULL);
    if (!params)
        return 0;
    px_stage_input in;
    memset(&in, 0, sizeof in);
    in.data = data + 4 + clen;
    in.len = size - 4 - clen;
    strcpy(in.producer_kind, "wasm");
    in.producer_has_users = 1;
    in.producer_users = users;
    px_stage_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.params = params;
    ctx.inputs = &in;
    ctx.ninputs = 1;
    px_stage_out out;
    memset(&out, 0, sizeof out);
    px_err err = {0};
    int rc = px_dp_stage_kind.run(&ctx, &out, &err);
    if (rc == 0) {
        double *v;
        uint32_t n;
        if (!out.has_dp ||
            px_vector_decode(&v, &n, out.output.data, out.output.len, NULL))
            abort();
        free(v);
    } else if (!out.status || err.msg[0] == 0) {
        abort();
    }
    px_buf_free(&out.output);
    json_decref(params);
    return 0;
}
