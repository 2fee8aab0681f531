/* A runner started ahead of its run (the runner's side is
 * runner/warm.c).
 *
 * Starting a runner for a run (fork, exec, loading its libraries) costs
 * about as much as the run of a small task, and none of it depends on the
 * run. A worker that will run task code starts its runner once its keys
 * are out (px_sandbox_warm), while the node attests it and logs its
 * acceptance; the run then hands that process its arguments and
 * descriptors (px_sb_warm_hand) instead of forking. The runner is the
 * build's, exec'd from the same path with the same environment, process
 * group and limits a runner forked for the run gets; it waits with nothing
 * of any task, and takes exactly one run, so a run's task code still runs
 * in a process that ran no other code of any task, and an instance that
 * never gets its STEP (its recruitment refused) never hands it anything.
 * A runner nobody takes is killed with its instance
 * (px_sandbox_warm_free); one that cannot be handed over (it died) is
 * killed, and the run forks a runner as before.
 *
 * It is started with posix_spawn, not fork: a worker maps some forty
 * libraries, and copying its page tables (then taking a copy-on-write
 * fault on each page it writes next) cost 0.3 ms of the worker's time per
 * start, where a child that shares the worker's memory until its exec
 * costs a fraction. That child can run no code of ours before the exec,
 * so the runner asks to die with its parent itself, first thing; until
 * then (its loading, a millisecond) a worker that dies leaves it running
 * only its own code, and it ends at the end of file on its channel.
 * The run's object can be made ready too (px_sandbox_warm_object): the
 * module validated and its compiled object taken from the cache, never
 * compiled there; the run uses it if it is for the same module and memory
 * cap, and otherwise does its own. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lambda/sandbox_int.h"

#define WARM_CTL_FD 3
#define WARM_FDS 6
#define WARM_ARGS 9
#define WARM_MSG_MAX 4096

extern char **environ;

/* The control socket becomes fd 3 (dup2 onto itself clears close-on-exec
 * too), everything above it is closed; its own process group, so a
 * timeout kills what it may start, as for a forked runner; SIGPIPE back
 * to its default. Returns the pid, or -1 with errno. */
static pid_t warm_spawn(const char *runner, int ctl) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    int e = posix_spawn_file_actions_init(&fa);
    if (e) {
        errno = e;
        return -1;
    }
    if ((e = posix_spawnattr_init(&at))) {
        posix_spawn_file_actions_destroy(&fa);
        errno = e;
        return -1;
    }
    pid_t pid = -1;
    char *const argv[] = {(char *)runner, (char *)"--warm", NULL};
    if (!(e = posix_spawn_file_actions_adddup2(&fa, ctl, WARM_CTL_FD)) &&
        !(e = posix_spawn_file_actions_addclosefrom_np(&fa, WARM_CTL_FD + 1)) &&
        !(e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF)) &&
        !(e = posix_spawnattr_setpgroup(&at, 0)) && !(e = posix_spawnattr_setsigdefault(&at, &def)))
        e = posix_spawn(&pid, runner, &fa, &at, argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    if (e) {
        errno = e;
        return -1;
    }
    return pid;
}

int px_sandbox_warm(px_sandbox *sb, px_err *err) {
    if (sb->warm)
        return 0;
    struct px_sb_warm *w = calloc(1, sizeof *w);
    if (!w)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    memcpy(w->runner, sb->runner, sizeof w->runner);
    w->obj_fd = -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
        free(w);
        return px_fail(err, PX_E_IO, "cannot start a warm runner: socketpair: %s", strerror(errno));
    }
    pid_t pid = warm_spawn(w->runner, sv[1]);
    int e = errno;
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        px_fail(err, PX_E_IO, "cannot start a warm runner %s: %s", w->runner, strerror(e));
        free(w);
        return -1;
    }
    w->pid = pid;
    w->ctl = sv[0];
    sb->warm = w;
    return 0;
}

static void warm_end(struct px_sb_warm *w) {
    if (w->ctl >= 0)
        close(w->ctl);
    w->ctl = -1;
    if (w->obj_fd >= 0)
        close(w->obj_fd);
    w->obj_fd = -1;
    if (w->pid > 0) {
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    w->pid = -1;
}

void px_sandbox_warm_free(px_sandbox *sb) {
    if (!sb->warm)
        return;
    warm_end(sb->warm);
    free(sb->warm);
    sb->warm = NULL;
}

/* argv[1..9], each with its NUL, one after the other. */
static size_t pack_args(const char *const *argv, char *msg) {
    size_t n = 0;
    for (int i = 1; i <= WARM_ARGS; i++) {
        if (!argv[i])
            return 0;
        size_t k = strlen(argv[i]) + 1;
        if (k > WARM_MSG_MAX - n)
            return 0;
        memcpy(msg + n, argv[i], k);
        n += k;
    }
    return argv[WARM_ARGS + 1] ? 0 : n;
}

pid_t px_sb_warm_hand(struct px_sb_warm *w, const char *const *argv, const int fds[6]) {
    if (!w || w->pid <= 0 || strcmp(argv[0], w->runner) != 0)
        return -1;
    char msg[WARM_MSG_MAX];
    size_t n = pack_args(argv, msg);
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * WARM_FDS)];
    } c;
    memset(&c, 0, sizeof c);
    struct iovec iov = {msg, n};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = c.buf;
    mh.msg_controllen = sizeof c.buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * WARM_FDS);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * WARM_FDS);
    ssize_t sent = -1;
    if (n > 0)
        do
            sent = sendmsg(w->ctl, &mh, MSG_NOSIGNAL);
        while (sent < 0 && errno == EINTR);
    if (sent != (ssize_t)n) { /* it died, or cannot take these: fork one */
        warm_end(w);
        return -1;
    }
    pid_t pid = w->pid;
    close(w->ctl);
    w->ctl = -1;
    w->pid = -1; /* the run's child now: reaped by the run */
    return pid;
}
