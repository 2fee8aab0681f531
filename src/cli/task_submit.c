/* pixiu task submit: run a task on the network and keep its receipt. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "node/node.h"
#include "pixiu/records.h"

#define PX_SUBMIT_MAX_BUILDS 16
#define PX_SUBMIT_CODE_MAX (64u << 20)
#define PX_SUBMIT_MODEL_MAX (64u << 20)

static const char usage[] =
    "usage: pixiu task submit MANIFEST.json --node NODE.json [--code TASK.wasm] [--build HEX]...\n"
    "                         [--content FILE] [--model MODEL] [--result FILE] [--opening FILE]\n"
    "                         [--receipt FILE] [--json]\n"
    "Runs a task on the network as the consumer node NODE.json describes (its id, key and\n"
    "membership). MANIFEST.json is a manifest without consumer, nonce, times or receivers:\n"
    "those are filled in, and a wasm stage without \"code\" gets TASK.wasm's digest.\n"
    "Executors are accepted only when their build is one of --build (default: the build this\n"
    "machine runs, see `pixiu build`).\n"
    "Shows stage-by-stage progress on standard error (not with --json), prints the result,\n"
    "the authenticated/alleged counts and the checked receipt (written to --receipt). A task\n"
    "that fails after its plan is published gets a failure receipt: the audit's verdict from\n"
    "the log (stage, status, the party the log blames), checked like any receipt.\n"
    "A stage at the PODs that delivers (params.deliver) delivers --content, sealed with the\n"
    "code to each POD-side instance; the manifest names it by its SHA-256.\n"
    "One round of a training (a manifest with \"training\" and an fl-agg stage) starts from\n"
    "--model (a PXFM block); `pixiu task train` runs all of a training's rounds.\n"
    "--opening writes the result as it was sealed (\"PXC1\" || r || result): it opens the\n"
    "receipt's result commitment, so a table derived from it can be checked (`pixiu pir table`).\n"
    "(--worker is the old name of --build.)\n"
    "Exit status: 0 the task completed and its receipt verifies, 1 the task failed, 2 error.\n";

static void print_vector(FILE *f, const px_buf *res) {
    double *v = NULL;
    uint32_t n = 0;
    if (px_vector_decode(&v, &n, res->data, res->len, NULL)) {
        fprintf(f, "%zu bytes", res->len);
        return;
    }
    fputc('[', f);
    for (uint32_t i = 0; i < n; i++)
        fprintf(f, "%s%.17g", i ? ", " : "", v[i]);
    fputc(']', f);
    free(v);
}

/* A failure receipt's verdict, as the audit states it. */
static void print_failure_json(const px_submit_result *r) {
    json_t *f = json_pack("{s:I,s:I,s:s,s:s,s:s,s:o}", "stage", (json_int_t)r->failed_stage, "partition",
                          (json_int_t)r->failed_partition, "node", r->failed_node, "status", r->failed_status,
                          "reason", r->verdict_why, "blamed", r->blamed[0] ? json_string(r->blamed) : json_null());
    char *t = f ? json_dumps(f, JSON_COMPACT) : NULL;
    printf(",\"receipt\":\"failed\",\"failure\":%s", t ? t : "null");
    free(t);
    json_decref(f);
}

static void print_failure(const px_submit_result *r, const char *receipt) {
    printf("failed: %s\n", r->failure);
    if (r->undelivered) {
        char d[2 * PX_SHA256_BYTES + 1];
        px_hex_encode(d, r->result_digest, sizeof r->result_digest);
        printf("undelivered: the log proves every step; the result %s was lost with the last instance\n", d);
        printf("receipt: verified%s%s\n", receipt ? ", written to " : "", receipt ? receipt : "");
        return;
    }
    if (!r->receipt_failed)
        return;
    printf("verdict: %s at stage %lld partition %u on %s: %s\n", r->failed_status, (long long)r->failed_stage,
           r->failed_partition, r->failed_node, r->verdict_why);
    if (r->blamed[0])
        printf("blamed: %s\n", r->blamed);
    else
        printf("blamed: nobody (the log proves no party at fault)\n");
    printf("receipt: failure verified%s%s\n", receipt ? ", written to " : "", receipt ? receipt : "");
}

