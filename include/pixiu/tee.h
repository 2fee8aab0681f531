/* PIXIU TEE backends and evidence.
 *
 * A trust-λ instance runs in a worker process hosted by a node. The node's
 * TEE backend isolates that process and vouches for it with *evidence*: a
 * DSSE envelope, signed by the node's platform key, that binds the backend,
 * its security level, the instance's measurement, the instance's public
 * keys and the recruiter's nonce. A recruiter checks evidence with
 * px_evidence_verify before it trusts an instance's keys.
 *
 * Backends sit behind one interface (px_tee_backend). This build has one:
 * `process` (security level 1), which is software isolation only: a separate
 * process in fresh namespaces, with rlimits, not dumpable, under a seccomp
 * filter, and evidence signed by a key the node's operator holds. Hardware
 * backends (SGX DCAP quotes, SEV-SNP, TDX) have reserved names and levels so
 * manifests and verifiers can speak of them, but none is implemented: asking
 * for one fails with PX_E_UNAVAILABLE, and evidence naming one is refused.
 * See docs/tee.md for what is and is not protected.
 */
#ifndef PIXIU_TEE_H
#define PIXIU_TEE_H

#include <sys/types.h>

#include "pixiu/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

#define PX_TEE_NONCE_BYTES 32
#define PX_TEE_MEASUREMENT_BYTES PX_SHA256_BYTES
#define PX_TEE_BACKEND_NAME_MAX 31
#define PX_TEE_NODE_ID_MAX 128
#define PX_TEE_KIND_MAX 31
#define PX_EVIDENCE_MAX_BYTES (160u << 10) /* a full build of long names fits */
#define PX_EVIDENCE_PAYLOAD_TYPE "application/vnd.pixiu.evidence+json"
#define PX_EVIDENCE_TYPE "urn:pixiu:evidence:v2"

/* Security levels: 0 no isolation at all (never produced), 1 software
 * isolation by the host OS, 2 and above hardware-rooted (reserved). */
enum {
    PX_TEE_LEVEL_NONE = 0,
    PX_TEE_LEVEL_PROCESS = 1,
    PX_TEE_LEVEL_HARDWARE = 2
};

/* Isolation measures a backend really applied to an instance; the evidence
 * lists them by name so a verifier sees exactly what it is getting. */
enum {
    PX_ISO_SECCOMP = 1u << 0, /* "seccomp": allow-list filter, kill otherwise */
    PX_ISO_NODUMP = 1u << 1,  /* "nodump": not dumpable, not ptrace-able */
    PX_ISO_NONEWPRIVS = 1u << 2, /* "nonewprivs" */
    PX_ISO_USERNS = 1u << 3,  /* "userns": own user namespace */
    PX_ISO_NETNS = 1u << 4,   /* "netns": own network namespace, no links */
    PX_ISO_IPCNS = 1u << 5,   /* "ipcns" */
    PX_ISO_RLIMIT_MEM = 1u << 6, /* "rlimit-mem": address-space limit */
    PX_ISO_RLIMIT_CPU = 1u << 7, /* "rlimit-cpu" */
    PX_ISO_RLIMIT_FILES = 1u << 8, /* "rlimit-files": few descriptors, no core */
    /* "seccomp-spawn": a deny-list filter (no network, no ptrace, no
     * mounts or namespace changes, no kernel interfaces) for workers that
     * must start a sandbox child; weaker than "seccomp". */
    PX_ISO_SECCOMP_SPAWN = 1u << 9,
    PX_ISO_COUNT = 10
};
/* Name of one PX_ISO_* bit, NULL for an unknown bit. */
const char *px_tee_isolation_name(unsigned bit);

/* ---- the build: every file an instance runs ----------------------------- */

/* A λ *build* names, with their SHA-256 digests, every executable and
 * runtime source that can touch an instance's plaintext or shape what runs:
 * the worker binary, the sandbox runner, wasm2c, the C compiler driver and
 * the programs it runs, the files it links in, the runtime headers the
 * generated C includes, the shared libraries they load; plus the PIXIU
 * version. Components keep the order their producer lists them in (a fixed
 * order, most telling first: worker, runner, compilers, ...) and names are
 * unique:
 *
 *   build digest = SHA-256( "pixiu build v1\n"
 *                           || u8 len(version) || version
 *                           || u16be n
 *                           || n times ( u8 len(name) || name || sha256 ) )
 *
 * version: 1..PX_TEE_VERSION_MAX bytes of [A-Za-z0-9.+-]; name:
 * 1..PX_TEE_COMPONENT_NAME_MAX printable ASCII bytes, no quote, no
 * backslash, no space at either end ("runner", "cc1", "lib libc.so.6",
 * "header /usr/include/wasm-rt.h"); 1..PX_TEE_BUILD_MAX components. See
 * docs/tee.md. */
