/* Appending with proof: what a caller that must *show* someone else its
 * entry is in the log needs back from one append. Used in-process (a λ's
 * statements in the unit tests and `pixiu lambda step`) and over HTTP (the
 * answer of POST /add?wait=1, checked before it is believed). */
#include <stdlib.h>
#include <string.h>

#include "pixiu/log.h"

/* The signed checkpoint's body: the covering size is on its second line. */
static int note_checkpoint(const px_buf *note, px_checkpoint *cp, px_err *err) {
    px_note n = {0};
    int rc = px_note_parse(&n, (const char *)note->data, note->len, err) ||
             px_checkpoint_parse(cp, n.text, n.text_len, err);
    px_note_free(&n);
    return rc ? -1 : 0;
}

int px_log_append_proven(px_log *log, const uint8_t *entry, size_t len, px_log_receipt *out, px_err *err) {
    px_log_receipt r;
    memset(&r, 0, sizeof r);
    if (px_log_append(log, &entry, &len, 1, &r.index, &r.note, err) ||
        note_checkpoint(&r.note, &r.checkpoint, err) ||
        px_log_inclusion(log, r.index, r.checkpoint.size, &r.proof, err)) {
        px_log_receipt_free(&r);
        return -1;
    }
    *out = r;
    return 0;
}

int px_log_receipt_check(const px_log_receipt *r, const uint8_t *entry, size_t len, const px_verifier *log_key,
                         px_err *err) {
    px_checkpoint cp;
    if (px_checkpoint_open(&cp, (const char *)r->note.data, r->note.len, log_key, NULL, err))
        return -1;
    uint8_t leaf[PX_LOG_HASH_BYTES];
    px_log_leaf_hash(leaf, entry, len);
    int rc = r->proof.len % PX_LOG_HASH_BYTES
                 ? px_fail(err, PX_E_VERIFY, "inclusion proof is not a whole number of hashes")
                 : px_log_verify_inclusion(r->index, cp.size, leaf, r->proof.data, r->proof.len / PX_LOG_HASH_BYTES,
                                           cp.root, err);
    px_checkpoint_free(&cp);
    return rc;
}
