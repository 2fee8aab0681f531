/* Strict JSON on top of jansson: every document PIXIU reads comes from
 * someone it does not trust, so duplicates, NULs, bad UTF-8 and oversize
 * inputs are refused before any field is looked at. */
#include <string.h>

#include "pixiu/core.h"

json_t *px_json_parse(const void *data, size_t len, size_t max, px_err *err) {
    if (len > max) {
        px_fail(err, PX_E_LIMIT, "JSON document of %zu bytes exceeds the limit of %zu", len, max);
        return NULL;
    }
    if (len == 0) {
        px_fail(err, PX_E_INVALID, "empty JSON document");
        return NULL;
    }
    if (memchr(data, 0, len)) {
        px_fail(err, PX_E_INVALID, "JSON document contains a NUL byte");
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        px_fail(err, PX_E_INVALID, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    return v;
}

static json_t *member(const json_t *obj, const char *key, px_err *err) {
    if (!json_is_object(obj)) {
        px_fail(err, PX_E_INVALID, "expected a JSON object holding \"%s\"", key);
        return NULL;
    }
    json_t *v = json_object_get(obj, key);
    if (!v)
        px_fail(err, PX_E_INVALID, "missing field \"%s\"", key);
    return v;
}

int px_json_str(const json_t *obj, const char *key, const char **out, px_err *err) {
    json_t *v = member(obj, key, err);
    if (!v)
        return -1;
    if (!json_is_string(v))
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be a string", key);
    *out = json_string_value(v);
    return 0;
}

int px_json_int(const json_t *obj, const char *key, int64_t *out, px_err *err) {
    json_t *v = member(obj, key, err);
    if (!v)
        return -1;
    if (!json_is_integer(v))
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be an integer", key);
    *out = (int64_t)json_integer_value(v);
    return 0;
}

int px_json_b64(const json_t *obj, const char *key, px_buf *out, px_err *err) {
    const char *s;
    if (px_json_str(obj, key, &s, err))
        return -1;
    if (px_b64_decode(out, s, json_string_length(json_object_get(obj, key)), err))
        return px_err_prefix(err, "field \"%s\": ", key);
    return 0;
}

int px_json_b64_public(const json_t *obj, const char *key, px_buf *out, px_err *err) {
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v)) {
        size_t had = out->len;
        if (px_b64_decode_public(out, json_string_value(v), json_string_length(v)) == 0)
            return 0;
        out->len = had;
    }
    return px_json_b64(obj, key, out, err);
}

int px_json_hex(const json_t *obj, const char *key, uint8_t *out, size_t n, px_err *err) {
    const char *s;
    if (px_json_str(obj, key, &s, err))
        return -1;
    if (px_hex_decode_exact(out, n, s, strlen(s), err))
        return px_err_prefix(err, "field \"%s\": ", key);
    return 0;
}

int px_json_only(const json_t *obj, const char *what, const char *const *keys, px_err *err) {
    const char *sep = what && *what ? ": " : "";
    what = what ? what : "";
    if (!json_is_object(obj))
        return px_fail(err, PX_E_INVALID, "%s%sexpected a JSON object", what, sep);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], key) != 0)
            i++;
        if (keys[i])
            continue;
        char known[160] = "";
        size_t at = 0;
        for (i = 0; keys[i] && at < sizeof known; i++) {
            int w = snprintf(known + at, sizeof known - at, "%s%s", i ? ", " : "", keys[i]);
            at += w > 0 ? (size_t)w : 0;
        }
        if (at >= sizeof known)
            memcpy(known + sizeof known - 4, "...", 4);
        char shown[48];
        snprintf(shown, sizeof shown, "%s", key);
        for (char *p = shown; *p; p++)
            if ((unsigned char)*p < ' ' || *p == '"' || (unsigned char)*p > '~')
                *p = '?';
        return px_fail(err, PX_E_INVALID, "%s%sunknown field \"%s\" (known: %s)", what, sep, shown, known);
    }
    return 0;
}

int px_json_dump(const json_t *v, px_buf *out, px_err *err) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (!s)
        return px_fail(err, PX_E_NOMEM, "could not serialise JSON");
    int rc = px_buf_append_str(out, s, err);
    free(s);
    return rc;
}
