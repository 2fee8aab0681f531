/* Base64 for public bytes: OpenSSL's block coder, not libsodium's
 * constant-time code, which runs several times slower. Envelopes carry
 * statements and evidence that everybody may read, and sealed boxes are
 * ciphertext, so nothing leaks through timing; keys and other secrets
 * keep px_b64_*. The encoder writes exactly what px_b64_encode writes.
 * The decoder takes only canonical padded standard base64, all of which
 * libsodium's standard variant takes too, to the same bytes; anything
 * else (OpenSSL's block decoder would trim spaces and ignore the bits the
 * padding drops) it leaves to the caller's strict path. */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "pixiu/core.h"

/* EVP_EncodeBlock counts in int: whole groups of three per call. */
#define CHUNK ((size_t)3 << 28)

void px_b64_encode_public(char *out, const uint8_t *in, size_t n) {
    for (; n > CHUNK; n -= CHUNK, in += CHUNK, out += CHUNK / 3 * 4)
        EVP_EncodeBlock((unsigned char *)out, in, (int)CHUNK);
    EVP_EncodeBlock((unsigned char *)out, in, (int)n); /* writes the NUL */
}

/* 0..63 for a standard base64 digit, -1 for anything else. */
static int digit(unsigned char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Only digits before the padding, at most two '=' at the very end, and
 * the bits the padding drops zero. */
static int canonical(const unsigned char *s, size_t len, int *pad) {
    *pad = len && s[len - 1] == '=' ? (len > 1 && s[len - 2] == '=' ? 2 : 1) : 0;
    size_t body = len - (size_t)*pad;
    for (size_t i = 0; i < body; i++)
        if (digit(s[i]) < 0)
            return 0;
    if (*pad == 0)
        return 1;
    int last = body ? digit(s[body - 1]) : -1;
    return last >= 0 && (*pad == 1 ? (last & 3) == 0 : (last & 15) == 0);
}

int px_b64_decode_public(px_buf *out, const char *in, size_t len) {
    const unsigned char *s = (const unsigned char *)in;
    int pad;
    if (len % 4 != 0 || len > INT_MAX || !canonical(s, len, &pad))
        return -1;
    size_t n = len / 4 * 3;
    if (px_buf_reserve(out, n + 1, NULL))
        return -1;
    int got = EVP_DecodeBlock(out->data + out->len, s, (int)len);
    if (got < 0 || (size_t)got != n)
        return -1;
    out->len += n - (size_t)pad; /* the block decoder counts padding as zero bytes */
    return 0;
}
