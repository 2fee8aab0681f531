/* The task manifest: a consumer's signed statement of what a task reads,
 * which stages run in which order under which limits, and who may receive
 * the result. Parsed strictly: an unknown field is an error, because a
 * misspelt limit silently ignored is a limit not enforced. */
#include <string.h>

#include "exec/util.h"

#define PX_MANIFEST_MAX_LEVEL 16
#define PX_MANIFEST_MAX_PARTITIONS 64

static const char *const kind_names[] = {NULL, "prover", "wasm", "dp", "aggregate", "pir", "gather",
                                         "fl-user", "fl-agg"};

const char *px_manifest_kind_name(px_stage_type k) {
    if (k < PX_STAGE_PROVER || k > PX_STAGE_FL_AGG)
        return "unknown";
    return kind_names[k];
}

int px_manifest_kind_parse(const char *s, px_stage_type *out) {
    for (int k = PX_STAGE_PROVER; k <= PX_STAGE_FL_AGG; k++)
        if (!strcmp(s, kind_names[k])) {
            *out = (px_stage_type)k;
            return 0;
        }
    return -1;
}

/* Kinds whose instance is sent code sealed to it: the task module, or for
 * the round's aggregator the model it starts from (docs/fl.md). */
int px_manifest_takes_code(px_stage_type k) {
    return k == PX_STAGE_WASM || k == PX_STAGE_FL_USER || k == PX_STAGE_FL_AGG;
}

/* Kinds that spend privacy budget: their "dp" member is what PODs charge. */
int px_manifest_spends(px_stage_type k) {
    return k == PX_STAGE_DP || k == PX_STAGE_FL_AGG;
}

/* ---- datasets ----------------------------------------------------------- */

static int parse_field_type(const char *s, px_field_type *t) {
    static const struct { const char *name; px_field_type t; } types[] = {
        {"int", PX_FIELD_INT}, {"real", PX_FIELD_REAL}, {"text", PX_FIELD_TEXT}, {"blob", PX_FIELD_BLOB}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(s, types[i].name)) {
            *t = types[i].t;
            return 0;
        }
    return -1;
}

static int parse_schema(px_schema *s, const json_t *o, px_err *err) {
    static const char *const keys[] = {"fields", "user", NULL};
    static const char *const fkeys[] = {"name", "type", NULL};
    json_t *fields;
    if (px_json_only(o, "schema", keys, err) || px_x_arr(o, "fields", 1, PX_RECORDS_MAX_FIELDS, &fields, err))
        return -1;
    memset(s, 0, sizeof *s);
    s->user_field = PX_NO_USER_FIELD;
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        const char *type;
        if (px_json_only(f, "schema field", fkeys, err) ||
            px_x_strcpy(f, "name", s->fields[i].name, sizeof s->fields[i].name, err) ||
            px_json_str(f, "type", &type, err))
            return px_err_prefix(err, "field %zu: ", i);
        if (parse_field_type(type, &s->fields[i].type))
            return px_fail(err, PX_E_INVALID, "field %zu: type \"%.32s\" is not int, real, text or blob", i, type);
    }
    s->nfields = (uint32_t)json_array_size(fields);
    const char *user = NULL;
    if (px_x_opt_str(o, "user", &user, err))
        return -1;
    if (user) {
        int k = px_schema_find(s, user);
        if (k < 0)
            return px_fail(err, PX_E_INVALID, "user field \"%.64s\" is not a field of the schema", user);
        s->user_field = (uint32_t)k;
    }
    return px_schema_valid(s, err);
}

static int pod_cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* No POD twice in a dataset; sorted, so thousands of PODs stay cheap. */
static int pods_unique(const px_dataset_spec *d, px_err *err) {
    const char **v = malloc((d->npods + 1) * sizeof *v);
    if (!v)
        return px_fail(err, PX_E_NOMEM, "out of memory reading the pods of \"%s\"", d->name);
    for (size_t i = 0; i < d->npods; i++)
        v[i] = d->pods[i];
    qsort(v, d->npods, sizeof *v, pod_cmp);
    int rc = 0;
    for (size_t i = 1; i < d->npods && rc == 0; i++)
        if (!strcmp(v[i - 1], v[i]))
            rc = px_fail(err, PX_E_INVALID, "dataset \"%s\": pod \"%s\" is listed twice", d->name, v[i]);
    free(v);
    return rc;
}

