/* pixiu pod init: create a POD (its database and signing key). */
#include <sys/stat.h>

#include "core/sqldb.h"
#include "cli/pod.h"

static const char usage[] =
    "usage: pixiu pod init [--pod DIR] [--name KEYNAME]\n"
    "Creates DIR (default: the current directory) with the POD's database DIR/pod.db and\n"
    "its signing key DIR/pod.key (mode 0600) and DIR/pod.vkey, named KEYNAME (default\n"
    "\"pod\"). Run again, it keeps the key and the data.\n";

static int run(int argc, char **argv) {
    const char *dir = NULL, *name = NULL;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {"name", 0, PX_CLI_VALUE, &name, 0}, {0}};
    px_cli_args a = {.cmd = "pod init", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (!dir)
        dir = ".";
    char path[PX_CLI_POD_PATH_MAX], kpath[PX_CLI_POD_PATH_MAX], vpath[PX_CLI_POD_PATH_MAX];
    snprintf(path, sizeof path, "%s/pod.db", dir);
    snprintf(kpath, sizeof kpath, "%s/pod.key", dir);
    snprintf(vpath, sizeof vpath, "%s/pod.vkey", dir);
    px_err err = {0};
    px_pod *p;
    /* The POD's records are plaintext: its directory and files are the
     * owner's alone (0700, 0600). */
    if (px_private_dir(dir, 1, &err) || px_pod_open(&p, path, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod init");
    px_pod_close(p);
    struct stat st;
    if (stat(kpath, &st) == 0)
        return printf("POD at %s (key kept)\n", dir), PX_EXIT_OK;
    px_signer s;
    px_verifier v;
    px_buf kb = PX_BUF_INIT, vb = PX_BUF_INIT;
    int rc = PX_EXIT_OK;
    if (px_signer_generate(&s, name ? name : "pod", &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod init: --name");
    px_signer_verifier(&s, &v);
    if (px_signer_format(&s, &kb, &err) || px_buf_append_u8(&kb, '\n', &err) || px_verifier_format(&v, &vb, &err) ||
        px_buf_append_u8(&vb, '\n', &err) || px_file_write_atomic(kpath, kb.data, kb.len, 0600, &err) ||
        px_file_write_atomic(vpath, vb.data, vb.len, 0644, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "pod init");
    else
        printf("POD at %s, key %.*s", dir, (int)vb.len, (const char *)vb.data);
    px_signer_wipe(&s);
    px_buf_free(&kb);
    px_buf_free(&vb);
    return rc;
}

const px_cli_form px_cli_pod_init = {"init", run, "create DIR/pod.db and the POD key DIR/pod.key"};
