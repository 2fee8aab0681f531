/* PIXIU executor: the task manifest, the signed plan, the wiring checks a
 * POD runs before it admits a plan, the audit that names the first broken
 * step of a task, the trace from a digest back to POD releases, and the
 * receipt a consumer can check offline.
 *
 * Everything here is a pure function over bytes and parsed data: the
 * network, the log service and the TEE backend are reached by the caller,
 * which hands in what they returned. That keeps every party's audit
 * deterministic: the same log entries give the same verdict everywhere.
 *
 * Formats (docs/manifest.md, docs/executor.md):
 *   manifest  JSON, signed as a DSSE envelope by the consumer's node key,
 *             payloadType PX_MANIFEST_PAYLOAD_TYPE; id = SHA-256 of the exact
 *             envelope bytes.
 *   plan      an in-toto Statement v1 (predicate PX_PLAN_PREDICATE) in DSSE,
 *             signed by the consumer: the manifest envelope, the plan head,
 *             and per stage instance its node, recruit nonce, stage config
 *             and evidence.
 *   head      an in-toto Statement v1 (predicate PX_PLAN_HEAD_PREDICATE) in
 *             DSSE, signed by the consumer: the manifest id, the plan's
 *             nonce and time, and the RFC 6962 Merkle root of its instances.
 *   path      JSON: the manifest envelope, the head, and the instances one
 *             POD's data can pass through, each with its inclusion proof
 *             under the head's root (what a POD is asked to admit).
 *   receipt   JSON (PX_RECEIPT_TYPE): log entries with inclusion proofs
 *             against one cosigned checkpoint.
 */
#ifndef PIXIU_EXEC_H
#define PIXIU_EXEC_H

#include "pixiu/lambda.h"
#include "pixiu/log.h"
#include "pixiu/pod.h"
#include "pixiu/proof.h"
#include "pixiu/records.h"
#include "pixiu/tee.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

#define PX_MANIFEST_PAYLOAD_TYPE "application/vnd.pixiu.manifest+json"
#define PX_MANIFEST_SCHEMA "urn:pixiu:manifest:v1"
#define PX_PLAN_PREDICATE "urn:pixiu:predicate:plan:v1"
#define PX_PLAN_HEAD_PREDICATE "urn:pixiu:predicate:plan-head:v1"
#define PX_REPORT_PREDICATE "urn:pixiu:predicate:report:v1"
#define PX_PLAN_PART_PREDICATE "urn:pixiu:predicate:plan-part:v1"
#define PX_POD_INSTANCE_PREDICATE "urn:pixiu:predicate:pod-instance:v1"

#define PX_MANIFEST_MAX_BYTES (1u << 20)
#define PX_PLAN_MAX_BYTES (8u << 20)
#define PX_MANIFEST_MAX_STAGES 16
#define PX_MANIFEST_MAX_DATASETS 16
#define PX_MANIFEST_MAX_PODS 4096
#define PX_MANIFEST_MAX_RECEIVERS 16
#define PX_PLAN_MAX_INSTANCES 256
#define PX_NODE_ID_MAX PX_ID_MAX /* node ids are ids (core.h) */
#define PX_NAME_MAX PX_ID_MAX    /* task, dataset and mechanism names too */
#define PX_REASON_MAX 200
#define PX_NONCE_BYTES 16
/* A plan larger than one log entry is published in parts of at most this
 * many plan bytes: base64 twice (statement, DSSE) keeps a part's entry
 * under the log's 64 KiB entry limit (tlog-tiles bundles use u16 lengths).
 * A log configured with a smaller limit gets smaller parts, down to
 * PX_PLAN_PART_MIN_BYTES. */
#define PX_PLAN_PART_BYTES 30000
#define PX_PLAN_PART_MIN_BYTES 1024
#define PX_PLAN_MAX_PARTS (PX_PLAN_MAX_BYTES / PX_PLAN_PART_MIN_BYTES)


/* ---- manifest ----------------------------------------------------------- */

typedef enum px_stage_type {
    PX_STAGE_PROVER = 1,
    PX_STAGE_WASM,
    PX_STAGE_DP,
    PX_STAGE_AGGREGATE,
    PX_STAGE_PIR,
    PX_STAGE_GATHER,
    PX_STAGE_FL_USER, /* federated learning: training at each POD (docs/fl.md) */
    PX_STAGE_FL_AGG   /* federated learning: the round's aggregator */
} px_stage_type;

const char *px_manifest_kind_name(px_stage_type k);
int px_manifest_kind_parse(const char *s, px_stage_type *out);
/* 1 for kinds sent code sealed to their instance (wasm, fl-user: the task
 * module; fl-agg: the round's model). */
int px_manifest_takes_code(px_stage_type k);
/* 1 for kinds that spend budget (dp, fl-agg): their "dp" is charged. */
int px_manifest_spends(px_stage_type k);

