/* PIXIU PODs: a person's or an organisation's datasets, the provenance of
 * each record, the owner's rules, the privacy-budget ledger, release
 * statements, and the data-prover stage that turns source signatures into
 * the `authenticated` / `alleged` tag consumers rely on.
 *
 * A POD is one SQLite database (see docs/pod.md for its tables). Every
 * function that writes does so in one transaction: it either stores
 * everything it was asked to or nothing.
 *
 * Record digest (what a source signs):
 *   SHA-256("PIXIU-record-v1\n" || px_record_encode_values(schema, values))
 * Ed25519 sources sign the 32-byte digest; ECDSA P-256 sources sign it as
 * the prehashed message (so the signature is an ordinary ECDSA-SHA256
 * signature over the tag and the values), encoded as 64 bytes r || s.
 * A source may instead sign many records at once (the batch form below):
 * each record then carries the batch's signature and its own inclusion
 * proof, and is still checked on its own.
 */
#ifndef PIXIU_POD_H
#define PIXIU_POD_H

#include "pixiu/crypto.h"
#include "pixiu/records.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

/* ---- record digest and source keys --------------------------------------- */

#define PX_RECORD_DIGEST_TAG "PIXIU-record-v1\n"
#define PX_RECORD_DIGEST_TAG_LEN 16

#define PX_SRC_ED25519 0x01 /* signed-note signature type bytes */
#define PX_SRC_P256 0x02
#define PX_SRC_PK_MAX 65     /* P-256 uncompressed SEC1 point */
#define PX_SRC_SK_MAX 64     /* Ed25519 secret key (seed || pk) */
#define PX_SRC_SIG_BYTES 64  /* Ed25519, or P-256 r || s */
#define PX_SRC_REF_MAX (PX_KEY_NAME_MAX + 9) /* "<name>+<8 hex>" */

/* Field names the import formats and the prover's input stream reserve for
 * provenance: the signing source ("<name>+<hex id>") and the signature. */
#define PX_POD_FIELD_SOURCE "px_source"
#define PX_POD_FIELD_SIG "px_sig"

int px_source_record_digest(uint8_t out[PX_SHA256_BYTES], const px_schema *s, const px_value *values,
                     px_err *err);

/* A source's public key. Text form, as a signed-note verifier key:
 *   <name>+<hex keyid>+<base64(alg || pk)>
 * keyid = first 4 bytes of SHA-256(name || 0x0A || alg || pk), big-endian.
 * A parsed P-256 key holds an OpenSSL key object: free it. */
typedef struct px_source_key {
    char name[PX_KEY_NAME_MAX + 1];
    uint32_t id;
    uint8_t alg;
    uint8_t pk[PX_SRC_PK_MAX];
    size_t pk_len;
    void *ossl; /* EVP_PKEY for P-256, owned; NULL for Ed25519 */
} px_source_key;

/* A source's private key: PRIVATE+KEY+<name>+<hex keyid>+<base64(alg || secret)>
 * where secret is the Ed25519 seed or the P-256 scalar (32 bytes). */
typedef struct px_source_signer {
    px_source_key pub;
    uint8_t sk[PX_SRC_SK_MAX];
} px_source_signer;

uint32_t px_source_key_id(const char *name, uint8_t alg, const uint8_t *pk, size_t pk_len);
int px_source_key_parse(px_source_key *k, const char *text, size_t len, px_err *err);
int px_source_key_format(const px_source_key *k, px_buf *out, px_err *err);
/* "<name>+<hex id>": how a record names its source. ref holds PX_SRC_REF_MAX+1. */
void px_source_key_ref(const px_source_key *k, char *ref);
int px_source_key_copy(px_source_key *dst, const px_source_key *src, px_err *err);
void px_source_key_free(px_source_key *k);
/* 0 if sig (sig_len bytes) is k's signature of the record digest, in the
 * per-record form (64 bytes) or the batch form (any other length, below);
 * -1 otherwise. */
int px_source_verify(const px_source_key *k, const uint8_t digest[PX_SHA256_BYTES],
                     const uint8_t *sig, size_t sig_len);

