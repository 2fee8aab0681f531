/* Framing for the node <-> worker channel (format in step_wire.h). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "lambda/step_wire.h"

static int write_all(int fd, const uint8_t *p, size_t n, px_err *err) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return px_fail(err, PX_E_UNAVAILABLE, "the λ channel is closed (%s)", strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The payload's size: a field count, then each field's length and bytes. */
static int fields_size(const px_bytes *f, size_t n, size_t *size, px_err *err) {
    size_t total = 4;
    for (size_t i = 0; i < n; i++) {
        if (f[i].n > PX_WIRE_MAX_FRAME || total + 4 + f[i].n > PX_WIRE_MAX_FRAME)
            return px_fail(err, PX_E_LIMIT, "λ frame exceeds %u bytes", PX_WIRE_MAX_FRAME);
        total += 4 + f[i].n;
    }
    *size = total;
    return 0;
}

static void put_u32le(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Sized once, so a frame of many megabytes is one allocation, never a
 * chain of doublings that each fault in and wipe fresh pages. */
static int encode_fields(px_buf *b, const px_bytes *f, size_t n, px_err *err) {
    size_t size = 0;
    if (fields_size(f, n, &size, err) || px_buf_reserve(b, size, err) || px_buf_append_u32le(b, (uint32_t)n, err))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (px_buf_append_u32le(b, (uint32_t)f[i].n, err) || px_buf_append(b, f[i].p, f[i].n, err))
            return -1;
    return 0;
}

int px_wire_send_payload(int fd, int type, const px_buf *payload, px_err *err) {
    if (payload->len > PX_WIRE_MAX_FRAME)
        return px_fail(err, PX_E_LIMIT, "λ frame of %zu bytes exceeds %u", payload->len, PX_WIRE_MAX_FRAME);
    uint8_t h[PX_WIRE_HEADER_BYTES] = {(uint8_t)type, (uint8_t)payload->len, (uint8_t)(payload->len >> 8),
                                       (uint8_t)(payload->len >> 16), (uint8_t)(payload->len >> 24)};
    if (write_all(fd, h, sizeof h, err))
        return -1;
    return write_all(fd, payload->data, payload->len, err);
}

/* Small pieces are gathered and sent together; a field this large goes out
 * from where it is. */
#define WIRE_STAGE 16384

typedef struct wire_out {
    int fd;
    uint8_t stage[WIRE_STAGE];
    size_t n;
} wire_out;

static int out_flush(wire_out *o, px_err *err) {
    int rc = write_all(o->fd, o->stage, o->n, err);
    o->n = 0;
    return rc;
}

static int out_put(wire_out *o, const uint8_t *p, size_t n, px_err *err) {
    if (o->n + n > sizeof o->stage) {
        if (out_flush(o, err))
            return -1;
        if (n > sizeof o->stage / 4)
            return write_all(o->fd, p, n, err);
    }
    if (n)
        memcpy(o->stage + o->n, p, n);
    o->n += n;
    return 0;
}

/* The fields go out from where they are: a STEP carries every input's
 * sealed bytes (megabytes for a partition of PODs), and copying them into
 * one payload first would cost as much as sending them. The bytes on the
 * channel are those encode_fields would have made. */
int px_wire_send(int fd, int type, const px_bytes *fields, size_t n, px_err *err) {
    size_t size = 0;
    if (fields_size(fields, n, &size, err))
        return -1;
    wire_out *o = malloc(sizeof *o);
    if (!o)
        return px_fail(err, PX_E_NOMEM, "out of memory sending a λ frame");
    o->fd = fd;
    o->n = PX_WIRE_HEADER_BYTES + 4;
    o->stage[0] = (uint8_t)type;
    put_u32le(o->stage + 1, (uint32_t)size);
    put_u32le(o->stage + PX_WIRE_HEADER_BYTES, (uint32_t)n);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint8_t len[4];
        put_u32le(len, (uint32_t)fields[i].n);
        rc = out_put(o, len, sizeof len, err) || out_put(o, fields[i].p, fields[i].n, err);
    }
    if (rc == 0)
        rc = out_flush(o, err);
    sodium_memzero(o->stage, sizeof o->stage);
    free(o);
    return rc ? -1 : 0;
}

