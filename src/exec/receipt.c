/* Receipts: what a consumer keeps to show, offline, that its result came
 * out of the task it asked for. A receipt is the task's log entries, each
 * with an inclusion proof against one checkpoint signed by the log and
 * cosigned by witnesses, plus the keys needed to check them. Checking
 * re-runs the audit over those entries, so a receipt holds exactly when the
 * audit of its entries ends ok with the receipt's result. */
#include <string.h>

#include "exec/util.h"

/* ---- building ----------------------------------------------------------------- */

static int key_string(json_t *arr, int (*fmt)(const void *, px_buf *, px_err *), const void *k, px_err *err) {
    px_buf b = PX_BUF_INIT;
    int rc = fmt(k, &b, err) || px_x_append(arr, json_stringn((char *)b.data, b.len), err);
    px_buf_free(&b);
    return rc ? -1 : 0;
}

static int fmt_verifier(const void *k, px_buf *b, px_err *err) {
    return px_verifier_format(k, b, err);
}

static int fmt_cosigner(const void *k, px_buf *b, px_err *err) {
    return px_cosig_format(k, b, err);
}

/* {"node": id, "key": verifier key} */
static int node_key(json_t *arr, const char *id, const px_verifier *v, px_err *err) {
    json_t *o = json_object(), *k = json_array();
    int rc = px_x_append(arr, o, err) || px_x_set(o, "node", json_string(id), err) || !k ||
             key_string(k, fmt_verifier, v, err) || px_x_set(o, "key", json_incref(json_array_get(k, 0)), err);
    json_decref(k);
    return rc ? -1 : 0;
}

static int build_keys(json_t *r, const px_receipt_parts *p, px_err *err) {
    json_t *log = json_array(), *wit = json_array(), *pods = json_array(), *plat = json_array(),
           *builds = json_array();
    if (px_x_set(r, "witnesses", wit, err) || px_x_set(r, "pods", pods, err) || px_x_set(r, "platforms", plat, err) ||
        px_x_set(r, "builds", builds, err) || !log || key_string(log, fmt_verifier, p->log_key, err))
        goto fail;
    if (px_x_set(r, "log", json_incref(json_array_get(log, 0)), err))
        goto fail;
    for (size_t i = 0; i < p->nwitnesses; i++)
        if (key_string(wit, fmt_cosigner, &p->witnesses[i], err))
            goto fail;
    for (size_t i = 0; i < p->npods; i++)
        if (node_key(pods, p->pods[i].id, &p->pods[i].key, err))
            goto fail;
    for (size_t i = 0; i < p->nplatforms; i++)
        if (node_key(plat, p->platforms[i].id, &p->platforms[i].platform, err))
            goto fail;
    for (size_t i = 0; i < p->nbuilds; i++) {
        char hex[2 * PX_SHA256_BYTES + 1];
        px_hex_encode(hex, p->builds[i], PX_SHA256_BYTES);
        if (px_x_append(builds, json_string(hex), err))
            goto fail;
    }
    json_decref(log);
    return 0;
fail:
    json_decref(log);
    return -1;
}

static int build_entries(json_t *r, const px_receipt_parts *p, px_err *err) {
    json_t *arr = json_array();
    if (px_x_set(r, "entries", arr, err))
        return -1;
    for (size_t i = 0; i < p->nentries; i++) {
        const px_receipt_entry *e = &p->entries[i];
        json_t *o = json_object(), *proof = json_array();
        if (px_x_append(arr, o, err) || px_x_set(o, "index", json_integer((json_int_t)e->index), err) ||
            px_x_set_b64(o, "entry", e->data, e->len, err) || px_x_set(o, "proof", proof, err))
            return -1;
        for (size_t k = 0; k < e->nproof; k++) {
            px_buf b = PX_BUF_INIT;
            int rc = px_buf_append_b64(&b, e->proof + 32 * k, 32, err) ||
                     px_x_append(proof, json_stringn((char *)b.data, b.len), err);
            px_buf_free(&b);
            if (rc)
                return -1;
        }
    }
    return 0;
}

