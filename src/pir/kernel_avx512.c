/* The answer loop with AVX-512 VNNI: the query split into its four bytes
 * (q = Σ_k 2^8k · b_k), each byte plane dotted with the entries by
 * vpdpbusd (unsigned byte × signed byte, four products summed into 32
 * bits, 64 entries per instruction). Σ d·q = Σ_k 2^8k Σ d·b_k mod 2^32;
 * the 32-bit accumulators wrap, which is the arithmetic mod 2^32 the scheme
 * wants. Four rows share each load of the query planes. */
#include "pir/pir_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

static void prepare_avx512(const uint32_t *q, size_t len, uint8_t *out, size_t plane_bytes) {
    for (size_t j = 0; j < plane_bytes; j++) {
        uint32_t v = j < len ? q[j] : 0;
        out[j] = (uint8_t)v;
        out[plane_bytes + j] = (uint8_t)(v >> 8);
        out[2 * plane_bytes + j] = (uint8_t)(v >> 16);
        out[3 * plane_bytes + j] = (uint8_t)(v >> 24);
    }
}

#define PX_AVX512 __attribute__((target("avx512f,avx512bw,avx512vnni")))

PX_AVX512 static inline uint32_t combine(__m512i a0, __m512i a1, __m512i a2, __m512i a3) {
    __m512i t = _mm512_add_epi32(a0, _mm512_slli_epi32(a1, 8));
    t = _mm512_add_epi32(t, _mm512_slli_epi32(a2, 16));
    t = _mm512_add_epi32(t, _mm512_slli_epi32(a3, 24));
    /* Lane sums with wrapping vector adds (the compiler's reduce helper
     * adds as signed int, which may not overflow). */
    __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(t), _mm512_extracti64x4_epi64(t, 1));
    __m128i x = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0x4e));
    x = _mm_add_epi32(x, _mm_shuffle_epi32(x, 0xb1));
    return (uint32_t)_mm_cvtsi128_si32(x);
}

PX_AVX512 static void dot4_avx512(const int8_t *row0, size_t stride, const uint8_t *plane, size_t plane_bytes,
                                  size_t len, uint32_t out[4]) {
    const uint8_t *p0 = plane, *p1 = plane + plane_bytes, *p2 = plane + 2 * plane_bytes, *p3 = plane + 3 * plane_bytes;
    __m512i a[4][4];
    for (int r = 0; r < 4; r++)
        for (int k = 0; k < 4; k++)
            a[r][k] = _mm512_setzero_si512();
    for (size_t j = 0; j < len; j += 64) {
        __m512i b0 = _mm512_load_si512((const void *)(p0 + j)), b1 = _mm512_load_si512((const void *)(p1 + j));
        __m512i b2 = _mm512_load_si512((const void *)(p2 + j)), b3 = _mm512_load_si512((const void *)(p3 + j));
        for (int r = 0; r < 4; r++) {
            __m512i d = _mm512_load_si512((const void *)(row0 + (size_t)r * stride + j));
            a[r][0] = _mm512_dpbusd_epi32(a[r][0], b0, d);
            a[r][1] = _mm512_dpbusd_epi32(a[r][1], b1, d);
            a[r][2] = _mm512_dpbusd_epi32(a[r][2], b2, d);
            a[r][3] = _mm512_dpbusd_epi32(a[r][3], b3, d);
        }
    }
    for (int r = 0; r < 4; r++)
        out[r] = combine(a[r][0], a[r][1], a[r][2], a[r][3]);
}

const px_pir_ops px_pir_ops_avx512 = {PX_PIR_KERNEL_AVX512, "avx512-vnni", 1, 4, prepare_avx512, dot4_avx512};
#else
const px_pir_ops px_pir_ops_avx512 = {PX_PIR_KERNEL_AVX512, "avx512-vnni", 4, 1, NULL, NULL};
#endif
