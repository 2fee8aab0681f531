/* pixiu pir table: the table dataset a POD serves by PIR, made from a DP
 * task's receipt and the opening of its result. */
#include <stdlib.h>
#include <string.h>

#include "cli/pir.h"

#define NAMES_FILE_MAX (64u << 20)

static const char usage[] =
    "usage: pixiu pir table --receipt RECEIPT.json --opening RESULT.pxc --rows ROWS.txt --columns A,B,...\n"
    "                       [-o|--out TABLE.jsonl] [--schema-out SCHEMA.json]\n"
    "Makes the table dataset a POD serves by PIR from a DP task's receipt and the opening of\n"
    "its result (`pixiu task submit --opening`): ROWS.txt names each row, one per line, and\n"
    "--columns each value of a row, so rows x columns is the result's length. Writes JSON\n"
    "Lines of {\"part\", \"bytes\"} (the table document in parts) for `pixiu pod import`, and\n"
    "the dataset's schema for `pixiu pod dataset create`. The values must open the receipt's\n"
    "result commitment.\n";

/* Split text into lines (no empty ones at the end). */
static int split_lines(char *text, char ***out, uint32_t *n, px_err *err) {
    size_t cap = 16, k = 0;
    char **v = malloc(cap * sizeof *v);
    for (char *p = text, *nl; v && p && *p; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        if (k == cap && !(v = realloc(v, (cap *= 2) * sizeof *v)))
            break;
        v[k++] = p;
    }
    if (!v)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    *out = v;
    *n = (uint32_t)k;
    return 0;
}

static int write_table(const px_buf *doc, const char *out, const char *schema_out, px_err *err) {
    px_buf lines = PX_BUF_INIT;
    int rc = 0;
    for (size_t off = 0, part = 0; rc == 0 && off < doc->len; off += PX_PIR_PART_MAX, part++) {
        size_t len = doc->len - off < PX_PIR_PART_MAX ? doc->len - off : PX_PIR_PART_MAX;
        rc = px_buf_printf(&lines, err, "{\"" PX_PIR_DATASET_PART "\":%zu,\"" PX_PIR_DATASET_BYTES "\":\"", part) ||
             px_buf_append_b64(&lines, doc->data + off, len, err) || px_buf_append_str(&lines, "\"}\n", err);
    }
    const char schema[] = "{\"fields\":[{\"name\":\"" PX_PIR_DATASET_PART "\",\"type\":\"int\"},{\"name\":\""
                          PX_PIR_DATASET_BYTES "\",\"type\":\"blob\"}]}\n";
    if (rc == 0)
        rc = out ? px_file_write_atomic(out, lines.data, lines.len, 0644, err)
                 : (fwrite(lines.data, 1, lines.len, stdout) == lines.len ? 0 : px_fail(err, PX_E_IO, "write failed"));
    if (rc == 0 && schema_out)
        rc = px_file_write_atomic(schema_out, schema, sizeof schema - 1, 0644, err);
    px_buf_free(&lines);
    return rc;
}

static int run(int argc, char **argv) {
    const char *receipt = NULL, *opening = NULL, *rows = NULL, *columns = NULL, *out = NULL, *schema = NULL;
    const px_cli_opt opts[] = {{"receipt", 0, PX_CLI_VALUE, &receipt, 1}, {"opening", 0, PX_CLI_VALUE, &opening, 1},
                               {"rows", 0, PX_CLI_VALUE, &rows, 1},       {"columns", 0, PX_CLI_VALUE, &columns, 1},
                               {"out", 'o', PX_CLI_VALUE, &out, 0},       {"schema-out", 0, PX_CLI_VALUE, &schema, 0},
                               {0}};
    px_cli_args a = {.cmd = "pir table", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    px_buf rb = PX_BUF_INIT, ob = PX_BUF_INIT, names = PX_BUF_INIT, doc = PX_BUF_INIT;
    char *cols = strdup(columns), **rv = NULL, *cv[PX_PIR_TABLE_MAX_COLUMNS + 1];
    uint32_t nr = 0, nc = 0;
    int rc = px_file_read(receipt, PX_RECEIPT_MAX_BYTES, &rb, &err) ||
             px_file_read(opening, PX_PIR_TABLE_MAX_BYTES, &ob, &err) ||
             px_file_read(rows, NAMES_FILE_MAX, &names, &err) || !px_buf_cstr(&names, &err) ||
             split_lines((char *)names.data, &rv, &nr, &err);
    for (char *p = cols, *save = NULL; rc == 0 && cols && (p = strtok_r(p, ",", &save)); p = NULL)
        if (nc == PX_PIR_TABLE_MAX_COLUMNS + 1 || !(cv[nc++] = p))
            break;
    if (rc == 0)
        rc = px_pir_table_build(&doc, rb.data, rb.len, ob.data, ob.len, rv, nr, cv, nc, &err) ||
             write_table(&doc, out, schema, &err);
    int status = rc ? px_cli_error(err.code == PX_E_IO ? PX_EXIT_USAGE : PX_EXIT_INVALID, &err, "pir table") : PX_EXIT_OK;
    if (rc == 0 && out)
        fprintf(stderr, "table: %u rows x %u columns, %zu bytes in %zu part(s), written to %s\n", nr, nc, doc.len,
                (doc.len + PX_PIR_PART_MAX - 1) / PX_PIR_PART_MAX, out);
    free(rv);
    free(cols);
    px_buf_free(&rb);
    px_buf_free(&ob);
    px_buf_free(&names);
    px_buf_free(&doc);
    return status;
}


const px_cli_form px_cli_pir_table = {"table", run, "make the table dataset a POD serves, from a DP task's receipt and result"};