int px_receipt_build(px_buf *out, const px_receipt_parts *p, px_err *err) {
    json_t *r = json_object();
    int rc = !r || px_x_set(r, "type", json_string(PX_RECEIPT_TYPE), err) ||
             px_x_set_hex(r, "manifest", p->manifest, PX_SHA256_BYTES, err) ||
             px_receipt_outcome_build(r, p, err) ||
             px_x_set(r, "checkpoint", json_stringn(p->checkpoint, p->checkpoint_len), err) ||
             build_keys(r, p, err) || build_entries(r, p, err) || px_json_dump(r, out, err);
    json_decref(r);
    if (rc && !r)
        return px_fail(err, PX_E_NOMEM, "out of memory building a receipt");
    return rc ? -1 : 0;
}

/* ---- checking ----------------------------------------------------------------- */

typedef struct rcpt {
    px_verifier log_key;
    px_cosigner *witnesses;
    size_t nwitnesses;
    px_pod_key *pods;
    size_t npods;
    px_node_platform *platforms;
    size_t nplatforms;
    uint8_t (*builds)[PX_SHA256_BYTES];
    size_t nbuilds;
    px_entry *entries;
    size_t nentries;
    int *platform_used, *build_used;
} rcpt;

static void rcpt_free(rcpt *r) {
    for (size_t i = 0; i < r->nentries; i++)
        px_entry_free(&r->entries[i]);
    free(r->entries);
    free(r->witnesses);
    free(r->pods);
    free(r->platforms);
    free(r->builds);
    free(r->platform_used);
    free(r->build_used);
}

typedef int (*key_parse_fn)(void *out, const char *s, size_t n, px_err *err);

static int parse_cosigner(void *out, const char *s, size_t n, px_err *err) {
    return px_cosig_parse(out, s, n, err);
}

/* Allocate *out with one element per string of arr, parsed by fn. */
static int parse_key_list(const json_t *r, const char *key, size_t size, void **out, size_t *n, key_parse_fn fn,
                          px_err *err) {
    json_t *arr, *v;
    size_t i;
    if (px_x_arr(r, key, 0, PX_RECEIPT_MAX_KEYS, &arr, err))
        return -1;
    if (!(*out = calloc(json_array_size(arr) + 1, size)))
        return px_fail(err, PX_E_NOMEM, "out of memory reading keys");
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v) || fn((char *)*out + i * size, json_string_value(v), json_string_length(v), err))
            return px_fail(err, PX_E_INVALID, "%s entry %zu is not a valid key", key, i);
    }
    *n = json_array_size(arr);
    return 0;
}

/* An array of {"node", "key"} objects. */
static int parse_node_keys(const json_t *doc, const char *field, px_node_platform **out, size_t *n, px_err *err) {
    static const char *const keys[] = {"node", "key", NULL};
    json_t *arr, *v;
    size_t i;
    const char *k;
    if (px_x_arr(doc, field, 0, PX_RECEIPT_MAX_KEYS, &arr, err))
        return -1;
    if (!(*out = calloc(json_array_size(arr) + 1, sizeof **out)))
        return px_fail(err, PX_E_NOMEM, "out of memory reading %s", field);
    json_array_foreach(arr, i, v) {
        if (px_json_only(v, field, keys, err) || px_x_strcpy(v, "node", (*out)[i].id, sizeof (*out)[i].id, err) ||
            px_json_str(v, "key", &k, err) || px_verifier_parse(&(*out)[i].platform, k, strlen(k), err))
            return px_err_prefix(err, "%s %zu: ", field, i);
        if (!px_id_valid((*out)[i].id))
            return px_fail(err, PX_E_INVALID, "%s %zu: invalid node id", field, i);
    }
    *n = json_array_size(arr);
    return 0;
}

