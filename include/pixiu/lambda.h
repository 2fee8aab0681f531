/* PIXIU trust-λ: one entry (the validator), one exit (the proof generator).
 *
 * A λ instance is a worker process (`pixiu_worker`) hosted by a node. At
 * birth it generates its own X25519 and Ed25519 keys, which never leave it;
 * the node's TEE backend vouches for it with evidence (pixiu/tee.h). It then
 * accepts exactly one step: sealed inputs, each with the proof of whoever
 * produced it, are opened and checked; the stage runs; the output is sealed
 * to the successor keys named in the attested stage config; and an
 * execution proof (in-toto Statement v1 in DSSE, predicate
 * urn:pixiu:predicate:execution:v1, docs/formats.md) is signed by the
 * instance key, for success and for every failure.
 *
 * Stages plug in through px_stage_kind: built-in stages (prover, dp,
 * aggregate) are trusted C run in the worker itself. See docs/lambda.md.
 */
#ifndef PIXIU_LAMBDA_H
#define PIXIU_LAMBDA_H

#include "pixiu/log.h"
#include "pixiu/proof.h"
#include "pixiu/tee.h"

struct px_sandbox; /* pixiu/sandbox.h */

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

#define PX_EXEC_PREDICATE "urn:pixiu:predicate:execution:v1"
#define PX_RELEASE_PREDICATE "urn:pixiu:predicate:release:v1"
#define PX_ACCEPTED_PREDICATE "urn:pixiu:predicate:accepted:v1"
#define PX_STAGE_CONFIG_MAX_BYTES (1u << 20)
#define PX_LAMBDA_MAX_INPUTS 256
#define PX_LAMBDA_MAX_SUCCESSORS 16
#define PX_LAMBDA_MAX_TRUSTED 256
#define PX_LAMBDA_MAX_INPUT_BYTES (256u << 20) /* one sealed input */
#define PX_LAMBDA_STATUS_MAX 31
#define PX_LAMBDA_REASON_MAX 200
#define PX_PROOF_ID_HEX (2 * PX_SHA256_BYTES)

/* Status values of the execution predicate (docs/formats.md). */
#define PX_STATUS_OK "ok"
#define PX_STATUS_BAD_INPUT "bad-input"
#define PX_STATUS_BAD_PROOF "bad-proof"
#define PX_STATUS_DIGEST_MISMATCH "digest-mismatch"
#define PX_STATUS_TRAP "trap"
#define PX_STATUS_CPU_LIMIT "cpu-limit"
#define PX_STATUS_MEMORY_LIMIT "memory-limit"
#define PX_STATUS_FORBIDDEN_SYSCALL "forbidden-syscall"
#define PX_STATUS_TIMEOUT "timeout"
#define PX_STATUS_INVALID_MODULE "invalid-module"
#define PX_STATUS_CLAMPED "clamped"
#define PX_STATUS_INTERNAL "internal"
/* The sealed code of a map stage may start with "PXTK" and the task's
 * 32-byte pseudonym key before the module bytes (docs/lambda.md). */
#define PX_TASK_KEY_MAGIC "PXTK"
#define PX_TASK_KEY_BYTES 32
/* After the task key, the sealed code of a delivering stage may carry the
 * content to deliver: "PXAD" || u32le length || content (docs/lambda.md,
 * "Delivery"). */
#define PX_CONTENT_MAGIC "PXAD"
#define PX_CONTENT_MAX_BYTES (1u << 20)
/* The delivery a POD-side instance seals to its POD's inbox, fixed in size
 * whether it delivers or not: "PXD1" || u8 delivered || u32le length ||
 * content || zeros up to the declared size (docs/formats.md). */
#define PX_DELIVERY_MAGIC "PXD1"
#define PX_DELIVERY_HEADER_BYTES 9u
/* The most a POD-side instance waits for its pad (docs/lambda.md). */
#define PX_PAD_MS_MAX 600000u

/* The content a delivering stage's sealed code may carry after its task
 * key: when p starts with "PXAD", *has = 1, *content and *len name the
 * content inside p and *used is the bytes it takes (8 + len); otherwise
 * *has = 0 and *used = 0. -1 when the header is truncated or the content
 * is over PX_CONTENT_MAX_BYTES or longer than what follows. */
int px_content_split(const uint8_t *p, size_t n, int *has, const uint8_t **content, uint32_t *len, size_t *used,
                     px_err *err);

/* A PXD1 delivery payload, read (docs/formats.md). content points into the
 * bytes parsed; size is the declared size (the bytes after the header). */
