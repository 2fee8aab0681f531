/* Internal to the sandbox: running a child process with limits and a
 * timeout, shared by the compiler driver, the task builder and the run. */
#ifndef PIXIU_LAMBDA_SANDBOX_INT_H
#define PIXIU_LAMBDA_SANDBOX_INT_H

#include <sys/resource.h>

#include "pixiu/sandbox.h"

#define PX_SB_STATUS_MAX 512 /* bytes of the runner's status line */

typedef struct px_sb_proc {
    /* in */
    const char *const *argv; /* argv[0] is looked up in PATH */
    char *const *envp;       /* NULL: inherit; else argv[0] must be a path */
    const char *cwd;         /* NULL: inherit */
    int stdin_fd;            /* -1: /dev/null */
    int want_status;         /* give the child a status pipe as fd 3 */
    uint32_t timeout_ms;
    uint64_t cpu_s, as_bytes, fsize_bytes; /* 0: leave the limit alone */
    size_t max_stdout;       /* beyond it: kill if stdout_limit_kills, else drop */
    int stdout_limit_kills;
    size_t max_stderr;       /* beyond it: drop */
    px_buf *out, *errout;    /* may be NULL: discard */
    /* out */
    int wstatus;
    int timed_out, out_overflow;
    struct rusage ru;
    uint64_t wall_us;
    char status[PX_SB_STATUS_MAX + 1];
} px_sb_proc;

/* Fork, exec, feed nothing, capture, wait. Returns -1 only if the host
 * could not run the child at all; the child's fate is in p's out fields. */
int px_sb_spawn(px_sb_proc *p, px_err *err);

/* A sealed memfd holding data, positioned at 0; -1 on failure. */
int px_sb_memfd(const char *name, const uint8_t *data, size_t n, px_err *err);

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

/* First line of a tool's stderr, made printable, for error messages. */
void px_sb_first_line(const px_buf *b, char *out, size_t outlen);

#endif
