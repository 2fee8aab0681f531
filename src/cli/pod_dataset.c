/* pixiu pod dataset create|list|schema: the POD's datasets. */
#include <stdlib.h>

#include "cli/pod.h"

static const char create_usage[] =
    "usage: pixiu pod dataset create NAME --schema FILE [--pod DIR]\n"
    "Declares dataset NAME with the schema in FILE (JSON, see docs/pod.md).\n";
static const char list_usage[] =
    "usage: pixiu pod dataset list [--json] [--pod DIR]\n"
    "The datasets with their record counts and how many records are signed by a source.\n";
static const char schema_usage[] =
    "usage: pixiu pod dataset schema NAME [--pod DIR]\n"
    "Prints dataset NAME's schema.\n";

static int create(int argc, char **argv) {
    const char *dir = NULL, *schema = NULL;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {"schema", 0, PX_CLI_VALUE, &schema, 1}, {0}};
    px_cli_args a = {.cmd = "pod dataset create", .usage = create_usage, .opts = opts, .operands = "NAME",
                     .min = 1, .max = 1};
    px_pod *p;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    px_pod_schema s;
    if (px_file_read(schema, PX_CLI_POD_SMALL_FILE_MAX, &b, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod dataset create: --schema");
    if (px_cli_pod_open(dir, &p))
        return px_buf_free(&b), PX_EXIT_USAGE;
    int rc = px_pod_schema_parse(&s, b.data, b.len, &err) || px_pod_dataset_create(p, a.argv[0], &s, &err)
                 ? px_cli_error(px_cli_pod_status(&err), &err, "pod dataset create")
                 : PX_EXIT_OK;
    px_buf_free(&b);
    px_pod_close(p);
    return rc;
}

static int list(int argc, char **argv) {
    const char *dir = NULL;
    int json = 0;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    px_cli_args a = {.cmd = "pod dataset list", .usage = list_usage, .opts = opts, .max = 0};
    px_pod *p;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    px_pod_dataset_info *v;
    size_t n;
    int rc = px_pod_dataset_list(p, &v, &n, &err);
    px_pod_close(p);
    if (rc)
        return px_cli_error(PX_EXIT_USAGE, &err, "pod dataset list");
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (json)
            json_array_append_new(arr, json_pack("{s:s,s:I,s:I,s:I}", "name", v[i].name, "records",
                                                 (json_int_t)v[i].records, "signed", (json_int_t)v[i].signed_records,
                                                 "created", (json_int_t)v[i].created_ms));
        else
            printf("%s\t%llu records\t%llu signed\n", v[i].name, (unsigned long long)v[i].records,
                   (unsigned long long)v[i].signed_records);
    }
    free(v);
    return json ? px_cli_pod_print_json(arr) : (json_decref(arr), PX_EXIT_OK);
}

static int schema(int argc, char **argv) {
    const char *dir = NULL;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {0}};
    px_cli_args a = {.cmd = "pod dataset schema", .usage = schema_usage, .opts = opts, .operands = "NAME",
                     .min = 1, .max = 1};
    px_pod *p;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    px_pod_schema s;
    px_buf b = PX_BUF_INIT;
    int rc = PX_EXIT_OK;
    if (px_pod_dataset_schema(p, a.argv[0], &s, &err) || px_pod_schema_format(&s, &b, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "pod dataset schema");
    else
        printf("%.*s\n", (int)b.len, (const char *)b.data);
    px_buf_free(&b);
    px_pod_close(p);
    return rc;
}

static const px_cli_form forms[] = {
    {"create", create, "declare a dataset (schema JSON, see docs/pod.md)"},
    {"list", list, "the datasets with record counts"},
    {"schema", schema, "print a dataset's schema"},
};

static int run(int argc, char **argv) {
    return px_cli_forms("pod dataset", forms, sizeof forms / sizeof *forms, argc, argv);
}

const px_cli_form px_cli_pod_dataset = {"dataset", run, "declare and list datasets: create, list, schema"};
