/* pixiu: the dispatcher. Each subcommand lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli_table.h"
#include "pixiu/crypto.h"

static void usage(FILE *f) {
    fprintf(f, "usage: pixiu <command> [args]\n\ncommands:\n");
    for (size_t i = 0; px_cli_table[i]; i++)
        fprintf(f, "  %-10s %s\n", px_cli_table[i]->name, px_cli_table[i]->summary);
    fprintf(f, "\n'pixiu <command> --help' describes a command.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return PX_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return PX_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("pixiu %s\n", PX_VERSION);
        return PX_EXIT_OK;
    }
    px_err err = {0};
    if (px_crypto_init(&err))
        return px_cli_error(PX_EXIT_USAGE, &err, "init");
    for (size_t i = 0; px_cli_table[i]; i++)
        if (!strcmp(argv[1], px_cli_table[i]->name))
            return px_cli_table[i]->run(argc - 1, argv + 1);
    fprintf(stderr, "pixiu: unknown command '%s' (see 'pixiu --help')\n", argv[1]);
    return PX_EXIT_USAGE;
}
