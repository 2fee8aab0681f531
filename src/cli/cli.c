/* Helpers shared by the commands: form dispatch, argument parsing, error
 * lines, input. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

/* ---- errors ----------------------------------------------------------------- */

int px_cli_error(int status, const px_err *err, const char *context) {
    const char *msg = err && err->msg[0] ? err->msg : "failed (no reason given)";
    size_t n = context ? strlen(context) : 0;
    /* The message may already name the context ("x.json: ..."): say it once. */
    if (n && !strncmp(msg, context, n) && msg[n] == ':')
        n = 0;
    if (n)
        fprintf(stderr, "pixiu: %s: %s\n", context, msg);
    else
        fprintf(stderr, "pixiu: %s\n", msg);
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

/* ---- forms -------------------------------------------------------------------- */

typedef const px_cli_form *(*form_at)(const void *forms, size_t i);

static const px_cli_form *array_at(const void *forms, size_t i) { return &((const px_cli_form *)forms)[i]; }
static const px_cli_form *table_at(const void *forms, size_t i) { return ((const px_cli_form *const *)forms)[i]; }

static int dispatch(const char *cmd, const void *forms, size_t nforms, form_at at, int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "pixiu: %s: which form? ", cmd);
        for (size_t i = 0; i < nforms; i++)
            fprintf(stderr, "%s%s", i ? (i + 1 < nforms ? ", " : " or ") : "", at(forms, i)->name);
        fprintf(stderr, " (see 'pixiu %s --help')\n", cmd);
        return PX_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        size_t w = 8;
        for (size_t i = 0; i < nforms; i++)
            if (strlen(at(forms, i)->name) > w)
                w = strlen(at(forms, i)->name);
        printf("usage: pixiu %s <form> [args]\n\nforms:\n", cmd);
        for (size_t i = 0; i < nforms; i++)
            printf("  %-*s  %s\n", (int)w, at(forms, i)->name, at(forms, i)->summary);
        printf("\n'pixiu %s <form> --help' describes a form.\n", cmd);
        return PX_EXIT_OK;
    }
    for (size_t i = 0; i < nforms; i++)
        if (!strcmp(argv[1], at(forms, i)->name))
            return at(forms, i)->run(argc - 1, argv + 1);
    return px_cli_errorf(PX_EXIT_USAGE, "%s: unknown form '%s' (see 'pixiu %s --help')", cmd, argv[1], cmd);
}

int px_cli_forms(const char *cmd, const px_cli_form *forms, size_t nforms, int argc, char **argv) {
    return dispatch(cmd, forms, nforms, array_at, argc, argv);
}

int px_cli_forms_table(const char *cmd, const px_cli_form *const *forms, int argc, char **argv) {
    size_t n = 0;
    while (forms[n])
        n++;
    return dispatch(cmd, forms, n, table_at, argc, argv);
}

/* ---- arguments ------------------------------------------------------------------ */

int px_cli_usage_error(const px_cli_args *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pixiu: %s: ", a->cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see 'pixiu %s --help')\n", a->cmd);
    va_end(ap);
    return PX_EXIT_USAGE;
}

static int fail(px_cli_args *a, const char *fmt, const char *what) {
    a->status = px_cli_usage_error(a, fmt, what);
    return -1;
}

static const px_cli_opt *find_long(const px_cli_opt *o, const char *name, size_t len) {
    for (; o && o->name; o++)
        if (strlen(o->name) == len && !strncmp(o->name, name, len))
            return o;
    return NULL;
}

static const px_cli_opt *find_short(const px_cli_opt *o, char c) {
    for (; o && o->name; o++)
        if (o->letter && o->letter == c)
            return o;
    return NULL;
}

/* Store one option's value (NULL for a flag). */
static int take(px_cli_args *a, const px_cli_opt *o, const char *value) {
    if (o->kind == PX_CLI_FLAG) {
        *(int *)o->dst = 1;
        return 0;
    }
    if (o->kind == PX_CLI_VALUE) {
        const char **dst = o->dst;
        if (*dst)
            return fail(a, "--%s is given twice", o->name);
        *dst = value;
        return 0;
    }
    px_cli_list *l = o->dst;
    if (l->n == l->cap) {
        a->status = px_cli_usage_error(a, "--%s is given more than %zu times", o->name, l->cap);
        return -1;
    }
    l->v[l->n++] = value;
    return 0;
}

