/* Fuzz the ballot parser and its check against a survey: any bytes either
 * parse into a ballot that encodes back to the same bytes (and is then
 * judged against the survey without crashing), or fail with a message. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/poll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_poll_ballot b;
    px_err err;
    if (px_poll_ballot_parse(&b, data, size, &err) != 0) {
        if (err.msg[0] == 0)
            abort();
        return 0;
    }
    px_buf out = PX_BUF_INIT;
    if (px_poll_ballot_encode(&b, &out, &err) != 0 || out.len != size || memcmp(out.data, data, size) != 0)
        abort();
    px_buf_free(&out);
    return 0;
}
