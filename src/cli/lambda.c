/* pixiu lambda: trust-λ commands. A sub-dispatcher; each form's work lives
 * in src/lambda so this file stays thin.
 *
 *   pixiu lambda run --code M.wasm [limits]   the sandbox alone, stdin->stdout
 *   pixiu lambda step --kind K --config C ...  a full trust-λ step
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pixiu/lambda.h"
#include "pixiu/sandbox.h"

#define INPUT_MAX (1ull << 30)

static void run_usage(FILE *f) {
    fprintf(f,
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
            "on standard error; exit 0 when every run ended.\n");
}

static int parse_u32(const char *s, uint32_t *out) {
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || *s == '-' || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
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

static int lambda_run(int argc, char **argv) {
    if (px_cli_wants_help(argc, argv)) {
        run_usage(stdout);
        return PX_EXIT_OK;
    }
    const char *code = NULL, *cache = NULL;
    int per_line = 0;
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
        if (!strcmp(a, "--per-line")) {
            per_line = 1;
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

/* ---- pixiu lambda step ---------------------------------------------------
 * One full trust-λ step in a worker under the process backend: evidence
 * first, then (once standard input closes) sealed inputs in, sealed outputs
 * and the signed proof out. */

#define STEP_MAX_INPUTS 64
#define STEP_FILE_MAX (256u << 20)

static void step_usage(FILE *f) {
    fprintf(f,
            "usage: pixiu lambda step --kind KIND --config CONFIG.json --platform-key NODE.key\n"
            "         --node ID --nonce HEX64 --evidence-out FILE\n"
            "         --input SEALED:PROOF[:EVIDENCE] [--input ...] --output-out PREFIX\n"
            "         [--code SEALED --code-digest HEX64] [--worker PATH] [--timeout-ms N]\n"
            "Starts a trust-λ instance (a pixiu_worker process) for the stage config,\n"
            "writes its evidence (signed by the platform key, with the recruiter's\n"
            "nonce) to the evidence file, then waits for standard input to close, so\n"
            "that inputs can be sealed to the instance's key first. Each input is a\n"
            "sealed file, its producer's proof (execution proof or POD release) and,\n"
            "for an execution proof, the producer's evidence. Prints the signed\n"
            "execution proof; writes output i, sealed to successor i, to PREFIX.i.\n"
            "Exit 0 when the step succeeded, 1 when it signed a failure proof, 2 on\n"
            "usage or host errors.\n");
}

typedef struct step_args {
    const char *kind, *config, *key, *node, *nonce, *evidence_out, *output_out, *code, *code_digest, *worker;
    const char *inputs[STEP_MAX_INPUTS];
    size_t ninputs;
    int timeout_ms;
} step_args;

static int step_parse(int argc, char **argv, step_args *a) {
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return px_cli_errorf(PX_EXIT_USAGE, "lambda step: %s needs a value", k);
        const char **slot = !strcmp(k, "--kind")           ? &a->kind
                            : !strcmp(k, "--config")       ? &a->config
                            : !strcmp(k, "--platform-key") ? &a->key
                            : !strcmp(k, "--node")         ? &a->node
                            : !strcmp(k, "--nonce")        ? &a->nonce
                            : !strcmp(k, "--evidence-out") ? &a->evidence_out
                            : !strcmp(k, "--output-out")   ? &a->output_out
                            : !strcmp(k, "--code")         ? &a->code
                            : !strcmp(k, "--code-digest")  ? &a->code_digest
                            : !strcmp(k, "--worker")       ? &a->worker
                                                           : NULL;
        uint32_t n;
        if (slot)
            *slot = v;
        else if (!strcmp(k, "--input") && a->ninputs < STEP_MAX_INPUTS)
            a->inputs[a->ninputs++] = v;
        else if (!strcmp(k, "--timeout-ms") && parse_u32(v, &n) == 0 && n > 0 && n <= INT32_MAX)
            a->timeout_ms = (int)n;
        else
            return px_cli_errorf(PX_EXIT_USAGE, "lambda step: bad option %s %s", k, v);
    }
    if (!a->kind || !a->config || !a->key || !a->node || !a->nonce || !a->evidence_out || !a->output_out ||
        a->ninputs == 0 || !a->code != !a->code_digest) {
        step_usage(stderr);
        return PX_EXIT_USAGE;
    }
    return 0;
}

