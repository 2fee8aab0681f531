/* A node's warm workers: processes started ahead under the TEE backend so
 * that an instance's start costs an INIT, not an exec. Starting a worker
 * costs about 5 ms, nearly all of it before main: the dynamic loader maps
 * and relocates some forty shared libraries (the worker links libpixiu
 * whole), then namespaces and limits. None of that depends on the instance.
 *
 * What a pooled worker has: the backend's isolation and the limits of its
 * profile, applied before exec, and nothing else. It waits for INIT, so it
 * has no kind, no config and no keys: every instance still generates its
 * own keys after it is taken, is measured over the same build digest,
 * kind, code and config, and gets evidence for its own nonce. A worker is
 * handed out once (it leaves the list under the lock before any check) and
 * dies with its instance, so nothing of one instance reaches another.
 *
 * The pool holds workers per profile, the limits a kind's worker gets
 * (px_lambda_worker_limits): built-in stages, and stages that run task code
 * in the sandbox with the runner's address space. A request with other
 * limits (a test's) finds none and starts cold. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "lambda/pool.h"
#include "lambda/step_wire.h"

#define POOL_PROFILES 2
#define POOL_PER_PROFILE_MAX 16
#define POOL_RETRY_MS 1000 /* after a failed start, before the next try */
/* After a take, before the refill: an exec costs some 5 ms of CPU, which
 * the instance just taken would otherwise compete with for its INIT and
 * first exchanges on a small node. */
#define POOL_REFILL_DELAY_MS 20
#define POOL_READY_WAIT_MS 10000

typedef struct pool_profile {
    uint64_t mem_bytes, cpu_seconds;
} pool_profile;

typedef struct pool_entry {
    px_tee_worker w;
    int profile;
    struct stat exe; /* the worker file, just before its exec */
} pool_entry;

struct px_lambda_pool {
    const px_tee_backend *backend;
    char *worker_path;
    unsigned target; /* per profile */
    pool_profile prof[POOL_PROFILES];
    pthread_mutex_t mu;
    pthread_cond_t wake; /* the filler: a worker was taken, or stop */
    pthread_cond_t full; /* waiters: every profile is full, or a start failed */
    pthread_t filler;
    int started, stop;
    pool_entry *ready; /* oldest first */
    size_t nready;
    px_lambda_pool_stats st;
    px_err last; /* why the last start failed (code 0: it did not) */
};

static size_t count_of(const px_lambda_pool *p, int profile) {
    size_t n = 0;
    for (size_t i = 0; i < p->nready; i++)
        n += p->ready[i].profile == profile;
    return n;
}

/* The first profile below its target, or -1. */
static int wanting(const px_lambda_pool *p) {
    for (int i = 0; i < POOL_PROFILES; i++)
        if (count_of(p, i) < p->target)
            return i;
    return -1;
}

