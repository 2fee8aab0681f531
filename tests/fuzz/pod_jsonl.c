/* Fuzz the POD's JSON Lines importer (see pod_import.h). */
#include "pod_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_pod_import(px_pod_parse_jsonl, data, size);
}
