/* Running a child process with resource limits, a wall-clock timeout,
 * its standard input fed from memory while it runs, and bounded capture of
 * its output. Used for the compilers and the runner. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lambda/sandbox_int.h"

#define CHUNK 65536
#define NPIPES 3 /* stdout, stderr, status */
/* The feed pipe's capacity: 1 MiB (the unprivileged maximum,
 * /proc/sys/fs/pipe-max-size) lets the child take 256 KiB reads in one
 * system call each while the parent stays ahead of it. */
#define FEED_PIPE_BYTES (1 << 20)
#define FEED_IOV 64

/* The input being fed to the child's stdin (px_sb_proc in_*). */
typedef struct feed {
    const px_sb_proc *p;
    int fd;     /* the pipe's write end, non-blocking; -1 once closed */
    size_t i;   /* next window */
    size_t off; /* bytes of window i already in the pipe */
    int lend;   /* vmsplice works (else writev) */
} feed_t;

static void set_limit(int res, uint64_t v) {
    struct rlimit rl = {(rlim_t)v, (rlim_t)v};
    if (v)
        setrlimit(res, &rl);
}

/* In the child: wire the descriptors, apply limits, exec. Only
 * async-signal-safe calls: the parent may have threads. Every source is
 * first moved above the targets, so no dup2 overwrites a source that
 * happens to sit at a target's number. */
