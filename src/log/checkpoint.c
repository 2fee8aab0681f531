/* C2SP tlog-checkpoint: the note text
 *
 *   <origin>\n<decimal tree size>\n<base64 root hash>\n[<extension line>\n]...
 *
 * signed as a C2SP signed note by the log's Ed25519 key. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/log.h"

#define PX_CHECKPOINT_MAX_BYTES (64u << 10)
#define PX_U64_DIGITS 20

void px_checkpoint_free(px_checkpoint *cp) {
    free(cp->extensions);
    cp->extensions = NULL;
}

int px_checkpoint_format(const px_checkpoint *cp, px_buf *out, px_err *err) {
    size_t start = out->len;
    char root[45];
    px_b64_encode(root, cp->root, PX_LOG_HASH_BYTES);
    if (px_buf_printf(out, err, "%s\n%llu\n%s\n", cp->origin, (unsigned long long)cp->size, root) ||
        (cp->extensions && px_buf_append_str(out, cp->extensions, err))) {
        out->len = start;
        return -1;
    }
    return 0;
}

/* Next '\n'-terminated line of text[*pos..len): sets line, n; -1 if none. */
static int next_line(const char *text, size_t len, size_t *pos, const char **line, size_t *n) {
    if (*pos >= len)
        return -1;
    const char *nl = memchr(text + *pos, '\n', len - *pos);
    if (!nl)
        return -1;
    *line = text + *pos;
    *n = (size_t)(nl - *line);
    *pos += *n + 1;
    return 0;
}

static int parse_size(const char *s, size_t n, uint64_t *out, px_err *err) {
    if (n == 0 || n > PX_U64_DIGITS || (n > 1 && s[0] == '0'))
        return px_fail(err, PX_E_INVALID, "checkpoint: tree size line is not a decimal without leading zeros");
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return px_fail(err, PX_E_INVALID, "checkpoint: tree size line is not a decimal number");
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return px_fail(err, PX_E_INVALID, "checkpoint: tree size does not fit in 64 bits");
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int px_checkpoint_parse(px_checkpoint *cp, const char *text, size_t len, px_err *err) {
    if (len > PX_CHECKPOINT_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "checkpoint: larger than %u bytes", PX_CHECKPOINT_MAX_BYTES);
    if (!px_utf8_valid((const uint8_t *)text, len))
        return px_fail(err, PX_E_INVALID, "checkpoint: not valid UTF-8");
    px_checkpoint c = {0};
    size_t pos = 0, n;
    const char *line;
    if (next_line(text, len, &pos, &line, &n) || n == 0)
        return px_fail(err, PX_E_INVALID, "checkpoint: missing origin line");
    if (n > PX_LOG_ORIGIN_MAX)
        return px_fail(err, PX_E_LIMIT, "checkpoint: origin longer than %d bytes", PX_LOG_ORIGIN_MAX);
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)line[i] < 0x20)
            return px_fail(err, PX_E_INVALID, "checkpoint: control character in origin");
    memcpy(c.origin, line, n);
    c.origin[n] = '\0';
    if (next_line(text, len, &pos, &line, &n))
        return px_fail(err, PX_E_INVALID, "checkpoint: missing tree size line");
    if (parse_size(line, n, &c.size, err))
        return -1;
    if (next_line(text, len, &pos, &line, &n))
        return px_fail(err, PX_E_INVALID, "checkpoint: missing root hash line");
    if (px_b64_decode_exact(c.root, PX_LOG_HASH_BYTES, line, n, err))
        return px_fail(err, PX_E_INVALID, "checkpoint: root hash line is not base64 of %d bytes",
                       PX_LOG_HASH_BYTES);
    size_t ext_start = pos;
    while (next_line(text, len, &pos, &line, &n) == 0) {
        if (n == 0)
            return px_fail(err, PX_E_INVALID, "checkpoint: empty extension line");
        for (size_t i = 0; i < n; i++)
            if ((uint8_t)line[i] < 0x20)
                return px_fail(err, PX_E_INVALID, "checkpoint: control character in an extension line");
    }
    if (pos != len)
        return px_fail(err, PX_E_INVALID, "checkpoint: text does not end with a newline");
    if (pos > ext_start && !(c.extensions = strndup(text + ext_start, pos - ext_start)))
        return px_fail(err, PX_E_NOMEM, "checkpoint: out of memory");
    *cp = c;
    return 0;
}

int px_checkpoint_sign(const px_checkpoint *cp, const px_signer *log_key, px_buf *out, px_err *err) {
    px_buf text = PX_BUF_INIT;
    int rc = px_checkpoint_format(cp, &text, err);
    if (!rc)
        rc = px_note_sign(out, (const char *)text.data, text.len, log_key, 1, err);
    px_buf_free(&text);
    return rc;
}

int px_checkpoint_open(px_checkpoint *cp, const char *note, size_t len, const px_verifier *log_key,
                       const char *origin, px_err *err) {
    px_note n = {0};
    if (px_note_parse(&n, note, len, err))
        return px_err_prefix(err, "checkpoint: ");
    int rc = -1;
    if (px_note_verify(&n, log_key, 1, NULL, err)) {
        px_err_prefix(err, "checkpoint: ");
        goto out;
    }
    px_checkpoint c;
    if (px_checkpoint_parse(&c, n.text, n.text_len, err))
        goto out;
    if (origin && strcmp(origin, c.origin) != 0) {
        px_fail(err, PX_E_VERIFY, "checkpoint: origin '%s' is not the expected '%s'", c.origin, origin);
        px_checkpoint_free(&c);
        goto out;
    }
    *cp = c;
    rc = 0;
out:
    px_note_free(&n);
    return rc;
}