static int parse_platforms(rcpt *r, const json_t *doc, px_err *err) {
    if (parse_node_keys(doc, "platforms", &r->platforms, &r->nplatforms, err))
        return -1;
    if (!(r->platform_used = calloc(r->nplatforms + 1, sizeof *r->platform_used)))
        return px_fail(err, PX_E_NOMEM, "out of memory reading platforms");
    return 0;
}

static int parse_builds(rcpt *r, const json_t *doc, px_err *err) {
    json_t *arr, *v;
    size_t i;
    if (px_x_arr(doc, "builds", 0, PX_RECEIPT_MAX_KEYS, &arr, err))
        return -1;
    r->builds = calloc(json_array_size(arr) + 1, sizeof *r->builds);
    r->build_used = calloc(json_array_size(arr) + 1, sizeof *r->build_used);
    if (!r->builds || !r->build_used)
        return px_fail(err, PX_E_NOMEM, "out of memory reading builds");
    json_array_foreach(arr, i, v) {
        if (px_x_hex_value(v, "build digest", r->builds[i], PX_SHA256_BYTES, err))
            return -1;
    }
    r->nbuilds = json_array_size(arr);
    return 0;
}

static int parse_pods(rcpt *r, const json_t *doc, px_err *err) {
    px_node_platform *nk = NULL;
    if (parse_node_keys(doc, "pods", &nk, &r->npods, err)) {
        free(nk);
        return -1;
    }
    r->pods = calloc(r->npods + 1, sizeof *r->pods);
    if (!r->pods) {
        free(nk);
        return px_fail(err, PX_E_NOMEM, "out of memory reading pods");
    }
    for (size_t i = 0; i < r->npods; i++) {
        memcpy(r->pods[i].id, nk[i].id, sizeof r->pods[i].id);
        memcpy(r->pods[i].sign_pk, nk[i].platform.pk, PX_SIGN_PUBLICKEYBYTES);
    }
    free(nk);
    return 0;
}

/* One entry's bytes, checked for inclusion in the checkpoint's tree. */
static int entry_included(const json_t *v, const px_checkpoint *cp, uint64_t prev, int first, uint64_t *index,
                          px_buf *data, px_err *err) {
    static const char *const keys[] = {"index", "entry", "proof", NULL};
    json_t *proof, *h;
    size_t k;
    int64_t ix;
    if (px_json_only(v, "entry", keys, err) || px_json_int(v, "index", &ix, err) || px_json_b64(v, "entry", data, err) ||
        px_x_arr(v, "proof", 0, PX_LOG_MAX_PROOF, &proof, err))
        return -1;
    if (ix < 0 || (uint64_t)ix >= cp->size || (!first && (uint64_t)ix <= prev))
        return px_fail(err, PX_E_INVALID, "index %lld is not ascending within the checkpoint's %llu entries",
                       (long long)ix, (unsigned long long)cp->size);
    uint8_t hashes[PX_LOG_MAX_PROOF][PX_LOG_HASH_BYTES], leaf[PX_LOG_HASH_BYTES];
    json_array_foreach(proof, k, h) {
        if (!json_is_string(h) ||
            px_b64_decode_exact(hashes[k], PX_LOG_HASH_BYTES, json_string_value(h), json_string_length(h), err))
            return px_fail(err, PX_E_INVALID, "proof hash %zu is not 32 bytes of base64", k);
    }
    px_log_leaf_hash(leaf, data->data, data->len);
    *index = (uint64_t)ix;
    return px_log_verify_inclusion(*index, cp->size, leaf, &hashes[0][0], json_array_size(proof), cp->root, err);
}

