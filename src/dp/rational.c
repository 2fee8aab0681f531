/* Exact non-negative rationals for ε, δ and ρ. The proofs carry them as
 * decimal strings so that no reader rounds them; inside, they stay exact
 * fractions and anything that cannot be represented fails rather than
 * rounding silently. */
#include <stdio.h>
#include <string.h>

#include "dp_int.h"

static const uint64_t px_pow10[PX_DP_DEC_DIGITS + 1] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
    10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
    100000000000ull, 1000000000000ull, 10000000000000ull,
    100000000000000ull, 1000000000000000ull, 10000000000000000ull,
    100000000000000000ull, 1000000000000000000ull};

static px_u128 px_gcd128(px_u128 a, px_u128 b) {
    while (b) {
        px_u128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Reduce num/den (den >= 1) and store it if it fits in 64 bits. */
static int px_dp_q_from128(px_dp_q *out, px_u128 num, px_u128 den,
                           px_err *err) {
    px_u128 g = num ? px_gcd128(num, den) : den;
    num /= g;
    den /= g;
    if (num > UINT64_MAX || den > UINT64_MAX)
        return px_fail(err, PX_E_LIMIT,
                       "privacy parameter not representable in 64 bits");
    out->num = (uint64_t)num;
    out->den = (uint64_t)den;
    return 0;
}

px_dp_q px_dp_q_make(uint64_t num, uint64_t den) {
    px_dp_q q = {0, 1};
    px_dp_q_from128(&q, num, den ? den : 1, NULL);
    return q;
}

int px_dp_q_is_zero(px_dp_q q) {
    return q.num == 0;
}

/* The one decimal grammar (core.h, px_decimal_parse); a value is kept when
 * it is num / 10^k with num < 2^64 and k <= PX_DP_DEC_DIGITS, so that it
 * prints back exactly. Anything else fails rather than round. */
int px_dp_q_parse(px_dp_q *q, const char *s, size_t len, px_err *err) {
    char text[PX_DECIMAL_MAX + 1];
    px_decimal d;
    if (len > PX_DECIMAL_MAX || memchr(s, 0, len))
        return px_fail(err, PX_E_INVALID, "decimal of %zu bytes: at most %d characters, no NUL", len,
                       PX_DECIMAL_MAX);
    memcpy(text, s, len);
    text[len] = 0;
    if (px_decimal_parse(&d, text, err))
        return -1;
    size_t nd = strlen(d.digits);
    if (d.exp10 < -PX_DP_DEC_DIGITS)
        return px_fail(err, PX_E_INVALID, "decimal \"%s\" has more than %d fractional digits", text,
                       PX_DP_DEC_DIGITS);
    if ((long)nd + d.exp10 > 20)
        return px_fail(err, PX_E_INVALID, "decimal \"%s\" is too large", text);
    px_u128 v = 0;
    for (size_t i = 0; i < nd; i++)
        v = v * 10 + (unsigned)(d.digits[i] - '0');
    for (int e = 0; e < d.exp10; e++)
        v *= 10;
    if (v > UINT64_MAX)
        return px_fail(err, PX_E_INVALID, "decimal \"%s\" is too large", text);
    return px_dp_q_from128(q, v, d.exp10 < 0 ? px_pow10[-d.exp10] : 1, err);
}

void px_dp_q_format(px_dp_q q, char out[PX_DP_DEC_STR_MAX]) {
    const uint64_t scale = px_pow10[PX_DP_DEC_DIGITS];
    px_u128 scaled = (px_u128)q.num * scale;
    px_u128 v = scaled / q.den;
    if (scaled % q.den)
        v++; /* not a terminating 18-digit decimal: round up */
    uint64_t ip = (uint64_t)(v / scale), fp = (uint64_t)(v % scale);
    int n = snprintf(out, PX_DP_DEC_STR_MAX, "%llu", (unsigned long long)ip);
    if (fp) {
        char frac[PX_DP_DEC_DIGITS + 1];
        snprintf(frac, sizeof frac, "%018llu", (unsigned long long)fp);
        size_t fl = PX_DP_DEC_DIGITS;
        while (fl > 0 && frac[fl - 1] == '0')
            fl--;
        snprintf(out + n, PX_DP_DEC_STR_MAX - (size_t)n, ".%.*s", (int)fl,
                 frac);
    }
}

int px_dp_q_add(px_dp_q *out, px_dp_q a, px_dp_q b, px_err *err) {
    uint64_t g = px_dp_gcd(a.den, b.den);
    px_u128 den = (px_u128)(a.den / g) * b.den;
    px_u128 num = (px_u128)a.num * (b.den / g) + (px_u128)b.num * (a.den / g);
    return px_dp_q_from128(out, num, den, err);
}

int px_dp_q_cmp(px_dp_q a, px_dp_q b) {
    px_u128 l = (px_u128)a.num * b.den, r = (px_u128)b.num * a.den;
    return l < r ? -1 : l > r ? 1 : 0;
}

int px_dp_q_mul_int(px_dp_q *out, px_dp_q a, uint64_t k, px_err *err) {
    return px_dp_q_from128(out, (px_u128)a.num * k, a.den, err);
}

int px_dp_q_div_int(px_dp_q *out, px_dp_q a, uint64_t k, px_err *err) {
    if (k == 0)
        return px_fail(err, PX_E_INTERNAL, "division by zero");
    return px_dp_q_from128(out, a.num, (px_u128)a.den * k, err);
}
