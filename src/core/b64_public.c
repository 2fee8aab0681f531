/* Base64 for public bytes: table lookups, not libsodium's constant-time
 * code, which runs about six times slower. Envelopes carry statements and
 * evidence that everybody may read (an evidence envelope is some 17 KB of
 * base64 that a λ worker and its node each handle once per instance), so
 * nothing leaks through timing; keys and other secrets keep px_b64_*.
 * The encoder writes exactly what px_b64_encode writes. The decoder takes
 * only canonical padded standard base64, all of which libsodium's
 * standard variant takes too, to the same bytes; anything else it leaves
 * to the caller's strict path. */
#include <string.h>

#include "pixiu/core.h"

static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void px_b64_encode_public(char *out, const uint8_t *in, size_t n) {
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = digits[v >> 18];
        *out++ = digits[(v >> 12) & 63];
        *out++ = digits[(v >> 6) & 63];
        *out++ = digits[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *out++ = digits[v >> 18];
        *out++ = digits[(v >> 12) & 63];
        *out++ = '=';
        *out++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *out++ = digits[v >> 18];
        *out++ = digits[(v >> 12) & 63];
        *out++ = digits[(v >> 6) & 63];
        *out++ = '=';
    }
    *out = '\0';
}

/* 0..63, or 64 for anything outside the standard alphabet (and '='). */
static const unsigned char value_of[256] = {
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64, 64, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64,
    64,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 64,
    64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
};

/* One group of four digits; pad of them are '=' at its end (0..2). */
static int group(const unsigned char *s, int pad, uint8_t *out) {
    unsigned a = value_of[s[0]], b = value_of[s[1]];
    unsigned c = pad >= 2 ? 0 : value_of[s[2]], d = pad >= 1 ? 0 : value_of[s[3]];
    if ((a | b | c | d) & 64)
        return -1;
    uint32_t v = a << 18 | b << 12 | c << 6 | d;
    /* Canonical: the bits the padding drops are zero. */
    if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
        return -1;
    out[0] = (uint8_t)(v >> 16);
    if (pad < 2)
        out[1] = (uint8_t)(v >> 8);
    if (pad < 1)
        out[2] = (uint8_t)v;
    return 0;
}

int px_b64_decode_public(px_buf *out, const char *in, size_t len) {
    if (len % 4 != 0)
        return -1;
    const unsigned char *s = (const unsigned char *)in;
    int pad = len == 0 ? 0 : s[len - 1] != '=' ? 0 : s[len - 2] != '=' ? 1 : 2;
    size_t n = len / 4 * 3 - (size_t)pad;
    if (px_buf_reserve(out, n + 3, NULL))
        return -1;
    uint8_t *d = out->data + out->len;
    for (size_t i = 0; i < len; i += 4, d += 3)
        if (group(s + i, i + 4 == len ? pad : 0, d))
            return -1;
    out->len += n;
    return 0;
}
