/* PIXIU task SDK: what a task author includes.
 *
 * A task is a C program built with `pixiu task build task.c -o task.wasm`
 * and run by a trust-λ in the sandbox. Its whole world is standard input
 * (the stage's input) and standard output (its result); stderr is kept
 * only in small amounts. No files, network, clock or randomness unless the
 * manifest grants them. Arguments and environment are empty.
 *
 * Input, when the stage reads dataset records, is a PXR1 record stream;
 * output for a DP stage is one PXV1 vector per run: before a DP stage the
 * task runs once per user, on that user's records (docs/sdk.md, "The
 * contract with a DP stage"). Both are specified in PIXIU's
 * docs/formats.md; this header is a self-contained reader and writer for
 * them (header-only, standard C11, so the same task also builds natively
 * with gcc for testing). Every function checks its input as strictly as
 * PIXIU's own reader: a malformed stream is an error, never a guess.
 *
 *   size_t n; uint8_t *in = px_task_read_input(&n);
 *   px_task_records r;
 *   if (!in) px_task_fail("reading the input failed");
 *   if (px_task_records_open(&r, in, n)) px_task_fail(r.error);
 *   int amount = px_task_find(&r, "amount");
 *   if (amount < 0) px_task_fail("no field named amount");
 *   px_task_value v[PX_TASK_MAX_FIELDS]; uint8_t flags; int rc; double sum = 0;
 *   while ((rc = px_task_records_next(&r, v, &flags)) == 1) sum += v[amount].r;
 *   if (rc < 0) px_task_fail(r.error);
 *   px_task_write_vector(&sum, 1);
 */
#ifndef PIXIU_TASK_H
#define PIXIU_TASK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PX_TASK_SDK_VERSION 1
#define PX_TASK_MAX_FIELDS 64
#define PX_TASK_FIELD_NAME_MAX 63
#define PX_TASK_VALUE_MAX (1u << 20)
#define PX_TASK_VECTOR_MAX (1u << 20)
#define PX_TASK_NO_USER 0xFFFFFFFFu
#define PX_TASK_AUTHENTICATED 0x01u /* record flag set by the data prover */
#define PX_TASK_INPUT_CHUNK 65536

enum px_task_type {
    PX_TASK_INT = 1,  /* int64 */
    PX_TASK_REAL = 2, /* IEEE-754 binary64 */
    PX_TASK_TEXT = 3, /* UTF-8 bytes, not NUL-terminated */
    PX_TASK_BLOB = 4  /* bytes */
};

typedef struct px_task_field {
    char name[PX_TASK_FIELD_NAME_MAX + 1];
    int type;
} px_task_field;

typedef struct px_task_value {
    int type;
    int64_t i;        /* PX_TASK_INT */
    double r;         /* PX_TASK_REAL */
    const uint8_t *p; /* PX_TASK_TEXT / PX_TASK_BLOB, borrowed from input */
    uint32_t len;
} px_task_value;

typedef struct px_task_records {
    const uint8_t *data;
    size_t len, off;
    uint32_t nfields;
    px_task_field fields[PX_TASK_MAX_FIELDS];
    uint32_t user_field; /* index, or PX_TASK_NO_USER */
    uint64_t count, index;
    const char *error;   /* why the last call failed */
} px_task_records;

/* ---- input and output --------------------------------------------------- */

/* All of standard input in one malloc'd buffer (free it), or NULL. The
 * sandbox tells the input's size up front, so one allocation suffices. */
