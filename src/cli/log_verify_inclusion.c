/* pixiu log verify-inclusion: check an inclusion proof file. */
#include "cli/log.h"

static const char usage[] =
    "usage: pixiu log verify-inclusion FILE.json\n"
    "Checks an inclusion proof in the JSON form of the transparency-dev/merkle test\n"
    "vectors (what `pixiu log prove` prints; FILE may be '-' for standard input).\n"
    "Exit status: 0 valid, 1 invalid, 2 unreadable.\n";

static int run(int argc, char **argv) {
    px_cli_args a = {.cmd = "log verify-inclusion", .usage = usage, .operands = "FILE.json", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_buf in = PX_BUF_INIT;
    px_err err = {0};
    int rc;
    if (px_cli_read_input(a.argv[0], 1u << 20, &in, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, a.argv[0]);
    else if (px_log_check_inclusion_json(in.data, in.len, &err))
        rc = px_cli_error(err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE, &err, a.argv[0]);
    else
        rc = (puts("valid"), PX_EXIT_OK);
    px_buf_free(&in);
    return rc;
}

const px_cli_form px_cli_log_verify_inclusion = {"verify-inclusion", run,
                                                 "check an inclusion proof file: exit 0 valid, 1 invalid"};
