/* The POD's record of admitted manifests. One row per manifest, written in
 * one durable transaction before the POD seals anything, so a replayed plan
 * (or a second plan for a manifest already running) is refused even after a
 * restart. */
#include <sqlite3.h>
#include <string.h>

#include "core/sqldb.h"
#include "exec/util.h"

#define PX_ADMIT_BUSY_MS 30000

/* A connection per thread (core/sqldb.h): the admission and its watch are
 * one transaction whatever other threads do. */
struct px_admissions {
    px_sqldb *store;
};

static int db_fail(sqlite3 *db, px_err *err, const char *what) {
    int code = sqlite3_extended_errcode(db) & 0xff;
    return px_fail(err, code == SQLITE_BUSY || code == SQLITE_LOCKED ? PX_E_UNAVAILABLE : PX_E_IO, "admissions: %s: %s",
                   what, sqlite3_errmsg(db));
}

static int init(sqlite3 *db, void *ctx, px_err *err) {
    if (sqlite3_exec(db,
                     "CREATE TABLE IF NOT EXISTS admitted(manifest BLOB PRIMARY KEY, plan BLOB NOT NULL,"
                     " consumer TEXT NOT NULL, at INTEGER NOT NULL);"
                     /* what settling the task's charge needs (settle.c); settled: when, outcome: how */
                     "CREATE TABLE IF NOT EXISTS watch(manifest BLOB PRIMARY KEY, deadline INTEGER NOT NULL,"
                     " doc TEXT NOT NULL, settled INTEGER, outcome TEXT);"
                     "CREATE INDEX IF NOT EXISTS watch_open ON watch(deadline) WHERE settled IS NULL;"
                     /* the rounds of trainings admitted (training.c): a round runs under its
                      * first round's charge, once, on the same terms */
                     "CREATE TABLE IF NOT EXISTS trainings(first BLOB NOT NULL, round INTEGER NOT NULL,"
                     " consumer TEXT NOT NULL, terms BLOB NOT NULL, rounds INTEGER NOT NULL, doc TEXT NOT NULL,"
                     " manifest BLOB NOT NULL, at INTEGER NOT NULL, PRIMARY KEY(first, round))",
                     NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, err, "creating the table");
    return 0;
}

int px_admissions_open(px_admissions **out, const char *path, px_err *err) {
    px_admissions *a = calloc(1, sizeof *a);
    if (!a)
        return px_fail(err, PX_E_NOMEM, "out of memory opening admissions");
    px_sqldb_opts o = {.what = "admissions database",
                       .conn_sql = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
                       .init = init,
                       .busy_ms = PX_ADMIT_BUSY_MS};
    if (px_sqldb_open(&a->store, path, &o, err)) {
        free(a);
        return -1;
    }
    *out = a;
    return 0;
}

static int record(px_admissions *a, const px_plan *p, int64_t now, px_err *err) {
    sqlite3 *db = px_sqldb_conn(a->store, err);
    if (!db)
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO admitted(manifest, plan, consumer, at) VALUES (?, ?, ?, ?)", -1, &st,
                           NULL) != SQLITE_OK)
        return db_fail(db, err, "preparing");
    sqlite3_bind_blob(st, 1, p->manifest.id, PX_SHA256_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, p->id, PX_SHA256_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p->manifest.consumer_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) {
        char hex[17];
        px_hex_encode(hex, p->manifest.id, 8);
        return px_fail(err, PX_E_STATE, "plan refused: manifest %s... was already admitted (a replayed plan)", hex);
    }
    if (rc != SQLITE_DONE)
        return db_fail(db, err, "recording");
    return 0;
}

int px_admissions_record(px_admissions *a, const px_plan *p, int64_t now, px_err *err) {
    return record(a, p, now, err);
}

/* ---- watches: what settling a task's charge needs --------------------------------- */

