/* Receipts checked against a trust root: the network the verifying party
 * knows on its own. A receipt carries the keys needed to check it, but
 * anyone can make keys: a consumer who runs a task on nodes of its own
 * making (fake PODs, fake platform keys) gets a receipt that is perfectly
 * self-consistent, and can even put its entries into the real log and have
 * the real witness cosign. What makes a receipt mean something is that every
 * POD key, platform key and build it names is the one the verifier pins for
 * that node, and that enough witnesses the verifier trusts cosigned its
 * checkpoint. This file checks exactly that, then runs the ordinary check
 * (px_receipt_check) for the rest. */
#include <string.h>

#include "exec/util.h"

static int same_verifier(const px_verifier *a, const px_verifier *b) {
    return a->id == b->id && !strcmp(a->name, b->name) && px_ct_equal(a->pk, b->pk, PX_SIGN_PUBLICKEYBYTES);
}

typedef const px_verifier *(*pin_fn)(const px_receipt_root *root, const char *node);

/* The receipt's {"node", "key"} lists, each key pinned for its node. Keys
 * are named as name+id, which tells two keys of one name apart. */
static int node_keys_pinned(const json_t *doc, const char *field, const char *what, pin_fn pin,
                            const px_receipt_root *root, px_err *err) {
    json_t *arr = json_object_get(doc, field), *v;
    size_t i;
    if (!json_is_array(arr))
        return px_fail(err, PX_E_INVALID, "field \"%s\" must be an array", field);
    json_array_foreach(arr, i, v) {
        const char *node = json_string_value(json_object_get(v, "node"));
        const char *key = json_string_value(json_object_get(v, "key"));
        px_verifier got;
        if (!node || !key || !px_id_valid(node) || px_verifier_parse(&got, key, strlen(key), err))
            return px_fail(err, PX_E_INVALID, "%s %zu is not a node id with a key", field, i);
        const px_verifier *want = pin(root, node);
        if (!want)
            return px_fail(err, PX_E_VERIFY, "%s key %s+%08x of node %s is not pinned by the trust root", what,
                           got.name, got.id, node);
        if (!same_verifier(want, &got))
            return px_fail(err, PX_E_VERIFY, "%s key %s+%08x of node %s is not the pinned key %s+%08x", what,
                           got.name, got.id, node, want->name, want->id);
    }
    return 0;
}

static const px_verifier *pod_pin(const px_receipt_root *r, const char *node) {
    for (size_t i = 0; i < r->npods; i++)
        if (!strcmp(r->pods[i].id, node))
            return &r->pods[i].key;
    return NULL;
}

static const px_verifier *platform_pin(const px_receipt_root *r, const char *node) {
    for (size_t i = 0; i < r->nplatforms; i++)
        if (!strcmp(r->platforms[i].id, node))
            return &r->platforms[i].platform;
    return NULL;
}

static int builds_pinned(const json_t *doc, const px_receipt_root *root, px_err *err) {
    json_t *arr = json_object_get(doc, "builds"), *v;
    size_t i;
    if (!json_is_array(arr))
        return px_fail(err, PX_E_INVALID, "field \"builds\" must be an array");
    json_array_foreach(arr, i, v) {
        uint8_t d[PX_SHA256_BYTES];
        if (px_x_hex_value(v, "build digest", d, sizeof d, err))
            return -1;
        int pinned = 0;
        for (size_t k = 0; k < root->nbuilds && !pinned; k++)
            pinned = px_ct_equal(root->builds[k], d, sizeof d);
        if (!pinned)
            return px_fail(err, PX_E_VERIFY, "build %s is not pinned by the trust root",
                           json_string_value(v));
    }
    return 0;
}

/* Witnesses the receipt names must be pinned ones; cosignatures by pinned
 * witnesses are counted against the policy, whatever the receipt lists (a
 * receipt that drops its witness list still carries the cosignature lines,
 * and one that drops those fails the policy). */