typedef struct px_delivery {
    int delivered;
    const uint8_t *content;
    uint32_t len;
    size_t size;
} px_delivery;

/* Parse a PXD1 payload: the magic, delivered 0 or 1, a length that fits
 * (0 when nothing was delivered) and zeros after the content. */
int px_delivery_parse(px_delivery *d, const uint8_t *p, size_t n, px_err *err);
/* The commitment to a pseudonym key K that a map stage's params carry as
 * "pseudonym": SHA-256("PIXIU-pseudonym-v1\n" || K). */
void px_task_key_commit(uint8_t out[PX_SHA256_BYTES], const uint8_t key[PX_TASK_KEY_BYTES]);

/* 1 if s is one of the status values above. */
int px_status_valid(const char *s);

/* ---- limits (docs/manifest.md, "Limits") ------------------------------- */

/* What a stage's task may use, as its manifest states it; the stage config
 * carries the same numbers, so they are attested. The platform adds its own
 * overhead on top: the worker process, the runner's address-space
 * reservation and the compiler have limits of the platform's, sized for
 * any task these limits allow. 0 means the default. */
typedef struct px_limits {
    uint32_t cpu_ms;     /* CPU time of one run of the task (per user or block in a map) */
    uint32_t wall_ms;    /* wall clock of the task's runs (all of a map's runs together) */
    uint32_t mem_mb;     /* the task's memory: its WebAssembly linear memory */
    uint64_t max_output; /* bytes one run may write (a map's runs write one vector) */
    uint64_t timeout_ms; /* how long the node waits on the step's worker, any stage */
} px_limits;

#define PX_LIMITS_CPU_MS_MAX 600000u       /* ten minutes of CPU per run */
#define PX_LIMITS_WALL_MS_MAX 3600000u     /* an hour */
#define PX_LIMITS_OUTPUT_MAX (1ull << 30)
#define PX_LIMITS_TIMEOUT_MS_MAX 86400000u /* a day */

/* Read a "limits" object (NULL: all defaults) for a stage of kind: closed,
 * each member an integer in range; cpu_ms, wall_ms, mem_mb and max_output
 * only on a wasm stage; a stage that could not finish within its own
 * numbers (wall_ms below cpu_ms, timeout_ms below one run's CPU) is refused
 * naming the limit. */
int px_limits_parse(px_limits *l, const json_t *o, const char *kind, px_err *err);
/* 1 if key is the name of a limit (a misplaced one in "params" is named). */
int px_limits_name(const char *key);
int px_limits_empty(const px_limits *l);
int px_limits_equal(const px_limits *a, const px_limits *b);
/* Would the sandbox accept module m under these limits (its declared
 * memory within mem_mb, its size, its imports)? What a consumer checks
 * before a task is submitted, so that no budget is spent on it otherwise. */
int px_limits_check_module(const px_limits *l, const uint8_t *m, size_t n, px_err *err);
/* The members that are set, as a new object (NULL: out of memory). */
json_t *px_limits_json(const px_limits *l);
/* The sandbox limits of one run: the defaults, overridden by what is set. */
struct px_sandbox_limits;
void px_limits_sandbox(const px_limits *l, struct px_sandbox_limits *out);

/* ---- the attested stage config ----------------------------------------- */

/* JSON, hashed byte for byte into the measurement (no canonicalisation):
 *   {"manifest": "<hex>",
 *    "stage": {"index": 1, "kind": "aggregate", "partition": 0},
 *    "successors": ["<hex X25519 key>", ...],
 *    "predecessors": {"platform_keys": ["<verifier key>", ...],
 *                     "min_level": 1, "pods": ["<verifier key>", ...]},
 *    "log": "<signed-note verifier key of the public log>",
 *    "deadline": 1700000600000,
 *    "limits": {"cpu_ms": 2000, "mem_mb": 64},
 *    "at": "pod", "inbox": "<hex X25519 key>", "pad_ms": 1000,
 *    "params": {...}}
 * "partition", "deadline", "limits", "at", "inbox", "pad_ms" and "params"
 * are optional; every other member is required and no unknown member is
 * allowed. "predecessors" may also say "one_per_node": true. A POD-side
 * instance ("at": "pod") states no record counts in its proofs, may seal a
 * fixed-size delivery to "inbox" and signs its proof no earlier than
 * pad_ms after it began to run. The instance runs its stage
 * only once it was shown its accepted-input statement in the log named by
 * "log", and releases its output only once shown its proof there, and
 * not after "deadline" (ms since the epoch). Details in docs/lambda.md. */
