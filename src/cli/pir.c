/* pixiu pir: serving a DP table by private information retrieval
 * (docs/pir.md). Each form is a file src/cli/pir_<form>.c:
 *
 *   pixiu pir table       make the table dataset a POD imports, from a DP
 *                         task's receipt and the opening of its result
 *   pixiu pir show        read a table dataset file directly
 *   pixiu pir fetch-hint  run the PIR task at the POD, check it, cache the hint
 *   pixiu pir query       fetch one row privately, checked against the receipts
 *
 * This file dispatches and holds what they share. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/pir.h"
#include "cli_forms_pir.h"

int px_cli_pir_cache_dir(char *out, size_t cap, const char *given, const uint8_t table[PX_SHA256_BYTES], px_err *err) {
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

int px_cli_pir_receipt_result(const px_buf *receipt, uint8_t out[PX_SHA256_BYTES], px_err *err) {
    json_t *o = px_json_parse(receipt->data, receipt->len, PX_RECEIPT_MAX_BYTES, err);
    int rc = o ? px_json_hex(o, "result", out, PX_SHA256_BYTES, err) : -1;
    json_decref(o);
    return rc ? px_err_prefix(err, "the table's receipt: ") : 0;
}

int px_cli_pir_node_load(px_cli_pir_node *n, const char *path, const char *const *builds, size_t nbuilds,
                         px_err *err) {
    memset(n, 0, sizeof *n);
    n->nbuilds = nbuilds;
    return px_node_builds_parse(n->builds, (char *const *)builds, nbuilds, err) ||
                   px_node_config_load(&n->cfg, path, err) || px_signer_load(&n->key, n->cfg.key, err) ||
                   px_membership_load(&n->mem, n->cfg.membership, err)
               ? -1
               : 0;
}

void px_cli_pir_node_free(px_cli_pir_node *n) {
    px_membership_free(&n->mem);
    px_signer_wipe(&n->key);
}

static int run(int argc, char **argv) { return px_cli_forms_table("pir", px_cli_pir_forms, argc, argv); }

const px_cli_cmd px_cli_pir = {"pir", "serve a DP table by private information retrieval (SimplePIR)", run};
