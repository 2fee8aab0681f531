/* The data-prover stage: trusted built-in code inside a trust-λ. It reads a
 * POD's exported stream (dataset fields + px_source + px_sig), checks each
 * record's signature against the trust store carried in its attested
 * config, and passes the records on without the provenance columns, tagged
 * authenticated (flag set) or alleged (flag clear). Nothing is silently
 * mixed: every record is counted in exactly one of authenticated, alleged
 * or dropped. The function is pure: same config and input, same output,
 * whatever the number of threads the signatures are checked on
 * (prover_check.c): this file reads the inputs and writes the output on
 * the calling thread, in input order. */
#include <stdlib.h>
#include <string.h>

#include "pod/prover_int.h"

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

/* The inputs read through once: every stream is well formed (or the whole
 * step fails before any signature is checked) and every record's offset is
 * known, so that threads can each take any record. */
typedef struct scan {
    px_records_reader *inputs;
    uint64_t *first;
    size_t *offs, cap;
    px_schema data;
} scan;

static void scan_free(scan *s) {
    free(s->inputs);
    free(s->first);
    free(s->offs);
}

static int scan_push(scan *s, uint64_t g, size_t off, px_err *err) {
    if (g == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        size_t *o = realloc(s->offs, cap * sizeof *o);
        if (!o)
            return px_fail(err, PX_E_NOMEM, "out of memory indexing %llu records", (unsigned long long)g);
        s->offs = o, s->cap = cap;
    }
    s->offs[g] = off;
    return 0;
}

/* Input i: open it, check its schema, read every record. The schema is
 * compared with input 0's after the records, as a refusal has always
 * named a malformed stream before a mismatched one. */
static int scan_input(scan *s, size_t i, const uint8_t *in, size_t len, px_err *err) {
    px_records_reader *r = &s->inputs[i];
    px_schema data;
    if (px_records_open(r, in, len, err) || input_schema(&r->schema, &data, err))
        return -1;
    px_records_reader w = *r;
    px_value v[PX_RECORDS_MAX_FIELDS];
    uint64_t g = s->first[i];
    int rc;
    while ((rc = px_records_next(&w, v, NULL, err)) == 1)
        if (scan_push(s, g++, w.record_start, err))
            return -1;
    if (rc)
        return -1;
    s->first[i + 1] = g;
    if (i == 0)
        s->data = data;
    else if (!px_schema_equal(&s->data, &data))
        return 1; /* the caller names it */
    return 0;
}

static int scan_inputs(scan *s, const uint8_t *const *in, const size_t *lens, size_t n, px_err *err) {
    memset(s, 0, sizeof *s);
    s->inputs = calloc(n, sizeof *s->inputs);
    s->first = calloc(n + 1, sizeof *s->first);
    if (!s->inputs || !s->first)
        return px_fail(err, PX_E_NOMEM, "prover: out of memory");
    for (size_t i = 0; i < n; i++) {
        int rc = scan_input(s, i, in[i], lens[i], err);
        if (rc > 0)
            return px_fail(err, PX_E_INVALID, "prover: input %zu has another schema than input 0", i);
        if (rc < 0)
            return n == 1 ? px_err_prefix(err, "prover: ") : px_err_prefix(err, "input %zu: prover: ", i);
    }
    return 0;
}

/* One stream out, records in input order, each flagged by its verdict. */
static int assemble(const px_prover_config *c, const scan *s, size_t n, const uint8_t *verdicts, px_buf *out,
                    px_prover_counts *counts, px_err *err) {
    px_prover_counts k = {0};
    uint64_t total = s->first[n];
    for (uint64_t g = 0; g < total; g++) {
        k.records++;
        k.unsigned_records += verdicts[g] == PX_PROVER_UNSIGNED;
        k.unknown_source += verdicts[g] == PX_PROVER_UNKNOWN;
        k.bad_signature += verdicts[g] == PX_PROVER_BAD;
        if (verdicts[g] == PX_PROVER_OK)
            k.authenticated++;
        else if (c->require_authenticated)
            k.dropped++;
        else
            k.alleged++;
    }
    if (px_records_begin(out, &s->data, k.records - k.dropped, err))
        return -1;
    px_value v[PX_RECORDS_MAX_FIELDS];
    uint64_t g = 0;
    for (size_t i = 0; i < n; i++) {
        px_records_reader r = s->inputs[i];
        while (px_records_next(&r, v, NULL, err) == 1) {
            int ok = verdicts[g++] == PX_PROVER_OK;
            if ((ok || !c->require_authenticated) &&
                px_records_append(out, &s->data, v, ok ? PX_REC_AUTHENTICATED : 0, err))
                return -1;
        }
    }
    *counts = k;
    return 0;
}

static int prove(const px_prover_config *c, const uint8_t *const *in, const size_t *lens, size_t n,
                 unsigned threads, px_buf *out, px_prover_counts *counts, px_err *err) {
    if (n == 0)
        return px_fail(err, PX_E_INVALID, "prover: no input");
    scan s;
    int rc = scan_inputs(&s, in, lens, n, err);
    uint8_t *verdicts = NULL;
    px_prover_counts k;
    size_t start = out->len;
    if (rc == 0) {
        px_prover_batch b = {c, s.data, s.inputs, n, s.first, s.offs};
        verdicts = malloc(s.first[n] ? s.first[n] : 1);
        if (!verdicts)
            rc = px_fail(err, PX_E_NOMEM, "out of memory");
        else
            rc = px_prover_check(&b, threads ? threads : px_prover_threads(), verdicts, err);
        if (rc == 0 && (rc = assemble(c, &s, n, verdicts, out, &k, err)) != 0)
            out->len = start;
        if (rc)
            px_err_prefix(err, "prover: ");
    }
    free(verdicts);
    scan_free(&s);
    if (rc == 0 && counts)
        *counts = k;
    return rc;
}

int px_prover_run(const px_prover_config *c, const uint8_t *in, size_t len, px_buf *out, px_prover_counts *counts,
                  px_err *err) {
    return prove(c, &in, &len, 1, 0, out, counts, err);
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

int px_prover_run_many_threads(const px_prover_config *c, const uint8_t *const *in, const size_t *lens, size_t n,
                               unsigned threads, px_buf *out, px_prover_counts *counts, px_err *err) {
    size_t start = out->len;
    px_prover_counts k;
    int rc = prove(c, in, lens, n, threads, out, &k, err);
    if (rc == 0 && count_users(out->data + start, out->len - start, &k, err)) {
        out->len = start;
        rc = px_err_prefix(err, "prover: ");
    }
    if (rc == 0 && counts)
        *counts = k;
    return rc;
}

int px_prover_run_many(const px_prover_config *c, const uint8_t *const *in, const size_t *lens, size_t n,
                       px_buf *out, px_prover_counts *counts, px_err *err) {
    return px_prover_run_many_threads(c, in, lens, n, 0, out, counts, err);
}