#define PX_TEE_BUILD_MAX 256
#define PX_TEE_COMPONENT_NAME_MAX 255
#define PX_TEE_VERSION_MAX 31

typedef struct px_tee_component {
    char name[PX_TEE_COMPONENT_NAME_MAX + 1];
    uint8_t sha256[PX_SHA256_BYTES];
} px_tee_component;

typedef struct px_tee_build {
    char version[PX_TEE_VERSION_MAX + 1];
    size_t n;
    px_tee_component c[PX_TEE_BUILD_MAX]; /* in the producer's order */
} px_tee_build;

/* An empty build of the given version (PX_VERSION when NULL). */
int px_tee_build_init(px_tee_build *b, const char *version, px_err *err);
/* Append a component; a repeated or malformed name, or a full build, is
 * refused. */
int px_tee_build_add(px_tee_build *b, const char *name,
                     const uint8_t sha256[PX_SHA256_BYTES], px_err *err);
/* The component of that name, or NULL. */
const px_tee_component *px_tee_build_find(const px_tee_build *b,
                                          const char *name);
/* Check a build someone else made (version, names, no repeats, count). */
int px_tee_build_check(const px_tee_build *b, px_err *err);
/* The build digest (the encoding above); checks the build first. */
int px_tee_build_digest(uint8_t out[PX_SHA256_BYTES], const px_tee_build *b,
                        px_err *err);
/* One line naming the first difference of `got` from `ref`, in ref's
 * order: `component "runner" differs (sha256 91bc0d2257c4e3a1..., expected
 * 3f2a9c1e5b7d8e0f...)` or `component "cc1" is missing`; then the first
 * component of got that ref lacks (`component "x" is not in the reference
 * build`); then `version 0.2.0 differs (expected 0.1.0)`, and last
 * `components are in another order`. Returns 0 when the two are the same
 * build, 1 otherwise. */
int px_tee_build_diff(const px_tee_build *ref, const px_tee_build *got,
                      char *out, size_t cap);

/* ---- measurement ------------------------------------------------------- */

/* Code digest used by built-in stages, whose code is part of the worker
 * binary (already covered by the build): 32 zero bytes. */
extern const uint8_t px_tee_builtin_code[PX_SHA256_BYTES];

/* measurement = SHA-256("pixiu measurement v2\n" || build digest ||
 *               u8 len(kind) || kind || code digest || config digest).
 * kind must be 1..PX_TEE_KIND_MAX bytes of [a-z0-9_-]. */
int px_tee_measure(uint8_t out[PX_TEE_MEASUREMENT_BYTES],
                   const uint8_t build[PX_SHA256_BYTES], const char *kind,
                   const uint8_t code[PX_SHA256_BYTES],
                   const uint8_t config[PX_SHA256_BYTES], px_err *err);
/* 1 if kind is a well-formed stage kind name. */
int px_tee_kind_valid(const char *kind);

/* ---- evidence ---------------------------------------------------------- */

typedef struct px_evidence {
    char backend[PX_TEE_BACKEND_NAME_MAX + 1];
    int level;
    char node[PX_TEE_NODE_ID_MAX + 1];
    uint8_t measurement[PX_TEE_MEASUREMENT_BYTES];
    px_tee_build build; /* what the node ran; its digest is in measurement */
    uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES]; /* instance Ed25519 key */
    uint8_t box_pk[PX_BOX_PUBLICKEYBYTES];   /* instance X25519 key */
    uint8_t nonce[PX_TEE_NONCE_BYTES];
    unsigned isolation; /* PX_ISO_* bits */
    int64_t issued;     /* ms since the epoch */
} px_evidence;

/* Serialise the claims as the evidence payload and sign them with the
 * platform key; appends the DSSE envelope to out. */
int px_evidence_sign(px_buf *out, const px_evidence *ev,
                     const px_signer *platform, px_err *err);
/* Parse an envelope and its claims WITHOUT checking any signature: for
 * display and for fuzzing. Never trust the result of this alone. */
int px_evidence_parse(px_evidence *ev, const void *data, size_t len,
                      px_err *err);
/* The same, for a reader that knows which build the evidence should list
 * (a worker, from its INIT): claims that list exactly that build are read
 * without parsing it (the result is the same; docs/lambda.md). NULL: as
 * px_evidence_parse. */
int px_evidence_parse_for(px_evidence *ev, const void *data, size_t len,
                          const px_tee_build *expect, px_err *err);
/* SHA-256 of the exact evidence bytes (what proofs cite). */
void px_evidence_digest(uint8_t out[PX_SHA256_BYTES], const void *data,
                        size_t len);

