/* Fuzz the POD's CSV importer (see pod_import.h). */
#include "pod_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_pod_import(px_pod_parse_csv, data, size);
}
