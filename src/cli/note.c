/* pixiu note sign|verify: C2SP signed notes. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "pixiu/proof.h"

static const char usage[] =
    "usage: pixiu note sign --key FILE.key NOTEFILE\n"
    "       pixiu note verify --vkey VKEY NOTEFILE\n"
    "sign prints NOTEFILE's text signed by the key; if NOTEFILE is already a\n"
    "signed note, the signature is added to it. verify exits 0 when a signature\n"
    "by VKEY (a verifier-key string or a file holding one) verifies, 1 when the\n"
    "note is invalid, 2 on usage or I/O errors. NOTEFILE may be '-' for stdin.\n";

/* Parse --key/--vkey and one positional argument. */
static int parse(int argc, char **argv, const char *flag, const char **keyarg, const char **file) {
    const struct option opts[] = {{flag, required_argument, 0, 'k'}, {"help", no_argument, 0, 'h'}, {0}};
    int c;
    optind = 1;
    *keyarg = NULL;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'k')
            *keyarg = optarg;
        else if (c == 'h')
            return fputs(usage, stdout), 1;
        else
            return fputs(usage, stderr), -1;
    }
    if (!*keyarg || optind != argc - 1)
        return fputs(usage, stderr), -1;
    *file = argv[optind];
    return 0;
}

static int do_sign(int argc, char **argv) {
    const char *keyfile, *file;
    int p = parse(argc, argv, "key", &keyfile, &file);
    if (p)
        return p > 0 ? PX_EXIT_OK : PX_EXIT_USAGE;
    px_err err = {0};
    px_signer s;
    px_buf in = PX_BUF_INIT, out = PX_BUF_INIT;
    px_note n = {0};
    int rc = PX_EXIT_USAGE;
    if (px_signer_load(&s, keyfile, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "note sign");
    if (px_cli_read_input(file, PX_NOTE_MAX_BYTES, &in, &err))
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

static int do_verify(int argc, char **argv) {
    const char *vkey, *file;
    int p = parse(argc, argv, "vkey", &vkey, &file);
    if (p)
        return p > 0 ? PX_EXIT_OK : PX_EXIT_USAGE;
    px_err err = {0};
    px_verifier v;
    px_buf in = PX_BUF_INIT;
    px_note n = {0};
    int rc = PX_EXIT_USAGE;
    size_t nok = 0;
    if (px_verifier_load(&v, vkey, &err) || px_cli_read_input(file, PX_NOTE_MAX_BYTES, &in, &err))
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

static const px_cli_form forms[] = {
    {"sign", do_sign, "sign a note, or add a signature to a signed note"},
    {"verify", do_verify, "verify a signed note against a verifier key"},
};

static int run(int argc, char **argv) {
    return px_cli_forms("note", forms, sizeof forms / sizeof forms[0], argc, argv);
}

const px_cli_cmd px_cli_note = {"note", "sign and verify C2SP signed notes", run};