static int parse_dataset(px_dataset_spec *d, const json_t *o, px_err *err) {
    static const char *const keys[] = {"name", "schema", "pods", NULL};
    json_t *schema, *pods;
    if (px_json_only(o, "dataset", keys, err) || px_x_strcpy(o, "name", d->name, sizeof d->name, err))
        return -1;
    if (!px_id_valid(d->name))
        return px_fail(err, PX_E_INVALID, "dataset name \"%s\" must be [A-Za-z0-9._-]", d->name);
    if (px_x_obj(o, "schema", &schema, err) || parse_schema(&d->schema, schema, err))
        return px_err_prefix(err, "dataset \"%s\": ", d->name);
    if (px_x_arr(o, "pods", 1, PX_MANIFEST_MAX_PODS, &pods, err))
        return px_err_prefix(err, "dataset \"%s\": ", d->name);
    d->pods = calloc(json_array_size(pods), sizeof *d->pods);
    if (!d->pods)
        return px_fail(err, PX_E_NOMEM, "out of memory reading the pods of \"%s\"", d->name);
    size_t i;
    json_t *p;
    json_array_foreach(pods, i, p) {
        if (!json_is_string(p) || !px_id_valid(json_string_value(p)))
            return px_fail(err, PX_E_INVALID, "dataset \"%s\": pod %zu is not a valid node id", d->name, i);
        strcpy(d->pods[i], json_string_value(p));
        d->npods = i + 1;
    }
    return pods_unique(d, err);
}

/* ---- stages ------------------------------------------------------------- */

/* The one limits concept (docs/manifest.md, "Limits"): what the task may
 * use is the stage's "limits", never a param, so a limit cannot hide in
 * the params where no reader of the manifest looks for it. */
static int parse_limits(px_stage_spec *s, const json_t *o, px_err *err) {
    const json_t *params = json_object_get(o, "params");
    const char *key;
    json_t *v;
    if (json_is_object(params))
        json_object_foreach((json_t *)params, key, v) {
            if (px_limits_name(key))
                return px_fail(err, PX_E_INVALID,
                               "params: %s is a limit: it goes in the stage's \"limits\" (docs/manifest.md, \"Limits\")",
                               key);
        }
    return px_limits_parse(&s->limits, json_object_get(o, "limits"), px_manifest_kind_name(s->kind), err);
}

static int parse_dp(px_stage_spec *s, const json_t *o, px_err *err) {
    static const char *const keys[] = {"mechanism", "epsilon", "delta", NULL};
    json_t *dp = json_object_get(o, "dp");
    if (!px_manifest_spends(s->kind)) {
        if (dp)
            return px_fail(err, PX_E_INVALID, "field \"dp\" is only allowed on a dp or fl-agg stage");
        return 0;
    }
    if (!dp)
        return px_fail(err, PX_E_INVALID, "a %s stage needs a \"dp\" object", px_manifest_kind_name(s->kind));
    if (px_json_only(dp, "dp", keys, err) ||
        px_x_strcpy(dp, "mechanism", s->mechanism, sizeof s->mechanism, err) ||
        px_x_strcpy(dp, "epsilon", s->epsilon, sizeof s->epsilon, err) ||
        px_x_strcpy(dp, "delta", s->delta, sizeof s->delta, err))
        return -1;
    px_decimal e, d, one = {"1", 0};
    if (px_id_check("dp: mechanism", s->mechanism, err))
        return -1;
    if (px_decimal_parse(&e, s->epsilon, err))
        return px_err_prefix(err, "dp: epsilon: ");
    if (px_decimal_is_zero(&e))
        return px_fail(err, PX_E_INVALID, "dp: epsilon must be greater than 0");
    if (px_decimal_parse(&d, s->delta, err))
        return px_err_prefix(err, "dp: delta: ");
    if (px_decimal_cmp(&d, &one) >= 0)
        return px_fail(err, PX_E_INVALID, "dp: delta \"%s\" must be below 1", s->delta);
    return 0;
}

/* v is a decimal string of the same value as text. */
static int decimal_equal(const json_t *v, const char *text) {
    px_decimal a, b;
    return v && json_is_string(v) && !px_decimal_parse(&a, json_string_value(v), NULL) &&
           !px_decimal_parse(&b, text, NULL) && px_decimal_cmp(&a, &b) == 0;
}

/* The DP stage spends what its params say; a POD charges what the manifest's
 * "dp" says. They must be the same numbers, or a POD would undercharge. */