static inline uint8_t *px_task_read_input(size_t *len) {
    size_t cap = PX_TASK_INPUT_CHUNK, n = 0;
    struct stat st;
    if (fstat(0, &st) == 0 && st.st_size > 0 &&
        (uint64_t)st.st_size < SIZE_MAX - 1)
        cap = (size_t)st.st_size + 1; /* +1: EOF is seen without growing */
    uint8_t *buf = (uint8_t *)malloc(cap);
    while (buf) {
        if (n == cap) {
            uint8_t *bigger = cap * 2 > cap ? (uint8_t *)realloc(buf, cap * 2) : NULL;
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(0, buf + n, cap - n);
        if (r < 0)
            break;
        if (r == 0) {
            *len = n;
            return buf;
        }
        n += (size_t)r;
    }
    free(buf);
    return NULL;
}

/* Write raw bytes to the output. 0 or -1. */
static inline int px_task_write(const void *p, size_t n) {
    const uint8_t *b = (const uint8_t *)p;
    while (n > 0) {
        ssize_t w = write(1, b, n);
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static inline void px_task__put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Write a PXV1 vector (the input of a DP stage) as the output. 0 or -1. */
static inline int px_task_write_vector(const double *v, uint32_t n) {
    uint8_t head[8] = {'P', 'X', 'V', '1'};
    if (n > PX_TASK_VECTOR_MAX)
        return -1;
    px_task__put_u32(head + 4, n);
    if (px_task_write(head, sizeof head))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bits;
        uint8_t le[8];
        memcpy(&bits, &v[i], 8);
        for (int k = 0; k < 8; k++)
            le[k] = (uint8_t)(bits >> (8 * k));
        if (px_task_write(le, 8))
            return -1;
    }
    return 0;
}

/* Report a failure on stderr and exit with status 1 (the step fails). */
static inline void px_task_fail(const char *why) {
    fprintf(stderr, "task failed: %s\n", why ? why : "unknown error");
    exit(1);
}

/* ---- PXR1 record streams ------------------------------------------------ */

static inline int px_task__bad(px_task_records *r, const char *why) {
    r->error = why;
    return -1;
}

static inline int px_task__take(px_task_records *r, size_t n,
                                const uint8_t **p) {
    if (n > r->len - r->off)
        return px_task__bad(r, "PXR1: truncated stream");
    *p = r->data + r->off;
    r->off += n;
    return 0;
}

static inline uint32_t px_task__u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t px_task__u64(const uint8_t *p) {
    return (uint64_t)px_task__u32(p) | (uint64_t)px_task__u32(p + 4) << 32;
}

/* Well-formed UTF-8: no overlongs, no surrogates, at most U+10FFFF. */
static inline int px_task__utf8(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                 : (c & 0xf8) == 0xf0 ? 3 : 9;
        if (k == 9 || k > n - i - 1 || (k == 1 && c < 0xc2) || c > 0xf4)
            return 0;
        uint32_t cp = k ? c & (0x3f >> k) : c;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* Parse the header. 0, or -1 with r->error set. */
static inline int px_task_records_open(px_task_records *r, const uint8_t *data,
                                       size_t len) {
    const uint8_t *p;
    memset(r, 0, sizeof *r);
    r->data = data;
    r->len = data ? len : 0;
    if (px_task__take(r, 8, &p) || memcmp(p, "PXR1", 4))
        return px_task__bad(r, "PXR1: bad magic");
    r->nfields = px_task__u32(p + 4);
    if (r->nfields < 1 || r->nfields > PX_TASK_MAX_FIELDS)
        return px_task__bad(r, "PXR1: field count out of range");
    for (uint32_t i = 0; i < r->nfields; i++) {
        if (px_task__take(r, 2, &p))
            return -1;
        uint8_t type = p[0], nlen = p[1];
        if (type < PX_TASK_INT || type > PX_TASK_BLOB)
            return px_task__bad(r, "PXR1: unknown field type");
        if (nlen < 1 || nlen > PX_TASK_FIELD_NAME_MAX || px_task__take(r, nlen, &p))
            return px_task__bad(r, "PXR1: bad field name length");
        for (uint8_t k = 0; k < nlen; k++) {
            uint8_t c = p[k];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_'))
                return px_task__bad(r, "PXR1: bad character in field name");
        }
        memcpy(r->fields[i].name, p, nlen);
        r->fields[i].name[nlen] = '\0';
        r->fields[i].type = type;
        for (uint32_t k = 0; k < i; k++)
            if (!strcmp(r->fields[k].name, r->fields[i].name))
                return px_task__bad(r, "PXR1: field name appears twice");
    }
    if (px_task__take(r, 12, &p))
        return -1;
    r->user_field = px_task__u32(p);
    if (r->user_field != PX_TASK_NO_USER && r->user_field >= r->nfields)
        return px_task__bad(r, "PXR1: user field out of range");
    r->count = px_task__u64(p + 4);
    return 0;
}

/* Index of the field with this name, or -1. */
static inline int px_task_find(const px_task_records *r, const char *name) {
    for (uint32_t i = 0; i < r->nfields; i++)
        if (!strcmp(r->fields[i].name, name))
            return (int)i;
    return -1;
}

/* Next record into v[0..nfields-1]: 1, or 0 at the (checked) end, or -1
 * with r->error set. Text and blob values point into the input. */
static inline int px_task_records_next(px_task_records *r, px_task_value *v,
                                       uint8_t *flags) {
    const uint8_t *p;
    if (r->index == r->count) {
        if (r->off != r->len)
            return px_task__bad(r, "PXR1: bytes after the last record");
        return 0;
    }
    if (px_task__take(r, 1, &p))
        return -1;
    if (p[0] & ~PX_TASK_AUTHENTICATED)
        return px_task__bad(r, "PXR1: unknown record flags");
    *flags = p[0];
    for (uint32_t i = 0; i < r->nfields; i++) {
        int t = r->fields[i].type;
        v[i].type = t;
        if (t == PX_TASK_INT || t == PX_TASK_REAL) {
            if (px_task__take(r, 8, &p))
                return -1;
            uint64_t bits = px_task__u64(p);
            v[i].i = (int64_t)bits;
            memcpy(&v[i].r, &bits, 8);
            continue;
        }
        if (px_task__take(r, 4, &p))
            return -1;
        v[i].len = px_task__u32(p);
        if (v[i].len > PX_TASK_VALUE_MAX || px_task__take(r, v[i].len, &v[i].p))
            return px_task__bad(r, "PXR1: value too long or truncated");
        if (t == PX_TASK_TEXT && !px_task__utf8(v[i].p, v[i].len))
            return px_task__bad(r, "PXR1: text is not UTF-8");
    }
    r->index++;
    return 1;
}

#endif
