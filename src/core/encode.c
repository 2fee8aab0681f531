/* Hex, base64 and UTF-8 checks. libsodium does the work; this file makes the
 * rules strict (exact lengths, canonical padding, nothing trailing). */
#include <string.h>

#include <sodium.h>

#include "pixiu/core.h"

void px_hex_encode(char *out, const uint8_t *in, size_t n) {
    sodium_bin2hex(out, 2 * n + 1, in, n);
}

int px_hex_decode_exact(uint8_t *out, size_t n, const char *hex, size_t hexlen,
                        px_err *err) {
    if (hexlen != 2 * n)
        return px_fail(err, PX_E_INVALID, "hex value has %zu characters, want %zu", hexlen, 2 * n);
    for (size_t i = 0; i < hexlen; i++) {
        char c = hex[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return px_fail(err, PX_E_INVALID, "hex value has a character that is not lower-case hex at offset %zu", i);
    }
    size_t got = 0;
    if (sodium_hex2bin(out, n, hex, hexlen, NULL, &got, NULL) != 0 || got != n)
        return px_fail(err, PX_E_INVALID, "hex value does not decode to %zu bytes", n);
    return 0;
}

size_t px_b64_encoded_len(size_t n) {
    return (n + 2) / 3 * 4;
}

void px_b64_encode(char *out, const uint8_t *in, size_t n) {
    sodium_bin2base64(out, px_b64_encoded_len(n) + 1, in, n, sodium_base64_VARIANT_ORIGINAL);
}

int px_buf_append_b64(px_buf *b, const uint8_t *in, size_t n, px_err *err) {
    size_t m = px_b64_encoded_len(n);
    if (px_buf_reserve(b, m + 1, err))
        return -1;
    px_b64_encode((char *)b->data + b->len, in, n);
    b->len += m;
    return 0;
}

int px_b64_alphabet_valid(const char *in, size_t len, int urlsafe) {
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '=' ||
                 c == '+' || c == '/' || (urlsafe && (c == '-' || c == '_'));
        if (!ok)
            return 0;
    }
    return 1;
}

/* Decode into out (capacity cap); checks canonical form by re-encoding.
 * The alphabet is checked first: libsodium 1.0.18 maps some bytes >= 0x80
 * to base64 digits instead of rejecting them. */
static int b64_decode_into(uint8_t *out, size_t cap, size_t *outlen,
                           const char *in, size_t len, px_err *err) {
    if (len % 4 != 0)
        return px_fail(err, PX_E_INVALID, "base64 length %zu is not a multiple of 4", len);
    if (!px_b64_alphabet_valid(in, len, 0))
        return px_fail(err, PX_E_INVALID, "base64 value has a character outside the base64 alphabet");
    const char *end = NULL;
    if (sodium_base642bin(out, cap, in, len, NULL, outlen, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != in + len)
        return px_fail(err, PX_E_INVALID, "invalid base64 at offset %zu", end ? (size_t)(end - in) : (size_t)0);
    /* Reject non-canonical encodings (non-zero padding bits). */
    if (*outlen > 0) {
        char tail[8];
        size_t k = (*outlen - 1) / 3 * 3;
        sodium_bin2base64(tail, sizeof tail, out + k, *outlen - k, sodium_base64_VARIANT_ORIGINAL);
        if (memcmp(tail, in + len - 4, 4) != 0)
            return px_fail(err, PX_E_INVALID, "non-canonical base64 padding");
    }
    return 0;
}

int px_b64_decode(px_buf *out, const char *in, size_t len, px_err *err) {
    size_t cap = len / 4 * 3, got = 0;
    if (px_buf_reserve(out, cap, err))
        return -1;
    if (b64_decode_into(out->data + out->len, cap, &got, in, len, err))
        return -1;
    out->len += got;
    return 0;
}

int px_b64_decode_exact(uint8_t *out, size_t n, const char *in, size_t len,
                        px_err *err) {
    if (len != px_b64_encoded_len(n))
        return px_fail(err, PX_E_INVALID, "base64 value has %zu characters, want %zu (%zu bytes)", len,
                       px_b64_encoded_len(n), n);
    uint8_t tmp[len / 4 * 3 + 1];
    size_t got = 0;
    if (b64_decode_into(tmp, sizeof tmp, &got, in, len, err))
        return -1;
    if (got != n)
        return px_fail(err, PX_E_INVALID, "base64 value decodes to %zu bytes, want %zu", got, n);
    memcpy(out, tmp, n);
    sodium_memzero(tmp, sizeof tmp);
    return 0;
}

int px_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}
