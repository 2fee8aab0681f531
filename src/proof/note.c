/* C2SP signed-note v1: a text ending in a newline, a blank line, then one or
 * more lines "— <key name> <base64(key id || signature)>". The text is
 * separated from the signatures by the last blank line of the note. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/proof.h"

#define EM_DASH "\xe2\x80\x94" /* U+2014 */
#define SIG_PREFIX EM_DASH " "
#define SIG_MAX_BYTES 8192 /* post-quantum signatures reach ~5 kB */

static int note_chars_valid(const char *msg, size_t len, px_err *err) {
    if (!px_utf8_valid((const uint8_t *)msg, len))
        return px_fail(err, PX_E_INVALID, "note is not valid UTF-8");
    for (size_t i = 0; i < len; i++)
        if ((uint8_t)msg[i] < 0x20 && msg[i] != '\n')
            return px_fail(err, PX_E_INVALID, "note contains control character 0x%02x at offset %zu",
                           (unsigned)(uint8_t)msg[i], i);
    return 0;
}

static int text_valid(const char *text, size_t len, px_err *err) {
    if (len == 0 || text[len - 1] != '\n')
        return px_fail(err, PX_E_INVALID, "note text must be non-empty and end with a newline");
    return note_chars_valid(text, len, err);
}

void px_note_free(px_note *n) {
    for (size_t i = 0; i < n->nsigs; i++)
        free(n->sigs[i].sig);
    free(n->sigs);
    free(n->text);
    memset(n, 0, sizeof *n);
}