int px_source_signer_generate(px_source_signer *s, const char *name, uint8_t alg, px_err *err);
int px_source_signer_parse(px_source_signer *s, const char *text, size_t len, px_err *err);
int px_source_signer_load(px_source_signer *s, const char *path, px_err *err);
int px_source_signer_format(const px_source_signer *s, px_buf *out, px_err *err);
int px_source_sign(const px_source_signer *s, const uint8_t digest[PX_SHA256_BYTES],
                   uint8_t sig[PX_SRC_SIG_BYTES], px_err *err);
void px_source_signer_free(px_source_signer *s); /* wipes */
/* ---- batch signatures --------------------------------------------------------
 *
 * A source that delivers many records at once signs them as one batch: the
 * RFC 9162 Merkle tree whose leaves are the records in batch order, each
 * leaf SHA-256(0x00 || record digest), and
 *   batch digest = SHA-256("PIXIU-batch-v1\n" || u32 be size || root)
 * signed exactly as a record digest is (Ed25519 over the 32 bytes, P-256 as
 * the prehash). Each record's px_sig is then
 *   sig (64) || index (u32 be) || size (u32 be) || path (k x 32 bytes)
 * with 1 <= size <= PX_SRC_BATCH_MAX, index < size and k exactly the length
 * of the inclusion proof of (index, size). A record verifies iff its path
 * leads from its own digest to a root whose batch digest the key signed. */

#define PX_BATCH_DIGEST_TAG "PIXIU-batch-v1\n"
#define PX_BATCH_DIGEST_TAG_LEN 15
#define PX_SRC_BATCH_MAX 65536
#define PX_SRC_BATCH_PATH_MAX 16 /* hashes in the longest path (size 65,536) */
#define PX_SRC_BATCH_FIXED (PX_SRC_SIG_BYTES + 8)
#define PX_SRC_SIG_MAX (PX_SRC_BATCH_FIXED + 32 * PX_SRC_BATCH_PATH_MAX) /* 584 */

/* A batch-form px_sig, parsed; the pointers borrow the signature bytes. */
typedef struct px_source_batch_sig {
    const uint8_t *sig;  /* PX_SRC_SIG_BYTES: the signature of the batch digest */
    uint32_t index, size;
    const uint8_t *path; /* npath 32-byte hashes, leaf to root */
    size_t npath;
} px_source_batch_sig;

/* 0 if sig is well formed in the batch form; -1 (PX_E_INVALID, naming what
 * is wrong) otherwise. Says nothing about whether it verifies. */
int px_source_batch_parse(px_source_batch_sig *b, const uint8_t *sig, size_t sig_len, px_err *err);
/* SHA-256("PIXIU-batch-v1\n" || u32 be size || root). */
void px_source_batch_digest(uint8_t out[PX_SHA256_BYTES], uint32_t size, const uint8_t root[PX_SHA256_BYTES]);
/* The batch digest b's path leads to from the record digest: what the
 * source must have signed for the record to be authentic. */
int px_source_batch_digest_of(uint8_t out[PX_SHA256_BYTES], const px_source_batch_sig *b,
                              const uint8_t record_digest[PX_SHA256_BYTES], px_err *err);
/* The length of the batch-form signature of record index of a batch of size. */
size_t px_source_batch_sig_len(uint32_t index, uint32_t size);

/* A signed batch: its tree and the source's signature of its batch digest. */
typedef struct px_source_batch {
    uint32_t size;
    uint8_t root[PX_SHA256_BYTES];
    uint8_t sig[PX_SRC_SIG_BYTES];
    uint8_t *nodes; /* owned: the hashes of the tree's complete subtrees, level by level */
    size_t level[PX_SRC_BATCH_PATH_MAX + 1]; /* first hash of each level in nodes */
} px_source_batch;

/* Build the tree over n record digests (n x 32 bytes, in batch order,
 * 1 <= n <= PX_SRC_BATCH_MAX) and sign its batch digest with s. */
