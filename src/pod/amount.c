/* Privacy amounts as exact fixed-point integers. The wire form is a
 * decimal string ("0.5", "1e-6"); parsing never goes through a double, so
 * the ledger adds and compares exact integers and the rounding direction is
 * chosen by the caller: charges round up, limits down. */
#include <stdio.h>
#include <string.h>

#include "pod/row.h"

#define AMOUNT_TEXT_MAX 64
#define EXP_MAX 40

/* Split "<digits>[.<digits>][e[+-]<digits>]" into significant digits and a
 * power of ten: value = digits * 10^exp10. */
static int split_decimal(const char *t, char *digits, size_t *nd, int *exp10, px_err *err) {
    size_t n = 0, frac = 0;
    int seen_digit = 0, seen_dot = 0;
    const char *p = t;
    for (; *p && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.' && !seen_dot) {
            seen_dot = 1;
        } else if (*p >= '0' && *p <= '9') {
            seen_digit = 1;
            if (n || *p != '0')
                digits[n++] = *p;
            frac += seen_dot;
        } else {
            return px_fail(err, PX_E_INVALID, "\"%s\" is not a non-negative decimal number", px_row_safe_name(t));
        }
    }
    if (!seen_digit)
        return px_fail(err, PX_E_INVALID, "\"%s\" is not a non-negative decimal number", px_row_safe_name(t));
    int e = 0;
    if (*p) {
        int neg = 0;
        p++;
        if (*p == '+' || *p == '-')
            neg = *p++ == '-';
        if (!*p)
            return px_fail(err, PX_E_INVALID, "\"%s\": missing exponent digits", px_row_safe_name(t));
        for (; *p; p++) {
            if (*p < '0' || *p > '9' || e > EXP_MAX * 10)
                return px_fail(err, PX_E_INVALID, "\"%s\": bad exponent", px_row_safe_name(t));
            e = e * 10 + (*p - '0');
        }
        e = neg ? -e : e;
    }
    *nd = n;
    *exp10 = e - (int)frac;
    return 0;
}

static int parse_scaled(int64_t *units, const char *text, int scale, int64_t max, px_round mode, px_err *err) {
    size_t len = text ? strlen(text) : 0;
    if (len == 0 || len > AMOUNT_TEXT_MAX)
        return px_fail(err, PX_E_INVALID, "amount must be a decimal string of 1-%d characters", AMOUNT_TEXT_MAX);
    char digits[AMOUNT_TEXT_MAX];
    size_t nd = 0;
    int e = 0;
    if (split_decimal(text, digits, &nd, &e, err))
        return -1;
    e += scale; /* units = digits * 10^e */
    uint64_t v = 0;
    int rest_nonzero = 0;
    long keep = (long)nd + (e < 0 ? e : 0); /* digits that land in the integer part */
    for (long i = 0; i < (long)nd; i++) {
        if (i >= keep) {
            rest_nonzero |= digits[i] != '0';
            continue;
        }
        if (v > (uint64_t)max / 10 + 1)
            return px_fail(err, PX_E_LIMIT, "amount \"%s\" is too large", text);
        v = v * 10 + (uint64_t)(digits[i] - '0');
    }
    for (int i = 0; i < e && v; i++) {
        if (v > (uint64_t)max)
            break;
        v *= 10;
    }
    if (rest_nonzero && mode == PX_ROUND_UP)
        v++;
    if (v > (uint64_t)max)
        return px_fail(err, PX_E_LIMIT, "amount \"%s\" is too large", text);
    *units = (int64_t)v;
    return 0;
}

int px_eps_parse(int64_t *units, const char *text, px_round mode, px_err *err) {
    if (parse_scaled(units, text, PX_EPS_SCALE_DIGITS, PX_EPS_MAX_UNITS, mode, err))
        return px_err_prefix(err, "epsilon: ");
    return 0;
}

int px_delta_parse(int64_t *units, const char *text, px_round mode, px_err *err) {
    if (parse_scaled(units, text, PX_DELTA_SCALE_DIGITS, PX_DELTA_MAX_UNITS, mode, err))
        return px_err_prefix(err, "delta: ");
    return 0;
}

static void format_scaled(char *out, int64_t units, int scale) {
    uint64_t pow = 1;
    for (int i = 0; i < scale; i++)
        pow *= 10;
    uint64_t u = units < 0 ? 0 : (uint64_t)units;
    int n = snprintf(out, PX_AMOUNT_TEXT_MAX, "%llu", (unsigned long long)(u / pow));
    uint64_t frac = u % pow;
    if (frac == 0)
        return;
    char f[24];
    snprintf(f, sizeof f, "%0*llu", scale, (unsigned long long)frac);
    size_t fl = strlen(f);
    while (fl && f[fl - 1] == '0')
        f[--fl] = 0;
    snprintf(out + n, (size_t)(PX_AMOUNT_TEXT_MAX - n), ".%s", f);
}

void px_eps_format(char *out, int64_t units) {
    format_scaled(out, units, PX_EPS_SCALE_DIGITS);
}

void px_delta_format(char *out, int64_t units) {
    format_scaled(out, units, PX_DELTA_SCALE_DIGITS);
}
