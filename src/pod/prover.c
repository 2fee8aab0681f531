/* The data-prover stage: trusted built-in code inside a trust-λ. It reads a
 * POD's exported stream (dataset fields + px_source + px_sig), checks each
 * record's signature against the trust store carried in its attested
 * config, and passes the records on without the provenance columns, tagged
 * authenticated (flag set) or alleged (flag clear). Nothing is silently
 * mixed: every record is counted in exactly one of authenticated, alleged
 * or dropped. The function is pure: same config and input, same output. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/pod.h"

#define PROVER_CONFIG_MAX (4u << 20)

static int key_cmp(const char *name_a, uint32_t id_a, const char *name_b, uint32_t id_b) {
    int c = strcmp(name_a, name_b);
    return c ? c : id_a < id_b ? -1 : id_a > id_b;
}

static int source_sort_cmp(const void *a, const void *b) {
    const px_source_key *x = a, *y = b;
    return key_cmp(x->name, x->id, y->name, y->id);
}

void px_prover_config_free(px_prover_config *c) {
    px_source_keys_free(c->sources, c->nsources);
    memset(c, 0, sizeof *c);
}

static int parse_sources(px_prover_config *c, const json_t *a, px_err *err) {
    if (!json_is_array(a) || json_array_size(a) > PX_PROVER_MAX_SOURCES)
        return px_fail(err, PX_E_INVALID, "\"sources\" must be an array of at most %d source keys",
                       PX_PROVER_MAX_SOURCES);
    c->sources = calloc(json_array_size(a) + 1, sizeof *c->sources);
    if (!c->sources)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v))
            return px_fail(err, PX_E_INVALID, "\"sources\"[%zu] must be a string", i);
        if (px_source_key_parse(&c->sources[i], json_string_value(v), json_string_length(v), err))
            return px_err_prefix(err, "\"sources\"[%zu]: ", i);
        c->nsources++;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->sources[j].name, c->sources[i].name))
                return px_fail(err, PX_E_INVALID, "\"sources\": source \"%s\" is listed twice", c->sources[i].name);
    }
    qsort(c->sources, c->nsources, sizeof *c->sources, source_sort_cmp);
    return 0;
}

int px_prover_config_parse(px_prover_config *out, const void *json, size_t len, px_err *err) {
    json_t *root = px_json_parse(json, len, PROVER_CONFIG_MAX, err);
    if (!root)
        return px_err_prefix(err, "prover config: ");
    px_prover_config c;
    memset(&c, 0, sizeof c);
    const char *req;
    int rc = -1;
    if (!json_is_object(root) || json_object_size(root) != 2)
        px_fail(err, PX_E_INVALID, "expected an object with exactly \"require\" and \"sources\"");
    else if (px_json_str(root, "require", &req, err) == 0) {
        if (strcmp(req, "authenticated") && strcmp(req, "any"))
            px_fail(err, PX_E_INVALID, "\"require\" must be \"authenticated\" or \"any\"");
        else if (parse_sources(&c, json_object_get(root, "sources"), err) == 0) {
            c.require_authenticated = !strcmp(req, "authenticated");
            rc = 0;
        }
    }
    json_decref(root);
    if (rc) {
        px_prover_config_free(&c);
        return px_err_prefix(err, "prover config: ");
    }
    *out = c;
    return 0;
}

int px_prover_config_format(px_buf *out, const px_source_key *keys, size_t n, int require_authenticated,
                            px_err *err) {
    json_t *root = json_object(), *a = json_array();
    px_buf k = PX_BUF_INIT;
    int rc = -1, built = root && a &&
                         !json_object_set_new(root, "require",
                                              json_string(require_authenticated ? "authenticated" : "any"));
    for (size_t i = 0; built && i < n; i++) {
        px_buf_reset(&k);
        if (px_source_key_format(&keys[i], &k, err) || !px_buf_cstr(&k, err) ||
            json_array_append_new(a, json_string((const char *)k.data)))
            built = 0;
    }
    if (built && json_object_set(root, "sources", a) == 0)
        rc = px_json_dump(root, out, err);
    else
        px_fail(err, PX_E_NOMEM, "could not build the prover config");
    px_buf_free(&k);
    json_decref(a);
    json_decref(root);
    return rc;
}

/* ---- the stage ----------------------------------------------------------- */

