/* pixiu log append: append one entry (a file or standard input) to a log. */
#include "cli/log.h"

static const char usage[] =
    "usage: pixiu log append --url URL [--wait] [FILE|-]\n"
    "Appends FILE's bytes (standard input when FILE is '-' or absent) as one entry and\n"
    "prints the log's answer (the entry's index; with --wait, once it is in a checkpoint).\n";

static int run(int argc, char **argv) {
    const char *url = NULL;
    int wait = 0;
    const px_cli_opt opts[] = {{"url", 0, PX_CLI_VALUE, &url, 1}, {"wait", 0, PX_CLI_FLAG, &wait, 0}, {0}};
    px_cli_args a = {.cmd = "log append", .usage = usage, .opts = opts, .operands = "FILE", .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    const char *path = a.argc ? a.argv[0] : "-";
    px_buf in = PX_BUF_INIT, out = PX_BUF_INIT;
    px_err err = {0};
    int rc = PX_EXIT_OK;
    if (px_cli_read_input(path, PX_LOG_ENTRY_MAX, &in, &err) ||
        px_cli_log_call("POST", url, wait ? "/add?wait=1" : "/add", in.data, in.len, &out, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "log append");
    else
        printf("%.*s\n", (int)out.len, (const char *)out.data);
    px_buf_free(&in);
    px_buf_free(&out);
    return rc;
}

const px_cli_form px_cli_log_append = {"append", run, "append one entry (a file or standard input) to a log"};
