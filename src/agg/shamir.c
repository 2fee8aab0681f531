/* Shamir secret sharing of 32-byte seeds over GF(2^8), byte by byte
 * (libsodium has none). The field is GF(2)[x]/(x^8+x^4+x^3+x+1), AES's.
 *
 * Multiplication runs in constant time (no table lookups, no branches on
 * the operands): share values and coefficients are secret, and a timing
 * side channel inside an enclave is exactly what it must not have. */
#include "agg/agg_int.h"

uint8_t agg_gf_mul(uint8_t a, uint8_t b) {
    unsigned r = 0, x = a, y = b;
    for (int i = 0; i < 8; i++) {
        r ^= x & (0u - (y & 1));         /* add x when the low bit of y is set */
        x = (x << 1) ^ (0x11bu & (0u - (x >> 7 & 1))); /* x *= X mod the polynomial */
        x &= 0xff;
        y >>= 1;
    }
    return (uint8_t)r;
}

/* a^254 = a^-1 for a != 0 (and 0 for 0), by a fixed square-and-multiply. */
uint8_t agg_gf_inv(uint8_t a) {
    uint8_t r = 1, s = a;
    for (int bit = 0; bit < 8; bit++) {
        uint8_t m = agg_gf_mul(r, s);
        uint8_t take = (uint8_t)(0u - ((254u >> bit) & 1)); /* public exponent */
        r = (uint8_t)((m & take) | (r & (uint8_t)~take));
        s = agg_gf_mul(s, s);
    }
    return r;
}

void agg_shamir_split(const uint8_t secret[32], uint32_t t, const uint8_t *xs, uint32_t m,
                      uint8_t (*out)[32]) {
    /* coef[c][byte] for c = 1..t-1; coef 0 is the secret. */
    uint8_t coef[PX_AGG_K_MAX][32];
    if (t > 1)
        randombytes_buf(coef, (size_t)(t - 1) * 32);
    for (uint32_t j = 0; j < m; j++) {
        for (int b = 0; b < 32; b++) {
            /* Horner from the highest coefficient down. */
            uint8_t acc = 0;
            for (uint32_t c = t - 1; c >= 1; c--)
                acc = agg_gf_mul(acc, xs[j]) ^ coef[c - 1][b];
            out[j][b] = (uint8_t)(agg_gf_mul(acc, xs[j]) ^ secret[b]);
        }
    }
    sodium_memzero(coef, sizeof coef);
}

void agg_shamir_combine(const uint8_t *xs, const uint8_t (*ys)[32], uint32_t t, uint8_t secret[32]) {
    uint8_t s[32] = {0};
    for (uint32_t j = 0; j < t; j++) {
        /* Lagrange basis at 0: prod_{m != j} x_m / (x_m - x_j); in
         * characteristic 2 subtraction is xor. The x are public. */
        uint8_t num = 1, den = 1;
        for (uint32_t m = 0; m < t; m++) {
            if (m == j)
                continue;
            num = agg_gf_mul(num, xs[m]);
            den = agg_gf_mul(den, (uint8_t)(xs[m] ^ xs[j]));
        }
        uint8_t l = agg_gf_mul(num, agg_gf_inv(den));
        for (int b = 0; b < 32; b++)
            s[b] ^= agg_gf_mul(l, ys[j][b]);
    }
    memcpy(secret, s, 32);
    sodium_memzero(s, sizeof s);
}
