/* pixiu pod releases [show ID]: what the POD released. */
#include <stdlib.h>
#include <string.h>

#include "cli/pod.h"

static const char usage[] =
    "usage: pixiu pod releases [--json] [--pod DIR]\n"
    "       pixiu pod releases show ID [--pod DIR]\n"
    "Lists every release (task, dataset, record counts, epsilon); show prints release\n"
    "ID's signed statement.\n";

static int show(px_pod *p, const char *id) {
    px_err err = {0};
    px_buf env = PX_BUF_INIT;
    int rc = PX_EXIT_OK;
    if (px_pod_release_get(p, id, &env, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "pod releases show");
    else
        printf("%.*s\n", (int)env.len, (const char *)env.data);
    px_buf_free(&env);
    return rc;
}

static int list(px_pod *p, int json) {
    px_err err = {0};
    px_pod_release_row *v;
    size_t n;
    if (px_pod_release_list(p, &v, &n, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod releases");
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const px_release_info *r = &v[i].info;
        char d[65], e[PX_AMOUNT_TEXT_MAX], dl[PX_AMOUNT_TEXT_MAX];
        px_hex_encode(d, r->dataset_digest, 32);
        px_eps_format(e, r->eps);
        px_delta_format(dl, r->delta);
        if (json)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:I}", "id", v[i].id,
                                                 "manifest", r->manifest, "dataset", r->dataset, "dataset_digest", d,
                                                 "records", (json_int_t)r->records, "signed",
                                                 (json_int_t)r->signed_records, "unsigned",
                                                 (json_int_t)r->unsigned_records, "epsilon", e, "delta", dl,
                                                 "released", (json_int_t)r->released_ms));
        else
            printf("%s\t%s\t%s\t%llu records (%llu signed)\tepsilon %s\n", v[i].id, r->manifest, r->dataset,
                   (unsigned long long)r->records, (unsigned long long)r->signed_records, e);
    }
    free(v);
    return json ? px_cli_pod_print_json(arr) : (json_decref(arr), PX_EXIT_OK);
}

static int run(int argc, char **argv) {
    const char *dir = NULL;
    int json = 0;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    px_cli_args a = {.cmd = "pod releases", .usage = usage, .opts = opts, .operands = "show ID", .max = 2};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (a.argc && (strcmp(a.argv[0], "show") || a.argc != 2))
        return px_cli_usage_error(&a, a.argc && strcmp(a.argv[0], "show") ? "unknown form '%s'"
                                                                          : "'%s' takes one release ID",
                                  a.argv[0]);
    px_pod *p;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    int rc = a.argc ? show(p, a.argv[1]) : list(p, json);
    px_pod_close(p);
    return rc;
}

const px_cli_form px_cli_pod_releases = {"releases", run, "what the POD released, or one release's statement"};
