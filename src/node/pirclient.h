/* The PIR querier (`pixiu pir`, docs/pir.md): fetch a table's hint by
 * running a PIR task against the POD that holds the table, keep what it
 * needs in a cache directory, and query rows privately. Nothing from the
 * cache or the network is trusted before both receipts verify against the
 * membership and every digest ties the hint to the table's DP task. */
#ifndef PX_NODE_PIRCLIENT_H
#define PX_NODE_PIRCLIENT_H

#include "node/node.h"
#include "pixiu/pir.h"

/* Cache files, in a directory per table (its DP result, hex). */
#define PX_PIR_CACHE_TABLE_RECEIPT "table-receipt.json" /* the DP task's receipt */
#define PX_PIR_CACHE_RECEIPT "receipt.json"             /* the PIR task's receipt */
#define PX_PIR_CACHE_HINT "hint.pxc"                    /* "PXC1" || r || hint bundle */

typedef struct px_pir_fetch_opts {
    const char *id;          /* the querier's node id */
    const px_signer *key;    /* its node key */
    const px_membership *members;
    const uint8_t (*builds)[PX_SHA256_BYTES]; /* accepted builds; none: this machine's */
    size_t nbuilds;
    const char *pod, *dataset; /* where the table lives */
    const uint8_t *table_receipt; /* the DP task's receipt */
    size_t table_receipt_len;
    int64_t serve_ms;        /* how long the PIR λ answers (the PIR task's deadline) */
    int at_pod;              /* place the PIR λ at the POD ("at": "pod") */
    FILE *progress;
} px_pir_fetch_opts;

/* Run the PIR task, check everything px_pir_session_open checks, and write
 * the cache directory dir (created if missing). */
int px_pir_fetch(const px_pir_fetch_opts *o, const char *dir, px_err *err);

/* A verified cache: what a query needs. */
typedef struct px_pir_session {
    px_pir_params params;
    uint32_t *hint;      /* rows × PX_PIR_N */
    px_pir_info info;
    uint8_t task[PX_SHA256_BYTES];   /* the PIR task's manifest id */
    uint8_t commit[PX_SHA256_BYTES]; /* its result: the hint bundle's commitment */
    char node[PX_NODE_ID_MAX + 1];   /* where the PIR λ runs */
    uint8_t instance[PX_SIGN_PUBLICKEYBYTES]; /* its attested key */
    int64_t deadline;
    size_t hint_bytes, table_bytes;  /* the bundle, and the table's values */
} px_pir_session;

/* Read the cache and check: both receipts verify against the membership
 * (pinned keys, builds, witnesses); the DP task is behind DP; the PIR task
 * is one pir stage whose params name the DP task's result; its logged proof
 * says it derived from exactly that task, result and receipt; the cached
 * hint opens the PIR receipt's result; the bundle's info and its seed of A
 * are the table's. */
int px_pir_session_open(px_pir_session *s, const char *dir, const px_membership *members,
                        const uint8_t (*builds)[PX_SHA256_BYTES], size_t nbuilds, px_err *err);
void px_pir_session_free(px_pir_session *s);

/* One private query for row `key`: values (ncolumns doubles) and the bytes
 * that went each way. The answer must be signed by the attested instance
 * for this query and this hint. */
typedef struct px_pir_fetched {
    uint32_t row;
    double values[PX_PIR_TABLE_MAX_COLUMNS];
    size_t query_bytes, answer_bytes;
} px_pir_fetched;
int px_pir_session_query(const px_pir_session *s, const px_membership *members, const char *id,
                         const px_signer *key, const char *row, px_pir_fetched *out, px_err *err);

#endif
