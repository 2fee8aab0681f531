/* The per-user map (see stage_map.h): grouping records by user or block
 * under the task's pseudonym key, and turning each run's output into one
 * fixed-size tagged entry. */
#include <stdlib.h>
#include <string.h>

#include "lambda/stage_map.h"

/* Domain bytes, so a user's tag and a block's tag can never coincide. */
#define TAG_USER 'u'
#define TAG_BLOCK 'b'

/* ---- params ------------------------------------------------------------- */

static int read_u32(const json_t *params, const char *key, uint32_t lo, uint32_t hi, uint32_t *out, px_err *err) {
    const json_t *v = json_object_get(params, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return px_fail(err, PX_E_INVALID, "param \"%s\" must be an integer in %u..%u", key, lo, hi);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* "deliver": {"content": "<hex SHA-256 of the content>", "bytes": N}: a
 * per-user map of dim 1 whose matches get the content delivered. */
static int read_deliver(const json_t *d, px_map_params *mp, px_err *err) {
    const char *c = json_string_value(json_object_get(d, "content"));
    const json_t *b = json_object_get(d, "bytes");
    if (!json_is_object(d) || json_object_size(d) != 2 || !c || !b)
        return px_fail(err, PX_E_INVALID, "param \"deliver\" must be {\"content\": <hex SHA-256>, \"bytes\": N}");
    if (px_hex_decode_exact(mp->content, sizeof mp->content, c, strlen(c), NULL))
        return px_fail(err, PX_E_INVALID, "param \"deliver\".content must be a hex SHA-256 digest");
    if (!json_is_integer(b) || json_integer_value(b) < 1 || json_integer_value(b) > PX_CONTENT_MAX_BYTES)
        return px_fail(err, PX_E_INVALID, "param \"deliver\".bytes must be an integer in 1..%u", PX_CONTENT_MAX_BYTES);
    if (mp->mode != PX_MAP_PER_USER || mp->dim != 1)
        return px_fail(err, PX_E_INVALID, "param \"deliver\" needs a \"per-user\" map of dim 1 (one match bit)");
    mp->content_bytes = (uint32_t)json_integer_value(b);
    mp->deliver = 1;
    return 0;
}

int px_map_params_read(const json_t *params, px_map_params *mp, px_err *err) {
    memset(mp, 0, sizeof *mp);
    const json_t *map = json_object_get(params, "map");
    if (!map) {
        if (json_object_get(params, "dim") || json_object_get(params, "blocks") ||
            json_object_get(params, "pseudonym") || json_object_get(params, "deliver"))
            return px_fail(err, PX_E_INVALID, "params \"dim\", \"blocks\", \"pseudonym\" and \"deliver\" need "
                           "\"map\"");
        return 0;
    }
    const char *m = json_string_value(map);
    if (m && !strcmp(m, "per-user"))
        mp->mode = PX_MAP_PER_USER;
    else if (m && !strcmp(m, "sample-and-aggregate"))
        mp->mode = PX_MAP_SAMPLE_AGG;
    else
        return px_fail(err, PX_E_INVALID, "param \"map\" must be \"per-user\" or \"sample-and-aggregate\"");
    if (read_u32(params, "dim", 1, PX_TAGGED_MAX_DIM, &mp->dim, err))
        return -1;
    if (mp->mode == PX_MAP_SAMPLE_AGG) {
        if (read_u32(params, "blocks", PX_MAP_BLOCKS_MIN, PX_MAP_BLOCKS_MAX, &mp->blocks, err))
            return -1;
    } else if (json_object_get(params, "blocks")) {
        return px_fail(err, PX_E_INVALID, "param \"blocks\" is for \"map\": \"sample-and-aggregate\" only");
    }
    const char *ps = json_string_value(json_object_get(params, "pseudonym"));
    if (!ps || px_hex_decode_exact(mp->pseudonym, sizeof mp->pseudonym, ps, strlen(ps), NULL))
        return px_fail(err, PX_E_INVALID, "param \"pseudonym\" must be the hex SHA-256 commitment to the task key");
    const json_t *d = json_object_get(params, "deliver");
    return d ? read_deliver(d, mp, err) : 0;
}

/* ---- grouping ------------------------------------------------------------ */

typedef struct rec_ref {
    uint8_t tag[PX_TAG_BYTES]; /* the user's pseudonym */
    uint32_t block;            /* sample-and-aggregate */
    uint32_t input;
    size_t start, end; /* the record's bytes in its input */
} rec_ref;

static int per_user_cmp(const void *a, const void *b) {
    const rec_ref *x = a, *y = b;
    int c = memcmp(x->tag, y->tag, PX_TAG_BYTES);
    if (c)
        return c;
    if (x->input != y->input)
        return x->input < y->input ? -1 : 1;
    return (x->start > y->start) - (x->start < y->start);
}

static int per_block_cmp(const void *a, const void *b) {
    const rec_ref *x = a, *y = b;
    if (x->block != y->block)
        return x->block < y->block ? -1 : 1;
    return per_user_cmp(a, b);
}

/* A user's tag: BLAKE2b-256 keyed by the task key over the value's type and
 * bytes. Its first 8 bytes also place the user in a block (multiply-shift):
 * the key is the consumer's, but no choice of key moves a user into two
 * blocks, which is all the privacy argument needs (docs/dp.md). */
static void user_tag(const uint8_t key[PX_TASK_KEY_BYTES], const px_value *u, uint8_t tag[PX_TAG_BYTES]) {
    uint8_t head[2] = {TAG_USER, (uint8_t)u->type}, num[8];
    const uint8_t *bytes;
    size_t n = px_value_key(u, num, &bytes);
    px_blake2b_keyed(tag, PX_TAG_BYTES, key, PX_TASK_KEY_BYTES, head, sizeof head, bytes, n);
}

/* Multiply-shift of the tag's first 64 bits onto [0, blocks). */
static uint32_t block_of(const uint8_t tag[PX_TAG_BYTES], uint32_t blocks) {
    __extension__ typedef unsigned __int128 u128;
    return (uint32_t)(((u128)px_load_u64le(tag) * blocks) >> 64);
}

static void block_tag(const uint8_t key[PX_TASK_KEY_BYTES], uint32_t block, uint8_t tag[PX_TAG_BYTES]) {
    uint8_t head[1] = {TAG_BLOCK}, num[4] = {(uint8_t)block, (uint8_t)(block >> 8), (uint8_t)(block >> 16),
                                              (uint8_t)(block >> 24)};
    px_blake2b_keyed(tag, PX_TAG_BYTES, key, PX_TASK_KEY_BYTES, head, sizeof head, num, sizeof num);
}

/* Open every input, check they share one schema with a user field, and
 * count the records. */
static int open_inputs(const px_stage_input *in, size_t nin, px_schema *schema, uint64_t *total, px_err *err) {
    *total = 0;
    for (size_t i = 0; i < nin; i++) {
        px_records_reader r;
        if (px_records_open(&r, in[i].data, in[i].len, err))
            return px_err_prefix(err, "input %zu: ", i);
        if (r.schema.user_field == PX_NO_USER_FIELD)
            return px_fail(err, PX_E_INVALID, "input %zu has no user field to group by", i);
        if (i == 0)
            *schema = r.schema;
        else if (!px_schema_equal(schema, &r.schema))
            return px_fail(err, PX_E_INVALID, "input %zu has another schema than input 0", i);
        *total += r.count;
    }
    return 0;
}

static int index_records(const px_stage_input *in, size_t nin, const px_map_params *mp,
                         const uint8_t key[PX_TASK_KEY_BYTES], rec_ref *refs, px_err *err) {
    size_t k = 0;
    px_value v[PX_RECORDS_MAX_FIELDS];
    for (size_t i = 0; i < nin; i++) {
        px_records_reader r;
        px_records_open(&r, in[i].data, in[i].len, NULL);
        int rc;
        while ((rc = px_records_next(&r, v, NULL, err)) == 1) {
            rec_ref *x = &refs[k++];
            user_tag(key, &v[r.schema.user_field], x->tag);
            x->block = mp->mode == PX_MAP_SAMPLE_AGG ? block_of(x->tag, mp->blocks) : 0;
            x->input = (uint32_t)i;
            x->start = r.record_start;
            x->end = r.off;
        }
        if (rc < 0)
            return px_err_prefix(err, "input %zu: ", i);
    }
    return 0;
}

static int group_alloc(px_map_groups *g, size_t n, px_err *err) {
    g->off = calloc(n ? n : 1, sizeof *g->off);
    g->len = calloc(n ? n : 1, sizeof *g->len);
    g->tag = calloc(n ? n : 1, sizeof *g->tag);
    g->empty = calloc(n ? n : 1, sizeof *g->empty);
    if (!g->off || !g->len || !g->tag || !g->empty)
        return px_fail(err, PX_E_NOMEM, "out of memory for %zu groups", n);
    return 0;
}

/* One group's stream: the inputs' header for count records, then the
 * records' own bytes (flags included), in input order. */
static int emit_group(px_map_groups *g, size_t gi, const px_schema *schema, const px_stage_input *in,
                      const rec_ref *refs, size_t from, size_t to, px_err *err) {
    g->off[gi] = g->streams.len;
    if (px_records_begin(&g->streams, schema, to - from, err))
        return -1;
    for (size_t k = from; k < to; k++)
        if (px_buf_append(&g->streams, in[refs[k].input].data + refs[k].start, refs[k].end - refs[k].start, err))
            return -1;
    g->len[gi] = g->streams.len - g->off[gi];
    return 0;
}

static int build_groups(px_map_groups *g, const px_schema *schema, const px_stage_input *in, const px_map_params *mp,
                        const uint8_t key[PX_TASK_KEY_BYTES], const rec_ref *refs, size_t n, px_err *err) {
    int sa = mp->mode == PX_MAP_SAMPLE_AGG;
    size_t groups = 0;
    for (size_t k = 0; !sa && k < n; k++)
        groups += k == 0 || memcmp(refs[k].tag, refs[k - 1].tag, PX_TAG_BYTES) != 0;
    if (sa)
        groups = mp->blocks;
    if (group_alloc(g, groups, err))
        return -1;
    size_t k = 0;
    for (size_t gi = 0; gi < groups; gi++) {
        size_t from = k;
        if (sa) {
            while (k < n && refs[k].block == gi)
                k++;
            block_tag(key, (uint32_t)gi, g->tag[gi]);
            g->empty[gi] = from == k;
        } else {
            while (k < n && memcmp(refs[k].tag, refs[from].tag, PX_TAG_BYTES) == 0)
                k++;
            memcpy(g->tag[gi], refs[from].tag, PX_TAG_BYTES);
        }
        if (emit_group(g, gi, schema, in, refs, from, k, err))
            return -1;
    }
    g->n = groups;
    return 0;
}

int px_map_group(const px_stage_input *in, size_t nin, const px_map_params *mp,
                 const uint8_t key[PX_TASK_KEY_BYTES], px_map_groups *g, px_err *err) {
    memset(g, 0, sizeof *g);
    px_schema schema;
    uint64_t total;
    if (nin == 0)
        return px_fail(err, PX_E_INVALID, "a map stage needs at least one input");
    if (open_inputs(in, nin, &schema, &total, err))
        return -1;
    if (total > SIZE_MAX / sizeof(rec_ref))
        return px_fail(err, PX_E_LIMIT, "too many records (%llu)", (unsigned long long)total);
    rec_ref *refs = malloc((total ? total : 1) * sizeof *refs);
    if (!refs)
        return px_fail(err, PX_E_NOMEM, "out of memory indexing %llu records", (unsigned long long)total);
    int rc = index_records(in, nin, mp, key, refs, err);
    if (rc == 0) {
        qsort(refs, total, sizeof *refs, mp->mode == PX_MAP_SAMPLE_AGG ? per_block_cmp : per_user_cmp);
        rc = build_groups(g, &schema, in, mp, key, refs, total, err);
    }
    px_memzero(refs, total * sizeof *refs);
    free(refs);
    g->records = total;
    if (rc)
        px_map_groups_free(g);
    return rc;
}

void px_map_groups_free(px_map_groups *g) {
    px_buf_free(&g->streams);
    free(g->off);
    free(g->len);
    free(g->tag);
    free(g->empty);
    memset(g, 0, sizeof *g);
}

/* ---- collecting ------------------------------------------------------------ */

/* A run's output counts only if it is exactly one PXV1 vector of dim
 * values; anything else (no vector, two, a wrong length, garbage) leaves
 * the entry absent. */
static int run_vector(const px_buf *out, const px_sandbox_run_out *run, uint32_t dim, double **v) {
    *v = NULL;
    if (run->status != PX_SB_OK || run->len != 8 + 8 * (size_t)dim)
        return 0;
    uint32_t n = 0;
    if (px_vector_decode(v, &n, out->data + run->off, run->len, NULL))
        return 0;
    if (n != dim) {
        free(*v);
        *v = NULL;
    }
    return 0;
}

int px_map_collect(const px_map_groups *g, const px_map_params *mp, const px_buf *out,
                   const px_sandbox_run_out *runs, px_buf *tagged, px_err *err) {
    size_t start = tagged->len;
    int rc = px_tagged_begin(tagged, mp->dim, g->n, err);
    for (size_t i = 0; rc == 0 && i < g->n; i++) {
        double *v = NULL;
        if (!g->empty[i])
            run_vector(out, &runs[i], mp->dim, &v);
        rc = px_tagged_append(tagged, mp->dim, g->tag[i], v, err);
        free(v);
    }
    if (rc)
        tagged->len = start;
    return rc;
}

/* ---- delivering ------------------------------------------------------------ */

int px_map_collect_matches(const px_map_groups *g, const px_buf *out, const px_sandbox_run_out *runs,
                           px_buf *tagged, int *matched, px_err *err) {
    size_t start = tagged->len;
    int any = 0;
    int rc = px_tagged_begin(tagged, 1, g->n, err);
    for (size_t i = 0; rc == 0 && i < g->n; i++) {
        double *v = NULL;
        run_vector(out, &runs[i], 1, &v);
        int hit = v != NULL && v[0] == 1.0;
        double bit = hit ? 1.0 : 0.0;
        any |= hit;
        rc = px_tagged_append(tagged, 1, g->tag[i], &bit, err);
        free(v);
    }
    if (rc)
        tagged->len = start;
    *matched = any;
    return rc;
}

int px_map_delivery(px_buf *out, const px_map_params *mp, const uint8_t *content, size_t len, int delivered,
                    px_err *err) {
    if (len > mp->content_bytes)
        return px_fail(err, PX_E_INVALID, "content of %zu bytes exceeds the delivery's %u", len, mp->content_bytes);
    size_t start = out->len, total = PX_DELIVERY_HEADER_BYTES + (size_t)mp->content_bytes;
    if (px_buf_reserve(out, total, err))
        return -1;
    uint32_t n = delivered ? (uint32_t)len : 0;
    uint8_t *p = out->data + start;
    memset(p, 0, total);
    memcpy(p, PX_DELIVERY_MAGIC, 4);
    p[4] = (uint8_t)(delivered ? 1 : 0);
    p[5] = (uint8_t)n, p[6] = (uint8_t)(n >> 8), p[7] = (uint8_t)(n >> 16), p[8] = (uint8_t)(n >> 24);
    /* The same bytes are written either way; an unmatched delivery then
     * holds zeros where the content was. */
    if (len)
        memcpy(p + PX_DELIVERY_HEADER_BYTES, content, len);
    if (!delivered)
        px_memzero(p + PX_DELIVERY_HEADER_BYTES, len);
    out->len = start + total;
    return 0;
}
