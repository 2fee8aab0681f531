/* pixiu dsse sign: a file's bytes as a DSSE v1 envelope. */
#include "cli/cli.h"
#include "pixiu/proof.h"

static const char usage[] =
    "usage: pixiu dsse sign --key FILE.key --type PAYLOADTYPE FILE\n"
    "Prints a DSSE v1 envelope of FILE's bytes ('-' for standard input) with payload type\n"
    "PAYLOADTYPE, signed by the key.\n";

static int run(int argc, char **argv) {
    const char *keyfile = NULL, *type = NULL;
    const px_cli_opt opts[] = {{"key", 0, PX_CLI_VALUE, &keyfile, 1}, {"type", 0, PX_CLI_VALUE, &type, 1}, {0}};
    px_cli_args a = {.cmd = "dsse sign", .usage = usage, .opts = opts, .operands = "FILE", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_signer s;
    px_buf in = PX_BUF_INIT, out = PX_BUF_INIT;
    int rc = PX_EXIT_USAGE;
    if (px_signer_load(&s, keyfile, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "dsse sign: --key");
    if (px_cli_read_input(a.argv[0], PX_DSSE_MAX_BYTES / 2, &in, &err) ||
        px_dsse_sign(&out, type, in.data, in.len, &s, 1, &err))
        px_cli_error(rc, &err, "dsse sign");
    else {
        fwrite(out.data, 1, out.len, stdout);
        fputc('\n', stdout);
        rc = PX_EXIT_OK;
    }
    px_signer_wipe(&s);
    px_buf_free(&in);
    px_buf_free(&out);
    return rc;
}

const px_cli_form px_cli_dsse_sign = {"sign", run, "sign a file as a DSSE v1 envelope"};
