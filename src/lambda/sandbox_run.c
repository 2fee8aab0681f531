/* Running a compiled task in a fresh runner process and naming the outcome.
 *
 * The input reaches the runner as a sealed memfd on fd 0 (no pipe to keep
 * fed, so no deadlock with a task that writes before it reads). The parent
 * enforces the wall clock and the output limit; the runner reports how the
 * task ended on fd 3; wait4 gives the signal and CPU time. Each run is a
 * new process, so nothing a task does survives into the next.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include "lambda/sandbox_int.h"

/* Default wall clock: twice the CPU limit plus a second, so a loaded host
 * (the task shares cores) still ends CPU-bound tasks with cpu-limit. */
#define WALL_SLACK_MS 1000u

void px_sandbox_limits_default(px_sandbox_limits *l) {
    memset(l, 0, sizeof *l);
    l->cpu_ms = PX_SANDBOX_CPU_MS_DEFAULT;
    l->mem_mb = PX_SANDBOX_MEM_MB_DEFAULT;
    l->max_output = PX_SANDBOX_OUTPUT_DEFAULT;
    l->max_stderr = PX_SANDBOX_STDERR_DEFAULT;
}

const char *px_sandbox_status_name(px_sandbox_status s) {
    static const char *const names[] = {
        "ok", "invalid-module", "trap", "exit", "cpu-limit", "memory-limit",
        "forbidden-syscall", "timeout", "output-limit", "internal"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "internal";
}

const char *px_trap_kind_name(px_trap_kind k) {
    static const char *const names[] = {
        "none", "out of bounds", "integer overflow", "integer divide by zero",
        "invalid conversion", "unreachable", "invalid indirect call",
        "uncaught exception", "stack exhaustion"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

static px_code status_code(px_sandbox_status s) {
    switch (s) {
    case PX_SB_INVALID_MODULE: return PX_E_INVALID;
    case PX_SB_CPU_LIMIT:
    case PX_SB_MEMORY_LIMIT:
    case PX_SB_TIMEOUT:
    case PX_SB_OUTPUT_LIMIT: return PX_E_LIMIT;
    case PX_SB_FORBIDDEN_SYSCALL: return PX_E_DENIED;
    case PX_SB_TRAP:
    case PX_SB_EXIT: return PX_E_INVALID;
    default: return PX_E_INTERNAL;
    }
}

static void outcome(px_sandbox_result *res, px_sandbox_status s,
                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void outcome(px_sandbox_result *res, px_sandbox_status s,
                    const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    res->status = s;
    /* "<status name>: <detail>", so the reason alone names the outcome. */
    int k = snprintf(res->reason, sizeof res->reason, "%s: ",
                     px_sandbox_status_name(s));
    vsnprintf(res->reason + k, sizeof res->reason - (size_t)k, fmt, ap);
    va_end(ap);
}

int px_sb_memfd(const char *name, const uint8_t *in, size_t n, px_err *err) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return px_fail(err, PX_E_IO, "memfd_create failed: %s", strerror(errno));
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, in + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return px_fail(err, PX_E_IO, "buffering %s failed", name);
        }
        off += (size_t)w;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
                                   F_SEAL_SEAL) ||
        lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return px_fail(err, PX_E_IO, "sealing %s failed", name);
    }
    return fd;
}

