/* pixiu pod: a POD owner's command line. Each form is a file
 * src/cli/pod_<form>.c; this file dispatches and holds what they share. */
#include <string.h>
#include <sys/stat.h>

#include "core/sqldb.h"
#include "cli/pod.h"
#include "cli_forms_pod.h"

int px_cli_pod_open(const char *dir, px_pod **p) {
    char path[PX_CLI_POD_PATH_MAX];
    struct stat st;
    if (!dir)
        dir = ".";
    snprintf(path, sizeof path, "%s/pod.db", dir);
    if (stat(path, &st) != 0)
        return px_cli_errorf(PX_EXIT_USAGE, "pod: no POD at %s (run 'pixiu pod init --pod %s')", dir, dir), -1;
    px_err err = {0};
    if (px_private_dir(dir, 0, &err) || px_pod_open(p, path, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod"), -1;
    return 0;
}

int px_cli_pod_status(const px_err *err) {
    return err->code == PX_E_INVALID || err->code == PX_E_VERIFY || err->code == PX_E_DENIED ||
                   err->code == PX_E_STATE || err->code == PX_E_LIMIT
               ? PX_EXIT_INVALID
               : PX_EXIT_USAGE;
}

int px_cli_pod_write(const char *path, const px_buf *b) {
    if (!path || !strcmp(path, "-"))
        return fwrite(b->data, 1, b->len, stdout) == b->len ? 0 : -1;
    px_err err = {0};
    if (px_file_write_atomic(path, b->data, b->len, 0644, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod"), -1;
    return 0;
}

int px_cli_pod_print_json(json_t *v) {
    int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? PX_EXIT_OK : PX_EXIT_USAGE;
    fputc('\n', stdout);
    json_decref(v);
    return rc;
}

static int run(int argc, char **argv) { return px_cli_forms_table("pod", px_cli_pod_forms, argc, argv); }

const px_cli_cmd px_cli_pod = {"pod", "a POD: datasets, trust store, policy, budget, releases, prover", run};