typedef struct px_stage_config {
    uint8_t manifest[PX_SHA256_BYTES];
    uint32_t index;
    uint32_t partition;
    char kind[PX_TEE_KIND_MAX + 1];
    uint8_t (*successors)[PX_BOX_PUBLICKEYBYTES]; /* owned */
    size_t nsuccessors;
    px_verifier *platform_keys; /* trusted for predecessor evidence; owned */
    size_t nplatform_keys;
    int min_level; /* minimum level of a predecessor instance */
    px_verifier *pods; /* trusted signers of release statements; owned */
    size_t npods;
    px_verifier log;   /* the log its statements must be shown in */
    int64_t deadline;  /* ms since the epoch; 0: none */
    px_limits limits;  /* the manifest's limits of the stage */
    /* Inputs from instances on one node each: a second input whose
     * producer's evidence names a node (or an instance key) already seen
     * is refused (the stage after POD-side instances, docs/executor.md). */
    int one_per_node;
    int at_pod;        /* a POD-side instance ("at": "pod") */
    int has_inbox;     /* it delivers: its delivery is sealed to inbox */
    uint8_t inbox[PX_BOX_PUBLICKEYBYTES];
    uint32_t pad_ms;   /* 0: no pad */
    json_t *params; /* owned; an empty object when absent */
} px_stage_config;

int px_lambda_config_parse(px_stage_config *c, const void *json, size_t len,
                          px_err *err);
void px_lambda_config_free(px_stage_config *c);

/* ---- the stage-kind interface ------------------------------------------ */

/* One input of a step, after the validator: opened, and its digest checked
 * against the proof or release that produced it. */
typedef struct px_stage_input {
    const uint8_t *data; /* plaintext, borrowed for the run */
    size_t len;
    uint8_t digest[PX_SHA256_BYTES];
    char proof_id[PX_PROOF_ID_HEX + 1]; /* producer's proof or release id */
    int from_release; /* 1 if a POD release produced it */
    /* From the producer's verified execution proof (not for releases): its
     * stage kind and, when it reported one, its count of distinct users
     * (or blocks). The DP stage bounds what it accepts by these. */
    char producer_kind[PX_TEE_KIND_MAX + 1];
    int producer_has_users;
    uint64_t producer_users;
    /* The node the producer's evidence names and its instance key (not for
     * releases). */
    char producer_node[PX_TEE_NODE_ID_MAX + 1];
    uint8_t producer_key[PX_SIGN_PUBLICKEYBYTES];
} px_stage_input;

typedef struct px_stage_counts {
    uint64_t records, authenticated, alleged, dropped;
    int has_users; /* report "users": distinct users (or blocks) seen */
    uint64_t users;
} px_stage_counts;

typedef struct px_stage_dp {
    char mechanism[32];
    char epsilon[PX_DECIMAL_MAX + 1]; /* decimal strings, never rounded */
    char delta[PX_DECIMAL_MAX + 1];
    char rho[PX_DECIMAL_MAX + 1];
    /* The DP stage's enforcement, reported when has_enforced is set:
     * vectors used, values clamped, vectors (or keys) rejected, vectors cut
     * to the contribution limit. */
    int has_enforced;
    uint64_t used, clamped, rejected, limited;
} px_stage_dp;

/* A stage whose input was derived by an earlier task names that task's
 * manifest, its result (the commitment its receipt states) and the digest
 * of the receipt itself, so the log carries the lineage across tasks. */
typedef struct px_stage_derived {
    uint8_t manifest[PX_SHA256_BYTES];
    uint8_t result[PX_SHA256_BYTES];
    uint8_t receipt[PX_SHA256_BYTES];
} px_stage_derived;

/* What a stage hands back. The worker zeroes it before the run. */
typedef struct px_stage_out {
    px_buf output;    /* the stage appends its output (owned by the worker) */
    int has_counts;   /* set to report "counts" in the proof */
    px_stage_counts counts;
    int has_dp;       /* set to report "dp" in the proof */
    px_stage_dp dp;
    int has_derived;  /* set to report "derived" in the proof */
    px_stage_derived derived;
    /* A serving kind's state for the requests after the step (freed with
     * the kind's state_free); kept only when the step succeeds. */
    void *state;
    /* A stage kind's own public report (a JSON object, owned: the worker
     * releases it), stated in the proof as "report" on success; e.g. the
     * poll tally's ballot counts (docs/polls.md). NULL: none. */
    json_t *report;
    /* On failure: one of PX_STATUS_* (a string constant); NULL means
     * "internal". Ignored on success. */
    const char *status;
    /* A delivering stage (config "inbox") appends the delivery payload
     * here, of the same size whatever it delivers; sealed to the inbox. */
    px_buf delivery;
} px_stage_out;

