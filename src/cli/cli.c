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
