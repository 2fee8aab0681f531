/* pixiu log witness-serve: run a witness (C2SP tlog-witness add-checkpoint). */
#include <string.h>

#include "cli/log.h"

#define LOG_KEYS_MAX 16
_Static_assert(PX_KEY_NAME_MAX < PX_LOG_ORIGIN_MAX, "a key name must fit an origin line");

static const char usage[] =
    "usage: pixiu log witness-serve --state DB --key KEYFILE --log-key VKEY [--log-key VKEY]...\n"
    "                               [--listen ADDR:PORT] [--port-file FILE]\n"
    "Runs a C2SP tlog-witness (add-checkpoint) for the logs whose keys are given (a log's\n"
    "origin is its key's name) until SIGTERM or SIGINT, keeping what it cosigned in DB.\n";

static int run(int argc, char **argv) {
    const char *state = NULL, *key = NULL, *listen = NULL, *port_file = NULL;
    const char *lv[LOG_KEYS_MAX];
    px_cli_list log_keys = {lv, 0, LOG_KEYS_MAX};
    const px_cli_opt opts[] = {{"state", 0, PX_CLI_VALUE, &state, 1},        {"key", 0, PX_CLI_VALUE, &key, 1},
                               {"log-key", 0, PX_CLI_LIST, &log_keys, 1},    {"listen", 0, PX_CLI_VALUE, &listen, 0},
                               {"port-file", 0, PX_CLI_VALUE, &port_file, 0}, {0}};
    px_cli_args a = {.cmd = "log witness-serve", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    char addr[64] = "127.0.0.1";
    uint16_t port = 0;
    if (listen && px_cli_log_listen(listen, addr, sizeof addr, &port))
        return px_cli_usage_error(&a, "--listen must be ADDR:PORT, not '%s'", listen);
    px_err err = {0};
    px_signer k;
    px_witness_log logs[LOG_KEYS_MAX];
    if (px_signer_load(&k, key, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log witness-serve: --key");
    /* A log is known by its key, and its origin is the key's name. */
    for (size_t i = 0; i < log_keys.n; i++) {
        if (px_verifier_load(&logs[i].key, log_keys.v[i], &err)) {
            px_signer_wipe(&k);
            return px_cli_error(PX_EXIT_USAGE, &err, "log witness-serve: --log-key");
        }
        memcpy(logs[i].origin, logs[i].key.name, strlen(logs[i].key.name) + 1); /* name is shorter */
    }
    sigset_t stop;
    px_cli_log_block_signals(&stop);
    px_witness *w = NULL;
    int rc = px_witness_open(&w, state, &k, &err);
    px_signer_wipe(&k);
    if (rc)
        return px_cli_error(PX_EXIT_USAGE, &err, "log witness-serve");
    px_witness_service svc = {.witness = w, .logs = logs, .nlogs = log_keys.n};
    px_http_server *srv = NULL;
    px_http_server_opts so = {.bind_addr = addr, .port = port, .handler = px_witness_http_handler, .ctx = &svc,
                              .max_body = 1u << 16};
    if (px_http_server_start(&srv, &so, &err) || px_cli_log_announce("witnessing", addr, srv, port_file, &err)) {
        px_http_server_stop(srv);
        px_witness_close(w);
        return px_cli_error(PX_EXIT_USAGE, &err, "log witness-serve");
    }
    int sig;
    sigwait(&stop, &sig);
    px_http_server_stop(srv);
    px_witness_close(w);
    return PX_EXIT_OK;
}

const px_cli_form px_cli_log_witness_serve = {"witness-serve", run,
                                              "run a witness (C2SP tlog-witness add-checkpoint)"};