typedef struct px_stage_spec {
    px_stage_type kind;
    int has_code;                 /* wasm: the task module's digest */
    uint8_t code[PX_SHA256_BYTES];
    uint32_t min_level;           /* minimum TEE security level */
    uint32_t partitions;          /* instances to recruit, >= 1 */
    int at_pod;                   /* "at": "pod" places it at each POD */
    px_limits limits;             /* what the task may use (pixiu/lambda.h) */
    uint32_t pad_ms;              /* at a POD: the instance's pad (docs/lambda.md) */
    char (*topics)[PX_NAME_MAX + 1]; /* at a POD: what the stage targets; owned */
    size_t ntopics;
    char mechanism[PX_NAME_MAX + 1];     /* dp only */
    char epsilon[PX_DECIMAL_MAX + 1];    /* dp only */
    char delta[PX_DECIMAL_MAX + 1];      /* dp only */
    json_t *params; /* kind-specific object passed to the stage; owned */
} px_stage_spec;

typedef struct px_dataset_spec {
    char name[PX_NAME_MAX + 1];
    px_schema schema;
    char (*pods)[PX_NODE_ID_MAX + 1]; /* owned */
    size_t npods;
} px_dataset_spec;

typedef struct px_receiver {
    char id[PX_NODE_ID_MAX + 1];
    uint8_t box_pk[PX_BOX_PUBLICKEYBYTES];
} px_receiver;

/* One round of a training (docs/fl.md, "Rounds"): each round is a task of
 * its own, and rounds after the first name the first round's manifest,
 * under whose terms (and charge) they run. */
#define PX_TRAINING_MAX_ROUNDS 100
typedef struct px_training {
    int has_first;                  /* round > 1 */
    uint8_t first[PX_SHA256_BYTES]; /* the first round's manifest id */
    uint32_t round, rounds;         /* 1 <= round <= rounds */
    int has_min_change;
    char min_change[PX_DECIMAL_MAX + 1]; /* stop once the model moves less */
} px_training;

typedef struct px_manifest {
    uint8_t id[PX_SHA256_BYTES]; /* SHA-256 of envelope */
    px_buf envelope;             /* the exact signed bytes */
    char name[PX_NAME_MAX + 1];
    char consumer_id[PX_NODE_ID_MAX + 1];
    px_verifier consumer;        /* the key the envelope verified under */
    uint8_t nonce[PX_NONCE_BYTES];
    int64_t created, deadline;   /* ms since the epoch */
    px_dataset_spec *datasets;
    size_t ndatasets;
    px_stage_spec *stages;
    size_t nstages;
    px_receiver *receivers;
    size_t nreceivers;
    int has_training; /* a round of a training: fl-user and fl-agg stages */
    px_training training;
} px_manifest;

/* A training's terms (src/exec/training.c): what every round of one
 * training must share with its first round, so that the first round's
 * charge covers it: the datasets, the stages but fl-agg's "code" (the
 * round's input model), and training.rounds and min_change, as a canonical
 * JSON document (compact, sorted keys) read from the signed payload.
 * Appends the document to doc; digest = SHA-256("PIXIU-training-terms-v1\n"
 * || doc). Fails for a manifest without "training". */
int px_manifest_training_terms(const px_manifest *m, px_buf *doc, uint8_t digest[PX_SHA256_BYTES], px_err *err);
/* What differs between a first round's terms and a later round's, for a
 * refusal ("stage 2 (fl-agg): its \"dp\" differs"); out holds cap bytes. */
void px_manifest_training_terms_diff(const void *first, size_t first_len, const void *later, size_t later_len,
                                     char *out, size_t cap);

/* Check a manifest document (the payload) strictly, then sign it with the
 * consumer's key: appends the DSSE envelope to out. The document's
 * consumer.key must be the signer's verifier key. */
int px_manifest_sign(px_buf *out, const void *json, size_t len,
                     const px_signer *consumer, px_err *err);
/* Parse and verify a signed manifest: envelope, payload type, schema, and
 * the signature under the key the manifest names for its consumer. */
int px_manifest_parse(px_manifest *m, const void *envelope, size_t len,
                      px_err *err);
void px_manifest_free(px_manifest *m);
/* 1 if every task (wasm) stage is followed by a DP stage and the last stage
 * is DP: what a POD whose policy says "any code behind DP" requires. */
int px_manifest_behind_dp(const px_manifest *m);
/* 1 if pod is listed by any dataset of the manifest. */
int px_manifest_has_pod(const px_manifest *m, const char *pod);

/* ---- stages at PODs (docs/executor.md, "Stages at PODs") ------------------ */

#define PX_MANIFEST_MAX_TOPICS 16
/* The default pad of a code stage at a POD. */
#define PX_POD_PAD_MS_DEFAULT 1000u

/* The number of leading stages placed at PODs ("at": "pod"): they form a
 * prefix of the chain (0 when none). */
uint32_t px_manifest_pod_stages(const px_manifest *m);
/* Whether partition a of stage s feeds partition b of stage s + 1 (the
 * wiring the consumer recruits, and the paths PODs admit): with equal
 * partition counts partition q feeds partition q only; otherwise every
 * partition feeds every partition of the next stage. */
int px_manifest_feeds(const px_manifest *m, uint32_t s, uint32_t a, uint32_t b);
/* The manifest's PODs, each once, in the order the datasets list them: a
 * POD's position in this list deals it to a partition of the stage after
 * its POD-side stages (position mod partitions). -1 when pod is not
 * listed. */
int64_t px_manifest_pod_position(const px_manifest *m, const char *pod);
size_t px_manifest_pod_count(const px_manifest *m);

/* ---- stage config ------------------------------------------------------- */

