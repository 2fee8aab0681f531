/* The answer loop's portable implementation and the choice among kernels
 * at run time (the SIMD ones are in kernel_avx2.c and kernel_avx512.c,
 * compiled with GCC/Clang target attributes so one binary carries all). */
#include <string.h>

#include "pir/pir_int.h"

static void prepare_portable(const uint32_t *q, size_t len, uint8_t *out, size_t plane_bytes) {
    memset(out, 0, plane_bytes);
    memcpy(out, q, len * sizeof *q);
}

static void dot4_portable(const int8_t *row0, size_t stride, const uint8_t *plane, size_t plane_bytes, size_t len,
                          uint32_t out[4]) {
    (void)plane_bytes;
    const uint32_t *q = (const uint32_t *)(const void *)plane;
    for (int r = 0; r < 4; r++) {
        const int8_t *d = row0 + (size_t)r * stride;
        uint32_t acc = 0;
        for (size_t j = 0; j < len; j++)
            acc += (uint32_t)(int32_t)d[j] * q[j];
        out[r] = acc;
    }
}

const px_pir_ops px_pir_ops_portable = {PX_PIR_KERNEL_PORTABLE, "portable", 4, 1, prepare_portable, dot4_portable};

int px_pir_kernel_supported(px_pir_kernel k) {
    switch (k) {
    case PX_PIR_KERNEL_AUTO:
    case PX_PIR_KERNEL_PORTABLE:
        return 1;
#if defined(__x86_64__) || defined(__i386__)
    case PX_PIR_KERNEL_AVX2:
        return __builtin_cpu_supports("avx2");
    case PX_PIR_KERNEL_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vnni");
#endif
    default:
        return 0;
    }
}

const px_pir_ops *px_pir_ops_get(px_pir_kernel k) {
    if (k == PX_PIR_KERNEL_AUTO) {
        if (px_pir_kernel_supported(PX_PIR_KERNEL_AVX512))
            return &px_pir_ops_avx512;
        if (px_pir_kernel_supported(PX_PIR_KERNEL_AVX2))
            return &px_pir_ops_avx2;
        return &px_pir_ops_portable;
    }
    if (!px_pir_kernel_supported(k))
        return NULL;
    switch (k) {
    case PX_PIR_KERNEL_PORTABLE:
        return &px_pir_ops_portable;
    case PX_PIR_KERNEL_AVX2:
        return &px_pir_ops_avx2;
    case PX_PIR_KERNEL_AVX512:
        return &px_pir_ops_avx512;
    default:
        return NULL;
    }
}

const char *px_pir_kernel_name(px_pir_kernel k) {
    const px_pir_ops *o = px_pir_ops_get(k);
    return o ? o->name : "unsupported";
}
