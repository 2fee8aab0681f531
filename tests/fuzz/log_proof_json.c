/* Fuzz the proof-file checkers (the transparency-dev vector JSON form). */
#include "pixiu/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_log_check_inclusion_json(data, size, NULL);
    px_log_check_consistency_json(data, size, NULL);
    return 0;
}
