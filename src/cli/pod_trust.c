/* pixiu pod trust add|remove|list|config: the source keys the POD trusts. */
#include <string.h>
#include <sys/stat.h>

#include "cli/pod.h"

static const char add_usage[] =
    "usage: pixiu pod trust add KEY [--pod DIR]\n"
    "Trusts a source's verifier key (the text of a NAME.vkey from `pixiu source keygen`,\n"
    "or the file): records it signed import as authenticated.\n";
static const char remove_usage[] = "usage: pixiu pod trust remove NAME [--pod DIR]\n"
                                   "Stops trusting the source key named NAME.\n";
static const char list_usage[] = "usage: pixiu pod trust list [--json] [--pod DIR]\n"
                                 "The trusted source keys: name, algorithm, key.\n";
static const char config_usage[] =
    "usage: pixiu pod trust config [--require authenticated|any] [--pod DIR]\n"
    "Prints a data-prover stage config (`pixiu pod prove --config`) holding the trusted\n"
    "keys; with --require any, records no trusted key signed pass as alleged.\n";

static int add(int argc, char **argv) {
    const char *dir = NULL;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {0}};
    px_cli_args a = {.cmd = "pod trust add", .usage = add_usage, .opts = opts, .operands = "KEY", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    struct stat st;
    const char *text = a.argv[0];
    if (stat(text, &st) == 0) { /* a file holding the key */
        if (px_file_read(text, PX_CLI_POD_SMALL_FILE_MAX, &b, &err) || !px_buf_cstr(&b, &err))
            return px_buf_free(&b), px_cli_error(PX_EXIT_USAGE, &err, "pod trust add");
        text = (const char *)b.data;
    }
    px_pod *p;
    int rc = PX_EXIT_USAGE;
    if (!px_cli_pod_open(dir, &p)) {
        rc = px_pod_trust_add(p, text, &err) ? px_cli_error(px_cli_pod_status(&err), &err, "pod trust add")
                                             : PX_EXIT_OK;
        px_pod_close(p);
    }
    px_buf_free(&b);
    return rc;
}

static int remove_(int argc, char **argv) {
    const char *dir = NULL;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {0}};
    px_cli_args a = {.cmd = "pod trust remove", .usage = remove_usage, .opts = opts, .operands = "NAME", .min = 1,
                     .max = 1};
    px_pod *p;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    int rc = px_pod_trust_remove(p, a.argv[0], &err) ? px_cli_error(PX_EXIT_USAGE, &err, "pod trust remove")
                                                      : PX_EXIT_OK;
    px_pod_close(p);
    return rc;
}

/* list (config == 0) or config (config == 1). */
static int show(int argc, char **argv, int config) {
    const char *dir = NULL, *require = NULL;
    int json = 0;
    const px_cli_opt list_opts[] = {PX_CLI_POD_OPT(&dir), {"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    const px_cli_opt config_opts[] = {PX_CLI_POD_OPT(&dir), {"require", 0, PX_CLI_VALUE, &require, 0}, {0}};
    px_cli_args a = {.cmd = config ? "pod trust config" : "pod trust list",
                     .usage = config ? config_usage : list_usage,
                     .opts = config ? config_opts : list_opts,
                     .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (require && strcmp(require, "authenticated") && strcmp(require, "any"))
        return px_cli_usage_error(&a, "--require must be authenticated or any, not '%s'", require);
    px_pod *p;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    px_source_key *keys;
    size_t n;
    int rc = px_pod_trust_list(p, &keys, &n, &err);
    px_pod_close(p);
    if (rc)
        return px_cli_error(px_cli_pod_status(&err), &err, a.cmd);
    px_buf b = PX_BUF_INIT;
    rc = PX_EXIT_OK;
    if (config) {
        if (px_prover_config_format(&b, keys, n, !require || !strcmp(require, "authenticated"), &err))
            rc = px_cli_error(PX_EXIT_USAGE, &err, a.cmd);
        else
            printf("%.*s\n", (int)b.len, (const char *)b.data);
    } else {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            b.len = 0;
            px_source_key_format(&keys[i], &b, &err);
            const char *alg = keys[i].alg == PX_SRC_P256 ? "ecdsa-p256" : "ed25519";
            if (json)
                json_array_append_new(arr, json_pack("{s:s,s:s,s:s%}", "name", keys[i].name, "alg", alg, "key",
                                                     (const char *)b.data, b.len));
            else
                printf("%s\t%s\t%.*s\n", keys[i].name, alg, (int)b.len, (const char *)b.data);
        }
        rc = json ? px_cli_pod_print_json(arr) : (json_decref(arr), PX_EXIT_OK);
    }
    px_buf_free(&b);
    px_source_keys_free(keys, n);
    return rc;
}

static int list(int argc, char **argv) { return show(argc, argv, 0); }
static int config(int argc, char **argv) { return show(argc, argv, 1); }

static const px_cli_form forms[] = {
    {"add", add, "trust a source key"},
    {"remove", remove_, "stop trusting a source key"},
    {"list", list, "the trusted source keys"},
    {"config", config, "a data-prover config holding the trusted keys"},
};

static int run(int argc, char **argv) {
    return px_cli_forms("pod trust", forms, sizeof forms / sizeof *forms, argc, argv);
}

const px_cli_form px_cli_pod_trust = {"trust", run, "the trusted source keys: add, remove, list, config"};