static void deadline_in(struct timespec *ts, int ms) {
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* A worker is ready once it says so (READY): after its exec and the
 * loading of its libraries, some 5 ms of CPU that are then behind it, not
 * competing with the instance that takes it. Before that /proc/<pid>/exe
 * may even be this process's own file, which the take would refuse. */
static int wait_ready(const px_tee_worker *w, px_err *err) {
    px_buf payload = PX_BUF_INIT;
    px_bytes f[1];
    size_t n = 0;
    int type = 0;
    int rc = px_wire_recv(w->fd, POOL_READY_WAIT_MS, &type, &payload, err);
    if (rc == 0 && (type != PX_MSG_READY || px_wire_split(payload.data, payload.len, f, 1, &n, NULL) || n != 0))
        rc = px_fail(err, PX_E_INVALID, "worker %d sent message %d where READY was due", (int)w->pid, type);
    else if (rc)
        px_err_prefix(err, "worker %d did not get ready within %d ms: ", (int)w->pid, POOL_READY_WAIT_MS);
    px_buf_free(&payload);
    return rc;
}

/* Fork happens on this thread, never under the lock: a take does not wait
 * for an exec. The child only runs the backend's async-signal-safe setup
 * and execs, so forking from a threaded node is safe. */
static void *fill(void *arg) {
    px_lambda_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        int prof = wanting(p);
        if (prof < 0) {
            pthread_cond_broadcast(&p->full);
            pthread_cond_wait(&p->wake, &p->mu);
            struct timespec ts;
            deadline_in(&ts, POOL_REFILL_DELAY_MS);
            while (!p->stop && pthread_cond_timedwait(&p->wake, &p->mu, &ts) != ETIMEDOUT)
                ;
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        px_tee_spawn_req sr = {p->worker_path, NULL, p->prof[prof].mem_bytes, p->prof[prof].cpu_seconds};
        px_tee_worker w = {-1, -1, 0};
        px_err e = {0};
        struct stat exe;
        int rc = stat(p->worker_path, &exe) != 0
                     ? px_fail(&e, PX_E_NOTFOUND, "worker %s: %s", p->worker_path, strerror(errno))
                     : p->backend->spawn(&sr, &w, &e);
        if (rc == 0 && wait_ready(&w, &e)) {
            px_tee_worker_finish(&w, 1, NULL, NULL);
            rc = -1;
        }
        pthread_mutex_lock(&p->mu);
        if (rc) {
            p->last = e;
            pthread_cond_broadcast(&p->full);
            struct timespec ts;
            deadline_in(&ts, POOL_RETRY_MS);
            if (!p->stop)
                pthread_cond_timedwait(&p->wake, &p->mu, &ts);
            continue;
        }
        p->last.code = 0;
        p->ready[p->nready++] = (pool_entry){w, prof, exe};
        p->st.spawned++;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int px_lambda_pool_new(px_lambda_pool **out, const px_tee_backend *backend, const char *worker_path,
                       unsigned per_profile, px_err *err) {
    *out = NULL;
    if (!backend || !worker_path || per_profile == 0 || per_profile > POOL_PER_PROFILE_MAX)
        return px_fail(err, PX_E_INVALID, "a warm pool needs a backend, a worker and 1..%d workers per profile",
                       POOL_PER_PROFILE_MAX);
    px_lambda_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->worker_path = strdup(worker_path)) ||
        !(p->ready = calloc((size_t)per_profile * POOL_PROFILES, sizeof *p->ready))) {
        if (p)
            free(p->worker_path);
        free(p);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    p->backend = backend;
    p->target = per_profile;
    /* The profiles are the limits the host gives these kinds' workers. */
    px_lambda_worker_limits("aggregate", 0, 0, &p->prof[0].mem_bytes, &p->prof[0].cpu_seconds);
    px_lambda_worker_limits(px_lambda_wasm_kind.kind, 0, 0, &p->prof[1].mem_bytes, &p->prof[1].cpu_seconds);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->full, NULL);
    if (pthread_create(&p->filler, NULL, fill, p) != 0) {
        px_lambda_pool_free(p);
        return px_fail(err, PX_E_INTERNAL, "cannot start the warm pool's thread");
    }
    p->started = 1;
    *out = p;
    return 0;
}

void px_lambda_pool_free(px_lambda_pool *p) {
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    if (p->started)
        pthread_join(p->filler, NULL);
    for (size_t i = 0; i < p->nready; i++)
        px_tee_worker_finish(&p->ready[i].w, 1, NULL, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->full);
    free(p->ready);
    free(p->worker_path);
    free(p);
}

int px_lambda_pool_wait_full(px_lambda_pool *p, int timeout_ms, px_err *err) {
    struct timespec ts;
    deadline_in(&ts, timeout_ms);
    pthread_mutex_lock(&p->mu);
    int rc = 0;
    while (wanting(p) >= 0) {
        if (p->last.code) {
            rc = px_fail(err, p->last.code, "the warm pool cannot start workers: %s", p->last.msg);
            break;
        }
        if (pthread_cond_timedwait(&p->full, &p->mu, &ts) == ETIMEDOUT && wanting(p) >= 0) {
            rc = px_fail(err, PX_E_UNAVAILABLE, "the warm pool is not full after %d ms", timeout_ms);
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void px_lambda_pool_stats_get(px_lambda_pool *p, px_lambda_pool_stats *out) {
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    out->ready = p->nready;
    pthread_mutex_unlock(&p->mu);
}

size_t px_lambda_pool_pids(px_lambda_pool *p, pid_t *out, size_t cap) {
    pthread_mutex_lock(&p->mu);
    size_t n = 0;
    for (; n < p->nready && n < cap; n++)
        out[n] = p->ready[n].w.pid;
    pthread_mutex_unlock(&p->mu);
    return n;
}

/* Still waiting for its INIT: not exited, and nothing on its channel (a
 * worker that waits has nothing to say; EOF or bytes mean it broke). */
static int alive(px_tee_worker *w) {
    int st;
    if (waitpid(w->pid, &st, WNOHANG) != 0) {
        w->pid = -1; /* reaped (or not ours): nothing to kill */
        return 0;
    }
    struct pollfd pf = {w->fd, POLLIN, 0};
    return poll(&pf, 1, 0) == 0;
}

static int same_file(const struct stat *st, const px_lambda_file *f) {
    int64_t m = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    int64_t c = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
    return (uint64_t)st->st_dev == f->dev && (uint64_t)st->st_ino == f->ino && (uint64_t)st->st_size == f->size &&
           m == f->mtime_ns && c == f->ctime_ns;
}

/* The executable the worker runs is the file the build hashed, so a worker
 * started before a new worker binary was installed is not handed out under
 * the new build's digest. /proc/<pid>/exe is the file mapped at exec even
 * if the path was replaced since; the node may look (the worker is its
 * unreaped child, in a user namespace the node owns). Where it cannot
 * (no user namespace, and the worker made itself non-dumpable), the file's
 * identity just before the exec stands in: the same check, with the same
 * window between check and exec, as a cold start's. */
static int runs(const pool_entry *e, const px_lambda_file *exe) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)e->w.pid);
    struct stat st;
    if (stat(path, &st) == 0)
        return same_file(&st, exe) && same_file(&e->exe, exe);
    return same_file(&e->exe, exe);
}

int px_lambda_pool_take(px_lambda_pool *p, const px_tee_backend *backend, const px_tee_spawn_req *sr,
                        const px_lambda_file *exe, px_tee_worker *out) {
    if (!p || backend != p->backend || sr->argv || !exe || !exe->path || strcmp(sr->worker_path, p->worker_path))
        return 0;
    int prof = -1;
    for (int i = 0; i < POOL_PROFILES; i++)
        if (p->prof[i].mem_bytes == sr->mem_bytes && p->prof[i].cpu_seconds == sr->cpu_seconds)
            prof = i;
    int got = 0;
    pthread_mutex_lock(&p->mu);
    while (prof >= 0 && !got) {
        size_t i = 0;
        while (i < p->nready && p->ready[i].profile != prof)
            i++;
        if (i == p->nready)
            break;
        /* Out of the list before anything else: handed out at most once. */
        pool_entry e = p->ready[i];
        px_tee_worker w = e.w;
        memmove(&p->ready[i], &p->ready[i + 1], (p->nready - i - 1) * sizeof *p->ready);
        p->nready--;
        pthread_cond_signal(&p->wake);
        pthread_mutex_unlock(&p->mu);
        got = alive(&w) && runs(&e, exe);
        if (got)
            *out = w;
        else
            px_tee_worker_finish(&w, 1, NULL, NULL);
        pthread_mutex_lock(&p->mu);
        if (!got)
            p->st.discarded++;
    }
    if (got)
        p->st.taken++;
    else
        p->st.missed++;
    pthread_mutex_unlock(&p->mu);
    return got;
}
