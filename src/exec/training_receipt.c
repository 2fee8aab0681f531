/* A training receipt (docs/fl.md, "Rounds"): every round's receipt, each
 * checked as `pixiu verify` checks a task's, and the chain between them:
 * rounds numbered from 1, the first round's manifest named as the
 * training's, each round starting from the model the one before produced,
 * and no round after a failed one. */
#include <string.h>

#include "exec/util.h"

static int hex_member(const json_t *o, const char *key, uint8_t out[PX_SHA256_BYTES], px_err *err) {
    return px_json_hex(o, key, out, PX_SHA256_BYTES, err);
}

static int round_check(const json_t *r, size_t i, const px_receipt_root *root, const uint8_t *prev_out,
                       px_training_summary *out, px_err *err) {
    static const char *const keys[] = {"round", "manifest", "model_in", "model_out", "ok", "receipt", NULL};
    uint8_t mid[PX_SHA256_BYTES], in[PX_SHA256_BYTES];
    int64_t round;
    const json_t *rec = json_object_get(r, "receipt");
    if (px_json_only(r, "round", keys, err) || px_json_int(r, "round", &round, err) ||
        hex_member(r, "manifest", mid, err) || hex_member(r, "model_in", in, err))
        return -1;
    if (round != (int64_t)i + 1)
        return px_fail(err, PX_E_VERIFY, "entry %zu is round %lld, not %zu", i, (long long)round, i + 1);
    if (prev_out && !px_ct_equal(prev_out, in, PX_SHA256_BYTES))
        return px_fail(err, PX_E_VERIFY, "round %lld does not start from the model round %lld produced",
                       (long long)round, (long long)round - 1);
    px_buf body = PX_BUF_INIT;
    px_receipt_summary s;
    int rc = !json_is_object(rec) ? px_fail(err, PX_E_VERIFY, "round %lld has no receipt", (long long)round)
                                  : px_json_dump(rec, &body, err) || px_receipt_verify(body.data, body.len, root, &s, err);
    px_buf_free(&body);
    if (rc)
        return px_err_prefix(err, "round %lld: ", (long long)round);
    int ok = !s.failed;
    if (!px_ct_equal(s.manifest, mid, PX_SHA256_BYTES))
        rc = px_fail(err, PX_E_VERIFY, "round %lld: its receipt is for another manifest", (long long)round);
    else if (json_is_true(json_object_get(r, "ok")) != ok)
        rc = px_fail(err, PX_E_VERIFY, "round %lld says %s but its receipt %s", (long long)round,
                     ok ? "it failed" : "it succeeded", ok ? "verifies a success" : "is a failure receipt");
    else if (ok && hex_member(r, "model_out", out->model, err))
        rc = -1;
    px_receipt_summary_free(&s);
    if (rc)
        return -1;
    if (i == 0)
        memcpy(out->first, mid, PX_SHA256_BYTES);
    out->rounds = (uint32_t)round;
    out->failed = !ok;
    return 0;
}

int px_training_receipt_verify(const void *json, size_t len, const px_receipt_root *root, px_training_summary *out,
                               px_err *err) {
    static const char *const keys[] = {"schema", "first", "rounds", "stopped", NULL};
    memset(out, 0, sizeof *out);
    json_t *doc = px_json_parse(json, len, PX_RECEIPT_MAX_BYTES, err), *rounds;
    const char *schema;
    uint8_t first[PX_SHA256_BYTES];
    int rc = !doc ? -1
                  : px_json_only(doc, "training receipt", keys, err) || px_json_str(doc, "schema", &schema, err) ||
                        px_x_arr(doc, "rounds", 1, PX_TRAINING_MAX_ROUNDS, &rounds, err);
    if (rc == 0 && strcmp(schema, PX_TRAINING_RECEIPT_SCHEMA))
        rc = px_fail(err, PX_E_INVALID, "training receipt: schema \"%.64s\" is not %s", schema,
                     PX_TRAINING_RECEIPT_SCHEMA);
    if (rc == 0)
        rc = hex_member(doc, "first", first, err);
    for (size_t i = 0; rc == 0 && i < json_array_size(rounds); i++) {
        if (out->failed)
            rc = px_fail(err, PX_E_VERIFY, "round %zu comes after a failed round", i + 1);
        else
            rc = round_check(json_array_get(rounds, i), i, root, i ? out->model : NULL, out, err);
    }
    if (rc == 0 && !px_ct_equal(first, out->first, PX_SHA256_BYTES))
        rc = px_fail(err, PX_E_VERIFY, "the training's first manifest is not round 1's");
    json_decref(doc);
    return rc;
}
