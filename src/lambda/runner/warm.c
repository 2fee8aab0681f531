/* `pixiu-wasm-runner --warm`: a runner started before its run is due.
 *
 * A worker that will run task code starts its runner as soon as it has
 * sent its keys (sandbox_warm.c), so the exec and the loading of the
 * runner's libraries happen while the node attests the instance, not on
 * the step's path. Such a runner holds nothing but its own code: no
 * object, no input, no argument; an instance whose recruitment is refused
 * gets no STEP, and its runner never gets anything. It waits on fd 3 for one
 * message, the nine arguments of a run (NUL-terminated, in the order of
 * the usage line) with the six descriptors of that run (input, output,
 * stderr, status, group table, object), puts them where a runner started
 * for the run has them, and from there is exactly that runner. It takes
 * one run: the process ends with it. An end of file on fd 3 (the step
 * ended before its run) ends it quietly. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runner.h"

#define WARM_CTL_FD 3
#define WARM_FDS 6
#define WARM_ARGS 9
#define WARM_MSG_MAX 4096
#define WARM_FD_PARK 16 /* above every target while they are placed */

/* The run's descriptors onto 0..5; the control socket (fd 3) goes with
 * the move, and nothing else stays open. */
static void place(int *fds) {
    for (int i = 0; i < WARM_FDS; i++)
        if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, WARM_FD_PARK)) < 0)
            _exit(127);
    for (int i = 0; i < WARM_FDS; i++)
        if (dup2(fds[i], i) < 0)
            _exit(127);
    close_range(WARM_FDS, ~0u, 0);
}

/* Exactly WARM_ARGS strings, each ended by a NUL, filling the message. */
static void split(char *msg, size_t n, char **argv) {
    size_t k = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        if (msg[i] != '\0')
            continue;
        if (k == WARM_ARGS)
            _exit(127);
        argv[1 + k++] = msg + start;
        start = i + 1;
    }
    if (k != WARM_ARGS || start != n)
        _exit(127);
}

void runner_warm_wait(char **argv) {
    static char msg[WARM_MSG_MAX];
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * WARM_FDS)];
    } c;
    struct iovec iov = {msg, sizeof msg};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = c.buf;
    mh.msg_controllen = sizeof c.buf;
    ssize_t n;
    do
        n = recvmsg(WARM_CTL_FD, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        _exit(0);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || !cm || cm->cmsg_level != SOL_SOCKET ||
        cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int) * WARM_FDS))
        _exit(127);
    int fds[WARM_FDS];
    memcpy(fds, CMSG_DATA(cm), sizeof fds);
    place(fds);
    split(msg, (size_t)n, argv);
}