static int dp_params_agree(const px_stage_spec *s, const json_t *params, px_err *err) {
    if (!px_manifest_spends(s->kind))
        return 0;
    const json_t *e = params ? json_object_get(params, "epsilon") : NULL;
    const json_t *d = params ? json_object_get(params, "delta") : NULL;
    if (params && json_object_get(params, "rho"))
        return px_fail(err, PX_E_INVALID, "dp params with \"rho\" cannot be budgeted: give epsilon and delta");
    if (!decimal_equal(e, s->epsilon))
        return px_fail(err, PX_E_INVALID, "params: epsilon must be the decimal \"%s\" of the stage's \"dp\"",
                       s->epsilon);
    px_decimal sd;
    if (d ? !decimal_equal(d, s->delta) : px_decimal_parse(&sd, s->delta, NULL) || !px_decimal_is_zero(&sd))
        return px_fail(err, PX_E_INVALID, "params: delta must be the decimal \"%s\" of the stage's \"dp\"",
                       s->delta);
    return 0;
}

/* What only a stage at a POD has: its pad and the topics it targets (which
 * a POD's policy may have opted out of). */
static int parse_at_pod(px_stage_spec *s, const json_t *o, px_err *err) {
    json_t *pad = json_object_get(o, "pad_ms"), *topics = json_object_get(o, "topics");
    if (!s->at_pod) {
        if (pad || topics)
            return px_fail(err, PX_E_INVALID, "fields \"pad_ms\" and \"topics\" are for a stage \"at\": \"pod\"");
        return 0;
    }
    uint64_t p = s->kind == PX_STAGE_WASM || s->kind == PX_STAGE_FL_USER ? PX_POD_PAD_MS_DEFAULT : 0;
    if (px_x_opt_uint(o, "pad_ms", PX_PAD_MS_MAX, &p, err))
        return -1;
    s->pad_ms = (uint32_t)p;
    if (!topics)
        return 0;
    if (!json_is_array(topics) || json_array_size(topics) > PX_MANIFEST_MAX_TOPICS)
        return px_fail(err, PX_E_INVALID, "field \"topics\" must be an array of at most %d names",
                       PX_MANIFEST_MAX_TOPICS);
    if (!(s->topics = calloc(json_array_size(topics) + 1, sizeof *s->topics)))
        return px_fail(err, PX_E_NOMEM, "out of memory reading topics");
    size_t i;
    json_t *t;
    json_array_foreach(topics, i, t) {
        const char *v = json_string_value(t);
        char what[32];
        snprintf(what, sizeof what, "topic %zu", i);
        if (px_id_check(what, v, err)) /* the one id grammar */
            return -1;
        if (strlen(v) > PX_NAME_MAX)
            return px_fail(err, PX_E_INVALID, "topic %zu is longer than %d characters", i, PX_NAME_MAX);
        strcpy(s->topics[i], v);
        s->ntopics = i + 1;
    }
    return 0;
}

static int parse_stage(px_stage_spec *s, const json_t *o, px_err *err) {
    static const char *const keys[] = {"kind", "code", "min_level", "partitions", "at", "pad_ms", "topics",
                                       "limits", "dp", "params", NULL};
    const char *kind, *at = NULL;
    if (px_json_only(o, "stage", keys, err) || px_json_str(o, "kind", &kind, err))
        return -1;
    if (px_manifest_kind_parse(kind, &s->kind))
        return px_fail(err, PX_E_INVALID, "unknown stage kind \"%.32s\"", kind);
    json_t *code = json_object_get(o, "code");
    if (px_manifest_takes_code(s->kind) && !code)
        return px_fail(err, PX_E_INVALID, "a %s stage needs \"code\" (%s)", kind,
                       s->kind == PX_STAGE_FL_AGG ? "the SHA-256 of the round's model" : "the module's SHA-256");
    if (!px_manifest_takes_code(s->kind) && code)
        return px_fail(err, PX_E_INVALID, "a built-in %s stage takes no \"code\"", kind);
    if (code) {
        if (px_x_hex_value(code, "field \"code\"", s->code, sizeof s->code, err))
            return -1;
        s->has_code = 1;
    }
    uint64_t level = 1, parts = 1;
    if (px_x_opt_uint(o, "min_level", PX_MANIFEST_MAX_LEVEL, &level, err) ||
        px_x_opt_uint(o, "partitions", PX_MANIFEST_MAX_PARTITIONS, &parts, err))
        return -1;
    if (parts == 0)
        return px_fail(err, PX_E_INVALID, "field \"partitions\" must be at least 1");
    s->min_level = (uint32_t)level;
    s->partitions = (uint32_t)parts;
    if (px_x_opt_str(o, "at", &at, err))
        return -1;
    if (at && strcmp(at, "pod") && strcmp(at, "executor"))
        return px_fail(err, PX_E_INVALID, "field \"at\" must be \"pod\" or \"executor\"");
    s->at_pod = at && !strcmp(at, "pod");
    if (parse_at_pod(s, o, err) || parse_limits(s, o, err) || parse_dp(s, o, err))
        return -1;
    json_t *params = json_object_get(o, "params");
    if (params && !json_is_object(params))
        return px_fail(err, PX_E_INVALID, "field \"params\" must be an object");
    if (dp_params_agree(s, params, err))
        return -1;
    s->params = params ? json_incref(params) : NULL;
    return 0;
}

