/* pixiu log serve: run the log service over HTTP until SIGTERM/SIGINT. */
#include <string.h>

#include "cli/log.h"

#define SERVE_BODY_MAX (16u << 20) /* one request, whatever the entry limit */

static const char usage[] =
    "usage: pixiu log serve --store STORE --key KEYFILE [--origin O] [--listen ADDR:PORT]\n"
    "                       [--max-entry BYTES] [--witness COSIGNER_VKEY@URL]... [--port-file FILE]\n"
    "Runs a public log over HTTP until SIGTERM or SIGINT, at the root of ADDR:PORT\n"
    "(default 127.0.0.1 and a free port, printed and written to FILE). STORE is\n"
    "sqlite:PATH, postgres:CONNINFO or a path. KEYFILE signs the checkpoints; the origin\n"
    "defaults to the key's name. Each --witness is asked to cosign every checkpoint.\n";

static int parse_witnesses(const px_cli_args *a, const px_cli_list *l, px_log_witness *wit) {
    px_err err = {0};
    for (size_t i = 0; i < l->n; i++) {
        const char *at = strchr(l->v[i], '@');
        if (!at || strlen(at + 1) >= sizeof wit[i].url ||
            px_cosig_parse(&wit[i].key, l->v[i], (size_t)(at - l->v[i]), &err))
            return px_cli_usage_error(a, "--witness must be COSIGNER_VKEY@URL (%s)", at ? err.msg : "no '@'"), -1;
        snprintf(wit[i].url, sizeof wit[i].url, "%s", at + 1);
    }
    return 0;
}

static int run(int argc, char **argv) {
    const char *store = NULL, *key = NULL, *origin = NULL, *listen = NULL, *max_entry_s = NULL, *port_file = NULL;
    const char *wv[PX_LOG_WITNESSES_MAX];
    px_cli_list witnesses = {wv, 0, PX_LOG_WITNESSES_MAX};
    const px_cli_opt opts[] = {{"store", 0, PX_CLI_VALUE, &store, 1},
                               {"key", 0, PX_CLI_VALUE, &key, 1},
                               {"origin", 0, PX_CLI_VALUE, &origin, 0},
                               {"listen", 0, PX_CLI_VALUE, &listen, 0},
                               {"max-entry", 0, PX_CLI_VALUE, &max_entry_s, 0},
                               {"witness", 0, PX_CLI_LIST, &witnesses, 0},
                               {"port-file", 0, PX_CLI_VALUE, &port_file, 0},
                               {0}};
    px_cli_args a = {.cmd = "log serve", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    char addr[64] = "127.0.0.1";
    uint16_t port = 0;
    uint64_t max_entry = 0;
    if (listen && px_cli_log_listen(listen, addr, sizeof addr, &port))
        return px_cli_usage_error(&a, "--listen must be ADDR:PORT, not '%s'", listen);
    if (max_entry_s && px_cli_number(&a, "--max-entry", max_entry_s, 1, PX_LOG_ENTRY_MAX, &max_entry))
        return PX_EXIT_USAGE;
    px_log_witness wit[PX_LOG_WITNESSES_MAX];
    if (parse_witnesses(&a, &witnesses, wit))
        return PX_EXIT_USAGE;
    px_err err = {0};
    px_signer k;
    if (px_signer_load(&k, key, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log serve");
    sigset_t stop;
    px_cli_log_block_signals(&stop);
    px_log *log = NULL;
    px_log_opts lo = {.store = store, .key = &k, .origin = origin, .max_entry = (size_t)max_entry,
                      .witnesses = wit, .nwitnesses = witnesses.n};
    int rc = px_log_open(&log, &lo, &err);
    px_signer_wipe(&k);
    if (rc)
        return px_cli_error(PX_EXIT_USAGE, &err, "log serve");
    size_t limit = max_entry ? (size_t)max_entry : PX_LOG_ENTRY_MAX_DEFAULT;
    px_http_server *srv = NULL;
    size_t body = 20000 * (limit + 2) < SERVE_BODY_MAX ? 20000 * (limit + 2) : SERVE_BODY_MAX;
    px_http_server_opts so = {.bind_addr = addr, .port = port, .handler = px_log_http_handler, .ctx = log,
                              .max_body = body, .threads = PX_LOG_HTTP_THREADS};
    if (px_http_server_start(&srv, &so, &err) || px_cli_log_announce("serving", addr, srv, port_file, &err)) {
        px_http_server_stop(srv);
        px_log_close(log);
        return px_cli_error(PX_EXIT_USAGE, &err, "log serve");
    }
    int sig;
    sigwait(&stop, &sig);
    px_http_server_stop(srv); /* finishes in-flight requests */
    px_log_close(log);
    return PX_EXIT_OK;
}

const px_cli_form px_cli_log_serve = {"serve", run, "run the log service over HTTP until SIGTERM/SIGINT"};