static int watch_encode(const px_settle_watch *w, px_buf *out, px_err *err) {
    json_t *o = json_object(), *kinds = json_array(), *inst = json_array();
    int rc = !o || !kinds || !inst ? px_fail(err, PX_E_NOMEM, "out of memory") : 0;
    if (rc == 0)
        rc = px_x_set(o, "stage", json_integer(w->stage), err) || px_x_set(o, "kinds", json_incref(kinds), err) ||
             px_x_set_hex(o, "consumer", w->consumer, PX_SIGN_PUBLICKEYBYTES, err) ||
             px_x_set(o, "instances", json_incref(inst), err);
    if (rc == 0 && w->pod_side)
        rc = px_x_set_hex(o, "pod_key", w->pod_key, PX_SIGN_PUBLICKEYBYTES, err);
    if (rc == 0 && w->final)
        rc = px_x_set(o, "final", json_true(), err);
    for (uint32_t s = 0; rc == 0 && s < w->nstages; s++)
        rc = px_x_append(kinds, json_string(w->kinds[s]), err);
    for (size_t i = 0; rc == 0 && i < w->ninst; i++) {
        json_t *x = json_object();
        rc = px_x_append(inst, x, err) || px_x_set(x, "stage", json_integer(w->inst[i].stage), err) ||
             px_x_set(x, "partition", json_integer(w->inst[i].partition), err) ||
             px_x_set_hex(x, "key", w->inst[i].sign_pk, PX_SIGN_PUBLICKEYBYTES, err);
    }
    if (rc == 0)
        rc = px_json_dump(o, out, err);
    json_decref(o);
    json_decref(kinds);
    json_decref(inst);
    return rc ? -1 : 0;
}

/* The stored document, read back strictly (it is our own, but a database
 * edited behind the node's back must not become a refund). */
static int watch_decode(px_settle_watch *w, const uint8_t *mid, int64_t deadline, const void *doc, size_t len,
                        px_err *err) {
    memset(w, 0, sizeof *w);
    memcpy(w->manifest, mid, PX_SHA256_BYTES);
    w->deadline = deadline;
    json_t *o = px_json_parse(doc, len, 1u << 20, err), *kinds, *inst, *v;
    int64_t stage = -1, part = -1, s = -1;
    size_t i;
    int rc = o ? 0 : -1;
    if (rc == 0)
        rc = px_json_int(o, "stage", &stage, err) || px_x_arr(o, "kinds", 1, PX_MANIFEST_MAX_STAGES, &kinds, err) ||
             px_json_hex(o, "consumer", w->consumer, PX_SIGN_PUBLICKEYBYTES, err) ||
             px_x_arr(o, "instances", 1, PX_PLAN_MAX_INSTANCES, &inst, err);
    if (rc == 0 && json_object_get(o, "pod_key")) {
        w->pod_side = 1;
        rc = px_json_hex(o, "pod_key", w->pod_key, PX_SIGN_PUBLICKEYBYTES, err);
    }
    if (rc == 0 && json_object_get(o, "final")) {
        w->final = json_is_true(json_object_get(o, "final"));
        if (!w->final)
            rc = px_fail(err, PX_E_INVALID, "\"final\" is not true");
    }
    if (rc == 0 && !(w->inst = calloc(json_array_size(inst), sizeof *w->inst)))
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    if (rc == 0) {
        w->stage = stage < 0 ? 0 : (uint32_t)stage;
        w->nstages = (uint32_t)json_array_size(kinds);
        json_array_foreach(kinds, i, v) {
            if (rc == 0 && (!json_is_string(v) || json_string_length(v) >= sizeof w->kinds[i]))
                rc = px_fail(err, PX_E_INVALID, "kind %zu is not a stage kind", i);
            else if (rc == 0)
                memcpy(w->kinds[i], json_string_value(v), json_string_length(v) + 1);
        }
        json_array_foreach(inst, i, v) {
            if (rc == 0 && (px_json_int(v, "stage", &s, err) || px_json_int(v, "partition", &part, err) ||
                            px_json_hex(v, "key", w->inst[i].sign_pk, PX_SIGN_PUBLICKEYBYTES, err)))
                rc = -1;
            if (rc == 0 && (s < 0 || s >= PX_MANIFEST_MAX_STAGES || part < 0 || part >= PX_PLAN_MAX_INSTANCES))
                rc = px_fail(err, PX_E_INVALID, "instance %zu is out of range", i);
            w->inst[i].stage = (uint32_t)s;
            w->inst[i].partition = (uint32_t)part;
            w->ninst = i + 1;
        }
    }
    json_decref(o);
    if (rc == 0 && (stage < 0 || (uint64_t)stage >= w->nstages))
        rc = px_fail(err, PX_E_INVALID, "the watched stage is not a stage of the task");
    if (rc) {
        px_settle_watch_free(w);
        return px_err_prefix(err, "admissions: stored watch: ");
    }
    return 0;
}

