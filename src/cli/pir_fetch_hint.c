/* pixiu pir fetch-hint: run the PIR task at the table's POD, check it and
 * cache the hint. */
#include <string.h>
#include <time.h>

#include "cli/pir.h"

#define DEFAULT_SERVE_MINUTES 60

static const char usage[] =
    "usage: pixiu pir fetch-hint --node NODE.json --pod POD --dataset NAME --table-receipt RECEIPT.json\n"
    "                            [--cache DIR] [--serve-minutes N] [--at-pod] [--build HEX]...\n"
    "Runs a PIR task as the querier NODE.json describes: one `pir` stage over the table dataset\n"
    "NAME at POD, serving the result RECEIPT.json names, answering queries for N minutes\n"
    "(default 60). Checks both receipts against the membership, that the table's task is\n"
    "behind DP and that the PIR λ's logged proof derives from exactly that task, result and\n"
    "receipt, then caches the hint in DIR/<table> (default $PIXIU_PIR_CACHE or\n"
    "~/.cache/pixiu/pir). Exit status: 0 cached, 1 a check failed, 2 error.\n";

static int run(int argc, char **argv) {
    const char *node = NULL, *pod = NULL, *dataset = NULL, *treceipt = NULL, *cache = NULL, *minutes_s = NULL;
    const char *bv[PX_CLI_PIR_MAX_BUILDS];
    px_cli_list builds = {bv, 0, PX_CLI_PIR_MAX_BUILDS};
    int at_pod = 0;
    const px_cli_opt opts[] = {{"node", 0, PX_CLI_VALUE, &node, 1},
                               {"pod", 0, PX_CLI_VALUE, &pod, 1},
                               {"dataset", 0, PX_CLI_VALUE, &dataset, 1},
                               {"table-receipt", 0, PX_CLI_VALUE, &treceipt, 1},
                               {"cache", 0, PX_CLI_VALUE, &cache, 0},
                               {"serve-minutes", 0, PX_CLI_VALUE, &minutes_s, 0},
                               {"at-pod", 0, PX_CLI_FLAG, &at_pod, 0},
                               {"build", 0, PX_CLI_LIST, &builds, 0},
                               {0}};
    px_cli_args a = {.cmd = "pir fetch-hint", .usage = usage, .opts = opts, .max = 0};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    uint64_t minutes = DEFAULT_SERVE_MINUTES;
    if (minutes_s && px_cli_number(&a, "--serve-minutes", minutes_s, 1, 60 * 24 * 366, &minutes))
        return PX_EXIT_USAGE;
    px_err err = {0};
    px_cli_pir_node n;
    px_buf tr = PX_BUF_INIT;
    uint8_t table[PX_SHA256_BYTES];
    char dir[PX_NODE_PATH_MAX];
    int status = PX_EXIT_USAGE;
    if (px_cli_pir_node_load(&n, node, bv, builds.n, &err) || px_file_read(treceipt, PX_RECEIPT_MAX_BYTES, &tr, &err) ||
        px_cli_pir_receipt_result(&tr, table, &err) || px_cli_pir_cache_dir(dir, sizeof dir, cache, table, &err))
        goto out;
    px_pir_fetch_opts o = {n.cfg.id, &n.key, &n.mem, (const uint8_t(*)[PX_SHA256_BYTES])n.builds, n.nbuilds, pod,
                           dataset, tr.data, tr.len, (int64_t)minutes * 60000, at_pod, stderr};
    if (px_node_pir_fetch(&o, dir, &err)) {
        status = err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    px_pir_session s;
    if (px_node_pir_session_open(&s, dir, &n.mem, o.builds, o.nbuilds, &err))
        goto out;
    printf("hint: %zu bytes (%u x %u entries, n = %d) for a table of %u rows x %u columns (%zu bytes)\n", s.hint_bytes,
           s.params.rows, s.params.cols, PX_PIR_N, s.info.nrows, s.info.ncolumns, s.table_bytes);
    char until[32];
    time_t t = (time_t)(s.deadline / 1000);
    struct tm tm;
    strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    printf("PIR λ on %s answers until %s; receipts verified; cached in %s\n", s.node, until, dir);
    px_node_pir_session_free(&s);
    status = PX_EXIT_OK;
out:
    if (status != PX_EXIT_OK)
        px_cli_error(status, &err, "pir fetch-hint");
    px_cli_pir_node_free(&n);
    px_buf_free(&tr);
    return status;
}


const px_cli_form px_cli_pir_fetch_hint = {"fetch-hint", run, "run the PIR task at the table's POD, check it, cache the hint"};
