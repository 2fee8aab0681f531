/* PIXIU sandbox: runs a consumer's WebAssembly task (wasm32-wasi) with no
 * I/O but standard input and standard output.
 *
 * A module goes through three steps:
 *   1. validation: PIXIU parses the binary itself and refuses anything
 *      outside a small, named allow-list before any other tool sees it;
 *   2. compilation: wabt's wasm2c turns the (custom-section-free) module into
 *      C, gcc turns that into a shared object; compilers run in a child
 *      process with their own limits and timeout, in a private directory
 *      on a memory-backed file system; the object is cached encrypted
 *      under a key derived from the module bytes;
 *   3. run: a fresh runner process loads the object from a sealed memfd,
 *      instantiates it, caps its memory, enters a seccomp filter and calls
 *      _start, once per group of the input with a fresh instance each
 *      time. The parent enforces the wall-clock timeout and names every
 *      way a run can end.
 *
 * See docs/sandbox.md for the filter, the limits and what is protected.
 */
#ifndef PIXIU_SANDBOX_H
#define PIXIU_SANDBOX_H

#include "pixiu/core.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

#define PX_WASM_PAGE_BYTES 65536u
#define PX_WASM_MODULE_MAX_DEFAULT (16u << 20) /* bytes */
#define PX_WASM_NAME_MAX 64                    /* import/export name bytes */
#define PX_WASM_MAX_TYPES 1024
#define PX_WASM_MAX_IMPORTS 64
#define PX_WASM_MAX_FUNCS 65536
#define PX_WASM_MAX_GLOBALS 1024
#define PX_WASM_MAX_EXPORTS 16
#define PX_WASM_MAX_SEGMENTS 4096
#define PX_WASM_MAX_TABLE_ELEMS 1000000u
/* The compile cost bound, per function body (see wasm_cost.c). */
#define PX_WASM_MAX_NESTING 1024u            /* nested blocks, loops, ifs */
#define PX_WASM_MAX_BODY_BYTES (1024u * 1024u) /* bytes of one body */
#define PX_WASM_MAX_BR_TABLE 65536u          /* targets of one br_table */
#define PX_SANDBOX_PATH_MAX 4096

/* ---- validation ---------------------------------------------------------- */

typedef struct px_wasm_policy {
    size_t max_bytes;   /* module size limit */
    uint32_t max_pages; /* initial memory may not exceed this */
} px_wasm_policy;

typedef struct px_wasm_info {
    uint32_t ntypes, nimports, nfuncs, nexports;
    uint32_t mem_initial;  /* pages */
    uint32_t mem_max;      /* pages; 65536 when the module declares none */
    uint32_t wasi_used;    /* bit i: the i-th allowed WASI import is used */
    size_t code_bytes;     /* size of the code section */
} px_wasm_info;

/* Validate a module against the policy. On success fills info (may be
 * NULL) and, if stripped is not NULL, appends the module with every custom
 * section removed: the bytes the compiler is given. Errors name the section
 * and byte offset. */
int px_wasm_validate(const uint8_t *m, size_t n, const px_wasm_policy *pol,
                     px_wasm_info *info, px_buf *stripped, px_err *err);

/* Name of the i-th allowed WASI preview1 import, or NULL past the end. */
const char *px_wasm_allowed_import(unsigned i);

/* ---- limits and outcomes ------------------------------------------------- */

typedef struct px_sandbox_limits {
    uint32_t cpu_ms;     /* CPU time of the run */
    uint32_t wall_ms;    /* wall clock, enforced by the parent */
    uint32_t mem_mb;     /* linear-memory cap (rounded down to pages) */
    size_t max_output;   /* bytes on standard output */
    size_t max_stderr;   /* stderr bytes kept; the rest is discarded */
    int grant_clock;     /* WASI clock_time_get returns a coarse clock */
    int grant_random;    /* WASI random_get returns a seeded stream */
    uint8_t random_seed[32];
} px_sandbox_limits;

#define PX_SANDBOX_CPU_MS_DEFAULT 10000u
#define PX_SANDBOX_MEM_MB_DEFAULT 256u
#define PX_SANDBOX_MEM_MB_MAX 4095u
#define PX_SANDBOX_OUTPUT_DEFAULT (64u << 20)
#define PX_SANDBOX_STDERR_DEFAULT (16u << 10)

