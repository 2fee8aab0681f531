/* pixiu lambda step: one full trust-λ step in a worker under the process
 * backend: evidence first, then (once standard input closes) sealed inputs
 * in, sealed outputs and the signed proof out. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pixiu/lambda.h"

#define STEP_MAX_INPUTS 64
#define STEP_FILE_MAX (256u << 20)

static const char usage[] =
    "usage: pixiu lambda step --kind KIND --config CONFIG.json --platform-key NODE.key\n"
    "         --node ID --nonce HEX64 --evidence-out FILE\n"
    "         --input SEALED:PROOF[:EVIDENCE] [--input ...] --output-out PREFIX\n"
    "         --log URL [--code SEALED --code-digest HEX64] [--worker PATH] [--timeout-ms N]\n"
    "Starts a trust-λ instance (a pixiu_worker process) for the stage config,\n"
    "writes its evidence (signed by the platform key, with the recruiter's\n"
    "nonce) to the evidence file, then waits for standard input to close, so\n"
    "that inputs can be sealed to the instance's key first. Each input is a\n"
    "sealed file, its producer's proof (execution proof or POD release) and,\n"
    "for an execution proof, the producer's evidence. Prints the signed\n"
    "execution proof; writes output i, sealed to successor i, to PREFIX.i.\n"
    "The instance's accepted-input statement and proof are appended to the log\n"
    "service at URL (the log the config's \"log\" key names), and the instance\n"
    "runs and releases its output only when shown them there.\n"
    "Exit 0 when the step succeeded, 1 when it signed a failure proof, 2 on\n"
    "usage or host errors.\n";

typedef struct step_args {
    const char *kind, *config, *key, *node, *nonce, *evidence_out, *output_out, *code, *code_digest, *worker, *log;
    const char *inputs[STEP_MAX_INPUTS];
    size_t ninputs;
    int timeout_ms;
} step_args;

static int step_parse(int argc, char **argv, step_args *a) {
    const char *timeout = NULL;
    memset(a, 0, sizeof *a);
    px_cli_list inputs = {a->inputs, 0, STEP_MAX_INPUTS};
    const px_cli_opt opts[] = {{"kind", 0, PX_CLI_VALUE, &a->kind, 1},
                               {"config", 0, PX_CLI_VALUE, &a->config, 1},
                               {"platform-key", 0, PX_CLI_VALUE, &a->key, 1},
                               {"node", 0, PX_CLI_VALUE, &a->node, 1},
                               {"nonce", 0, PX_CLI_VALUE, &a->nonce, 1},
                               {"evidence-out", 0, PX_CLI_VALUE, &a->evidence_out, 1},
                               {"input", 0, PX_CLI_LIST, &inputs, 1},
                               {"output-out", 0, PX_CLI_VALUE, &a->output_out, 1},
                               {"log", 0, PX_CLI_VALUE, &a->log, 1},
                               {"code", 0, PX_CLI_VALUE, &a->code, 0},
                               {"code-digest", 0, PX_CLI_VALUE, &a->code_digest, 0},
                               {"worker", 0, PX_CLI_VALUE, &a->worker, 0},
                               {"timeout-ms", 0, PX_CLI_VALUE, &timeout, 0},
                               {0}};
    px_cli_args pa = {.cmd = "lambda step", .usage = usage, .opts = opts, .max = 0};
    uint64_t t;
    if (px_cli_parse(&pa, argc, argv))
        return pa.status == PX_EXIT_OK ? 1 : -1;
    a->ninputs = inputs.n;
    if (!a->code != !a->code_digest)
        return px_cli_usage_error(&pa, "--code and --code-digest go together"), -1;
    if (timeout && px_cli_number(&pa, "--timeout-ms", timeout, 1, INT32_MAX, &t))
        return -1;
    a->timeout_ms = timeout ? (int)t : 0;
    return 0;
}

/* The worker sits next to the running executable (or in an installed
 * tree's libexec/pixiu) unless told otherwise. */
static int step_worker_path(const step_args *a, char *out, size_t cap, px_err *err) {
    const char *env = getenv("PIXIU_WORKER");
    if (a->worker || env) {
        if ((size_t)snprintf(out, cap, "%s", a->worker ? a->worker : env) >= cap)
            return px_fail(err, PX_E_INVALID, "worker path too long");
        return 0;
    }
    return px_file_installed("libexec", "pixiu_worker", out, cap, err);
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

/* The log service the config names, over HTTP. */
typedef struct step_log {
    const char *url;
    px_verifier key;
} step_log;

static int step_log_append(void *ctx, const uint8_t *entry, size_t len, px_log_receipt *out, px_err *err) {
    const step_log *l = ctx;
    return px_log_remote_append(l->url, entry, len, &l->key, out, err);
}

/* After the instance exists: wait, read the inputs, step, write results. */
static int step_run(const step_args *a, px_lambda_host *h, const px_buf *config, px_step_result *r, px_err *err) {
    step_log sl;
    memset(&sl, 0, sizeof sl);
    sl.url = a->log;
    px_stage_config c;
    if (px_lambda_config_parse(&c, config->data, config->len, err))
        return -1;
    sl.key = c.log;
    px_lambda_config_free(&c);
    px_lambda_log log = {step_log_append, &sl};
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
        rc = px_lambda_host_step(h, code.data, code.len, in, a->ninputs, &log, r, err);
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
                              a->timeout_ms, a->timeout_ms};
    return px_lambda_host_start(h, &req, err);
}

static int run(int argc, char **argv) {
    step_args a;
    int status = step_parse(argc, argv, &a);
    if (status)
        return status > 0 ? PX_EXIT_OK : PX_EXIT_USAGE;
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
        if (step_run(&a, &h, &config, &r, &err))
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

const px_cli_form px_cli_lambda_step = {"step", run, "one full trust-λ step on sealed input; prints the proof"};
