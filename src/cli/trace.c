/* pixiu trace DIGEST: the lineage of an output, back to the POD releases
 * it came from, along the edges each step declares and checked against
 * the membership's keys; as text, JSON or Graphviz dot. */
#include <string.h>

#include "cli/cli.h"
#include "node/node.h"

#define PX_TRACE_MAX_WORKERS 16

static const char usage[] =
    "usage: pixiu trace DIGEST --membership FILE [--log URL] [--build HEX]... [--task ID]\n"
    "                   [--json | --dot]\n"
    "DIGEST is a SHA-256 in hex (a result, any stage output, or a release). Prints the steps\n"
    "that output it and, for each, the producer each input names (the input's proof id), back\n"
    "to POD releases. Each step is checked: an execution proof against the instance key its\n"
    "task's plan attests (membership platform keys, accepted builds; default the build of\n"
    "this machine, see `pixiu build`), a release against the POD's key. An unverified step is\n"
    "shown and not followed; a failed step is never a producer; a trace stays in its task.\n"
    "--task keeps only the root's producers from that task (a manifest id). The log is read at\n"
    "URL (a log's, or a node's whose log is at URL/log; default: the membership's log node).\n"
    "(--worker is the old name of --build.)\n"
    "Exit status: 0 every step shown is verified, 1 some step is unverified, 2 error.\n";

static int lookup_subject(void *ctx, const uint8_t digest[PX_SHA256_BYTES], px_entry **out, size_t *n, px_err *err) {
    return px_logread_entries(ctx, "subject", digest, out, n, err);
}

static int lookup_manifest(void *ctx, const uint8_t digest[PX_SHA256_BYTES], px_entry **out, size_t *n,
                           px_err *err) {
    return px_logread_entries(ctx, "manifest", digest, out, n, err);
}

static int run(int argc, char **argv) {
    const char *log = NULL, *mpath = NULL, *task = NULL;
    const char *bv[PX_TRACE_MAX_WORKERS];
    px_cli_list builds = {bv, 0, PX_TRACE_MAX_WORKERS}, old_builds = {bv, 0, PX_TRACE_MAX_WORKERS};
    int json = 0, dot = 0;
    const px_cli_opt opts[] = {{"log", 'l', PX_CLI_VALUE, &log, 0},
                               {"membership", 'm', PX_CLI_VALUE, &mpath, 1},
                               {"build", 'w', PX_CLI_LIST, &builds, 0},
                               {"worker", 0, PX_CLI_LIST, &old_builds, 0}, /* the old name of --build */
                               {"task", 't', PX_CLI_VALUE, &task, 0},
                               {"json", 'j', PX_CLI_FLAG, &json, 0},
                               {"dot", 'd', PX_CLI_FLAG, &dot, 0},
                               {0}};
    px_cli_args a = {.cmd = "trace", .usage = usage, .opts = opts, .operands = "DIGEST", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (builds.n && old_builds.n)
        return px_cli_usage_error(&a, "--worker is the old name of --build: give one of them");
    if (json && dot)
        return px_cli_usage_error(&a, "give --json or --dot, not both");
    px_trace_format fmt = json ? PX_TRACE_JSON : dot ? PX_TRACE_DOT : PX_TRACE_TEXT;
    char **workers = (char **)bv;
    size_t nworkers = builds.n + old_builds.n;
    px_err err = {0};
    uint8_t d[PX_SHA256_BYTES], tid[PX_SHA256_BYTES];
    const char *hex = a.argv[0];
    if (px_hex_decode_exact(d, sizeof d, hex, strlen(hex), &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "trace: DIGEST");
    if (task && px_hex_decode_exact(tid, sizeof tid, task, strlen(task), &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "trace: --task");
    px_membership m;
    char logurl[1100];
    if (px_membership_load(&m, mpath, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "trace");
    if (px_node_log_url(&m, log, logurl, sizeof logurl, &err)) {
        px_membership_free(&m);
        return px_cli_error(PX_EXIT_USAGE, &err, "trace: --log");
    }
    log = logurl;
    px_node_trust t;
    uint8_t accepted[PX_TRACE_MAX_WORKERS][PX_SHA256_BYTES];
    px_lambda_build *own = NULL;
    if (px_node_builds_parse(accepted, workers, nworkers, &err) || (!nworkers && px_node_build(&own, NULL, &err)) ||
        px_node_trust_init(&t, &m, nworkers ? (const uint8_t(*)[PX_SHA256_BYTES])accepted
                                            : (const uint8_t(*)[PX_SHA256_BYTES])&own->digest,
                           nworkers ? nworkers : 1, own ? &own->build : NULL, &err)) {
        if (own)
            px_node_build_free(own);
        px_membership_free(&m);
        return px_cli_error(PX_EXIT_USAGE, &err, "trace");
    }
    px_trace_src src = {.subject = lookup_subject, .manifest = lookup_manifest, .ctx = (void *)log, .pods = t.pods,
                        .npods = t.npods, .check = px_exec_evidence_check, .check_ctx = &t.exec,
                        .task = task ? tid : NULL};
    px_buf out = PX_BUF_INIT;
    size_t unverified = 0;
    int rc = px_trace(&out, d, &src, fmt, &unverified, &err);
    if (rc == 0)
        fwrite(out.data, 1, out.len, stdout);
    px_buf_free(&out);
    px_node_trust_free(&t);
    if (own)
        px_node_build_free(own);
    px_membership_free(&m);
    if (rc)
        return px_cli_error(PX_EXIT_USAGE, &err, "trace");
    return unverified ? PX_EXIT_INVALID : PX_EXIT_OK;
}

const px_cli_cmd px_cli_trace = {"trace", "the lineage of a digest, back to the POD releases it came from", run};
