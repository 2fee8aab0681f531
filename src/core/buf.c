/* Growable byte buffers. Contents are wiped on free because buffers carry
 * plaintext records and key material as often as public bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pixiu/core.h"

int px_buf_reserve(px_buf *b, size_t extra, px_err *err) {
    if (extra > SIZE_MAX - b->len - 1)
        return px_fail(err, PX_E_LIMIT, "buffer size overflow");
    size_t need = b->len + extra + 1; /* room for px_buf_cstr's NUL */
    if (need <= b->cap)
        return 0;
    /* Twice the old size for appends, exactly what was asked for when that
     * is more: a reservation of megabytes gets that, not the next power of
     * two, whose untouched half the wipe on free would fault in. */
    size_t cap = b->cap ? (b->cap > SIZE_MAX / 2 ? need : b->cap * 2) : 64;
    if (cap < need)
        cap = need;
    uint8_t *p = malloc(cap);
    if (!p)
        return px_fail(err, PX_E_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
    if (b->data) {
        memcpy(p, b->data, b->len);
        sodium_memzero(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int px_buf_append(px_buf *b, const void *p, size_t n, px_err *err) {
    if (n == 0)
        return 0;
    if (px_buf_reserve(b, n, err))
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int px_buf_append_str(px_buf *b, const char *s, px_err *err) {
    return px_buf_append(b, s, strlen(s), err);
}

int px_buf_append_u8(px_buf *b, uint8_t v, px_err *err) {
    return px_buf_append(b, &v, 1, err);
}

int px_buf_append_u16le(px_buf *b, uint16_t v, px_err *err) {
    uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return px_buf_append(b, p, 2, err);
}

int px_buf_append_u32le(px_buf *b, uint32_t v, px_err *err) {
    uint8_t p[4];
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return px_buf_append(b, p, 4, err);
}

int px_buf_append_u64le(px_buf *b, uint64_t v, px_err *err) {
    uint8_t p[8];
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return px_buf_append(b, p, 8, err);
}

int px_buf_printf(px_buf *b, px_err *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return px_fail(err, PX_E_INTERNAL, "bad format string");
    if (px_buf_reserve(b, (size_t)n, err))
        return -1;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *px_buf_cstr(px_buf *b, px_err *err) {
    if (px_buf_reserve(b, 0, err))
        return NULL;
    b->data[b->len] = 0;
    return (char *)b->data;
}

void px_buf_reset(px_buf *b) {
    b->len = 0;
}

void px_buf_free(px_buf *b) {
    if (b->data) {
        sodium_memzero(b->data, b->cap);
        free(b->data);
    }
    b->data = NULL;
    b->len = b->cap = 0;
}
