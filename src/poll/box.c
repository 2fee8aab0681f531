/* A ballot box: sealed ballots kept durably as they arrive, per poll,
 * until the box releases them all at once to the poll's tally instance.
 * The box cannot open a ballot; it checks only what it can see: the poll,
 * the size every sealed ballot of that survey has, and the time. */
#include <pthread.h>
#include <string.h>

#include "poll/pdb.h"

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS polls("
    "  poll BLOB PRIMARY KEY, plan BLOB NOT NULL, released INTEGER);"
    "CREATE TABLE IF NOT EXISTS ballots("
    "  poll BLOB NOT NULL, seq INTEGER NOT NULL, received INTEGER NOT NULL, sealed BLOB NOT NULL,"
    "  PRIMARY KEY(poll, seq)) WITHOUT ROWID;";

typedef struct open_poll {
    uint8_t id[PX_POLL_ID_BYTES];
    int64_t opens, closes;
    size_t size;   /* every sealed ballot's */
    uint64_t max;  /* ballots kept at most */
    uint64_t n;    /* kept so far */
    int released;
} open_poll;

#define MAX_OPEN 256

struct px_poll_box {
    sqlite3 *db;
    pthread_mutex_t mu;
    open_poll p[MAX_OPEN];
    size_t np;
};

int px_poll_box_open(px_poll_box **out, const char *path, px_err *err) {
    px_poll_box *b = calloc(1, sizeof *b);
    if (!b)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    if (px_pdb_open(&b->db, path, schema_sql, err)) {
        free(b);
        return px_err_prefix(err, "ballot box: ");
    }
    pthread_mutex_init(&b->mu, NULL);
    *out = b;
    return 0;
}

void px_poll_box_close(px_poll_box *b) {
    if (!b)
        return;
    sqlite3_close(b->db);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

static int fill(open_poll *o, const uint8_t *plan, size_t len, int released, uint64_t n, px_err *err) {
    px_poll_plan p;
    if (px_poll_plan_parse(&p, plan, len, err))
        return -1;
    memcpy(o->id, p.survey.id, 32);
    o->opens = p.survey.opens;
    o->closes = p.survey.closes;
    o->size = px_poll_ballot_sealed_size(&p.survey);
    uint64_t m = p.survey.members ? 4 * p.survey.members + 1024 : PX_POLL_MAX_BALLOTS;
    o->max = m < PX_POLL_MAX_BALLOTS ? m : PX_POLL_MAX_BALLOTS;
    o->released = released;
    o->n = n;
    px_poll_plan_free(&p);
    return 0;
}

/* The poll's state, loaded on first use (under the lock). */
static open_poll *find(px_poll_box *b, const uint8_t id[32], px_err *err) {
    for (size_t i = 0; i < b->np; i++)
        if (!memcmp(b->p[i].id, id, 32))
            return &b->p[i];
    sqlite3_stmt *st;
    if (px_pdb_prepare(b->db, &st,
                       "SELECT plan, released IS NOT NULL, (SELECT count(*) FROM ballots WHERE poll = ?1)"
                       " FROM polls WHERE poll = ?1",
                       err))
        return NULL;
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    open_poll *o = NULL;
    int sr = sqlite3_step(st);
    if (sr == SQLITE_DONE) {
        char hex[17];
        px_hex_encode(hex, id, 8);
        px_fail(err, PX_E_NOTFOUND, "this ballot box collects no poll %s...", hex);
    } else if (sr != SQLITE_ROW)
        px_pdb_fail(b->db, "reading polls", err);
    else if (b->np == MAX_OPEN)
        px_fail(err, PX_E_LIMIT, "this ballot box holds %d polls already", MAX_OPEN);
    else if (fill(&b->p[b->np], sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                  sqlite3_column_int(st, 1), (uint64_t)sqlite3_column_int64(st, 2), err) == 0)
        o = &b->p[b->np++];
    sqlite3_finalize(st);
    return o;
}

int px_poll_box_open_poll(px_poll_box *b, const uint8_t *plan, size_t len, px_err *err) {
    open_poll o;
    if (fill(&o, plan, len, 0, 0, err))
        return -1;
    sqlite3_stmt *st;
    pthread_mutex_lock(&b->mu);
    int rc = px_pdb_prepare(b->db, &st, "INSERT INTO polls(poll, plan) VALUES (?, ?)", err);
    if (rc == 0) {
        sqlite3_bind_blob(st, 1, o.id, 32, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, plan, (int)len, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_pdb_fail(b->db, "storing the poll", err);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

int px_poll_box_accept(px_poll_box *b, const uint8_t poll[PX_POLL_ID_BYTES], const uint8_t *sealed, size_t len,
                       int64_t now, int64_t *received, px_err *err) {
    sqlite3_stmt *st = NULL;
    int rc = -1;
    pthread_mutex_lock(&b->mu);
    open_poll *o = find(b, poll, err);
    if (!o)
        goto out;
    if (o->released) {
        px_fail(err, PX_E_STATE, "the box released this poll's ballots to the tally; it takes no more");
        goto out;
    }
    if (len != o->size) {
        px_fail(err, PX_E_INVALID, "a sealed ballot of this poll has %zu bytes, not %zu", o->size, len);
        goto out;
    }
    if (now < o->opens) {
        px_fail(err, PX_E_DENIED, "the poll opens at %lld", (long long)o->opens);
        goto out;
    }
    if (o->n >= o->max) {
        px_fail(err, PX_E_LIMIT, "the box holds %llu ballots for this poll, its most", (unsigned long long)o->max);
        goto out;
    }
    if (px_pdb_prepare(b->db, &st, "INSERT INTO ballots(poll, seq, received, sealed) VALUES (?, ?, ?, ?)", err))
        goto out;
    sqlite3_bind_blob(st, 1, poll, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)o->n);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_blob(st, 4, sealed, (int)len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        px_pdb_fail(b->db, "keeping the ballot", err);
        goto out;
    }
    o->n++;
    *received = now;
    rc = now > o->closes ? px_fail(err, PX_E_DENIED, "the poll closed at %lld: the ballot is kept and will be "
                                   "counted as refused (late)", (long long)o->closes)
                         : 0;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

int px_poll_box_release(px_poll_box *b, const uint8_t poll[PX_POLL_ID_BYTES], int64_t now, px_buf *payload,
                        uint64_t *n, px_err *err) {
    sqlite3_stmt *st = NULL;
    int rc = -1;
    *n = 0;
    pthread_mutex_lock(&b->mu);
    open_poll *o = find(b, poll, err);
    if (!o)
        goto out;
    if (now <= o->closes) {
        px_fail(err, PX_E_DENIED, "the poll closes at %lld: the box stays open until then", (long long)o->closes);
        goto out;
    }
    if (!o->released) {
        if (px_pdb_prepare(b->db, &st, "UPDATE polls SET released = ? WHERE poll = ?", err))
            goto out;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_blob(st, 2, poll, 32, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            px_pdb_fail(b->db, "closing the box", err);
            goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
        o->released = 1;
    }
    if (px_poll_box_begin(payload, err) ||
        px_pdb_prepare(b->db, &st, "SELECT received, sealed FROM ballots WHERE poll = ? ORDER BY seq", err))
        goto out;
    sqlite3_bind_blob(st, 1, poll, 32, SQLITE_STATIC);
    int sr;
    while ((sr = sqlite3_step(st)) == SQLITE_ROW) {
        if (px_poll_box_append(payload, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
                               (size_t)sqlite3_column_bytes(st, 1), err))
            goto out;
        (*n)++;
    }
    rc = sr == SQLITE_DONE ? 0 : px_pdb_fail(b->db, "reading ballots", err);
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

int px_poll_box_plan(px_poll_box *b, const uint8_t poll[PX_POLL_ID_BYTES], px_buf *plan, px_err *err) {
    sqlite3_stmt *st;
    pthread_mutex_lock(&b->mu);
    int rc = px_pdb_prepare(b->db, &st, "SELECT plan FROM polls WHERE poll = ?", err);
    if (rc == 0) {
        sqlite3_bind_blob(st, 1, poll, 32, SQLITE_STATIC);
        int sr = sqlite3_step(st);
        rc = sr == SQLITE_ROW ? px_buf_append(plan, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), err)
             : sr == SQLITE_DONE ? px_fail(err, PX_E_NOTFOUND, "this ballot box collects no such poll")
                                 : px_pdb_fail(b->db, "reading polls", err);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}
