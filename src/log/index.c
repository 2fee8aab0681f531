/* Index keys of log entries. An entry that parses as a DSSE envelope of an
 * in-toto statement is indexed by its subject digests, by the digests of
 * predicate.inputs[] and by predicate.manifest (docs/formats.md); anything
 * else is stored and proven but not indexed. Parsing failures are not
 * errors here: they only mean "no keys". */
#include <string.h>

#include "pixiu/log.h"

static int hex_key(const json_t *v, uint8_t out[PX_SHA256_BYTES]) {
    if (!json_is_string(v) || json_string_length(v) != 2 * PX_SHA256_BYTES)
        return -1;
    return px_hex_decode_exact(out, PX_SHA256_BYTES, json_string_value(v), json_string_length(v), NULL);
}

static int predicate_keys(const json_t *pred, px_log_key_fn fn, void *ctx, px_err *err) {
    uint8_t d[PX_SHA256_BYTES];
    if (hex_key(json_object_get(pred, "manifest"), d) == 0 && fn(ctx, PX_LOG_BY_MANIFEST, d, err))
        return -1;
    const json_t *inputs = json_object_get(pred, "inputs");
    if (!json_is_array(inputs))
        return 0;
    for (size_t i = 0; i < json_array_size(inputs); i++) {
        const json_t *dig = json_object_get(json_array_get(inputs, i), "digest");
        if (hex_key(json_object_get(dig, "sha256"), d) == 0 && fn(ctx, PX_LOG_BY_INPUT, d, err))
            return -1;
    }
    return 0;
}

int px_log_entry_keys(const uint8_t *entry, size_t len, px_log_key_fn fn, void *ctx, px_err *err) {
    if (len == 0 || entry[0] != '{') /* cheap test before a JSON parse */
        return 0;
    px_dsse env = {0};
    if (px_dsse_parse(&env, entry, len, NULL))
        return 0;
    int rc = 0;
    px_statement st = {0};
    if (!env.payload_type || strcmp(env.payload_type, PX_INTOTO_PAYLOAD_TYPE) != 0 ||
        px_statement_parse(&st, env.payload.data, env.payload.len, NULL))
        goto out;
    for (size_t i = 0; i < st.nsubjects && !rc; i++)
        rc = fn(ctx, PX_LOG_BY_SUBJECT, st.subjects[i].sha256, err);
    if (!rc && json_is_object(st.predicate))
        rc = predicate_keys(st.predicate, fn, ctx, err);
    px_statement_free(&st);
out:
    px_dsse_free(&env);
    return rc;
}
