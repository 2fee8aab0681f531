/* pixiu task: what a data consumer does with a task. A sub-dispatcher; each
 * form is one entry in the table below.
 *
 *   pixiu task build SRC.c -o OUT.wasm [--sdk DIR]
 */
#include <string.h>

#include "cli/cli.h"
#include "pixiu/sandbox.h"

static void build_usage(FILE *f) {
    fprintf(f, "usage: pixiu task build SRC.c -o OUT.wasm [--sdk DIR]\n"
               "Compiles a task written against sdk/pixiu_task.h to a\n"
               "wasm32-wasi module (clang-14, wasi-libc) and checks that the\n"
               "sandbox would accept it.\n");
}

static int task_build(int argc, char **argv) {
    if (px_cli_wants_help(argc, argv)) {
        build_usage(stdout);
        return PX_EXIT_OK;
    }
    const char *src = NULL, *out = NULL, *sdk = NULL;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--sdk")) && i + 1 < argc) {
            if (argv[i][1] == 'o')
                out = argv[++i];
            else
                sdk = argv[++i];
        } else if (argv[i][0] != '-' && !src) {
            src = argv[i];
        } else {
            build_usage(stderr);
            return PX_EXIT_USAGE;
        }
    }
    if (!src || !out) {
        build_usage(stderr);
        return PX_EXIT_USAGE;
    }
    px_err err = {0};
    if (px_wasm_build(src, out, sdk, &err))
        return px_cli_error(err.code == PX_E_INVALID ? PX_EXIT_INVALID : PX_EXIT_USAGE,
                            &err, "task build");
    return PX_EXIT_OK;
}

/* ---- the forms of `pixiu task` ------------------------------------------
 * Add further forms (e.g. `submit`) as one entry here. */

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} forms[] = {
    {"build", task_build, "compile a task's C source to a wasm module"},
};

static int task_main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: pixiu task <form> [args]\n\nforms:\n");
        for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
            fprintf(f, "  %-6s %s\n", forms[i].name, forms[i].summary);
        return argc < 2 ? PX_EXIT_USAGE : PX_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (!strcmp(argv[1], forms[i].name))
            return forms[i].run(argc - 1, argv + 1);
    return px_cli_errorf(PX_EXIT_USAGE, "task: unknown form '%s'", argv[1]);
}

const px_cli_cmd px_cli_task = {"task", "build task code for the sandbox", task_main};