/* Build the attested config (format: pixiu/lambda.h) of one instance of
 * stage `stage`: its output is sealed to `successors` (the next stage's
 * attested keys, or the receivers' keys for the last stage); it accepts
 * input proven by instances on the given platform keys at the previous
 * stage's minimum level, or (stage 0) releases signed by the given PODs;
 * it runs and releases only once shown its statements in the log whose
 * key is log_key, and not after the manifest's deadline. The manifest
 * stage's params are passed through. Appends JSON to out. */
int px_plan_config_build(px_buf *out, const px_manifest *m, uint32_t stage,
                          uint32_t partition,
                          const uint8_t (*successors)[PX_BOX_PUBLICKEYBYTES],
                          size_t nsuccessors, const px_verifier *platform_keys,
                          size_t nplatform, const px_verifier *pods,
                          size_t npods, const px_verifier *log_key,
                          px_err *err);

/* ---- attested instances ------------------------------------------------- */

/* What a verified evidence says about one instance. */
typedef struct px_attested {
    char backend[PX_TEE_BACKEND_NAME_MAX + 1];
    uint32_t level;
    uint8_t measurement[PX_SHA256_BYTES];
    uint8_t build[PX_SHA256_BYTES]; /* the build digest it was measured under */
    uint8_t box_pk[PX_BOX_PUBLICKEYBYTES];
    uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES];
    uint8_t evidence_digest[PX_SHA256_BYTES];
} px_attested;

/* Verifies one instance's evidence for the given stage: platform key
 * trusted, nonce as recruited, measurement equal to the one expected for
 * (stage kind, code, SHA-256 of config). Fills out. Supplied by the caller
 * (the TEE module's verifier with the node's trust roots). */
typedef int (*px_evidence_check_fn)(void *ctx, const char *node,
                                    const uint8_t *evidence, size_t ev_len,
                                    const uint8_t nonce[PX_TEE_NONCE_BYTES],
                                    const px_stage_spec *spec,
                                    const uint8_t *config, size_t config_len,
                                    px_attested *out, px_err *err);

/* The evidence checker over the TEE module's evidence: the node's platform
 * key from the membership, and the builds the checking party accepts (the
 * measurement covers the build digest: every file the instance runs,
 * docs/tee.md). reference, when not NULL, is the checking party's own
 * build: a refusal names the first component that differs from it. */
typedef struct px_node_platform {
    char id[PX_NODE_ID_MAX + 1];
    px_verifier platform;
} px_node_platform;

typedef struct px_exec_trust {
    const px_node_platform *nodes;
    size_t nnodes;
    const uint8_t (*builds)[PX_SHA256_BYTES]; /* accepted build digests */
    size_t nbuilds;
    const px_tee_build *reference;
} px_exec_trust;

/* A px_evidence_check_fn; ctx is a px_exec_trust. */
int px_exec_evidence_check(void *ctx, const char *node, const uint8_t *evidence,
                           size_t ev_len, const uint8_t nonce[PX_TEE_NONCE_BYTES],
                           const px_stage_spec *spec, const uint8_t *config,
                           size_t config_len, px_attested *out, px_err *err);

/* ---- plan --------------------------------------------------------------- */

typedef struct px_plan_instance {
    uint32_t stage, partition;
    char node[PX_NODE_ID_MAX + 1];
    uint8_t nonce[PX_TEE_NONCE_BYTES]; /* the recruiter's nonce */
    px_buf config;                 /* stage config bytes */
    px_buf evidence;               /* the TEE backend's evidence bytes */
    uint32_t index;                /* its leaf in the head's instance tree */
} px_plan_instance;

typedef struct px_plan {
    /* SHA-256 of the plan head's envelope: the same whether the plan was
     * read whole or as one POD's path. */
    uint8_t id[PX_SHA256_BYTES];
    px_manifest manifest;
    uint8_t nonce[PX_NONCE_BYTES];
    int64_t created;
    uint8_t root[PX_SHA256_BYTES]; /* Merkle root of every instance's leaf */
    size_t total;                  /* instances in the whole plan */
    px_buf head;                   /* the signed head's envelope bytes */
    uint8_t *leaves;               /* whole: each instance's leaf hash (32 bytes each), owned */
    /* Whole: every instance, sorted by (stage, partition). Path: only
     * those on one POD's path, in the same order. */
    px_plan_instance *instances;
    size_t ninstances;
    int is_path;
} px_plan;

/* Sign a plan: appends the DSSE envelope (an in-toto statement whose
 * subject is the manifest id). Instances are borrowed. */
int px_plan_sign(px_buf *out, const px_manifest *m,
                 const px_plan_instance *instances, size_t n,
                 const px_signer *consumer, px_err *err);
/* The log entries that publish a signed plan (docs/executor.md, "The plan
 * in the log"): the plan envelope itself when it fits one entry, or else a
 * hash chain of plan-part statements signed by the consumer, each naming
 * the chain's head, so any party can put the plan back together from the
 * log alone. max_entry is the log's entry limit (0: the default). *out
 * (n buffers) is malloc'd; free each and the array. */
int px_plan_publish(px_buf **out, size_t *n, const void *plan, size_t len,
                    size_t max_entry, const px_manifest *m,
                    const px_signer *consumer, px_err *err);
/* Parse a plan envelope, verify its manifest, that the consumer named by
 * the manifest signed it and its head, and that the head's root is the
 * root of its instances. Evidence is not checked here: see px_plan_check. */
