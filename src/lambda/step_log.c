/* Release after log, the instance's side: it goes on (runs its stage,
 * releases its output) only when the host shows it the statement it just
 * signed in the public log, under the log key its attested config names.
 * The check is the log module's own RFC 9162 verification, so "no proof in
 * the log" means "no output left the instance". */
#include <string.h>

#include "lambda/step_internal.h"

int px_lambda_shown_check(const struct px_lambda *l, const uint8_t *entry, size_t len, const px_lambda_logged *shown,
                          px_err *err) {
    if (!shown)
        return px_fail(err, PX_E_VERIFY, "the host showed no log entry");
    px_checkpoint cp;
    if (px_checkpoint_open(&cp, shown->checkpoint, shown->checkpoint_len, &l->config.log, NULL, err)) {
        if (err)
            err->code = PX_E_VERIFY;
        return px_err_prefix(err, "the checkpoint shown is not the log's (%s): ", l->config.log.name);
    }
    uint8_t leaf[PX_LOG_HASH_BYTES];
    px_log_leaf_hash(leaf, entry, len);
    int rc = px_log_verify_inclusion(shown->index, cp.size, leaf, shown->proof, shown->nproof, cp.root, err);
    px_checkpoint_free(&cp);
    if (rc) {
        if (err)
            err->code = PX_E_VERIFY;
        return px_err_prefix(err, "the statement is not shown in the log at entry %llu: ",
                             (unsigned long long)shown->index);
    }
    return 0;
}

int px_lambda_log_local(void *ctx, const uint8_t *entry, size_t len, px_log_receipt *out, px_err *err) {
    return px_log_append_proven(ctx, entry, len, out, err);
}

px_lambda_logged px_lambda_logged_of(const px_log_receipt *r) {
    px_lambda_logged s = {r->index, (const char *)r->note.data, r->note.len, r->proof.data,
                          r->proof.len / PX_LOG_HASH_BYTES};
    return s;
}
