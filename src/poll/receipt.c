/* The poll receipt: building it, and reading it back with every entry's
 * place in the log checked against one checkpoint signed by the log and
 * cosigned by the witnesses. What the entries say is judged in
 * receipt_check.c. */
#include <string.h>

#include "poll/pjson.h"
#include "poll/receipt_int.h"

int px_poll_receipt_build(px_buf *out, const uint8_t poll[PX_POLL_ID_BYTES], const char *checkpoint, size_t clen,
                          const px_poll_entry *entries, size_t n, const uint8_t *result, size_t rlen,
                          const uint8_t r[PX_COMMIT_RANDBYTES], px_err *err) {
    json_t *doc = json_object(), *arr = json_array();
    int rc = !doc || !arr || px_pj_set(doc, "type", json_string(PX_POLL_RECEIPT_TYPE), err) ||
             px_pj_set_hex(doc, "poll", poll, 32, err) ||
             px_pj_set(doc, "checkpoint", json_stringn(checkpoint, clen), err) ||
             px_pj_set(doc, "entries", json_incref(arr), err);
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *e = json_object(), *pr = json_array();
        rc = !e || !pr || json_array_append_new(arr, e) || px_pj_set(e, "role", json_string(entries[i].role), err) ||
             px_pj_set(e, "index", json_integer((json_int_t)entries[i].index), err) ||
             px_pj_set_b64(e, "entry", entries[i].entry, entries[i].len, err) ||
             px_pj_set(e, "proof", json_incref(pr), err);
        for (size_t k = 0; !rc && k < entries[i].nproof; k++) {
            char b[PX_B64_LEN(32) + 1];
            px_b64_encode(b, entries[i].proof + 32 * k, 32);
            rc = json_array_append_new(pr, json_string(b));
        }
        json_decref(pr);
    }
    rc = rc || px_pj_set_b64(doc, "result", result, rlen, err) ||
         px_pj_set_hex(doc, "commitment_r", r, PX_COMMIT_RANDBYTES, err) || px_json_dump(doc, out, err);
    json_decref(arr);
    json_decref(doc);
    return rc ? px_fail(err, PX_E_NOMEM, "cannot build the poll receipt") : 0;
}

void px_poll_summary_free(px_poll_summary *s) {
    px_buf_free(&s->result);
    memset(s, 0, sizeof *s);
}

void px_poll_rentries_free(px_poll_rentries *e) {
    for (size_t i = 0; e->e && i < e->n; i++)
        px_buf_free(&e->e[i].entry);
    free(e->e);
    px_buf_free(&e->result);
    memset(e, 0, sizeof *e);
}

/* The checkpoint: signed by the log, cosigned by every pinned witness. */
static int open_checkpoint(const char *text, size_t len, const px_poll_trust *t, px_checkpoint *cp, size_t *nwit,
                           px_err *err) {
    if (px_checkpoint_open(cp, text, len, t->log_key, NULL, err))
        return px_err_prefix(err, "checkpoint: ");
    px_note note;
    if (px_note_parse(&note, text, len, err)) {
        px_checkpoint_free(cp);
        return px_err_prefix(err, "checkpoint: ");
    }
    int rc = 0;
    for (size_t i = 0; !rc && i < t->nwitnesses; i++) {
        uint64_t ts;
        if (px_cosig_verify(&note, &t->witnesses[i], &ts, err))
            rc = px_err_prefix(err, "checkpoint: witness %s: ", t->witnesses[i].name);
    }
    px_note_free(&note);
    if (rc)
        px_checkpoint_free(cp);
    *nwit = t->nwitnesses;
    return rc;
}

static int read_entry(px_poll_rentry *re, const json_t *v, const px_checkpoint *cp, size_t i, px_err *err) {
    static const char *const keys[] = {"role", "index", "entry", "proof", NULL};
    static const char *const roles[] = {"poll", "issued", "release", "accepted", "proof", "spent", NULL};
    const char *role;
    int64_t index;
    json_t *pr, *h;
    size_t k;
    uint8_t proof[PX_LOG_MAX_PROOF * 32], leaf[32];
    if (px_pj_only(v, "receipt entry", keys, err) || px_json_str(v, "role", &role, err) ||
        px_pj_int(v, "index", 0, INT64_MAX, &index, err) || px_json_b64(v, "entry", &re->entry, err) ||
        px_pj_arr(v, "proof", 0, PX_LOG_MAX_PROOF, &pr, err))
        return px_err_prefix(err, "entry %zu: ", i);
    for (k = 0; roles[k] && strcmp(roles[k], role); k++)
        ;
    if (!roles[k])
        return px_fail(err, PX_E_INVALID, "entry %zu: unknown role \"%.20s\"", i, role);
    re->role = k;
    re->index = (uint64_t)index;
    json_array_foreach(pr, k, h) {
        if (!json_is_string(h) || px_b64_decode_exact(proof + 32 * k, 32, json_string_value(h), json_string_length(h),
                                                      err))
            return px_fail(err, PX_E_INVALID, "entry %zu: proof hashes are 32 bytes of base64", i);
    }
    px_log_leaf_hash(leaf, re->entry.data, re->entry.len);
    if (px_log_verify_inclusion(re->index, cp->size, leaf, proof, json_array_size(pr), cp->root, err))
        return px_err_prefix(err, "entry %zu (%s, index %llu) is not in the log: ", i, role,
                             (unsigned long long)re->index);
    return 0;
}

int px_poll_receipt_read(px_poll_rentries *out, const void *json, size_t len, const px_poll_trust *t, px_err *err) {
    static const char *const keys[] = {"type", "poll", "checkpoint", "entries", "result", "commitment_r", NULL};
    memset(out, 0, sizeof *out);
    json_t *doc = px_json_parse(json, len, 512u << 20, err), *arr, *v;
    const char *type, *note;
    px_checkpoint cp;
    size_t i;
    int rc = -1, have_cp = 0;
    if (!doc || px_pj_only(doc, "receipt", keys, err) || px_json_str(doc, "type", &type, err) ||
        px_json_hex(doc, "poll", out->poll, 32, err) || px_json_str(doc, "checkpoint", &note, err) ||
        px_pj_arr(doc, "entries", 1, PX_POLL_RECEIPT_MAX_ENTRIES, &arr, err) ||
        px_json_b64(doc, "result", &out->result, err) ||
        px_json_hex(doc, "commitment_r", out->r, PX_COMMIT_RANDBYTES, err))
        goto out;
    if (strcmp(type, PX_POLL_RECEIPT_TYPE)) {
        px_fail(err, PX_E_INVALID, "not a poll receipt (type %s)", PX_POLL_RECEIPT_TYPE);
        goto out;
    }
    if (open_checkpoint(note, json_string_length(json_object_get(doc, "checkpoint")), t, &cp, &out->witnesses, err))
        goto out;
    have_cp = 1;
    out->log_size = cp.size;
    if (!(out->e = calloc(json_array_size(arr), sizeof *out->e))) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    json_array_foreach(arr, i, v) {
        out->n = i + 1;
        if (read_entry(&out->e[i], v, &cp, i, err))
            goto out;
    }
    rc = 0;
out:
    if (have_cp)
        px_checkpoint_free(&cp);
    json_decref(doc);
    if (rc) {
        px_poll_rentries_free(out);
        return px_err_prefix(err, "poll receipt: ");
    }
    return 0;
}
