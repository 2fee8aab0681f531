/* pixiud: run a PIXIU node until SIGTERM or SIGINT.
 *
 *   pixiud --config NODE.json
 *
 * The roles it plays, its keys, its state directory and the membership are
 * named by the config file (docs/executor.md, "pixiud"). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "node/node.h"

static int wait_for_signal(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    int sig = 0;
    for (;;) {
        if (sigwait(&set, &sig))
            return -1;
        if (sig != SIGHUP) /* the membership reloads by itself; HUP is a no-op */
            return sig;
    }
}

int main(int argc, char **argv) {
    if (argc != 3 || strcmp(argv[1], "--config")) {
        fprintf(stderr, "usage: pixiud --config NODE.json\n");
        return 2;
    }
    /* Block the signals before any thread starts, so only sigwait sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    px_err err = {0};
    px_node_config cfg;
    static px_node node;
    if (px_crypto_init(&err) || px_node_config_load(&cfg, argv[2], &err) || px_node_start(&node, &cfg, &err)) {
        fprintf(stderr, "pixiud: %s\n", err.msg);
        return 1;
    }
    fprintf(stderr, "pixiud: node %s listening on %s:%u\n", cfg.id, cfg.listen, px_http_server_port(node.srv));
    int sig = wait_for_signal();
    fprintf(stderr, "pixiud: node %s stopping (signal %d)\n", cfg.id, sig);
    px_node_stop(&node);
    return 0;
}
