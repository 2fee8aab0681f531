/* Small strict-JSON routines for the executor's documents. */
#include <string.h>

#include "exec/util.h"

int px_x_opt_uint(const json_t *obj, const char *key, uint64_t max, uint64_t *out, px_err *err) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be an integer from 0 to %llu", key,
                       (unsigned long long)max);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int px_x_opt_str(const json_t *obj, const char *key, const char **out, px_err *err) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be a string", key);
    *out = json_string_value(v);
    return 0;
}

int px_x_obj(const json_t *obj, const char *key, json_t **out, px_err *err) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return px_fail(err, PX_E_INVALID, "missing field \"%s\"", key);
    if (!json_is_object(v))
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be an object", key);
    *out = v;
    return 0;
}

int px_x_arr(const json_t *obj, const char *key, size_t min, size_t max, json_t **out, px_err *err) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return px_fail(err, PX_E_INVALID, "missing field \"%s\"", key);
    if (!json_is_array(v))
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be an array", key);
    size_t n = json_array_size(v);
    if (n < min || n > max)
        return px_fail(err, PX_E_INVALID, "field \"%s\" must have %zu to %zu entries, has %zu", key, min, max, n);
    *out = v;
    return 0;
}

int px_x_strcpy(const json_t *obj, const char *key, char *dst, size_t cap, px_err *err) {
    const char *s;
    if (px_json_str(obj, key, &s, err))
        return -1;
    size_t n = json_string_length(json_object_get(obj, key));
    if (n == 0 || n >= cap || strlen(s) != n)
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be 1 to %zu bytes", key, cap - 1);
    memcpy(dst, s, n + 1);
    return 0;
}

int px_x_set(json_t *obj, const char *key, json_t *v, px_err *err) {
    if (!v || json_object_set_new(obj, key, v) != 0)
        return px_fail(err, PX_E_NOMEM, "out of memory building JSON field \"%s\"", key);
    return 0;
}

int px_x_append(json_t *arr, json_t *v, px_err *err) {
    if (!v || json_array_append_new(arr, v) != 0)
        return px_fail(err, PX_E_NOMEM, "out of memory building a JSON array");
    return 0;
}

int px_x_set_hex(json_t *obj, const char *key, const uint8_t *p, size_t n, px_err *err) {
    char hex[2 * 256 + 1];
    if (n > 256)
        return px_fail(err, PX_E_INTERNAL, "hex field \"%s\" too long", key);
    px_hex_encode(hex, p, n);
    return px_x_set(obj, key, json_string(hex), err);
}

int px_x_set_b64(json_t *obj, const char *key, const uint8_t *p, size_t n, px_err *err) {
    px_buf b = PX_BUF_INIT;
    if (px_buf_append_b64(&b, p, n, err) || !px_buf_cstr(&b, err)) {
        px_buf_free(&b);
        return -1;
    }
    int rc = px_x_set(obj, key, json_stringn((const char *)b.data, b.len), err);
    px_buf_free(&b);
    return rc;
}

int px_x_set_b64_public(json_t *obj, const char *key, const uint8_t *p, size_t n, px_err *err) {
    char *s = malloc(px_b64_encoded_len(n) + 1);
    if (!s)
        return px_fail(err, PX_E_NOMEM, "out of memory encoding \"%s\"", key);
    px_b64_encode_public(s, p, n);
    int rc = px_x_set(obj, key, json_stringn(s, px_b64_encoded_len(n)), err);
    free(s);
    return rc;
}

int px_x_hex_value(const json_t *v, const char *what, uint8_t *out, size_t n, px_err *err) {
    if (!json_is_string(v))
        return px_fail(err, PX_E_INVALID, "%s must be a hex string", what);
    if (px_hex_decode_exact(out, n, json_string_value(v), json_string_length(v), err))
        return px_err_prefix(err, "%s: ", what);
    return 0;
}

void px_x_printable(char *s) {
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            *s = '?';
}
