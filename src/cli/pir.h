/* What the forms of `pixiu pir` (src/cli/pir_*.c) share: serving a DP
 * table by private information retrieval (docs/pir.md). */
#ifndef PIXIU_CLI_PIR_H
#define PIXIU_CLI_PIR_H

#include "cli/cli.h"
#include "node/pirclient.h"

#define PX_CLI_PIR_MAX_BUILDS 16

/* The cache directory of a table: DIR/<table hex>, DIR from --cache, else
 * $PIXIU_PIR_CACHE, else $HOME/.cache/pixiu/pir (created as needed). */
int px_cli_pir_cache_dir(char *out, size_t cap, const char *given, const uint8_t table[PX_SHA256_BYTES], px_err *err);
/* The table a receipt made: its result. */
int px_cli_pir_receipt_result(const px_buf *receipt, uint8_t out[PX_SHA256_BYTES], px_err *err);

/* The querier: its node config, key, membership and accepted builds. */
typedef struct px_cli_pir_node {
    px_node_config cfg;
    px_signer key;
    px_membership mem;
    uint8_t builds[PX_CLI_PIR_MAX_BUILDS][PX_SHA256_BYTES];
    size_t nbuilds;
} px_cli_pir_node;

int px_cli_pir_node_load(px_cli_pir_node *n, const char *path, const char *const *builds, size_t nbuilds,
                         px_err *err);
void px_cli_pir_node_free(px_cli_pir_node *n);

#endif