static void child(const px_sb_proc *p, int fds[NPIPES][2], int feed_rd,
                  const sigset_t *mask) {
    if (mask) /* the parent blocked SIGPIPE while it feeds (px_sb_spawn) */
        sigprocmask(SIG_SETMASK, mask, NULL);
    int src[6] = {p->stdin_fd >= 0 ? p->stdin_fd
                  : feed_rd >= 0   ? feed_rd
                                   : open("/dev/null", O_RDONLY),
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

static void feed_close(feed_t *f) {
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

static void feed_advance(feed_t *f, size_t n) {
    const px_sb_proc *p = f->p;
    while (f->i < p->in_n && n >= p->in_len[f->i] - f->off) {
        n -= p->in_len[f->i] - f->off;
        f->i++;
        f->off = 0;
    }
    f->off += n;
}

/* Put into the pipe what it takes now, without blocking. The bytes are
 * lent, not copied (vmsplice): the child's read is then the only copy of
 * the input, as for a program reading a file. The pipe is closed (end of
 * input) once it holds everything, or when the child no longer reads
 * (EPIPE: it ended) or the pipe failed (the child then meets an early end
 * of input and says so). */
static void feed_more(feed_t *f) {
    const px_sb_proc *p = f->p;
    while (f->fd >= 0) {
        struct iovec v[FEED_IOV];
        int k = 0;
        size_t off = f->off;
        /* A bounded look-ahead, so runs of empty windows cost little. */
        for (size_t i = f->i; i < p->in_n && i < f->i + 4 * FEED_IOV &&
                              k < FEED_IOV; i++, off = 0)
            if (p->in_len[i] > off)
                v[k++] = (struct iovec){
                    (void *)(p->in_base + p->in_off[i] + off),
                    p->in_len[i] - off};
        if (k == 0) {
            if (f->i + 4 * FEED_IOV < p->in_n) { /* only empty windows */
                f->i += 4 * FEED_IOV;
                f->off = 0;
                continue;
            }
            feed_close(f);
            return;
        }
        ssize_t w = f->lend ? vmsplice(f->fd, v, (unsigned long)k,
                                       SPLICE_F_NONBLOCK)
                            : writev(f->fd, v, k);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            return;
        if (w < 0 && f->lend && (errno == EINVAL || errno == ENOSYS)) {
            f->lend = 0; /* no vmsplice here: copy instead */
            continue;
        }
        if (w <= 0) {
            feed_close(f);
            return;
        }
        feed_advance(f, (size_t)w);
    }
}

/* Read all pipes until they close or the deadline passes, feeding the
 * child's stdin meanwhile (f->fd >= 0). Reading and feeding in one poll
 * loop means a child that writes before it has read all its input never
 * waits for a parent that waits for it. */
static void pump(px_sb_proc *p, pid_t pid, int fds[NPIPES][2], feed_t *f,
                 uint64_t t0) {
    size_t totals[NPIPES] = {0};
    uint8_t buf[CHUNK];
    int open_n = p->want_status ? 3 : 2;
    feed_more(f);
    while (open_n > 0) {
        struct pollfd pf[NPIPES + 1];
        int idx[NPIPES + 1], n = 0;
        for (int i = 0; i < NPIPES; i++)
            if (fds[i][0] >= 0) {
                pf[n] = (struct pollfd){fds[i][0], POLLIN, 0};
                idx[n++] = i;
            }
        if (f->fd >= 0) {
            pf[n] = (struct pollfd){f->fd, POLLOUT, 0};
            idx[n++] = NPIPES;
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
            if (i == NPIPES) {
                feed_more(f);
                continue;
            }
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
    /* A child that closed its output is not fed any further. */
    feed_close(f);
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

/* The feed's pipe: the child's end blocking, the parent's non-blocking.
 * Enlarged only for inputs the default 64 KiB would not hold (a smaller
 * pipe only costs more system calls; a tiny input not even that). */
static int feed_pipe(const px_sb_proc *p, int fd[2], px_err *err) {
    if (pipe2(fd, O_CLOEXEC))
        return px_fail(err, PX_E_IO, "creating a pipe failed: %s",
                       strerror(errno));
    size_t total = 0;
    for (size_t i = 0; i < p->in_n && total <= 65536; i++)
        total += p->in_len[i];
    if (total > 65536)
        (void)fcntl(fd[1], F_SETPIPE_SZ, FEED_PIPE_BYTES);
    if (fcntl(fd[1], F_SETFL, O_NONBLOCK)) {
        close(fd[0]);
        close(fd[1]);
        return px_fail(err, PX_E_IO, "configuring a pipe failed: %s",
                       strerror(errno));
    }
    return 0;
}

/* Feeding a child that ends early raises SIGPIPE, which would end the
 * caller: while feeding, SIGPIPE is blocked in this thread, and one it
 * raised is taken back before the old mask returns. */
typedef struct pipe_guard {
    sigset_t set, old;
    int was_pending;
} pipe_guard;

static void pipe_guard_on(pipe_guard *g) {
    sigset_t pend;
    sigemptyset(&g->set);
    sigaddset(&g->set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &g->set, &g->old);
    g->was_pending = !sigpending(&pend) && sigismember(&pend, SIGPIPE);
}

static void pipe_guard_off(pipe_guard *g) {
    sigset_t pend;
    struct timespec now = {0, 0};
    if (!g->was_pending && !sigpending(&pend) && sigismember(&pend, SIGPIPE))
        (void)sigtimedwait(&g->set, NULL, &now);
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* A warm runner takes the run only if the fork would give the child
 * nothing it lacks: a run of the runner (feed, status, both extra fds)
 * with no isolation, directory, environment or limits of its own. */
static pid_t warm_take(const px_sb_proc *p, int fds[NPIPES][2], int in_rd) {
    if (!p->warm || !p->want_status || p->extra_fd[0] <= 2 || p->extra_fd[1] <= 2 || p->stdin_fd >= 0 ||
        in_rd < 0 || p->iso || p->cwd || p->envp || p->cpu_s || p->as_bytes || p->fsize_bytes)
        return -1;
    int give[6] = {in_rd, fds[0][1], fds[1][1], fds[2][1], p->extra_fd[0], p->extra_fd[1]};
    return px_sb_warm_hand(p->warm, p->argv, give);
}

int px_sb_spawn(px_sb_proc *p, px_err *err) {
    int fds[NPIPES][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    int in_rd = -1;
    feed_t f = {.p = p, .fd = -1, .lend = 1};
    pipe_guard g;
    int guarded = 0;
    p->timed_out = p->out_overflow = 0;
    for (int i = 0; i < NPIPES; i++)
        if ((i < 2 || p->want_status) && pipe2(fds[i], O_CLOEXEC)) {
            close_pipes(fds);
            return px_fail(err, PX_E_IO, "creating a pipe failed: %s",
                           strerror(errno));
        }
    if (p->stdin_fd < 0 && p->in_n > 0) {
        int in[2];
        if (feed_pipe(p, in, err)) {
            close_pipes(fds);
            return -1;
        }
        in_rd = in[0];
        f.fd = in[1];
        /* The pipe's first fill, before the child exists: a small input
         * is then complete and closed before the child starts, and nothing
         * can raise SIGPIPE (this process still holds the read end). */
        feed_more(&f);
    }
    if (f.fd >= 0) { /* more to feed while the child runs */
        pipe_guard_on(&g);
        guarded = 1;
    }
    uint64_t t0 = px_mono_ns();
    pid_t pid = warm_take(p, fds, in_rd);
    if (pid < 0)
        pid = fork();
    if (pid < 0) {
        close_pipes(fds);
        feed_close(&f);
        if (in_rd >= 0)
            close(in_rd);
        if (guarded)
            pipe_guard_off(&g);
        return px_fail(err, PX_E_IO, "fork failed: %s", strerror(errno));
    }
    if (pid == 0)
        child(p, fds, in_rd, guarded ? &g.old : NULL);
    for (int i = 0; i < NPIPES; i++) {
        if (fds[i][1] >= 0)
            close(fds[i][1]);
        fds[i][1] = -1;
    }
    if (in_rd >= 0)
        close(in_rd);
    pump(p, pid, fds, &f, t0);
    feed_close(&f);
    close_pipes(fds);
    int rc = 0;
    while (wait4(pid, &p->wstatus, 0, &p->ru) < 0) {
        if (errno != EINTR) {
            rc = px_fail(err, PX_E_INTERNAL, "wait4 failed: %s",
                         strerror(errno));
            break;
        }
    }
    /* The child is gone, so is the pipe and with it every reference to
     * the lent bytes. */
    if (guarded)
        pipe_guard_off(&g);
    p->wall_us = (px_mono_ns() - t0) / 1000;
    return rc;
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