int px_source_batch_sign(px_source_batch *b, const px_source_signer *s, const uint8_t *digests, size_t n,
                         px_err *err);
/* Append record index's px_sig (px_source_batch_sig_len bytes) to out. */
int px_source_batch_append_sig(const px_source_batch *b, uint32_t index, px_buf *out, px_err *err);
void px_source_batch_free(px_source_batch *b);

/* OpenSSL loads its configuration and providers on first use, reading
 * files. A process that will verify P-256 signatures under a syscall
 * filter (a trust-λ worker) calls this once before locking down. */
int px_source_preload(px_err *err);

/* ---- dataset schemas -------------------------------------------------------- */

/* A dataset's declared schema: the record layout plus an optional unique
 * key field. JSON form:
 *   {"fields": [{"name": "user_id", "type": "text"}, ...],
 *    "user": "user_id", "key": "txn_id"}
 * types: "int", "real", "text", "blob"; "user" and "key" are optional. */
typedef struct px_pod_schema {
    px_schema rec;
    int key_field; /* index or -1 */
} px_pod_schema;

int px_pod_schema_parse(px_pod_schema *s, const void *json, size_t len, px_err *err);
int px_pod_schema_format(const px_pod_schema *s, px_buf *out, px_err *err);

/* ---- import parsers (CSV, JSON Lines) --------------------------------------- */

#define PX_POD_IMPORT_MAX_BYTES (256u << 20)
#define PX_POD_ROW_MAX_BYTES (4u << 20)
#define PX_POD_MAX_REPORTED_ERRORS 20

/* One parsed row: values typed per the schema (text/blob borrowed until the
 * callback returns); source is "" and sig_len 0 when the row is unsigned. */
typedef struct px_pod_row {
    uint64_t line;
    const px_value *values;
    const char *source;
    const uint8_t *sig;
    size_t sig_len;
} px_pod_row;

/* Called once per valid row; a non-zero return rejects the row with the
 * message in err (the parser records it and goes on). */
typedef int (*px_pod_row_fn)(void *ctx, const px_pod_row *row, px_err *err);

/* Errors found while parsing or storing, one per line, in input order. */
typedef struct px_pod_report {
    uint64_t rows;    /* rows read (good and bad) */
    uint64_t errors;  /* rows rejected, and file-level errors */
    px_buf text;      /* "line N: message\n" for the first few errors; owned */
} px_pod_report;

void px_pod_report_free(px_pod_report *r);

/* Parse a whole file. Returns 0 when every row was accepted, -1 otherwise
 * (err names the first problem; report, if not NULL, lists the first
 * PX_POD_MAX_REPORTED_ERRORS). CSV: RFC 4180, a header row naming every
 * schema field (any order) plus optionally px_source and px_sig. */
int px_pod_parse_csv(const px_pod_schema *s, const uint8_t *data, size_t len, px_pod_row_fn fn,
                     void *ctx, px_pod_report *report, px_err *err);
int px_pod_parse_jsonl(const px_pod_schema *s, const uint8_t *data, size_t len, px_pod_row_fn fn,
                       void *ctx, px_pod_report *report, px_err *err);

/* ---- the POD database ---------------------------------------------------- */

typedef struct px_pod px_pod;

/* Create (if absent) and open the POD database at path. */
int px_pod_open(px_pod **out, const char *path, px_err *err);
void px_pod_close(px_pod *p);

int px_pod_dataset_create(px_pod *p, const char *name, const px_pod_schema *s, px_err *err);
int px_pod_dataset_schema(px_pod *p, const char *name, px_pod_schema *s, px_err *err);

typedef struct px_pod_dataset_info {
    char name[PX_KEY_NAME_MAX + 1];
    uint64_t records, signed_records;
    int64_t created_ms;
} px_pod_dataset_info;

/* *out is a new array (free()) of *n entries, by name. */
int px_pod_dataset_list(px_pod *p, px_pod_dataset_info **out, size_t *n, px_err *err);

typedef enum px_pod_format { PX_POD_CSV = 1, PX_POD_JSONL = 2 } px_pod_format;

