/* Fuzz strict JSON parsing and base64 decoding. */
#include "pixiu/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *v = px_json_parse(data, size, 1u << 20, NULL);
    json_decref(v);
    px_buf b = PX_BUF_INIT;
    px_b64_decode(&b, (const char *)data, size, NULL);
    px_buf_free(&b);
    px_utf8_valid(data, size);
    return 0;
}
