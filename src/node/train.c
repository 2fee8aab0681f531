/* A training (docs/fl.md, "Rounds"): the consumer's loop over rounds. Each
 * round is a task of its own, signed as a manifest that names its round,
 * the training's rounds and, after the first, the first round's manifest
 * (whose terms and charge the PODs hold it to); its fl-agg stage's code is
 * the digest of the model it starts from, so every round's manifest pins
 * its input and the round's receipt its output. The loop stops after the
 * last round, when the model moves less than min_change, or at the first
 * round that fails (its failure receipt is kept like the others). */
#include <math.h>
#include <string.h>

#include "agg/fl_int.h"
#include "exec/util.h"
#include "node/node.h"

static int round_template(const void *tmpl, size_t len, uint32_t round, const uint8_t *first, json_t **out,
                          uint32_t *rounds, px_err *err) {
    json_t *doc = px_json_parse(tmpl, len, PX_MANIFEST_MAX_BYTES, err), *t;
    if (!doc)
        return -1;
    json_int_t n = 0;
    if (!json_is_object(doc) || !json_is_object(t = json_object_get(doc, "training")) ||
        !json_is_integer(json_object_get(t, "rounds")) ||
        (n = json_integer_value(json_object_get(t, "rounds"))) < 1 || n > PX_TRAINING_MAX_ROUNDS) {
        json_decref(doc);
        return px_fail(err, PX_E_INVALID, "a training template needs \"training\": {\"rounds\": 1..%d}",
                       PX_TRAINING_MAX_ROUNDS);
    }
    *rounds = (uint32_t)n;
    int rc = px_x_set(t, "round", json_integer(round), err);
    if (!rc && first)
        rc = px_x_set_hex(t, "first", first, PX_SHA256_BYTES, err);
    if (rc) {
        json_decref(doc);
        return -1;
    }
    *out = doc;
    return 0;
}

static double model_move(const px_fl_model *a, const px_fl_model *b) {
    double s = 0;
    for (uint32_t i = 0; i < a->dim && i < b->dim; i++)
        s += ((double)b->w[i] - a->w[i]) * ((double)b->w[i] - a->w[i]);
    return sqrt(s);
}

static int min_change(const void *tmpl, size_t len, double *out) {
    json_t *doc = px_json_parse(tmpl, len, PX_MANIFEST_MAX_BYTES, NULL);
    const char *s = json_string_value(json_object_get(json_object_get(doc, "training"), "min_change"));
    *out = s ? strtod(s, NULL) : -1;
    json_decref(doc);
    return s != NULL;
}

static int add_round(json_t *arr, uint32_t round, const px_submit_result *r, const uint8_t *in, size_t in_len,
                     px_err *err) {
    uint8_t d[PX_SHA256_BYTES];
    json_t *o = json_object(), *rec = r->receipt.len ? px_json_parse(r->receipt.data, r->receipt.len,
                                                                     PX_NODE_BODY_MAX, err)
                                                     : json_null();
    px_sha256(d, in, in_len);
    int rc = !o || !rec ? -1
                        : px_x_append(arr, o, err) || px_x_set(o, "round", json_integer(round), err) ||
                              px_x_set_hex(o, "manifest", r->manifest, PX_SHA256_BYTES, err) ||
                              px_x_set_hex(o, "model_in", d, sizeof d, err) ||
                              px_x_set(o, "ok", json_boolean(r->ok), err) || px_x_set(o, "receipt", rec, err);
    if (rc == 0 && r->ok) {
        px_sha256(d, r->result.data, r->result.len);
        rc = px_x_set_hex(o, "model_out", d, sizeof d, err);
    }
    return rc;
}

int px_train(const px_submit_opts *o, const void *tmpl, size_t len, px_buf *model, px_buf *receipt,
             px_train_round_fn cb, void *ctx, px_train_result *out, px_err *err) {
    memset(out, 0, sizeof *out);
    uint8_t first[PX_SHA256_BYTES];
    uint32_t rounds = 1;
    double stop_below = -1;
    min_change(tmpl, len, &stop_below);
    json_t *doc = json_pack("{s:s,s:[]}", "schema", PX_TRAINING_RECEIPT_SCHEMA, "rounds");
    if (!doc)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    int rc = 0;
    for (uint32_t round = 1; rc == 0 && round <= rounds; round++) {
        json_t *t = NULL;
        px_buf body = PX_BUF_INIT;
        px_submit_result r;
        memset(&r, 0, sizeof r);
        px_submit_opts ro = *o;
        ro.model = model->data;
        ro.model_len = model->len;
        px_fl_model before = {0}, after = {0};
        rc = px_fl_model_parse(&before, model->data, model->len, err) ||
             round_template(tmpl, len, round, round > 1 ? first : NULL, &t, &rounds, err) ||
             px_json_dump(t, &body, err) || px_submit(&ro, body.data, body.len, &r, err);
        json_decref(t);
        px_buf_free(&body);
        if (rc == 0 && round == 1) {
            memcpy(first, r.manifest, sizeof first);
            rc = px_x_set_hex(doc, "first", first, sizeof first, err);
        }
        if (rc == 0)
            rc = add_round(json_object_get(doc, "rounds"), round, &r, model->data, model->len, err);
        if (rc == 0 && !r.ok) {
            snprintf(out->failure, sizeof out->failure, "round %u: %.400s", round, r.failure);
            out->failed = 1;
        }
        if (rc == 0 && r.ok && px_fl_model_parse(&after, r.result.data, r.result.len, err))
            rc = px_err_prefix(err, "round %u's result: ", round);
        px_train_round rd = {round, rounds, &r, r.result.data, r.result.len, 0};
        if (rc == 0 && r.ok) {
            rd.change = model_move(&before, &after);
            px_buf_reset(model);
            rc = px_buf_append(model, r.result.data, r.result.len, err);
            out->rounds = round;
        }
        if (rc == 0 && cb)
            rc = cb(ctx, &rd);
        if (rc == 0 && !out->failed && stop_below >= 0 && rd.change < stop_below && round < rounds) {
            out->stopped_early = 1;
            rounds = round;
        }
        px_fl_model_free(&before);
        px_fl_model_free(&after);
        px_submit_result_free(&r);
        if (out->failed)
            break;
    }
    if (rc == 0)
        rc = px_x_set(doc, "stopped", json_string(out->failed ? "failed" : out->stopped_early ? "min_change" : "rounds"),
                      err) ||
             px_json_dump(doc, receipt, err);
    json_decref(doc);
    return rc;
}
