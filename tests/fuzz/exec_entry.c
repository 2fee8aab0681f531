/* Fuzz what the executor reads from others: log entries, plans and stage
 * configs. */
#include <stdlib.h>

#include "pixiu/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_err err = {0};
    if (px_crypto_init(&err))
        abort();
    px_entry e;
    if (px_entry_parse(&e, 0, data, size, &err) == 0)
        px_entry_free(&e);
    px_plan p;
    if (px_plan_parse(&p, data, size, &err) == 0)
        px_plan_free(&p);
    px_stage_config c;
    if (px_lambda_config_parse(&c, data, size, &err) == 0)
        px_lambda_config_free(&c);
    return 0;
}
