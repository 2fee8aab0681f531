/* pixiu pod import: append rows to a dataset, all or nothing. */
#include <string.h>

#include "cli/pod.h"

static const char usage[] =
    "usage: pixiu pod import DATASET FILE [--format csv|jsonl] [--pod DIR]\n"
    "Appends FILE's rows ('-' for standard input) to DATASET in one transaction: every\n"
    "row is checked against the schema and, when signed, against the trust store; one\n"
    "bad row and nothing is added (each bad line is named). The format defaults from\n"
    "FILE's extension. Exit 1 when rows are refused.\n";

static int run(int argc, char **argv) {
    const char *dir = NULL, *fmt = NULL;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {"format", 0, PX_CLI_VALUE, &fmt, 0}, {0}};
    px_cli_args a = {.cmd = "pod import", .usage = usage, .opts = opts, .operands = "DATASET FILE", .min = 2,
                     .max = 2};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    const char *file = a.argv[1];
    if (!fmt) {
        size_t n = strlen(file);
        if (n > 6 && !strcmp(file + n - 6, ".jsonl"))
            fmt = "jsonl";
        else if (n > 4 && !strcmp(file + n - 4, ".csv"))
            fmt = "csv";
        else
            return px_cli_usage_error(&a, "say --format csv or --format jsonl for '%s'", file);
    }
    if (strcmp(fmt, "csv") && strcmp(fmt, "jsonl"))
        return px_cli_usage_error(&a, "--format must be csv or jsonl, not '%s'", fmt);
    px_pod *p;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    px_buf in = PX_BUF_INIT;
    px_pod_report rep;
    memset(&rep, 0, sizeof rep);
    uint64_t added = 0;
    int rc = PX_EXIT_OK;
    if (px_cli_read_input(file, PX_POD_IMPORT_MAX_BYTES, &in, &err)) {
        rc = px_cli_error(PX_EXIT_USAGE, &err, "pod import");
    } else if (px_pod_import(p, a.argv[0], !strcmp(fmt, "csv") ? PX_POD_CSV : PX_POD_JSONL, in.data, in.len, &added,
                             &rep, &err)) {
        /* every bad line the report kept, then the one-line verdict */
        if (rep.errors > 1)
            fprintf(stderr, "%.*s", (int)rep.text.len, (const char *)rep.text.data);
        rc = px_cli_error(px_cli_pod_status(&err), &err, "pod import");
    } else {
        printf("imported %llu records into %s\n", (unsigned long long)added, a.argv[0]);
    }
    px_pod_report_free(&rep);
    px_buf_free(&in);
    px_pod_close(p);
    return rc;
}

const px_cli_form px_cli_pod_import = {"import", run, "append rows (CSV or JSON lines) to a dataset, all or nothing"};
