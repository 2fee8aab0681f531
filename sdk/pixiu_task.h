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
 * Training code for federated learning reads a model block (PXFM) before
 * the records and writes an update (PXFU) instead of a vector; it also
 * gets a seeded PRG and word hashing (docs/sdk.md, "Training code
 * (federated learning)").
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

/* ---- federated learning: model blocks, updates ------------------------- */

/* A training stage's input is a model block (PXFM) followed by the POD's
 * PXR1 record stream; its output is one update (PXFU): the new weights
 * minus the ones it was given. Both are specified in docs/formats.md.
 * Weights are little-endian IEEE-754 binary32, all finite: a NaN or an
 * infinity in a model or an update is refused rather than propagated. */
#define PX_TASK_MODEL_VERSION 1
#define PX_TASK_MODEL_HEAD 24  /* "PXFM", version, dim, round, seed */
#define PX_TASK_UPDATE_HEAD 12 /* "PXFU", version, dim */
#define PX_TASK_MODEL_DIM_MAX (1u << 24)

typedef struct px_task_model {
    uint32_t dim, round;
    uint64_t seed;           /* for the round's PRG (px_task_prg_seed) */
    const uint8_t *weights;  /* dim float32 LE, borrowed from the input */
    const uint8_t *rest;     /* what follows the block: the PXR1 stream */
    size_t rest_len;
    const char *error;       /* why the last call failed */
} px_task_model;

typedef struct px_task_update {
    uint32_t dim;
    const uint8_t *values;   /* dim float32 LE, borrowed */
    const char *error;
} px_task_update;

static inline float px_task__f32(const uint8_t *p) {
    uint32_t bits = px_task__u32(p);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* Exponent all ones: an infinity or a NaN. */
static inline int px_task__f32_finite(const uint8_t *p) {
    return (px_task__u32(p) & 0x7f800000u) != 0x7f800000u;
}

static inline int px_task__floats_ok(const uint8_t *p, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (!px_task__f32_finite(p + 4 * (size_t)i))
            return 0;
    return 1;
}

/* Split the input into the model block and what follows it (m->rest).
 * 0, or -1 with m->error set. */
static inline int px_task_model_open(px_task_model *m, const uint8_t *data,
                                     size_t len) {
    memset(m, 0, sizeof *m);
    if (!data || len < PX_TASK_MODEL_HEAD || memcmp(data, "PXFM", 4)) {
        m->error = data && len >= 4 && !memcmp(data, "PXFM", 4)
                       ? "PXFM: truncated header" : "PXFM: bad magic";
        return -1;
    }
    if (px_task__u32(data + 4) != PX_TASK_MODEL_VERSION)
        return m->error = "PXFM: unsupported version", -1;
    m->dim = px_task__u32(data + 8);
    m->round = px_task__u32(data + 12);
    m->seed = px_task__u64(data + 16);
    if (m->dim < 1 || m->dim > PX_TASK_MODEL_DIM_MAX)
        return m->error = "PXFM: dim out of range", -1;
    if ((size_t)m->dim * 4 > len - PX_TASK_MODEL_HEAD)
        return m->error = "PXFM: truncated weights", -1;
    m->weights = data + PX_TASK_MODEL_HEAD;
    if (!px_task__floats_ok(m->weights, m->dim))
        return m->error = "PXFM: a weight is not finite", -1;
    m->rest = m->weights + (size_t)m->dim * 4;
    m->rest_len = len - PX_TASK_MODEL_HEAD - (size_t)m->dim * 4;
    return 0;
}

/* A training stage's whole input: the model block, then the records, which
 * px_task_records_open checks as usual. 0, or -1 with m->error set. */
static inline int px_task_model_input(px_task_model *m, px_task_records *r,
                                      const uint8_t *data, size_t len) {
    if (px_task_model_open(m, data, len))
        return -1;
    if (px_task_records_open(r, m->rest, m->rest_len))
        return m->error = r->error, -1;
    return 0;
}

/* The weights as floats, into w[0..dim-1]. */
static inline void px_task_model_weights(const px_task_model *m, float *w) {
    for (uint32_t i = 0; i < m->dim; i++)
        w[i] = px_task__f32(m->weights + 4 * (size_t)i);
}

static inline void px_task__put_f32s(uint8_t *p, const float *v, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], 4);
        px_task__put_u32(p + 4 * (size_t)i, bits);
    }
}

