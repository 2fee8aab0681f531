/* Internal to the sandbox: running a child process with limits and a
 * timeout, shared by the compiler driver, the task builder and the run. */
#ifndef PIXIU_LAMBDA_SANDBOX_INT_H
#define PIXIU_LAMBDA_SANDBOX_INT_H

#include <sys/resource.h>
#include <sys/types.h>

#include "pixiu/sandbox.h"

/* What a compile step runs under besides its rlimits (sandbox_isolate.c):
 * a seccomp deny-list and a Landlock ruleset, prepared before fork. */
#define PX_SB_ISO_PATHS_MAX 12
#define PX_SB_ISO_LANDLOCK 1u
#define PX_SB_ISO_SECCOMP 2u
typedef struct px_sb_isolation {
    const void *prog; /* struct sock_filter[prog_len] */
    unsigned short prog_len;
    int ll_abi; /* the kernel's Landlock ABI, 0: none */
    char paths[PX_SB_ISO_PATHS_MAX][PX_SANDBOX_PATH_MAX];
    uint64_t access[PX_SB_ISO_PATHS_MAX];
    size_t npaths;
} px_sb_isolation;

/* The rules for a compile in work_dir with sb's tools. */
int px_sb_isolation_prepare(px_sb_isolation *iso, const px_sandbox *sb, const char *work_dir, px_err *err);
/* One more tree the tools may use (Landlock access bits). */
void px_sb_isolation_allow(px_sb_isolation *iso, const char *path, uint64_t access);
/* In the child (system calls only): no new privileges, Landlock if the
 * kernel has it, then the seccomp filter. PX_SB_ISO_* of what holds. */
unsigned px_sb_isolation_enter(const px_sb_isolation *iso);

typedef struct px_sb_proc {
    /* in */
    const px_sb_isolation *iso; /* NULL: none; else the child exits 126 if
                                   it cannot enter it (fail closed) */
    const char *const *argv; /* argv[0] is looked up in PATH */
    char *const *envp;       /* NULL: inherit; else argv[0] must be a path */
    const char *cwd;         /* NULL: inherit */
    int stdin_fd;            /* -1: /dev/null, or the feed below */
    /* The feed: with in_n > 0 (and stdin_fd -1) the child's stdin is a
     * pipe that px_sb_spawn fills, while the child runs, with the windows
     * in_base[in_off[i], in_off[i] + in_len[i]) one after the other, then
     * closes. The bytes are lent to the pipe (vmsplice), not copied: they
     * must stay unchanged until px_sb_spawn returns. */
    const uint8_t *in_base;
    const size_t *in_off, *in_len;
    size_t in_n;
    int want_status;         /* give the child a status pipe as fd 3 */
    int extra_fd[2];         /* > 2: given to the child as fd 4 and 5
                                (with want_status); 0 (the default): none */
    struct px_sb_warm *warm; /* a runner started ahead for argv (a run
                                with a feed, status and both extra fds):
                                handed the run instead of a fork */
    uint32_t timeout_ms;
    uint64_t cpu_s, as_bytes, fsize_bytes; /* 0: leave the limit alone */
    size_t max_stdout;       /* beyond it: kill if stdout_limit_kills, else drop */
    int stdout_limit_kills;
    size_t max_stderr;       /* beyond it: drop */
    px_buf *out, *errout;    /* may be NULL: discard */
    px_buf *status;          /* what arrives on fd 3, up to max_status */
    size_t max_status;
    /* out */
    int wstatus;
    int timed_out, out_overflow;
    struct rusage ru;
    uint64_t wall_us;
} px_sb_proc;

/* Fork, exec, feed the input (if any), capture, wait. Returns -1 only if
 * the host could not run the child at all; the child's fate is in p's out
 * fields. */
int px_sb_spawn(px_sb_proc *p, px_err *err);

/* A runner started ahead (sandbox_warm.c). */
struct px_sb_warm {
    pid_t pid; /* -1: taken, or gone */
    int ctl;   /* our end of the runner's fd 3 */
    char runner[PX_SANDBOX_PATH_MAX];
    int obj_fd; /* a cached object made ready for the run (-1: none) */
    uint8_t obj_key[32]; /* its module and memory cap (sandbox_compile.c) */
};

