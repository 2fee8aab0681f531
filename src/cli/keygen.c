/* pixiu keygen NAME [--out DIR]: a signed-note key pair, NAME.key (0600)
 * and NAME.vkey. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "pixiu/crypto.h"

static const char usage[] =
    "usage: pixiu keygen NAME [--out DIR]\n"
    "Writes DIR/NAME.key (private, mode 0600) and DIR/NAME.vkey (verifier key).\n"
    "NAME is the key name (e.g. example.org/pod1); '/' in it becomes '_' in the file names.\n";

static int run(int argc, char **argv) {
    const char *dir = NULL;
    const px_cli_opt opts[] = {{"out", 'o', PX_CLI_VALUE, &dir, 0}, {0}};
    px_cli_args a = {.cmd = "keygen", .usage = usage, .opts = opts, .operands = "NAME", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (!dir)
        dir = ".";
    const char *name = a.argv[0];
    px_err err = {0};
    px_signer s;
    if (px_signer_generate(&s, name, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "keygen");
    char base[PX_KEY_NAME_MAX + 1];
    snprintf(base, sizeof base, "%s", name);
    for (char *p = base; *p; p++)
        if (*p == '/')
            *p = '_';
    char kpath[4096], vpath[4096];
    snprintf(kpath, sizeof kpath, "%s/%s.key", dir, base);
    snprintf(vpath, sizeof vpath, "%s/%s.vkey", dir, base);
    struct stat st;
    if (stat(kpath, &st) == 0) {
        px_signer_wipe(&s);
        return px_cli_errorf(PX_EXIT_USAGE, "keygen: %s already exists; refusing to overwrite a private key", kpath);
    }
    px_buf kb = PX_BUF_INIT, vb = PX_BUF_INIT;
    px_verifier v;
    px_signer_verifier(&s, &v);
    int rc = PX_EXIT_OK;
    if (px_signer_format(&s, &kb, &err) || px_buf_append_u8(&kb, '\n', &err) ||
        px_verifier_format(&v, &vb, &err) || px_buf_append_u8(&vb, '\n', &err) ||
        px_file_write_atomic(kpath, kb.data, kb.len, 0600, &err) ||
        px_file_write_atomic(vpath, vb.data, vb.len, 0644, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "keygen");
    else
        printf("%.*s", (int)vb.len, (const char *)vb.data);
    px_buf_free(&kb);
    px_buf_free(&vb);
    px_signer_wipe(&s);
    return rc;
}

const px_cli_cmd px_cli_keygen = {"keygen", "generate a signing key pair (signed-note key format)", run};
