/* The scale simulation (docs/scale.md, "Simulation: 100,000 PODs"): many
 * PODs' admission, release and proving in one process, through the
 * library's own code and real cryptography. What is not simulated is the
 * network between the parties and their process isolation: every POD,
 * the consumer, the executors' instances and the log live in this process
 * and call each other directly.
 *
 * The PODs are split into tasks of at most per_task PODs, because one task
 * cannot ask more: a manifest lists at most PX_MANIFEST_MAX_PODS PODs, a
 * first-stage instance trusts at most PX_LAMBDA_MAX_TRUSTED POD keys and
 * takes at most PX_LAMBDA_MAX_INPUTS inputs in its step. Each task is the
 * chain prover -> wasm -> dp, with as many prover (and wasm) partitions as
 * its PODs need at 256 a partition; only the prover stage runs.
 *
 * Not a public contract: the bench program and its test use it. */
#ifndef PX_BENCH_SIM_H
#define PX_BENCH_SIM_H

#include <stdint.h>
#include <stdio.h>

#include "pixiu/exec.h"

typedef struct px_sim_opts {
    uint64_t pods;              /* PODs in all, >= 1 */
    uint32_t per_task;          /* PODs one task asks; 0: PX_SIM_PER_TASK */
    uint32_t records;           /* records per POD; 0: 5 */
    uint32_t unsigned_records;  /* of which the source did not sign (< records) */
    unsigned threads;           /* PODs worked on at once; 0: the CPUs this process may use */
    const char *dir;            /* the log's directory; NULL: $TMPDIR or /tmp */
    const char *pod_dir;        /* the PODs' databases; NULL: /dev/shm when there, else dir */
    FILE *progress;             /* a line per task, or NULL */
} px_sim_opts;

/* The largest task whose first stage is one step (PX_LAMBDA_MAX_INPUTS):
 * its plan, which every POD parses and checks, is the smallest a POD can
 * be asked to admit at this scale. */
#define PX_SIM_PER_TASK 256u

/* What each phase costs, summed over tasks. */
typedef enum px_sim_phase {
    PX_SIM_SETUP = 0, /* a POD's keys, database, signed records, policy */
    PX_SIM_PLAN,      /* the consumer: manifest, instances, evidence, plan, plan in the log */
    PX_SIM_ADMIT,     /* a POD: plan parsed and checked, admission recorded, budget charged */
    PX_SIM_RELEASE,   /* a POD: export, signed release statement, sealed to stage 0 */
    PX_SIM_LOG,       /* the release statements appended, durably */
    PX_SIM_PROVE,     /* the prover instances' steps (their statements logged) */
    PX_SIM_PHASES
} px_sim_phase;

const char *px_sim_phase_name(px_sim_phase p);

typedef struct px_sim_result {
    uint64_t tasks, instances, prover_steps;
    uint64_t admitted, released;
    /* From the prover steps' signed proofs, summed. */
    uint64_t inputs, records, authenticated, alleged, dropped;
    uint64_t appended; /* entries this run appended to the log */
    uint64_t log_size; /* the log's signed checkpoint size at the end */
    uint64_t plan_bytes_max;
    unsigned threads;
    /* CPU time of each phase (ms): thread CPU time for the per-POD phases,
     * which run interleaved on several threads, process CPU time for the
     * others, which run alone. */
    double cpu_ms[PX_SIM_PHASES];
    double wall_ms;    /* the whole run, start to end */
    double pods_wall_ms; /* the POD passes (setup, admission, release) */
} px_sim_result;

/* Run the simulation; 0 when every POD was admitted once, every prover
 * step proved ok and the log holds every statement, -1 with err naming the
 * first thing that failed. */
int px_sim_run(const px_sim_opts *o, px_sim_result *r, px_err *err);

/* ---- inside the simulation (sim_world.c, sim_pod.c) ------------------------ */

#define PX_SIM_EXECS 4 /* executor nodes, each with its own platform key */

/* The parties every task shares. */
typedef struct px_sim_world {
    px_signer consumer, log_key;
    px_signer platform[PX_SIM_EXECS];
    px_node_platform nodes[PX_SIM_EXECS];
    px_box_keypair receiver;
    px_source_signer bank;     /* the source that signs the PODs' records */
    px_buf bank_text;          /* its verifier key, as the prover's params name it */
    px_tee_build build;        /* the build every instance and POD runs */
    uint8_t build_digest[PX_SHA256_BYTES];
    px_exec_trust trust;
    px_log *log;
    px_verifier log_v;
    px_pod_schema schema;
    uint32_t records, unsigned_records;
    const char *pod_dir;
    uint64_t serial;
    uint8_t salt[PX_SIGN_SEEDBYTES - 8]; /* of the PODs' key seeds */
} px_sim_world;

/* One task: its manifest, plan and the prover instances that will run. */
typedef struct px_sim_task {
    uint64_t first;   /* its first POD's number */
    uint32_t npods;
    uint32_t parts;   /* prover (and wasm) partitions */
    px_manifest m;
    px_buf plan;
    px_plan parsed;      /* the plan read back: each POD's path is cut from it */
    size_t plan_entries; /* the log entries that published it */
    px_lambda **prover;             /* parts instances, owned */
    uint8_t (*prover_box)[PX_BOX_PUBLICKEYBYTES];
    size_t ninstances;
} px_sim_task;

int px_sim_world_init(px_sim_world *w, const char *log_dir, const char *pod_dir, uint32_t records,
                      uint32_t unsigned_records, px_err *err);
void px_sim_world_free(px_sim_world *w);
/* The consumer's side of a task: manifest, instances recruited back to
 * front with evidence from the process backend, the signed plan, and the
 * plan published in the log. */
int px_sim_task_plan(px_sim_world *w, px_sim_task *t, uint64_t first, uint32_t npods, px_err *err);
void px_sim_task_free(px_sim_task *t);
/* POD number i's id ("pod-<i>") and the seed of its signing key. */
void px_sim_pod_id(char out[32], uint64_t i);
void px_sim_pod_seed(const px_sim_world *w, uint64_t i, uint8_t seed[PX_SIGN_SEEDBYTES]);

/* What one POD hands on: its release statement and its sealed payload. */
typedef struct px_sim_release {
    px_buf statement, sealed;
    uint32_t partition;
} px_sim_release;

/* The PODs of a task, on `threads` threads: each POD is set up, admits
 * the plan and releases; cpu_ms gets each phase's thread CPU time added. */
int px_sim_pods_run(px_sim_world *w, const px_sim_task *t, unsigned threads, px_sim_release *out,
                    double cpu_ms[PX_SIM_PHASES], px_err *err);

#endif
