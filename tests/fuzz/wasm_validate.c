/* Fuzz target: the wasm module validator, which sees every module before
 * any other tool does. Accepted modules must strip to a module that is
 * itself accepted and has no custom sections left. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_wasm_policy pol = {PX_WASM_MODULE_MAX_DEFAULT, 64};
    px_buf stripped = PX_BUF_INIT, again = PX_BUF_INIT;
    px_wasm_info info;
    px_err err;
    if (px_wasm_validate(data, size, &pol, &info, &stripped, &err) == 0) {
        if (px_wasm_validate(stripped.data, stripped.len, &pol, NULL, &again,
                             &err) != 0 ||
            again.len != stripped.len ||
            memcmp(again.data, stripped.data, again.len) != 0)
            abort();
    } else if (stripped.len != 0 || err.msg[0] == '\0') {
        abort();
    }
    px_buf_free(&stripped);
    px_buf_free(&again);
    return 0;
}
