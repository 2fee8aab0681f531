/* Fuzz the poll token parser: any bytes either parse into a token that
 * encodes back to exactly those bytes, or fail with a message. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/poll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_poll_token t;
    px_err err;
    if (px_poll_token_parse(&t, data, size, &err) != 0) {
        if (err.msg[0] == 0)
            abort();
        return 0;
    }
    px_buf b = PX_BUF_INIT;
    if (px_poll_token_encode(&t, &b, &err) != 0 || b.len != size || memcmp(b.data, data, size) != 0)
        abort(); /* one encoding per token */
    px_buf_free(&b);
    return 0;
}