typedef struct px_stage_ctx {
    const px_stage_config *config;
    const json_t *params; /* config->params, never NULL */
    const uint8_t *code;  /* opened task code, or NULL for built-ins */
    size_t code_len;
    const px_stage_input *inputs;
    size_t ninputs;
    /* The task's pseudonym key, sealed with the code (docs/lambda.md), or
     * NULL when none came. Its commitment is in the attested params. */
    const uint8_t *task_key;
    /* For stages that run task code: the sandbox with exactly the tools the
     * node measured (the build's paths). NULL in-process, where the sandbox
     * finds its tools itself. */
    const struct px_sandbox *sandbox;
    /* The instance's own X25519 key pair, for built-in stages whose input
     * carries further payloads sealed to the instance (the poll tally's
     * ballots inside a ballot box's release). Never given to task code. */
    const px_box_keypair *box;
    /* The content a delivering stage delivers, sealed with the code after
     * the task key ("PXAD"), or NULL. */
    const uint8_t *content;
    size_t content_len;
} px_stage_ctx;

/* A stage's run function: 0 with out->output filled, or -1 with err set
 * and out->status naming the failure. Everything it reads is in ctx; it
 * must not do I/O (the worker's seccomp filter would kill it). */
typedef int (*px_stage_run_fn)(const px_stage_ctx *ctx, px_stage_out *out,
                               px_err *err);

typedef struct px_stage_kind {
    const char *kind;  /* [a-z0-9_-]{1,31}: "prover", "dp", "aggregate" */
    int needs_code;    /* 1: task code must arrive sealed with the step */
    /* Optional: reject bad params at birth, before any evidence exists. */
    int (*check)(const json_t *params, px_err *err);
    px_stage_run_fn run;
    /* Optional: called once in the worker before its seccomp filter, for
     * what needs files or syscalls the filter forbids (e.g. loading a
     * crypto library's tables). Only the kind being run is prepared. */
    int (*prepare)(px_err *err);
    /* Optional: work that depends on the code alone (compiling it), done
     * before a padded instance starts its pad, so the pad covers only what
     * the data can change. A failure here is left for the run to meet. */
    int (*warm)(const px_stage_ctx *ctx, px_err *err);
    /* Optional, for kinds that serve requests once their step released its
     * output (PIR answers queries): answer one request from the state the
     * run left, knowing the output's commitment. No I/O, like run. */
    int (*serve)(void *state, const uint8_t output_commit[PX_SHA256_BYTES], const uint8_t *req, size_t len,
                 px_buf *resp, px_err *err);
    void (*state_free)(void *state);
} px_stage_kind;

/* A table is an array of pointers to kinds, ended by NULL. */
const px_stage_kind *px_lambda_kind_find(const px_stage_kind *const *table,
                                   const char *kind);

/* Built-in: element-wise sum of PXV1 vectors of equal length (partition
 * results, per-POD partial sums). Params: none. */
extern const px_stage_kind px_lambda_aggregate_kind;
/* Consumer task code (WebAssembly) in the sandbox: one input on stdin, the
 * output from stdout. Params: map, dim, blocks, deliver (what the task may
 * use is the stage's limits, px_limits). The
 * worker runs it under PX_TEE_PROFILE_SPAWN. */
extern const px_stage_kind px_lambda_wasm_kind;
/* Built-in: gathers the tagged streams (PXT1) of POD-side map instances
 * into one stream for a DP stage, when there are more PODs than one step
 * takes inputs (docs/executor.md). Params: none. */
extern const px_stage_kind px_lambda_gather_kind;

/* ---- the λ build: what a node measures and its workers run -------------- */

#define PX_LAMBDA_PATH_MAX 4096

/* One file of the build: where it is, and its identity when it was hashed
 * (a file whose identity changed is hashed again). */
typedef struct px_lambda_file {
    char *path; /* absolute; owned */
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
} px_lambda_file;

/* The node's build (pixiu/tee.h): each component's name and digest, the
 * file it was read from, and where the sandbox keeps compiled objects. The
 * node sends it to every worker it starts (INIT), and the worker runs
 * exactly these files: nothing is looked up in the environment there. */
