/* pixiu pod policy set|show|build: what a POD admits. */
#include <stdlib.h>
#include <string.h>

#include "cli/pod.h"

static const char set_usage[] =
    "usage: pixiu pod policy set DATASET FILE [--pod DIR]\n"
    "Sets DATASET's policy to the JSON in FILE (allowed consumers, code, minimum levels,\n"
    "privacy budget; see docs/pod.md).\n";
static const char show_usage[] = "usage: pixiu pod policy show DATASET [--pod DIR]\n"
                                 "Prints DATASET's policy.\n";
static const char build_usage[] =
    "usage: pixiu pod policy build add DIGEST [--pod DIR]\n"
    "       pixiu pod policy build remove DIGEST [--pod DIR]\n"
    "       pixiu pod policy build list [--json] [--pod DIR]\n"
    "The builds (see `pixiu build`) this POD accepts besides its own node's, for every\n"
    "dataset.\n";

static int set(int argc, char **argv) {
    const char *dir = NULL;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {0}};
    px_cli_args a = {.cmd = "pod policy set", .usage = set_usage, .opts = opts, .operands = "DATASET FILE",
                     .min = 2, .max = 2};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    if (px_file_read(a.argv[1], PX_CLI_POD_SMALL_FILE_MAX, &b, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod policy set");
    px_pod *p;
    int rc = PX_EXIT_USAGE;
    if (!px_cli_pod_open(dir, &p)) {
        rc = px_pod_policy_set(p, a.argv[0], b.data, b.len, &err)
                 ? px_cli_error(px_cli_pod_status(&err), &err, "pod policy set")
                 : PX_EXIT_OK;
        px_pod_close(p);
    }
    px_buf_free(&b);
    return rc;
}

static int show(int argc, char **argv) {
    const char *dir = NULL;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {0}};
    px_cli_args a = {.cmd = "pod policy show", .usage = show_usage, .opts = opts, .operands = "DATASET", .min = 1,
                     .max = 1};
    px_pod *p;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    int rc = PX_EXIT_OK;
    if (px_pod_policy_get(p, a.argv[0], &b, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "pod policy show");
    else
        printf("%.*s\n", (int)b.len, (const char *)b.data);
    px_buf_free(&b);
    px_pod_close(p);
    return rc;
}

static int build_list(px_pod *p, int json) {
    px_err err = {0};
    uint8_t(*builds)[PX_SHA256_BYTES];
    size_t n;
    if (px_pod_build_list(p, &builds, &n, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod policy build list");
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char hex[2 * PX_SHA256_BYTES + 1];
        px_hex_encode(hex, builds[i], PX_SHA256_BYTES);
        if (json)
            json_array_append_new(arr, json_string(hex));
        else
            printf("%s\n", hex);
    }
    free(builds);
    return json ? px_cli_pod_print_json(arr) : (json_decref(arr), PX_EXIT_OK);
}

/* `policy build add|remove|list`: the accepted builds, for every dataset. */
static int build(int argc, char **argv) {
    const char *dir = NULL;
    int json = 0;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    px_cli_args a = {.cmd = "pod policy build", .usage = build_usage, .opts = opts,
                     .operands = "add DIGEST, remove DIGEST or list", .min = 1, .max = 2};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    const char *sub = a.argv[0];
    int change = !strcmp(sub, "add") || !strcmp(sub, "remove");
    if (!change && strcmp(sub, "list"))
        return px_cli_usage_error(&a, "unknown form '%s'", sub);
    if (change != (a.argc == 2) || (change && json))
        return px_cli_usage_error(&a, change ? "%s takes one DIGEST" : "%s takes no operand", sub);
    uint8_t d[PX_SHA256_BYTES];
    if (change && (strlen(a.argv[1]) != 2 * PX_SHA256_BYTES ||
                   px_hex_decode_exact(d, sizeof d, a.argv[1], strlen(a.argv[1]), NULL)))
        return px_cli_usage_error(&a, "'%.70s' is not a hex build digest", a.argv[1]);
    px_pod *p;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    int rc;
    if (!change)
        rc = build_list(p, json);
    else
        rc = (!strcmp(sub, "add") ? px_pod_build_add(p, d, &err) : px_pod_build_remove(p, d, &err))
                 ? px_cli_error(PX_EXIT_USAGE, &err, "pod policy build")
                 : PX_EXIT_OK;
    px_pod_close(p);
    return rc;
}

static const px_cli_form forms[] = {
    {"set", set, "set a dataset's policy from a JSON file"},
    {"show", show, "print a dataset's policy"},
    {"build", build, "the builds accepted besides this node's own: add, remove, list"},
};

static int run(int argc, char **argv) {
    return px_cli_forms("pod policy", forms, sizeof forms / sizeof *forms, argc, argv);
}

const px_cli_form px_cli_pod_policy = {"policy", run, "a dataset's admission policy, and accepted builds"};
