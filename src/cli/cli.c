/* Helpers shared by the subcommands: error lines, help detection, input. */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

int px_cli_error(int status, const px_err *err, const char *context) {
    if (context && *context)
        fprintf(stderr, "pixiu: %s: %s\n", context, err->msg);
    else
        fprintf(stderr, "pixiu: %s\n", err->msg);
    return status;
}

int px_cli_errorf(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("pixiu: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

int px_cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    }
    return 0;
}

int px_cli_read_input(const char *path, size_t max, px_buf *out, px_err *err) {
    if (strcmp(path, "-") != 0)
        return px_file_read(path, max, out, err);
    size_t start = out->len;
    for (;;) {
        if (px_buf_reserve(out, 65536, err))
            return -1;
        ssize_t n = read(0, out->data + out->len, 65536);
        if (n < 0)
            return px_fail(err, PX_E_IO, "reading standard input failed");
        if (n == 0)
            return 0;
        out->len += (size_t)n;
        if (out->len - start > max) {
            out->len = start;
            return px_fail(err, PX_E_LIMIT, "standard input is larger than the limit of %zu bytes", max);
        }
    }
}

int px_cli_forms(const char *cmd, const px_cli_form *forms, size_t nforms, int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *f = argc < 2 ? stderr : stdout;
        fprintf(f, "usage: pixiu %s <form> [args]\n\nforms:\n", cmd);
        for (size_t i = 0; i < nforms; i++)
            fprintf(f, "  %-8s %s\n", forms[i].name, forms[i].summary);
        fprintf(f, "\n'pixiu %s <form> --help' describes a form.\n", cmd);
        return argc < 2 ? PX_EXIT_USAGE : PX_EXIT_OK;
    }
    for (size_t i = 0; i < nforms; i++)
        if (!strcmp(argv[1], forms[i].name))
            return forms[i].run(argc - 1, argv + 1);
    return px_cli_errorf(PX_EXIT_USAGE, "%s: unknown form '%s' (see 'pixiu %s --help')", cmd, argv[1], cmd);
}