typedef struct px_lambda_build {
    px_tee_build build;                     /* names and digests */
    px_lambda_file files[PX_TEE_BUILD_MAX]; /* files[i] is build.c[i]'s */
    uint8_t digest[PX_SHA256_BYTES];
    /* The object cache: not measured, its objects are named by code digest
     * and toolchain (docs/tee.md says what that leaves open). */
    char cache_dir[PX_LAMBDA_PATH_MAX];
} px_lambda_build;

/* Find and hash every component: the worker at worker_path, and the
 * sandbox's runner, compilers and the files they read, found the way the
 * sandbox finds them (PIXIU_WASM_RUNNER, PATH, PIXIU_CACHE_DIR). This is
 * the only place the environment decides what an instance runs. Costs a
 * few processes and hashing the toolchain: once per node. */
int px_lambda_build_init(px_lambda_build *b, const char *worker_path,
                         px_err *err);
/* Append one component (a file hashed now) to a build being made, then
 * px_lambda_build_seal to compute the digest. For decoding a build sent by
 * a node and for tests. */
int px_lambda_build_add(px_lambda_build *b, const char *name,
                        const uint8_t sha256[PX_SHA256_BYTES],
                        const char *path, px_err *err);
int px_lambda_build_seal(px_lambda_build *b, px_err *err);
/* Check every file's identity (device, inode, size, mtime, ctime) and hash
 * again the ones that changed; *changed (may be NULL) is set to 1 then. A
 * file that is gone fails. */
int px_lambda_build_refresh(px_lambda_build *b, int *changed, px_err *err);
/* The path of a component, or NULL. */
const char *px_lambda_build_path(const px_lambda_build *b, const char *name);
int px_lambda_build_copy(px_lambda_build *dst, const px_lambda_build *src,
                         px_err *err);
void px_lambda_build_free(px_lambda_build *b);
/* A sandbox (pixiu/sandbox.h) that uses exactly the build's tools and
 * cache directory; its sweeps are left to the caller (px_sandbox_sweep). */
int px_lambda_build_sandbox(const px_lambda_build *b, struct px_sandbox *sb,
                            px_err *err);

/* ---- a λ instance (the worker's state) --------------------------------- */

typedef struct px_lambda px_lambda;

/* Birth: check the config against the kind, generate the keys and compute
 * the measurement over the build digest (pixiu/tee.h). The instance lives
 * in the worker process; these calls are also what tests use in-process. */
int px_lambda_new(px_lambda **out, const px_stage_kind *const *table,
                  const uint8_t build_digest[PX_SHA256_BYTES],
                  const char *kind, const uint8_t code_digest[PX_SHA256_BYTES],
                  const void *config, size_t config_len, px_err *err);
/* Wipes the private keys. NULL is fine. */
void px_lambda_free(px_lambda *l);
void px_lambda_public(const px_lambda *l, uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES],
                      uint8_t box_pk[PX_BOX_PUBLICKEYBYTES],
                      uint8_t measurement[PX_TEE_MEASUREMENT_BYTES]);
/* Give a code-running instance the sandbox it must use (copied); without
 * one it finds its tools itself. */
int px_lambda_set_sandbox(px_lambda *l, const struct px_sandbox *sb,
                          px_err *err);
/* Accept the evidence the backend produced for this instance: it must name
 * this instance's keys, measurement and build. Its digest goes into every
 * proof. */
int px_lambda_set_evidence(px_lambda *l, const void *ev, size_t len,
                           px_err *err);

/* One input as it arrives: sealed bytes plus the producer's proof (an
 * execution proof together with that instance's evidence, or a POD release
 * statement with no evidence). */
typedef struct px_step_input {
    const uint8_t *sealed;
    size_t sealed_len;
    const uint8_t *proof;
    size_t proof_len;
    const uint8_t *evidence; /* NULL/0 for a POD release */
    size_t evidence_len;
} px_step_input;

typedef struct px_step_result {
    px_buf proof;     /* the signed execution proof (DSSE JSON) */
    px_buf *outputs;  /* one sealed output per successor, on success */
    size_t noutputs;
    int ok;           /* 1 if status is "ok" */
    char status[PX_LAMBDA_STATUS_MAX + 1];
    /* The accepted-input statement, when the inputs opened and validated
     * (empty when the step failed before), and the log indices of it and
     * of the proof. */
    px_buf accepted;
    uint64_t accepted_index, proof_index;
    /* A delivering instance's delivery, sealed to its config's inbox key
     * (on success; empty otherwise). */
    px_buf delivery;
} px_step_result;

