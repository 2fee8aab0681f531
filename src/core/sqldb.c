/* A SQLite store with one connection per thread (see sqldb.h for why), and
 * the private modes of state files and directories.
 *
 * Bookkeeping: each thread keeps its connections in a list under one
 * pthread key, so its exit closes them; every connection is also on one
 * global list, so closing a store finds the connections of threads that
 * are still alive. One global mutex guards both lists. A store closed
 * while a thread that used it lives on leaves that thread an entry with
 * no store, freed at its next lookup or at its exit: an entry is never
 * freed by a thread other than its own while that thread may hold it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sqldb.h"

#define BUSY_MS_DEFAULT 30000
#define CHECK_MSG_MAX 120
#define REFUSE "refusing to use it: restore it from a backup or move it aside"

struct px_sqldb {
    char *path;
    px_sqldb_opts o;
};

typedef struct conn {
    px_sqldb *owner; /* NULL once the store was closed */
    sqlite3 *db;
    struct conn *t_next;           /* the thread's list */
    struct conn *a_prev, *a_next;  /* the global list */
} conn;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
static int g_key_ok;
static conn *g_all;

static void unlink_all(conn *c) {
    if (c->a_prev)
        c->a_prev->a_next = c->a_next;
    else
        g_all = c->a_next;
    if (c->a_next)
        c->a_next->a_prev = c->a_prev;
}

/* A thread exits: its connections close. */
static void thread_exit(void *head) {
    pthread_mutex_lock(&g_mu);
    for (conn *c = head, *next; c; c = next) {
        next = c->t_next;
        if (c->db)
            sqlite3_close_v2(c->db);
        unlink_all(c);
        free(c);
    }
    pthread_mutex_unlock(&g_mu);
}

static void key_init(void) { g_key_ok = pthread_key_create(&g_key, thread_exit) == 0; }

/* ---- private modes ------------------------------------------------------------- */

