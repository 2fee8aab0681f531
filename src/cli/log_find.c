/* pixiu log find: the entries of a log under a digest. */
#include "cli/log.h"

#define LOOKUP_PAGE 1000 /* what the server returns at most per request */

static const char usage[] =
    "usage: pixiu log find --url URL (--subject | --input | --manifest) HEX\n"
    "Prints, one per line, the index of every entry whose statement names HEX (a SHA-256)\n"
    "as a subject, as an input, or as its task's manifest id.\n";

static int run(int argc, char **argv) {
    const char *url = NULL, *subject = NULL, *input = NULL, *manifest = NULL;
    const px_cli_opt opts[] = {{"url", 0, PX_CLI_VALUE, &url, 1},
                               {"subject", 0, PX_CLI_VALUE, &subject, 0},
                               {"input", 0, PX_CLI_VALUE, &input, 0},
                               {"manifest", 0, PX_CLI_VALUE, &manifest, 0},
                               {0}};
    px_cli_args a = {.cmd = "log find", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (!!subject + !!input + !!manifest != 1)
        return px_cli_usage_error(&a, "give one of --subject, --input and --manifest");
    const char *kind = subject ? "subject" : input ? "input" : "manifest";
    const char *hex = subject ? subject : input ? input : manifest;
    px_err err = {0};
    uint64_t from = 0;
    for (;;) {
        char path[240];
        snprintf(path, sizeof path, "/lookup?%s=%.128s&from=%llu", kind, hex, (unsigned long long)from);
        px_buf out = PX_BUF_INIT;
        json_t *j = NULL;
        if (px_cli_log_call("GET", url, path, NULL, 0, &out, &err) ||
            !(j = px_json_parse(out.data, out.len, PX_CLI_LOG_RESP_MAX, &err))) {
            px_buf_free(&out);
            return px_cli_error(PX_EXIT_USAGE, &err, "log find");
        }
        json_t *e = json_object_get(j, "entries");
        size_t n = json_array_size(e);
        for (size_t i = 0; i < n; i++) {
            json_int_t v = json_integer_value(json_array_get(e, i));
            printf("%lld\n", (long long)v);
            from = (uint64_t)v + 1;
        }
        json_decref(j);
        px_buf_free(&out);
        if (n < LOOKUP_PAGE)
            return PX_EXIT_OK;
    }
}

const px_cli_form px_cli_log_find = {"find", run, "find entries by subject, input or manifest digest"};
