/* Fuzz the DP stage configuration parser: any bytes either parse into a
 * config whose invariants hold or fail with a message. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/dp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_dp_config c;
    px_err err;
    if (px_dp_config_parse(&c, data, size, &err) != 0) {
        if (err.msg[0] == 0)
            abort(); /* every failure names its cause */
        return 0;
    }
    if (c.dim < 1 || c.dim > PX_DP_MAX_DIM || c.max_contrib < 1 ||
        c.max_contrib > c.dim || c.grid < PX_DP_GRID_MIN ||
        c.grid > PX_DP_GRID_MAX || (c.epsilon.num == 0 && c.rho.num == 0))
        abort();
    for (uint32_t j = 0; j < c.dim; j++)
        if (!(c.lower[j] <= c.upper[j]))
            abort();
    px_dp_config_free(&c);
    return 0;
}