static inline size_t px_task_model_size(uint32_t dim) {
    return PX_TASK_MODEL_HEAD + (size_t)dim * 4;
}

/* A model block of px_task_model_size(dim) bytes into out (for tools that
 * make models; a stage only reads them). 0, or -1 when dim is out of
 * range or a weight is not finite. */
static inline int px_task_model_encode(uint8_t *out, uint32_t dim,
                                       uint32_t round, uint64_t seed,
                                       const float *w) {
    if (dim < 1 || dim > PX_TASK_MODEL_DIM_MAX)
        return -1;
    memcpy(out, "PXFM", 4);
    px_task__put_u32(out + 4, PX_TASK_MODEL_VERSION);
    px_task__put_u32(out + 8, dim);
    px_task__put_u32(out + 12, round);
    px_task__put_u32(out + 16, (uint32_t)seed);
    px_task__put_u32(out + 20, (uint32_t)(seed >> 32));
    px_task__put_f32s(out + PX_TASK_MODEL_HEAD, w, dim);
    return px_task__floats_ok(out + PX_TASK_MODEL_HEAD, dim) ? 0 : -1;
}

/* Exactly one update, nothing after it. 0, or -1 with u->error set. */
static inline int px_task_update_open(px_task_update *u, const uint8_t *data,
                                      size_t len) {
    memset(u, 0, sizeof *u);
    if (!data || len < PX_TASK_UPDATE_HEAD || memcmp(data, "PXFU", 4)) {
        u->error = data && len >= 4 && !memcmp(data, "PXFU", 4)
                       ? "PXFU: truncated header" : "PXFU: bad magic";
        return -1;
    }
    if (px_task__u32(data + 4) != PX_TASK_MODEL_VERSION)
        return u->error = "PXFU: unsupported version", -1;
    u->dim = px_task__u32(data + 8);
    if (u->dim < 1 || u->dim > PX_TASK_MODEL_DIM_MAX)
        return u->error = "PXFU: dim out of range", -1;
    if ((size_t)u->dim * 4 > len - PX_TASK_UPDATE_HEAD)
        return u->error = "PXFU: truncated values", -1;
    if ((size_t)u->dim * 4 < len - PX_TASK_UPDATE_HEAD)
        return u->error = "PXFU: bytes after the values", -1;
    u->values = data + PX_TASK_UPDATE_HEAD;
    if (!px_task__floats_ok(u->values, u->dim))
        return u->error = "PXFU: a value is not finite", -1;
    return 0;
}

static inline void px_task_update_values(const px_task_update *u, float *d) {
    for (uint32_t i = 0; i < u->dim; i++)
        d[i] = px_task__f32(u->values + 4 * (size_t)i);
}

static inline size_t px_task_update_size(uint32_t dim) {
    return PX_TASK_UPDATE_HEAD + (size_t)dim * 4;
}

/* An update of px_task_update_size(dim) bytes into out. 0, or -1 when dim
 * is out of range or a value is not finite. */
static inline int px_task_update_encode(uint8_t *out, const float *d,
                                        uint32_t dim) {
    if (dim < 1 || dim > PX_TASK_MODEL_DIM_MAX)
        return -1;
    memcpy(out, "PXFU", 4);
    px_task__put_u32(out + 4, PX_TASK_MODEL_VERSION);
    px_task__put_u32(out + 8, dim);
    px_task__put_f32s(out + PX_TASK_UPDATE_HEAD, d, dim);
    return px_task__floats_ok(out + PX_TASK_UPDATE_HEAD, dim) ? 0 : -1;
}

/* Scale d[0..dim-1] down so that its L2 norm is at most bound (DP-FedAvg's
 * clipping). The fl-user stage refuses to send an update over the clip
 * bound its manifest states, so training code clips to it (a little under
 * it: the stage checks the update after rounding it to fixed point).
 * Returns the factor applied (1 when the update was within the bound). */
