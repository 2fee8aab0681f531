/* Fuzz tile paths and entry bundles: a parsed path must format back to the
 * same string; a split bundle must account for every byte. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/log.h"

#define MAX_ENTRIES 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[256];
    if (size < sizeof path) {
        memcpy(path, data, size);
        path[size] = '\0';
        int level;
        uint64_t index;
        unsigned width;
        if (strlen(path) == size && px_log_tile_path_parse(path, &level, &index, &width, NULL) == 0) {
            px_buf b = PX_BUF_INIT;
            if (px_log_tile_path_format(level, index, width, &b, NULL) || b.len != size ||
                memcmp(b.data, path, size))
                abort();
            px_buf_free(&b);
        }
    }
    static const uint8_t *entries[MAX_ENTRIES];
    static size_t lens[MAX_ENTRIES];
    size_t n;
    if (px_log_bundle_split(data, size, entries, lens, MAX_ENTRIES, &n, NULL) == 0) {
        size_t total = 0;
        for (size_t i = 0; i < n; i++)
            total += 2 + lens[i];
        if (total != size)
            abort();
    }
    return 0;
}
