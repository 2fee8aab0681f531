/* Fuzz the attested stage-config parser. */
#include "pixiu/lambda.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_stage_config c;
    px_err err;
    if (px_lambda_config_parse(&c, data, size, &err) == 0)
        px_lambda_config_free(&c);
    return 0;
}
