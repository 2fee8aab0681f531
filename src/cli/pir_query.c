/* pixiu pir query: one row of a table by PIR, checked against the receipts
 * and the cached hint. */
#include <string.h>

#include "cli/pir.h"

static const char usage[] =
    "usage: pixiu pir query --node NODE.json (--table HEX | --table-receipt RECEIPT.json) --row KEY\n"
    "                       [--json] [--cache DIR] [--build HEX]...\n"
    "Fetches row KEY of the table by PIR: the PIR λ (whose hint `pixiu pir fetch-hint` cached)\n"
    "cannot tell which row. Before trusting the answer, checks the cached hint and both\n"
    "receipts against the membership, and the answer's signature by the attested instance.\n"
    "Prints the row's values and the bytes sent and received. Exit status: 0 the row, 1 a\n"
    "check failed, 2 error.\n";

static void print_row(const px_pir_session *s, const char *key, const px_pir_fetched *f, int json) {
    char t[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(t, s->info.table, PX_SHA256_BYTES);
    if (!json) {
        printf("%s:", key);
        for (uint32_t c = 0; c < s->info.ncolumns; c++)
            printf(" %s=%.17g", s->info.columns[c], f->values[c]);
        printf("\nbytes: query %zu, answer %zu, hint %zu (once); the whole table is %zu\n", f->query_bytes,
               f->answer_bytes, s->hint_bytes, s->table_bytes);
        return;
    }
    json_t *o = json_object(), *v = json_object();
    for (uint32_t c = 0; c < s->info.ncolumns; c++)
        json_object_set_new(v, s->info.columns[c], json_real(f->values[c]));
    json_object_set_new(o, "row", json_string(key));
    json_object_set_new(o, "index", json_integer(f->row));
    json_object_set_new(o, "values", v);
    json_object_set_new(o, "table", json_string(t));
    json_object_set_new(o, "node", json_string(s->node));
    json_object_set_new(o, "bytes", json_pack("{s:I,s:I,s:I,s:I}", "query", (json_int_t)f->query_bytes, "answer",
                                              (json_int_t)f->answer_bytes, "hint", (json_int_t)s->hint_bytes, "table",
                                              (json_int_t)s->table_bytes));
    px_buf b = PX_BUF_INIT;
    if (px_json_dump(o, &b, NULL) == 0)
        printf("%.*s\n", (int)b.len, (const char *)b.data);
    px_buf_free(&b);
    json_decref(o);
}

static int run(int argc, char **argv) {
    const char *node = NULL, *thex = NULL, *treceipt = NULL, *row = NULL, *cache = NULL;
    const char *bv[PX_CLI_PIR_MAX_BUILDS];
    px_cli_list builds = {bv, 0, PX_CLI_PIR_MAX_BUILDS};
    int json = 0;
    const px_cli_opt opts[] = {{"node", 0, PX_CLI_VALUE, &node, 1},   {"table", 0, PX_CLI_VALUE, &thex, 0},
                               {"table-receipt", 0, PX_CLI_VALUE, &treceipt, 0},
                               {"row", 0, PX_CLI_VALUE, &row, 1},     {"json", 0, PX_CLI_FLAG, &json, 0},
                               {"cache", 0, PX_CLI_VALUE, &cache, 0}, {"build", 0, PX_CLI_LIST, &builds, 0},
                               {0}};
    px_cli_args a = {.cmd = "pir query", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (!thex == !treceipt)
        return px_cli_usage_error(&a, "give one of --table and --table-receipt");
    px_err err = {0};
    px_cli_pir_node n;
    px_buf tr = PX_BUF_INIT;
    uint8_t table[PX_SHA256_BYTES];
    char dir[PX_NODE_PATH_MAX];
    int status = PX_EXIT_USAGE, opened = 0;
    px_pir_session s;
    px_pir_fetched f;
    if (px_cli_pir_node_load(&n, node, bv, builds.n, &err) ||
        (thex ? px_hex_decode_exact(table, sizeof table, thex, strlen(thex), &err)
              : px_file_read(treceipt, PX_RECEIPT_MAX_BYTES, &tr, &err) || px_cli_pir_receipt_result(&tr, table, &err)) ||
        px_cli_pir_cache_dir(dir, sizeof dir, cache, table, &err))
        goto out;
    /* A cache that does not check (tampered, another table's) is a check
     * that failed; one that cannot be read is an error. */
    if (px_node_pir_session_open(&s, dir, &n.mem, (const uint8_t(*)[PX_SHA256_BYTES])n.builds, n.nbuilds, &err)) {
        status = err.code == PX_E_VERIFY || err.code == PX_E_INVALID ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    opened = 1;
    if (px_node_pir_session_query(&s, &n.mem, n.cfg.id, &n.key, row, &f, &err)) {
        status = err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    print_row(&s, row, &f, json);
    status = PX_EXIT_OK;
out:
    if (status != PX_EXIT_OK)
        px_cli_error(status, &err, "pir query");
    if (opened)
        px_node_pir_session_free(&s);
    px_cli_pir_node_free(&n);
    px_buf_free(&tr);
    return status;
}


const px_cli_form px_cli_pir_query = {"query", run, "fetch one row privately, checked against the receipts"};
