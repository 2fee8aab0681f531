/* What the forms of `pixiu pod` (src/cli/pod_*.c) share. Every form that
 * works on a POD takes --pod DIR (default: the current directory), the
 * directory holding pod.db and the POD's signing key pod.key / pod.vkey. */
#ifndef PIXIU_CLI_POD_H
#define PIXIU_CLI_POD_H

#include "cli/cli.h"
#include "pixiu/pod.h"

#define PX_CLI_POD_PATH_MAX 4096
#define PX_CLI_POD_SMALL_FILE_MAX (4u << 20)

/* The --pod option every POD form has. */
#define PX_CLI_POD_OPT(dst) {"pod", 0, PX_CLI_VALUE, (dst), 0}

/* Open the POD in dir (NULL: "."); on failure prints one line, returns -1. */
int px_cli_pod_open(const char *dir, px_pod **p);
/* 1 for refusals the input caused (bad rows, policy, budget, signatures),
 * 2 for the rest. */
int px_cli_pod_status(const px_err *err);
/* Write b to path, or to standard output when path is NULL or "-". */
int px_cli_pod_write(const char *path, const px_buf *b);
/* Print v indented with a newline and take its reference. */
int px_cli_pod_print_json(json_t *v);

#endif
