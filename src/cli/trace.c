/* pixiu trace DIGEST: from any output back to the POD releases it came
 * from, through the log's subject index; as text, JSON or Graphviz dot. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "pixiu/exec.h"

static const char usage[] =
    "usage: pixiu trace DIGEST --log URL [--json | --dot]\n"
    "DIGEST is a SHA-256 in hex (a result, any stage output, or a release).\n"
    "Prints each digest, the log entries that produced it and their inputs, back to POD releases.\n"
    "The trace shows what the log says; `pixiu audit` checks who signed it.\n";

static int lookup(void *ctx, const uint8_t digest[PX_SHA256_BYTES], px_entry **out, size_t *n, px_err *err) {
    return px_logread_entries(ctx, "subject", digest, out, n, err);
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"log", required_argument, 0, 'l'}, {"json", no_argument, 0, 'j'},
                                         {"dot", no_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0}};
    const char *log = NULL;
    px_trace_format fmt = PX_TRACE_TEXT;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:jdh", opts, NULL)) != -1) {
        if (c == 'l')
            log = optarg;
        else if (c == 'j')
            fmt = PX_TRACE_JSON;
        else if (c == 'd')
            fmt = PX_TRACE_DOT;
        else if (c == 'h')
            return fputs(usage, stdout), PX_EXIT_OK;
        else
            return fputs(usage, stderr), PX_EXIT_USAGE;
    }
    if (optind != argc - 1 || !log)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    uint8_t d[PX_SHA256_BYTES];
    const char *hex = argv[optind];
    if (px_hex_decode_exact(d, sizeof d, hex, strlen(hex), &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "trace: DIGEST");
    px_buf out = PX_BUF_INIT;
    int rc = px_trace(&out, d, lookup, (void *)log, fmt, &err);
    if (rc == 0)
        fwrite(out.data, 1, out.len, stdout);
    px_buf_free(&out);
    return rc ? px_cli_error(PX_EXIT_USAGE, &err, "trace") : PX_EXIT_OK;
}

const px_cli_cmd px_cli_trace = {"trace", "walk from a digest back to the POD releases it came from", run};