/* Every entry's inclusion first (cheap hashing), then parse them all. */
static int check_entries(rcpt *r, const json_t *doc, const px_checkpoint *cp, px_err *err) {
    json_t *arr, *v;
    size_t i;
    if (px_x_arr(doc, "entries", 1, PX_RECEIPT_MAX_ENTRIES, &arr, err))
        return -1;
    size_t n = json_array_size(arr);
    px_buf *data = calloc(n, sizeof *data);
    uint64_t *index = calloc(n, sizeof *index);
    r->entries = calloc(n, sizeof *r->entries);
    int rc = 0;
    if (!data || !index || !r->entries)
        rc = px_fail(err, PX_E_NOMEM, "out of memory reading entries");
    json_array_foreach(arr, i, v) {
        if (rc)
            break;
        if ((rc = entry_included(v, cp, i ? index[i - 1] : 0, i == 0, &index[i], &data[i], err)))
            px_err_prefix(err, "entry %zu: ", i);
    }
    for (i = 0; rc == 0 && i < n; i++) {
        if ((rc = px_entry_parse(&r->entries[i], index[i], data[i].data, data[i].len, err)))
            px_err_prefix(err, "entry %zu: ", i);
        else
            r->nentries = i + 1;
    }
    for (i = 0; data && i < n; i++)
        px_buf_free(&data[i]);
    free(data);
    free(index);
    return rc;
}

static int check_checkpoint(const json_t *doc, const px_verifier *log_key, const rcpt *r, const px_receipt_pins *pins,
                            px_checkpoint *cp, size_t *ncosigs, px_err *err) {
    const char *text;
    if (px_json_str(doc, "checkpoint", &text, err))
        return -1;
    size_t len = json_string_length(json_object_get(doc, "checkpoint"));
    px_note note;
    if (px_checkpoint_open(cp, text, len, log_key, NULL, err))
        return px_err_prefix(err, "checkpoint: ");
    int rc = px_note_parse(&note, text, len, err);
    int parsed = rc == 0;
    for (size_t i = 0; rc == 0 && i < r->nwitnesses; i++)
        if (px_cosig_verify(&note, &r->witnesses[i], NULL, err))
            rc = px_err_prefix(err, "witness %s: ", r->witnesses[i].name);
    for (size_t i = 0; rc == 0 && pins && i < pins->nwitnesses; i++)
        if (px_cosig_verify(&note, &pins->witnesses[i], NULL, err))
            rc = px_err_prefix(err, "trusted witness %s: ", pins->witnesses[i].name);
    if (parsed)
        px_note_free(&note);
    if (rc) {
        px_checkpoint_free(cp);
        return -1;
    }
    *ncosigs = r->nwitnesses;
    return 0;
}

/* The evidence check of the audit, noting which platform and build vouched
 * for each instance: a receipt key nothing used is refused. */
static int tracking_check(void *ctx, const char *node, const uint8_t *ev, size_t ev_len, const uint8_t *nonce,
                          const px_stage_spec *spec, const uint8_t *config, size_t config_len, px_attested *out,
                          px_err *err) {
    rcpt *r = ctx;
    if (r->nbuilds == 0)
        return px_fail(err, PX_E_VERIFY, "the receipt names no build");
    px_exec_trust t = {r->platforms, r->nplatforms, (const uint8_t(*)[PX_SHA256_BYTES])r->builds, r->nbuilds, NULL};
    if (px_exec_evidence_check(&t, node, ev, ev_len, nonce, spec, config, config_len, out, err))
        return -1;
    for (size_t b = 0; b < r->nbuilds; b++)
        if (px_ct_equal(r->builds[b], out->build, PX_SHA256_BYTES))
            r->build_used[b] = 1;
    for (size_t i = 0; i < r->nplatforms; i++)
        if (!strcmp(r->platforms[i].id, node))
            r->platform_used[i] = 1;
    return 0;
}