/* The runner's status line (see runner/wasm_runner.c). */
static void classify_status(const px_sb_proc *p, uint32_t cap_pages,
                            px_sandbox_result *res) {
    char kind[16] = "";
    unsigned long long code = 0;
    int refused = 0;
    unsigned pages = 0;
    int n = sscanf(p->status, "%15s %llu %d %u", kind, &code, &refused, &pages);
    res->pages = pages;
    if (n >= 2 && !strcmp(kind, "syscall")) {
        const char *name = seccomp_syscall_resolve_num_arch(
            SCMP_ARCH_NATIVE, (int)code);
        outcome(res, PX_SB_FORBIDDEN_SYSCALL,
                "%s (%llu) is outside the seccomp filter",
                name ? name : "unknown", code);
        free((void *)name);
    } else if (n == 4 && !strcmp(kind, "exit")) {
        res->exit_code = (int)code;
        if (code == 0)
            outcome(res, PX_SB_OK, "exit status 0");
        else if (refused)
            outcome(res, PX_SB_MEMORY_LIMIT,
                    "memory.grow refused at %u pages, then the task "
                    "exited with status %llu", pages, code);
        else
            outcome(res, PX_SB_EXIT, "task exited with status %llu", code);
    } else if (n == 4 && !strcmp(kind, "trap")) {
        res->trap = code <= PX_TRAP_STACK_EXHAUSTION ? (px_trap_kind)code
                                                     : PX_TRAP_NONE;
        if (refused)
            outcome(res, PX_SB_MEMORY_LIMIT,
                    "memory.grow refused at %u pages (limit %" PRIu32
                    "), then trap: %s", pages, cap_pages,
                    px_trap_kind_name(res->trap));
        else
            outcome(res, PX_SB_TRAP, "%s", px_trap_kind_name(res->trap));
    } else if (!strncmp(p->status, "error ", 6)) {
        char line[160];
        px_buf b = {(uint8_t *)p->status + 6, strlen(p->status) - 6, 0};
        px_sb_first_line(&b, line, sizeof line);
        outcome(res, PX_SB_INTERNAL, "sandbox runner failed: %s", line);
    } else {
        outcome(res, PX_SB_INTERNAL,
                "sandbox runner ended without a status (wait status %d)",
                p->wstatus);
    }
}

static void classify(const px_sb_proc *p, const px_sandbox_limits *lim,
                     uint32_t cap_pages, px_sandbox_result *res) {
    res->cpu_us = (uint64_t)p->ru.ru_utime.tv_sec * 1000000u +
                  (uint64_t)p->ru.ru_utime.tv_usec +
                  (uint64_t)p->ru.ru_stime.tv_sec * 1000000u +
                  (uint64_t)p->ru.ru_stime.tv_usec;
    res->wall_us = p->wall_us;
    int sig = WIFSIGNALED(p->wstatus) ? WTERMSIG(p->wstatus) : 0;
    if (p->out_overflow)
        outcome(res, PX_SB_OUTPUT_LIMIT, "more than %zu bytes "
                "on standard output", lim->max_output);
    else if (sig == SIGPROF || sig == SIGXCPU ||
             (p->timed_out && res->cpu_us >= (uint64_t)lim->cpu_ms * 1000))
        outcome(res, PX_SB_CPU_LIMIT, "%" PRIu32 " ms of CPU time used up",
                lim->cpu_ms);
    else if (p->timed_out)
        outcome(res, PX_SB_TIMEOUT, "no result after %" PRIu32
                " ms of wall-clock time", lim->wall_ms);
    else if (sig == SIGSYS)
        outcome(res, PX_SB_FORBIDDEN_SYSCALL, "killed by the seccomp filter "
                "(SIGSYS)");
    else if (p->status[0])
        classify_status(p, cap_pages, res);
    else if (sig == SIGKILL && res->cpu_us >= (uint64_t)lim->cpu_ms * 1000)
        outcome(res, PX_SB_CPU_LIMIT, "%" PRIu32 " ms of CPU time used up "
                "(hard limit)", lim->cpu_ms);
    else if (sig)
        outcome(res, PX_SB_INTERNAL, "sandbox runner killed by signal %d (%s)",
                sig, strsignal(sig));
    else
        classify_status(p, cap_pages, res);
}

static uint32_t default_wall_ms(const px_sandbox_limits *lim) {
    uint64_t ms = 2 * (uint64_t)lim->cpu_ms + WALL_SLACK_MS;
    return ms > INT32_MAX ? INT32_MAX : (uint32_t)ms;
}

