/* pixiu pod export: a dataset as a PXR1 record stream. */
#include "cli/pod.h"

static const char usage[] =
    "usage: pixiu pod export DATASET [-o FILE] [--pod DIR]\n"
    "Writes DATASET as a PXR1 record stream (what the data-prover stage and a task's\n"
    "standard input read, see docs/formats.md) to FILE or standard output, and prints\n"
    "its record counts and digest on standard error.\n";

static int run(int argc, char **argv) {
    const char *dir = NULL, *out = NULL;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {"out", 'o', PX_CLI_VALUE, &out, 0}, {0}};
    px_cli_args a = {.cmd = "pod export", .usage = usage, .opts = opts, .operands = "DATASET", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_pod *p;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    px_pod_export_info info;
    int rc = PX_EXIT_OK;
    if (px_pod_export(p, a.argv[0], &b, &info, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "pod export");
    else if (px_cli_pod_write(out, &b))
        rc = PX_EXIT_USAGE;
    else {
        char hex[65];
        px_hex_encode(hex, info.digest, 32);
        fprintf(stderr, "%llu records (%llu signed), sha256 %s\n", (unsigned long long)info.records,
                (unsigned long long)info.signed_records, hex);
    }
    px_buf_free(&b);
    px_pod_close(p);
    return rc;
}

const px_cli_form px_cli_pod_export = {"export", run, "a dataset as a PXR1 stream (prover and task input)"};
