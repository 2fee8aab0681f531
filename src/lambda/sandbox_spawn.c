/* Running a child process with resource limits, a wall-clock timeout and
 * bounded capture of its output. Used for the compilers and the runner. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lambda/sandbox_int.h"

#define CHUNK 65536
#define NPIPES 3 /* stdout, stderr, status */

static void set_limit(int res, uint64_t v) {
    struct rlimit rl = {(rlim_t)v, (rlim_t)v};
    if (v)
        setrlimit(res, &rl);
}

/* In the child: wire the descriptors, apply limits, exec. Only
 * async-signal-safe calls: the parent may have threads. Every source is
 * first moved above the targets, so no dup2 overwrites a source that
 * happens to sit at a target's number. */
static void child(const px_sb_proc *p, int fds[NPIPES][2]) {
    int src[6] = {p->stdin_fd >= 0 ? p->stdin_fd : open("/dev/null", O_RDONLY),
                  fds[0][1], fds[1][1], p->want_status ? fds[2][1] : -1,
                  p->extra_fd[0], p->extra_fd[1]};
    int n = 3;
    if (p->want_status)
        n = p->extra_fd[1] > 2 ? 6 : p->extra_fd[0] > 2 ? 5 : 4;
    for (int i = 0; i < n; i++)
        if (src[i] < 0 || (src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 16)) < 0)
            _exit(127);
    for (int i = 0; i < n; i++)
        if (dup2(src[i], i) < 0)
            _exit(127);
    setpgid(0, 0); /* so a timeout kills the compiler's own children too */
    close_range((unsigned)n, ~0u, 0);
    if (p->cwd && chdir(p->cwd))
        _exit(127);
    set_limit(RLIMIT_CPU, p->cpu_s);
    set_limit(RLIMIT_AS, p->as_bytes);
    set_limit(RLIMIT_FSIZE, p->fsize_bytes);
    set_limit(RLIMIT_CORE, 0);
    signal(SIGPIPE, SIG_DFL);
    if (p->iso) {
        unsigned bits = px_sb_isolation_enter(p->iso);
        if (!(bits & PX_SB_ISO_SECCOMP) || (p->iso->ll_abi > 0 && !(bits & PX_SB_ISO_LANDLOCK))) {
            static const char msg[] = "could not enter the compile isolation\n";
            (void)!write(2, msg, sizeof msg - 1);
            _exit(126);
        }
    }
    if (p->envp)
        execve(p->argv[0], (char *const *)p->argv, p->envp);
    else
        execvp(p->argv[0], (char *const *)p->argv);
    static const char msg[] = "exec failed\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
}

/* Append up to max bytes of what arrived to b (NULL: discard); returns 1
 * when more than max arrived. */
static int take(px_buf *b, size_t *total, size_t max, const uint8_t *p,
                size_t n) {
    size_t room = *total < max ? max - *total : 0;
    size_t keep = n < room ? n : room;
    *total += n;
    if (b && keep && px_buf_append(b, p, keep, NULL))
        return 1;
    return n > keep;
}

static void close_pipes(int fds[NPIPES][2]) {
    for (int i = 0; i < NPIPES; i++)
        for (int j = 0; j < 2; j++)
            if (fds[i][j] >= 0)
                close(fds[i][j]);
}

/* Read all pipes until they close or the deadline passes. */
static void pump(px_sb_proc *p, pid_t pid, int fds[NPIPES][2], uint64_t t0) {
    size_t totals[NPIPES] = {0};
    uint8_t buf[CHUNK];
    int open_n = p->want_status ? 3 : 2;
    while (open_n > 0) {
        struct pollfd pf[NPIPES];
        int idx[NPIPES], n = 0;
        for (int i = 0; i < NPIPES; i++)
            if (fds[i][0] >= 0) {
                pf[n] = (struct pollfd){fds[i][0], POLLIN, 0};
                idx[n++] = i;
            }
        int64_t left = (int64_t)p->timeout_ms -
                       (int64_t)((px_mono_ns() - t0) / 1000000);
        if (left <= 0) {
            p->timed_out = 1;
            break;
        }
        int r = poll(pf, (nfds_t)n, left > INT_MAX ? INT_MAX : (int)left);
        if (r < 0 && errno != EINTR) { /* cannot watch it: stop it */
            p->timed_out = 1;
            break;
        }
        for (int k = 0; r > 0 && k < n; k++) {
            if (!pf[k].revents)
                continue;
            int i = idx[k];
            ssize_t got = read(fds[i][0], buf, sizeof buf);
            if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (got <= 0) {
                close(fds[i][0]);
                fds[i][0] = -1;
                open_n--;
                continue;
            }
            if (i == 0 && take(p->out, &totals[0], p->max_stdout, buf,
                               (size_t)got)) {
                p->out_overflow = 1;
                if (p->stdout_limit_kills)
                    goto stop;
            } else if (i == 1) {
                take(p->errout, &totals[1], p->max_stderr, buf, (size_t)got);
            } else if (i == 2) {
                take(p->status, &totals[2], p->max_status, buf, (size_t)got);
            }
        }
    }
    /* The pipes closed; the child may still be running (or a hostile one
     * may have closed them early): wait for its exit until the deadline. */
    if (open_n == 0) {
        int64_t left = (int64_t)p->timeout_ms -
                       (int64_t)((px_mono_ns() - t0) / 1000000);
        int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
        struct pollfd pf = {pfd, POLLIN, 0};
        if (pfd >= 0) {
            while (left > 0 &&
                   poll(&pf, 1, left > INT_MAX ? INT_MAX : (int)left) < 0 &&
                   errno == EINTR)
                left = (int64_t)p->timeout_ms -
                       (int64_t)((px_mono_ns() - t0) / 1000000);
            if (left <= 0 || !(pf.revents & POLLIN))
                p->timed_out = 1;
            close(pfd);
        }
    }
stop:
    if (p->timed_out || (p->out_overflow && p->stdout_limit_kills)) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }
}

int px_sb_spawn(px_sb_proc *p, px_err *err) {
    int fds[NPIPES][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    p->timed_out = p->out_overflow = 0;
    for (int i = 0; i < NPIPES; i++)
        if ((i < 2 || p->want_status) && pipe2(fds[i], O_CLOEXEC)) {
            close_pipes(fds);
            return px_fail(err, PX_E_IO, "creating a pipe failed: %s",
                           strerror(errno));
        }
    uint64_t t0 = px_mono_ns();
    pid_t pid = fork();
    if (pid < 0) {
        close_pipes(fds);
        return px_fail(err, PX_E_IO, "fork failed: %s", strerror(errno));
    }
    if (pid == 0)
        child(p, fds);
    for (int i = 0; i < NPIPES; i++) {
        if (fds[i][1] >= 0)
            close(fds[i][1]);
        fds[i][1] = -1;
    }
    pump(p, pid, fds, t0);
    close_pipes(fds);
    while (wait4(pid, &p->wstatus, 0, &p->ru) < 0) {
        if (errno != EINTR)
            return px_fail(err, PX_E_INTERNAL, "wait4 failed: %s",
                           strerror(errno));
    }
    p->wall_us = (px_mono_ns() - t0) / 1000;
    return 0;
}

void px_sb_first_line(const px_buf *b, char *out, size_t outlen) {
    size_t k = 0;
    for (size_t i = 0; b && i < b->len && k + 1 < outlen; i++) {
        uint8_t ch = b->data[i];
        if (ch == '\n') {
            if (k)
                break;
            continue;
        }
        out[k++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    out[k] = '\0';
}