/* Append the rows of a file to a dataset, atomically: every row is checked
 * (types, unique key, signatures against the trust store: a signed row from
 * an unknown source or with a bad signature is an error) and nothing is
 * stored unless all are good. *added (if not NULL) receives the count. */
int px_pod_import(px_pod *p, const char *dataset, px_pod_format fmt, const uint8_t *data,
                  size_t len, uint64_t *added, px_pod_report *report, px_err *err);

typedef struct px_pod_export_info {
    uint64_t records, signed_records, unsigned_records;
    uint8_t digest[PX_SHA256_BYTES]; /* SHA-256 of the stream */
} px_pod_export_info;

/* Append the dataset as a PXR1 stream whose schema is the dataset's fields
 * followed by px_source (text) and px_sig (blob): the prover's input. */
int px_pod_export(px_pod *p, const char *dataset, px_buf *out, px_pod_export_info *info,
                  px_err *err);

/* ---- trust store ----------------------------------------------------------- */

/* Add a named source key (text form). The key id must match the name and
 * key; a name already trusted with another key is refused. */
int px_pod_trust_add(px_pod *p, const char *key_text, px_err *err);
int px_pod_trust_remove(px_pod *p, const char *name, px_err *err);
/* *out is a new array of *n keys, freed with px_source_keys_free. */
int px_pod_trust_list(px_pod *p, px_source_key **out, size_t *n, px_err *err);
void px_source_keys_free(px_source_key *keys, size_t n);

/* ---- privacy amounts ----------------------------------------------------- */

/* ε and δ are decimal strings on the wire ("0.5", "1e-6"). The ledger keeps
 * them as exact fixed-point integers: ε in units of 1e-9, δ in units of
 * 1e-18. Charges round up, limits round down, so rounding never lets a
 * POD spend more than it allowed. */
#define PX_EPS_SCALE_DIGITS 9
#define PX_DELTA_SCALE_DIGITS 18
#define PX_EPS_MAX_UNITS ((int64_t)1000000 * 1000000000) /* ε <= 1e6 */
#define PX_DELTA_MAX_UNITS ((int64_t)1000000000000000000) /* δ <= 1 */
#define PX_AMOUNT_TEXT_MAX 48

typedef enum px_round { PX_ROUND_DOWN = 0, PX_ROUND_UP = 1 } px_round;

int px_eps_parse(int64_t *units, const char *text, px_round mode, px_err *err);
int px_delta_parse(int64_t *units, const char *text, px_round mode, px_err *err);
/* Shortest exact decimal text; out holds PX_AMOUNT_TEXT_MAX bytes. */
void px_eps_format(char *out, int64_t units);
void px_delta_format(char *out, int64_t units);

/* ---- policy ----------------------------------------------------------------- */

/* A dataset's policy, JSON:
 *   {"consumers": ["bank-analytics", ...],          (node ids; "*" = anyone)
 *    "code": ["<hex sha256>", ...] | "any-behind-dp",
 *    "min_level": {"default": 1, "wasm": 2, ...},   (per stage kind)
 *    "executors": ["exec-1", ...],                  (optional: accepted hosts)
 *    "require_dp": true,
 *    "budget": {"epsilon": "10", "delta": "1e-6",
 *               "per_consumer": {"epsilon": "2", "delta": "1e-7"}}}
 * Everything not allowed is denied. */
#define PX_POLICY_MAX_ITEMS 1024
#define PX_STAGE_KIND_MAX 31

/* What a dataset's policy says about stages placed at the POD ("at":
 * "pod": a trust-λ on the POD's own node over its data), its "at_pod"
 * member (docs/pod.md, "Stages at the POD"):
 *   {"consumers": ["ads"], "code": ["<hex sha256>", ...],
 *    "limits": {"cpu_ms": 1000, "mem_mb": 64}, "min_pad_ms": 250,
 *    "per_day": 10, "per_day_consumer": 2,
 *    "opt_out": ["health"], "topic_field": "category"}
 * Without it the POD hosts no such stage for the dataset. */
