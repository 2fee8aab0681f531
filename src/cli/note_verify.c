/* pixiu note verify: check a signed note against a verifier key. */
#include "cli/cli.h"
#include "pixiu/proof.h"

static const char usage[] =
    "usage: pixiu note verify --vkey VKEY NOTEFILE\n"
    "Exits 0 when a signature by VKEY (a verifier-key string or a file holding one)\n"
    "verifies on the signed note NOTEFILE ('-' for standard input), 1 when the note is\n"
    "invalid or unsigned by VKEY, 2 on usage or I/O errors.\n";

static int run(int argc, char **argv) {
    const char *vkey = NULL;
    const px_cli_opt opts[] = {{"vkey", 0, PX_CLI_VALUE, &vkey, 1}, {0}};
    px_cli_args a = {.cmd = "note verify", .usage = usage, .opts = opts, .operands = "NOTEFILE", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_verifier v;
    px_buf in = PX_BUF_INIT;
    px_note n = {0};
    int rc = PX_EXIT_USAGE;
    size_t nok = 0;
    if (px_verifier_load(&v, vkey, &err)) {
        px_cli_error(rc, &err, "note verify: --vkey");
        return rc;
    }
    if (px_cli_read_input(a.argv[0], PX_NOTE_MAX_BYTES, &in, &err))
        goto out;
    rc = PX_EXIT_INVALID;
    if (px_note_parse(&n, (const char *)in.data, in.len, &err) || px_note_verify(&n, &v, 1, &nok, &err))
        goto out;
    fprintf(stderr, "pixiu: note verified by %s+%08x\n", v.name, v.id);
    rc = PX_EXIT_OK;
out:
    if (rc)
        px_cli_error(rc, &err, "note verify");
    px_note_free(&n);
    px_buf_free(&in);
    return rc;
}

const px_cli_form px_cli_note_verify = {"verify", run, "verify a signed note against a verifier key"};
