/* PIXIU core: errors, byte buffers, encodings, strict JSON, files.
 *
 * Every PIXIU function that can fail returns 0 on success and -1 on failure
 * and fills the caller's px_err (which may be NULL) with a code and a
 * one-line message that names the cause. A function that fails leaves its
 * outputs untouched or freed: it never half-succeeds.
 *
 * Ownership: a function named *_new or *_dup returns memory the caller frees
 * with the matching *_free; a px_buf passed as an output is appended to and
 * stays owned by the caller.
 */
#ifndef PIXIU_CORE_H
#define PIXIU_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

#define PX_VERSION "0.1.0"

/* Alignment that C11 and C++11 both read. */
#ifdef __cplusplus
#define PX_ALIGNAS(n) alignas(n)
#else
#define PX_ALIGNAS(n) _Alignas(n)
#endif

/* ---- errors ------------------------------------------------------------ */

typedef enum px_code {
    PX_OK = 0,
    PX_E_INVALID,     /* malformed or out-of-range input */
    PX_E_VERIFY,      /* a signature, proof, digest or evidence check failed */
    PX_E_NOMEM,       /* allocation failed */
    PX_E_IO,          /* file, socket or database I/O failed */
    PX_E_NOTFOUND,    /* a named thing does not exist */
    PX_E_LIMIT,       /* a size, count, time or memory limit was hit */
    PX_E_DENIED,      /* refused by policy or budget */
    PX_E_STATE,       /* conflicts with stored state (e.g. fork, replay) */
    PX_E_UNAVAILABLE, /* a peer or service did not answer */
    PX_E_INTERNAL     /* a bug: an invariant did not hold */
} px_code;

#define PX_ERR_MSG_MAX 256

typedef struct px_err {
    px_code code;
    char msg[PX_ERR_MSG_MAX];
} px_err;

/* Fill err (if not NULL) and return -1, so callers can write
 * `return px_fail(err, PX_E_INVALID, "bad %s", what);` */
