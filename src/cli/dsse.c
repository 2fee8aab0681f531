/* pixiu dsse sign|verify: DSSE v1 envelopes. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "pixiu/proof.h"

static const char usage[] =
    "usage: pixiu dsse sign --key FILE.key --type PAYLOADTYPE FILE\n"
    "       pixiu dsse verify --vkey VKEY ENVELOPE.json\n"
    "sign prints a DSSE v1 envelope of FILE's bytes. verify prints the payload\n"
    "type and exits 0 only if a signature by VKEY (a verifier-key string or a\n"
    "file holding one) verifies; 1 when it does not; 2 on usage or I/O errors.\n"
    "With --payload verify also writes the verified payload to standard output.\n";

static int do_sign(int argc, char **argv) {
    static const struct option opts[] = {
        {"key", required_argument, 0, 'k'}, {"type", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'}, {0}};
    const char *keyfile = NULL, *type = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'k')
            keyfile = optarg;
        else if (c == 't')
            type = optarg;
        else if (c == 'h')
            return fputs(usage, stdout), PX_EXIT_OK;
        else
            return fputs(usage, stderr), PX_EXIT_USAGE;
    }
    if (!keyfile || !type || optind != argc - 1)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    px_signer s;
    px_buf in = PX_BUF_INIT, out = PX_BUF_INIT;
    int rc = PX_EXIT_USAGE;
    if (px_signer_load(&s, keyfile, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "dsse sign");
    if (px_cli_read_input(argv[optind], PX_DSSE_MAX_BYTES / 2, &in, &err) ||
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

static int do_verify(int argc, char **argv) {
    static const struct option opts[] = {
        {"vkey", required_argument, 0, 'k'}, {"payload", no_argument, 0, 'p'}, {"help", no_argument, 0, 'h'}, {0}};
    const char *vkey = NULL;
    int c, want_payload = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'k')
            vkey = optarg;
        else if (c == 'p')
            want_payload = 1;
        else if (c == 'h')
            return fputs(usage, stdout), PX_EXIT_OK;
        else
            return fputs(usage, stderr), PX_EXIT_USAGE;
    }
    if (!vkey || optind != argc - 1)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    px_verifier v;
    px_buf in = PX_BUF_INIT;
    px_dsse e = {0};
    int rc = PX_EXIT_USAGE;
    if (px_verifier_load(&v, vkey, &err) || px_cli_read_input(argv[optind], PX_DSSE_MAX_BYTES, &in, &err))
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

static const px_cli_form forms[] = {
    {"sign", do_sign, "sign a file as a DSSE v1 envelope"},
    {"verify", do_verify, "verify an envelope against a verifier key"},
};

static int run(int argc, char **argv) {
    return px_cli_forms("dsse", forms, sizeof forms / sizeof forms[0], argc, argv);
}

const px_cli_cmd px_cli_dsse = {"dsse", "sign and verify DSSE v1 envelopes", run};