typedef struct px_evidence_policy {
    const px_verifier *platform_keys; /* trusted platform keys */
    size_t nplatform_keys;
    int min_level;
    /* Each of these is checked when not NULL. */
    const uint8_t *measurement; /* PX_TEE_MEASUREMENT_BYTES */
    const uint8_t *nonce;       /* PX_TEE_NONCE_BYTES */
    const char *node;           /* expected node id */
    /* Accepted build digests, checked when nbuilds > 0: the evidence's
     * build must be one of them. reference (may be NULL) is the build a
     * refusal is explained against, usually the checking party's own. */
    const uint8_t (*builds)[PX_SHA256_BYTES];
    size_t nbuilds;
    const px_tee_build *reference;
} px_evidence_policy;

/* Verify evidence: a signature by one of the trusted platform keys, a
 * backend this build can verify, level >= min_level, an accepted build,
 * and the expected measurement / nonce / node. A build that is not
 * accepted is refused naming what differs from the reference build
 * ("build not accepted: component \"runner\" differs (...)"). The
 * measurement is not recomputed here (it needs the stage's kind, code and
 * config): a caller that has them compares it against px_tee_measure over
 * the evidence's build digest. On success fills *ev (may be NULL) and
 * *key_index (may be NULL) with the index of the platform key that signed.
 * Fails with PX_E_VERIFY naming the first check that failed. */
int px_evidence_verify(const void *data, size_t len,
                       const px_evidence_policy *policy, px_evidence *ev,
                       size_t *key_index, px_err *err);

/* ---- backends ---------------------------------------------------------- */

/* What the host asks for when it starts an instance's worker. */
typedef struct px_tee_spawn_req {
    const char *worker_path; /* executable to run */
    char *const *argv;       /* NULL: { worker_path, NULL } */
    uint64_t mem_bytes;      /* address-space limit, 0 = backend default */
    uint64_t cpu_seconds;    /* CPU limit, 0 = backend default */
} px_tee_spawn_req;

/* A running worker: its pid and the host's end of a socketpair (the worker
 * sees the other end as PX_TEE_WORKER_FD). */
typedef struct px_tee_worker {
    pid_t pid;
    int fd;
    unsigned isolation; /* PX_ISO_* bits applied before exec */
} px_tee_worker;

#define PX_TEE_WORKER_FD 3

/* Worker-side lockdown profiles. */
typedef enum px_tee_profile {
    /* Read and write its channel, memory without execute, randomness,
     * clocks, exit; anything else kills. For built-in stages. */
    PX_TEE_PROFILE_COMPUTE = 1,
    /* For stages that compile and run a sandbox child (wasm): everything
     * but a deny-list, which fails with EPERM so that the sandbox's own,
     * stricter filter still reports what its task attempted. */
    PX_TEE_PROFILE_SPAWN = 2
} px_tee_profile;

typedef struct px_tee_backend {
    const char *name; /* "process", "sgx-dcap", "sev-snp", "tdx" */
    int level;
    /* 1 if this build and this machine can run it. */
    int (*available)(void);
    /* Start an isolated worker. */
    int (*spawn)(const px_tee_spawn_req *req, px_tee_worker *w, px_err *err);
    /* Optional; called by a worker before it reads its INIT: work of the
     * lockdown that depends on nothing an instance brings (for `process`,
     * building the seccomp filters). A failure only leaves that work to
     * the lockdown. */
    int (*prepare)(px_err *err);
    /* Called by the worker itself once it holds its keys: apply the
     * in-process part of the isolation (for `process`, the seccomp
     * filter). Adds the bits applied to *isolation. */
    int (*lockdown)(px_tee_profile profile, unsigned *isolation,
                    px_err *err);
    /* Produce evidence for an instance's claims (backend, level and
     * isolation are filled in by the backend). */
    int (*attest)(px_evidence *claims, const px_signer *platform,
                  px_buf *out, px_err *err);
} px_tee_backend;

/* Look a backend up by name. Hardware names are known but fail with
 * PX_E_UNAVAILABLE ("not supported by this build"). */
int px_tee_backend_find(const char *name, const px_tee_backend **out,
                        px_err *err);
extern const px_tee_backend px_tee_process;

/* Wait for a worker to exit (reaping it); kills it first when kill_first.
 * *status gets the wait status (may be NULL). Closes w->fd. */
int px_tee_worker_finish(px_tee_worker *w, int kill_first, int *status,
                         px_err *err);

/* End a worker whose answer is in: close w->fd, SIGKILL it, and leave the
 * reaping to a thread of this process (src/tee/reap.c); w->pid is -1
 * after. For a caller that does not need the exit status. */
void px_tee_worker_release(px_tee_worker *w);

/* SHA-256 of a file's bytes (a build component's digest). */
int px_tee_file_digest(uint8_t out[PX_SHA256_BYTES], const char *path,
                       px_err *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
