/* pixiu build: the build this machine runs trust-λ instances with (docs/
 * tee.md): its digest, which parties accept or refuse, and every component
 * with its digest and the file it was read from. */
#include <getopt.h>
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
    static const struct option opts[] = {{"worker", required_argument, 0, 'w'}, {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'}, {0}};
    const char *worker = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "w:jh", opts, NULL)) != -1) {
        if (c == 'w')
            worker = optarg;
        else if (c == 'j')
            json = 1;
        else if (c == 'h')
            return fputs(usage, stdout), PX_EXIT_OK;
        else
            return fputs(usage, stderr), PX_EXIT_USAGE;
    }
    if (optind != argc)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    px_lambda_build *b;
    if (px_node_build(&b, worker, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "build");
    px_node_build_print(stdout, b, json);
    px_node_build_free(b);
    return PX_EXIT_OK;
}

const px_cli_cmd px_cli_build = {"build", "print the build (every file an instance runs) of this machine", run};