/* Find the key a record names as "<name>+<8 hex>"; NULL if unknown. */
static const px_source_key *lookup(const px_prover_config *c, const px_value *src) {
    char name[PX_KEY_NAME_MAX + 1];
    if (src->len < 10 || src->len > PX_SRC_REF_MAX)
        return NULL;
    size_t nlen = src->len - 9;
    if (nlen > PX_KEY_NAME_MAX || src->p[nlen] != '+')
        return NULL;
    uint8_t idb[4];
    if (px_hex_decode_exact(idb, 4, (const char *)src->p + nlen + 1, 8, NULL))
        return NULL;
    memcpy(name, src->p, nlen);
    name[nlen] = 0;
    uint32_t id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
    size_t lo = 0, hi = c->nsources;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int k = key_cmp(name, id, c->sources[mid].name, c->sources[mid].id);
        if (k == 0)
            return &c->sources[mid];
        if (k < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

typedef enum verdict { V_OK, V_UNSIGNED, V_UNKNOWN, V_BAD } verdict;

static verdict check_record(const px_prover_config *c, const px_schema *data, const px_value *v, px_buf *scratch,
                            px_err *err) {
    const px_value *src = &v[data->nfields], *sig = &v[data->nfields + 1];
    if (src->len == 0 && sig->len == 0)
        return V_UNSIGNED;
    const px_source_key *k = lookup(c, src);
    if (!k)
        return V_UNKNOWN;
    px_buf_reset(scratch);
    if (px_record_encode_values(scratch, data, v, err))
        return V_BAD;
    uint8_t digest[PX_SHA256_BYTES];
    const void *parts[2] = {PX_RECORD_DIGEST_TAG, scratch->data};
    size_t lens[2] = {PX_RECORD_DIGEST_TAG_LEN, scratch->len};
    px_sha256_parts(digest, 2, parts, lens);
    return px_source_verify(k, digest, sig->p, sig->len) == 0 ? V_OK : V_BAD;
}

static int input_schema(const px_schema *in, px_schema *data, px_err *err) {
    uint32_t n = in->nfields;
    if (n < 3 || strcmp(in->fields[n - 2].name, PX_POD_FIELD_SOURCE) || in->fields[n - 2].type != PX_FIELD_TEXT ||
        strcmp(in->fields[n - 1].name, PX_POD_FIELD_SIG) || in->fields[n - 1].type != PX_FIELD_BLOB)
        return px_fail(err, PX_E_INVALID,
                       "prover input: the last two fields must be px_source (text) and px_sig (blob)");
    *data = *in;
    data->nfields = n - 2;
    if (data->user_field != PX_NO_USER_FIELD && data->user_field >= data->nfields)
        return px_fail(err, PX_E_INVALID, "prover input: the user field cannot be a provenance field");
    return 0;
}

int px_prover_run(const px_prover_config *c, const uint8_t *in, size_t len, px_buf *out, px_prover_counts *counts,
                  px_err *err) {
    px_records_reader r;
    px_schema data;
    if (px_records_open(&r, in, len, err) || input_schema(&r.schema, &data, err))
        return px_err_prefix(err, "prover: ");
    px_prover_counts n = {0};
    px_buf body = PX_BUF_INIT, scratch = PX_BUF_INIT;
    px_value v[PX_RECORDS_MAX_FIELDS];
    uint8_t flags;
    int rc;
    while ((rc = px_records_next(&r, v, &flags, err)) == 1) {
        n.records++;
        verdict vd = check_record(c, &data, v, &scratch, err);
        n.unsigned_records += vd == V_UNSIGNED;
        n.unknown_source += vd == V_UNKNOWN;
        n.bad_signature += vd == V_BAD;
        if (vd != V_OK && c->require_authenticated) {
            n.dropped++;
            continue;
        }
        if (vd == V_OK)
            n.authenticated++;
        else
            n.alleged++;
        if (px_records_append(&body, &data, v, vd == V_OK ? PX_REC_AUTHENTICATED : 0, err)) {
            rc = -1;
            break;
        }
    }
    size_t start = out->len;
    if (rc == 0 && (px_records_begin(out, &data, n.records - n.dropped, err) ||
                    px_buf_append(out, body.data, body.len, err))) {
        out->len = start;
        rc = -1;
    }
    px_buf_free(&body);
    px_buf_free(&scratch);
    if (rc)
        return px_err_prefix(err, "prover: ");
    if (counts)
        *counts = n;
    return 0;
}

/* ---- several inputs -------------------------------------------------------- */

static int prover_run_inputs(const px_prover_config *c, const uint8_t *const *in, const size_t *lens, size_t n,
                             px_buf *out, px_prover_counts *counts, px_err *err);

static void add_counts(px_prover_counts *t, const px_prover_counts *n) {
    t->records += n->records, t->authenticated += n->authenticated, t->alleged += n->alleged;
    t->dropped += n->dropped, t->unsigned_records += n->unsigned_records;
    t->unknown_source += n->unknown_source, t->bad_signature += n->bad_signature;
}

/* Prove each input; keep the first one's header and every body. */
static int prove_parts(const px_prover_config *c, const uint8_t *const *in, const size_t *lens, size_t n,
                       px_schema *schema, px_buf *bodies, px_prover_counts *total, px_err *err) {
    px_buf one = PX_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        px_prover_counts k;
        px_records_reader r;
        one.len = 0;
        if (px_prover_run(c, in[i], lens[i], &one, &k, err) || px_records_open(&r, one.data, one.len, err)) {
            rc = px_err_prefix(err, "input %zu: ", i);
            break;
        }
        if (i == 0)
            *schema = r.schema;
        else if (!px_schema_equal(schema, &r.schema))
            rc = px_fail(err, PX_E_INVALID, "prover: input %zu has another schema than input 0", i);
        if (rc == 0)
            rc = px_buf_append(bodies, one.data + r.off, one.len - r.off, err);
        add_counts(total, &k);
    }
    px_buf_free(&one);
    return rc;
}

/* ---- distinct users --------------------------------------------------------- */

#define USER_HASH_BYTES 16

static int hash_cmp(const void *a, const void *b) { return memcmp(a, b, USER_HASH_BYTES); }

/* The number of distinct user-field values of a stream, which the DP stage
 * bounds the per-user map's output by. Values are compared by a 128-bit
 * BLAKE2b of their type and bytes: a collision would only lower the bound. */
static int count_users(const uint8_t *stream, size_t len, px_prover_counts *k, px_err *err) {
    px_records_reader r;
    if (px_records_open(&r, stream, len, err))
        return -1;
    k->has_users = r.schema.user_field != PX_NO_USER_FIELD;
    k->users = 0;
    if (!k->has_users || r.count == 0)
        return 0;
    uint8_t *h = malloc((size_t)r.count * USER_HASH_BYTES);
    if (!h)
        return px_fail(err, PX_E_NOMEM, "out of memory counting users");
    px_value v[PX_RECORDS_MAX_FIELDS];
    size_t n = 0;
    int rc;
    while ((rc = px_records_next(&r, v, NULL, err)) == 1) {
        const px_value *u = &v[r.schema.user_field];
        uint8_t t = (uint8_t)u->type, num[8];
        const uint8_t *bytes;
        size_t blen = px_value_key(u, num, &bytes);
        px_blake2b_keyed(h + n * USER_HASH_BYTES, USER_HASH_BYTES, NULL, 0, &t, 1, bytes, blen);
        n++;
    }
    if (rc == 0) {
        qsort(h, n, USER_HASH_BYTES, hash_cmp);
        for (size_t i = 0; i < n; i++)
            k->users += i == 0 || memcmp(h + i * USER_HASH_BYTES, h + (i - 1) * USER_HASH_BYTES, USER_HASH_BYTES);
    }
    free(h);
    return rc;
}

int px_prover_run_many(const px_prover_config *c, const uint8_t *const *in, const size_t *lens, size_t n,
                       px_buf *out, px_prover_counts *counts, px_err *err) {
    size_t start = out->len;
    px_prover_counts k;
    int rc = prover_run_inputs(c, in, lens, n, out, &k, err);
    if (rc == 0 && count_users(out->data + start, out->len - start, &k, err)) {
        out->len = start;
        rc = px_err_prefix(err, "prover: ");
    }
    if (rc == 0 && counts)
        *counts = k;
    return rc;
}

static int prover_run_inputs(const px_prover_config *c, const uint8_t *const *in, const size_t *lens, size_t n,
                             px_buf *out, px_prover_counts *counts, px_err *err) {
    if (n == 0)
        return px_fail(err, PX_E_INVALID, "prover: no input");
    if (n == 1)
        return px_prover_run(c, in[0], lens[0], out, counts, err);
    px_schema schema;
    px_buf bodies = PX_BUF_INIT;
    px_prover_counts total = {0};
    size_t start = out->len;
    int rc = prove_parts(c, in, lens, n, &schema, &bodies, &total, err);
    if (rc == 0 && (px_records_begin(out, &schema, total.records - total.dropped, err) ||
                    px_buf_append(out, bodies.data, bodies.len, err))) {
        out->len = start;
        rc = -1;
    }
    px_buf_free(&bodies);
    if (rc == 0 && counts)
        *counts = total;
    return rc;
}