int px_plan_parse(px_plan *p, const void *envelope, size_t len, px_err *err);
void px_plan_free(px_plan *p);

/* ---- plan path: what one POD admits (docs/executor.md, "Plan paths") ---- */

/* A POD checks only the instances its data can pass through, not every
 * instance of the plan: the first executor stage's partitions it is dealt
 * to (every one, when the manifest has stages at the PODs), and what
 * those feed, stage by stage (px_manifest_feeds). Each comes with its
 * inclusion proof under the root the consumer signed in the head, so a
 * path holds nothing the published plan does not. A path grows with the
 * manifest, not with the task's partitions. */
/* The path of POD `pod` through p (read whole, px_plan_parse): appends the
 * JSON to out. PX_E_INVALID when the manifest does not name the POD. */
int px_plan_path(px_buf *out, const px_plan *p, const char *pod, px_err *err);
/* Parse the path of POD `pod`: the manifest and the head (signed by the
 * manifest's consumer), each instance's inclusion under the head's root at
 * the leaf its (stage, partition) must have, and that the path holds
 * exactly the instances px_plan_path puts on it. The result is a plan with
 * is_path set, which px_plan_check, px_plan_check_log and admission take
 * as they take a whole plan. */
int px_plan_path_parse(px_plan *p, const void *path, size_t len, const char *pod, px_err *err);

/* The wiring checks a POD runs before admitting a plan (docs/executor.md):
 * every stage has its instances, every evidence verifies at the stage's
 * minimum level, every successor key of stage i is an attested key of stage
 * i+1 and the last stage's successors are receivers, the deadline has not
 * passed at `now`. With require_dp, the manifest must be behind DP.
 * attested (nullable) receives one entry per plan instance. */
int px_plan_check(const px_plan *p, px_evidence_check_fn check, void *ctx,
                  int require_dp, int64_t now, px_attested *attested,
                  px_err *err);

/* A stage config says what the manifest says of its stage (kind, index,
 * limits, params) and is for this manifest; PX_E_VERIFY naming what
 * differs otherwise. px_plan_check runs it on every instance, an executor
 * before it starts one. */
int px_plan_config_matches(const px_stage_config *c, const px_manifest *m, uint32_t stage, uint32_t partition,
                            px_err *err);

/* Every instance of the plan is configured to be shown its statements in
 * the log whose key is log_key (px_plan_check already requires one log
 * key for all of them, and the manifest's deadline). A POD admits a plan
 * only for the network's log: otherwise an instance could be shown a log
 * nobody else reads, and silence there would prove nothing. */
int px_plan_check_log(const px_plan *p, const px_verifier *log_key, px_err *err);

/* ---- admission record: replayed plans ------------------------------------ */

/* A POD's durable record of the manifests it admitted (SQLite). A manifest
 * is admitted at most once: a replayed plan, or a second plan for the same
 * manifest, is refused with PX_E_STATE. */
typedef struct px_admissions px_admissions;

int px_admissions_open(px_admissions **out, const char *path, px_err *err);
/* Record p as admitted at `now`, durably, or fail if its manifest was. */
int px_admissions_record(px_admissions *a, const px_plan *p, int64_t now,
                         px_err *err);
/* 1 if the manifest was admitted, 0 if not, -1 on error. */
int px_admissions_has(px_admissions *a, const uint8_t manifest[PX_SHA256_BYTES],
                      px_err *err);
void px_admissions_close(px_admissions *a);

/* ---- log entries -------------------------------------------------------- */

typedef enum px_entry_kind {
    PX_ENTRY_OTHER = 0, /* not a PIXIU statement: ignored */
    PX_ENTRY_PLAN,
    PX_ENTRY_EXEC,
    PX_ENTRY_RELEASE,
    PX_ENTRY_REPORT,
    PX_ENTRY_PLAN_PART,
    PX_ENTRY_ACCEPTED, /* an instance's accepted-input statement */
    PX_ENTRY_POD_INSTANCE /* a POD's statement of an instance it hosts for a task */
} px_entry_kind;

typedef struct px_input_ref {
    uint8_t digest[PX_SHA256_BYTES];
    uint8_t proof[PX_SHA256_BYTES];
} px_input_ref;

/* One log entry read as a PIXIU statement. Signatures are NOT verified by
 * px_entry_parse: who must have signed depends on the plan. */
typedef struct px_entry {
    uint64_t index;
    uint8_t id[PX_SHA256_BYTES]; /* SHA-256 of the entry bytes */
    px_buf raw;                  /* the entry bytes */
    px_entry_kind kind;
    px_dsse env;
    px_statement st;
    uint8_t manifest[PX_SHA256_BYTES];
    /* execution */
    uint32_t stage, partition;
    char stage_kind[16];
    char status[32];
    char reason[PX_REASON_MAX + 1];
    px_input_ref *inputs; /* owned */
    size_t ninputs;
    uint64_t records, authenticated, alleged, dropped;
    /* accepted input: the instance's evidence digest and when it accepted */
    uint8_t evidence[PX_SHA256_BYTES];
    int64_t accepted;
    /* release */
    char pod[PX_NODE_ID_MAX + 1];
    char dataset[PX_NAME_MAX + 1];
    uint8_t stage_key[PX_BOX_PUBLICKEYBYTES];
    /* report (by the dispatcher): node that did not answer */
    char node[PX_NODE_ID_MAX + 1];
    /* plan part: bytes [part] of the plan whose chain head is part_of;
     * SHA-256(bytes || part_next) is this part's link (all zeros after
     * the last part) */
    uint8_t part_of[PX_SHA256_BYTES], part_next[PX_SHA256_BYTES];
    uint32_t part, parts;
    px_buf part_bytes;
    /* POD instance (pod, stage, partition and stage_kind above): the
     * recruit nonce it chose, the instance's config and evidence */
    uint8_t nonce[PX_TEE_NONCE_BYTES];
    px_buf config, inst_evidence;
} px_entry;

