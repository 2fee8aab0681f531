/* Measurement: the one digest that says what an instance is. It covers the
 * build (every file the instance runs, see build.c), the stage kind, the
 * stage's code and its configuration (which names the successor's key), so
 * an instance attested under one measurement cannot be repointed at other
 * code, other tools or another destination. */
#include <stdio.h>
#include <string.h>

#include "pixiu/tee.h"

#define MEASURE_TAG "pixiu measurement v2\n"

const uint8_t px_tee_builtin_code[PX_SHA256_BYTES] = {0};

int px_tee_kind_valid(const char *kind) {
    size_t n = strlen(kind);
    if (n == 0 || n > PX_TEE_KIND_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = kind[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int px_tee_measure(uint8_t out[PX_TEE_MEASUREMENT_BYTES], const uint8_t build[PX_SHA256_BYTES],
                   const char *kind, const uint8_t code[PX_SHA256_BYTES],
                   const uint8_t config[PX_SHA256_BYTES], px_err *err) {
    if (!px_tee_kind_valid(kind))
        return px_fail(err, PX_E_INVALID, "stage kind \"%.40s\" is not 1..%d characters of [a-z0-9_-]", kind,
                       PX_TEE_KIND_MAX);
    /* The kind is length-prefixed so that no two inputs share an encoding. */
    uint8_t klen = (uint8_t)strlen(kind);
    px_sha256_ctx c;
    px_sha256_init(&c);
    px_sha256_update(&c, MEASURE_TAG, strlen(MEASURE_TAG));
    px_sha256_update(&c, build, PX_SHA256_BYTES);
    px_sha256_update(&c, &klen, 1);
    px_sha256_update(&c, kind, klen);
    px_sha256_update(&c, code, PX_SHA256_BYTES);
    px_sha256_update(&c, config, PX_SHA256_BYTES);
    px_sha256_final(&c, out);
    return 0;
}

int px_tee_file_digest(uint8_t out[PX_SHA256_BYTES], const char *path, px_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return px_fail(err, PX_E_IO, "cannot open %s to measure it", path);
    px_sha256_ctx c;
    px_sha256_init(&c);
    uint8_t chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        px_sha256_update(&c, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return px_fail(err, PX_E_IO, "reading %s to measure it failed", path);
    px_sha256_final(&c, out);
    return 0;
}
