/* Limits, outcome names, and a single run of a compiled task (a batch of
 * one group, see sandbox_groups.c) in a fresh runner process.
 *
 * The input reaches the runner through a pipe on fd 0 that px_sb_spawn
 * feeds while it collects the output (one poll loop, so no deadlock with a
 * task that writes before it reads). Each call is a new process, so
 * nothing a task does survives into the next call.
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

px_code px_sb_status_code(px_sandbox_status s) {
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

/* MFD_EXEC (Linux 6.3) asks for an executable memfd where the system
 * defaults to non-executable ones; older kernels do not know the flag. */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

int px_sandbox_object_from_bytes(const uint8_t *so, size_t n,
                                 px_sandbox_object *obj, px_err *err) {
    obj->fd = -1;
    int fd = memfd_create("pixiu-object", MFD_CLOEXEC | MFD_ALLOW_SEALING |
                                              MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = memfd_create("pixiu-object", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return px_fail(err, PX_E_IO, "memfd_create failed: %s",
                       strerror(errno));
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, so + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return px_fail(err, PX_E_IO, "buffering the object failed");
        }
        off += (size_t)w;
    }
    /* Sealed: neither the runner nor anyone else can change it now. */
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
                                   F_SEAL_SEAL)) {
        close(fd);
        return px_fail(err, PX_E_IO, "sealing the object failed: %s",
                       strerror(errno));
    }
    obj->fd = fd;
    return 0;
}

void px_sandbox_object_free(px_sandbox_object *obj) {
    if (obj->fd >= 0)
        close(obj->fd);
    obj->fd = -1;
}

int px_sb_check_limits(const px_sandbox_limits *lim, px_err *err) {
    if (lim->cpu_ms == 0 || lim->mem_mb == 0 ||
        lim->mem_mb > PX_SANDBOX_MEM_MB_MAX)
        return px_fail(err, PX_E_INVALID,
                       "sandbox limits: cpu must be > 0 ms and memory in "
                       "1..%u MiB", PX_SANDBOX_MEM_MB_MAX);
    return 0;
}

/* A single run is a batch of one group: the whole input. */
int px_sandbox_run_object(const px_sandbox *sb, const px_sandbox_object *obj,
                          const uint8_t *in, size_t inlen,
                          const px_sandbox_limits *lim, px_buf *out,
                          px_buf *stderr_out, px_sandbox_result *res,
                          px_err *err) {
    memset(res, 0, sizeof *res);
    if (px_sb_check_limits(lim, err)) {
        px_sb_outcome(res, PX_SB_INTERNAL, "%s", err ? err->msg : "bad limits");
        return -1;
    }
    size_t off = 0, len = inlen;
    px_sandbox_run_out r;
    px_buf o = PX_BUF_INIT;
    if (px_sb_run_batch(sb, obj, in, &off, &len, 1, lim, lim->cpu_ms,
                        stderr_out, &o, &r, res, err)) {
        px_buf_free(&o);
        return -1;
    }
    px_sb_run_reason(&r, lim, res);
    int rc;
    if (r.status == PX_SB_OK)
        rc = px_buf_append(out, o.data, o.len, err);
    else
        rc = px_fail(err, px_sb_status_code(res->status), "%s", res->reason);
    px_buf_free(&o);
    return rc;
}

int px_sandbox_run(const px_sandbox *sb, const uint8_t *m, size_t n,
                   const uint8_t *in, size_t inlen,
                   const px_sandbox_limits *lim, px_buf *out,
                   px_buf *stderr_out, px_sandbox_result *res, px_err *err) {
    px_sandbox_object obj;
    if (px_sb_check_limits(lim, err)) {
        memset(res, 0, sizeof *res);
        px_sb_outcome(res, PX_SB_INTERNAL, "%s", err ? err->msg : "bad limits");
        return -1;
    }
    if (px_sandbox_compile(sb, m, n, lim, &obj, res, err))
        return -1;
    int cached = res->cached;
    int rc = px_sandbox_run_object(sb, &obj, in, inlen, lim, out, stderr_out,
                                   res, err);
    px_sandbox_object_free(&obj);
    res->cached = cached;
    return rc;
}
