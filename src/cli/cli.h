/* The pixiu command.
 *
 * Layout (the wireguard-tools shape): src/cli/<cmd>.c is a command and
 * exports a px_cli_cmd named px_cli_<cmd>; a command with several forms
 * keeps each form in src/cli/<cmd>_<form>.c, exporting a px_cli_form named
 * px_cli_<cmd>_<form>. CMake generates the command table (cli_table.h) and,
 * per command with form files, its form table (cli_forms_<cmd>.h) from the
 * file names, so adding a command or a form is adding a file.
 *
 * Every command and form parses its arguments with px_cli_parse, which gives
 * all of them the same behaviour: -h/--help prints the usage on standard
 * output and exits 0; an unknown option, an option of another form, a
 * missing value or operand exits 2 with one line naming it. */
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

/* A form of a command (`pixiu note sign`, `pixiu log serve`): run gets argv
 * shifted so that argv[0] is the form's name. */
typedef struct px_cli_form {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} px_cli_form;

/* Run the form named by argv[1] of the nforms in forms; -h/--help lists
 * them (exit 0); no form or an unknown one is one line naming them (exit 2).
 * cmd is the command's words for messages ("log", "pod dataset"). A
 * command's shared helpers (px_cli_<cmd>_<verb>) must not be named like one
 * of its forms. */
int px_cli_forms(const char *cmd, const px_cli_form *forms, size_t nforms, int argc, char **argv);
/* The same over a NULL-terminated table of pointers (the generated tables). */
int px_cli_forms_table(const char *cmd, const px_cli_form *const *forms, int argc, char **argv);

/* ---- arguments ------------------------------------------------------------ */

typedef enum px_cli_kind {
    PX_CLI_FLAG,  /* --json: dst is an int, set to 1 */
    PX_CLI_VALUE, /* --url URL or --url=URL: dst is a const char * (NULL before
                   * parsing: a default is applied after); at most once */
    PX_CLI_LIST   /* --build HEX, repeatable: dst is a px_cli_list */
} px_cli_kind;

typedef struct px_cli_list {
    const char **v;
    size_t n, cap; /* cap: how many v holds; one more is refused */
} px_cli_list;

typedef struct px_cli_opt {
    const char *name; /* the long name without "--" */
    char letter;      /* a one-letter alias (-o for --out), or 0 */
    px_cli_kind kind;
    void *dst;
    int required; /* VALUE or LIST: must be given */
} px_cli_opt;

typedef struct px_cli_args {
    const char *cmd;        /* the command's words for messages: "log get" */
    const char *usage;      /* the whole help text */
    const px_cli_opt *opts; /* ends with {0}; may be NULL */
    const char *operands;   /* names for messages: "MANIFEST DATASET"; NULL when none */
    int min, max;           /* operand count; max < 0: no limit */
    /* results */
    char **argv; /* the operands, in order */
    int argc;
    int status; /* the exit status when px_cli_parse returns -1 */
} px_cli_args;

/* Parse argv (argv[0] is the command or form name). Options may come before,
 * between or after the operands; "--" ends the options; "-" is an operand.
 * Returns 0 with a->argv/a->argc the operands, or -1 with a->status the exit
 * status: 0 after printing the usage for -h/--help, 2 after one line on
 * stderr for anything wrong. */
int px_cli_parse(px_cli_args *a, int argc, char **argv);

/* One usage error line, "pixiu: <cmd>: <message> (see 'pixiu <cmd> --help')",
 * and exit status 2. */
int px_cli_usage_error(const px_cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A decimal number in [min, max] given to option (or operand) what;
 * on error prints one line and returns -1. */
int px_cli_number(const px_cli_args *a, const char *what, const char *text, uint64_t min, uint64_t max,
                  uint64_t *out);

/* ---- output --------------------------------------------------------------- */

/* Print "pixiu: <context>: <message>" on stderr and return status. */
int px_cli_error(int status, const px_err *err, const char *context);
/* Print "pixiu: <formatted>" on stderr and return status. */
int px_cli_errorf(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 if argv contains -h or --help (before any "--"). */
int px_cli_wants_help(int argc, char **argv);
/* Read a file, or standard input when path is "-". */
int px_cli_read_input(const char *path, size_t max, px_buf *out, px_err *err);

#endif
