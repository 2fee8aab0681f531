/* pixiu pir: serving a DP table by private information retrieval
 * (docs/pir.md).
 *
 *   pixiu pir table       make the table dataset a POD imports, from a DP
 *                         task's receipt and the opening of its result
 *   pixiu pir fetch-hint  run the PIR task at the POD, check it, cache the hint
 *   pixiu pir query       fetch one row privately, checked against the receipts
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "node/pirclient.h"

#define MAX_BUILDS 16
#define NAMES_FILE_MAX (64u << 20)
#define DEFAULT_SERVE_MINUTES 60

/* ---- shared --------------------------------------------------------------------- */

/* The cache directory of a table: DIR/<table hex>, DIR from --cache, else
 * $PIXIU_PIR_CACHE, else $HOME/.cache/pixiu/pir (created as needed). */
static int cache_dir(char *out, size_t cap, const char *given, const uint8_t table[PX_SHA256_BYTES], px_err *err) {
    char base[PX_NODE_PATH_MAX], hex[2 * PX_SHA256_BYTES + 1];
    const char *env = getenv("PIXIU_PIR_CACHE"), *home = getenv("HOME");
    if (given)
        snprintf(base, sizeof base, "%s", given);
    else if (env && *env)
        snprintf(base, sizeof base, "%s", env);
    else if (home && *home) {
        char p[PX_NODE_PATH_MAX];
        snprintf(p, sizeof p, "%s/.cache", home);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/.cache/pixiu", home);
        mkdir(p, 0700);
        snprintf(base, sizeof base, "%s/.cache/pixiu/pir", home);
    } else
        return px_fail(err, PX_E_INVALID, "no cache directory: give --cache or set HOME");
    if (mkdir(base, 0700) && errno != EEXIST)
        return px_fail(err, PX_E_IO, "cannot create %s: %s", base, strerror(errno));
    px_hex_encode(hex, table, PX_SHA256_BYTES);
    if ((size_t)snprintf(out, cap, "%s/%s", base, hex) >= cap)
        return px_fail(err, PX_E_LIMIT, "cache path too long");
    return 0;
}

/* The table a receipt made: its result. */
static int receipt_result(const px_buf *receipt, uint8_t out[PX_SHA256_BYTES], px_err *err) {
    json_t *o = px_json_parse(receipt->data, receipt->len, PX_RECEIPT_MAX_BYTES, err);
    int rc = o ? px_json_hex(o, "result", out, PX_SHA256_BYTES, err) : -1;
    json_decref(o);
    return rc ? px_err_prefix(err, "the table's receipt: ") : 0;
}

typedef struct node_ctx {
    px_node_config cfg;
    px_signer key;
    px_membership mem;
    uint8_t builds[MAX_BUILDS][PX_SHA256_BYTES];
    size_t nbuilds;
} node_ctx;

static int node_load(node_ctx *n, const char *path, char **builds, size_t nbuilds, px_err *err) {
    memset(n, 0, sizeof *n);
    n->nbuilds = nbuilds;
    return px_node_builds_parse(n->builds, builds, nbuilds, err) || px_node_config_load(&n->cfg, path, err) ||
           px_signer_load(&n->key, n->cfg.key, err) || px_membership_load(&n->mem, n->cfg.membership, err);
}

static void node_free(node_ctx *n) {
    px_membership_free(&n->mem);
    px_signer_wipe(&n->key);
}

/* ---- table ----------------------------------------------------------------------- */

static const char table_usage[] =
    "usage: pixiu pir table --receipt RECEIPT.json --opening RESULT.pxc --rows ROWS.txt --columns A,B,...\n"
    "                       [-o TABLE.jsonl] [--schema-out SCHEMA.json]\n"
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

