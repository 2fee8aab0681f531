/* pixiu ui [login] --node NODE.json: the address of a node's explorer, and
 * the sign-in link of a POD's owner (docs/explorer.md). */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "node/node.h"

static const char usage[] =
    "usage: pixiu ui [login] --node NODE.json\n"
    "Prints the address of the node's explorer (/ui/ on a log or POD node), from its URL in the\n"
    "membership. `login` prints a sign-in link for the POD's owner instead: a request from the node\n"
    "to itself signed with the node's key, valid for 2 minutes and once; opening it gives the\n"
    "browser a session (8 hours) for the POD's own views under /ui/pod.\n";

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"node", required_argument, 0, 'n'}, {"help", no_argument, 0, 'h'}, {0}};
    const char *node = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        if (c == 'n')
            node = optarg;
        else if (c == 'h')
            return fputs(usage, stdout), PX_EXIT_OK;
        else
            return fputs(usage, stderr), PX_EXIT_USAGE;
    }
    int login = optind == argc - 1 && !strcmp(argv[optind], "login");
    if (!node || (optind != argc && !login))
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    px_node_config cfg;
    px_membership m;
    if (px_node_config_load(&cfg, node, &err) || px_membership_load(&m, cfg.membership, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "ui");
    const px_member *self = px_membership_find(&m, cfg.id);
    int status = PX_EXIT_OK;
    if (!self) {
        status = px_cli_errorf(PX_EXIT_USAGE, "ui: the membership does not list node %s", cfg.id);
    } else if (!(self->roles & (PX_ROLE_LOG | PX_ROLE_POD))) {
        status = px_cli_errorf(PX_EXIT_USAGE, "ui: node %s is neither a log nor a POD: it serves no explorer", cfg.id);
    } else if (!login) {
        printf("%s/ui/\n", self->url);
    } else if (!(self->roles & PX_ROLE_POD)) {
        status = px_cli_errorf(PX_EXIT_USAGE, "ui login: node %s is not a POD: its explorer needs no sign-in", cfg.id);
    } else {
        px_signer key;
        px_buf path = PX_BUF_INIT;
        if (px_signer_load(&key, cfg.key, &err) || px_explorer_login_path(&path, &key, cfg.id, px_now_ms(), &err))
            status = px_cli_error(PX_EXIT_USAGE, &err, "ui login");
        else
            printf("%s%.*s\n", self->url, (int)path.len, (const char *)path.data);
        px_signer_wipe(&key);
        px_buf_free(&path);
    }
    px_membership_free(&m);
    return status;
}

const px_cli_cmd px_cli_ui = {"ui", "the address of a node's explorer, and a POD owner's sign-in link", run};
