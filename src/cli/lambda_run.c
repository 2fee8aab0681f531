/* pixiu lambda run: a wasm module in the sandbox alone, standard input to
 * standard output. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* Standard input, read whole into pages that grow by mremap: a growing
 * px_buf would copy the input at every doubling and wipe each old copy,
 * which for a stream of tens of megabytes cost more than the task's own
 * run. The pages go back to the kernel with munmap, which clears them
 * before anyone else gets them. */
typedef struct stdin_pages {
    uint8_t *p;
    size_t len, cap;
} stdin_pages;

#define STDIN_FIRST (1u << 20)

static int stdin_read(stdin_pages *s, size_t max, px_err *err) {
    memset(s, 0, sizeof *s);
    for (;;) {
        if (s->len == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : STDIN_FIRST;
            void *q = s->p ? mremap(s->p, s->cap, cap, MREMAP_MAYMOVE)
                           : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (q == MAP_FAILED)
                return px_fail(err, PX_E_NOMEM, "out of memory reading standard input (%zu bytes)", cap);
            s->p = q;
            s->cap = cap;
        }
        ssize_t n = read(0, s->p + s->len, s->cap - s->len);
        if (n < 0)
            return px_fail(err, PX_E_IO, "reading standard input failed");
        if (n == 0)
            return 0;
        s->len += (size_t)n;
        if (s->len > max)
            return px_fail(err, PX_E_LIMIT, "standard input is larger than the limit of %zu bytes", max);
    }
}

static void stdin_free(stdin_pages *s) {
    if (s->p)
        munmap(s->p, s->cap);
    memset(s, 0, sizeof *s);
}

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
    px_buf mod = PX_BUF_INIT, out = PX_BUF_INIT, errout = PX_BUF_INIT;
    stdin_pages pages = {0};
    px_sandbox_result res;
    int status = PX_EXIT_OK;
    int read_rc = px_file_read(code, PX_WASM_MODULE_MAX_DEFAULT, &mod, &err) || stdin_read(&pages, INPUT_MAX, &err);
    px_buf in = {pages.p, pages.len, pages.len}; /* a view: freed with the pages */
    if (read_rc || px_sandbox_init(&sb, cache, &err)) {
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
    stdin_free(&pages);
    px_buf_free(&out);
    px_buf_free(&errout);
    return status;
}

const px_cli_form px_cli_lambda_run = {"run", run, "run a wasm module in the sandbox, stdin to stdout"};
