/* The attested stage config. Its exact bytes are hashed into the
 * measurement, so whatever this parser accepts is what the evidence vouches
 * for: it refuses unknown members rather than ignore them. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/lambda.h"

static int parse_u32(const json_t *o, const char *key, uint32_t *out, px_err *err) {
    int64_t v;
    if (px_json_int(o, key, &v, err))
        return -1;
    if (v < 0 || v > UINT32_MAX)
        return px_fail(err, PX_E_INVALID, "field \"%s\" is outside 0..%u", key, UINT32_MAX);
    *out = (uint32_t)v;
    return 0;
}

static int parse_stage(px_stage_config *c, const json_t *s, px_err *err) {
    static const char *const allowed[] = {"index", "kind", "partition", NULL};
    const char *kind;
    if (!json_is_object(s))
        return px_fail(err, PX_E_INVALID, "field \"stage\" must be an object");
    if (px_json_only(s, "stage", allowed, err) || parse_u32(s, "index", &c->index, err) ||
        px_json_str(s, "kind", &kind, err))
        return -1;
    if (!px_tee_kind_valid(kind))
        return px_fail(err, PX_E_INVALID, "stage kind is not 1..%d characters of [a-z0-9_-]", PX_TEE_KIND_MAX);
    memcpy(c->kind, kind, strlen(kind) + 1);
    c->partition = 0;
    if (json_object_get(s, "partition") && parse_u32(s, "partition", &c->partition, err))
        return -1;
    return 0;
}

static int parse_successors(px_stage_config *c, const json_t *a, px_err *err) {
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > PX_LAMBDA_MAX_SUCCESSORS)
        return px_fail(err, PX_E_INVALID, "field \"successors\" must be an array of 1..%d keys",
                       PX_LAMBDA_MAX_SUCCESSORS);
    size_t n = json_array_size(a);
    c->successors = calloc(n, sizeof *c->successors);
    if (!c->successors)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || px_hex_decode_exact(c->successors[i], PX_BOX_PUBLICKEYBYTES, s, strlen(s), err))
            return px_fail(err, PX_E_INVALID, "successor %zu is not a hex X25519 key", i);
    }
    c->nsuccessors = n;
    return 0;
}

static int parse_verifiers(px_verifier **out, size_t *nout, const json_t *o, const char *key, px_err *err) {
    const json_t *a = json_object_get(o, key);
    if (!json_is_array(a) || json_array_size(a) > PX_LAMBDA_MAX_TRUSTED)
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be an array of at most %d verifier keys", key,
                       PX_LAMBDA_MAX_TRUSTED);
    size_t n = json_array_size(a);
    if (n == 0)
        return 0;
    px_verifier *v = calloc(n, sizeof *v);
    if (!v)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(a, i);
        if (!json_is_string(e) ||
            px_verifier_parse(&v[i], json_string_value(e), json_string_length(e), err)) {
            free(v);
            return px_fail(err, PX_E_INVALID, "\"%s\" entry %zu is not a verifier key", key, i);
        }
    }
    *out = v;
    *nout = n;
    return 0;
}

static int parse_predecessors(px_stage_config *c, const json_t *p, px_err *err) {
    static const char *const allowed[] = {"platform_keys", "min_level", "pods", "one_per_node", NULL};
    int64_t level;
    if (!json_is_object(p))
        return px_fail(err, PX_E_INVALID, "field \"predecessors\" must be an object");
    if (px_json_only(p, "predecessors", allowed, err) || px_json_int(p, "min_level", &level, err))
        return -1;
    if (level < 0 || level > 255)
        return px_fail(err, PX_E_INVALID, "field \"min_level\" is outside 0..255");
    c->min_level = (int)level;
    if (parse_verifiers(&c->platform_keys, &c->nplatform_keys, p, "platform_keys", err) ||
        parse_verifiers(&c->pods, &c->npods, p, "pods", err))
        return -1;
    if (c->nplatform_keys == 0 && c->npods == 0)
        return px_fail(err, PX_E_INVALID, "\"predecessors\" trusts nobody: no input could ever be accepted");
    const json_t *one = json_object_get(p, "one_per_node");
    if (one && !json_is_true(one))
        return px_fail(err, PX_E_INVALID, "field \"one_per_node\" can only be true");
    c->one_per_node = one != NULL;
    return 0;
}

/* A POD-side instance: "at": "pod", and what only such an instance may
 * have: the inbox its delivery is sealed to, and its pad. */
