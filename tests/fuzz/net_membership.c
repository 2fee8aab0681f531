/* Fuzz the membership file parser. */
#include <stdlib.h>

#include "pixiu/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_err err = {0};
    px_membership m;
    if (px_membership_parse(&m, data, size, &err) == 0) {
        if (m.n == 0 || !px_membership_find(&m, m.nodes[0].id))
            abort();
        px_membership_free(&m);
    }
    return 0;
}
