/* pixiu log check-consistency: is a checkpoint seen before consistent with
 * the log's current one? */
#include <string.h>

#include "cli/log.h"

static const char usage[] =
    "usage: pixiu log check-consistency --url URL --key VKEY OLD_CHECKPOINT\n"
    "Fetches the log's current checkpoint and a consistency proof from OLD_CHECKPOINT's\n"
    "size, both checked against VKEY. Exit 0 when the old tree is a prefix of the new\n"
    "one, 1 when it is not (the log forked), 2 on errors.\n";

static int run(int argc, char **argv) {
    const char *url = NULL, *key = NULL;
    const px_cli_opt opts[] = {{"url", 0, PX_CLI_VALUE, &url, 1}, {"key", 0, PX_CLI_VALUE, &key, 1}, {0}};
    px_cli_args a = {.cmd = "log check-consistency", .usage = usage, .opts = opts, .operands = "OLD_CHECKPOINT",
                     .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_verifier v;
    px_buf old = PX_BUF_INIT, note = PX_BUF_INIT, proof = PX_BUF_INIT;
    px_checkpoint ca = {0}, cb = {0};
    int rc = PX_EXIT_USAGE;
    if (px_verifier_load(&v, key, &err) || px_cli_read_input(a.argv[0], 1u << 20, &old, &err))
        goto out;
    if (px_checkpoint_open(&ca, (const char *)old.data, old.len, &v, NULL, &err) ||
        px_cli_log_fetch_checkpoint(url, key, &note, &cb, &err)) {
        rc = err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    if (strcmp(ca.origin, cb.origin) != 0) {
        px_fail(&err, PX_E_VERIFY, "origins differ: '%s' and '%s'", ca.origin, cb.origin);
        rc = PX_EXIT_INVALID;
        goto out;
    }
    if (ca.size > 0 && ca.size < cb.size && px_log_remote_consistency(url, ca.size, cb.size, &proof, &err)) {
        rc = err.code == PX_E_INVALID ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    if (ca.size > 0 && px_log_verify_consistency(ca.size, cb.size, ca.root, cb.root, proof.data,
                                                 proof.len / PX_LOG_HASH_BYTES, &err)) {
        rc = PX_EXIT_INVALID;
        goto out;
    }
    printf("consistent: size %llu -> %llu\n", (unsigned long long)ca.size, (unsigned long long)cb.size);
    rc = PX_EXIT_OK;
out:
    if (rc)
        px_cli_error(rc, &err, "log check-consistency");
    px_checkpoint_free(&ca);
    px_checkpoint_free(&cb);
    px_buf_free(&old);
    px_buf_free(&note);
    px_buf_free(&proof);
    return rc;
}

const px_cli_form px_cli_log_check_consistency = {"check-consistency", run,
                                                  "is a checkpoint seen before consistent with the current one?"};
