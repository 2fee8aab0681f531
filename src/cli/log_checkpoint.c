/* pixiu log checkpoint: print (and check) a log's checkpoint. */
#include "cli/log.h"

static const char usage[] =
    "usage: pixiu log checkpoint --url URL [--key VKEY] [--witness-key COSIGNER_VKEY]\n"
    "Prints the log's current checkpoint (a signed note). With --key, only if the log's\n"
    "key signed it; with --witness-key, only if that witness cosigned it (exit 1 if not).\n";

static int check_cosigned(const char *cosigner, const px_buf *note, px_err *err) {
    px_cosigner c;
    px_note n = {0};
    if (px_cosig_load(&c, cosigner, err))
        return -1;
    int rc = px_note_parse(&n, (const char *)note->data, note->len, err) || px_cosig_verify(&n, &c, NULL, err) ? -1 : 0;
    px_note_free(&n);
    return rc;
}

static int run(int argc, char **argv) {
    const char *url = NULL, *key = NULL, *witness_key = NULL;
    const px_cli_opt opts[] = {{"url", 0, PX_CLI_VALUE, &url, 1},
                               {"key", 0, PX_CLI_VALUE, &key, 0},
                               {"witness-key", 0, PX_CLI_VALUE, &witness_key, 0},
                               {0}};
    px_cli_args a = {.cmd = "log checkpoint", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_buf note = PX_BUF_INIT;
    px_checkpoint cp = {0};
    px_err err = {0};
    int rc = PX_EXIT_OK;
    if (px_cli_log_fetch_checkpoint(url, key, &note, &cp, &err) || (witness_key && check_cosigned(witness_key, &note, &err)))
        rc = px_cli_error(err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE, &err, "log checkpoint");
    else
        fwrite(note.data, 1, note.len, stdout);
    px_checkpoint_free(&cp);
    px_buf_free(&note);
    return rc;
}

const px_cli_form px_cli_log_checkpoint = {"checkpoint", run, "print (and check) a log's checkpoint"};
