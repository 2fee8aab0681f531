/* Fuzz the decimal parser for ε, δ, ρ: what parses must print back to a
 * decimal that parses to the same value. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/dp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_dp_q q, back;
    if (px_dp_q_parse(&q, (const char *)data, size, NULL) != 0)
        return 0;
    char s[PX_DP_DEC_STR_MAX];
    px_dp_q_format(q, s);
    if (px_dp_q_parse(&back, s, strlen(s), NULL) != 0 ||
        px_dp_q_cmp(q, back) != 0)
        abort();
    return 0;
}
