/* pixiu log mirror: copy a log into a directory as static tiles, verifying
 * all of it. */
#include "cli/log.h"

static const char usage[] =
    "usage: pixiu log mirror --url URL --key VKEY --out DIR\n"
    "Copies the log at URL into DIR in the C2SP tlog-tiles layout (checkpoint, tiles,\n"
    "entry bundles), checking the checkpoint against VKEY and every tile against it,\n"
    "so that any static web server can serve DIR. Run again to catch up.\n";

static int run(int argc, char **argv) {
    const char *url = NULL, *key = NULL, *out = NULL;
    const px_cli_opt opts[] = {{"url", 0, PX_CLI_VALUE, &url, 1},
                               {"key", 0, PX_CLI_VALUE, &key, 1},
                               {"out", 0, PX_CLI_VALUE, &out, 1},
                               {0}};
    px_cli_args a = {.cmd = "log mirror", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_verifier v;
    uint64_t size;
    size_t fetched;
    if (px_verifier_load(&v, key, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log mirror: --key");
    if (px_log_mirror(url, &v, out, &size, &fetched, &err))
        return px_cli_error(err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE, &err, "log mirror");
    printf("mirrored and verified %llu entries (%zu resources fetched)\n", (unsigned long long)size, fetched);
    return PX_EXIT_OK;
}

const px_cli_form px_cli_log_mirror = {"mirror", run, "copy a log into a directory as static tiles, verified"};