/* Parse bytes of a log entry. A well-formed envelope that is not a PIXIU
 * statement yields kind PX_ENTRY_OTHER and 0; a PIXIU statement with a bad
 * predicate is -1. */
int px_entry_parse(px_entry *e, uint64_t index, const uint8_t *data,
                   size_t len, px_err *err);
void px_entry_free(px_entry *e);

/* ---- instances a POD hosts (docs/executor.md, "Stages at PODs") ------------ */

/* What a POD says about an instance it started for a stage at the PODs:
 * signed by the POD's key, predicate PX_POD_INSTANCE_PREDICATE, subject
 * "instance" with the evidence digest (docs/formats.md). Its partition is
 * the POD's position in the manifest (px_manifest_pod_position). */
typedef struct px_podinst {
    const char *pod;
    uint32_t stage, partition;
    const char *kind;
    const uint8_t *nonce; /* PX_TEE_NONCE_BYTES */
    const uint8_t *config;
    size_t config_len;
    const uint8_t *evidence;
    size_t evidence_len;
} px_podinst;

int px_podinst_sign(px_buf *out, const uint8_t manifest[PX_SHA256_BYTES], const px_podinst *pi,
                    const px_signer *pod_key, px_err *err);

/* Check a POD instance statement (a parsed log entry) for a manifest: the
 * POD is listed and signed it with pod_pk, the stage is at the PODs, the
 * partition is the POD's position, the config is that of a POD-side
 * instance of this manifest, stage and partition with its deadline, and the
 * evidence checks (node = the POD) at the stage's minimum level. Fills att
 * and (nullable) cfg, which the caller frees. */
int px_podinst_check(const px_entry *e, const px_manifest *m, const uint8_t pod_pk[PX_SIGN_PUBLICKEYBYTES],
                     px_evidence_check_fn check, void *ctx, px_attested *att, px_stage_config *cfg, px_err *err);

/* Build the config of a POD-side instance (format: pixiu/lambda.h) of
 * stage `stage` for the POD at position `partition`: "at": "pod", the
 * stage's pad, its successors (the next POD-side instance of the same POD,
 * or the attested keys of the partition of the next stage the POD is dealt
 * to), its predecessors (the POD's own key for stage 0, else the POD's
 * platform key at the previous stage's level), the log and the deadline,
 * and inbox (NULL: none) for a delivering stage. */
int px_podinst_config_build(px_buf *out, const px_manifest *m, uint32_t stage, uint32_t partition,
                              const uint8_t (*successors)[PX_BOX_PUBLICKEYBYTES], size_t nsuccessors,
                              const px_verifier *pod_key, const px_verifier *platform_key,
                              const px_verifier *log_key, const uint8_t *inbox, px_err *err);

/* The partition of the stage after the POD-side stages that a POD at
 * position pos feeds. */
uint32_t px_manifest_collector_partition(const px_manifest *m, uint64_t pos);

/* ---- the inbox, checked (inbox_verify.c) ------------------------------------ */

typedef struct px_inbox_verified {
    char task[PX_NAME_MAX + 1];
    char node[PX_TEE_NODE_ID_MAX + 1]; /* the node the instance ran on */
    int64_t finished;                  /* when the instance's proof says it finished */
    int delivered;
    px_buf content;                    /* the delivered content; owned */
} px_inbox_verified;

/* Check an inbox item (pixiu/pod.h) offline: the manifest verifies under
 * its consumer's key and is the item's task; the instance's evidence is
 * signed by the platform key the item names and measures the manifest's
 * code with the item's config (a delivering POD-side instance of this
 * task); the proof is that instance's ok proof and names the delivery's
 * commitment; the content is the one the manifest's params name. On
 * success out holds what was delivered; free out->content. */
int px_podinst_inbox_verify(const px_inbox_item *it, px_inbox_verified *out, px_err *err);

/* ---- settling a POD's charge (refunds) ---------------------------------------- */

/* What a POD keeps of a plan it admitted, to settle its budget charge once
 * the task's deadline has passed: which stage's ok proof means a result
 * may have left the task (the first dp stage, or the last stage of a task
 * without one) and the attested signing key of every instance. Every
 * stage releases its output only after its proof is in the log, so no ok
 * proof of that stage in the log means no result left (docs/pod.md). */
#define PX_SETTLE_REASON_MAX 400

typedef struct px_settle_instance {
    uint32_t stage, partition;
    uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES];
} px_settle_instance;

