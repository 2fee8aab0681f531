/* Strict JSON reading for the poll module's documents. */
#include <string.h>

#include "poll/pjson.h"

int px_pj_only(const json_t *obj, const char *what, const char *const *allowed, px_err *err) {
    if (!json_is_object(obj))
        return px_fail(err, PX_E_INVALID, "%s must be a JSON object", what);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i])
            return px_fail(err, PX_E_INVALID, "%s has an unknown field \"%.64s\"", what, key);
    }
    return 0;
}

int px_pj_int(const json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out, px_err *err) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return px_fail(err, PX_E_INVALID, "missing field \"%s\"", key);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be an integer from %lld to %lld", key, (long long)min,
                       (long long)max);
    *out = json_integer_value(v);
    return 0;
}

int px_pj_arr(const json_t *obj, const char *key, size_t min, size_t max, json_t **out, px_err *err) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return px_fail(err, PX_E_INVALID, "missing field \"%s\"", key);
    if (!json_is_array(v) || json_array_size(v) < min || json_array_size(v) > max)
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be an array of %zu to %zu entries", key, min, max);
    *out = v;
    return 0;
}

int px_pj_obj(const json_t *obj, const char *key, json_t **out, px_err *err) {
    json_t *v = json_object_get(obj, key);
    if (!json_is_object(v))
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be an object", key);
    *out = v;
    return 0;
}

int px_pj_name_valid(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

int px_pj_name(const json_t *v, const char *what, char *dst, size_t cap, px_err *err) {
    const char *s = json_string_value(v);
    if (!s || json_string_length(v) != strlen(s) || !px_pj_name_valid(s, cap - 1))
        return px_fail(err, PX_E_INVALID, "%s must be 1 to %zu characters of [A-Za-z0-9._-]", what, cap - 1);
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

int px_pj_text(const json_t *v, const char *what, size_t max, char **out, px_err *err) {
    const char *s = json_string_value(v);
    size_t n = s ? json_string_length(v) : 0;
    if (!s || n == 0 || n > max || strlen(s) != n || !px_utf8_valid((const uint8_t *)s, n))
        return px_fail(err, PX_E_INVALID, "%s must be 1 to %zu bytes of text", what, max);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return px_fail(err, PX_E_INVALID, "%s contains a control character", what);
    if (!(*out = strdup(s)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    return 0;
}

int px_pj_verifier(const json_t *v, const char *what, px_verifier *out, px_err *err) {
    const char *s = json_string_value(v);
    if (!s || px_verifier_parse(out, s, json_string_length(v), err))
        return s ? px_err_prefix(err, "%s: ", what) : px_fail(err, PX_E_INVALID, "%s must be a verifier key", what);
    return 0;
}

int px_pj_party(const json_t *v, const char *what, px_poll_party *out, px_err *err) {
    static const char *const keys[] = {"id", "key", NULL};
    if (px_pj_only(v, what, keys, err) || px_pj_name(json_object_get(v, "id"), what, out->id, sizeof out->id, err) ||
        px_pj_verifier(json_object_get(v, "key"), what, &out->key, err))
        return -1;
    return 0;
}

int px_pj_hex(const json_t *obj, const char *key, uint8_t *out, size_t n, px_err *err) {
    return px_json_hex(obj, key, out, n, err);
}

int px_pj_set(json_t *obj, const char *key, json_t *v, px_err *err) {
    if (!v || json_object_set_new(obj, key, v) != 0)
        return px_fail(err, PX_E_NOMEM, "out of memory building JSON field \"%s\"", key);
    return 0;
}

int px_pj_set_hex(json_t *obj, const char *key, const uint8_t *p, size_t n, px_err *err) {
    char *h = malloc(2 * n + 1);
    if (!h)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_hex_encode(h, p, n);
    int rc = px_pj_set(obj, key, json_string(h), err);
    free(h);
    return rc;
}

int px_pj_set_b64(json_t *obj, const char *key, const uint8_t *p, size_t n, px_err *err) {
    char *b = malloc(px_b64_encoded_len(n) + 1);
    if (!b)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_b64_encode(b, p, n);
    int rc = px_pj_set(obj, key, json_string(b), err);
    free(b);
    return rc;
}