static int all_used(const rcpt *r, const uint8_t *mid, px_err *err) {
    for (size_t i = 0; i < r->nplatforms; i++)
        if (!r->platform_used[i])
            return px_fail(err, PX_E_VERIFY, "platform key of %s vouches for no instance of the task", r->platforms[i].id);
    for (size_t i = 0; i < r->nbuilds; i++)
        if (!r->build_used[i])
            return px_fail(err, PX_E_VERIFY, "build %zu measures no instance of the task", i);
    for (size_t i = 0; i < r->npods; i++) {
        int used = 0;
        for (size_t k = 0; k < r->nentries && !used; k++) {
            const px_entry *e = &r->entries[k];
            used = e->kind == PX_ENTRY_RELEASE && px_ct_equal(e->manifest, mid, PX_SHA256_BYTES) &&
                   !strcmp(e->pod, r->pods[i].id) && !px_dsse_verify_pk(&e->env, r->pods[i].sign_pk, NULL);
        }
        if (!used)
            return px_fail(err, PX_E_VERIFY, "POD key %s signed no release of the task", r->pods[i].id);
    }
    return 0;
}

static int check_doc(const json_t *doc, const px_receipt_pins *pins, px_receipt_summary *s, rcpt *r, px_err *err) {
    static const char *const keys[] = {"type", "manifest", "outcome", "result", "failure", "log", "checkpoint",
                                       "witnesses", "pods", "platforms", "builds", "entries", NULL};
    const char *type, *logk;
    if (px_json_only(doc, "receipt", keys, err) || px_json_str(doc, "type", &type, err))
        return -1;
    if (strcmp(type, PX_RECEIPT_TYPE))
        return px_fail(err, PX_E_INVALID, "not a receipt: type is not %s", PX_RECEIPT_TYPE);
    if (px_json_hex(doc, "manifest", s->manifest, PX_SHA256_BYTES, err) || px_json_str(doc, "log", &logk, err) ||
        px_verifier_parse(&r->log_key, logk, strlen(logk), err))
        return -1;
    if (pins && pins->log_key) {
        if (strcmp(pins->log_key->name, r->log_key.name) || pins->log_key->id != r->log_key.id ||
            !px_ct_equal(pins->log_key->pk, r->log_key.pk, PX_SIGN_PUBLICKEYBYTES))
            return px_fail(err, PX_E_VERIFY, "receipt names log key %s, not the trusted log key %s", r->log_key.name,
                           pins->log_key->name);
        s->pinned = 1;
    }
    if (parse_key_list(doc, "witnesses", sizeof *r->witnesses, (void **)&r->witnesses, &r->nwitnesses,
                       parse_cosigner, err) ||
        parse_pods(r, doc, err) || parse_platforms(r, doc, err) || parse_builds(r, doc, err))
        return -1;
    px_checkpoint cp;
    if (check_checkpoint(doc, &r->log_key, r, pins, &cp, &s->ncosigs, err))
        return -1;
    s->tree_size = cp.size;
    int rc = check_entries(r, doc, &cp, err);
    px_checkpoint_free(&cp);
    if (rc)
        return -1;
    s->nentries = r->nentries;
    if (px_receipt_outcome_check(doc, pins, r->witnesses, r->nwitnesses, &r->log_key, r->entries, r->nentries,
                                 r->pods, r->npods, tracking_check, r, s, err))
        return -1;
    return all_used(r, s->manifest, err);
}

int px_receipt_check(const void *json, size_t len, const px_receipt_pins *pins, px_receipt_summary *s, px_err *err) {
    memset(s, 0, sizeof *s);
    json_t *doc = px_json_parse(json, len, PX_RECEIPT_MAX_BYTES, err);
    if (!doc)
        return px_err_prefix(err, "receipt: ");
    rcpt r;
    memset(&r, 0, sizeof r);
    int rc = check_doc(doc, pins, s, &r, err);
    json_decref(doc);
    rcpt_free(&r);
    if (rc) {
        if (err && err->code != PX_E_NOMEM && err->code != PX_E_IO)
            err->code = err->code == PX_E_INVALID ? PX_E_INVALID : PX_E_VERIFY;
        px_receipt_summary_free(s);
        return px_err_prefix(err, "receipt: ");
    }
    return 0;
}

void px_receipt_summary_free(px_receipt_summary *s) {
    if (s)
        px_audit_free(&s->audit);
}