void px_sandbox_limits_default(px_sandbox_limits *l);

typedef enum px_sandbox_status {
    PX_SB_OK = 0,
    PX_SB_INVALID_MODULE,    /* refused by the validator or the compiler */
    PX_SB_TRAP,              /* see px_sandbox_result.trap */
    PX_SB_EXIT,              /* the task exited with a non-zero status */
    PX_SB_CPU_LIMIT,
    PX_SB_MEMORY_LIMIT,      /* the task failed after memory was refused */
    PX_SB_FORBIDDEN_SYSCALL, /* killed by the seccomp filter (SIGSYS) */
    PX_SB_TIMEOUT,           /* wall clock */
    PX_SB_OUTPUT_LIMIT,
    PX_SB_INTERNAL           /* the host failed, not the task */
} px_sandbox_status;

/* Trap kinds; values match wabt's wasm_rt_trap_t. */
typedef enum px_trap_kind {
    PX_TRAP_NONE = 0,
    PX_TRAP_OOB,
    PX_TRAP_INT_OVERFLOW,
    PX_TRAP_DIV_BY_ZERO,
    PX_TRAP_INVALID_CONVERSION,
    PX_TRAP_UNREACHABLE,
    PX_TRAP_CALL_INDIRECT,
    PX_TRAP_UNCAUGHT_EXCEPTION,
    PX_TRAP_STACK_EXHAUSTION
} px_trap_kind;

typedef struct px_sandbox_result {
    px_sandbox_status status;
    px_trap_kind trap;
    int exit_code;              /* PX_SB_EXIT */
    uint64_t cpu_us, wall_us;   /* of the runner process */
    uint32_t pages;             /* linear memory at the end, if known */
    int cached;                 /* compile: the object was already cached */
    char reason[PX_ERR_MSG_MAX];/* one line naming the outcome */
} px_sandbox_result;

/* Stable names: "ok", "invalid-module", "trap", "exit", "cpu-limit",
 * "memory-limit", "forbidden-syscall", "timeout", "output-limit",
 * "internal". Those shared with execution proofs match docs/formats.md. */
const char *px_sandbox_status_name(px_sandbox_status s);
/* The execution proof's status for an outcome (PX_STATUS_* of
 * pixiu/lambda.h): "exit" becomes "trap" and "output-limit"
 * "memory-limit", the proof format having no name for them. */
const char *px_sandbox_proof_status(px_sandbox_status s);
/* "out of bounds", "unreachable", "stack exhaustion", ... */
const char *px_trap_kind_name(px_trap_kind k);

/* ---- the sandbox -------------------------------------------------------- */

typedef struct px_sandbox {
    char cache_dir[PX_SANDBOX_PATH_MAX]; /* private (0700) object cache */
    char work_dir[PX_SANDBOX_PATH_MAX];  /* memory-backed; compiles run here */
    char runner[PX_SANDBOX_PATH_MAX];    /* pixiu-wasm-runner */
    char wasm2c[PX_SANDBOX_PATH_MAX];
    char cc[PX_SANDBOX_PATH_MAX];
    char toolchain[65]; /* hex SHA-256 of tool versions, flags, glue */
    uint32_t compile_timeout_ms;
    /* A runner started ahead for the next run (px_sandbox_warm), shared by
     * copies of this struct and taken by one run; NULL: none. */
    struct px_sb_warm *warm;
} px_sandbox;

/* The exact tools a sandbox uses. Every member may be NULL, meaning the
 * default a node resolves once at start:
 *   cache_dir  $PIXIU_CACHE_DIR, else $XDG_CACHE_HOME/pixiu/wasm, else
 *              $HOME/.cache/pixiu/wasm
 *   runner     $PIXIU_WASM_RUNNER, else pixiu-wasm-runner next to the
 *              running executable, else in ../libexec/pixiu/ from it
 *   wasm2c     wasm2c found in $PATH
 *   cc         gcc found in $PATH
 *   work_dir   /dev/shm: where each compile gets a private (0700)
 *              directory, removed afterwards; it must be on a
 *              memory-backed file system (tmpfs or ramfs), so that no
 *              module, generated C or object reaches a disk
 * Tool paths are made absolute and canonical (symbolic links resolved) at
 * init; compilers then run with a fixed environment (PATH = the C
 * compiler's directory, /usr/bin, /bin; LC_ALL=C; nothing else), so no
 * later environment change alters what compiles or runs a task. */