typedef struct px_settle_watch {
    uint8_t manifest[PX_SHA256_BYTES];
    int64_t deadline;
    uint32_t stage;   /* the watched stage */
    uint32_t nstages;
    char kinds[PX_MANIFEST_MAX_STAGES][16];
    uint8_t consumer[PX_SIGN_PUBLICKEYBYTES]; /* signs dispatcher reports */
    px_settle_instance *inst; /* owned, plan order */
    size_t ninst;
    /* A POD that hosted stages at the POD: its last POD-side instance's
     * key. Its charge is spent only if the watched stage's ok proof used
     * that instance's output (its lineage reaches it): a POD whose stage
     * never ran, or whose output was left out, spent nothing. */
    int pod_side;
    uint8_t pod_key[PX_SIGN_PUBLICKEYBYTES];
    /* The first round of a training: its charge pays for every round and
     * is final, never refunded (later rounds are admitted under it and
     * charge nothing, so a refund would let them run uncharged). */
    int final;
} px_settle_watch;

/* From a plan checked by px_plan_check (att: one per instance). */
int px_settle_watch_from_plan(px_settle_watch *w, const px_plan *p, const px_attested *att, px_err *err);
void px_settle_watch_free(px_settle_watch *w);

typedef struct px_settlement {
    int refund;       /* 1: no ok proof of the watched stage; 0: spent */
    uint64_t index;   /* spent: the log entry of that proof */
    char reason[PX_SETTLE_REASON_MAX + 1];
} px_settlement;

/* Judge a task from its entries (those indexed under the manifest, log
 * order) among the first `size` entries of the log: spent if the watched
 * stage has an ok proof signed by its attested instance, else refund,
 * naming the first step that failed (or that no step logged an outcome)
 * and the log size checked. */
int px_settle_judge(const px_settle_watch *w, const px_entry *e, size_t n, uint64_t size, px_settlement *out,
                    px_err *err);

/* The POD's admission record keeps one watch per admitted task. */
/* Record p as admitted (as px_admissions_record) and, in the same
 * transaction, what settling its charge needs (att from px_plan_check). */
int px_admissions_admit(px_admissions *a, const px_plan *p, const px_attested *att, int64_t now, px_err *err);
/* The same for a POD hosting the plan's stages at the POD: pod_key is its
 * last POD-side instance's signing key (px_settle_watch.pod_key). */
int px_admissions_admit_pod(px_admissions *a, const px_plan *p, const px_attested *att,
                            const uint8_t pod_key[PX_SIGN_PUBLICKEYBYTES], int64_t now, px_err *err);
/* Rounds of a training (docs/executor.md, "Rounds of a training at a
 * POD"). px_admissions_admit and _admit_pod also record, in the admission's
 * transaction, a manifest's round in the table trainings(first, round,
 * consumer, terms, ...) PRIMARY KEY(first, round): round 1 under its own
 * id with its terms (px_manifest_training_terms); a round r > 1 only if
 * round 1 of the training it names was admitted here for the same
 * consumer, r is within that training's rounds, r was never admitted
 * before, and its terms equal round 1's; each refusal names its cause. A
 * manifest without "training" is not concerned. */
/* The same checks, reading only (to refuse before starting anything). */
int px_admissions_training_check(px_admissions *a, const px_manifest *m, px_err *err);
/* Only the trainings table's part of an admission, in its own transaction. */
int px_admissions_training_admit(px_admissions *a, const px_manifest *m, int64_t now, px_err *err);
/* The admitted tasks not settled yet whose deadline is at or before
 * `before`, oldest deadline first, at most max. Free each with
 * px_settle_watch_free and the array with free(). */
int px_admissions_due(px_admissions *a, int64_t before, size_t max, px_settle_watch **out, size_t *n, px_err *err);
/* Mark a task settled, with the outcome (kept for people). */
int px_admissions_settled(px_admissions *a, const uint8_t manifest[PX_SHA256_BYTES], const char *outcome, int64_t now,
                          px_err *err);

/* ---- audit -------------------------------------------------------------- */

/* Who the audit needs to know: POD release keys, by node id. */
typedef struct px_pod_key {
    char id[PX_NODE_ID_MAX + 1];
    uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES];
} px_pod_key;

typedef enum px_verdict {
    PX_AUDIT_OK = 0,     /* every stage proved ok, result delivered */
    PX_AUDIT_FAILED,     /* a step signed a failure, or a check broke */
    PX_AUDIT_MISSING,    /* a step left no proof */
    PX_AUDIT_NO_PLAN     /* no valid plan for the manifest in the log */
} px_verdict;

typedef struct px_audit {
    px_verdict verdict;
    int64_t stage;      /* the first broken stage, -1 = before stage 0 */
    uint32_t partition; /* its partition */
    char node[PX_NODE_ID_MAX + 1];
    char status[32];    /* failure code, "missing", "silent", "bad-release", ... */
    char why[PX_ERR_MSG_MAX];
    /* The party the log itself proves at fault (an executor node, the
     * consumer or a POD, by id), or "" when it proves nobody: a consumer's
     * report alone never blames anyone. */
    char blamed[PX_NODE_ID_MAX + 1];
    px_verifier log;    /* the log the plan's instances answer to (zero without a valid plan) */
    uint8_t result[PX_SHA256_BYTES]; /* OK only: the last stage's output */
    uint64_t releases;  /* valid releases the first stage consumed */
    /* Stages at the PODs (the delivery report): PODs the manifest names,
     * those whose last stage at the POD logged an ok proof of the manifest's
     * code, and those whose output the stage after the PODs used. */
    uint64_t pods, pods_ran, pods_used;
    px_buf report;      /* the whole walk, one line per step; owned */
} px_audit;

