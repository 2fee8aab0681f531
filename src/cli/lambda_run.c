/* pixiu lambda run: a wasm module in the sandbox alone, standard input to
 * standard output. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "pixiu/sandbox.h"

#define INPUT_MAX (1ull << 30)

static const char usage[] =
    "usage: pixiu lambda run --code M.wasm [--cpu-ms N] [--mem-mb N]\n"
    "         [--wall-ms N] [--max-output BYTES] [--cache DIR]\n"
    "         [--grant-clock] [--random-seed HEX64] [--per-line]\n"
    "Runs a wasm32-wasi module in the sandbox: standard input is the\n"
    "task's input, standard output its output. Exit 0 on success; 1\n"
    "with a named reason (invalid-module, trap, exit, cpu-limit,\n"
    "memory-limit, forbidden-syscall, timeout, output-limit); 2 on\n"
    "usage or host errors.\n"
    "--per-line runs the module once per line of standard input (the\n"
    "line, with its newline, is that run's whole input), each with a\n"
    "fresh instance, in one runner: the limits apply to each run. The\n"
    "ok runs' outputs are written in order; every other run is named\n"
    "on standard error; exit 0 when every run ended.\n";

/* --per-line: one group per line of the input. */
static int run_per_line(const px_sandbox *sb, const px_buf *mod,
                        const px_buf *in, const px_sandbox_limits *lim,
                        px_buf *out, px_err *err) {
    size_t n = 0, cap = 0, *off = NULL, *len = NULL;
    int rc = 0;
    for (size_t at = 0; at < in->len && !rc;) {
        const uint8_t *nl = memchr(in->data + at, '\n', in->len - at);
        size_t end = nl ? (size_t)(nl - in->data) + 1 : in->len;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            size_t *o = realloc(off, cap * sizeof *o), *l = o ? realloc(len, cap * sizeof *l) : NULL;
            if (o)
                off = o;
            if (!l) {
                rc = px_fail(err, PX_E_NOMEM, "out of memory");
                break;
            }
            len = l;
        }
        off[n] = at;
        len[n++] = end - at;
        at = end;
    }
    px_sandbox_run_out *runs = rc ? NULL : calloc(n ? n : 1, sizeof *runs);
    px_sandbox_result res;
    if (!rc && !runs)
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    if (!rc && px_sandbox_run_groups(sb, mod->data, mod->len, in->data, off, len, n, lim, 0, out, runs, &res,
                                     err))
        rc = px_cli_errorf(res.status == PX_SB_INTERNAL ? PX_EXIT_USAGE : PX_EXIT_INVALID, "lambda run: %s",
                           res.reason);
    else if (rc)
        rc = px_cli_error(PX_EXIT_USAGE, err, "lambda run");
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (runs[i].status != PX_SB_OK) {
            char reason[PX_ERR_MSG_MAX];
            px_sandbox_run_describe(&runs[i], lim, reason);
            fprintf(stderr, "lambda run: line %zu: %s\n", i + 1, reason);
        }
    free(off);
    free(len);
    free(runs);
    return rc;
}

/* A limit option, when given. */
static int limit(const px_cli_args *a, const char *name, const char *text, uint32_t *dst) {
    uint64_t n;
    if (!text)
        return 0;
    if (px_cli_number(a, name, text, 0, UINT32_MAX, &n))
        return -1;
    *dst = (uint32_t)n;
    return 0;
}

static int run(int argc, char **argv) {
    const char *code = NULL, *cache = NULL, *seed = NULL, *cpu = NULL, *mem = NULL, *wall = NULL, *maxout = NULL;
    int per_line = 0, grant_clock = 0;
    const px_cli_opt opts[] = {{"code", 0, PX_CLI_VALUE, &code, 1},
                               {"cpu-ms", 0, PX_CLI_VALUE, &cpu, 0},
                               {"mem-mb", 0, PX_CLI_VALUE, &mem, 0},
                               {"wall-ms", 0, PX_CLI_VALUE, &wall, 0},
                               {"max-output", 0, PX_CLI_VALUE, &maxout, 0},
                               {"cache", 0, PX_CLI_VALUE, &cache, 0},
                               {"grant-clock", 0, PX_CLI_FLAG, &grant_clock, 0},
                               {"random-seed", 0, PX_CLI_VALUE, &seed, 0},
                               {"per-line", 0, PX_CLI_FLAG, &per_line, 0},
                               {0}};
    px_cli_args a = {.cmd = "lambda run", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_sandbox_limits lim;
    px_sandbox_limits_default(&lim);
    px_err err = {0};
    lim.grant_clock = grant_clock;
    if (seed) {
        if (px_hex_decode_exact(lim.random_seed, sizeof lim.random_seed, seed, strlen(seed), &err))
            return px_cli_error(PX_EXIT_USAGE, &err, "lambda run: --random-seed");
        lim.grant_random = 1;
    }
    uint64_t max_output = 0;
    if (limit(&a, "--cpu-ms", cpu, &lim.cpu_ms) || limit(&a, "--mem-mb", mem, &lim.mem_mb) ||
        limit(&a, "--wall-ms", wall, &lim.wall_ms) ||
        (maxout && px_cli_number(&a, "--max-output", maxout, 0, UINT32_MAX, &max_output)))
        return PX_EXIT_USAGE;
    if (maxout)
        lim.max_output = (size_t)max_output;
    px_sandbox sb;
    px_buf mod = PX_BUF_INIT, in = PX_BUF_INIT, out = PX_BUF_INIT, errout = PX_BUF_INIT;
    px_sandbox_result res;
    int status = PX_EXIT_OK;
    if (px_file_read(code, PX_WASM_MODULE_MAX_DEFAULT, &mod, &err) ||
        px_cli_read_input("-", INPUT_MAX, &in, &err) ||
        px_sandbox_init(&sb, cache, &err)) {
        status = px_cli_error(PX_EXIT_USAGE, &err, "lambda run");
    } else if (per_line) {
        status = run_per_line(&sb, &mod, &in, &lim, &out, &err);
        if (!status && out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
            status = px_cli_errorf(PX_EXIT_USAGE, "lambda run: writing the output failed");
    } else if (px_sandbox_run(&sb, mod.data, mod.len, in.data, in.len, &lim,
                              &out, &errout, &res, &err)) {
        if (errout.len)
            fwrite(errout.data, 1, errout.len, stderr);
        status = px_cli_errorf(res.status == PX_SB_INTERNAL ? PX_EXIT_USAGE
                                                            : PX_EXIT_INVALID,
                               "lambda run: %s", res.reason);
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

const px_cli_form px_cli_lambda_run = {"run", run, "run a wasm module in the sandbox, stdin to stdout"};
