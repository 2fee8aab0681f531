/* pixiu note sign: sign a note, or add a signature to a signed note. */
#include "cli/cli.h"
#include "pixiu/proof.h"

static const char usage[] =
    "usage: pixiu note sign --key FILE.key NOTEFILE\n"
    "Prints NOTEFILE's text signed by the key; if NOTEFILE is already a signed note, the\n"
    "signature is added to it. NOTEFILE may be '-' for standard input.\n";

static int run(int argc, char **argv) {
    const char *keyfile = NULL;
    const px_cli_opt opts[] = {{"key", 0, PX_CLI_VALUE, &keyfile, 1}, {0}};
    px_cli_args a = {.cmd = "note sign", .usage = usage, .opts = opts, .operands = "NOTEFILE", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_signer s;
    px_buf in = PX_BUF_INIT, out = PX_BUF_INIT;
    px_note n = {0};
    int rc = PX_EXIT_USAGE;
    if (px_signer_load(&s, keyfile, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "note sign: --key");
    if (px_cli_read_input(a.argv[0], PX_NOTE_MAX_BYTES, &in, &err))
        goto out;
    if (px_note_parse(&n, (const char *)in.data, in.len, NULL) == 0) {
        if (px_note_add_sig(&n, &s, &err) || px_note_format(&n, &out, &err))
            goto out;
    } else if (px_note_sign(&out, (const char *)in.data, in.len, &s, 1, &err)) {
        goto out;
    }
    fwrite(out.data, 1, out.len, stdout);
    rc = PX_EXIT_OK;
out:
    if (rc)
        px_cli_error(rc, &err, "note sign");
    px_signer_wipe(&s);
    px_note_free(&n);
    px_buf_free(&in);
    px_buf_free(&out);
    return rc;
}

const px_cli_form px_cli_note_sign = {"sign", run, "sign a note, or add a signature to a signed note"};
