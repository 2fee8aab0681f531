/* A training's terms (docs/executor.md, "Rounds of a training at a POD").
 * A POD charges a training once, in its first round, for the whole
 * training (the fl-agg stage's "dp"); every later round runs under that
 * charge, so it must be the same training: the same datasets, the same
 * stages and the same number of rounds. Only what a round may change is
 * left out: its round number, its first-round id, its name, nonce, times
 * and receivers, and the fl-agg stage's "code" (the digest of the round's
 * input model, which each round moves). The fl-user stage's code is the
 * training module and stays in.
 *
 * The terms are a canonical JSON document read from the signed payload
 * itself (not from the parsed structs, so no member can be forgotten):
 *
 *   {"datasets": <as signed>, "stages": [<each stage as signed, fl-agg's
 *    "code" removed>], "training": {"rounds": N[, "min_change": "..."]}}
 *
 * dumped compact with sorted keys, and their digest is
 * SHA-256("PIXIU-training-terms-v1\n" || document). */
#include <string.h>

#include "exec/util.h"

#define TERMS_DOMAIN "PIXIU-training-terms-v1\n"

static int terms_object(const px_manifest *m, const json_t *doc, json_t **out, px_err *err) {
    json_t *datasets = json_object_get(doc, "datasets"), *stages = json_object_get(doc, "stages");
    json_t *tr = json_object_get(doc, "training");
    if (!json_is_array(datasets) || !json_is_array(stages) || json_array_size(stages) != m->nstages ||
        !json_is_object(tr))
        return px_fail(err, PX_E_INVALID, "the manifest's payload does not match its parsed form");
    json_t *o = json_object(), *st = json_array(), *t = json_object();
    int rc = o && st && t ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < m->nstages; i++) {
        json_t *s = json_deep_copy(json_array_get(stages, i));
        if (!s || json_array_append_new(st, s)) {
            rc = px_fail(err, PX_E_NOMEM, "out of memory");
            break;
        }
        /* The round's input model: the one thing a round's stage changes. */
        if (m->stages[i].kind == PX_STAGE_FL_AGG)
            json_object_del(s, "code");
    }
    if (rc == 0)
        rc = px_x_set(t, "rounds", json_integer(m->training.rounds), err);
    if (rc == 0 && m->training.has_min_change)
        rc = px_x_set(t, "min_change", json_string(m->training.min_change), err);
    if (rc == 0)
        rc = px_x_set(o, "datasets", json_deep_copy(datasets), err) || px_x_set(o, "stages", json_incref(st), err) ||
             px_x_set(o, "training", json_incref(t), err);
    json_decref(st);
    json_decref(t);
    if (rc) {
        json_decref(o);
        return -1;
    }
    *out = o;
    return 0;
}

int px_manifest_training_terms(const px_manifest *m, px_buf *doc, uint8_t digest[PX_SHA256_BYTES], px_err *err) {
    if (!m->has_training)
        return px_fail(err, PX_E_INVALID, "the manifest is not a round of a training");
    px_dsse e;
    memset(&e, 0, sizeof e);
    if (px_dsse_parse(&e, m->envelope.data, m->envelope.len, err))
        return px_err_prefix(err, "training terms: ");
    json_t *payload = px_json_parse(e.payload.data, e.payload.len, PX_MANIFEST_MAX_BYTES, err), *o = NULL;
    px_dsse_free(&e);
    if (!payload || terms_object(m, payload, &o, err)) {
        json_decref(payload);
        return px_err_prefix(err, "training terms: ");
    }
    json_decref(payload);
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!s)
        return px_fail(err, PX_E_NOMEM, "training terms: could not serialise them");
    size_t len = strlen(s);
    int rc = px_buf_append(doc, s, len, err);
    if (rc == 0) {
        px_sha256_ctx c;
        px_sha256_init(&c);
        px_sha256_update(&c, TERMS_DOMAIN, sizeof TERMS_DOMAIN - 1);
        px_sha256_update(&c, s, len);
        px_sha256_final(&c, digest);
    }
    free(s);
    return rc;
}

/* The first member of one stage that differs, by sorted key. */
static void stage_diff(const json_t *a, const json_t *b, size_t i, char *out, size_t cap) {
    const char *kind = json_string_value(json_object_get(a, "kind"));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)a, key, v) {
        if (!json_equal(v, json_object_get(b, key))) {
            snprintf(out, cap, "stage %zu (%s): its \"%.40s\" differs", i, kind ? kind : "?", key);
            return;
        }
    }
    json_object_foreach((json_t *)b, key, v) {
        if (!json_object_get(a, key)) {
            snprintf(out, cap, "stage %zu (%s): it adds \"%.40s\"", i, kind ? kind : "?", key);
            return;
        }
    }
    snprintf(out, cap, "stage %zu differs", i);
}

void px_manifest_training_terms_diff(const void *first, size_t first_len, const void *later, size_t later_len,
                                     char *out, size_t cap) {
    json_t *a = json_loadb(first, first_len, 0, NULL), *b = json_loadb(later, later_len, 0, NULL);
    json_t *ta = json_object_get(a, "training"), *tb = json_object_get(b, "training");
    json_t *sa = json_object_get(a, "stages"), *sb = json_object_get(b, "stages");
    if (!a || !b)
        snprintf(out, cap, "the stored terms do not read");
    else if (!json_equal(json_object_get(ta, "rounds"), json_object_get(tb, "rounds")))
        snprintf(out, cap, "rounds %lld, not %lld", (long long)json_integer_value(json_object_get(tb, "rounds")),
                 (long long)json_integer_value(json_object_get(ta, "rounds")));
    else if (!json_equal(ta, tb))
        snprintf(out, cap, "its min_change differs");
    else if (!json_equal(json_object_get(a, "datasets"), json_object_get(b, "datasets")))
        snprintf(out, cap, "its datasets differ (names, schemas or PODs)");
    else if (json_array_size(sa) != json_array_size(sb))
        snprintf(out, cap, "%zu stages, not %zu", json_array_size(sb), json_array_size(sa));
    else {
        snprintf(out, cap, "the documents differ");
        for (size_t i = 0; i < json_array_size(sa); i++)
            if (!json_equal(json_array_get(sa, i), json_array_get(sb, i))) {
                stage_diff(json_array_get(sa, i), json_array_get(sb, i), i, out, cap);
                break;
            }
    }
    json_decref(a);
    json_decref(b);
}