static int parse_at_pod(px_stage_config *c, const json_t *o, px_err *err) {
    const json_t *at = json_object_get(o, "at"), *inbox = json_object_get(o, "inbox"),
                 *pad = json_object_get(o, "pad_ms");
    if (at && (!json_is_string(at) || strcmp(json_string_value(at), "pod")))
        return px_fail(err, PX_E_INVALID, "field \"at\" can only be \"pod\"");
    c->at_pod = at != NULL;
    if (!c->at_pod && (inbox || pad))
        return px_fail(err, PX_E_INVALID, "fields \"inbox\" and \"pad_ms\" are for a POD-side instance (\"at\": \"pod\")");
    if (inbox) {
        const char *s = json_string_value(inbox);
        if (!s || px_hex_decode_exact(c->inbox, PX_BOX_PUBLICKEYBYTES, s, strlen(s), err))
            return px_fail(err, PX_E_INVALID, "field \"inbox\" is not a hex X25519 key");
        c->has_inbox = 1;
    }
    if (pad) {
        if (!json_is_integer(pad) || json_integer_value(pad) < 0 || json_integer_value(pad) > PX_PAD_MS_MAX)
            return px_fail(err, PX_E_INVALID, "field \"pad_ms\" must be an integer in 0..%u", PX_PAD_MS_MAX);
        c->pad_ms = (uint32_t)json_integer_value(pad);
    }
    return 0;
}

/* The log whose checkpoints the instance must be shown its statements in,
 * and the deadline after which it releases nothing. */
static int parse_log(px_stage_config *c, const json_t *o, px_err *err) {
    const json_t *k = json_object_get(o, "log");
    if (!json_is_string(k) || px_verifier_parse(&c->log, json_string_value(k), json_string_length(k), err))
        return px_fail(err, PX_E_INVALID, "field \"log\" must be the log's verifier key");
    c->deadline = 0;
    if (!json_object_get(o, "deadline"))
        return 0;
    if (px_json_int(o, "deadline", &c->deadline, err))
        return -1;
    if (c->deadline <= 0)
        return px_fail(err, PX_E_INVALID, "field \"deadline\" must be a positive time in ms");
    return 0;
}

static int parse_doc(px_stage_config *c, const json_t *o, px_err *err) {
    static const char *const allowed[] = {"manifest", "stage", "successors", "predecessors", "log", "deadline",
                                          "limits", "at", "inbox", "pad_ms", "params", NULL};
    if (!json_is_object(o))
        return px_fail(err, PX_E_INVALID, "stage config must be a JSON object");
    if (px_json_only(o, "stage config", allowed, err) ||
        px_json_hex(o, "manifest", c->manifest, sizeof c->manifest, err) ||
        parse_stage(c, json_object_get(o, "stage"), err) ||
        parse_successors(c, json_object_get(o, "successors"), err) ||
        parse_predecessors(c, json_object_get(o, "predecessors"), err) || parse_log(c, o, err) ||
        px_limits_parse(&c->limits, json_object_get(o, "limits"), c->kind, err) || parse_at_pod(c, o, err))
        return -1;
    json_t *params = json_object_get(o, "params");
    if (params && !json_is_object(params))
        return px_fail(err, PX_E_INVALID, "field \"params\" must be an object");
    c->params = params ? json_incref(params) : json_object();
    if (!c->params)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    return 0;
}

int px_lambda_config_parse(px_stage_config *c, const void *json, size_t len, px_err *err) {
    json_t *o = px_json_parse(json, len, PX_STAGE_CONFIG_MAX_BYTES, err);
    if (!o)
        return px_err_prefix(err, "stage config: ");
    px_stage_config nc;
    memset(&nc, 0, sizeof nc);
    int rc = parse_doc(&nc, o, err);
    json_decref(o);
    if (rc) {
        px_lambda_config_free(&nc);
        return px_err_prefix(err, "stage config: ");
    }
    *c = nc;
    return 0;
}

void px_lambda_config_free(px_stage_config *c) {
    free(c->successors);
    free(c->platform_keys);
    free(c->pods);
    json_decref(c->params);
    memset(c, 0, sizeof *c);
}