/* ---- rounds of a training ----------------------------------------------------------- */

/* A training's terms, computed before the transaction (they read the
 * manifest only). */
typedef struct terms {
    px_buf doc;
    uint8_t digest[PX_SHA256_BYTES];
} terms;

static int terms_of(const px_manifest *m, terms *t, px_err *err) {
    memset(t, 0, sizeof *t);
    if (!m->has_training)
        return 0;
    if (px_manifest_training_terms(m, &t->doc, t->digest, err) == 0)
        return 0;
    px_buf_free(&t->doc);
    return -1;
}

/* Round 1 of the training that m names: its consumer, terms and rounds.
 * 1 if found, 0 if not, -1 on error. */
static int first_round(sqlite3 *db, const uint8_t *first, char *consumer, size_t cap, uint8_t *digest,
                       px_buf *doc, int64_t *rounds, px_err *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT consumer, terms, rounds, doc FROM trainings WHERE first = ? AND round = 1", -1,
                           &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "preparing");
    sqlite3_bind_blob(st, 1, first, PX_SHA256_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        found = 1;
        snprintf(consumer, cap, "%s", (const char *)sqlite3_column_text(st, 0));
        if (sqlite3_column_bytes(st, 1) != PX_SHA256_BYTES)
            found = px_fail(err, PX_E_STATE, "admissions: a stored training has malformed terms");
        else
            memcpy(digest, sqlite3_column_blob(st, 1), PX_SHA256_BYTES);
        *rounds = sqlite3_column_int64(st, 2);
        if (found == 1 && px_buf_append(doc, sqlite3_column_text(st, 3), (size_t)sqlite3_column_bytes(st, 3), err))
            found = -1;
    } else if (rc != SQLITE_DONE) {
        found = db_fail(db, err, "reading the trainings");
    }
    sqlite3_finalize(st);
    return found;
}

static int round_taken(sqlite3 *db, const uint8_t *first, uint32_t round, px_err *err) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM trainings WHERE first = ? AND round = ?", -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "preparing");
    sqlite3_bind_blob(st, 1, first, PX_SHA256_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, round);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : db_fail(db, err, "reading the trainings");
}

/* Judge m's round against what this POD admitted of its training and, if
 * write, record it. Inside the caller's transaction. */