/* Whether the required options were given. */
static int check_required(px_cli_args *a) {
    for (const px_cli_opt *o = a->opts; o && o->name; o++) {
        if (!o->required)
            continue;
        int given = o->kind == PX_CLI_LIST ? ((px_cli_list *)o->dst)->n > 0 : *(const char **)o->dst != NULL;
        if (!given)
            return fail(a, "--%s is required", o->name);
    }
    return 0;
}

/* 1 if usage names the option opt ("--out" or "-o") as a word of its own. */
static int described(const char *usage, const char *opt) {
    size_t n = strlen(opt);
    for (const char *at = usage; (at = strstr(at, opt)); at++) {
        char before = at == usage ? ' ' : at[-1], after = at[n];
        if (before != '-' && !isalnum((unsigned char)before) && after != '-' && !isalnum((unsigned char)after))
            return 1;
    }
    return 0;
}

int px_cli_parse(px_cli_args *a, int argc, char **argv) {
    a->argv = NULL;
    a->argc = 0;
    a->status = PX_EXIT_OK;
    if (px_cli_wants_help(argc, argv)) {
        fputs(a->usage, stdout);
        /* An option the usage does not describe is a bug of this program:
         * say so where tests/integration/cli_help.sh looks (help writes
         * nothing else to standard error). */
        for (const px_cli_opt *o = a->opts; o && o->name; o++) {
            char want[64], letter[4] = {'-', o->letter, 0, 0};
            snprintf(want, sizeof want, "--%s", o->name);
            if (!described(a->usage, want) && !(o->letter && described(a->usage, letter)))
                fprintf(stderr, "pixiu: %s: the usage above does not describe --%s\n", a->cmd, o->name);
        }
        return -1;
    }
    /* Operands are moved to the front of argv + 1, in order. */
    char **ops = argv + 1;
    int nops = 0, only_operands = 0;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (only_operands || arg[0] != '-' || !arg[1]) {
            ops[nops++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_operands = 1;
            continue;
        }
        const px_cli_opt *o;
        const char *value = NULL;
        if (arg[1] == '-') {
            const char *name = arg + 2, *eq = strchr(name, '=');
            o = find_long(a->opts, name, eq ? (size_t)(eq - name) : strlen(name));
            if (!o)
                return fail(a, "unknown option '%s'", arg);
            if (eq) {
                if (o->kind == PX_CLI_FLAG)
                    return fail(a, "--%s takes no value", o->name);
                value = eq + 1;
            }
        } else {
            o = arg[2] ? NULL : find_short(a->opts, arg[1]);
            if (!o)
                return fail(a, "unknown option '%s'", arg);
        }
        if (o->kind != PX_CLI_FLAG && !value) {
            if (i + 1 >= argc)
                return fail(a, "%s needs a value", arg);
            value = argv[++i];
        }
        if (take(a, o, value))
            return -1;
    }
    if (nops < a->min)
        return fail(a, "missing %s", a->operands ? a->operands : "operands");
    if (a->max >= 0 && nops > a->max)
        return fail(a, "unexpected operand '%s'", ops[a->max]);
    if (check_required(a))
        return -1;
    a->argv = ops;
    a->argc = nops;
    return 0;
}

int px_cli_number(const px_cli_args *a, const char *what, const char *text, uint64_t min, uint64_t max,
                  uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = text[0] >= '0' && text[0] <= '9' ? strtoull(text, &end, 10) : 0;
    if (!(text[0] >= '0' && text[0] <= '9') || *end || errno || v < min || v > max) {
        px_cli_usage_error(a, "%s must be a whole number from %llu to %llu, not '%s'", what,
                           (unsigned long long)min, (unsigned long long)max, text);
        return -1;
    }
    *out = v;
    return 0;
}
