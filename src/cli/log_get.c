/* pixiu log get: one entry of a log, by index. */
#include "cli/log.h"

static const char usage[] =
    "usage: pixiu log get --url URL INDEX\n"
    "Prints the entry at INDEX (counted from 0) as the log stores it.\n";

static int run(int argc, char **argv) {
    const char *url = NULL;
    const px_cli_opt opts[] = {{"url", 0, PX_CLI_VALUE, &url, 1}, {0}};
    px_cli_args a = {.cmd = "log get", .usage = usage, .opts = opts, .operands = "INDEX", .min = 1, .max = 1};
    uint64_t idx;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (px_cli_number(&a, "INDEX", a.argv[0], 0, INT64_MAX, &idx))
        return PX_EXIT_USAGE;
    char path[64];
    snprintf(path, sizeof path, "/entry/%llu", (unsigned long long)idx);
    px_buf out = PX_BUF_INIT;
    px_err err = {0};
    int rc = PX_EXIT_OK;
    if (px_cli_log_call("GET", url, path, NULL, 0, &out, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "log get");
    else
        fwrite(out.data, 1, out.len, stdout);
    px_buf_free(&out);
    return rc;
}

const px_cli_form px_cli_log_get = {"get", run, "fetch one entry by index"};
