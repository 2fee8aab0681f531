/* The pixiu command: one file per subcommand, each exporting a px_cli_cmd
 * named px_cli_<file>, found by a table generated from src/cli/'s files. */
#ifndef PIXIU_CLI_H
#define PIXIU_CLI_H

#include <stdio.h>

#include "pixiu/core.h"

typedef struct px_cli_cmd {
    const char *name;
    const char *summary; /* one line for `pixiu --help` */
    /* argv[0] is the subcommand name. Exit status: 0 ok, 1 a check failed
     * (invalid signature, proof, ...), 2 usage or I/O error. */
    int (*run)(int argc, char **argv);
} px_cli_cmd;

enum { PX_EXIT_OK = 0, PX_EXIT_INVALID = 1, PX_EXIT_USAGE = 2 };

/* A command with forms (`pixiu note sign`, `pixiu note verify`): each form
 * gets argv shifted so that argv[0] is the form's name. */
typedef struct px_cli_form {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} px_cli_form;

/* Run the form named by argv[1]; --help or no form lists the forms. */
int px_cli_forms(const char *cmd, const px_cli_form *forms, size_t nforms, int argc, char **argv);

/* Print "pixiu: <context>: <message>" on stderr and return status. */
int px_cli_error(int status, const px_err *err, const char *context);
/* Print "pixiu: <formatted>" on stderr and return status. */
int px_cli_errorf(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 if argv contains -h or --help (before any "--"). */
int px_cli_wants_help(int argc, char **argv);
/* Read a file, or standard input when path is "-". */
int px_cli_read_input(const char *path, size_t max, px_buf *out, px_err *err);

#endif
