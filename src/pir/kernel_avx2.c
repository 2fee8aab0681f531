/* The answer loop with AVX2: entries sign-extended to 16 bits and
 * multiplied by the query split into two signed 16-bit digits,
 * q = lo + 2^16·hi, with vpmaddwd (pairs of products summed exactly into
 * 32 bits). Σ d·q = Σ d·lo + 2^16 Σ d·hi mod 2^32, and 32-bit additions
 * wrap, which is the arithmetic mod q = 2^32 the scheme wants. Four rows
 * share each load of the query. */
#include "pir/pir_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

static void prepare_avx2(const uint32_t *q, size_t len, uint8_t *out, size_t plane_bytes) {
    int16_t *lo = (int16_t *)(void *)out, *hi = (int16_t *)(void *)(out + plane_bytes);
    size_t n = plane_bytes / 2;
    for (size_t j = 0; j < n; j++) {
        uint32_t v = j < len ? q[j] : 0;
        int16_t l = (int16_t)(uint16_t)v;
        lo[j] = l;
        hi[j] = (int16_t)(uint16_t)((v - (uint32_t)(int32_t)l) >> 16);
    }
}

__attribute__((target("avx2"))) static inline uint32_t hsum8(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return (uint32_t)_mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) static void dot4_avx2(const int8_t *row0, size_t stride, const uint8_t *plane,
                                                     size_t plane_bytes, size_t len, uint32_t out[4]) {
    const int16_t *lo = (const int16_t *)(const void *)plane, *hi = (const int16_t *)(const void *)(plane + plane_bytes);
    const int8_t *r0 = row0, *r1 = row0 + stride, *r2 = row0 + 2 * stride, *r3 = row0 + 3 * stride;
    __m256i l0 = _mm256_setzero_si256(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
    for (size_t j = 0; j < len; j += 16) {
        __m256i ql = _mm256_load_si256((const __m256i *)(const void *)(lo + j));
        __m256i qh = _mm256_load_si256((const __m256i *)(const void *)(hi + j));
        __m256i d0 = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(const void *)(r0 + j)));
        __m256i d1 = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(const void *)(r1 + j)));
        __m256i d2 = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(const void *)(r2 + j)));
        __m256i d3 = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(const void *)(r3 + j)));
        l0 = _mm256_add_epi32(l0, _mm256_madd_epi16(d0, ql));
        h0 = _mm256_add_epi32(h0, _mm256_madd_epi16(d0, qh));
        l1 = _mm256_add_epi32(l1, _mm256_madd_epi16(d1, ql));
        h1 = _mm256_add_epi32(h1, _mm256_madd_epi16(d1, qh));
        l2 = _mm256_add_epi32(l2, _mm256_madd_epi16(d2, ql));
        h2 = _mm256_add_epi32(h2, _mm256_madd_epi16(d2, qh));
        l3 = _mm256_add_epi32(l3, _mm256_madd_epi16(d3, ql));
        h3 = _mm256_add_epi32(h3, _mm256_madd_epi16(d3, qh));
    }
    out[0] = hsum8(l0) + (hsum8(h0) << 16);
    out[1] = hsum8(l1) + (hsum8(h1) << 16);
    out[2] = hsum8(l2) + (hsum8(h2) << 16);
    out[3] = hsum8(l3) + (hsum8(h3) << 16);
}

const px_pir_ops px_pir_ops_avx2 = {PX_PIR_KERNEL_AVX2, "avx2", 2, 2, prepare_avx2, dot4_avx2};
#else
const px_pir_ops px_pir_ops_avx2 = {PX_PIR_KERNEL_AVX2, "avx2", 4, 1, NULL, NULL};
#endif
