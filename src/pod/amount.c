/* Privacy amounts as exact fixed-point integers. The wire form is a decimal
 * string in the one grammar of core.h ("0.5", "1e-6"); parsing never goes
 * through a double, so the ledger adds and compares exact integers and the
 * rounding direction is chosen by the caller: charges round up, limits down. */
#include <stdio.h>
#include <string.h>

#include "pod/row.h"

static int parse_scaled(int64_t *units, const char *text, int scale, int64_t max, px_round mode, px_err *err) {
    px_decimal d;
    if (px_decimal_parse(&d, text, err))
        return -1;
    const char *digits = d.digits;
    size_t nd = strlen(digits);
    int e = d.exp10;
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
