/* Ending a worker whose answer is in: it is killed at once, and reaped by
 * one thread per process, off the caller's path.
 *
 * Waiting for a killed worker is waiting for the kernel to tear down its
 * address space and namespaces: about 0.3 ms for pixiu_worker, on the path
 * of every step for nothing, since SIGKILL already ended it (it can run no
 * instruction of its own after the signal is sent) and its channel is
 * closed first. Only the zombie's bookkeeping is left, which this thread
 * does. Where the thread cannot be had (no memory), the caller waits, as
 * before. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pixiu/tee.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static pid_t *queue;
static size_t nqueued, cap;
static int started; /* 1: the thread runs; -1: it could not be started */

static void wait_for(pid_t pid) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static void *reaper(void *arg) {
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (nqueued == 0)
            pthread_cond_wait(&more, &mu);
        pid_t pid = queue[--nqueued];
        pthread_mutex_unlock(&mu);
        wait_for(pid);
        pthread_mutex_lock(&mu);
    }
    return NULL;
}

/* Under mu: room for one more pid and a running thread, or 0. */
static int can_queue(void) {
    if (nqueued == cap) {
        size_t ncap = cap ? 2 * cap : 16;
        pid_t *q = realloc(queue, ncap * sizeof *q);
        if (!q)
            return 0;
        queue = q;
        cap = ncap;
    }
    if (started == 0) {
        pthread_t t;
        pthread_attr_t a;
        started = -1;
        if (pthread_attr_init(&a) == 0) {
            if (pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) == 0 &&
                pthread_create(&t, &a, reaper, NULL) == 0)
                started = 1;
            pthread_attr_destroy(&a);
        }
    }
    return started == 1;
}

void px_tee_worker_release(px_tee_worker *w) {
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    if (w->pid <= 0)
        return;
    pid_t pid = w->pid;
    w->pid = -1;
    kill(pid, SIGKILL);
    pthread_mutex_lock(&mu);
    int queued = can_queue();
    if (queued) {
        queue[nqueued++] = pid;
        pthread_cond_signal(&more);
    }
    pthread_mutex_unlock(&mu);
    if (!queued)
        wait_for(pid);
}