typedef struct px_pod_hosting {
    int present;
    char **consumers; size_t nconsumers; int any_consumer;
    uint8_t (*code)[PX_SHA256_BYTES]; size_t ncode; /* code digests it hosts */
    uint64_t cpu_ms, mem_mb;     /* the most a hosted code stage may ask per run; 0: not limited */
    uint32_t min_pad_ms;         /* default PX_POD_MIN_PAD_MS_DEFAULT */
    uint32_t per_day, per_day_consumer; /* campaigns hosted in any 24 hours; 0: no cap */
    char **opt_out; size_t nopt_out;    /* topics the owner excludes */
    char topic_field[PX_KEY_NAME_MAX + 1]; /* records whose value here is an excluded topic are withheld */
} px_pod_hosting;

#define PX_POD_MIN_PAD_MS_DEFAULT 250
#define PX_POD_DAY_MS (24 * 3600 * 1000LL)

typedef struct px_pod_policy {
    char **consumers; size_t nconsumers; int any_consumer;
    uint8_t (*code)[PX_SHA256_BYTES]; size_t ncode; int any_code_behind_dp;
    struct { char kind[PX_STAGE_KIND_MAX + 1]; int level; } *levels; size_t nlevels;
    int default_level;
    char **executors; size_t nexecutors; int any_executor; /* any_executor: no list */
    int require_dp;
    int64_t eps_total, delta_total, eps_consumer, delta_consumer; /* units */
    px_pod_hosting at_pod;
} px_pod_policy;

int px_pod_policy_parse(px_pod_policy *pol, const void *json, size_t len, px_err *err);
void px_pod_policy_free(px_pod_policy *pol);
int px_pod_policy_set(px_pod *p, const char *dataset, const void *json, size_t len, px_err *err);
/* Appends the stored policy document. */
int px_pod_policy_get(px_pod *p, const char *dataset, px_buf *out, px_err *err);

/* Accepted builds (docs/tee.md): besides the build its own node runs, a
 * POD accepts instances measured under the build digests its owner added
 * here (for every dataset: a build is about executors, not data). Adding a
 * listed build again is a no-op; removing one that is not listed fails
 * with PX_E_NOTFOUND. */
int px_pod_build_add(px_pod *p, const uint8_t build[PX_SHA256_BYTES], px_err *err);
int px_pod_build_remove(px_pod *p, const uint8_t build[PX_SHA256_BYTES], px_err *err);
/* *out (malloc'd, n entries; free it) in the order they were added. */
int px_pod_build_list(px_pod *p, uint8_t (**out)[PX_SHA256_BYTES], size_t *n, px_err *err);

/* What a task asks of a dataset, as the POD sees it at admission. */
typedef struct px_pod_stage_req {
    const char *kind;            /* "prover", "wasm", "dp", ... */
    const uint8_t *code_digest;  /* 32 bytes for code stages, or NULL */
    int level;                   /* attested TEE security level */
    /* A stage at the POD: its pad, what a code stage asks per run (0: did
     * not say) and the topics it declares it targets. */
    int at_pod;
    uint32_t pad_ms;
    uint64_t cpu_ms, mem_mb;
    const char *const *topics;
    size_t ntopics;
} px_pod_stage_req;

/* One attested instance of the task: where it runs and at which level. */
typedef struct px_pod_instance_req {
    uint32_t stage, partition;
    const char *kind;            /* its stage's kind */
    const char *node;            /* the executor node hosting it */
    int level;                   /* attested TEE security level */
} px_pod_instance_req;

typedef struct px_pod_request {
    const char *consumer;
    const char *dataset;
    const px_pod_stage_req *stages;
    size_t nstages;
    const px_pod_instance_req *instances; /* NULL: judged per stage only */
    size_t ninstances;
} px_pod_request;

/* 0 if the policy allows the request; else -1 with PX_E_DENIED naming the
 * rule that refused it. Budgets are checked by px_pod_budget_charge. */
