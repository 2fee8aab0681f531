/* pixiu lambda: trust-λ commands. A sub-dispatcher; each form's work lives
 * in src/lambda so this file stays thin.
 *
 *   pixiu lambda run --code M.wasm [limits]   the sandbox alone, stdin->stdout
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pixiu/sandbox.h"

#define INPUT_MAX (1ull << 30)

static void run_usage(FILE *f) {
    fprintf(f,
            "usage: pixiu lambda run --code M.wasm [--cpu-ms N] [--mem-mb N]\n"
            "         [--wall-ms N] [--max-output BYTES] [--cache DIR]\n"
            "         [--grant-clock] [--random-seed HEX64]\n"
            "Runs a wasm32-wasi module in the sandbox: standard input is the\n"
            "task's input, standard output its output. Exit 0 on success; 1\n"
            "with a named reason (invalid-module, trap, exit, cpu-limit,\n"
            "memory-limit, forbidden-syscall, timeout, output-limit); 2 on\n"
            "usage or host errors.\n");
}

static int parse_u32(const char *s, uint32_t *out) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || *s == '-' || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int lambda_run(int argc, char **argv) {
    if (px_cli_wants_help(argc, argv)) {
        run_usage(stdout);
        return PX_EXIT_OK;
    }
    const char *code = NULL, *cache = NULL;
    px_sandbox_limits lim;
    px_sandbox_limits_default(&lim);
    px_err err = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint32_t n;
        if (!strcmp(a, "--grant-clock")) {
            lim.grant_clock = 1;
            continue;
        }
        if (!v)
            return px_cli_errorf(PX_EXIT_USAGE, "lambda run: %s needs a value", a);
        i++;
        if (!strcmp(a, "--code"))
            code = v;
        else if (!strcmp(a, "--cache"))
            cache = v;
        else if (!strcmp(a, "--random-seed")) {
            if (px_hex_decode_exact(lim.random_seed, sizeof lim.random_seed, v,
                                    strlen(v), &err))
                return px_cli_error(PX_EXIT_USAGE, &err, "lambda run: --random-seed");
            lim.grant_random = 1;
        } else if (parse_u32(v, &n))
            return px_cli_errorf(PX_EXIT_USAGE, "lambda run: %s: not a number: %s", a, v);
        else if (!strcmp(a, "--cpu-ms"))
            lim.cpu_ms = n;
        else if (!strcmp(a, "--mem-mb"))
            lim.mem_mb = n;
        else if (!strcmp(a, "--wall-ms"))
            lim.wall_ms = n;
        else if (!strcmp(a, "--max-output"))
            lim.max_output = n;
        else
            return px_cli_errorf(PX_EXIT_USAGE, "lambda run: unknown option %s", a);
    }
    if (!code) {
        run_usage(stderr);
        return PX_EXIT_USAGE;
    }
    px_sandbox sb;
    px_buf mod = PX_BUF_INIT, in = PX_BUF_INIT, out = PX_BUF_INIT, errout = PX_BUF_INIT;
    px_sandbox_result res;
    int status = PX_EXIT_OK;
    if (px_file_read(code, PX_WASM_MODULE_MAX_DEFAULT, &mod, &err) ||
        px_cli_read_input("-", INPUT_MAX, &in, &err) ||
        px_sandbox_init(&sb, cache, &err)) {
        status = px_cli_error(PX_EXIT_USAGE, &err, "lambda run");
    } else if (px_sandbox_run(&sb, mod.data, mod.len, in.data, in.len, &lim,
                              &out, &errout, &res, &err)) {
        if (errout.len)
            fwrite(errout.data, 1, errout.len, stderr);
        status = px_cli_errorf(res.status == PX_SB_INTERNAL ? PX_EXIT_USAGE
                                                            : PX_EXIT_INVALID,
                               "lambda run: %s: %s",
                               px_sandbox_status_name(res.status), res.reason);
    } else {
        if (errout.len)
            fwrite(errout.data, 1, errout.len, stderr);
        if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
            status = px_cli_errorf(PX_EXIT_USAGE, "lambda run: writing the output failed");
    }
    px_buf_free(&mod);
    px_buf_free(&in);
    px_buf_free(&out);
    px_buf_free(&errout);
    return status;
}

/* ---- the forms of `pixiu lambda` ----------------------------------------
 * Add further forms (e.g. `step`, the full trust-λ step on sealed input)
 * as one entry here and one function in their own section above. */

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} forms[] = {
    {"run", lambda_run, "run a wasm module in the sandbox, stdin to stdout"},
};

static int lambda_main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: pixiu lambda <form> [args]\n\nforms:\n");
        for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
            fprintf(f, "  %-6s %s\n", forms[i].name, forms[i].summary);
        return argc < 2 ? PX_EXIT_USAGE : PX_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (!strcmp(argv[1], forms[i].name))
            return forms[i].run(argc - 1, argv + 1);
    return px_cli_errorf(PX_EXIT_USAGE, "lambda: unknown form '%s'", argv[1]);
}

const px_cli_cmd px_cli_lambda = {"lambda", "trust-λ: run wasm in the sandbox", lambda_main};