static int witnesses_pinned(const json_t *doc, const px_receipt_root *root, size_t *ncosigs, px_err *err) {
    json_t *arr = json_object_get(doc, "witnesses"), *v;
    size_t i;
    if (!json_is_array(arr))
        return px_fail(err, PX_E_INVALID, "field \"witnesses\" must be an array");
    json_array_foreach(arr, i, v) {
        px_cosigner c;
        if (!json_is_string(v) || px_cosig_parse(&c, json_string_value(v), json_string_length(v), err))
            return px_fail(err, PX_E_INVALID, "witnesses entry %zu is not a valid key", i);
        int pinned = 0;
        for (size_t k = 0; k < root->nwitnesses && !pinned; k++)
            pinned = c.id == root->witnesses[k].id && !strcmp(c.name, root->witnesses[k].name) &&
                     px_ct_equal(c.pk, root->witnesses[k].pk, PX_SIGN_PUBLICKEYBYTES);
        if (!pinned)
            return px_fail(err, PX_E_VERIFY, "witness %s is not pinned by the trust root", c.name);
    }
    const char *text = json_string_value(json_object_get(doc, "checkpoint"));
    if (!text)
        return px_fail(err, PX_E_INVALID, "field \"checkpoint\" must be a string");
    px_note note;
    if (px_note_parse(&note, text, json_string_length(json_object_get(doc, "checkpoint")), err))
        return px_err_prefix(err, "checkpoint: ");
    size_t n = 0;
    for (size_t k = 0; k < root->nwitnesses; k++)
        n += px_cosig_verify(&note, &root->witnesses[k], NULL, NULL) == 0;
    px_note_free(&note);
    *ncosigs = n;
    if (n < root->min_witnesses)
        return px_fail(err, PX_E_VERIFY, "the checkpoint is cosigned by %zu of the %zu pinned witnesses, the witness "
                       "policy needs %zu", n, root->nwitnesses, root->min_witnesses);
    return 0;
}

static int pinned(const json_t *doc, const px_receipt_root *root, size_t *ncosigs, px_err *err) {
    const char *logk = json_string_value(json_object_get(doc, "log"));
    px_verifier lk;
    if (!logk || px_verifier_parse(&lk, logk, strlen(logk), err))
        return px_fail(err, PX_E_INVALID, "field \"log\" must be a verifier key");
    if (!same_verifier(&lk, root->log_key))
        return px_fail(err, PX_E_VERIFY, "log key %s+%08x is not the pinned log key %s+%08x", lk.name, lk.id,
                       root->log_key->name, root->log_key->id);
    if (root->min_witnesses > root->nwitnesses)
        return px_fail(err, PX_E_INVALID, "the witness policy needs %zu cosignatures of %zu pinned witnesses",
                       root->min_witnesses, root->nwitnesses);
    return node_keys_pinned(doc, "pods", "POD", pod_pin, root, err) ||
                   node_keys_pinned(doc, "platforms", "platform", platform_pin, root, err) ||
                   builds_pinned(doc, root, err) || witnesses_pinned(doc, root, ncosigs, err)
               ? -1
               : 0;
}

int px_receipt_verify(const void *json, size_t len, const px_receipt_root *root, px_receipt_summary *s,
                      px_err *err) {
    memset(s, 0, sizeof *s);
    if (!root || !root->log_key)
        return px_fail(err, PX_E_INVALID, "receipt: no trust root: a receipt checked only against its own keys "
                       "proves nothing about the network it came from");
    json_t *doc = px_json_parse(json, len, PX_RECEIPT_MAX_BYTES, err);
    if (!doc)
        return px_err_prefix(err, "receipt: ");
    size_t ncosigs = 0;
    int rc = json_is_object(doc) ? pinned(doc, root, &ncosigs, err)
                                 : px_fail(err, PX_E_INVALID, "a receipt is a JSON object");
    json_decref(doc);
    if (rc)
        return px_err_prefix(err, "receipt: ");
    px_receipt_pins pins = {root->log_key, NULL, 0};
    if (px_receipt_check(json, len, &pins, s, err))
        return -1;
    s->ncosigs = ncosigs;
    return 0;
}
