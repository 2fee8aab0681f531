/* The grammars every module shares: ids and exact decimals (docs/formats.md,
 * "Ids and decimals"). One definition each, so that what a POD accepts, a
 * manifest can name, and what a manifest states, every reader parses alike. */
#include <stdio.h>
#include <string.h>

#include "pixiu/core.h"

#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define EXP_DIGITS_MAX 3 /* a written exponent of at most 999 */

int px_id_valid(const char *s) {
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= PX_ID_MAX && strspn(s, ID_CHARS) == n && s[0] != '.' && s[0] != '-';
}

int px_id_check(const char *what, const char *s, px_err *err) {
    if (px_id_valid(s))
        return 0;
    return px_fail(err, PX_E_INVALID,
                   "%s \"%.*s%s\" is not an id (1 to %d of A-Z a-z 0-9 . _ -, not starting with . or -)", what,
                   PX_ID_MAX, s ? s : "", s && strlen(s) > PX_ID_MAX ? "..." : "", PX_ID_MAX);
}

/* ---- decimals ------------------------------------------------------------------ */

static int digit(char c) { return c >= '0' && c <= '9'; }

static int bad(const char *s, const char *why, px_err *err) {
    char shown[PX_DECIMAL_MAX + 4];
    size_t n = strlen(s);
    snprintf(shown, sizeof shown, "%.*s%s", PX_DECIMAL_MAX, s, n > PX_DECIMAL_MAX ? "..." : "");
    for (char *p = shown; *p; p++)
        if (*p < ' ' || *p > '~' || *p == '"')
            *p = '?';
    return px_fail(err, PX_E_INVALID, "\"%s\" is not a decimal: %s (e.g. 0.5, 2, 1e-6)", shown, why);
}

int px_decimal_valid(const char *s) {
    px_decimal d;
    return px_decimal_parse(&d, s, NULL) == 0;
}

int px_decimal_parse(px_decimal *out, const char *s, px_err *err) {
    size_t n = s ? strlen(s) : 0, i = 0, nd = 0;
    px_decimal d = {{0}, 0};
    int frac = 0;
    if (n == 0)
        return bad("", "it is empty", err);
    if (n > PX_DECIMAL_MAX) {
        char why[48];
        snprintf(why, sizeof why, "longer than %d characters", PX_DECIMAL_MAX);
        return bad(s, why, err);
    }
    /* int = "0" / [1-9] *digit */
    if (!digit(s[0]))
        return bad(s, s[0] == '-' ? "negative" : "it must start with a digit", err);
    if (s[0] == '0' && digit(s[1]))
        return bad(s, "a leading zero", err);
    for (; digit(s[i]); i++)
        if (nd || s[i] != '0')
            d.digits[nd++] = s[i];
    /* frac = "." 1*digit */
    if (s[i] == '.') {
        if (!digit(s[++i]))
            return bad(s, "no digit after the '.'", err);
        for (; digit(s[i]); i++, frac++)
            if (nd || s[i] != '0')
                d.digits[nd++] = s[i];
    }
    /* exp = ("e" / "E") ["+" / "-"] 1*digit */
    int e = 0;
    if (s[i] == 'e' || s[i] == 'E') {
        int neg = 0, ne = 0;
        i++;
        if (s[i] == '+' || s[i] == '-')
            neg = s[i++] == '-';
        if (!digit(s[i]))
            return bad(s, "no digit in the exponent", err);
        for (; digit(s[i]); i++)
            if (++ne > EXP_DIGITS_MAX)
                return bad(s, "the exponent is too large", err);
            else
                e = e * 10 + (s[i] - '0');
        e = neg ? -e : e;
    }
    if (s[i])
        return bad(s, "unexpected characters after the number", err);
    /* Canonical: no trailing zeros in the digits; zero has none at all. */
    e -= frac;
    while (nd && d.digits[nd - 1] == '0') {
        d.digits[--nd] = 0;
        e++;
    }
    d.exp10 = nd ? e : 0;
    *out = d;
    return 0;
}

int px_decimal_is_zero(const px_decimal *d) { return d->digits[0] == 0; }

int px_decimal_cmp(const px_decimal *a, const px_decimal *b) {
    int za = px_decimal_is_zero(a), zb = px_decimal_is_zero(b);
    if (za || zb)
        return za && zb ? 0 : za ? -1 : 1;
    /* Magnitude: the position of the leading digit. */
    long ma = (long)strlen(a->digits) + a->exp10, mb = (long)strlen(b->digits) + b->exp10;
    if (ma != mb)
        return ma < mb ? -1 : 1;
    /* Same magnitude: the digits, read left to right (missing ones are 0). */
    for (size_t i = 0;; i++) {
        char ca = a->digits[i], cb = b->digits[i];
        if (!ca && !cb)
            return 0;
        ca = ca ? ca : '0';
        cb = cb ? cb : '0';
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
}
