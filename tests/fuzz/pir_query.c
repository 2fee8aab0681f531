/* Fuzz the PIR query and answer parsers: the first two bytes are the
 * dimension the server expects (what a database of that shape needs), the
 * rest the message. Any bytes either parse into exactly that many values or
 * fail with a message; nothing is written on failure. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/pir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2)
        return 0;
    uint32_t n = (uint32_t)data[0] | (uint32_t)data[1] << 8;
    data += 2;
    size -= 2;
    uint32_t *v = malloc(((size_t)n + 1) * sizeof *v);
    if (!v)
        return 0;
    uint8_t id[32];
    px_err err;
    for (int which = 0; which < 2; which++) {
        memset(v, 0xa5, ((size_t)n + 1) * sizeof *v);
        int rc = which ? px_pir_answer_parse(data, size, n, id, v, &err) : px_pir_query_parse(data, size, n, id, v, &err);
        if (rc != 0) {
            if (err.msg[0] == 0)
                abort();
            for (size_t i = 0; i <= n; i++)
                if (v[i] != 0xa5a5a5a5u)
                    abort(); /* half-succeeded */
            continue;
        }
        if (size != 44 + (size_t)n * 4 || v[n] != 0xa5a5a5a5u)
            abort();
        px_buf b = PX_BUF_INIT;
        int enc = which ? px_pir_answer_encode(&b, id, v, n, &err) : px_pir_query_encode(&b, id, v, n, &err);
        if (enc || b.len != size || memcmp(b.data, data, size))
            abort(); /* what parses re-encodes to the same bytes */
        px_buf_free(&b);
    }
    free(v);
    return 0;
}
