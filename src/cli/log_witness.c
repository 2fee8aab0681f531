/* pixiu log witness: cosign a log's checkpoint if it is consistent with the
 * last one this witness cosigned, locally or through a witness's
 * tlog-witness endpoint. */
#include "cli/log.h"

static const char usage[] =
    "usage: pixiu log witness --url URL --state DB --key KEYFILE --log-key VKEY\n"
    "       pixiu log witness --url URL --witness-url WURL [--log-key VKEY]\n"
    "The first form is a witness itself: it keeps the last cosigned size per log in DB,\n"
    "fetches the log's checkpoint (checked against VKEY) and a consistency proof from that\n"
    "size, and prints the checkpoint with its cosignature. The second asks the witness at\n"
    "WURL (`pixiu log witness-serve`) to do so. Exit 1 when the log is not consistent.\n";

/* Consistency proofs fetched from the log at ctx (its URL). */
static int http_proof(void *ctx, uint64_t from, uint64_t to, px_buf *out, px_err *err) {
    return px_log_remote_consistency(ctx, from, to, out, err);
}

static int remote(const char *url, const char *witness_url, const char *log_key) {
    px_buf note = PX_BUF_INIT, lines = PX_BUF_INIT;
    px_checkpoint cp = {0};
    px_err err = {0};
    int rc = PX_EXIT_OK;
    uint64_t old = 0;
    if (px_cli_log_fetch_checkpoint(url, log_key, &note, &cp, &err) ||
        px_witness_request(witness_url, (const char *)note.data, note.len, http_proof, (void *)url, &old, &lines,
                           &err)) {
        rc = px_cli_error(err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE, &err, "log witness");
    } else {
        fwrite(note.data, 1, note.len, stdout);
        fwrite(lines.data, 1, lines.len, stdout);
    }
    px_checkpoint_free(&cp);
    px_buf_free(&note);
    px_buf_free(&lines);
    return rc;
}

static int local(const char *url, const char *state, const char *keyfile, const char *log_key) {
    px_err err = {0};
    px_signer key;
    px_verifier lv;
    if (px_signer_load(&key, keyfile, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log witness: --key");
    if (px_verifier_load(&lv, log_key, &err)) {
        px_signer_wipe(&key);
        return px_cli_error(PX_EXIT_USAGE, &err, "log witness: --log-key");
    }
    px_witness *w = NULL;
    px_buf note = PX_BUF_INIT, proof = PX_BUF_INIT, out = PX_BUF_INIT;
    px_checkpoint cp = {0};
    uint64_t old = 0;
    int rc = PX_EXIT_USAGE;
    if (px_witness_open(&w, state, &key, &err) || px_cli_log_fetch_checkpoint(url, log_key, &note, &cp, &err) ||
        px_witness_size(w, cp.origin, &old, &err))
        goto out;
    if (old > 0 && old < cp.size && px_log_remote_consistency(url, old, cp.size, &proof, &err)) {
        rc = err.code == PX_E_INVALID ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    if (px_witness_add(w, &lv, (const char *)note.data, note.len, old, proof.data, proof.len / PX_LOG_HASH_BYTES,
                       &out, &err)) {
        rc = err.code == PX_E_STATE || err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    fwrite(out.data, 1, out.len, stdout);
    rc = PX_EXIT_OK;
out:
    if (rc)
        px_cli_error(rc, &err, "log witness");
    px_signer_wipe(&key);
    px_witness_close(w);
    px_checkpoint_free(&cp);
    px_buf_free(&note);
    px_buf_free(&proof);
    px_buf_free(&out);
    return rc;
}

static int run(int argc, char **argv) {
    const char *url = NULL, *state = NULL, *key = NULL, *log_key = NULL, *witness_url = NULL;
    const px_cli_opt opts[] = {{"url", 0, PX_CLI_VALUE, &url, 1},         {"state", 0, PX_CLI_VALUE, &state, 0},
                               {"key", 0, PX_CLI_VALUE, &key, 0},         {"log-key", 0, PX_CLI_VALUE, &log_key, 0},
                               {"witness-url", 0, PX_CLI_VALUE, &witness_url, 0}, {0}};
    px_cli_args a = {.cmd = "log witness", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (witness_url) {
        if (state || key)
            return px_cli_usage_error(&a, "--witness-url asks another witness: --state and --key are its own");
        return remote(url, witness_url, log_key);
    }
    if (!state || !key || !log_key)
        return px_cli_usage_error(&a, "a local witness needs --state, --key and --log-key (or give --witness-url)");
    return local(url, state, key, log_key);
}

const px_cli_form px_cli_log_witness = {"witness", run, "cosign a log's checkpoint if consistent with the last one"};
