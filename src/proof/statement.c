/* in-toto Statement v1: subjects (name + sha256 digest), a predicate type
 * and a predicate object. PIXIU requires a sha256 digest on every subject
 * because that is what its log indexes and its chain links by. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/proof.h"

#define STATEMENT_MAX_BYTES (8u << 20)
#define SUBJECTS_MAX 4096

int px_statement_build(px_buf *out, const px_subject *subjects, size_t n, const char *predicate_type,
                       const json_t *predicate, px_err *err) {
    if (n == 0)
        return px_fail(err, PX_E_INVALID, "a statement needs at least one subject");
    if (!json_is_object(predicate))
        return px_fail(err, PX_E_INVALID, "a statement predicate must be a JSON object");
    json_t *subj = json_array();
    if (!subj)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char hex[2 * PX_SHA256_BYTES + 1];
        px_hex_encode(hex, subjects[i].sha256, PX_SHA256_BYTES);
        if (json_array_append_new(subj, json_pack("{s:s, s:{s:s}}", "name", subjects[i].name ? subjects[i].name : "",
                                                  "digest", "sha256", hex))) {
            json_decref(subj);
            return px_fail(err, PX_E_NOMEM, "out of memory");
        }
    }
    json_t *st = json_pack("{s:s, s:o, s:s, s:O}", "_type", PX_INTOTO_STATEMENT_TYPE, "subject", subj,
                           "predicateType", predicate_type, "predicate", predicate);
    if (!st)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    int rc = px_json_dump(st, out, err);
    json_decref(st);
    return rc;
}

void px_statement_free(px_statement *st) {
    for (size_t i = 0; i < st->nsubjects; i++)
        free(st->subjects[i].name);
    free(st->subjects);
    free(st->predicate_type);
    json_decref(st->predicate);
    memset(st, 0, sizeof *st);
}

static int parse_subject(px_subject *s, const json_t *v, size_t i, px_err *err) {
    const char *name = "";
    const json_t *jn = json_is_object(v) ? json_object_get(v, "name") : NULL;
    if (!json_is_object(v))
        return px_fail(err, PX_E_INVALID, "statement subject %zu is not an object", i);
    if (jn && !json_is_string(jn))
        return px_fail(err, PX_E_INVALID, "statement subject %zu: \"name\" must be a string", i);
    if (jn)
        name = json_string_value(jn);
    const json_t *dig = json_object_get(v, "digest");
    if (!json_is_object(dig) || json_object_size(dig) == 0)
        return px_fail(err, PX_E_INVALID, "statement subject %zu: \"digest\" must be a non-empty object", i);
    if (!json_object_get(dig, "sha256"))
        return px_fail(err, PX_E_INVALID, "statement subject %zu has no sha256 digest", i);
    if (px_json_hex(dig, "sha256", s->sha256, PX_SHA256_BYTES, err))
        return px_err_prefix(err, "statement subject %zu: ", i);
    if (!(s->name = strdup(name)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    return 0;
}

int px_statement_parse(px_statement *out, const void *json, size_t len, px_err *err) {
    json_t *root = px_json_parse(json, len, STATEMENT_MAX_BYTES, err);
    if (!root)
        return px_err_prefix(err, "statement: ");
    px_statement st = {0};
    const char *type, *ptype;
    int rc = -1;
    if (px_json_str(root, "_type", &type, err) || px_json_str(root, "predicateType", &ptype, err)) {
        px_err_prefix(err, "statement: ");
        goto out;
    }
    if (strcmp(type, PX_INTOTO_STATEMENT_TYPE) != 0) {
        px_fail(err, PX_E_INVALID, "statement: _type is not " PX_INTOTO_STATEMENT_TYPE);
        goto out;
    }
    const json_t *subj = json_object_get(root, "subject"), *pred = json_object_get(root, "predicate");
    if (!json_is_array(subj) || json_array_size(subj) == 0) {
        px_fail(err, PX_E_INVALID, "statement: \"subject\" must be a non-empty array");
        goto out;
    }
    if (json_array_size(subj) > SUBJECTS_MAX) {
        px_fail(err, PX_E_LIMIT, "statement: more than %d subjects", SUBJECTS_MAX);
        goto out;
    }
    if (pred && !json_is_object(pred)) {
        px_fail(err, PX_E_INVALID, "statement: \"predicate\" must be an object");
        goto out;
    }
    st.subjects = calloc(json_array_size(subj), sizeof *st.subjects);
    if (!st.subjects) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(subj); i++) {
        if (parse_subject(&st.subjects[i], json_array_get(subj, i), i, err))
            goto out;
        st.nsubjects = i + 1;
    }
    st.predicate_type = strdup(ptype);
    st.predicate = pred ? json_incref((json_t *)pred) : json_object();
    if (!st.predicate_type || !st.predicate) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    *out = st;
    memset(&st, 0, sizeof st);
    rc = 0;
out:
    px_statement_free(&st);
    json_decref(root);
    return rc;
}