/* sandbox_warm.c: hand a run (argv[0] the runner, argv[1..9] its
 * arguments, fds what it gets as 0..5) to a warm runner. Its pid, now the
 * run's child; -1 if there is none or it cannot take the run (then it is
 * gone, and the caller forks a runner). */
pid_t px_sb_warm_hand(struct px_sb_warm *w, const char *const *argv, const int fds[6]);

/* A sealed memfd holding data, positioned at 0; -1 on failure. */
int px_sb_memfd(const char *name, const uint8_t *data, size_t n, px_err *err);

/* A compile step's limits for a module of module_len bytes (CPU s,
 * address space, wall ms within timeout_ms; sandbox_compile.c). */
typedef struct px_sb_compile_lim {
    uint64_t cpu_s, as_bytes;
    uint32_t wall_ms;
} px_sb_compile_lim;
void px_sb_compile_limits(size_t module_len, uint32_t timeout_ms, px_sb_compile_lim *l);

/* The fixed environment compilers run in (see sandbox_tools.c). */
typedef struct px_sb_env {
    char path[PX_SANDBOX_PATH_MAX + 32];
    char tmpdir[PX_SANDBOX_PATH_MAX + 16];
    char *envp[4];
} px_sb_env;
void px_sb_tool_env(const px_sandbox *sb, const char *tmpdir, px_sb_env *env);

int px_sb_path_join(char *out, const char *a, const char *b, px_err *err);

/* Appends what identifies compiled objects besides the tools' versions:
 * the glue ABI and text, the compiler flags (sandbox_compile.c). */
int px_sb_toolchain_id(px_buf *id, px_err *err);

/* ---- the object cache (sandbox_cache.c) ---- */

typedef struct px_sb_cache_id {
    uint8_t key[32]; /* secret: wipe after use */
    char name[65];
} px_sb_cache_id;
void px_sb_cache_key(const uint8_t *m, size_t n, const char *toolchain,
                     px_sb_cache_id *id);
/* The decrypted object into object; -1 if missing or refused. */
int px_sb_cache_get(const px_sandbox *sb, const px_sb_cache_id *id,
                    px_buf *object, px_err *err);
int px_sb_cache_put(const px_sandbox *sb, const px_sb_cache_id *id,
                    const px_buf *object, px_err *err);
/* One compile per module at a time on this cache, across processes: the
 * instances of many tasks with the same code wait for the first compile
 * and then find its object, instead of all compiling at once. Returns a
 * descriptor holding the lock (-1: none could be had; compile anyway). */
int px_sb_cache_lock(const px_sandbox *sb, const px_sb_cache_id *id);
void px_sb_cache_unlock(int fd);
/* Remove plaintext objects and compile directories of earlier versions. */
void px_sb_cache_sweep(const px_sandbox *sb);
/* Remove compile directories of processes that no longer exist. */
void px_sb_work_sweep(const px_sandbox *sb);
/* Remove a directory and the files in it (one level). */
void px_sb_remove_tree(const char *dir);

/* ---- runs (sandbox_run.c, sandbox_groups.c) ---- */

px_code px_sb_status_code(px_sandbox_status s);
int px_sb_check_limits(const px_sandbox_limits *lim, px_err *err);
/* res->status = s, res->reason = "<status name>: <detail>". */
void px_sb_outcome(px_sandbox_result *res, px_sandbox_status s,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* res's status, reason, trap, exit code and pages from one run's outcome. */
void px_sb_run_reason(const px_sandbox_run_out *r,
                      const px_sandbox_limits *lim, px_sandbox_result *res);

/* Run a compiled object once per group in one runner process (see
 * px_sandbox_run_groups for the contract). stderr_out NULL: the task's
 * stderr is discarded. The default wall clock is 2 * total + 1 s + 1 ms
 * per group. */
int px_sb_run_batch(const px_sandbox *sb, const px_sandbox_object *obj,
                    const uint8_t *in, const size_t *off, const size_t *len,
                    size_t ngroups, const px_sandbox_limits *lim,
                    uint64_t total_cpu_ms, px_buf *stderr_out, px_buf *out,
                    px_sandbox_run_out *runs, px_sandbox_result *res,
                    px_err *err);

/* First line of a tool's stderr, made printable, for error messages. */
void px_sb_first_line(const px_buf *b, char *out, size_t outlen);

#endif