typedef struct px_sandbox_tools {
    const char *cache_dir;
    const char *runner;
    const char *wasm2c;
    const char *cc;
    const char *work_dir;
    /* Leave the sweeps (below) to a later px_sandbox_sweep: a λ worker
     * does them once its keys are out, off its start's path. */
    int sweep_later;
} px_sandbox_tools;

/* Resolve the tools, check each is an executable file, check the work
 * directory is memory-backed, create the cache directory (0700), sweep
 * (px_sandbox_sweep, unless tools->sweep_later), and compute the
 * toolchain digest. */
int px_sandbox_init_tools(px_sandbox *sb, const px_sandbox_tools *tools,
                          px_err *err);

/* Remove what earlier runs left: plaintext objects and compile
 * directories of an earlier version in the cache, compile directories of
 * processes that are gone in the work directory. Best effort. */
void px_sandbox_sweep(const px_sandbox *sb);

/* px_sandbox_init_tools with only the cache directory given. */
int px_sandbox_init(px_sandbox *sb, const char *cache_dir, px_err *err);

/* Start sb's runner now, waiting for the next run of sb (or a copy), which
 * then skips the runner's exec and loading; one run takes it. For a
 * process that knows a run is coming (a λ worker with task code). */
int px_sandbox_warm(px_sandbox *sb, px_err *err);
/* With a warm runner: validate module m under lim and take its compiled
 * object from the cache now (a miss compiles nothing), for the next run of
 * the same module and memory cap to use instead of doing it again. */
void px_sandbox_warm_object(px_sandbox *sb, const uint8_t *m, size_t n, const px_sandbox_limits *lim);
/* Kill and reap a warm runner no run took; sb->warm is NULL after. */
void px_sandbox_warm_free(px_sandbox *sb);

/* One file whose content shapes what a task compiles to or runs with. */
typedef struct px_sandbox_component {
    char name[256];                 /* "runner", "cc1", "lib libc.so.6" */
    char path[PX_SANDBOX_PATH_MAX]; /* absolute, canonical */
} px_sandbox_component;

#define PX_SANDBOX_COMPONENTS_MAX 256

/* List every such file, in a fixed order:
 *   runner, wasm2c, cc, cc1, as, collect2, ld, lto-plugin, then the files
 *   the C compiler links into the object (crti.o, crtbeginS.o, crtendS.o,
 *   crtn.o, libgcc.a, libgcc_s.so, libc.so, libc_nonshared.a), then
 *   "header <path>" for wasm-rt.h and every header the generated C
 *   includes (as the compiler resolves them, in its order), then "lib <soname>" for each
 *   shared library the runner and the tools load, sorted by name.
 * Programs the C compiler runs are found as it finds them (cc
 * -print-prog-name and -print-file-name under the fixed environment).
 * Fills out[0..*n). If cap is too small, returns -1 (PX_E_LIMIT) with *n
 * set to the number needed. Costs a few tool processes: call it once. */
int px_sandbox_components(const px_sandbox *sb, px_sandbox_component *out,
                          size_t cap, size_t *n, px_err *err);

/* A compiled task: the native object in a sealed memfd, never a file on
 * disk. */
typedef struct px_sandbox_object {
    int fd; /* -1: none */
} px_sandbox_object;

/* Validate and compile a module, or find it in the cache, where objects
 * are kept encrypted under a key derived from the module bytes (see
 * docs/sandbox.md); a cached entry that fails authentication is never
 * loaded but compiled again. On success obj holds the object (free it
 * with px_sandbox_object_free). On failure res->status says whether the
 * module (PX_SB_INVALID_MODULE) or the host (PX_SB_INTERNAL) is to blame. */
int px_sandbox_compile(const px_sandbox *sb, const uint8_t *m, size_t n,
                       const px_sandbox_limits *lim, px_sandbox_object *obj,
                       px_sandbox_result *res, px_err *err);

/* An object from the bytes of a shared object built for the runner (for
 * tools and tests; px_sandbox_compile makes the real ones). */
int px_sandbox_object_from_bytes(const uint8_t *so, size_t n,
                                 px_sandbox_object *obj, px_err *err);
void px_sandbox_object_free(px_sandbox_object *obj);

