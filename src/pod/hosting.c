/* Hosting stages at the POD: what a dataset's policy says about a trust-λ
 * placed on the POD's own node over its data ("at": "pod", docs/pod.md,
 * "Stages at the POD"): for which consumers, which code, within which
 * limits and pad, how many campaigns a day, and which topics the owner
 * opts out of. Everything not allowed is refused with a message naming
 * the rule. The frequency caps are counted in the ledger's transaction
 * (budget.c), so two admissions at once cannot both take the last slot. */
#include <string.h>

#include "pixiu/lambda.h"
#include "pod/db.h"
#include "pod/row.h"

#define MAX_TOPICS 256

void px_pod_hosting_free(px_pod_hosting *h) {
    for (size_t i = 0; i < h->nconsumers; i++)
        free(h->consumers[i]);
    free(h->consumers);
    free(h->code);
    for (size_t i = 0; i < h->nopt_out; i++)
        free(h->opt_out[i]);
    free(h->opt_out);
    memset(h, 0, sizeof *h);
}

static int names(char ***out, size_t *n, int *any, const json_t *a, const char *what, size_t max, px_err *err) {
    if (!json_is_array(a) || json_array_size(a) > max)
        return px_fail(err, PX_E_INVALID, "\"at_pod\".%s must be an array of at most %zu names", what, max);
    if (!(*out = calloc(json_array_size(a) + 1, sizeof **out)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        if (s && any && !strcmp(s, "*")) {
            *any = 1;
            continue;
        }
        if (!s || px_id_check(what, s, err))
            return px_fail(err, PX_E_INVALID, "\"at_pod\".%s[%zu] must be a name of [A-Za-z0-9_.-]", what, i);
        if (!((*out)[*n] = strdup(s)))
            return px_fail(err, PX_E_NOMEM, "out of memory");
        (*n)++;
    }
    return 0;
}

static int digests(px_pod_hosting *h, const json_t *a, px_err *err) {
    if (!json_is_array(a) || json_array_size(a) > PX_POLICY_MAX_ITEMS)
        return px_fail(err, PX_E_INVALID, "\"at_pod\".code must be an array of hex SHA-256 digests (the code it hosts)");
    if (!(h->code = calloc(json_array_size(a) + 1, sizeof *h->code)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        if (!s || px_hex_decode_exact(h->code[i], PX_SHA256_BYTES, s, strlen(s), NULL))
            return px_fail(err, PX_E_INVALID, "\"at_pod\".code[%zu] must be a hex SHA-256 digest", i);
        h->ncode++;
    }
    return 0;
}

static int uint_member(const json_t *o, const char *key, uint64_t max, uint64_t *out, px_err *err) {
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
        return px_fail(err, PX_E_INVALID, "\"at_pod\".%s must be an integer in 0..%llu", key, (unsigned long long)max);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int limits(px_pod_hosting *h, const json_t *l, px_err *err) {
    static const char *const keys[] = {"cpu_ms", "mem_mb", NULL};
    if (!l)
        return 0;
    if (!json_is_object(l))
        return px_fail(err, PX_E_INVALID, "\"at_pod\".limits must be an object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)l, k, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k))
            i++;
        if (!keys[i])
            return px_fail(err, PX_E_INVALID, "\"at_pod\".limits: unknown member \"%s\"", px_row_safe_name(k));
    }
    return uint_member(l, "cpu_ms", 7ull * 24 * 3600 * 1000, &h->cpu_ms, err) ||
                   uint_member(l, "mem_mb", 1u << 16, &h->mem_mb, err)
               ? -1
               : 0;
}

static int parse(px_pod_hosting *h, const json_t *o, px_err *err) {
    static const char *const keys[] = {"consumers", "code", "limits", "min_pad_ms", "per_day", "per_day_consumer",
                                       "opt_out", "topic_field", NULL};
    if (!json_is_object(o))
        return px_fail(err, PX_E_INVALID, "\"at_pod\" must be an object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k))
            i++;
        if (!keys[i])
            return px_fail(err, PX_E_INVALID, "\"at_pod\": unknown member \"%s\"", px_row_safe_name(k));
    }
    if (!json_object_get(o, "consumers") || !json_object_get(o, "code"))
        return px_fail(err, PX_E_INVALID, "\"at_pod\" needs \"consumers\" and \"code\"");
    uint64_t pad = PX_POD_MIN_PAD_MS_DEFAULT, day = 0, day_c = 0;
    if (names(&h->consumers, &h->nconsumers, &h->any_consumer, json_object_get(o, "consumers"), "consumers",
              PX_POLICY_MAX_ITEMS, err) ||
        digests(h, json_object_get(o, "code"), err) || limits(h, json_object_get(o, "limits"), err) ||
        uint_member(o, "min_pad_ms", PX_PAD_MS_MAX, &pad, err) || uint_member(o, "per_day", 1000000, &day, err) ||
        uint_member(o, "per_day_consumer", 1000000, &day_c, err))
        return -1;
    h->min_pad_ms = (uint32_t)pad;
    h->per_day = (uint32_t)day;
    h->per_day_consumer = (uint32_t)day_c;
    const json_t *oo = json_object_get(o, "opt_out"), *tf = json_object_get(o, "topic_field");
    if (oo && names(&h->opt_out, &h->nopt_out, NULL, oo, "opt_out", MAX_TOPICS, err))
        return -1;
    if (tf) {
        const char *s = json_string_value(tf);
        if (!s || px_id_check("topic_field", s, err))
            return px_fail(err, PX_E_INVALID, "\"at_pod\".topic_field must be a field name");
        snprintf(h->topic_field, sizeof h->topic_field, "%s", s);
    }
    h->present = 1;
    return 0;
}

int px_pod_hosting_parse(px_pod_hosting *h, const json_t *o, px_err *err) {
    memset(h, 0, sizeof *h);
    if (parse(h, o, err)) {
        px_pod_hosting_free(h);
        return -1;
    }
    return 0;
}

int px_pod_request_at_pod(const px_pod_request *req) {
    for (size_t i = 0; i < req->nstages; i++)
        if (req->stages[i].at_pod)
            return 1;
    return 0;
}

static int listed(char *const *v, size_t n, const char *s) {
    for (size_t i = 0; s && i < n; i++)
        if (!strcmp(v[i], s))
            return 1;
    return 0;
}

static int code_hosted(const px_pod_hosting *h, const uint8_t *d) {
    for (size_t i = 0; i < h->ncode; i++)
        if (!memcmp(h->code[i], d, PX_SHA256_BYTES))
            return 1;
    return 0;
}

/* What a stage at the POD asks of its limits. */
static int within_limits(const px_pod_hosting *h, const px_pod_request *req, size_t i, px_err *err) {
    const px_pod_stage_req *s = &req->stages[i];
    const char *kind = s->kind ? s->kind : "";
    if (!s->code_digest)
        return 0;
    if (h->cpu_ms && !s->cpu_ms)
        return px_fail(err, PX_E_DENIED, "stage %zu (%s) asks an unstated amount of CPU per run; dataset \"%s\" hosts "
                       "at most %llu ms", i, kind, req->dataset, (unsigned long long)h->cpu_ms);
    if (h->cpu_ms && s->cpu_ms > h->cpu_ms)
        return px_fail(err, PX_E_DENIED, "stage %zu (%s) asks %llu ms of CPU per run; dataset \"%s\" hosts at most "
                       "%llu", i, kind, (unsigned long long)s->cpu_ms, req->dataset, (unsigned long long)h->cpu_ms);
    if (h->mem_mb && !s->mem_mb)
        return px_fail(err, PX_E_DENIED, "stage %zu (%s) asks an unstated amount of memory per run; dataset \"%s\" "
                       "hosts at most %llu MB", i, kind, req->dataset, (unsigned long long)h->mem_mb);
    if (h->mem_mb && s->mem_mb > h->mem_mb)
        return px_fail(err, PX_E_DENIED, "stage %zu (%s) asks %llu MB of memory per run; dataset \"%s\" hosts at "
                       "most %llu", i, kind, (unsigned long long)s->mem_mb, req->dataset, (unsigned long long)h->mem_mb);
    return 0;
}

int px_pod_hosting_check(const px_pod_hosting *h, const px_pod_request *req, px_err *err) {
    for (size_t i = 0; i < req->nstages; i++) {
        const px_pod_stage_req *s = &req->stages[i];
        const char *kind = s->kind ? s->kind : "";
        if (!s->at_pod)
            continue;
        if (!h->present)
            return px_fail(err, PX_E_DENIED, "stage %zu (%s) is placed at the POD and dataset \"%s\" hosts no stage "
                           "(its policy has no \"at_pod\")", i, kind, req->dataset);
        if (!h->any_consumer && !listed(h->consumers, h->nconsumers, req->consumer))
            return px_fail(err, PX_E_DENIED, "consumer \"%s\" may not place stages at this POD (dataset \"%s\")",
                           req->consumer ? req->consumer : "", req->dataset);
        if (s->code_digest && !code_hosted(h, s->code_digest)) {
            char hex[2 * PX_SHA256_BYTES + 1];
            px_hex_encode(hex, s->code_digest, PX_SHA256_BYTES);
            return px_fail(err, PX_E_DENIED, "stage %zu (%s) code %s is not on the list of code dataset \"%s\" "
                           "hosts at the POD", i, kind, hex, req->dataset);
        }
        if (s->code_digest && s->pad_ms < h->min_pad_ms)
            return px_fail(err, PX_E_DENIED, "stage %zu (%s) pads its timing to %u ms; dataset \"%s\" needs at least "
                           "%u", i, kind, s->pad_ms, req->dataset, h->min_pad_ms);
        if (within_limits(h, req, i, err))
            return -1;
        for (size_t t = 0; t < s->ntopics; t++)
            if (listed(h->opt_out, h->nopt_out, s->topics[t]))
                return px_fail(err, PX_E_DENIED, "stage %zu (%s) targets topic \"%s\", which dataset \"%s\" opted out "
                               "of", i, kind, s->topics[t], req->dataset);
    }
    return 0;
}

/* ---- records withheld from stages at the POD --------------------------------- */

/* 1 if record values v hold an opted-out topic in field f. */
static int withheld(const px_pod_hosting *h, const px_value *v, int f) {
    if (f < 0 || v[f].type != PX_FIELD_TEXT)
        return 0;
    for (size_t i = 0; i < h->nopt_out; i++)
        if (strlen(h->opt_out[i]) == v[f].len && !memcmp(h->opt_out[i], v[f].p, v[f].len))
            return 1;
    return 0;
}

int px_pod_hosting_filter(const px_pod_hosting *h, const px_buf *in, px_buf *out, uint64_t *kept, px_err *err) {
    px_records_reader r;
    px_value v[PX_RECORDS_MAX_FIELDS];
    uint8_t flags;
    *kept = 0;
    if (px_records_open(&r, in->data, in->len, err))
        return -1;
    int f = h->topic_field[0] ? px_schema_find(&r.schema, h->topic_field) : -1;
    uint64_t n = 0;
    int rc;
    while ((rc = px_records_next(&r, v, &flags, err)) == 1)
        n += !withheld(h, v, f);
    if (rc < 0)
        return -1;
    px_schema schema = r.schema;
    if (px_records_begin(out, &schema, n, err))
        return -1;
    px_records_open(&r, in->data, in->len, NULL);
    while ((rc = px_records_next(&r, v, &flags, err)) == 1)
        if (!withheld(h, v, f) && px_records_append(out, &schema, v, flags, err))
            return -1;
    *kept = n;
    return rc < 0 ? -1 : 0;
}