/* The worker sits next to the running executable unless told otherwise. */
static int step_worker_path(const step_args *a, char *out, size_t cap, px_err *err) {
    const char *env = getenv("PIXIU_WORKER");
    if (a->worker || env) {
        if ((size_t)snprintf(out, cap, "%s", a->worker ? a->worker : env) >= cap)
            return px_fail(err, PX_E_INVALID, "worker path too long");
        return 0;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return px_fail(err, PX_E_IO, "cannot find the running executable");
    self[n] = 0;
    char *slash = strrchr(self, '/');
    *slash = 0;
    if ((size_t)snprintf(out, cap, "%s/pixiu_worker", self) >= cap)
        return px_fail(err, PX_E_INVALID, "worker path too long");
    return 0;
}

/* The three files of one --input, read into bufs[0..2]. */
static int step_read_input(const char *spec, px_buf bufs[3], px_step_input *in, px_err *err) {
    char tmp[3 * 4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s", spec) >= sizeof tmp)
        return px_fail(err, PX_E_INVALID, "--input is too long");
    char *parts[3] = {tmp, strchr(tmp, ':'), NULL};
    if (!parts[1])
        return px_fail(err, PX_E_INVALID, "--input %s: expected SEALED:PROOF[:EVIDENCE]", spec);
    *parts[1]++ = 0;
    if ((parts[2] = strchr(parts[1], ':')))
        *parts[2]++ = 0;
    for (int i = 0; i < 3; i++)
        if (parts[i] && px_file_read(parts[i], STEP_FILE_MAX, &bufs[i], err))
            return -1;
    *in = (px_step_input){bufs[0].data, bufs[0].len, bufs[1].data, bufs[1].len, bufs[2].data, bufs[2].len};
    return 0;
}

static int step_wait_stdin(px_err *err) {
    char sink[4096];
    ssize_t n;
    while ((n = read(0, sink, sizeof sink)) != 0)
        if (n < 0)
            return px_fail(err, PX_E_IO, "reading standard input failed");
    return 0;
}

static int step_write_outputs(const char *prefix, const px_step_result *r, px_err *err) {
    for (size_t i = 0; i < r->noutputs; i++) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s.%zu", prefix, i) >= sizeof path)
            return px_fail(err, PX_E_INVALID, "--output-out is too long");
        if (px_file_write_atomic(path, r->outputs[i].data, r->outputs[i].len, 0644, err))
            return -1;
    }
    return 0;
}

/* After the instance exists: wait, read the inputs, step, write results. */
static int step_run(const step_args *a, px_lambda_host *h, px_step_result *r, px_err *err) {
    px_buf files[STEP_MAX_INPUTS][3], code = PX_BUF_INIT;
    px_step_input in[STEP_MAX_INPUTS];
    memset(files, 0, sizeof files);
    int rc = px_file_write_atomic(a->evidence_out, h->evidence.data, h->evidence.len, 0644, err);
    if (rc == 0)
        rc = step_wait_stdin(err);
    if (rc == 0 && a->code)
        rc = px_file_read(a->code, STEP_FILE_MAX, &code, err);
    for (size_t i = 0; rc == 0 && i < a->ninputs; i++)
        rc = step_read_input(a->inputs[i], files[i], &in[i], err);
    if (rc == 0)
        rc = px_lambda_host_step(h, code.data, code.len, in, a->ninputs, r, err);
    if (rc == 0)
        rc = step_write_outputs(a->output_out, r, err);
    for (size_t i = 0; i < a->ninputs; i++)
        for (int k = 0; k < 3; k++)
            px_buf_free(&files[i][k]);
    px_buf_free(&code);
    return rc;
}

static int step_start(const step_args *a, px_lambda_host *h, px_buf *config, px_signer *platform,
                      px_err *err) {
    uint8_t nonce[PX_TEE_NONCE_BYTES], code_digest[PX_SHA256_BYTES];
    char worker[4096];
    if (px_hex_decode_exact(nonce, sizeof nonce, a->nonce, strlen(a->nonce), err))
        return px_err_prefix(err, "--nonce: ");
    if (a->code_digest && px_hex_decode_exact(code_digest, sizeof code_digest, a->code_digest,
                                              strlen(a->code_digest), err))
        return px_err_prefix(err, "--code-digest: ");
    if (px_signer_load(platform, a->key, err) || px_file_read(a->config, PX_STAGE_CONFIG_MAX_BYTES, config, err) ||
        step_worker_path(a, worker, sizeof worker, err))
        return -1;
    px_lambda_host_req req = {&px_tee_process, worker, NULL, platform, a->node, a->kind,
                              a->code_digest ? code_digest : NULL, config->data, config->len, nonce, 0, 0,
                              a->timeout_ms};
    return px_lambda_host_start(h, &req, err);
}

static int lambda_step(int argc, char **argv) {
    if (px_cli_wants_help(argc, argv)) {
        step_usage(stdout);
        return PX_EXIT_OK;
    }
    step_args a;
    int status = step_parse(argc, argv, &a);
    if (status)
        return status;
    px_err err = {0};
    px_buf config = PX_BUF_INIT;
    px_signer platform;
    memset(&platform, 0, sizeof platform);
    px_lambda_host h;
    px_step_result r;
    memset(&r, 0, sizeof r);
    if (step_start(&a, &h, &config, &platform, &err)) {
        status = px_cli_error(PX_EXIT_USAGE, &err, "lambda step");
    } else {
        if (step_run(&a, &h, &r, &err))
            status = px_cli_error(PX_EXIT_USAGE, &err, "lambda step");
        else {
            fwrite(r.proof.data, 1, r.proof.len, stdout);
            fputc('\n', stdout);
            if (!r.ok)
                status = px_cli_errorf(PX_EXIT_INVALID, "lambda step: signed failure proof: %s", r.status);
        }
        px_lambda_host_free(&h);
    }
    px_step_result_free(&r);
    px_signer_wipe(&platform);
    px_buf_free(&config);
    return status;
}

/* ---- the forms of `pixiu lambda` ---------------------------------------- */

static const px_cli_form forms[] = {
    {"run", lambda_run, "run a wasm module in the sandbox, stdin to stdout"},
    {"step", lambda_step, "one full trust-λ step on sealed input; prints the proof"},
};

static int lambda_main(int argc, char **argv) {
    return px_cli_forms("lambda", forms, sizeof forms / sizeof forms[0], argc, argv);
}

const px_cli_cmd px_cli_lambda = {"lambda", "trust-λ: run wasm in the sandbox, or a full step", lambda_main};
