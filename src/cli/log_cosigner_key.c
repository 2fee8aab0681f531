/* pixiu log cosigner-key: the cosignature verifier key of a private key. */
#include "cli/log.h"

static const char usage[] =
    "usage: pixiu log cosigner-key KEYFILE\n"
    "Prints the C2SP tlog-cosignature verifier key of the private key in KEYFILE (what a\n"
    "log or reader pins to check a witness's cosignatures).\n";

static int run(int argc, char **argv) {
    px_cli_args a = {.cmd = "log cosigner-key", .usage = usage, .operands = "KEYFILE", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_signer s;
    if (px_signer_load(&s, a.argv[0], &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log cosigner-key");
    px_cosigner c;
    px_cosig_from_signer(&s, &c);
    px_signer_wipe(&s);
    px_buf b = PX_BUF_INIT;
    if (px_cosig_format(&c, &b, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log cosigner-key");
    printf("%.*s\n", (int)b.len, (const char *)b.data);
    px_buf_free(&b);
    return PX_EXIT_OK;
}

const px_cli_form px_cli_log_cosigner_key = {"cosigner-key", run, "print the cosignature verifier key of a private key"};