int px_pod_policy_check(const px_pod_policy *pol, const px_pod_request *req, px_err *err);

/* The "at_pod" member (hosting.c): parsed into h, judged for the stages of
 * req placed at the POD. */
int px_pod_hosting_parse(px_pod_hosting *h, const json_t *o, px_err *err);
void px_pod_hosting_free(px_pod_hosting *h);
int px_pod_hosting_check(const px_pod_hosting *h, const px_pod_request *req, px_err *err);
/* 1 if the request places a stage at the POD. */
int px_pod_request_at_pod(const px_pod_request *req);

/* ---- budget ledger ------------------------------------------------------- */

typedef enum px_charge_state {
    PX_CHARGE_CHARGED = 1,  /* admitted, data not yet released */
    PX_CHARGE_STARTED = 2,  /* released: outcome not settled yet */
    PX_CHARGE_REFUNDED = 3, /* returned: the task never started, or no
                               result can have left it (see settle) */
    PX_CHARGE_SPENT = 4     /* settled: its DP stage released; for good */
} px_charge_state;

#define PX_CHARGE_REASON_MAX 400

typedef struct px_pod_charge {
    int64_t id;
    char manifest[2 * PX_SHA256_BYTES + 1];
    char dataset[PX_KEY_NAME_MAX + 1];
    char consumer[PX_KEY_NAME_MAX + 1];
    int64_t eps, delta; /* units */
    px_charge_state state;
    int64_t created_ms, updated_ms;
    char reason[PX_CHARGE_REASON_MAX + 1]; /* why refunded or spent, or "" */
} px_pod_charge;

/* Admission: check the dataset's policy against req and charge (ε, δ) for
 * the manifest, all in one IMMEDIATE transaction, so that concurrent
 * admissions (threads or processes) can never overspend. A second charge
 * for the same (manifest, dataset) is refused with PX_E_STATE. */
int px_pod_admit(px_pod *p, const char *manifest_hex, const px_pod_request *req,
                 const char *epsilon, const char *delta, px_err *err);
/* Return a charge whose task never started (state charged -> refunded). */
int px_pod_budget_refund(px_pod *p, const char *manifest_hex, const char *dataset, px_err *err);
/* Settle every open (charged or started) charge of a manifest, in one
 * transaction: refunded (refund != 0: the log shows no result can have
 * left the task) or spent for good, with the reason. Charges already
 * settled are left as they are, so settling again is a no-op and nothing is
 * refunded twice. *changed (nullable) counts the charges settled now. */
int px_pod_budget_settle(px_pod *p, const char *manifest_hex, int refund, const char *reason, size_t *changed,
                         px_err *err);
/* Spent (charged, started or spent) and limits, for the whole dataset
 * (consumer NULL) or one consumer. */
typedef struct px_pod_budget_status {
    int64_t eps_spent, delta_spent, eps_limit, delta_limit;
} px_pod_budget_status;
int px_pod_budget_status_get(px_pod *p, const char *dataset, const char *consumer,
                             px_pod_budget_status *st, px_err *err);
/* The datasets that have a policy (a budget), by name. *out: free(). */
int px_pod_budget_datasets(px_pod *p, char (**out)[PX_KEY_NAME_MAX + 1], size_t *n, px_err *err);
/* History, oldest first; dataset NULL lists all. *out: free(). */
int px_pod_budget_history(px_pod *p, const char *dataset, px_pod_charge **out, size_t *n,
                          px_err *err);
const char *px_charge_state_name(px_charge_state s);

/* ---- releases ------------------------------------------------------------ */

#define PX_RELEASE_PREDICATE "urn:pixiu:predicate:release:v1"

typedef struct px_release_info {
    char manifest[2 * PX_SHA256_BYTES + 1];
    char pod[PX_KEY_NAME_MAX + 1];
    char dataset[PX_KEY_NAME_MAX + 1];
    uint8_t dataset_digest[PX_SHA256_BYTES];
    uint64_t records, signed_records, unsigned_records;
    int64_t eps, delta; /* units */
    uint8_t stage_key[PX_BOX_PUBLICKEYBYTES];
    int64_t released_ms;
    /* To an instance at the POD: the statement says "at": "pod" and no
     * counts (they would publish how much data a person holds). */
    int at_pod;
} px_release_info;

