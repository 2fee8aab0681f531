/* pixiu pod gen-demo: demo data (no POD needed). */
#include <sys/stat.h>

#include "cli/pod.h"

#define DEMO_MAX_ROWS 20000000UL

static const char usage[] =
    "usage: pixiu pod gen-demo --out DIR [--users N] [--txns N] [--seed S] [--bank-key FILE]\n"
    "                          [--signed-permille P] [--batch N]\n"
    "Writes DIR/transactions.csv (N users with N transactions each, default 50 x 40, from\n"
    "seed S) and its DIR/schema.json. With --bank-key (a `pixiu source keygen` key), P per\n"
    "mille of the rows (default 700) are signed by that source; with --batch N (1 to 65536)\n"
    "as batches of N signed rows in order, one signature each (docs/pod.md).\n";

static int run(int argc, char **argv) {
    const char *out = NULL, *bank_key = NULL, *users_s = NULL, *txns_s = NULL, *seed_s = NULL, *permille_s = NULL,
               *batch_s = NULL;
    const px_cli_opt opts[] = {{"out", 'o', PX_CLI_VALUE, &out, 1},
                               {"users", 0, PX_CLI_VALUE, &users_s, 0},
                               {"txns", 0, PX_CLI_VALUE, &txns_s, 0},
                               {"seed", 0, PX_CLI_VALUE, &seed_s, 0},
                               {"bank-key", 0, PX_CLI_VALUE, &bank_key, 0},
                               {"signed-permille", 0, PX_CLI_VALUE, &permille_s, 0},
                               {"batch", 0, PX_CLI_VALUE, &batch_s, 0},
                               {0}};
    px_cli_args a = {.cmd = "pod gen-demo", .usage = usage, .opts = opts, .max = 0};
    uint64_t users = 50, txns = 40, seed = 1, permille = 700, batch = 0;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if ((users_s && px_cli_number(&a, "--users", users_s, 1, 10000000, &users)) ||
        (txns_s && px_cli_number(&a, "--txns", txns_s, 0, 100000, &txns)) ||
        (seed_s && px_cli_number(&a, "--seed", seed_s, 0, UINT64_MAX, &seed)) ||
        (permille_s && px_cli_number(&a, "--signed-permille", permille_s, 0, 1000, &permille)) ||
        (batch_s && px_cli_number(&a, "--batch", batch_s, 1, PX_SRC_BATCH_MAX, &batch)))
        return PX_EXIT_USAGE;
    if (users * txns > DEMO_MAX_ROWS)
        return px_cli_usage_error(&a, "--users times --txns must be at most %lu", DEMO_MAX_ROWS);
    px_err err = {0};
    px_source_signer bank;
    int have_bank = 0;
    if (bank_key) {
        if (px_source_signer_load(&bank, bank_key, &err))
            return px_cli_error(PX_EXIT_USAGE, &err, "pod gen-demo: --bank-key");
        have_bank = 1;
    }
    mkdir(out, 0755);
    char cpath[PX_CLI_POD_PATH_MAX], spath[PX_CLI_POD_PATH_MAX];
    snprintf(cpath, sizeof cpath, "%s/transactions.csv", out);
    snprintf(spath, sizeof spath, "%s/schema.json", out);
    px_buf csv = PX_BUF_INIT, schema = PX_BUF_INIT;
    int rc = PX_EXIT_OK;
    if (px_pod_demo_generate_batch(&csv, &schema, (uint32_t)users, (uint32_t)txns, seed, have_bank ? &bank : NULL,
                                   (unsigned)permille, (uint32_t)batch, &err) ||
        px_buf_append_u8(&schema, '\n', &err) || px_file_write_atomic(cpath, csv.data, csv.len, 0644, &err) ||
        px_file_write_atomic(spath, schema.data, schema.len, 0644, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "pod gen-demo");
    else
        printf("%s (%llu users x %llu transactions), %s\n", cpath, (unsigned long long)users,
               (unsigned long long)txns, spath);
    if (have_bank)
        px_source_signer_free(&bank);
    px_buf_free(&csv);
    px_buf_free(&schema);
    return rc;
}

const px_cli_form px_cli_pod_gen_demo = {"gen-demo", run, "write demo transactions and their schema"};