/* ---- the document -------------------------------------------------------- */

static int parse_receivers(px_manifest *m, const json_t *doc, px_err *err) {
    static const char *const keys[] = {"id", "key", NULL};
    json_t *rs, *r;
    size_t i;
    if (px_x_arr(doc, "receivers", 1, PX_MANIFEST_MAX_RECEIVERS, &rs, err))
        return -1;
    m->receivers = calloc(json_array_size(rs), sizeof *m->receivers);
    if (!m->receivers)
        return px_fail(err, PX_E_NOMEM, "out of memory reading receivers");
    json_array_foreach(rs, i, r) {
        if (px_json_only(r, "receiver", keys, err) ||
            px_x_strcpy(r, "id", m->receivers[i].id, sizeof m->receivers[i].id, err) ||
            px_json_hex(r, "key", m->receivers[i].box_pk, PX_BOX_PUBLICKEYBYTES, err))
            return px_err_prefix(err, "receiver %zu: ", i);
        if (!px_id_valid(m->receivers[i].id))
            return px_fail(err, PX_E_INVALID, "receiver %zu: invalid node id", i);
        m->nreceivers = i + 1;
    }
    return 0;
}

static int parse_consumer(px_manifest *m, const json_t *doc, px_err *err) {
    static const char *const keys[] = {"id", "key", NULL};
    json_t *c;
    const char *key;
    if (px_x_obj(doc, "consumer", &c, err) || px_json_only(c, "consumer", keys, err) ||
        px_x_strcpy(c, "id", m->consumer_id, sizeof m->consumer_id, err) || px_json_str(c, "key", &key, err))
        return px_err_prefix(err, "consumer: ");
    if (!px_id_valid(m->consumer_id))
        return px_fail(err, PX_E_INVALID, "consumer: invalid node id");
    if (px_verifier_parse(&m->consumer, key, strlen(key), err))
        return px_err_prefix(err, "consumer key: ");
    return 0;
}

/* "training": which round of which training this task is (docs/fl.md). */
static int parse_training(px_manifest *m, const json_t *doc, px_err *err) {
    static const char *const keys[] = {"first", "round", "rounds", "min_change", NULL};
    json_t *t = json_object_get(doc, "training");
    if (!t)
        return 0;
    px_training *tr = &m->training;
    uint64_t round = 0, rounds = 0;
    const char *mc = NULL;
    if (px_json_only(t, "training", keys, err) || px_x_opt_uint(t, "round", PX_TRAINING_MAX_ROUNDS, &round, err) ||
        px_x_opt_uint(t, "rounds", PX_TRAINING_MAX_ROUNDS, &rounds, err) || px_x_opt_str(t, "min_change", &mc, err))
        return px_err_prefix(err, "training: ");
    if (round < 1 || rounds < 1 || round > rounds)
        return px_fail(err, PX_E_INVALID, "training: round %llu is not within 1..%llu (both are required)", (unsigned long long)round,
                       (unsigned long long)rounds);
    tr->round = (uint32_t)round;
    tr->rounds = (uint32_t)rounds;
    json_t *first = json_object_get(t, "first");
    if ((round == 1) != !first)
        return px_fail(err, PX_E_INVALID, "training: \"first\" (the first round's manifest id) is required after "
                       "round 1 and refused in round 1");
    if (first && px_x_hex_value(first, "training: first", tr->first, sizeof tr->first, err))
        return -1;
    tr->has_first = first != NULL;
    if (mc) {
        px_decimal d;
        if (px_decimal_parse(&d, mc, err))
            return px_err_prefix(err, "training: min_change: ");
        snprintf(tr->min_change, sizeof tr->min_change, "%s", mc);
        tr->has_min_change = 1;
    }
    m->has_training = 1;
    return 0;
}