static void print_outcome(const px_submit_result *r, const char *receipt, int json) {
    char m[2 * PX_SHA256_BYTES + 1], d[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(m, r->manifest, sizeof r->manifest);
    px_hex_encode(d, r->result_digest, sizeof r->result_digest);
    if (json) {
        printf("{\"ok\":%s,\"task\":\"%s\"", r->ok ? "true" : "false", m);
        if (!r->ok && r->receipt_failed)
            print_failure_json(r);
        if (!r->ok && r->undelivered)
            printf(",\"receipt\":\"undelivered\",\"result_digest\":\"%s\"", d);
        if (r->ok) {
            printf(",\"result_digest\":\"%s\",\"result\":", d);
            print_vector(stdout, &r->result);
            printf(",\"records\":%llu,\"authenticated\":%llu,\"alleged\":%llu,\"releases\":%zu",
                   (unsigned long long)r->records, (unsigned long long)r->authenticated,
                   (unsigned long long)r->alleged, r->releases);
            if (r->pods)
                printf(",\"pods\":{\"asked\":%zu,\"ran\":%zu,\"missing\":%zu,\"ms\":%.1f}", r->pods, r->pods_ran,
                       r->pods_missing, r->pods_ms);
            printf(",\"ms\":{\"recruit\":%.1f,\"admit\":%.1f,\"receipt\":%.1f,\"stages\":[", r->recruit_ms,
                   r->admit_ms, r->receipt_ms);
            for (size_t i = 0; i < r->nstages; i++)
                printf("%s%.1f", i ? "," : "", r->stage_ms[i]);
            printf("]}");
        }
        printf("}\n");
        return;
    }
    printf("task %s\n", m);
    if (!r->ok) {
        print_failure(r, receipt);
        return;
    }
    printf("result: ");
    print_vector(stdout, &r->result);
    if (r->pods)
        printf("\nstages at the PODs: ran at %zu of %zu PODs (%zu did not)\n", r->pods_ran, r->pods, r->pods_missing);
    else
        printf("\nrecords: %llu (%llu authenticated, %llu alleged) from %zu releases\n",
               (unsigned long long)r->records, (unsigned long long)r->authenticated, (unsigned long long)r->alleged,
               r->releases);
    printf("receipt: verified (result %s)%s%s\n", d, receipt ? ", written to " : "", receipt ? receipt : "");
}

static int submit_run(const char *tmpl_path, const char *node_path, const char *code_path, const char *content_path,
                      const char *model_path, char **builds, size_t nbuilds, const char *result_path, const char *opening_path,
                      const char *receipt_path, int json) {
    px_err err = {0};
    px_node_config cfg;
    px_signer key;
    px_membership mem = {0};
    px_buf tmpl = PX_BUF_INIT, code = PX_BUF_INIT, content = PX_BUF_INIT, model = PX_BUF_INIT;
    px_submit_result r = {0};
    uint8_t accepted[PX_SUBMIT_MAX_BUILDS][PX_SHA256_BYTES];
    int status = PX_EXIT_USAGE;
    if (px_node_builds_parse(accepted, builds, nbuilds, &err) || px_node_config_load(&cfg, node_path, &err) || px_signer_load(&key, cfg.key, &err) ||
        px_membership_load(&mem, cfg.membership, &err) ||
        px_cli_read_input(tmpl_path, PX_MANIFEST_MAX_BYTES, &tmpl, &err) ||
        (code_path && px_file_read(code_path, PX_SUBMIT_CODE_MAX, &code, &err)) ||
        (content_path && px_file_read(content_path, PX_CONTENT_MAX_BYTES, &content, &err)) ||
        (model_path && px_file_read(model_path, PX_SUBMIT_MODEL_MAX, &model, &err)))
        goto out;
    px_submit_opts o = {cfg.id, &key, &mem, code_path ? code.data : NULL, code.len,
                        (const uint8_t(*)[PX_SHA256_BYTES])accepted, nbuilds, json ? NULL : stderr,
                        content_path ? content.data : NULL, content.len,
                        model_path ? model.data : NULL, model.len};
    if (px_submit(&o, tmpl.data, tmpl.len, &r, &err))
        goto out;
    if ((r.ok && result_path && px_file_write_atomic(result_path, r.result.data, r.result.len, 0600, &err)) ||
        (r.ok && opening_path && px_file_write_atomic(opening_path, r.opening.data, r.opening.len, 0600, &err)) ||
        (r.receipt.len && receipt_path &&
         px_file_write_atomic(receipt_path, r.receipt.data, r.receipt.len, 0644, &err)))
        goto out;
    print_outcome(&r, receipt_path, json);
    status = r.ok ? PX_EXIT_OK : PX_EXIT_INVALID;
out:
    if (status == PX_EXIT_USAGE)
        px_cli_error(PX_EXIT_USAGE, &err, "task submit");
    px_submit_result_free(&r);
    px_membership_free(&mem);
    px_signer_wipe(&key);
    px_buf_free(&tmpl);
    px_buf_free(&code);
    px_buf_free(&content);
    px_buf_free(&model);
    return status;
}

static int run(int argc, char **argv) {
    const char *node = NULL, *code = NULL, *result = NULL, *opening = NULL, *receipt = NULL,
               *content = NULL, *model = NULL;
    const char *bv[PX_SUBMIT_MAX_BUILDS];
    px_cli_list builds = {bv, 0, PX_SUBMIT_MAX_BUILDS}, workers = {bv, 0, PX_SUBMIT_MAX_BUILDS};
    int json = 0;
    const px_cli_opt opts[] = {{"node", 'n', PX_CLI_VALUE, &node, 1},
                               {"code", 'c', PX_CLI_VALUE, &code, 0},
                               {"build", 'b', PX_CLI_LIST, &builds, 0},
                               {"worker", 0, PX_CLI_LIST, &workers, 0}, /* the old name of --build */
                               {"result", 'r', PX_CLI_VALUE, &result, 0},
                               {"opening", 'o', PX_CLI_VALUE, &opening, 0},
                               {"content", 'C', PX_CLI_VALUE, &content, 0},
                               {"model", 'm', PX_CLI_VALUE, &model, 0},
                               {"receipt", 'R', PX_CLI_VALUE, &receipt, 0},
                               {"json", 'j', PX_CLI_FLAG, &json, 0},
                               {0}};
    px_cli_args a = {.cmd = "task submit", .usage = usage, .opts = opts, .operands = "MANIFEST.json", .min = 1,
                     .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (builds.n && workers.n)
        return px_cli_usage_error(&a, "--worker is the old name of --build: give one of them");
    return submit_run(a.argv[0], node, code, content, model, (char **)bv, builds.n + workers.n, result, opening, receipt,
                      json);
}

const px_cli_form px_cli_task_submit = {"submit", run, "run a task on the network and keep its receipt"};
