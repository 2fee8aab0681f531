/* The LWE error: the discrete Gaussian on Z with P(x) ∝ exp(-x²/2σ²),
 * σ = 6.4, sampled by inversion of its cumulative table.
 *
 * The table (gauss_table.h, made by scripts/pir-gauss-table in exact
 * decimal arithmetic) holds round(2^128 · P(|X| <= k)) for k < K. A
 * uniform 128-bit r gives the magnitude k = #{j : r >= T[j]}, and one more
 * random bit the sign (never applied to 0). Each magnitude's probability is
 * then exact up to the table's rounding, at most 2^-128 per entry, so the
 * sampled law is within statistical distance K · 2^-128 < 2^-121 of the
 * discrete Gaussian truncated at K = 84 (= 13σ; the mass beyond is below
 * 2^-128). The loop always reads the whole table and compares without
 * branches, so its time does not depend on the sample. No floating point
 * is involved. */
#include <string.h>

#include "pir/pir_int.h"
#include "pir/gauss_table.h"

__extension__ typedef unsigned __int128 u128;

unsigned px_pir_gauss_max(void) {
    return PX_PIR_GAUSS_K;
}

/* 1 if a < b, without branches. */
static inline uint64_t lt128(u128 a, u128 b) {
    return (uint64_t)((a ^ ((a ^ b) | ((a - b) ^ a))) >> 127);
}

int32_t px_pir_gauss_from(const uint8_t r[PX_PIR_GAUSS_BYTES]) {
    u128 v = 0;
    for (int i = 15; i >= 0; i--)
        v = v << 8 | r[i];
    uint64_t k = 0;
    for (unsigned j = 0; j < PX_PIR_GAUSS_K; j++) {
        u128 t = (u128)px_pir_gauss_cdt[j][0] << 64 | px_pir_gauss_cdt[j][1];
        k += 1 - lt128(v, t);
    }
    /* x = k or -k: (k ^ mask) - mask with mask all ones for a negative. */
    uint32_t mask = (uint32_t)0 - (uint32_t)(r[16] & 1);
    return (int32_t)(((uint32_t)k ^ mask) - mask);
}

void px_pir_gauss_fill(int32_t *e, size_t n) {
    uint8_t buf[64 * PX_PIR_GAUSS_BYTES];
    while (n > 0) {
        size_t m = n < 64 ? n : 64;
        px_random(buf, m * PX_PIR_GAUSS_BYTES);
        for (size_t i = 0; i < m; i++)
            e[i] = px_pir_gauss_from(buf + i * PX_PIR_GAUSS_BYTES);
        e += m;
        n -= m;
    }
    px_memzero(buf, sizeof buf);
}
