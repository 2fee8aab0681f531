/* Fuzz the PIR hint bundle parser: any bytes either parse into a shape
 * px_pir_params_choose would give, with info and hint inside the input, or
 * fail with a message. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/pir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_pir_hint_view v;
    px_err err;
    if (px_pir_hint_parse(&v, data, size, &err) != 0) {
        if (err.msg[0] == 0)
            abort();
        return 0;
    }
    if (px_pir_params_check(&v.params, &err) || v.info < data || v.info + v.info_len > data + size ||
        v.hint != v.info + v.info_len || (size_t)(data + size - v.hint) != (size_t)v.params.rows * PX_PIR_N * 4)
        abort();
    uint32_t *h = NULL;
    if (px_pir_hint_copy(&v, &h, &err) == 0) {
        px_buf b = PX_BUF_INIT;
        if (px_pir_hint_encode(&b, &v.params, v.info, v.info_len, h, &err) || b.len != size ||
            memcmp(b.data, data, size))
            abort();
        px_buf_free(&b);
        free(h);
    }
    return 0;
}
