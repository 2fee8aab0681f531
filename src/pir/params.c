/* SimplePIR parameters: the plaintext modulus by database width, the
 * database's shape, and the decryption-failure bound.
 *
 * The table is SimplePIR's for n = 2^10, q = 2^32, σ = 6.4 (the reference
 * implementation's parameter table, one row per log2 of the number of LWE
 * samples m, 2^13 .. 2^21): the largest p such that √N additions of
 * entries below p/2 keep the correctness error under 2^-40. PIXIU keeps one
 * byte per entry, so it takes the largest power of two not above that p,
 * capped at 256 (docs/pir.md). */
#include <math.h>
#include <string.h>

#include "pir/pir_int.h"

static const struct {
    unsigned logm;
    uint32_t p;
} table[] = {{13, 991}, {14, 833}, {15, 701}, {16, 589}, {17, 495},
             {18, 416}, {19, 350}, {20, 294}, {21, 247}};

uint32_t px_pir_table_p(uint32_t cols) {
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if ((uint64_t)cols <= (1ull << table[i].logm))
            return table[i].p;
    return 0;
}

static uint32_t plaintext_modulus(uint32_t cols) {
    uint32_t tp = px_pir_table_p(cols), p = 1;
    if (tp == 0)
        return 0;
    while (p * 2 <= tp && p * 2 <= PX_PIR_P)
        p *= 2;
    return p;
}

/* The smallest s with s * s >= x. */
static uint64_t isqrt_ceil(uint64_t x) {
    uint64_t s = (uint64_t)sqrt((double)x);
    while (s * s > x)
        s--;
    while (s * s < x)
        s++;
    return s;
}

int px_pir_params_choose(px_pir_params *pp, uint64_t records, uint32_t record_bytes,
                         const uint8_t seed[PX_PIR_SEED_BYTES], px_err *err) {
    if (records == 0 || records > UINT32_MAX)
        return px_fail(err, PX_E_INVALID, "a PIR database holds 1..%u records, not %llu", UINT32_MAX,
                       (unsigned long long)records);
    if (record_bytes == 0 || record_bytes > PX_PIR_MAX_RECORD)
        return px_fail(err, PX_E_INVALID, "a PIR record is 1..%u bytes, not %u", PX_PIR_MAX_RECORD, record_bytes);
    uint64_t entries = records * record_bytes;
    if (entries > PX_PIR_MAX_DB_BYTES)
        return px_fail(err, PX_E_LIMIT, "a PIR database of %llu bytes is over the limit of %llu",
                       (unsigned long long)entries, (unsigned long long)PX_PIR_MAX_DB_BYTES);
    /* Records per column: about sqrt(entries) / record_bytes, at least 1. */
    uint64_t side = isqrt_ceil(entries);
    uint64_t per = (side + record_bytes - 1) / record_bytes;
    if (per > records)
        per = records;
    uint64_t rows = per * record_bytes, cols = (records + per - 1) / per;
    if (rows > PX_PIR_MAX_ROWS || cols > PX_PIR_MAX_COLS)
        return px_fail(err, PX_E_LIMIT, "a PIR database of %llu x %llu entries is beyond the parameter table",
                       (unsigned long long)rows, (unsigned long long)cols);
    uint32_t p = plaintext_modulus((uint32_t)cols);
    if (p != PX_PIR_P)
        return px_fail(err, PX_E_LIMIT, "%llu columns leave a plaintext modulus below %u", (unsigned long long)cols,
                       PX_PIR_P);
    memset(pp, 0, sizeof *pp);
    pp->rows = (uint32_t)rows;
    pp->cols = (uint32_t)cols;
    pp->record_bytes = record_bytes;
    pp->records = (uint32_t)records;
    pp->p = p;
    memcpy(pp->seed, seed, PX_PIR_SEED_BYTES);
    return 0;
}

int px_pir_params_check(const px_pir_params *pp, px_err *err) {
    px_pir_params want;
    if (px_pir_params_choose(&want, pp->records, pp->record_bytes, pp->seed, err))
        return -1;
    if (want.rows != pp->rows || want.cols != pp->cols || want.p != pp->p)
        return px_fail(err, PX_E_INVALID,
                       "PIR shape %u x %u with p = %u is not the one for %u records of %u bytes (%u x %u, p = %u)",
                       pp->rows, pp->cols, pp->p, pp->records, pp->record_bytes, want.rows, want.cols, want.p);
    return 0;
}

/* Each answer entry's error is Σ_j d_j e_j with |d_j| <= p/2 and e_j
 * σ-subgaussian (the discrete Gaussian is), so it is subgaussian with
 * parameter σ·(p/2)·√m, and P(|err| >= Δ/2) <= 2 exp(-(Δ/2)^2 / (2 σ^2
 * (p/2)^2 m)). */
double px_pir_failure_log2(const px_pir_params *pp) {
    double sigma = 6.4, half_delta = (double)(1ull << 32) / pp->p / 2, half_p = pp->p / 2.0;
    double var = sigma * sigma * half_p * half_p * (double)pp->cols;
    return 1.0 - half_delta * half_delta / (2 * var) / log(2.0);
}