/* The in-toto statement of docs/formats.md, in a DSSE envelope signed by
 * the POD's key; appended to out. */
int px_release_statement(px_buf *out, const px_release_info *ri, const px_signer *pod_key,
                         px_err *err);

/* Release a dataset to an admitted task: export the stream (appended to
 * stream), sign the release statement (appended to envelope), store it in
 * the releases table and mark the charge started, in one transaction.
 * stream receives the payload to seal: "PXC1" || r || the PXR1 export, whose
 * commitment (pixiu/crypto.h) is the statement's dataset_digest. Sealing it
 * to stage_key and publishing the envelope to the log are the caller's. */
int px_pod_release(px_pod *p, const px_signer *pod_key, const char *pod_id,
                   const char *manifest_hex, const char *dataset,
                   const uint8_t stage_key[PX_BOX_PUBLICKEYBYTES], px_buf *stream,
                   px_buf *envelope, px_err *err);

/* A release to the POD's own instance of a stage at the POD: as
 * px_pod_release, but the statement states no counts, and the records
 * whose h->topic_field value is a topic h opts out of are withheld. */
int px_pod_release_at_pod(px_pod *p, const px_signer *pod_key, const char *pod_id, const char *manifest_hex,
                          const char *dataset, const uint8_t stage_key[PX_BOX_PUBLICKEYBYTES],
                          const px_pod_hosting *h, px_buf *stream, px_buf *envelope, px_err *err);

typedef struct px_pod_release_row {
    char id[2 * PX_SHA256_BYTES + 1]; /* hex SHA-256 of the envelope */
    px_release_info info;
} px_pod_release_row;

int px_pod_release_list(px_pod *p, px_pod_release_row **out, size_t *n, px_err *err);
/* Appends the stored envelope of release id (hex). */
int px_pod_release_get(px_pod *p, const char *id_hex, px_buf *envelope, px_err *err);

/* ---- the inbox: what stages at the POD delivered ---------------------------- */

/* One campaign a stage at the POD ran for, as the POD keeps it: whether it
 * delivered, and everything that proves what and by whom (the consumer's
 * signed manifest, the instance's config and evidence, the node's platform
 * key, the proof and where it is in the log, the delivery's opening). The
 * POD records every campaign alike, delivered or not, so that its writes
 * say nothing; the inbox shows the delivered ones (docs/pod.md). */
typedef struct px_inbox_item {
    int64_t id;
    char manifest[2 * PX_SHA256_BYTES + 1];
    char task[PX_KEY_NAME_MAX + 1];     /* the manifest's name */
    char consumer[PX_KEY_NAME_MAX + 1];
    int64_t received_ms;
    int delivered;
    uint64_t size;                      /* bytes of content delivered */
    uint32_t stage;
    uint64_t log_index;                 /* the proof's entry in the public log */
    px_buf manifest_env, config, evidence, proof;
    px_buf opening;                     /* "PXC1" || r || the delivery payload */
    px_buf platform;                    /* the node's platform verifier key (text) */
} px_inbox_item;

int px_pod_inbox_put(px_pod *p, const px_inbox_item *it, px_err *err);
/* The delivered items (all: every campaign), newest first; only the
 * summary fields are filled. Free with px_inbox_items_free. */
int px_pod_inbox_list(px_pod *p, int all, px_inbox_item **out, size_t *n, px_err *err);
int px_pod_inbox_get(px_pod *p, int64_t id, px_inbox_item *out, px_err *err);
int px_pod_inbox_delete(px_pod *p, int64_t id, px_err *err);
void px_inbox_item_free(px_inbox_item *it);
void px_inbox_items_free(px_inbox_item *v, size_t n);

/* ---- the data-prover stage -------------------------------------------------- */

