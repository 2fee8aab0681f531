/* Dataset schemas: the typed columns a POD owner declares for a dataset,
 * mapped onto the record layout of records.h, plus an optional unique key.
 * Names starting with "px_" are reserved for provenance columns. */
#include <string.h>

#include "pixiu/pod.h"

#define SCHEMA_JSON_MAX (64u << 10)

static const char *const type_names[] = {NULL, "int", "real", "text", "blob"};

static int type_parse(const char *s, px_field_type *t) {
    for (int i = PX_FIELD_INT; i <= PX_FIELD_BLOB; i++)
        if (!strcmp(s, type_names[i])) {
            *t = (px_field_type)i;
            return 0;
        }
    return -1;
}

static int parse_field(px_field *f, const json_t *v, size_t i, px_err *err) {
    const char *name, *type;
    if (!json_is_object(v) || json_object_size(v) != 2)
        return px_fail(err, PX_E_INVALID, "schema field %zu: expected {\"name\": ..., \"type\": ...}", i);
    if (px_json_str(v, "name", &name, err) || px_json_str(v, "type", &type, err))
        return px_err_prefix(err, "schema field %zu: ", i);
    size_t n = strlen(name);
    if (n == 0 || n > PX_FIELD_NAME_MAX || strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                       "0123456789_") != n)
        return px_fail(err, PX_E_INVALID, "schema field %zu: name must be 1-%d characters of [A-Za-z0-9_]", i,
                       PX_FIELD_NAME_MAX);
    if (!strncmp(name, "px_", 3))
        return px_fail(err, PX_E_INVALID, "schema field \"%s\": names starting with px_ are reserved", name);
    if (type_parse(type, &f->type))
        return px_fail(err, PX_E_INVALID, "schema field \"%s\": unknown type \"%s\" (int, real, text, blob)", name,
                       type);
    memcpy(f->name, name, n + 1);
    return 0;
}

static int find_named(const px_schema *s, const json_t *root, const char *key, int *idx, px_err *err) {
    *idx = -1;
    json_t *v = json_object_get(root, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return px_fail(err, PX_E_INVALID, "schema: \"%s\" must name a field", key);
    *idx = px_schema_find(s, json_string_value(v));
    if (*idx < 0)
        return px_fail(err, PX_E_INVALID, "schema: \"%s\" names no field (\"%s\")", key, json_string_value(v));
    return 0;
}

static int parse_root(px_pod_schema *out, const json_t *root, px_err *err) {
    static const char *const keys[] = {"fields", "user", "key", NULL};
    json_t *v;
    if (px_json_only(root, "schema", keys, err))
        return -1;
    json_t *fields = json_object_get(root, "fields");
    if (!json_is_array(fields) || json_array_size(fields) == 0)
        return px_fail(err, PX_E_INVALID, "schema: \"fields\" must be a non-empty array");
    /* two columns are added for provenance when exporting */
    if (json_array_size(fields) > PX_RECORDS_MAX_FIELDS - 2)
        return px_fail(err, PX_E_LIMIT, "schema: at most %d fields", PX_RECORDS_MAX_FIELDS - 2);
    px_pod_schema s;
    memset(&s, 0, sizeof s);
    size_t i;
    json_array_foreach(fields, i, v) {
        if (parse_field(&s.rec.fields[i], v, i, err))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s.rec.fields[j].name, s.rec.fields[i].name))
                return px_fail(err, PX_E_INVALID, "schema: duplicate field \"%s\"", s.rec.fields[i].name);
        s.rec.nfields = (uint32_t)(i + 1);
    }
    int user, key;
    if (find_named(&s.rec, root, "user", &user, err) || find_named(&s.rec, root, "key", &key, err))
        return -1;
    s.rec.user_field = user < 0 ? PX_NO_USER_FIELD : (uint32_t)user;
    s.key_field = key;
    if (px_schema_valid(&s.rec, err))
        return px_err_prefix(err, "schema: ");
    *out = s;
    return 0;
}

int px_pod_schema_parse(px_pod_schema *out, const void *json, size_t len, px_err *err) {
    json_t *root = px_json_parse(json, len, SCHEMA_JSON_MAX, err);
    if (!root)
        return px_err_prefix(err, "schema: ");
    int rc = json_is_object(root) ? parse_root(out, root, err)
                                  : px_fail(err, PX_E_INVALID, "schema: expected a JSON object");
    json_decref(root);
    return rc;
}

int px_pod_schema_format(const px_pod_schema *s, px_buf *out, px_err *err) {
    json_t *root = json_object(), *fields = json_array();
    int rc = -1;
    if (!root || !fields)
        goto done;
    for (uint32_t i = 0; i < s->rec.nfields; i++) {
        json_t *f = json_pack("{s:s,s:s}", "name", s->rec.fields[i].name, "type", type_names[s->rec.fields[i].type]);
        if (!f || json_array_append_new(fields, f))
            goto done;
    }
    if (json_object_set(root, "fields", fields))
        goto done;
    if (s->rec.user_field != PX_NO_USER_FIELD &&
        json_object_set_new(root, "user", json_string(s->rec.fields[s->rec.user_field].name)))
        goto done;
    if (s->key_field >= 0 && json_object_set_new(root, "key", json_string(s->rec.fields[s->key_field].name)))
        goto done;
    json_decref(fields);
    fields = NULL;
    rc = px_json_dump(root, out, err);
    json_decref(root);
    return rc;
done:
    px_fail(err, PX_E_NOMEM, "could not build the schema JSON");
    json_decref(fields);
    json_decref(root);
    return rc;
}