/* ---- release after log ------------------------------------------------- */

/* What the host shows an instance once one of its statements is in the
 * log: the entry's index, a checkpoint signed by the log key of the stage
 * config (a C2SP signed note, cosignatures allowed) and an RFC 9162
 * inclusion proof of that exact entry against it. Borrowed. */
typedef struct px_lambda_logged {
    uint64_t index;
    const char *checkpoint;
    size_t checkpoint_len;
    const uint8_t *proof; /* nproof 32-byte hashes */
    size_t nproof;
} px_lambda_logged;

/* The log as the host reaches it: append entry, wait until it is durable,
 * and fill out with its index, the signed checkpoint note covering it and
 * the inclusion proof (px_log_remote_append over HTTP, px_log_append_proven
 * in-process). */
typedef int (*px_lambda_log_fn)(void *ctx, const uint8_t *entry, size_t len,
                                px_log_receipt *out, px_err *err);
typedef struct px_lambda_log {
    px_lambda_log_fn append;
    void *ctx;
} px_lambda_log;

/* A px_lambda_log_fn over a log served in this process; ctx is a px_log. */
int px_lambda_log_local(void *ctx, const uint8_t *entry, size_t len,
                        px_log_receipt *out, px_err *err);
/* The view of r an instance is shown. */
px_lambda_logged px_lambda_logged_of(const px_log_receipt *r);

/* The step in three phases, each ending in a statement the host must put
 * in the log before the next (the worker runs them over its channel):
 *
 * 1. accept: open the code and every input and validate them. When they
 *    hold, *accepted = 1 and out gets the signed accepted-input statement
 *    (predicate PX_ACCEPTED_PREDICATE); otherwise *accepted = 0 and out
 *    gets the signed failure proof (go to 3).
 * 2. run: shown the accepted statement in the log, run the stage, seal the
 *    output (kept inside) and sign the execution proof into out.
 * 3. release: shown the proof in the log, hand over the proof and, on
 *    success, the sealed outputs (res).
 *
 * A shown entry that does not verify fails with PX_E_VERIFY and the
 * instance stays where it was: it never runs or releases on the host's
 * word. After the config's deadline an instance accepts nothing (it signs
 * a "timeout" failure), signs no "ok" and releases nothing.
 * sealed_code is the task code sealed to the instance (NULL for built-in
 * kinds). An instance takes one step. */
int px_lambda_accept(px_lambda *l, const uint8_t *sealed_code, size_t code_len,
                     const px_step_input *inputs, size_t ninputs, px_buf *out,
                     int *accepted, px_err *err);
int px_lambda_run(px_lambda *l, const px_lambda_logged *shown, px_buf *out,
                  px_err *err);
int px_lambda_release(px_lambda *l, const px_lambda_logged *shown,
                      px_step_result *res, px_err *err);

/* The whole step in-process, with log->append putting each statement in
 * the log. Returns 0 whenever a proof was signed and shown in the log,
 * success or failure (res->ok tells which); -1 when no proof can be
 * produced (no evidence yet, out of memory, step already taken) or the log
 * did not take it: then nothing was released. */
int px_lambda_step(px_lambda *l, const uint8_t *sealed_code, size_t code_len,
                   const px_step_input *inputs, size_t ninputs,
                   const px_lambda_log *log, px_step_result *res, px_err *err);
void px_step_result_free(px_step_result *r);

/* ---- serving after the step ---------------------------------------------- */

/* An instance of a serving kind whose step succeeded and was released
 * answers requests until its config's deadline (none after it). Each
 * response is signed by the instance key over
 *   SHA-256("PIXIU-serve-v1\n" || manifest || output commitment ||
 *           SHA-256(request) || SHA-256(response))
 * so a requester holding the instance's attested key (from the plan in a
 * receipt) knows the attested instance gave this response to this request
 * about that output. Requests and responses are not logged. */
#define PX_SERVE_MAX_REQUEST (64u << 20)
int px_lambda_serve(px_lambda *l, const uint8_t *req, size_t len, px_buf *resp, uint8_t sig[PX_SIGN_BYTES],
                    px_err *err);
/* 1 if this instance serves requests now. */
int px_lambda_serving(const px_lambda *l);
/* The same over the request's SHA-256, for a party that keeps only the
 * digest of what was asked (the federated-learning aggregator, docs/fl.md). */