/* Stage config (part of the attested stage config), JSON:
 *   {"require": "authenticated" | "any", "sources": ["<source key>", ...]}
 * Key ids are checked; the same name twice is refused. */
#define PX_PROVER_MAX_SOURCES 4096

typedef struct px_prover_config {
    px_source_key *sources; /* sorted by (name, id); owned */
    size_t nsources;
    int require_authenticated;
} px_prover_config;

int px_prover_config_parse(px_prover_config *c, const void *json, size_t len, px_err *err);
/* Build the config text from keys (e.g. a POD's trust store). */
int px_prover_config_format(px_buf *out, const px_source_key *keys, size_t n,
                            int require_authenticated, px_err *err);
void px_prover_config_free(px_prover_config *c);

/* records = authenticated + alleged + dropped; alleged records are the
 * unsigned, unknown-source and bad-signature ones that were passed on. */
typedef struct px_prover_counts {
    uint64_t records, authenticated, alleged, dropped;
    uint64_t unsigned_records, unknown_source, bad_signature;
    /* Distinct values of the user field among the records passed on (set
     * by px_prover_run_many when the stream has a user field). */
    int has_users;
    uint64_t users;
} px_prover_counts;

/* The stage: read a PXR1 stream whose last two fields are px_source (text)
 * and px_sig (blob), verify each record, append to out a PXR1 stream of
 * the same records without those two fields, each with PX_REC_AUTHENTICATED
 * set or cleared (alleged records are left out when the config requires
 * authenticated). A malformed stream fails as a whole and out is left as
 * it was. */
int px_prover_run(const px_prover_config *c, const uint8_t *in, size_t len, px_buf *out,
                  px_prover_counts *counts, px_err *err);

/* Several inputs (one stream per POD feeding the same prover): each is
 * proven as above, all must carry the same data schema, and the output is
 * one stream of their records in input order; counts are summed. */
int px_prover_run_many(const px_prover_config *c, const uint8_t *const *in, const size_t *lens, size_t n,
                       px_buf *out, px_prover_counts *counts, px_err *err);

/* The prover as a trust-λ stage kind (include/pixiu/lambda.h): kind
 * "prover", no task code, params = the prover config object above. */
struct px_stage_kind;
extern const struct px_stage_kind px_pod_stage_kind;

/* ---- demo data -------------------------------------------------------------- */

/* A realistic synthetic bank dataset for examples: transactions of `users`
 * account holders (txn_id, user_id, account, timestamp, amount, currency,
 * category, merchant), deterministic in seed, as CSV with a schema. A
 * fraction signed_permille/1000 of the rows is signed by bank (the rest is
 * unsigned, as if typed in by the user). Appends CSV to csv and the schema
 * JSON to schema_json. */
int px_pod_demo_generate(px_buf *csv, px_buf *schema_json, uint32_t users, uint32_t txns_per_user,
                         uint64_t seed, const px_source_signer *bank, unsigned signed_permille,
                         px_err *err);
/* The same, with the signed rows signed as batches of `batch` (1 to
 * PX_SRC_BATCH_MAX; 0 signs each on its own): consecutive signed rows in
 * order, the last batch possibly shorter. The rows are those of
 * px_pod_demo_generate with the same arguments; only px_sig differs. */
int px_pod_demo_generate_batch(px_buf *csv, px_buf *schema_json, uint32_t users, uint32_t txns_per_user,
                               uint64_t seed, const px_source_signer *bank, unsigned signed_permille,
                               uint32_t batch, px_err *err);

/* One person's purchase history for the advertising example (docs/
 * usecases.md): purchase_id, person (the user field), day (days since
 * 1970-01-01, within the year before `today`), item, category, price,
 * shop; the purchases at "shop.example" are signed by shop (NULL: none
 * are). plant: the person surely matches the example's targeting (a
 * console from shop.example on `today`, nothing for a baby). Appends CSV
 * and the schema JSON. */
int px_pod_demo_purchases(px_buf *csv, px_buf *schema_json, const char *person, uint64_t seed, int64_t today,
                          const px_source_signer *shop, int plant, px_err *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
