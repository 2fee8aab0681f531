/* Running a compiled task once per group of its input in one runner
 * process, and naming how each run and the batch ended.
 *
 * The groups reach the runner through a pipe on fd 0 (the groups' bytes
 * one after the other, lent from the caller's buffer with vmsplice while
 * the runner runs: see px_sb_spawn) and a table of their lengths, a sealed
 * memfd, on fd 4. The runner
 * (runner/wasm_runner.c) reports one status line per run on fd 3, with
 * the number of bytes the run wrote; the output of all runs arrives on one
 * pipe, in order, and is split here by those counts. The parent enforces
 * the batch's wall clock; wait4 gives the signal and CPU time.
 * A single run (px_sandbox_run_object) is a batch of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>

#include "lambda/sandbox_int.h"

#define WALL_SLACK_MS 1000u
#define STATUS_LINE_MAX 96u /* bytes of one run's status line, with room */

void px_sb_outcome(px_sandbox_result *res, px_sandbox_status s,
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

static uint64_t sat_mul(uint64_t a, uint64_t b) {
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static int table_fd(const size_t *len, size_t n, px_err *err) {
    px_buf t = PX_BUF_INIT;
    int rc = px_buf_reserve(&t, n * 8, err);
    for (size_t i = 0; !rc && i < n; i++)
        rc = px_buf_append_u64le(&t, (uint64_t)len[i], err);
    int fd = rc ? -1 : px_sb_memfd("pixiu-groups", t.data, t.len, err);
    px_buf_free(&t);
    return fd;
}

/* One "run ..." status line into r; returns its output byte count, or -1
 * if the line is not one. */
static int64_t parse_run(const char *line, px_sandbox_run_out *r) {
    char end[16];
    unsigned long long code, bytes, cpu;
    int refused;
    unsigned pages;
    if (sscanf(line, "run %15s %llu %d %u %llu %llu", end, &code, &refused,
               &pages, &bytes, &cpu) != 6 || bytes > INT64_MAX)
        return -1;
    memset(r, 0, sizeof *r);
    r->pages = pages;
    r->cpu_us = cpu;
    if (!strcmp(end, "exit")) {
        r->exit_code = (int)code;
        r->status = code == 0 ? PX_SB_OK
                    : refused ? PX_SB_MEMORY_LIMIT : PX_SB_EXIT;
    } else if (!strcmp(end, "trap")) {
        r->trap = code <= PX_TRAP_STACK_EXHAUSTION ? (px_trap_kind)code
                                                   : PX_TRAP_NONE;
        r->status = refused ? PX_SB_MEMORY_LIMIT : PX_SB_TRAP;
    } else if (!strcmp(end, "cpu")) {
        r->status = PX_SB_CPU_LIMIT;
    } else if (!strcmp(end, "output")) {
        r->status = PX_SB_OUTPUT_LIMIT;
    } else {
        return -1;
    }
    return (int64_t)bytes;
}

void px_sb_run_reason(const px_sandbox_run_out *r,
                      const px_sandbox_limits *lim, px_sandbox_result *res) {
    uint32_t cap = (uint32_t)((uint64_t)lim->mem_mb * 1048576 /
                              PX_WASM_PAGE_BYTES);
    switch (r->status) {
    case PX_SB_OK:
        px_sb_outcome(res, r->status, "exit status 0");
        break;
    case PX_SB_EXIT:
        px_sb_outcome(res, r->status, "task exited with status %d",
                      r->exit_code);
        break;
    case PX_SB_TRAP:
        px_sb_outcome(res, r->status, "%s", px_trap_kind_name(r->trap));
        break;
    case PX_SB_MEMORY_LIMIT:
        if (r->trap)
            px_sb_outcome(res, r->status,
                          "memory.grow refused at %" PRIu32 " pages (limit %"
                          PRIu32 "), then trap: %s", r->pages, cap,
                          px_trap_kind_name(r->trap));
        else
            px_sb_outcome(res, r->status,
                          "memory.grow refused at %" PRIu32 " pages, then the "
                          "task exited with status %d", r->pages, r->exit_code);
        break;
    case PX_SB_CPU_LIMIT:
        px_sb_outcome(res, r->status, "%" PRIu32 " ms of CPU time used up",
                      lim->cpu_ms);
        break;
    case PX_SB_OUTPUT_LIMIT:
        px_sb_outcome(res, r->status, "more than %zu bytes on standard output",
                      lim->max_output);
        break;
    default:
        px_sb_outcome(res, PX_SB_INTERNAL, "unknown run outcome");
    }
    res->trap = r->trap;
    res->exit_code = r->exit_code;
    res->pages = r->pages;
}

void px_sandbox_run_describe(const px_sandbox_run_out *r,
                             const px_sandbox_limits *lim,
                             char reason[PX_ERR_MSG_MAX]) {
    px_sandbox_result res;
    memset(&res, 0, sizeof res);
    px_sb_run_reason(r, lim, &res);
    memcpy(reason, res.reason, PX_ERR_MSG_MAX);
}

/* What the runner said, line by line. Fills runs and byte counts; returns
 * the batch's end: 'd' done, 'c' cpu-total, 's' syscall (nr in *sys),
 * 'e' error (message in *msg), 0 nothing final. */
static int parse_status(const px_buf *st, size_t ngroups,
                        px_sandbox_run_out *runs, uint64_t *bytes,
                        size_t *nruns, unsigned long long *sys,
                        const char **msg, int *bad) {
    int final = 0;
    *nruns = 0;
    *bad = 0;
    const char *p = (const char *)st->data, *end = p + st->len;
    while (p < end && !final) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break; /* a line cut short: the runner died writing it */
        char line[STATUS_LINE_MAX * 4];
        size_t n = (size_t)(nl - p);
        if (n >= sizeof line)
            n = sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        if (!strncmp(line, "run ", 4)) {
            int64_t b = *nruns < ngroups ? parse_run(line, &runs[*nruns])
                                         : -1;
            if (b < 0) {
                *bad = 1;
                return 0;
            }
            bytes[(*nruns)++] = (uint64_t)b;
        } else if (!strcmp(line, "done")) {
            final = 'd';
        } else if (!strcmp(line, "cpu-total")) {
            final = 'c';
        } else if (sscanf(line, "syscall %llu", sys) == 1) {
            final = 's';
        } else if (!strncmp(line, "error ", 6)) {
            final = 'e';
            *msg = p + 6;
        } else {
            *bad = 1;
            return 0;
        }
        p = nl + 1;
    }
    return final;
}

/* Split the runs' output among them: ok runs' bytes go to out. */
static int split_output(const px_buf *o, size_t nruns,
                        const uint64_t *bytes, px_sandbox_run_out *runs,
                        px_buf *out, px_err *err) {
    uint64_t cur = 0;
    for (size_t i = 0; i < nruns; i++) {
        if (bytes[i] > o->len - cur)
            return px_fail(err, PX_E_INTERNAL, "the runner's output does "
                           "not add up to its counts");
        runs[i].off = out->len;
        runs[i].len = 0;
        if (runs[i].status == PX_SB_OK && bytes[i]) {
            if (px_buf_append(out, o->data + cur, bytes[i], err))
                return -1;
            runs[i].len = bytes[i];
        }
        cur += bytes[i];
    }
    if (cur != o->len)
        return px_fail(err, PX_E_INTERNAL, "the runner's output does not "
                       "add up to its counts");
    return 0;
}

/* The batch as a whole, from how the runner process ended. */
static void classify(const px_sb_proc *p, int final, unsigned long long sys,
                     const char *msg, int bad, size_t nruns, size_t ngroups,
                     uint64_t total_ms, size_t out_cap,
                     px_sandbox_result *res) {
    res->cpu_us = (uint64_t)p->ru.ru_utime.tv_sec * 1000000u +
                  (uint64_t)p->ru.ru_utime.tv_usec +
                  (uint64_t)p->ru.ru_stime.tv_sec * 1000000u +
                  (uint64_t)p->ru.ru_stime.tv_usec;
    res->wall_us = p->wall_us;
    int sig = WIFSIGNALED(p->wstatus) ? WTERMSIG(p->wstatus) : 0;
    int spent = res->cpu_us >= sat_mul(total_ms, 1000);
    if (p->out_overflow)
        px_sb_outcome(res, PX_SB_OUTPUT_LIMIT, "more than %zu bytes on "
                      "standard output", out_cap);
    else if (final == 'c' || sig == SIGXCPU || (p->timed_out && spent) ||
             (sig == SIGKILL && spent))
        px_sb_outcome(res, PX_SB_CPU_LIMIT, "%" PRIu64 " ms of CPU time used "
                      "up", total_ms);
    else if (p->timed_out)
        px_sb_outcome(res, PX_SB_TIMEOUT, "no result after %" PRIu64
                      " ms of wall-clock time", (uint64_t)p->timeout_ms);
    else if (final == 's') {
        const char *name = seccomp_syscall_resolve_num_arch(
            SCMP_ARCH_NATIVE, (int)sys);
        px_sb_outcome(res, PX_SB_FORBIDDEN_SYSCALL,
                      "%s (%llu) is outside the seccomp filter",
                      name ? name : "unknown", sys);
        free((void *)name);
    } else if (sig == SIGSYS)
        px_sb_outcome(res, PX_SB_FORBIDDEN_SYSCALL, "killed by the seccomp "
                      "filter (SIGSYS)");
    else if (final == 'e') {
        char line[160];
        const char *nl = strchr(msg, '\n');
        px_buf b = {(uint8_t *)msg, nl ? (size_t)(nl - msg) : strlen(msg), 0};
        px_sb_first_line(&b, line, sizeof line);
        px_sb_outcome(res, PX_SB_INTERNAL, "sandbox runner failed: %s", line);
    } else if (bad)
        px_sb_outcome(res, PX_SB_INTERNAL, "sandbox runner sent a bad status "
                      "line");
    else if (final == 'd' && nruns == ngroups && !sig &&
             WIFEXITED(p->wstatus) && WEXITSTATUS(p->wstatus) == 0)
        px_sb_outcome(res, PX_SB_OK, "%zu runs ended", nruns);
    else if (sig)
        px_sb_outcome(res, PX_SB_INTERNAL, "sandbox runner killed by signal "
                      "%d (%s)", sig, strsignal(sig));
    else
        px_sb_outcome(res, PX_SB_INTERNAL, "sandbox runner ended without a "
                      "status (wait status %d)", p->wstatus);
}

int px_sb_run_batch(const px_sandbox *sb, const px_sandbox_object *obj,
                    const uint8_t *in, const size_t *off, const size_t *len,
                    size_t ngroups, const px_sandbox_limits *lim,
                    uint64_t total_cpu_ms, px_buf *stderr_out, px_buf *out,
                    px_sandbox_run_out *runs, px_sandbox_result *res,
                    px_err *err) {
    memset(res, 0, sizeof *res);
    uint64_t total = total_cpu_ms ? total_cpu_ms
                                  : sat_mul(lim->cpu_ms, ngroups);
    if (total > UINT64_MAX / 4000)
        total = UINT64_MAX / 4000;
    uint32_t pages = (uint32_t)((uint64_t)lim->mem_mb * 1048576 /
                                PX_WASM_PAGE_BYTES);
    uint64_t wall = lim->wall_ms ? lim->wall_ms
                                 : 2 * total + WALL_SLACK_MS + ngroups;
    uint64_t out_cap = sat_mul(lim->max_output, ngroups);
    char a_cpu[24], a_pages[24], a_err[24], a_seed[65], a_n[24], a_total[24],
        a_out[24];
    snprintf(a_cpu, sizeof a_cpu, "%" PRIu32, lim->cpu_ms);
    snprintf(a_pages, sizeof a_pages, "%" PRIu32, pages);
    snprintf(a_err, sizeof a_err, "%zu", stderr_out ? lim->max_stderr : 0);
    snprintf(a_n, sizeof a_n, "%zu", ngroups);
    snprintf(a_total, sizeof a_total, "%" PRIu64, total);
    snprintf(a_out, sizeof a_out, "%zu", lim->max_output);
    if (lim->grant_random)
        px_hex_encode(a_seed, lim->random_seed, sizeof lim->random_seed);
    else
        strcpy(a_seed, "-");
    /* The object is fd 5 of the runner, which loads it by this name. */
    const char *argv[] = {sb->runner, "/proc/self/fd/5", a_cpu, a_pages, a_err,
                          lim->grant_clock ? "1" : "0", a_seed, a_n, a_total,
                          a_out, NULL};
    if (obj->fd < 3) {
        px_sb_outcome(res, PX_SB_INTERNAL, "no compiled object");
        return px_fail(err, PX_E_INTERNAL, "%s", res->reason);
    }
    int tab_fd = table_fd(len, ngroups, err);
    if (tab_fd < 0) {
        px_sb_outcome(res, PX_SB_INTERNAL, "%s", err ? err->msg : "input");
        return -1;
    }
    px_buf o = PX_BUF_INIT, st = PX_BUF_INIT;
    px_sb_proc p = {.argv = argv, .stdin_fd = -1, .want_status = 1,
                    .in_base = in, .in_off = off, .in_len = len,
                    .in_n = ngroups,
                    .extra_fd = {tab_fd, obj->fd},
                    .warm = sb->warm,
                    .timeout_ms = wall > INT32_MAX ? INT32_MAX : (uint32_t)wall,
                    .max_stdout = out_cap > SIZE_MAX ? SIZE_MAX : out_cap,
                    .stdout_limit_kills = 1,
                    .max_stderr = stderr_out ? lim->max_stderr : 0,
                    .out = &o, .errout = stderr_out, .status = &st,
                    .max_status = sat_mul(ngroups, STATUS_LINE_MAX) + 1024};
    int rc = px_sb_spawn(&p, err);
    close(tab_fd);
    if (rc) {
        px_sb_outcome(res, PX_SB_INTERNAL, "%s", err ? err->msg : "spawn");
    } else {
        uint64_t *bytes = calloc(ngroups ? ngroups : 1, sizeof *bytes);
        size_t nruns = 0;
        unsigned long long sys = 0;
        const char *msg = "";
        int bad = 0, final = 0;
        if (!bytes) {
            px_sb_outcome(res, PX_SB_INTERNAL, "out of memory");
        } else {
            final = parse_status(&st, ngroups, runs, bytes, &nruns,
                                 &sys, &msg, &bad);
            classify(&p, final, sys, msg, bad, nruns, ngroups, total,
                     (size_t)(out_cap > SIZE_MAX ? SIZE_MAX : out_cap), res);
        }
        size_t before = out->len;
        if (res->status == PX_SB_OK &&
            split_output(&o, nruns, bytes, runs, out, err)) {
            out->len = before; /* nothing partial */
            px_sb_outcome(res, PX_SB_INTERNAL, "%s", err ? err->msg : "output");
        }
        free(bytes);
        rc = res->status == PX_SB_OK ? 0 : -1;
    }
    if (rc && err)
        px_fail(err, px_sb_status_code(res->status), "%s", res->reason);
    px_buf_free(&o);
    px_buf_free(&st);
    return rc;
}

int px_sandbox_run_groups(const px_sandbox *sb, const uint8_t *m, size_t n,
                          const uint8_t *in, const size_t *off,
                          const size_t *len, size_t ngroups,
                          const px_sandbox_limits *lim, uint64_t total_cpu_ms,
                          px_buf *out, px_sandbox_run_out *runs,
                          px_sandbox_result *res, px_err *err) {
    memset(res, 0, sizeof *res);
    if (px_sb_check_limits(lim, err) ||
        (ngroups > PX_SANDBOX_GROUPS_MAX &&
         px_fail(err, PX_E_LIMIT, "%zu groups, at most %u", ngroups,
                 PX_SANDBOX_GROUPS_MAX))) {
        px_sb_outcome(res, PX_SB_INTERNAL, "%s", err ? err->msg : "bad call");
        return -1;
    }
    for (size_t i = 0; i < ngroups; i++)
        if (off[i] > SIZE_MAX - len[i]) {
            px_sb_outcome(res, PX_SB_INTERNAL, "group %zu lies outside the "
                          "address space", i);
            return px_fail(err, PX_E_INVALID, "%s", res->reason);
        }
    px_sandbox_object obj;
    if (px_sandbox_compile(sb, m, n, lim, &obj, res, err))
        return -1;
    int cached = res->cached, rc = 0;
    if (ngroups == 0)
        px_sb_outcome(res, PX_SB_OK, "0 runs ended");
    else
        rc = px_sb_run_batch(sb, &obj, in, off, len, ngroups, lim,
                             total_cpu_ms, NULL, out, runs, res, err);
    px_sandbox_object_free(&obj);
    res->cached = cached;
    return rc;
}
