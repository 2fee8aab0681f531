/* pixiu build: the build this machine runs trust-λ instances with (docs/
 * tee.md): its digest, which parties accept or refuse, and every component
 * with its digest and the file it was read from. */
#include <string.h>

#include "cli/cli.h"
#include "node/node.h"

static const char usage[] =
    "usage: pixiu build [--worker PATH] [--json]\n"
    "Hashes every file a trust-λ instance on this machine would run: the worker (PATH, default\n"
    "the pixiu_worker next to pixiu), the sandbox runner ($PIXIU_WASM_RUNNER or next to pixiu),\n"
    "wasm2c and the C compiler with the programs it runs (found in $PATH), the runtime headers.\n"
    "Prints \"build <digest>\", \"version <pixiu version>\", then \"<sha256>  <name>  <path>\" per\n"
    "component. A POD owner accepts a build with `pixiu pod policy build add <digest>`.\n";

static int run(int argc, char **argv) {
    const char *worker = NULL;
    int json = 0;
    const px_cli_opt opts[] = {{"worker", 0, PX_CLI_VALUE, &worker, 0}, {"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    px_cli_args a = {.cmd = "build", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_lambda_build *b;
    if (px_node_build(&b, worker, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "build");
    px_node_build_print(stdout, b, json);
    px_node_build_free(b);
    return PX_EXIT_OK;
}

const px_cli_cmd px_cli_build = {"build", "print the build (every file an instance runs) of this machine", run};