static int push_sig(px_note *n, const char *name, size_t name_len, uint32_t id, const uint8_t *sig,
                    size_t sig_len, px_err *err) {
    if (n->nsigs >= PX_NOTE_MAX_SIGS)
        return px_fail(err, PX_E_LIMIT, "note has more than %d signatures", PX_NOTE_MAX_SIGS);
    uint8_t *copy = malloc(sig_len ? sig_len : 1);
    px_note_sig *grown = copy ? realloc(n->sigs, (n->nsigs + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(copy);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    n->sigs = grown;
    px_note_sig *s = &n->sigs[n->nsigs++];
    memset(s, 0, sizeof *s);
    memcpy(copy, sig, sig_len);
    s->sig = copy;
    s->sig_len = sig_len;
    memcpy(s->name, name, name_len);
    s->name[name_len] = 0;
    s->id = id;
    return 0;
}

/* One signature line without its newline. */
static int parse_sig_line(px_note *n, const char *line, size_t len, size_t lineno, px_err *err) {
    size_t plen = strlen(SIG_PREFIX);
    if (len < plen || memcmp(line, SIG_PREFIX, plen) != 0)
        return px_fail(err, PX_E_INVALID, "signature line %zu does not start with an em dash and a space", lineno);
    const char *name = line + plen;
    const char *sp = memchr(name, ' ', len - plen);
    if (!sp)
        return px_fail(err, PX_E_INVALID, "signature line %zu has no space after the key name", lineno);
    size_t name_len = (size_t)(sp - name);
    if (!px_key_name_valid(name, name_len))
        return px_fail(err, PX_E_INVALID, "signature line %zu has an invalid key name", lineno);
    const char *b64 = sp + 1;
    size_t b64_len = len - (size_t)(b64 - line);
    if (b64_len > px_b64_encoded_len(SIG_MAX_BYTES))
        return px_fail(err, PX_E_LIMIT, "signature line %zu holds more than %d bytes of signature", lineno,
                       SIG_MAX_BYTES);
    px_buf raw = PX_BUF_INIT;
    if (px_b64_decode(&raw, b64, b64_len, err)) {
        px_buf_free(&raw);
        return px_err_prefix(err, "signature line %zu: ", lineno);
    }
    if (raw.len < 5) {
        px_buf_free(&raw);
        return px_fail(err, PX_E_INVALID, "signature line %zu is too short to hold a key id and a signature",
                       lineno);
    }
    uint32_t id = (uint32_t)raw.data[0] << 24 | (uint32_t)raw.data[1] << 16 | (uint32_t)raw.data[2] << 8 |
                  raw.data[3];
    int rc = push_sig(n, name, name_len, id, raw.data + 4, raw.len - 4, err);
    px_buf_free(&raw);
    return rc;
}

int px_note_parse(px_note *out, const char *msg, size_t len, px_err *err) {
    if (len > PX_NOTE_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "note of %zu bytes exceeds the limit of %u", len, PX_NOTE_MAX_BYTES);
    if (note_chars_valid(msg, len, err))
        return -1;
    if (len == 0 || msg[len - 1] != '\n')
        return px_fail(err, PX_E_INVALID, "note does not end with a newline");
    /* The separating blank line is the last "\n\n" of the message. */
    size_t split = 0;
    for (size_t i = len - 1; i > 0 && !split; i--)
        if (msg[i] == '\n' && msg[i - 1] == '\n')
            split = i;
    if (!split)
        return px_fail(err, PX_E_INVALID, "note has no blank line before its signatures");
    px_note n = {0};
    n.text_len = split;
    n.text = malloc(split + 1);
    if (!n.text)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    memcpy(n.text, msg, split);
    n.text[split] = 0;
    const char *p = msg + split + 1, *end = msg + len;
    if (p == end) {
        px_note_free(&n);
        return px_fail(err, PX_E_INVALID, "note has no signature lines");
    }
    for (size_t lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (parse_sig_line(&n, p, (size_t)(nl - p), lineno, err)) {
            px_note_free(&n);
            return -1;
        }
        p = nl + 1;
    }
    *out = n;
    return 0;
}

int px_note_verify(const px_note *n, const px_verifier *vs, size_t nv, size_t *nverified, px_err *err) {
    size_t ok = 0;
    for (size_t i = 0; i < n->nsigs; i++) {
        const px_note_sig *s = &n->sigs[i];
        for (size_t k = 0; k < nv; k++) {
            if (vs[k].id != s->id || strcmp(vs[k].name, s->name) != 0)
                continue; /* not this key: ignored, as the spec requires */
            if (s->sig_len != PX_SIGN_BYTES || px_sign_verify(s->sig, n->text, n->text_len, vs[k].pk, NULL) != 0)
                return px_fail(err, PX_E_VERIFY, "signature by %s+%08x does not verify", s->name, s->id);
            ok++;
        }
    }
    if (nverified)
        *nverified = ok;
    if (ok == 0)
        return px_fail(err, PX_E_VERIFY, "note has no signature by a known key");
    return 0;
}

static int append_sig_line(px_buf *out, const char *name, uint32_t id, const uint8_t *sig, size_t sig_len,
                           px_err *err) {
    uint8_t *raw = malloc(4 + sig_len);
    if (!raw)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    raw[0] = (uint8_t)(id >> 24);
    raw[1] = (uint8_t)(id >> 16);
    raw[2] = (uint8_t)(id >> 8);
    raw[3] = (uint8_t)id;
    memcpy(raw + 4, sig, sig_len);
    int rc = px_buf_printf(out, err, SIG_PREFIX "%s ", name) || px_buf_append_b64(out, raw, 4 + sig_len, err) ||
                     px_buf_append_u8(out, '\n', err)
                 ? -1
                 : 0;
    free(raw);
    return rc;
}

int px_note_format(const px_note *n, px_buf *out, px_err *err) {
    size_t start = out->len;
    if (px_buf_append(out, n->text, n->text_len, err) || px_buf_append_u8(out, '\n', err))
        goto fail;
    for (size_t i = 0; i < n->nsigs; i++)
        if (append_sig_line(out, n->sigs[i].name, n->sigs[i].id, n->sigs[i].sig, n->sigs[i].sig_len, err))
            goto fail;
    return 0;
fail:
    out->len = start;
    return -1;
}

int px_note_add_sig(px_note *n, const px_signer *s, px_err *err) {
    uint8_t sig[PX_SIGN_BYTES];
    px_sign_detached(sig, n->text, n->text_len, &s->kp);
    for (size_t i = 0; i < n->nsigs; i++)
        if (n->sigs[i].id == s->id && !strcmp(n->sigs[i].name, s->name)) {
            uint8_t *copy = malloc(PX_SIGN_BYTES);
            if (!copy)
                return px_fail(err, PX_E_NOMEM, "out of memory");
            memcpy(copy, sig, PX_SIGN_BYTES);
            free(n->sigs[i].sig);
            n->sigs[i].sig = copy;
            n->sigs[i].sig_len = PX_SIGN_BYTES;
            return 0;
        }
    return push_sig(n, s->name, strlen(s->name), s->id, sig, PX_SIGN_BYTES, err);
}

int px_note_sign(px_buf *out, const char *text, size_t len, const px_signer *signers, size_t nsigners,
                 px_err *err) {
    if (nsigners == 0)
        return px_fail(err, PX_E_INVALID, "a note needs at least one signer");
    if (len > PX_NOTE_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "note text of %zu bytes exceeds the limit of %u", len, PX_NOTE_MAX_BYTES);
    if (text_valid(text, len, err))
        return -1;
    size_t start = out->len;
    if (px_buf_append(out, text, len, err) || px_buf_append_u8(out, '\n', err))
        goto fail;
    for (size_t i = 0; i < nsigners; i++) {
        uint8_t sig[PX_SIGN_BYTES];
        px_sign_detached(sig, text, len, &signers[i].kp);
        if (append_sig_line(out, signers[i].name, signers[i].id, sig, sizeof sig, err))
            goto fail;
    }
    return 0;
fail:
    out->len = start;
    return -1;
}