static int wait_readable(int fd, int64_t deadline, px_err *err) {
    if (deadline < 0)
        return 0;
    for (;;) {
        int64_t left = deadline - (int64_t)(px_mono_ns() / 1000000);
        if (left <= 0)
            return px_fail(err, PX_E_UNAVAILABLE, "the λ worker did not answer in time");
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return px_fail(err, PX_E_IO, "poll on the λ channel failed: %s", strerror(errno));
    }
}

static int read_all(int fd, uint8_t *p, size_t n, int64_t deadline, px_err *err) {
    while (n) {
        if (wait_readable(fd, deadline, err))
            return -1;
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return px_fail(err, PX_E_IO, "reading the λ channel failed: %s", strerror(errno));
        if (r == 0)
            return px_fail(err, PX_E_UNAVAILABLE, "the λ channel closed mid-frame or before one");
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int px_wire_recv(int fd, int timeout_ms, int *type, px_buf *payload, px_err *err) {
    int64_t deadline = timeout_ms < 0 ? -1 : (int64_t)(px_mono_ns() / 1000000) + timeout_ms;
    uint8_t h[PX_WIRE_HEADER_BYTES];
    if (read_all(fd, h, sizeof h, deadline, err))
        return -1;
    uint32_t len = px_load_u32le(h + 1);
    if (h[0] < PX_MSG_INIT || h[0] > PX_MSG_READY)
        return px_fail(err, PX_E_INVALID, "λ frame has unknown type %u", h[0]);
    if (len > PX_WIRE_MAX_FRAME)
        return px_fail(err, PX_E_LIMIT, "λ frame of %u bytes exceeds %u", len, PX_WIRE_MAX_FRAME);
    px_buf_reset(payload);
    if (px_buf_reserve(payload, len, err) || read_all(fd, payload->data, len, deadline, err))
        return -1;
    payload->len = len;
    *type = h[0];
    return 0;
}

int px_wire_split(const uint8_t *p, size_t len, px_bytes *fields, size_t max, size_t *n, px_err *err) {
    if (len < 4)
        return px_fail(err, PX_E_INVALID, "λ payload of %zu bytes has no field count", len);
    uint32_t count = px_load_u32le(p);
    if (count > max)
        return px_fail(err, PX_E_LIMIT, "λ payload has %u fields, at most %zu allowed here", count, max);
    size_t off = 4;
    for (uint32_t i = 0; i < count; i++) {
        if (len - off < 4)
            return px_fail(err, PX_E_INVALID, "λ field %u: length truncated at offset %zu", i, off);
        uint32_t flen = px_load_u32le(p + off);
        off += 4;
        if (flen > len - off)
            return px_fail(err, PX_E_INVALID, "λ field %u: %u bytes declared, %zu left at offset %zu", i, flen,
                           len - off, off);
        fields[i].p = p + off;
        fields[i].n = flen;
        off += flen;
    }
    if (off != len)
        return px_fail(err, PX_E_INVALID, "λ payload has %zu trailing bytes", len - off);
    *n = count;
    return 0;
}

int px_wire_init_encode(px_buf *out, const char *kind, const uint8_t code[PX_SHA256_BYTES], const void *config,
                        size_t config_len, const px_lambda_build *b, px_err *err) {
    size_t n = PX_WIRE_INIT_FIXED + 3 * b->build.n;
    px_bytes *f = calloc(n, sizeof *f);
    if (!f)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    f[0] = (px_bytes){(const uint8_t *)kind, strlen(kind)};
    f[1] = (px_bytes){code, PX_SHA256_BYTES};
    f[2] = (px_bytes){config, config_len};
    f[3] = (px_bytes){(const uint8_t *)b->build.version, strlen(b->build.version)};
    f[4] = (px_bytes){(const uint8_t *)b->cache_dir, strlen(b->cache_dir)};
    for (size_t i = 0; i < b->build.n; i++) {
        const px_tee_component *c = &b->build.c[i];
        f[5 + 3 * i] = (px_bytes){(const uint8_t *)c->name, strlen(c->name)};
        f[6 + 3 * i] = (px_bytes){c->sha256, PX_SHA256_BYTES};
        f[7 + 3 * i] = (px_bytes){(const uint8_t *)b->files[i].path, strlen(b->files[i].path)};
    }
    int rc = encode_fields(out, f, n, err);
    free(f);
    return rc;
}

/* A field as a C string of at most max bytes, no NUL inside. */
static int field_str(const px_bytes *f, char *out, size_t max, const char *what, px_err *err) {
    if (f->n > max || memchr(f->p, 0, f->n))
        return px_fail(err, PX_E_INVALID, "INIT %s is longer than %zu bytes or holds a NUL", what, max);
    memcpy(out, f->p, f->n);
    out[f->n] = 0;
    return 0;
}

int px_wire_init_decode(const uint8_t *p, size_t len, char kind[PX_TEE_KIND_MAX + 1], const uint8_t **code,
                        px_bytes *config, px_lambda_build *b, px_err *err) {
    px_bytes *f = calloc(PX_WIRE_INIT_MAX_FIELDS, sizeof *f);
    char *name = malloc(PX_LAMBDA_PATH_MAX), *path = malloc(PX_LAMBDA_PATH_MAX);
    size_t n = 0;
    memset(b, 0, sizeof *b);
    int rc = !f || !name || !path ? px_fail(err, PX_E_NOMEM, "out of memory")
                                  : px_wire_split(p, len, f, PX_WIRE_INIT_MAX_FIELDS, &n, err);
    if (rc == 0 && (n < PX_WIRE_INIT_FIXED + 3 || (n - PX_WIRE_INIT_FIXED) % 3 || f[0].n == 0 ||
                    f[1].n != PX_SHA256_BYTES))
        rc = px_fail(err, PX_E_INVALID, "INIT message is malformed");
    if (rc == 0)
        rc = field_str(&f[0], kind, PX_TEE_KIND_MAX, "kind", err) ||
             field_str(&f[3], b->build.version, PX_TEE_VERSION_MAX, "build version", err) ||
             field_str(&f[4], b->cache_dir, PX_LAMBDA_PATH_MAX - 1, "cache directory", err);
    for (size_t i = PX_WIRE_INIT_FIXED; rc == 0 && i < n; i += 3) {
        if (f[i + 1].n != PX_SHA256_BYTES)
            rc = px_fail(err, PX_E_INVALID, "INIT component digest is not %d bytes", PX_SHA256_BYTES);
        else
            rc = field_str(&f[i], name, PX_TEE_COMPONENT_NAME_MAX, "component name", err) ||
                 field_str(&f[i + 2], path, PX_LAMBDA_PATH_MAX - 1, "component path", err) ||
                 px_lambda_build_add(b, name, f[i + 1].p, path, err);
    }
    if (rc == 0)
        rc = px_lambda_build_seal(b, err);
    if (rc == 0) {
        *code = f[1].p;
        *config = f[2];
    } else {
        px_lambda_build_free(b);
    }
    free(f);
    free(name);
    free(path);
    return rc ? -1 : 0;
}

int px_wire_step_decode(const uint8_t *p, size_t len, px_bytes *code, px_step_input **inputs, size_t *ninputs,
                        px_err *err) {
    px_bytes *f = calloc(PX_WIRE_MAX_FIELDS, sizeof *f);
    if (!f)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    size_t n = 0;
    int rc = px_wire_split(p, len, f, PX_WIRE_MAX_FIELDS, &n, err);
    if (rc == 0 && (n < 4 || (n - 1) % 3 != 0))
        rc = px_fail(err, PX_E_INVALID, "STEP message has %zu fields, not code plus 1..%d input triples", n,
                     PX_LAMBDA_MAX_INPUTS);
    px_step_input *in = NULL;
    size_t k = rc == 0 ? (n - 1) / 3 : 0;
    if (rc == 0 && !(in = calloc(k, sizeof *in)))
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < k; i++) {
        const px_bytes *t = &f[1 + 3 * i];
        in[i] = (px_step_input){t[0].p, t[0].n, t[1].p, t[1].n, t[2].p, t[2].n};
    }
    if (rc == 0) {
        *code = f[0];
        *inputs = in;
        *ninputs = k;
    }
    free(f);
    return rc;
}

/* The same fields as px_wire_step_send, into one payload. */
static size_t step_fields(px_bytes *f, const uint8_t *code, size_t code_len, const px_step_input *inputs,
                          size_t ninputs) {
    f[0] = (px_bytes){code, code_len};
    for (size_t i = 0; i < ninputs; i++) {
        f[1 + 3 * i] = (px_bytes){inputs[i].sealed, inputs[i].sealed_len};
        f[2 + 3 * i] = (px_bytes){inputs[i].proof, inputs[i].proof_len};
        f[3 + 3 * i] = (px_bytes){inputs[i].evidence, inputs[i].evidence_len};
    }
    return 1 + 3 * ninputs;
}

int px_wire_step_encode(px_buf *out, const uint8_t *code, size_t code_len, const px_step_input *inputs,
                        size_t ninputs, px_err *err) {
    if (ninputs > PX_LAMBDA_MAX_INPUTS)
        return px_fail(err, PX_E_LIMIT, "a step takes at most %d inputs", PX_LAMBDA_MAX_INPUTS);
    px_bytes f[PX_WIRE_MAX_FIELDS];
    return encode_fields(out, f, step_fields(f, code, code_len, inputs, ninputs), err);
}

int px_wire_step_send(int fd, const uint8_t *code, size_t code_len, const px_step_input *inputs, size_t ninputs,
                      px_err *err) {
    if (ninputs > PX_LAMBDA_MAX_INPUTS)
        return px_fail(err, PX_E_LIMIT, "a step takes at most %d inputs", PX_LAMBDA_MAX_INPUTS);
    px_bytes f[PX_WIRE_MAX_FIELDS];
    return px_wire_send(fd, PX_MSG_STEP, f, step_fields(f, code, code_len, inputs, ninputs), err);
}

int px_wire_logged_encode(px_buf *out, const px_log_receipt *r, px_err *err) {
    uint8_t ix[8];
    for (int i = 0; i < 8; i++)
        ix[i] = (uint8_t)(r->index >> (8 * i));
    px_bytes f[3] = {{ix, sizeof ix}, {r->note.data, r->note.len}, {r->proof.data, r->proof.len}};
    return encode_fields(out, f, 3, err);
}

int px_wire_logged_decode(const uint8_t *p, size_t len, px_lambda_logged *out, px_err *err) {
    px_bytes f[3];
    size_t n = 0;
    if (px_wire_split(p, len, f, 3, &n, err))
        return -1;
    if (n != 3 || f[0].n != 8)
        return px_fail(err, PX_E_INVALID, "LOGGED message is not index, checkpoint, proof");
    if (f[1].n == 0 || f[1].n > PX_WIRE_CHECKPOINT_MAX)
        return px_fail(err, PX_E_INVALID, "LOGGED checkpoint of %zu bytes is outside 1..%u", f[1].n,
                       PX_WIRE_CHECKPOINT_MAX);
    if (f[2].n % PX_LOG_HASH_BYTES || f[2].n / PX_LOG_HASH_BYTES > PX_LOG_MAX_PROOF)
        return px_fail(err, PX_E_INVALID, "LOGGED proof of %zu bytes is not 0..%d hashes", f[2].n, PX_LOG_MAX_PROOF);
    uint64_t ix = 0;
    for (int i = 7; i >= 0; i--)
        ix = ix << 8 | f[0].p[i];
    *out = (px_lambda_logged){ix, (const char *)f[1].p, f[1].n, f[2].p, f[2].n / PX_LOG_HASH_BYTES};
    return 0;
}
