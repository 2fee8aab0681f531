/* pixiu pod prove: run the data-prover stage on a record stream (no POD
 * needed). */
#include "cli/pod.h"

static const char usage[] =
    "usage: pixiu pod prove --config FILE [IN] [-o OUT] [--json]\n"
    "Runs the data-prover stage with the config in FILE (`pixiu pod trust config` makes\n"
    "one) over the PXR1 stream IN (default standard input) and writes the checked stream,\n"
    "each record tagged authenticated or alleged, to OUT (default standard output). The\n"
    "counts go to standard error, or to standard output with -o.\n";

static int run(int argc, char **argv) {
    const char *config = NULL, *out_path = NULL;
    int json = 0;
    const px_cli_opt opts[] = {{"config", 0, PX_CLI_VALUE, &config, 1},
                               {"out", 'o', PX_CLI_VALUE, &out_path, 0},
                               {"json", 0, PX_CLI_FLAG, &json, 0},
                               {0}};
    px_cli_args a = {.cmd = "pod prove", .usage = usage, .opts = opts, .operands = "IN", .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_buf cfg = PX_BUF_INIT, in = PX_BUF_INIT, out = PX_BUF_INIT;
    px_prover_config c;
    px_prover_counts n;
    int rc = PX_EXIT_OK;
    if (px_file_read(config, PX_CLI_POD_SMALL_FILE_MAX, &cfg, &err) ||
        px_prover_config_parse(&c, cfg.data, cfg.len, &err)) {
        px_buf_free(&cfg);
        return px_cli_error(PX_EXIT_USAGE, &err, "pod prove: --config");
    }
    if (px_cli_read_input(a.argc ? a.argv[0] : "-", PX_POD_IMPORT_MAX_BYTES, &in, &err) ||
        px_prover_run(&c, in.data, in.len, &out, &n, &err))
        rc = px_cli_error(px_cli_pod_status(&err), &err, "pod prove");
    else if (px_cli_pod_write(out_path ? out_path : "-", &out))
        rc = PX_EXIT_USAGE;
    else {
        FILE *f = out_path ? stdout : stderr; /* keep stdout for the stream */
        if (json)
            fprintf(f, "{\"records\":%llu,\"authenticated\":%llu,\"alleged\":%llu,\"dropped\":%llu,\"unsigned\":%llu,"
                       "\"unknown_source\":%llu,\"bad_signature\":%llu}\n",
                    (unsigned long long)n.records, (unsigned long long)n.authenticated, (unsigned long long)n.alleged,
                    (unsigned long long)n.dropped, (unsigned long long)n.unsigned_records,
                    (unsigned long long)n.unknown_source, (unsigned long long)n.bad_signature);
        else
            fprintf(f, "%llu records: %llu authenticated, %llu alleged, %llu dropped\n", (unsigned long long)n.records,
                    (unsigned long long)n.authenticated, (unsigned long long)n.alleged, (unsigned long long)n.dropped);
    }
    px_prover_config_free(&c);
    px_buf_free(&cfg);
    px_buf_free(&in);
    px_buf_free(&out);
    return rc;
}

const px_cli_form px_cli_pod_prove = {"prove", run, "run the data-prover stage on a stream"};