int px_fail(px_err *err, px_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message already in err with context ("reading x.key: ").
 * Returns -1 so it can be used in a return statement. */
int px_err_prefix(px_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Stable lower-case name of a code, e.g. "invalid", "verify". */
const char *px_code_name(px_code code);

/* ---- byte buffers ------------------------------------------------------- */

typedef struct px_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} px_buf;

#define PX_BUF_INIT {NULL, 0, 0}

int px_buf_reserve(px_buf *b, size_t extra, px_err *err);
int px_buf_append(px_buf *b, const void *p, size_t n, px_err *err);
int px_buf_append_str(px_buf *b, const char *s, px_err *err);
int px_buf_append_u8(px_buf *b, uint8_t v, px_err *err);
int px_buf_append_u16le(px_buf *b, uint16_t v, px_err *err);
int px_buf_append_u32le(px_buf *b, uint32_t v, px_err *err);
int px_buf_append_u64le(px_buf *b, uint64_t v, px_err *err);
int px_buf_printf(px_buf *b, px_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ensure a NUL after the last byte (not counted in len); return data. */
char *px_buf_cstr(px_buf *b, px_err *err);
/* Wipe the contents, then free. Safe on a zeroed buffer. */
void px_buf_free(px_buf *b);
void px_buf_reset(px_buf *b); /* len = 0, memory kept */

/* Little-endian readers for binary formats. */
static inline uint32_t px_load_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static inline uint64_t px_load_u64le(const uint8_t *p) {
    return (uint64_t)px_load_u32le(p) | (uint64_t)px_load_u32le(p + 4) << 32;
}
static inline uint16_t px_load_u16le(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

/* ---- encodings ---------------------------------------------------------- */

/* Lower-case hex. out must hold 2*n+1 bytes. */
void px_hex_encode(char *out, const uint8_t *in, size_t n);
/* Decode exactly n bytes from a 2n-character hex string. */
int px_hex_decode_exact(uint8_t *out, size_t n, const char *hex, size_t hexlen,
                        px_err *err);

/* Standard base64 with padding (RFC 4648 section 4). */
#define PX_B64_LEN(n) ((((n) + 2) / 3) * 4)
size_t px_b64_encoded_len(size_t n); /* without the NUL */
/* out must hold px_b64_encoded_len(n)+1 bytes. */
void px_b64_encode(char *out, const uint8_t *in, size_t n);
/* Strict decode: padding required, no whitespace, no trailing garbage. */
int px_b64_decode(px_buf *out, const char *in, size_t len, px_err *err);
int px_b64_decode_exact(uint8_t *out, size_t n, const char *in, size_t len,
                        px_err *err);
/* 1 if every byte is in the base64 alphabet (with '-' and '_' if urlsafe). */
int px_b64_alphabet_valid(const char *in, size_t len, int urlsafe);
/* Appends base64 text to a buffer. */
int px_buf_append_b64(px_buf *b, const uint8_t *in, size_t n, px_err *err);
/* The same base64 by table lookups, several times faster and not constant
 * time: for public bytes only (envelopes), never for keys or secrets.
 * Encode: as px_b64_encode. Decode: appends to out, but only canonical
 * padded standard base64 (-1 otherwise, or without memory, out's length
 * unchanged: then decode it the strict way). */
void px_b64_encode_public(char *out, const uint8_t *in, size_t n);
int px_b64_decode_public(px_buf *out, const char *in, size_t len);

/* 1 if the bytes are well-formed UTF-8 (no overlongs, no surrogates). */
int px_utf8_valid(const uint8_t *s, size_t n);

/* ---- strict JSON (jansson) ---------------------------------------------- */

#define PX_JSON_MAX_DEFAULT (16u << 20)

/* Parse one JSON value. Rejects duplicate keys, NUL bytes, invalid UTF-8,
 * trailing data and inputs over max bytes. Returns a new reference. */
json_t *px_json_parse(const void *data, size_t len, size_t max, px_err *err);
/* Required members: fail naming the key when missing or of the wrong type.
 * Returned strings are borrowed from obj. */
int px_json_str(const json_t *obj, const char *key, const char **out,
                px_err *err);
int px_json_int(const json_t *obj, const char *key, int64_t *out, px_err *err);
int px_json_b64(const json_t *obj, const char *key, px_buf *out, px_err *err);
/* The same for public bytes (sealed boxes, envelopes, evidence): decoded by
 * px_b64_decode_public, falling back to px_json_b64 (and its message) on
 * what that refuses. Never for keys or secrets. */
int px_json_b64_public(const json_t *obj, const char *key, px_buf *out, px_err *err);
/* A "sha256"-style lower-case hex digest of exactly n bytes. */
int px_json_hex(const json_t *obj, const char *key, uint8_t *out, size_t n,
                px_err *err);
/* A closed object: obj must be a JSON object whose members are all named in
 * keys (NULL-ended), because a misspelt constraint must never be silently
 * dropped. what names the object in the message ("stage 2: limits"), or
 * is NULL when the caller names it: `<what>: unknown field "x" (known: a,
 * b, c)`. */
int px_json_only(const json_t *obj, const char *what, const char *const *keys, px_err *err);
/* Compact serialisation with keys in insertion order. */
int px_json_dump(const json_t *v, px_buf *out, px_err *err);

/* ---- JSON with attachments (PXJB, docs/formats.md) ---------------------- */

/* A body that carries a JSON object with its bulk byte fields as raw
 * attachments instead of base64 strings, because jansson's per-character
 * string handling of multi-megabyte strings is what a node spends its
 * time on otherwise:
 *     "PXJB" | u32be njson | json | u32be nblobs | nblobs x (u32be len | bytes)
 * In the JSON a byte field sent as an attachment is {"blob": k}. */
#define PX_JB_MAGIC "PXJB"
#define PX_JB_CONTENT_TYPE "application/vnd.pixiu.jb"
#define PX_JB_JSON_MAX (1u << 20)
#define PX_JB_BLOBS_MAX 4096u

typedef struct px_jb_blob {
    const uint8_t *p;
    size_t n;
} px_jb_blob;

/* The writer. doc is owned by the writer (px_jb_free drops it); blobs are
 * borrowed views that must stay valid until px_jb_encode has run. With
 * inline_b64 set, byte fields are written as base64 strings and the
 * encoding is plain JSON: the same code serves both kinds of reader. */
typedef struct px_jb {
    json_t *doc;
    px_jb_blob *blobs;
    size_t n, cap;
    int inline_b64;
} px_jb;

/* A new writer with an empty object as doc; inline_b64 as above. */
int px_jb_init(px_jb *jb, int inline_b64, px_err *err);
void px_jb_free(px_jb *jb);
/* obj[key] = the n bytes at p: {"blob": k} (p borrowed) or base64. obj is
 * jb->doc or an object inside it. */
int px_jb_set_bytes(px_jb *jb, json_t *obj, const char *key, const void *p, size_t n, px_err *err);
/* The same appended to an array inside jb->doc. */
int px_jb_append_bytes(px_jb *jb, json_t *arr, const void *p, size_t n, px_err *err);
/* Appends the body to out: PXJB, or plain JSON when inline_b64. */
int px_jb_encode(const px_jb *jb, px_buf *out, px_err *err);

/* The reader's views of a body's attachments (into the body, which must
 * outlive them). */
typedef struct px_jb_view {
    px_jb_blob *blobs; /* owned array of views */
    size_t n;
} px_jb_view;

/* 1 if the body is PXJB (starts with the magic). */
int px_jb_is(const void *bytes, size_t len);
/* Parse a body: PXJB (its JSON at most min(max_json, PX_JB_JSON_MAX)
 * bytes and an object; every attachment referenced exactly once) or, when
 * it does not start with the magic, plain JSON of at most max_json bytes
 * (any value; view then has no attachments). *doc is a new reference;
 * on failure nothing is kept. */
int px_jb_parse(const void *bytes, size_t len, size_t max_json, json_t **doc, px_jb_view *view, px_err *err);
void px_jb_view_free(px_jb_view *view);
/* Appends the bytes of obj[key], given as {"blob": k} or as a base64
 * string (px_json_b64_public: public bytes only). */
int px_jb_bytes(const px_jb_view *view, const json_t *obj, const char *key, px_buf *out, px_err *err);
/* The same for a value v (an array element); what names it in messages. */
int px_jb_value(const px_jb_view *view, const json_t *v, const char *what, px_buf *out, px_err *err);

/* ---- ids and decimals (docs/formats.md, "Ids and decimals") -------------- */

/* An id names a node, a consumer, a POD's dataset, a task or a mechanism:
 * 1 to PX_ID_MAX bytes of [A-Za-z0-9._-], not starting with '.' or '-'. */
#define PX_ID_MAX 64
int px_id_valid(const char *s);
/* The same, failing with a message naming what ("dataset") and the rule. */
int px_id_check(const char *what, const char *s, px_err *err);

/* A decimal is how every privacy amount (epsilon, delta, rho) is written:
 * a non-negative JSON number (RFC 8259, section 6) in a JSON string, of at
 * most PX_DECIMAL_MAX characters:
 *     decimal = int [ "." 1*DIGIT ] [ ("e" / "E") [ "+" / "-" ] 1*3DIGIT ]
 *     int     = "0" / %x31-39 *DIGIT
 * so "0.5", "2", "1e-6" and "2.5E+3" are decimals; "-1", ".5", "5.", "01",
 * "0x1", "inf" and " 1" are not. The value is exact: parsing never goes
 * through a floating-point number, and each reader decides how it keeps it
 * (the budget ledger in fixed point, the DP stage as a fraction) and fails
 * rather than round where it must not. */
#define PX_DECIMAL_MAX 39
typedef struct px_decimal {
    char digits[PX_DECIMAL_MAX + 1]; /* significant digits, no leading or trailing '0'; "" is zero */
    int exp10;                       /* value = digits x 10^exp10 (0 for zero) */
} px_decimal;
int px_decimal_parse(px_decimal *out, const char *s, px_err *err);
int px_decimal_is_zero(const px_decimal *d);
int px_decimal_cmp(const px_decimal *a, const px_decimal *b); /* -1, 0, 1 by value */
/* 1 if s is a decimal (the predicate of px_decimal_parse). */
int px_decimal_valid(const char *s);

/* ---- files -------------------------------------------------------------- */

/* Read a whole file, refusing files larger than max bytes. */
int px_file_read(const char *path, size_t max, px_buf *out, px_err *err);
/* Write via a temporary file, fsync, rename, fsync of the directory: after
 * return the new contents are durable, and a crash leaves old or new. */
int px_file_write_atomic(const char *path, const void *data, size_t len,
                         unsigned mode, px_err *err);

/* Where a file PIXIU installs is, found from the running executable (or
 * from libpixiu.so, for a program that links it) so that an installed tree
 * can be moved: next to it (a build tree), else where `cmake --install`
 * puts kind ("libexec": pixiu_worker and the sandbox runner in
 * PREFIX/libexec/pixiu; "share": PREFIX/share/pixiu, e.g. "sdk"). out
 * holds cap bytes; PX_E_NOTFOUND naming where it looked. */
int px_file_installed(const char *kind, const char *name, char *out, size_t cap, px_err *err);

/* Milliseconds since the Unix epoch (wall clock). */
int64_t px_now_ms(void);
/* Monotonic nanoseconds, for measuring durations. */
uint64_t px_mono_ns(void);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