static int check_limits(const px_sandbox_limits *lim, px_err *err) {
    if (lim->cpu_ms == 0 || lim->mem_mb == 0 ||
        lim->mem_mb > PX_SANDBOX_MEM_MB_MAX)
        return px_fail(err, PX_E_INVALID,
                       "sandbox limits: cpu must be > 0 ms and memory in "
                       "1..%u MiB", PX_SANDBOX_MEM_MB_MAX);
    return 0;
}

int px_sandbox_run_object(const px_sandbox *sb, const char *so_path,
                          const uint8_t *in, size_t inlen,
                          const px_sandbox_limits *lim, px_buf *out,
                          px_buf *stderr_out, px_sandbox_result *res,
                          px_err *err) {
    memset(res, 0, sizeof *res);
    if (check_limits(lim, err)) {
        outcome(res, PX_SB_INTERNAL, "%s", err ? err->msg : "bad limits");
        return -1;
    }
    uint32_t pages = (uint32_t)((uint64_t)lim->mem_mb * 1048576 /
                                PX_WASM_PAGE_BYTES);
    char a_cpu[24], a_pages[24], a_err[24], a_seed[65];
    snprintf(a_cpu, sizeof a_cpu, "%" PRIu32, lim->cpu_ms);
    snprintf(a_pages, sizeof a_pages, "%" PRIu32, pages);
    snprintf(a_err, sizeof a_err, "%zu", lim->max_stderr);
    if (lim->grant_random)
        px_hex_encode(a_seed, lim->random_seed, sizeof lim->random_seed);
    else
        strcpy(a_seed, "-");
    const char *argv[] = {sb->runner, so_path, a_cpu, a_pages, a_err,
                          lim->grant_clock ? "1" : "0", a_seed, NULL};
    int fd = px_sb_memfd("pixiu-input", in, inlen, err);
    if (fd < 0) {
        outcome(res, PX_SB_INTERNAL, "%s", err ? err->msg : "input");
        return -1;
    }
    px_buf o = PX_BUF_INIT;
    px_sb_proc p = {.argv = argv, .stdin_fd = fd, .want_status = 1,
                    .timeout_ms = lim->wall_ms ? lim->wall_ms : default_wall_ms(lim),
                    .max_stdout = lim->max_output, .stdout_limit_kills = 1,
                    .max_stderr = lim->max_stderr, .out = &o,
                    .errout = stderr_out};
    px_sandbox_limits eff = *lim;
    eff.wall_ms = p.timeout_ms;
    int rc = px_sb_spawn(&p, err);
    close(fd);
    if (rc) {
        px_buf_free(&o);
        outcome(res, PX_SB_INTERNAL, "%s", err ? err->msg : "spawn failed");
        return -1;
    }
    classify(&p, &eff, pages, res);
    if (res->status == PX_SB_OK)
        rc = px_buf_append(out, o.data, o.len, err);
    else
        rc = px_fail(err, status_code(res->status), "%s", res->reason);
    px_buf_free(&o);
    return rc;
}

int px_sandbox_run(const px_sandbox *sb, const uint8_t *m, size_t n,
                   const uint8_t *in, size_t inlen,
                   const px_sandbox_limits *lim, px_buf *out,
                   px_buf *stderr_out, px_sandbox_result *res, px_err *err) {
    char so[PX_SANDBOX_PATH_MAX];
    if (check_limits(lim, err)) {
        memset(res, 0, sizeof *res);
        outcome(res, PX_SB_INTERNAL, "%s", err ? err->msg : "bad limits");
        return -1;
    }
    if (px_sandbox_compile(sb, m, n, lim, so, res, err))
        return -1;
    int cached = res->cached;
    int rc = px_sandbox_run_object(sb, so, in, inlen, lim, out, stderr_out,
                                   res, err);
    res->cached = cached;
    return rc;
}