static int parse_doc(px_manifest *m, const json_t *doc, px_err *err) {
    static const char *const keys[] = {"schema", "name", "consumer", "nonce", "created", "deadline",
                                       "datasets", "stages", "receivers", "training", NULL};
    const char *schema;
    json_t *arr, *v;
    size_t i;
    if (px_json_only(doc, "manifest", keys, err) || px_json_str(doc, "schema", &schema, err))
        return -1;
    if (strcmp(schema, PX_MANIFEST_SCHEMA))
        return px_fail(err, PX_E_INVALID, "manifest schema \"%.64s\" is not %s", schema, PX_MANIFEST_SCHEMA);
    if (px_x_strcpy(doc, "name", m->name, sizeof m->name, err))
        return -1;
    if (!px_id_valid(m->name))
        return px_fail(err, PX_E_INVALID, "manifest name must be [A-Za-z0-9._-]");
    if (parse_consumer(m, doc, err) || px_json_hex(doc, "nonce", m->nonce, sizeof m->nonce, err) ||
        px_json_int(doc, "created", &m->created, err) || px_json_int(doc, "deadline", &m->deadline, err))
        return -1;
    if (m->created <= 0 || m->deadline <= m->created)
        return px_fail(err, PX_E_INVALID, "manifest deadline must come after its creation time");
    if (px_x_arr(doc, "datasets", 1, PX_MANIFEST_MAX_DATASETS, &arr, err))
        return -1;
    if (!(m->datasets = calloc(json_array_size(arr), sizeof *m->datasets)))
        return px_fail(err, PX_E_NOMEM, "out of memory reading datasets");
    json_array_foreach(arr, i, v) {
        m->ndatasets = i + 1;
        if (parse_dataset(&m->datasets[i], v, err))
            return px_err_prefix(err, "dataset %zu: ", i);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(m->datasets[j].name, m->datasets[i].name))
                return px_fail(err, PX_E_INVALID, "dataset \"%s\" is listed twice", m->datasets[i].name);
    }
    if (px_x_arr(doc, "stages", 1, PX_MANIFEST_MAX_STAGES, &arr, err))
        return -1;
    if (!(m->stages = calloc(json_array_size(arr), sizeof *m->stages)))
        return px_fail(err, PX_E_NOMEM, "out of memory reading stages");
    json_array_foreach(arr, i, v) {
        m->nstages = i + 1;
        if (parse_stage(&m->stages[i], v, err))
            return px_err_prefix(err, "stage %zu: ", i);
    }
    return parse_receivers(m, doc, err) || parse_training(m, doc, err) || px_manifest_rules(m, err) ? -1 : 0;
}

static int parse_payload(px_manifest *m, const uint8_t *p, size_t len, px_err *err) {
    json_t *doc = px_json_parse(p, len, PX_MANIFEST_MAX_BYTES, err);
    if (!doc)
        return px_err_prefix(err, "manifest: ");
    int rc = parse_doc(m, doc, err);
    json_decref(doc);
    return rc ? px_err_prefix(err, "manifest: ") : 0;
}

int px_manifest_sign(px_buf *out, const void *json, size_t len, const px_signer *consumer, px_err *err) {
    px_manifest m;
    memset(&m, 0, sizeof m);
    int rc = parse_payload(&m, json, len, err);
    if (rc == 0) {
        px_verifier v;
        px_signer_verifier(consumer, &v);
        if (strcmp(v.name, m.consumer.name) || v.id != m.consumer.id || !px_ct_equal(v.pk, m.consumer.pk, sizeof v.pk))
            rc = px_fail(err, PX_E_INVALID, "manifest: consumer.key is not the signing key %s", v.name);
    }
    px_manifest_free(&m);
    if (rc)
        return -1;
    return px_dsse_sign(out, PX_MANIFEST_PAYLOAD_TYPE, json, len, consumer, 1, err);
}