int px_serve_verify_hashed(const uint8_t sig[PX_SIGN_BYTES], const uint8_t manifest[PX_SHA256_BYTES],
                           const uint8_t output_commit[PX_SHA256_BYTES], const uint8_t req_hash[PX_SHA256_BYTES],
                           const uint8_t *resp, size_t resp_len, const uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES],
                           px_err *err);
int px_serve_verify(const uint8_t sig[PX_SIGN_BYTES], const uint8_t manifest[PX_SHA256_BYTES],
                    const uint8_t output_commit[PX_SHA256_BYTES], const uint8_t *req, size_t req_len,
                    const uint8_t *resp, size_t resp_len, const uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES],
                    px_err *err);

/* ---- reading proofs ---------------------------------------------------- */

typedef struct px_exec_proof {
    uint8_t id[PX_SHA256_BYTES]; /* SHA-256 of the envelope bytes */
    uint8_t manifest[PX_SHA256_BYTES];
    uint32_t index, partition;
    char kind[PX_TEE_KIND_MAX + 1];
    uint8_t measurement[PX_TEE_MEASUREMENT_BYTES];
    uint8_t evidence[PX_SHA256_BYTES];
    char status[PX_LAMBDA_STATUS_MAX + 1];
    uint8_t subject[PX_SHA256_BYTES]; /* output digest, or failed input */
    int has_delivery; /* an ok proof of a delivering instance: its second subject */
    uint8_t delivery[PX_SHA256_BYTES]; /* the delivery's commitment */
    size_t ninputs;
    int has_users; /* counts.users was reported */
    uint64_t users;
    int has_derived; /* "derived" was reported */
    px_stage_derived derived;
    int64_t started, finished;
} px_exec_proof;

/* Verify an execution proof's signature by the instance key sign_pk, and
 * parse what a successor or auditor needs. A failure proof verifies too:
 * check p->status. */
int px_lambda_proof_verify(px_exec_proof *p, const void *env, size_t len,
                         const uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES],
                         px_err *err);

/* An accepted-input statement (docs/formats.md): subject "instance" with
 * the evidence digest; predicate manifest, stage, measurement, evidence,
 * inputs (as the execution proof names them) and accepted (ms). */
typedef struct px_accepted {
    uint8_t id[PX_SHA256_BYTES]; /* SHA-256 of the envelope bytes */
    uint8_t manifest[PX_SHA256_BYTES];
    uint32_t index, partition;
    char kind[PX_TEE_KIND_MAX + 1];
    uint8_t measurement[PX_TEE_MEASUREMENT_BYTES];
    uint8_t evidence[PX_SHA256_BYTES];
    size_t ninputs;
    int64_t accepted;
} px_accepted;

/* Verify an accepted-input statement's signature by sign_pk and parse it. */
int px_accepted_verify(px_accepted *a, const void *env, size_t len,
                       const uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES],
                       px_err *err);

/* ---- hosting a worker (the node side) ---------------------------------- */

typedef struct px_lambda_host_req {
    const px_tee_backend *backend;
    const char *worker_path;      /* used only when build is NULL */
    /* What the instance runs: the worker started is the build's "worker"
     * component. NULL: this process's build for worker_path (computed
     * once, refreshed per call). */
    const px_lambda_build *build;
    const px_signer *platform;    /* the node's platform key */
    const char *node;             /* the node's id */
    const char *kind;
    const uint8_t *code_digest;   /* NULL: px_tee_builtin_code */
    const void *config;
    size_t config_len;
    const uint8_t *nonce;         /* PX_TEE_NONCE_BYTES from the recruiter */
    /* The worker process's own limits, 0 for the platform's: sized for any
     * task the config's limits allow (a wasm worker's runner reserves 8 GiB
     * of address space whatever the task's memory). Set only to test. */
    uint64_t mem_bytes, cpu_seconds;
    int timeout_ms;               /* per exchange of the step; 0: PX_LAMBDA_TIMEOUT_MS */
    /* Per exchange while the instance starts, whatever the task's limits
     * (starting is the platform's business); 0: PX_LAMBDA_START_TIMEOUT_MS. */
    int start_timeout_ms;
} px_lambda_host_req;

#define PX_LAMBDA_TIMEOUT_MS 600000 /* as long as the default CPU limit */
#define PX_LAMBDA_START_TIMEOUT_MS 60000 /* per exchange while the instance starts */

