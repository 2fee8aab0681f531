/* pixiud: run a PIXIU node until SIGTERM or SIGINT.
 *
 *   pixiud --config NODE.json
 *   pixiud --build [--config NODE.json] [--json]
 *       print the build this node runs its instances with (its digest and
 *       every component), as computed at start, and exit
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

static const char usage[] =
    "usage: pixiud --config NODE.json\n"
    "       pixiud --build [--config NODE.json] [--json]\n"
    "       pixiud --help | --version\n"
    "Runs the PIXIU node NODE.json describes (its id, keys, roles, state directory and\n"
    "membership; `pixiu node init` writes one, docs/executor.md describes it) until\n"
    "SIGTERM or SIGINT. --build prints the build the node runs its trust-λ instances\n"
    "with (what a POD owner accepts with `pixiu pod policy build add`) and exits.\n"
    "Exit status: 0 stopped by a signal, 1 the node could not start, 2 usage.\n";

/* One usage error line and exit status 2. */
static int usage_error(const char *what, const char *arg) {
    fprintf(stderr, "pixiud: %s '%s' (see 'pixiud --help')\n", what, arg);
    return 2;
}

/* The build a node with this config would run: what a POD owner adds to
 * accept it, and what refusals are about. */
static int print_build(int argc, char **argv) {
    const char *config = NULL;
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--config"))
            return usage_error("option needs a value:", argv[i]);
        else
            return usage_error("unknown option", argv[i]);
    }
    px_err err = {0};
    px_node_config cfg = {0};
    px_lambda_build *b;
    if (px_crypto_init(&err) || (config && px_node_config_load(&cfg, config, &err)) ||
        px_node_build(&b, cfg.worker, &err)) {
        fprintf(stderr, "pixiud: %s\n", err.msg);
        return 1;
    }
    px_node_build_print(stdout, b, json);
    px_node_build_free(b);
    return 0;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return fputs(usage, stdout), 0;
    if (argc == 2 && !strcmp(argv[1], "--version"))
        return printf("pixiud %s\n", PX_VERSION), 0;
    if (argc >= 2 && !strcmp(argv[1], "--build"))
        return print_build(argc, argv);
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--config"))
        return usage_error("unknown option", argv[1]);
    if (argc < 3)
        return usage_error("option needs a value:", argv[1]);
    if (argc > 3)
        return usage_error("unexpected argument", argv[3]);
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
