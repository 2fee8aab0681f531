/* pixiu source keygen: a data source's signing key. */
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "pixiu/pod.h"

#define PATH_MAX_LEN 4096

static const char usage[] =
    "usage: pixiu source keygen NAME [--alg ed25519|p256] [--out DIR]\n"
    "Writes DIR/NAME.key (private, mode 0600) and DIR/NAME.vkey, the key a POD trusts\n"
    "with `pixiu pod trust add`. '/' in NAME becomes '_' in the file names.\n";

static int keygen(const char *name, const char *alg, const char *dir) {
    uint8_t a = !alg || !strcmp(alg, "ed25519") ? PX_SRC_ED25519 : !strcmp(alg, "p256") ? PX_SRC_P256 : 0;
    if (!a)
        return px_cli_errorf(PX_EXIT_USAGE, "source keygen: --alg must be ed25519 or p256");
    char base[PX_KEY_NAME_MAX + 1], kpath[PATH_MAX_LEN], vpath[PATH_MAX_LEN];
    snprintf(base, sizeof base, "%s", name);
    for (char *p = base; *p; p++)
        if (*p == '/')
            *p = '_';
    snprintf(kpath, sizeof kpath, "%s/%s.key", dir, base);
    snprintf(vpath, sizeof vpath, "%s/%s.vkey", dir, base);
    struct stat st;
    if (stat(kpath, &st) == 0)
        return px_cli_errorf(PX_EXIT_USAGE, "source keygen: %s already exists; refusing to overwrite a private key",
                             kpath);
    px_err err = {0};
    px_source_signer s;
    if (px_source_signer_generate(&s, name, a, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "source keygen");
    px_buf kb = PX_BUF_INIT, vb = PX_BUF_INIT;
    int rc = PX_EXIT_OK;
    if (px_source_signer_format(&s, &kb, &err) || px_buf_append_u8(&kb, '\n', &err) ||
        px_source_key_format(&s.pub, &vb, &err) || px_buf_append_u8(&vb, '\n', &err) ||
        px_file_write_atomic(kpath, kb.data, kb.len, 0600, &err) ||
        px_file_write_atomic(vpath, vb.data, vb.len, 0644, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "source keygen");
    else
        printf("%.*s", (int)vb.len, (const char *)vb.data);
    px_source_signer_free(&s);
    px_buf_free(&kb);
    px_buf_free(&vb);
    return rc;
}

static int run(int argc, char **argv) {
    const char *alg = NULL, *dir = NULL;
    const px_cli_opt opts[] = {{"alg", 0, PX_CLI_VALUE, &alg, 0}, {"out", 'o', PX_CLI_VALUE, &dir, 0}, {0}};
    px_cli_args a = {.cmd = "source keygen", .usage = usage, .opts = opts, .operands = "NAME", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    return keygen(a.argv[0], alg, dir ? dir : ".");
}

const px_cli_form px_cli_source_keygen = {"keygen", run, "make a source key pair (Ed25519 or ECDSA P-256)"};
