/* pixiu task build: a task's C source to a wasm module. */
#include "cli/cli.h"
#include "pixiu/sandbox.h"

static const char usage[] =
    "usage: pixiu task build SRC.c -o OUT.wasm [--sdk DIR]\n"
    "Compiles a task written against sdk/pixiu_task.h to a wasm32-wasi module (clang-14,\n"
    "wasi-libc) and checks that the sandbox would accept it. DIR holds pixiu_task.h\n"
    "(default: the SDK installed with pixiu).\n";

static int run(int argc, char **argv) {
    const char *out = NULL, *sdk = NULL;
    const px_cli_opt opts[] = {{"out", 'o', PX_CLI_VALUE, &out, 1}, {"sdk", 0, PX_CLI_VALUE, &sdk, 0}, {0}};
    px_cli_args a = {.cmd = "task build", .usage = usage, .opts = opts, .operands = "SRC.c", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    if (px_wasm_build(a.argv[0], out, sdk, &err))
        return px_cli_error(err.code == PX_E_INVALID ? PX_EXIT_INVALID : PX_EXIT_USAGE, &err, "task build");
    return PX_EXIT_OK;
}

const px_cli_form px_cli_task_build = {"build", run, "compile a task's C source to a wasm module"};
