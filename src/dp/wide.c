/* 256-bit unsigned arithmetic for exact rational comparisons in the
 * samplers and the accountant. Small and slow on purpose: it is only on the
 * discrete Gaussian's rare wide path and in parameter checks. */
#include "dp_int.h"

px_u256 px_u256_from(px_u128 x) {
    px_u256 r = {{(uint64_t)x, (uint64_t)(x >> 64), 0, 0}};
    return r;
}

int px_u256_cmp(const px_u256 *a, const px_u256 *b) {
    for (int i = 3; i >= 0; i--) {
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    }
    return 0;
}

void px_u256_sub(px_u256 *a, const px_u256 *b) {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        px_u128 d = (px_u128)a->w[i] - b->w[i] - borrow;
        a->w[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) ? 1 : 0;
    }
}

int px_u256_mul(px_u256 *out, const px_u256 *a, const px_u256 *b) {
    uint64_t r[8] = {0};
    for (int i = 0; i < 4; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 4; j++) {
            px_u128 t = (px_u128)a->w[i] * b->w[j] + r[i + j] + carry;
            r[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        r[i + 4] = carry;
    }
    if (r[4] | r[5] | r[6] | r[7])
        return -1;
    for (int i = 0; i < 4; i++)
        out->w[i] = r[i];
    return 0;
}

unsigned px_u256_bits(const px_u256 *a) {
    for (int i = 3; i >= 0; i--) {
        if (a->w[i])
            return (unsigned)(64 * i + 64 - __builtin_clzll(a->w[i]));
    }
    return 0;
}

int px_u256_is_zero(const px_u256 *a) {
    return !(a->w[0] | a->w[1] | a->w[2] | a->w[3]);
}

px_u256 px_u256_divmod64(const px_u256 *a, uint64_t d, uint64_t *rem) {
    px_u256 q;
    px_u128 r = 0;
    for (int i = 3; i >= 0; i--) {
        px_u128 cur = (r << 64) | a->w[i];
        q.w[i] = (uint64_t)(cur / d);
        r = cur % d;
    }
    if (rem)
        *rem = (uint64_t)r;
    return q;
}

int px_u256_to_u64(const px_u256 *a, uint64_t *out) {
    if (a->w[1] | a->w[2] | a->w[3])
        return 0;
    *out = a->w[0];
    return 1;
}

uint64_t px_dp_gcd(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int64_t px_dp_sat_add(int64_t a, int64_t b) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return a > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

int64_t px_dp_sat_i128(px_i128 x, int *saturated) {
    if (x > INT64_MAX) {
        *saturated = 1;
        return INT64_MAX;
    }
    if (x < INT64_MIN) {
        *saturated = 1;
        return INT64_MIN;
    }
    return (int64_t)x;
}
