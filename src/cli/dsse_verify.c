/* pixiu dsse verify: check an envelope against a verifier key. */
#include "cli/cli.h"
#include "pixiu/proof.h"

static const char usage[] =
    "usage: pixiu dsse verify --vkey VKEY [--payload] ENVELOPE.json\n"
    "Prints the payload type and exits 0 only if a signature by VKEY (a verifier-key\n"
    "string or a file holding one) verifies; 1 when it does not; 2 on usage or I/O\n"
    "errors. With --payload, writes the verified payload to standard output instead.\n";

static int run(int argc, char **argv) {
    const char *vkey = NULL;
    int want_payload = 0;
    const px_cli_opt opts[] = {{"vkey", 0, PX_CLI_VALUE, &vkey, 1}, {"payload", 0, PX_CLI_FLAG, &want_payload, 0},
                               {0}};
    px_cli_args a = {.cmd = "dsse verify", .usage = usage, .opts = opts, .operands = "ENVELOPE.json", .min = 1,
                     .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_verifier v;
    px_buf in = PX_BUF_INIT;
    px_dsse e = {0};
    int rc = PX_EXIT_USAGE;
    if (px_verifier_load(&v, vkey, &err))
        return px_cli_error(rc, &err, "dsse verify: --vkey");
    if (px_cli_read_input(a.argv[0], PX_DSSE_MAX_BYTES, &in, &err))
        goto out;
    rc = PX_EXIT_INVALID;
    if (px_dsse_parse(&e, in.data, in.len, &err) || px_dsse_verify(&e, &v, &err))
        goto out;
    if (want_payload)
        fwrite(e.payload.data, 1, e.payload.len, stdout);
    else
        printf("%s\n", e.payload_type);
    rc = PX_EXIT_OK;
out:
    if (rc)
        px_cli_error(rc, &err, "dsse verify");
    px_dsse_free(&e);
    px_buf_free(&in);
    return rc;
}

const px_cli_form px_cli_dsse_verify = {"verify", run, "verify an envelope against a verifier key"};
