/* pixiu pir show: a table dataset file read directly (what its holder sees). */
#include <stdlib.h>
#include <string.h>

#include "cli/pir.h"

static const char usage[] =
    "usage: pixiu pir show TABLE.jsonl [--row KEY] [--json]\n"
    "Reads a table dataset file (`pixiu pir table`) directly, not privately: what its holder\n"
    "sees. Checks that the values open the receipt's result, then prints every row or KEY.\n";

/* The document from its parts, each once, in part order. */
static int read_parts(const char *path, px_buf *doc, px_err *err) {
    px_buf f = PX_BUF_INIT;
    if (px_file_read(path, 2 * PX_PIR_TABLE_MAX_BYTES, &f, err) || !px_buf_cstr(&f, err))
        return px_buf_free(&f), -1;
    px_buf *parts = NULL;
    size_t nparts = 0;
    int rc = 0;
    for (char *line = (char *)f.data, *nl; rc == 0 && line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        json_t *o = px_json_parse(line, nl ? (size_t)(nl - line) : strlen(line), PX_PIR_TABLE_MAX_BYTES, err);
        int64_t k = -1;
        px_buf b = PX_BUF_INIT;
        if (!o || px_json_int(o, PX_PIR_DATASET_PART, &k, err) || px_json_b64(o, PX_PIR_DATASET_BYTES, &b, err))
            rc = -1;
        else if (k < 0 || k > 4096)
            rc = px_fail(err, PX_E_INVALID, "part %lld out of range", (long long)k);
        else if ((size_t)k >= nparts) {
            px_buf *np = realloc(parts, (size_t)(k + 1) * sizeof *np);
            if (!np)
                rc = px_fail(err, PX_E_NOMEM, "out of memory");
            else {
                memset(np + nparts, 0, ((size_t)k + 1 - nparts) * sizeof *np);
                parts = np;
                nparts = (size_t)k + 1;
            }
        }
        if (rc == 0 && parts[k].data)
            rc = px_fail(err, PX_E_INVALID, "part %lld appears twice", (long long)k);
        if (rc == 0) {
            parts[k] = b;
            b = (px_buf)PX_BUF_INIT;
        }
        px_buf_free(&b);
        json_decref(o);
    }
    for (size_t i = 0; i < nparts; i++) {
        if (rc == 0 && !parts[i].data)
            rc = px_fail(err, PX_E_INVALID, "part %zu is missing", i);
        if (rc == 0)
            rc = px_buf_append(doc, parts[i].data, parts[i].len, err);
        px_buf_free(&parts[i]);
    }
    free(parts);
    px_buf_free(&f);
    return rc;
}

static int run(int argc, char **argv) {
    const char *row = NULL;
    int json = 0;
    const px_cli_opt opts[] = {{"row", 0, PX_CLI_VALUE, &row, 0}, {"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    px_cli_args a = {.cmd = "pir show", .usage = usage, .opts = opts, .operands = "TABLE.jsonl", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_buf doc = PX_BUF_INIT;
    px_pir_table t;
    if (read_parts(a.argv[0], &doc, &err) || px_pir_table_parse(&t, doc.data, doc.len, &err)) {
        px_buf_free(&doc);
        return px_cli_error(err.code == PX_E_IO ? PX_EXIT_USAGE : PX_EXIT_INVALID, &err, "pir show");
    }
    px_buf_free(&doc);
    int found = 0;
    json_t *all = json_array();
    for (uint32_t r = 0; r < t.nrows; r++) {
        if (row && strcmp(row, t.rows[r]))
            continue;
        found = 1;
        json_t *v = json_object();
        if (!json)
            printf("%s:", t.rows[r]);
        for (uint32_t k = 0; k < t.ncolumns; k++) {
            double x = t.values[(size_t)r * t.ncolumns + k];
            if (json)
                json_object_set_new(v, t.columns[k], json_real(x));
            else
                printf(" %s=%.17g", t.columns[k], x);
        }
        if (json)
            json_array_append_new(all, json_pack("{s:s,s:o}", "row", t.rows[r], "values", v));
        else
            printf("\n"), json_decref(v);
    }
    if (json) {
        px_buf b = PX_BUF_INIT;
        if (px_json_dump(all, &b, NULL) == 0)
            printf("%.*s\n", (int)b.len, (const char *)b.data);
        px_buf_free(&b);
    }
    json_decref(all);
    px_pir_table_free(&t);
    if (!found)
        return px_cli_errorf(PX_EXIT_USAGE, "pir show: the table has no row \"%s\"", row);
    return PX_EXIT_OK;
}


const px_cli_form px_cli_pir_show = {"show", run, "read a table dataset file directly (what its holder sees)"};