static int training_step(sqlite3 *db, const px_manifest *m, const terms *t, int64_t now, int write, px_err *err) {
    if (!m->has_training)
        return 0;
    const px_training *tr = &m->training;
    const uint8_t *first = tr->has_first ? tr->first : m->id;
    char hex[17];
    px_hex_encode(hex, first, 8);
    if (tr->has_first) {
        char consumer[PX_NODE_ID_MAX + 1] = "";
        uint8_t digest[PX_SHA256_BYTES];
        px_buf doc = PX_BUF_INIT;
        int64_t rounds = 0;
        int found = first_round(db, first, consumer, sizeof consumer, digest, &doc, &rounds, err), rc = 0;
        if (found < 0)
            rc = -1;
        else if (!found || strcmp(consumer, m->consumer_id))
            rc = px_fail(err, PX_E_DENIED, "round %u names a first round this POD never admitted for consumer %s "
                         "(training %s...)", tr->round, m->consumer_id, hex);
        else if ((int64_t)tr->round > rounds)
            rc = px_fail(err, PX_E_DENIED, "round %u of training %s...: beyond its %lld rounds", tr->round, hex,
                         (long long)rounds);
        else if ((rc = round_taken(db, first, tr->round, err)) != 0)
            rc = rc < 0 ? -1
                        : px_fail(err, PX_E_STATE, "round %u of training %s...: already admitted (a replayed round)",
                                  tr->round, hex);
        else if (!px_ct_equal(digest, t->digest, PX_SHA256_BYTES)) {
            char why[240];
            px_manifest_training_terms_diff(doc.data, doc.len, t->doc.data, t->doc.len, why, sizeof why);
            rc = px_fail(err, PX_E_DENIED, "round %u's terms differ from round 1's (training %s...): %s", tr->round,
                         hex, why);
        }
        px_buf_free(&doc);
        if (rc)
            return -1;
    } else {
        int taken = round_taken(db, first, 1, err);
        if (taken)
            return taken < 0 ? -1
                             : px_fail(err, PX_E_STATE, "round 1 of training %s...: already admitted (a replayed "
                                       "round)", hex);
    }
    if (!write)
        return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO trainings(first, round, consumer, terms, rounds, doc, manifest, at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "preparing");
    sqlite3_bind_blob(st, 1, first, PX_SHA256_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, tr->round);
    sqlite3_bind_text(st, 3, m->consumer_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, t->digest, PX_SHA256_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, tr->rounds);
    sqlite3_bind_text(st, 6, (const char *)t->doc.data, (int)t->doc.len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, m->id, PX_SHA256_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return px_fail(err, PX_E_STATE, "round %u of training %s...: already admitted (a replayed round)", tr->round,
                       hex);
    return rc == SQLITE_DONE ? 0 : db_fail(db, err, "recording the training's round");
}

/* Run one training step in a transaction of its own (write) or a read. */
static int training_tx(px_admissions *a, const px_manifest *m, int64_t now, int write, px_err *err) {
    terms t;
    if (!m->has_training)
        return 0;
    if (terms_of(m, &t, err))
        return -1;
    sqlite3 *db = px_sqldb_conn(a->store, err);
    int rc = db ? 0 : -1;
    if (rc == 0 && write && sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(db, err, "beginning");
    if (rc == 0)
        rc = training_step(db, m, &t, now, write, err);
    if (rc == 0 && write && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(db, err, "committing");
    if (rc && db && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    px_buf_free(&t.doc);
    return rc;
}

int px_admissions_training_check(px_admissions *a, const px_manifest *m, px_err *err) {
    return training_tx(a, m, 0, 0, err);
}

int px_admissions_training_admit(px_admissions *a, const px_manifest *m, int64_t now, px_err *err) {
    return training_tx(a, m, now, 1, err);
}

/* ---- admission --------------------------------------------------------------------- */

static int admit(px_admissions *a, const px_plan *p, const px_attested *att, const uint8_t *pod_key, int64_t now,
                 px_err *err) {
    px_settle_watch w;
    px_buf doc = PX_BUF_INIT;
    int watched = px_settle_watch_from_plan(&w, p, att, err);
    if (watched == 0 && pod_key) {
        w.pod_side = 1;
        memcpy(w.pod_key, pod_key, PX_SIGN_PUBLICKEYBYTES);
    }
    terms t;
    if (watched || watch_encode(&w, &doc, err) || terms_of(&p->manifest, &t, err)) {
        px_settle_watch_free(&w);
        px_buf_free(&doc);
        return -1;
    }
    px_settle_watch_free(&w);
    sqlite3_stmt *st = NULL;
    sqlite3 *db = px_sqldb_conn(a->store, err);
    if (!db) {
        px_buf_free(&doc);
        px_buf_free(&t.doc);
        return -1;
    }
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 : db_fail(db, err, "beginning");
    if (rc == 0)
        rc = record(a, p, now, err);
    if (rc == 0 && sqlite3_prepare_v2(db, "INSERT INTO watch(manifest, deadline, doc) VALUES (?, ?, ?)", -1, &st,
                                      NULL) != SQLITE_OK)
        rc = db_fail(db, err, "preparing");
    if (rc == 0) {
        sqlite3_bind_blob(st, 1, p->manifest.id, PX_SHA256_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, p->manifest.deadline);
        sqlite3_bind_text(st, 3, (const char *)doc.data, (int)doc.len, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(db, err, "recording the watch");
    }
    sqlite3_finalize(st);
    px_buf_free(&doc);
    /* The round of a training, in the same transaction: nothing partial. */
    if (rc == 0)
        rc = training_step(db, &p->manifest, &t, now, 1, err);
    px_buf_free(&t.doc);
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(db, err, "committing");
    if (rc && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int px_admissions_admit(px_admissions *a, const px_plan *p, const px_attested *att, int64_t now, px_err *err) {
    return admit(a, p, att, NULL, now, err);
}

int px_admissions_admit_pod(px_admissions *a, const px_plan *p, const px_attested *att,
                            const uint8_t pod_key[PX_SIGN_PUBLICKEYBYTES], int64_t now, px_err *err) {
    return admit(a, p, att, pod_key, now, err);
}

int px_admissions_due(px_admissions *a, int64_t before, size_t max, px_settle_watch **out, size_t *n, px_err *err) {
    sqlite3 *db = px_sqldb_conn(a->store, err);
    if (!db)
        return -1;
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT manifest, deadline, doc FROM watch WHERE settled IS NULL AND deadline <= ? "
                           "ORDER BY deadline, manifest LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "preparing");
    sqlite3_bind_int64(st, 1, before);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    px_settle_watch *v = calloc(max + 1, sizeof *v);
    int rc = v ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
    size_t k = 0;
    int step;
    while (rc == 0 && k < max && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != PX_SHA256_BYTES)
            rc = px_fail(err, PX_E_STATE, "admissions: a stored watch has a malformed manifest id");
        else if (watch_decode(&v[k], sqlite3_column_blob(st, 0), sqlite3_column_int64(st, 1),
                              sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2), err) == 0)
            k++;
        else
            rc = -1;
    }
    sqlite3_finalize(st);
    if (rc) {
        for (size_t i = 0; i < k; i++)
            px_settle_watch_free(&v[i]);
        free(v);
        return -1;
    }
    *out = v;
    *n = k;
    return 0;
}

int px_admissions_settled(px_admissions *a, const uint8_t manifest[PX_SHA256_BYTES], const char *outcome, int64_t now,
                          px_err *err) {
    sqlite3 *db = px_sqldb_conn(a->store, err);
    if (!db)
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "UPDATE watch SET settled = ?, outcome = ? WHERE manifest = ? AND settled IS NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "preparing");
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, outcome, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, manifest, PX_SHA256_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(db, err, "settling");
    sqlite3_finalize(st);
    return rc;
}

int px_admissions_has(px_admissions *a, const uint8_t manifest[PX_SHA256_BYTES], px_err *err) {
    sqlite3 *db = px_sqldb_conn(a->store, err);
    if (!db)
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM admitted WHERE manifest = ?", -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, err, "preparing");
    sqlite3_bind_blob(st, 1, manifest, PX_SHA256_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return db_fail(db, err, "reading");
}

void px_admissions_close(px_admissions *a) {
    if (!a)
        return;
    px_sqldb_close(a->store);
    free(a);
}