static int pir_table(int argc, char **argv) {
    static const struct option opts[] = {{"receipt", required_argument, 0, 'r'}, {"opening", required_argument, 0, 'p'},
                                         {"rows", required_argument, 0, 'w'},    {"columns", required_argument, 0, 'c'},
                                         {"schema-out", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'},
                                         {0}};
    const char *receipt = NULL, *opening = NULL, *rows = NULL, *columns = NULL, *out = NULL, *schema = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:p:w:c:s:o:h", opts, NULL)) != -1) {
        if (c == 'r')
            receipt = optarg;
        else if (c == 'p')
            opening = optarg;
        else if (c == 'w')
            rows = optarg;
        else if (c == 'c')
            columns = optarg;
        else if (c == 's')
            schema = optarg;
        else if (c == 'o')
            out = optarg;
        else if (c == 'h')
            return fputs(table_usage, stdout), PX_EXIT_OK;
        else
            return fputs(table_usage, stderr), PX_EXIT_USAGE;
    }
    if (optind != argc || !receipt || !opening || !rows || !columns)
        return fputs(table_usage, stderr), PX_EXIT_USAGE;
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

/* ---- show ------------------------------------------------------------------------------ */

static const char show_usage[] =
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

static int pir_show(int argc, char **argv) {
    static const struct option opts[] = {{"row", required_argument, 0, 'r'}, {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},      {0}};
    const char *row = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:jh", opts, NULL)) != -1) {
        if (c == 'r')
            row = optarg;
        else if (c == 'j')
            json = 1;
        else if (c == 'h')
            return fputs(show_usage, stdout), PX_EXIT_OK;
        else
            return fputs(show_usage, stderr), PX_EXIT_USAGE;
    }
    if (optind != argc - 1)
        return fputs(show_usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    px_buf doc = PX_BUF_INIT;
    px_pir_table t;
    if (read_parts(argv[optind], &doc, &err) || px_pir_table_parse(&t, doc.data, doc.len, &err)) {
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

/* ---- fetch-hint ---------------------------------------------------------------------- */

static const char fetch_usage[] =
    "usage: pixiu pir fetch-hint --node NODE.json --pod POD --dataset NAME --table-receipt RECEIPT.json\n"
    "                            [--cache DIR] [--serve-minutes N] [--at-pod] [--build HEX]...\n"
    "Runs a PIR task as the querier NODE.json describes: one `pir` stage over the table dataset\n"
    "NAME at POD, serving the result RECEIPT.json names, answering queries for N minutes\n"
    "(default 60). Checks both receipts against the membership, that the table's task is\n"
    "behind DP and that the PIR λ's logged proof derives from exactly that task, result and\n"
    "receipt, then caches the hint in DIR/<table> (default $PIXIU_PIR_CACHE or\n"
    "~/.cache/pixiu/pir). Exit status: 0 cached, 1 a check failed, 2 error.\n";

static int pir_fetch(int argc, char **argv) {
    static const struct option opts[] = {
        {"node", required_argument, 0, 'n'},    {"pod", required_argument, 0, 'p'},
        {"dataset", required_argument, 0, 'd'}, {"table-receipt", required_argument, 0, 't'},
        {"cache", required_argument, 0, 'C'},   {"serve-minutes", required_argument, 0, 'm'},
        {"at-pod", no_argument, 0, 'a'},        {"build", required_argument, 0, 'b'},
        {"help", no_argument, 0, 'h'},          {0}};
    const char *node = NULL, *pod = NULL, *dataset = NULL, *treceipt = NULL, *cache = NULL;
    char *builds[MAX_BUILDS];
    size_t nbuilds = 0;
    long minutes = DEFAULT_SERVE_MINUTES;
    int at_pod = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:p:d:t:C:m:ab:h", opts, NULL)) != -1) {
        if (c == 'n')
            node = optarg;
        else if (c == 'p')
            pod = optarg;
        else if (c == 'd')
            dataset = optarg;
        else if (c == 't')
            treceipt = optarg;
        else if (c == 'C')
            cache = optarg;
        else if (c == 'm')
            minutes = strtol(optarg, NULL, 10);
        else if (c == 'a')
            at_pod = 1;
        else if (c == 'b' && nbuilds < MAX_BUILDS)
            builds[nbuilds++] = optarg;
        else if (c == 'h')
            return fputs(fetch_usage, stdout), PX_EXIT_OK;
        else
            return fputs(fetch_usage, stderr), PX_EXIT_USAGE;
    }
    if (optind != argc || !node || !pod || !dataset || !treceipt || minutes < 1 || minutes > 60 * 24 * 366)
        return fputs(fetch_usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    node_ctx n;
    px_buf tr = PX_BUF_INIT;
    uint8_t table[PX_SHA256_BYTES];
    char dir[PX_NODE_PATH_MAX];
    int status = PX_EXIT_USAGE;
    if (node_load(&n, node, builds, nbuilds, &err) || px_file_read(treceipt, PX_RECEIPT_MAX_BYTES, &tr, &err) ||
        receipt_result(&tr, table, &err) || cache_dir(dir, sizeof dir, cache, table, &err))
        goto out;
    px_pir_fetch_opts o = {n.cfg.id, &n.key, &n.mem, (const uint8_t(*)[PX_SHA256_BYTES])n.builds, n.nbuilds, pod,
                           dataset, tr.data, tr.len, (int64_t)minutes * 60000, at_pod, stderr};
    if (px_pir_fetch(&o, dir, &err)) {
        status = err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    px_pir_session s;
    if (px_pir_session_open(&s, dir, &n.mem, o.builds, o.nbuilds, &err))
        goto out;
    printf("hint: %zu bytes (%u x %u entries, n = %d) for a table of %u rows x %u columns (%zu bytes)\n", s.hint_bytes,
           s.params.rows, s.params.cols, PX_PIR_N, s.info.nrows, s.info.ncolumns, s.table_bytes);
    char until[32];
    time_t t = (time_t)(s.deadline / 1000);
    struct tm tm;
    strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    printf("PIR λ on %s answers until %s; receipts verified; cached in %s\n", s.node, until, dir);
    px_pir_session_free(&s);
    status = PX_EXIT_OK;
out:
    if (status != PX_EXIT_OK)
        px_cli_error(status, &err, "pir fetch-hint");
    node_free(&n);
    px_buf_free(&tr);
    return status;
}

/* ---- query --------------------------------------------------------------------------- */

static const char query_usage[] =
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

static int pir_query(int argc, char **argv) {
    static const struct option opts[] = {
        {"node", required_argument, 0, 'n'}, {"table", required_argument, 0, 'T'},
        {"table-receipt", required_argument, 0, 't'}, {"row", required_argument, 0, 'r'},
        {"json", no_argument, 0, 'j'},       {"cache", required_argument, 0, 'C'},
        {"build", required_argument, 0, 'b'}, {"help", no_argument, 0, 'h'}, {0}};
    const char *node = NULL, *thex = NULL, *treceipt = NULL, *row = NULL, *cache = NULL;
    char *builds[MAX_BUILDS];
    size_t nbuilds = 0;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:T:t:r:jC:b:h", opts, NULL)) != -1) {
        if (c == 'n')
            node = optarg;
        else if (c == 'T')
            thex = optarg;
        else if (c == 't')
            treceipt = optarg;
        else if (c == 'r')
            row = optarg;
        else if (c == 'j')
            json = 1;
        else if (c == 'C')
            cache = optarg;
        else if (c == 'b' && nbuilds < MAX_BUILDS)
            builds[nbuilds++] = optarg;
        else if (c == 'h')
            return fputs(query_usage, stdout), PX_EXIT_OK;
        else
            return fputs(query_usage, stderr), PX_EXIT_USAGE;
    }
    if (optind != argc || !node || !row || !thex == !treceipt)
        return fputs(query_usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    node_ctx n;
    px_buf tr = PX_BUF_INIT;
    uint8_t table[PX_SHA256_BYTES];
    char dir[PX_NODE_PATH_MAX];
    int status = PX_EXIT_USAGE, opened = 0;
    px_pir_session s;
    px_pir_fetched f;
    if (node_load(&n, node, builds, nbuilds, &err) ||
        (thex ? px_hex_decode_exact(table, sizeof table, thex, strlen(thex), &err)
              : px_file_read(treceipt, PX_RECEIPT_MAX_BYTES, &tr, &err) || receipt_result(&tr, table, &err)) ||
        cache_dir(dir, sizeof dir, cache, table, &err))
        goto out;
    /* A cache that does not check (tampered, another table's) is a check
     * that failed; one that cannot be read is an error. */
    if (px_pir_session_open(&s, dir, &n.mem, (const uint8_t(*)[PX_SHA256_BYTES])n.builds, n.nbuilds, &err)) {
        status = err.code == PX_E_VERIFY || err.code == PX_E_INVALID ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    opened = 1;
    if (px_pir_session_query(&s, &n.mem, n.cfg.id, &n.key, row, &f, &err)) {
        status = err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    print_row(&s, row, &f, json);
    status = PX_EXIT_OK;
out:
    if (status != PX_EXIT_OK)
        px_cli_error(status, &err, "pir query");
    if (opened)
        px_pir_session_free(&s);
    node_free(&n);
    px_buf_free(&tr);
    return status;
}

static const px_cli_form forms[] = {
    {"table", pir_table, "make the table dataset a POD serves, from a DP task's receipt and result"},
    {"show", pir_show, "read a table dataset file directly (what its holder sees)"},
    {"fetch-hint", pir_fetch, "run the PIR task at the table's POD, check it, cache the hint"},
    {"query", pir_query, "fetch one row privately, checked against the receipts"},
};

static int run(int argc, char **argv) {
    return px_cli_forms("pir", forms, sizeof forms / sizeof forms[0], argc, argv);
}

const px_cli_cmd px_cli_pir = {"pir", "serve a DP table by private information retrieval (SimplePIR)", run};