int px_manifest_parse(px_manifest *m, const void *envelope, size_t len, px_err *err) {
    memset(m, 0, sizeof *m);
    if (len > PX_MANIFEST_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "manifest envelope of %zu bytes exceeds %u", len, PX_MANIFEST_MAX_BYTES);
    px_dsse e;
    memset(&e, 0, sizeof e);
    if (px_dsse_parse(&e, envelope, len, err))
        return px_err_prefix(err, "manifest envelope: ");
    int rc = -1;
    if (strcmp(e.payload_type, PX_MANIFEST_PAYLOAD_TYPE)) {
        px_fail(err, PX_E_INVALID, "manifest envelope: payload type \"%.64s\" is not %s", e.payload_type,
                PX_MANIFEST_PAYLOAD_TYPE);
        goto out;
    }
    if (parse_payload(m, e.payload.data, e.payload.len, err))
        goto out;
    if (px_dsse_verify(&e, &m->consumer, err)) {
        px_err_prefix(err, "manifest: not signed by its consumer %s: ", m->consumer.name);
        goto out;
    }
    if (px_buf_append(&m->envelope, envelope, len, err))
        goto out;
    px_sha256(m->id, envelope, len);
    rc = 0;
out:
    px_dsse_free(&e);
    if (rc)
        px_manifest_free(m);
    return rc;
}

void px_manifest_free(px_manifest *m) {
    if (!m)
        return;
    for (size_t i = 0; i < m->ndatasets; i++)
        free(m->datasets[i].pods);
    free(m->datasets);
    for (size_t i = 0; i < m->nstages; i++) {
        json_decref(m->stages[i].params);
        free(m->stages[i].topics);
    }
    free(m->stages);
    free(m->receivers);
    px_buf_free(&m->envelope);
    memset(m, 0, sizeof *m);
}

int px_manifest_behind_dp(const px_manifest *m) {
    if (m->nstages == 0 || !px_manifest_spends(m->stages[m->nstages - 1].kind))
        return 0;
    for (size_t i = 0; i < m->nstages; i++) {
        if (m->stages[i].kind != PX_STAGE_WASM && m->stages[i].kind != PX_STAGE_FL_USER)
            continue;
        size_t j = i + 1;
        while (j < m->nstages && !px_manifest_spends(m->stages[j].kind))
            j++;
        if (j == m->nstages)
            return 0;
    }
    return 1;
}

int px_manifest_has_pod(const px_manifest *m, const char *pod) {
    for (size_t i = 0; i < m->ndatasets; i++)
        for (size_t j = 0; j < m->datasets[i].npods; j++)
            if (!strcmp(m->datasets[i].pods[j], pod))
                return 1;
    return 0;
}

/* ---- stages at PODs ------------------------------------------------------------ */

uint32_t px_manifest_pod_stages(const px_manifest *m) {
    uint32_t k = 0;
    while (k < m->nstages && m->stages[k].at_pod)
        k++;
    return k;
}

int px_manifest_feeds(const px_manifest *m, uint32_t s, uint32_t a, uint32_t b) {
    if (s + 1 >= m->nstages || a >= m->stages[s].partitions || b >= m->stages[s + 1].partitions)
        return 0;
    return m->stages[s].partitions != m->stages[s + 1].partitions || a == b;
}

/* The first dataset and index where pod is listed. */
static int first_listing(const px_manifest *m, const char *pod, size_t *d, size_t *k) {
    for (*d = 0; *d < m->ndatasets; (*d)++)
        for (*k = 0; *k < m->datasets[*d].npods; (*k)++)
            if (!strcmp(m->datasets[*d].pods[*k], pod))
                return 1;
    return 0;
}

/* Walks the distinct PODs in order; the position of `pod` (or the count
 * when pod is NULL). */
static int64_t pod_walk(const px_manifest *m, const char *pod) {
    int64_t pos = 0;
    for (size_t d = 0; d < m->ndatasets; d++)
        for (size_t k = 0; k < m->datasets[d].npods; k++) {
            const char *id = m->datasets[d].pods[k];
            size_t fd, fk;
            /* Counted where it is first listed (an earlier dataset may list it). */
            if (d > 0 && first_listing(m, id, &fd, &fk) && (fd != d || fk != k))
                continue;
            if (pod && !strcmp(id, pod))
                return pos;
            pos++;
        }
    return pod ? -1 : pos;
}

int64_t px_manifest_pod_position(const px_manifest *m, const char *pod) {
    return pod_walk(m, pod);
}

size_t px_manifest_pod_count(const px_manifest *m) {
    return (size_t)pod_walk(m, NULL);
}
