/* Fuzz the shared grammars (core.h): a decimal that parses is canonical (no
 * leading or trailing zero digit) and equal to itself, and two decimals
 * "A;B" order one way; an id that is valid is made of the id
 * characters; and a closed-object check over any JSON never crashes. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/core.h"

static const char *const keys[] = {"cpu_ms", "mem_mb", "timeout_ms", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char s[128];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = 0;
    px_decimal d, e;
    if (px_decimal_parse(&d, s, NULL) == 0) {
        size_t nd = strlen(d.digits);
        if (strspn(d.digits, "0123456789") != nd || (nd && (d.digits[0] == '0' || d.digits[nd - 1] == '0')) ||
            (!nd && d.exp10 != 0) || px_decimal_cmp(&d, &d) != 0)
            abort();
    }
    /* "A;B": when both are decimals, they order one way. */
    char *semi = strchr(s, ';');
    if (semi) {
        *semi = 0;
        if (px_decimal_parse(&d, s, NULL) == 0 && px_decimal_parse(&e, semi + 1, NULL) == 0 &&
            px_decimal_cmp(&d, &e) != -px_decimal_cmp(&e, &d))
            abort();
        *semi = ';';
    }
    n = strlen(s);
    if (px_id_valid(s) && (n == 0 || n > PX_ID_MAX || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                             "0123456789._-") != n))
        abort();
    json_t *j = px_json_parse(data, size, 1u << 16, NULL);
    if (j) {
        px_err err = {0};
        if (px_json_only(j, "fuzz", keys, &err) != 0 && (!err.msg[0] || strchr(err.msg, '\n')))
            abort();
        json_decref(j);
    }
    return 0;
}