int px_private_dir(const char *path, int create, px_err *err) {
    struct stat st;
    if (stat(path, &st)) {
        if (errno != ENOENT || !create)
            return px_fail(err, PX_E_IO, "%s: %s", path, strerror(errno));
        if (mkdir(path, 0700) && errno != EEXIST)
            return px_fail(err, PX_E_IO, "creating %s: %s", path, strerror(errno));
        if (stat(path, &st))
            return px_fail(err, PX_E_IO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return px_fail(err, PX_E_IO, "%s is not a directory", path);
    if (st.st_mode & 077) {
        if (chmod(path, st.st_mode & 0700))
            return px_fail(err, PX_E_IO, "%s is mode %03o and cannot be made private: %s", path,
                           (unsigned)(st.st_mode & 0777), strerror(errno));
        fprintf(stderr, "pixiu: warning: %s was mode %03o (others could enter it); now %03o\n", path,
                (unsigned)(st.st_mode & 0777), (unsigned)(st.st_mode & 0700));
    }
    return 0;
}

int px_private_file(const char *path, px_err *err) {
    struct stat st;
    if (stat(path, &st))
        return errno == ENOENT ? 0 : px_fail(err, PX_E_IO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return px_fail(err, PX_E_IO, "%s is not a regular file", path);
    if (st.st_mode & 077) {
        if (chmod(path, st.st_mode & 0600))
            return px_fail(err, PX_E_IO, "%s is mode %03o and cannot be made private: %s", path,
                           (unsigned)(st.st_mode & 0777), strerror(errno));
        fprintf(stderr, "pixiu: warning: %s was mode %03o (others could read it); now %03o\n", path,
                (unsigned)(st.st_mode & 0777), (unsigned)(st.st_mode & 0600));
    }
    return 0;
}

/* The store's file and the files SQLite keeps beside it. A missing store
 * is created empty with mode 0600 first: SQLite gives its WAL and
 * shared-memory files the mode of the database file. */
int px_private_store(const char *path, px_err *err) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
        close(fd);
    else if (errno != EEXIST)
        return px_fail(err, PX_E_IO, "creating %s: %s", path, strerror(errno));
    char side[PATH_MAX];
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        if ((size_t)snprintf(side, sizeof side, "%s%s", path, suffix[i]) >= sizeof side)
            return px_fail(err, PX_E_LIMIT, "%s: path too long", path);
        if (px_private_file(side, err))
            return -1;
    }
    return 0;
}

/* ---- connections ------------------------------------------------------------- */

int px_sqldb_check(sqlite3 *db, const char *what, const char *path, px_err *err) {
    sqlite3_stmt *st = NULL;
    char first[CHECK_MSG_MAX] = "";
    int problems = 0, rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            if (t && !strcmp((const char *)t, "ok"))
                continue;
            if (problems++ == 0)
                snprintf(first, sizeof first, "%s", t ? (const char *)t : "(no text)");
        }
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        snprintf(first, sizeof first, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (rc == SQLITE_OK && problems == 0)
        return 0;
    return px_fail(err, PX_E_STATE, "%s %s is damaged (integrity check: %s%s); " REFUSE, what, path, first,
                   problems > 1 ? ", ..." : "");
}

static int open_conn(const px_sqldb *d, sqlite3 **out, px_err *err) {
    sqlite3 *db = NULL;
    /* A connection is used by one thread only: no SQLite mutex needed. */
    if (sqlite3_open_v2(d->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        px_fail(err, PX_E_IO, "%s %s: %s", d->o.what, d->path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close_v2(db);
        return -1;
    }
    sqlite3_busy_timeout(db, d->o.busy_ms);
    char *msg = NULL;
    if (d->o.conn_sql && sqlite3_exec(db, d->o.conn_sql, NULL, NULL, &msg) != SQLITE_OK) {
        int code = sqlite3_errcode(db);
        if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
            px_fail(err, PX_E_STATE, "%s %s is damaged (%s); " REFUSE, d->o.what, d->path,
                    msg ? msg : sqlite3_errmsg(db));
        else
            px_fail(err, PX_E_IO, "%s %s: %s", d->o.what, d->path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_close_v2(db);
        return -1;
    }
    *out = db;
    return 0;
}

/* Register db as this thread's connection to d (g_mu held). */
static int adopt(px_sqldb *d, sqlite3 *db, px_err *err) {
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    *c = (conn){.owner = d, .db = db, .t_next = pthread_getspecific(g_key), .a_next = g_all};
    if (g_all)
        g_all->a_prev = c;
    g_all = c;
    if (pthread_setspecific(g_key, c)) {
        unlink_all(c);
        free(c);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    return 0;
}

/* This thread's connection to d, if any (g_mu held); entries of closed
 * stores are freed on the way. */
static sqlite3 *lookup(px_sqldb *d) {
    conn *head = pthread_getspecific(g_key), **pp = &head;
    sqlite3 *found = NULL;
    while (*pp) {
        conn *c = *pp;
        if (!c->owner) {
            *pp = c->t_next;
            unlink_all(c);
            free(c);
            continue;
        }
        if (c->owner == d)
            found = c->db;
        pp = &c->t_next;
    }
    pthread_setspecific(g_key, head);
    return found;
}

sqlite3 *px_sqldb_conn(px_sqldb *d, px_err *err) {
    pthread_mutex_lock(&g_mu);
    sqlite3 *db = lookup(d);
    pthread_mutex_unlock(&g_mu);
    if (db)
        return db;
    if (open_conn(d, &db, err))
        return NULL;
    pthread_mutex_lock(&g_mu);
    int rc = adopt(d, db, err);
    pthread_mutex_unlock(&g_mu);
    if (rc) {
        sqlite3_close_v2(db);
        return NULL;
    }
    return db;
}

const char *px_sqldb_path(const px_sqldb *d) { return d ? d->path : ""; }

int px_sqldb_open(px_sqldb **out, const char *path, const px_sqldb_opts *o, px_err *err) {
    pthread_once(&g_once, key_init);
    if (!g_key_ok)
        return px_fail(err, PX_E_NOMEM, "%s: no thread key for its connections", o->what);
    px_sqldb *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path))) {
        free(d);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    d->o = *o;
    if (d->o.busy_ms <= 0)
        d->o.busy_ms = BUSY_MS_DEFAULT;
    sqlite3 *db = NULL;
    if (px_private_store(path, err) || open_conn(d, &db, err) || px_sqldb_check(db, o->what, path, err) ||
        (o->init && o->init(db, o->ctx, err))) {
        if (db)
            sqlite3_close_v2(db);
        free(d->path);
        free(d);
        return -1;
    }
    pthread_mutex_lock(&g_mu);
    lookup(d); /* drops stale entries of a store once at this address */
    int rc = adopt(d, db, err);
    pthread_mutex_unlock(&g_mu);
    if (rc) {
        sqlite3_close_v2(db);
        free(d->path);
        free(d);
        return -1;
    }
    *out = d;
    return 0;
}

void px_sqldb_close(px_sqldb *d) {
    if (!d)
        return;
    pthread_mutex_lock(&g_mu);
    for (conn *c = g_all; c; c = c->a_next)
        if (c->owner == d) {
            sqlite3_close_v2(c->db);
            c->db = NULL;
            c->owner = NULL;
        }
    lookup(d); /* this thread's entries go now */
    pthread_mutex_unlock(&g_mu);
    free(d->path);
    free(d);
}