/* Compile (cached) and run a module on input; on success appends the
 * task's standard output to out and returns 0. Otherwise returns -1, out is
 * untouched, res names the outcome and err carries res->reason. stderr_out
 * (may be NULL) receives up to lim->max_stderr bytes of the task's stderr
 * whatever the outcome. */
int px_sandbox_run(const px_sandbox *sb, const uint8_t *m, size_t n,
                   const uint8_t *in, size_t inlen,
                   const px_sandbox_limits *lim, px_buf *out,
                   px_buf *stderr_out, px_sandbox_result *res, px_err *err);

/* Run an already compiled object (what px_sandbox_compile produced). */
int px_sandbox_run_object(const px_sandbox *sb, const px_sandbox_object *obj,
                          const uint8_t *in, size_t inlen,
                          const px_sandbox_limits *lim, px_buf *out,
                          px_buf *stderr_out, px_sandbox_result *res,
                          px_err *err);

/* ---- per-group runs (one instance per user or block) -------------------- */

/* How one run of a batch ended. status is one of ok, trap, exit, cpu-limit,
 * memory-limit, output-limit (the outcomes a task can cause in its own run).
 * Only an ok run's standard output is kept: it is out[off, off+len); for
 * every other run len is 0 (nothing partial, as for px_sandbox_run). */
typedef struct px_sandbox_run_out {
    px_sandbox_status status;
    px_trap_kind trap;   /* PX_SB_TRAP (and memory-limit after a trap) */
    int exit_code;       /* PX_SB_EXIT */
    uint32_t pages;      /* linear memory at the end of the run */
    uint64_t cpu_us;     /* CPU time of this run, from its timer */
    size_t off, len;     /* this run's standard output inside out */
} px_sandbox_run_out;

#define PX_SANDBOX_GROUPS_MAX (1u << 22)

/* Run a module once per group: run i reads in[off[i], off[i]+len[i]) on
 * standard input (EOF at its end; fd_filestat_get reports len[i]).
 *
 * One runner process; the module is compiled (cached) and loaded once; every
 * run gets FRESH instance state: linear memory zeroed and cut back to its
 * initial size, globals, tables, data and element segments initialised again.
 * Nothing a run wrote is visible to the next. A run that traps, exits
 * non-zero or hits a per-run limit ends only itself.
 *
 * lim applies to each run: cpu_ms, mem_mb, max_output (bytes of standard
 * output per run). total_cpu_ms bounds the CPU time of all runs together
 * (0: ngroups * cpu_ms). lim->wall_ms, if set, bounds the whole batch
 * (default: 2 * total + 1 s + 1 ms per group). The task's standard error
 * is discarded, and a granted random stream is keyed by (seed, group
 * index).
 *
 * Returns 0 when every run ended: runs[i] (ngroups entries) names each
 * outcome and out gets the ok runs' outputs in group order. Returns -1 when
 * the batch as a whole failed, with nothing appended to out: res->status is
 * invalid-module, forbidden-syscall, timeout (wall clock), cpu-limit
 * (total_cpu_ms used up before the last run ended) or internal, and err
 * carries res->reason. */
int px_sandbox_run_groups(const px_sandbox *sb, const uint8_t *m, size_t n,
                          const uint8_t *in, const size_t *off,
                          const size_t *len, size_t ngroups,
                          const px_sandbox_limits *lim, uint64_t total_cpu_ms,
                          px_buf *out, px_sandbox_run_out *runs,
                          px_sandbox_result *res, px_err *err);

/* One line naming a run's outcome, as px_sandbox_result.reason names a
 * single run's: "trap: unreachable", "cpu-limit: 300 ms of CPU time used
 * up", ... (lim: the limits the batch ran with). */
void px_sandbox_run_describe(const px_sandbox_run_out *r,
                             const px_sandbox_limits *lim,
                             char reason[PX_ERR_MSG_MAX]);

/* ---- task build (the SDK) ----------------------------------------------- */

/* Compile a task's C source to a wasm32-wasi module with clang-14 and
 * wasi-libc: stack first, fixed stack size, stripped, SDK header on the
 * include path (sdk_dir NULL: $PIXIU_SDK_DIR, else the source tree's sdk/). */
int px_wasm_build(const char *src, const char *out, const char *sdk_dir,
                  px_err *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