/* Walk a task's log entries (those indexed under the manifest id, in log
 * order) and name the first step that failed or is missing. The verdict
 * depends only on the entries, the POD keys and the evidence checker. */
int px_audit_run(px_audit *a, const uint8_t manifest_id[PX_SHA256_BYTES],
                 const px_entry *entries, size_t n, const px_pod_key *pods,
                 size_t npods, px_evidence_check_fn check, void *ctx,
                 px_err *err);
/* The same, judged at time `at` (ms since the epoch). Time matters in one
 * place only: an instance that accepted its input and logged no proof is
 * "running" until the manifest's deadline and "silent" (blamed on the
 * executor node hosting it) once `at` is past it. px_audit_run judges
 * with no time known (never past the deadline). So two parties with the
 * same entries, on the same side of the deadline, print the same report. */
int px_audit_run_at(px_audit *a, const uint8_t manifest_id[PX_SHA256_BYTES],
                    const px_entry *entries, size_t n, const px_pod_key *pods,
                    size_t npods, px_evidence_check_fn check, void *ctx,
                    int64_t at, px_err *err);
void px_audit_free(px_audit *a);
const char *px_verdict_name(px_verdict v);
/* The verdict as JSON ({"verdict", "stage", "partition", "node", "status",
 * "why", "blamed", "result", "releases", "report"}), as `pixiu audit --json`
 * prints it; a new reference, NULL when out of memory. */
json_t *px_audit_json(const px_audit *a);

/* ---- trace -------------------------------------------------------------- */

/* Entries whose subject includes digest (or, for the manifest lookup,
 * indexed under a manifest id), appended to *out (caller frees each with
 * px_entry_free and the array with free). */
typedef int (*px_subject_lookup_fn)(void *ctx,
                                    const uint8_t digest[PX_SHA256_BYTES],
                                    px_entry **out, size_t *n, px_err *err);

typedef enum px_trace_format {
    PX_TRACE_TEXT = 0,
    PX_TRACE_JSON,
    PX_TRACE_DOT
} px_trace_format;

#define PX_TRACE_MAX_NODES 100000

/* Where a trace reads the log and whom it trusts: the POD keys that sign
 * releases and the evidence checker that says which key each instance of
 * a task's plan signs with (as the audit does). */
typedef struct px_trace_src {
    px_subject_lookup_fn subject;  /* entries whose subject is a digest */
    px_subject_lookup_fn manifest; /* entries indexed under a manifest id */
    void *ctx;                     /* for both lookups */
    const px_pod_key *pods;
    size_t npods;
    px_evidence_check_fn check;
    void *check_ctx;
    const uint8_t *task; /* NULL, or only producers of the root from this task */
} px_trace_src;

/* The lineage of a digest: the ok steps and releases whose subject is the
 * digest, then, for each step, only the producer each input names (the
 * input's proof id), back to POD releases. Every step is checked against
 * its signer (the attested instance of its task's plan, or the POD's key);
 * an unverified step is shown as such and not followed, a failed step is
 * never a producer, and a trace never crosses into another task. Renders
 * into out. Returns the number of unverified steps shown through *unverified
 * (nullable). */
int px_trace(px_buf *out, const uint8_t digest[PX_SHA256_BYTES],
             const px_trace_src *src, px_trace_format fmt,
             size_t *unverified, px_err *err);

/* ---- reading a log service over HTTP (docs/log.md) ------------------------ */

#define PX_LOGREAD_TIMEOUT_MS 30000
#define PX_LOGREAD_MAX_ENTRIES 100000

/* Where the log is: url itself when it serves a log (`pixiu log serve`
 * serves at its root), or url + "/log" when url is a node with the log role
 * (pixiud serves its log there); out holds cap bytes. Fails naming both
 * answers when neither is a log's checkpoint. */
int px_logread_resolve(const char *url, char *out, size_t cap, px_err *err);

/* Indices of the entries indexed under key ("subject", "input" or
 * "manifest") and digest, ascending, following the log's pages (at most
 * PX_LOGREAD_MAX_ENTRIES, more is an error). *out is malloc'd. */
int px_logread_lookup(const char *base_url, const char *key,
                      const uint8_t digest[PX_SHA256_BYTES], uint64_t **out,
                      size_t *n, px_err *err);
int px_logread_entry(const char *base_url, uint64_t index, px_buf *out,
                     px_err *err);
/* Look up and fetch the entries, parsed; entries that are not well-formed
 * PIXIU statements are skipped (anyone can append to a public log). Free
 * each with px_entry_free and the array with free(). */
int px_logread_entries(const char *base_url, const char *key,
                       const uint8_t digest[PX_SHA256_BYTES], px_entry **out,
                       size_t *n, px_err *err);

/* A node id with one of its keys. */
typedef struct px_node_key {
    char id[PX_NODE_ID_MAX + 1];
    px_verifier key;
} px_node_key;

/* ---- receipts ---------------------------------------------------------------- */