typedef struct px_lambda_host {
    px_tee_worker worker;
    px_buf evidence; /* signed by the platform key */
    uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES];
    uint8_t box_pk[PX_BOX_PUBLICKEYBYTES];
    uint8_t measurement[PX_TEE_MEASUREMENT_BYTES];
    int timeout_ms;
    size_t nsuccessors; /* from the config: outputs a success must carry */
    int has_inbox;      /* from the config: a success also carries a delivery */
    int serve;          /* set by the caller after start: keep the worker
                           after an ok step, to serve (px_lambda_host_serve) */
    int serving;        /* the worker is alive and serving */
} px_lambda_host;

/* Spawn a worker under the backend, give it its config, check the
 * measurement it reports against the one computed here, and have the
 * backend sign evidence. On failure the worker is gone. */
int px_lambda_host_start(px_lambda_host *h, const px_lambda_host_req *req,
                         px_err *err);
/* Send one step and collect the result. Each statement the worker signs
 * (accepted input, then the proof) is checked against the instance key,
 * put in the log with log->append and shown back to the worker, which
 * goes on only when that shows it in the log. A worker that does not
 * answer within the timeout is killed (PX_E_UNAVAILABLE), and so is one
 * whose statement the log does not take: nothing is released then. The
 * worker is reaped either way. */
int px_lambda_host_step(px_lambda_host *h, const uint8_t *sealed_code,
                        size_t code_len, const px_step_input *inputs,
                        size_t ninputs, const px_lambda_log *log,
                        px_step_result *res, px_err *err);
/* One request to a serving worker (h->serve set and an ok step): the response and the instance's signature over it (checked here
 * against the instance key). A refused request fails with the worker's
 * message and the worker goes on; a worker that does not answer in time or
 * breaks the protocol is killed and serves no more. */
int px_lambda_host_serve(px_lambda_host *h, const uint8_t manifest[PX_SHA256_BYTES],
                         const uint8_t output_commit[PX_SHA256_BYTES], const uint8_t *req, size_t len,
                         px_buf *resp, uint8_t sig[PX_SIGN_BYTES], px_err *err);
/* Kill (if still running) and reap; free the evidence. */
void px_lambda_host_free(px_lambda_host *h);

/* ---- warm workers: a node's pool (docs/lambda.md "Warm instances") ------ */

/* Workers started ahead under the backend, each exec'd with its limits and
 * isolation and waiting for its INIT: no keys, no kind, no config yet, so
 * an instance taken from the pool is born exactly as a cold one (keys,
 * measurement and evidence after it is taken). One pool per node. */
typedef struct px_lambda_pool px_lambda_pool;

typedef struct px_lambda_pool_stats {
    uint64_t spawned;   /* workers started by the pool */
    uint64_t taken;     /* handed to an instance */
    uint64_t missed;    /* starts that found none ready (started cold) */
    uint64_t discarded; /* found dead or of another executable, killed */
    size_t ready;       /* waiting now */
} px_lambda_pool_stats;

/* Keep `per_profile` workers of worker_path ready for each kind profile
 * (built-in stages; stages that run task code, with a wider address
 * space), refilled by a thread of the pool's own. */
int px_lambda_pool_new(px_lambda_pool **out, const px_tee_backend *backend, const char *worker_path,
                       unsigned per_profile, px_err *err);
/* Stop refilling, kill and reap every waiting worker. NULL is a no-op. */
void px_lambda_pool_free(px_lambda_pool *p);
/* Wait until every profile is full (PX_E_UNAVAILABLE after timeout_ms, or
 * naming why the pool cannot start workers). */
int px_lambda_pool_wait_full(px_lambda_pool *p, int timeout_ms, px_err *err);
void px_lambda_pool_stats_get(px_lambda_pool *p, px_lambda_pool_stats *out);
/* The pids of the waiting workers (tests), at most cap; returns how many. */
size_t px_lambda_pool_pids(px_lambda_pool *p, pid_t *out, size_t cap);

/* px_lambda_host_start, taking the worker from the pool when one of the
 * instance's profile and the build's worker is ready (a cold start
 * otherwise). pool NULL: px_lambda_host_start. */
int px_lambda_host_start_from(px_lambda_host *h, const px_lambda_host_req *req, px_lambda_pool *pool,
                              px_err *err);

/* The worker process's main loop over the channel fd, with the stage
 * table the worker binary was built with. Returns the exit status. */
int px_lambda_worker_main(int fd, const px_stage_kind *const *table,
                          const px_tee_backend *backend);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
