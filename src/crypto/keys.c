/* Named Ed25519 keys in the signed-note key formats:
 *   PRIVATE+KEY+<name>+<hex keyid>+<base64(0x01 || seed)>
 *   <name>+<hex keyid>+<base64(0x01 || pubkey)>
 * so that keys made by PIXIU work with the Go note package and its kin. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pixiu/crypto.h"

#define PRIV_PREFIX "PRIVATE+KEY+"
#define KEY_FILE_MAX 4096

static int is_unicode_space(uint32_t cp) {
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

int px_key_name_valid(const char *name, size_t len) {
    if (len == 0 || len > PX_KEY_NAME_MAX || !px_utf8_valid((const uint8_t *)name, len))
        return 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)name[i];
        if (c <= 0x20 || c == 0x7F || c == '+')
            return 0;
        if (c >= 0x80) { /* decode to reject Unicode spaces */
            uint32_t cp;
            size_t k = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
            cp = c & (k == 1 ? 0x1F : k == 2 ? 0x0F : 0x07);
            for (size_t j = 1; j <= k; j++)
                cp = cp << 6 | ((uint8_t)name[i + j] & 0x3F);
            if (is_unicode_space(cp))
                return 0;
            i += k;
        }
    }
    return 1;
}

uint32_t px_key_id(const char *name, const uint8_t pk[PX_SIGN_PUBLICKEYBYTES]) {
    static const uint8_t sep[2] = {0x0A, PX_ALG_ED25519};
    const void *parts[3] = {name, sep, pk};
    size_t lens[3] = {strlen(name), 2, PX_SIGN_PUBLICKEYBYTES};
    uint8_t h[PX_SHA256_BYTES];
    px_sha256_parts(h, 3, parts, lens);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static int set_name(char *dst, const char *name, size_t len, px_err *err) {
    if (!px_key_name_valid(name, len))
        return px_fail(err, PX_E_INVALID,
                       "invalid key name: must be 1-%d bytes of UTF-8 without spaces, control characters or '+'",
                       PX_KEY_NAME_MAX);
    memcpy(dst, name, len);
    dst[len] = 0;
    return 0;
}

int px_signer_from_seed(px_signer *s, const char *name, const uint8_t seed[PX_SIGN_SEEDBYTES], px_err *err) {
    px_signer t;
    if (set_name(t.name, name, strlen(name), err))
        return -1;
    px_sign_from_seed(&t.kp, seed);
    t.id = px_key_id(t.name, t.kp.pk);
    *s = t;
    px_memzero(&t, sizeof t);
    return 0;
}

int px_signer_generate(px_signer *s, const char *name, px_err *err) {
    uint8_t seed[PX_SIGN_SEEDBYTES];
    px_random(seed, sizeof seed);
    int rc = px_signer_from_seed(s, name, seed, err);
    px_memzero(seed, sizeof seed);
    return rc;
}

/* Strip one trailing "\n" (or "\r\n"): key files end with a newline. */
static size_t trim_eol(const char *text, size_t len) {
    if (len && text[len - 1] == '\n')
        len--;
    if (len && text[len - 1] == '\r')
        len--;
    return len;
}

/* Parse "<name>+<hex id>+<base64(0x01||key32)>" from text[0..len). */
static int parse_tail(char *name, uint32_t *id, uint8_t key[32], const char *text, size_t len,
                      const char *what, px_err *err) {
    const char *p1 = memchr(text, '+', len);
    if (!p1)
        return px_fail(err, PX_E_INVALID, "%s: missing '+' after the key name", what);
    const char *rest = p1 + 1;
    size_t rlen = len - (size_t)(rest - text);
    const char *p2 = memchr(rest, '+', rlen);
    if (!p2)
        return px_fail(err, PX_E_INVALID, "%s: missing '+' after the key id", what);
    if (set_name(name, text, (size_t)(p1 - text), err))
        return px_err_prefix(err, "%s: ", what);
    uint8_t idb[4];
    if (px_hex_decode_exact(idb, 4, rest, (size_t)(p2 - rest), err))
        return px_err_prefix(err, "%s: key id: ", what);
    *id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
    uint8_t raw[33];
    const char *b = p2 + 1;
    if (px_b64_decode_exact(raw, sizeof raw, b, len - (size_t)(b - text), err))
        return px_err_prefix(err, "%s: key: ", what);
    if (raw[0] != PX_ALG_ED25519) {
        px_memzero(raw, sizeof raw);
        return px_fail(err, PX_E_INVALID, "%s: unsupported key algorithm %u (only Ed25519, 1)", what, raw[0]);
    }
    memcpy(key, raw + 1, 32);
    px_memzero(raw, sizeof raw);
    return 0;
}

int px_signer_parse(px_signer *s, const char *text, size_t len, px_err *err) {
    len = trim_eol(text, len);
    size_t plen = strlen(PRIV_PREFIX);
    if (len < plen || memcmp(text, PRIV_PREFIX, plen) != 0)
        return px_fail(err, PX_E_INVALID, "private key: does not start with \"" PRIV_PREFIX "\"");
    px_signer t;
    uint8_t seed[32];
    if (parse_tail(t.name, &t.id, seed, text + plen, len - plen, "private key", err))
        return -1;
    px_sign_from_seed(&t.kp, seed);
    px_memzero(seed, sizeof seed);
    if (px_key_id(t.name, t.kp.pk) != t.id) {
        px_memzero(&t, sizeof t);
        return px_fail(err, PX_E_VERIFY, "private key: key id does not match the name and key");
    }
    *s = t;
    px_memzero(&t, sizeof t);
    return 0;
}

static int format_tail(px_buf *out, const char *name, uint32_t id, const uint8_t key[32], px_err *err) {
    uint8_t raw[33];
    raw[0] = PX_ALG_ED25519;
    memcpy(raw + 1, key, 32);
    int rc = px_buf_printf(out, err, "%s+%08x+", name, id) || px_buf_append_b64(out, raw, sizeof raw, err) ? -1 : 0;
    px_memzero(raw, sizeof raw);
    return rc;
}

int px_signer_format(const px_signer *s, px_buf *out, px_err *err) {
    size_t start = out->len;
    if (px_buf_append_str(out, PRIV_PREFIX, err) || format_tail(out, s->name, s->id, s->kp.sk, err)) {
        out->len = start;
        return -1;
    }
    return 0;
}

int px_signer_load(px_signer *s, const char *path, px_err *err) {
    px_buf b = PX_BUF_INIT;
    int rc = px_file_read(path, KEY_FILE_MAX, &b, err);
    if (rc == 0 && (rc = px_signer_parse(s, (const char *)b.data, b.len, err)) != 0)
        px_err_prefix(err, "%s: ", path);
    px_buf_free(&b);
    return rc;
}

void px_signer_verifier(const px_signer *s, px_verifier *v) {
    memcpy(v->name, s->name, sizeof v->name);
    v->id = s->id;
    memcpy(v->pk, s->kp.pk, sizeof v->pk);
}

void px_signer_wipe(px_signer *s) {
    px_memzero(s, sizeof *s);
}

int px_verifier_parse(px_verifier *v, const char *text, size_t len, px_err *err) {
    len = trim_eol(text, len);
    px_verifier t;
    if (parse_tail(t.name, &t.id, t.pk, text, len, "verifier key", err))
        return -1;
    if (px_key_id(t.name, t.pk) != t.id)
        return px_fail(err, PX_E_VERIFY, "verifier key: key id does not match the name and key");
    *v = t;
    return 0;
}

int px_verifier_format(const px_verifier *v, px_buf *out, px_err *err) {
    return format_tail(out, v->name, v->id, v->pk, err);
}

int px_verifier_load(px_verifier *v, const char *arg, px_err *err) {
    /* An existing file is read; anything else must be a key string. */
    struct stat st;
    if (stat(arg, &st) != 0) {
        if (!strchr(arg, '+')) /* a key string always has NAME+ID+KEY */
            return px_fail(err, PX_E_IO, "%.200s: no such file, and not a verifier key (NAME+ID+KEY)", arg);
        return px_verifier_parse(v, arg, strlen(arg), err);
    }
    px_buf b = PX_BUF_INIT;
    int rc = px_file_read(arg, KEY_FILE_MAX, &b, err);
    if (rc == 0 && (rc = px_verifier_parse(v, (const char *)b.data, b.len, err)) != 0)
        px_err_prefix(err, "%s: ", arg);
    px_buf_free(&b);
    return rc;
}