#define PX_RECEIPT_TYPE "urn:pixiu:receipt:v1"
#define PX_RECEIPT_MAX_BYTES (64u << 20)
#define PX_RECEIPT_MAX_ENTRIES 100000
#define PX_RECEIPT_MAX_KEYS 10000

typedef struct px_receipt_entry {
    uint64_t index;
    const uint8_t *data; /* the entry bytes */
    size_t len;
    const uint8_t *proof; /* inclusion proof: nproof 32-byte hashes */
    size_t nproof;
} px_receipt_entry;

/* Everything a receipt carries; all borrowed. The checkpoint is the signed
 * note with the witnesses' cosignatures; every key listed must be used by
 * the entries (a receipt holds nothing that is not checked). */
typedef struct px_receipt_parts {
    const uint8_t *manifest; /* manifest id */
    const uint8_t *result;   /* the last stage's output digest (success) */
    /* A failure receipt: the audit's verdict it states (NULL: success). */
    const px_audit *failure;
    const px_verifier *log_key;
    const char *checkpoint;
    size_t checkpoint_len;
    const px_cosigner *witnesses;
    size_t nwitnesses;
    const px_node_key *pods; /* the PODs that released */
    size_t npods;
    const px_node_platform *platforms;
    size_t nplatforms;
    const uint8_t (*builds)[PX_SHA256_BYTES]; /* the builds that ran it */
    size_t nbuilds;
    const px_receipt_entry *entries; /* ascending index */
    size_t nentries;
} px_receipt_parts;

int px_receipt_build(px_buf *out, const px_receipt_parts *parts, px_err *err);

/* Keys the verifying party trusts on its own; NULL members fall back to the
 * keys the receipt names (then it proves only internal consistency, which
 * px_receipt_check reports in `pinned`). */
typedef struct px_receipt_pins {
    const px_verifier *log_key;
    const px_cosigner *witnesses; /* each must have cosigned */
    size_t nwitnesses;
} px_receipt_pins;

typedef struct px_receipt_summary {
    uint8_t manifest[PX_SHA256_BYTES];
    uint8_t result[PX_SHA256_BYTES];
    int failed; /* a verified failure receipt: audit says how */
    int64_t at; /* the time the audit judged at: the newest cosignature (ms), 0 if none */
    uint64_t tree_size;
    size_t nentries, ncosigs;
    int pinned; /* 1 if the log key came from the pins */
    px_audit audit; /* the audit over the receipt's entries; owned */
} px_receipt_summary;

/* Check a receipt offline: the checkpoint's signature by the log key and
 * each witness's cosignature; each entry's inclusion proof against it; and
 * the audit over the entries (judged at the newest cosignature's time),
 * which must end ok with the receipt's result, or, for a failure receipt
 * ("outcome": "failed"), in exactly the failure the receipt states. Returns
 * 0 for a receipt that holds, success or failure (s->failed tells which).
 * Fails with PX_E_VERIFY naming the first thing that does not hold. */
int px_receipt_check(const void *json, size_t len, const px_receipt_pins *pins,
                     px_receipt_summary *out, px_err *err);
void px_receipt_summary_free(px_receipt_summary *s);
/* The time a receipt's audit is judged at: the newest valid cosignature
 * on the checkpoint note by one of the witnesses (ms since the epoch), 0
 * when there is none. */
int64_t px_receipt_time(const char *note, size_t len, const px_cosigner *witnesses, size_t n);

/* A trust root: the network a receipt must come from, known to the
 * verifying party on its own (a membership file, or keys it pins one by
 * one). Every POD key, platform key and build the receipt names
 * must be the one pinned here for that node, and the checkpoint must carry
 * cosignatures of at least min_witnesses of the pinned witnesses. */
typedef struct px_receipt_root {
    const px_verifier *log_key; /* required */
    const px_node_key *pods;    /* POD release keys by node id */
    size_t npods;
    const px_node_platform *platforms;
    size_t nplatforms;
    const uint8_t (*builds)[PX_SHA256_BYTES]; /* accepted build digests */
    size_t nbuilds;
    const px_cosigner *witnesses;
    size_t nwitnesses;
    size_t min_witnesses; /* <= nwitnesses */
} px_receipt_root;

/* px_receipt_check, with every key of the receipt pinned by root.
 * out->ncosigs counts the pinned witnesses that cosigned. Fails with
 * PX_E_VERIFY naming the first key that is not pinned. */
int px_receipt_verify(const void *json, size_t len, const px_receipt_root *root,
                      px_receipt_summary *out, px_err *err);

/* A training receipt (docs/fl.md): each round's receipt verified with
 * px_receipt_verify under root, rounds numbered from 1 with nothing after
 * a failed one, round 1's manifest named as the training's, each round
 * starting from the model the one before produced (by digest). */
#define PX_TRAINING_RECEIPT_SCHEMA "urn:pixiu:training-receipt:v1"
typedef struct px_training_summary {
    uint32_t rounds;                /* rounds in the receipt */
    int failed;                     /* the last one failed (a verified failure receipt) */
    uint8_t first[PX_SHA256_BYTES]; /* round 1's manifest */
    uint8_t model[PX_SHA256_BYTES]; /* the last ok round's model (SHA-256 of its PXFM) */
} px_training_summary;
int px_training_receipt_verify(const void *json, size_t len, const px_receipt_root *root, px_training_summary *out,
                               px_err *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