static inline double px_task_clip_l2(float *d, uint32_t dim, double bound) {
    double sq = 0;
    for (uint32_t i = 0; i < dim; i++)
        sq += (double)d[i] * d[i];
    if (sq <= bound * bound || sq == 0)
        return 1;
    /* sqrt without libm, so a task needs no -lm: Newton from above. */
    double r = sq > 1 ? sq : 1;
    for (int k = 0; k < 200; k++) {
        double next = 0.5 * (r + sq / r);
        if (next >= r)
            break;
        r = next;
    }
    double f = bound / r;
    for (uint32_t i = 0; i < dim; i++)
        d[i] = (float)(d[i] * f);
    return f;
}

/* Write the update d[0..dim-1] as the output. 0, or -1 (nothing written)
 * when dim is out of range or a value is not finite: a diverged training
 * run fails instead of sending NaNs to be summed with everyone's. */
static inline int px_task_write_update(const float *d, uint32_t dim) {
    uint8_t *out = dim >= 1 && dim <= PX_TASK_MODEL_DIM_MAX
                       ? (uint8_t *)malloc(px_task_update_size(dim)) : NULL;
    int rc = !out || px_task_update_encode(out, d, dim) ||
             px_task_write(out, px_task_update_size(dim)) ? -1 : 0;
    free(out);
    return rc;
}

/* ---- federated learning: a seeded PRG ----------------------------------- */

/* xoshiro256** (Blackman and Vigna) seeded by splitmix64 from one 64-bit
 * seed, e.g. the model block's: the same seed gives the same minibatch
 * order on every machine, so a run can be replayed and checked. Not for
 * secrets. */
typedef struct px_task_prg {
    uint64_t s[4];
} px_task_prg;

static inline uint64_t px_task_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline void px_task_prg_seed(px_task_prg *g, uint64_t seed) {
    for (int i = 0; i < 4; i++)
        g->s[i] = px_task_splitmix64(&seed);
}

static inline uint64_t px_task__rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t px_task_prg_next(px_task_prg *g) {
    uint64_t *s = g->s, out = px_task__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = px_task__rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n) without modulo bias (n >= 1; 0 gives 0). */
static inline uint32_t px_task_prg_below(px_task_prg *g, uint32_t n) {
    if (n == 0)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
    do
        x = px_task_prg_next(g);
    while (x >= limit);
    return (uint32_t)(x % n);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double px_task_prg_unit(px_task_prg *g) {
    return (double)(px_task_prg_next(g) >> 11) * (1.0 / 9007199254740992.0);
}

/* A uniformly random permutation of v[0..n-1] (Fisher-Yates). */
static inline void px_task_prg_shuffle(px_task_prg *g, uint32_t *v, uint32_t n) {
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = px_task_prg_below(g, i), t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* ---- federated learning: words as features ------------------------------ */

/* Tokens are maximal runs of ASCII letters and digits and of bytes >= 0x80
 * (so a UTF-8 word stays whole); everything else separates them. A token's
 * hash is 32-bit FNV-1a over its bytes with ASCII letters lower-cased, and
 * its feature is that hash modulo the number of buckets ("the hashing
 * trick": no vocabulary to agree on, collisions are the price). */
typedef struct px_task_tokens {
    const uint8_t *p;
    size_t len, off;
} px_task_tokens;

static inline int px_task__word_byte(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c >= 0x80;
}

static inline void px_task_tokens_init(px_task_tokens *t, const uint8_t *text,
                                       size_t len) {
    t->p = text;
    t->len = text ? len : 0;
    t->off = 0;
}

/* The next token as *w, *n (borrowed): 1, or 0 when there is none left. */
static inline int px_task_tokens_next(px_task_tokens *t, const uint8_t **w,
                                      size_t *n) {
    while (t->off < t->len && !px_task__word_byte(t->p[t->off]))
        t->off++;
    if (t->off == t->len)
        return 0;
    size_t start = t->off;
    while (t->off < t->len && px_task__word_byte(t->p[t->off]))
        t->off++;
    *w = t->p + start;
    *n = t->off - start;
    return 1;
}

static inline uint32_t px_task_hash_word(const uint8_t *w, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = w[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c - 'A' + 'a');
        h = (h ^ c) * 16777619u;
    }
    return h;
}

/* The bucket in [0, buckets) of a word (buckets >= 1). */
static inline uint32_t px_task_feature(const uint8_t *w, size_t n,
                                       uint32_t buckets) {
    return buckets ? px_task_hash_word(w, n) % buckets : 0;
}

#endif
