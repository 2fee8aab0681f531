/* The issuer's durable state and its one rule: at most one token per
 * member per poll. Keys are made here and never leave; a poll is opened
 * with the conductor's statement (and member list); each first request of
 * an eligible member is signed only once the member's row is committed. */
#include <pthread.h>
#include <string.h>

#include "poll/pdb.h"

#define MAX_CACHED 64

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS keys("
    "  key_id BLOB PRIMARY KEY, der BLOB NOT NULL, owner TEXT NOT NULL, created INTEGER NOT NULL, poll BLOB);"
    "CREATE TABLE IF NOT EXISTS polls("
    "  poll BLOB PRIMARY KEY, key_id BLOB NOT NULL UNIQUE, plan BLOB NOT NULL, members BLOB,"
    "  closed INTEGER, not_eligible INTEGER NOT NULL DEFAULT 0, again INTEGER NOT NULL DEFAULT 0,"
    "  invalid INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS issued("
    "  poll BLOB NOT NULL, member BLOB NOT NULL, blinded BLOB NOT NULL, blind_sig BLOB NOT NULL,"
    "  issued INTEGER NOT NULL, PRIMARY KEY(poll, member)) WITHOUT ROWID;";

/* An open poll, parsed once. */
typedef struct cached {
    uint8_t id[PX_POLL_ID_BYTES];
    px_poll_plan plan;
    px_poll_members members;
    px_poll_key *key;
} cached;

struct px_poll_issuer {
    sqlite3 *db;
    pthread_mutex_t mu;
    cached *c[MAX_CACHED];
    size_t nc;
};

int px_poll_issuer_open(px_poll_issuer **out, const char *path, px_err *err) {
    px_poll_issuer *is = calloc(1, sizeof *is);
    if (!is)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    if (px_pdb_open(&is->db, path, schema_sql, err)) {
        free(is);
        return px_err_prefix(err, "issuer: ");
    }
    pthread_mutex_init(&is->mu, NULL);
    *out = is;
    return 0;
}

static void cached_free(cached *c) {
    if (!c)
        return;
    px_poll_plan_free(&c->plan);
    px_poll_members_free(&c->members);
    px_poll_key_free(c->key);
    free(c);
}

void px_poll_issuer_close(px_poll_issuer *is) {
    if (!is)
        return;
    for (size_t i = 0; i < is->nc; i++)
        cached_free(is->c[i]);
    sqlite3_close(is->db);
    pthread_mutex_destroy(&is->mu);
    free(is);
}

int px_poll_issuer_new_key(px_poll_issuer *is, const char *owner, unsigned bits, px_buf *spki, px_err *err) {
    px_poll_key *k = NULL;
    px_buf der = PX_BUF_INIT;
    sqlite3_stmt *st = NULL;
    uint8_t id[PX_POLL_KEY_ID_BYTES];
    size_t sl;
    int rc = -1;
    if (px_poll_key_generate(&k, bits, err) || px_poll_key_export(k, &der, err))
        goto out;
    px_poll_pub_id(px_poll_key_pub(k), id);
    pthread_mutex_lock(&is->mu);
    if (px_pdb_prepare(is->db, &st, "INSERT INTO keys(key_id, der, owner, created) VALUES (?, ?, ?, ?)", err) == 0) {
        sqlite3_bind_blob(st, 1, id, sizeof id, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, der.data, (int)der.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, px_now_ms());
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_pdb_fail(is->db, "storing a poll key", err);
    }
    pthread_mutex_unlock(&is->mu);
    if (rc == 0) {
        const uint8_t *p = px_poll_pub_spki(px_poll_key_pub(k), &sl);
        rc = px_buf_append(spki, p, sl, err);
    }
out:
    sqlite3_finalize(st);
    px_buf_free(&der);
    px_poll_key_free(k);
    return rc;
}

/* The poll key row: owner and binding. */
static int key_row(px_poll_issuer *is, const uint8_t id[32], px_buf *der, char owner[PX_POLL_NAME_MAX + 1],
                   int *bound, px_err *err) {
    sqlite3_stmt *st;
    if (px_pdb_prepare(is->db, &st, "SELECT der, owner, poll IS NOT NULL FROM keys WHERE key_id = ?", err))
        return -1;
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    int sr = sqlite3_step(st), rc = -1;
    if (sr == SQLITE_DONE)
        px_fail(err, PX_E_DENIED, "the survey's token key was not made by this issuer");
    else if (sr != SQLITE_ROW)
        px_pdb_fail(is->db, "reading poll keys", err);
    else {
        snprintf(owner, PX_POLL_NAME_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 1));
        *bound = sqlite3_column_int(st, 2);
        rc = px_buf_append(der, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), err);
    }
    sqlite3_finalize(st);
    return rc;
}

static int check_members(const px_poll_survey *s, const uint8_t *members, size_t mlen, px_poll_members *out,
                         px_err *err) {
    if (s->elig != PX_POLL_ELIG_LIST)
        return mlen ? px_fail(err, PX_E_INVALID, "a credential poll takes no member list") : 0;
    uint8_t d[32];
    px_sha256(d, members, mlen);
    if (!mlen || !px_ct_equal(d, s->list_digest, 32))
        return px_fail(err, PX_E_VERIFY, "the member list is not the one the survey names (SHA-256)");
    if (px_poll_members_parse(out, members, mlen, err))
        return -1;
    if (out->n != s->members) {
        px_poll_members_free(out);
        return px_fail(err, PX_E_VERIFY, "the member list has %zu members, the survey says %llu", out->n,
                       (unsigned long long)s->members);
    }
    return 0;
}

int px_poll_issuer_open_poll(px_poll_issuer *is, const char *owner, const px_verifier *self, const uint8_t *plan,
                             size_t len, const uint8_t *members, size_t mlen, px_err *err) {
    px_poll_plan p;
    px_poll_members m = {0};
    px_buf der = PX_BUF_INIT;
    char kowner[PX_POLL_NAME_MAX + 1];
    uint8_t kid[32];
    int bound = 0, rc = -1;
    sqlite3_stmt *st = NULL;
    if (px_poll_plan_parse(&p, plan, len, err))
        return -1;
    const px_poll_survey *s = &p.survey;
    px_poll_pub_id(s->key, kid);
    pthread_mutex_lock(&is->mu);
    if (memcmp(s->issuer.key.pk, self->pk, sizeof self->pk))
        px_fail(err, PX_E_DENIED, "the survey names another issuer (%s)", s->issuer.id);
    else if (strcmp(s->conductor.id, owner))
        px_fail(err, PX_E_DENIED, "only the survey's conductor %s may open it", s->conductor.id);
    else if (key_row(is, kid, &der, kowner, &bound, err) == 0 && check_members(s, members, mlen, &m, err) == 0) {
        if (strcmp(kowner, owner))
            px_fail(err, PX_E_DENIED, "the token key was made for %s", kowner);
        else if (bound)
            px_fail(err, PX_E_STATE, "the token key is already bound to a poll");
        else if (px_pdb_exec(is->db, "BEGIN IMMEDIATE", err) == 0) {
            rc = px_pdb_prepare(is->db, &st, "UPDATE keys SET poll = ? WHERE key_id = ?", err);
            if (rc == 0) {
                sqlite3_bind_blob(st, 1, s->id, 32, SQLITE_STATIC);
                sqlite3_bind_blob(st, 2, kid, 32, SQLITE_STATIC);
                rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_pdb_fail(is->db, "binding the key", err);
                sqlite3_finalize(st);
                st = NULL;
            }
            if (rc == 0 && (rc = px_pdb_prepare(is->db, &st,
                                                "INSERT INTO polls(poll, key_id, plan, members) VALUES (?, ?, ?, ?)",
                                                err)) == 0) {
                sqlite3_bind_blob(st, 1, s->id, 32, SQLITE_STATIC);
                sqlite3_bind_blob(st, 2, kid, 32, SQLITE_STATIC);
                sqlite3_bind_blob(st, 3, plan, (int)len, SQLITE_STATIC);
                if (mlen)
                    sqlite3_bind_blob(st, 4, members, (int)mlen, SQLITE_STATIC);
                rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_pdb_fail(is->db, "storing the poll", err);
            }
            rc = px_pdb_exec(is->db, rc ? "ROLLBACK" : "COMMIT", rc ? NULL : err) || rc ? -1 : 0;
        }
    }
    pthread_mutex_unlock(&is->mu);
    sqlite3_finalize(st);
    px_buf_free(&der);
    px_poll_members_free(&m);
    px_poll_plan_free(&p);
    return rc;
}

/* The open poll, from the cache or the database (under the lock). */
static cached *poll_get(px_poll_issuer *is, const uint8_t id[32], int64_t *closed, uint64_t counts[3],
                        px_err *err) {
    sqlite3_stmt *st;
    if (px_pdb_prepare(is->db, &st,
                       "SELECT p.plan, p.members, k.der, p.closed, p.not_eligible, p.again, p.invalid"
                       " FROM polls p JOIN keys k ON k.key_id = p.key_id WHERE p.poll = ?",
                       err))
        return NULL;
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    int sr = sqlite3_step(st);
    cached *c = NULL;
    if (sr == SQLITE_DONE) {
        char hex[17];
        px_hex_encode(hex, id, 8);
        px_fail(err, PX_E_NOTFOUND, "no poll %s... is open at this issuer", hex);
    }
    else if (sr != SQLITE_ROW)
        px_pdb_fail(is->db, "reading the poll", err);
    else {
        *closed = sqlite3_column_type(st, 3) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 3);
        for (int i = 0; i < 3; i++)
            counts[i] = (uint64_t)sqlite3_column_int64(st, 4 + i);
        for (size_t i = 0; i < is->nc && !c; i++)
            if (!memcmp(is->c[i]->id, id, 32))
                c = is->c[i];
        if (!c && (c = calloc(1, sizeof *c))) {
            memcpy(c->id, id, 32);
            if (px_poll_plan_parse(&c->plan, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), err) ||
                px_poll_key_parse(&c->key, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2), err) ||
                (sqlite3_column_type(st, 1) != SQLITE_NULL &&
                 px_poll_members_parse(&c->members, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                                       err))) {
                cached_free(c);
                c = NULL;
            } else {
                if (is->nc == MAX_CACHED) {
                    cached_free(is->c[0]);
                    memmove(is->c, is->c + 1, (MAX_CACHED - 1) * sizeof *is->c);
                    is->nc--;
                }
                is->c[is->nc++] = c;
            }
        } else if (!c)
            px_fail(err, PX_E_NOMEM, "out of memory");
    }
    sqlite3_finalize(st);
    return c;
}

static void count_refusal(px_poll_issuer *is, const uint8_t id[32], const char *column) {
    char sql[96];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "UPDATE polls SET %s = %s + 1 WHERE poll = ?", column, column);
    if (px_pdb_prepare(is->db, &st, sql, NULL))
        return;
    sqlite3_bind_blob(st, 1, id, 32, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

/* The member's row: 1 found (digest and signature filled), 0 none. */
static int member_row(px_poll_issuer *is, const uint8_t *poll, const uint8_t *member, uint8_t blinded[32],
                      px_buf *sig, int64_t *at, px_err *err) {
    sqlite3_stmt *st;
    if (px_pdb_prepare(is->db, &st, "SELECT blinded, blind_sig, issued FROM issued WHERE poll = ? AND member = ?",
                       err))
        return -1;
    sqlite3_bind_blob(st, 1, poll, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, member, 32, SQLITE_STATIC);
    int sr = sqlite3_step(st), rc = 0;
    if (sr == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(blinded, sqlite3_column_blob(st, 0), 32);
        *at = sqlite3_column_int64(st, 2);
        rc = px_buf_append(sig, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), err) ? -1 : 1;
    } else if (sr != SQLITE_DONE)
        rc = px_pdb_fail(is->db, "reading issued tokens", err);
    sqlite3_finalize(st);
    return rc;
}

static int eligible(const cached *c, const px_poll_issue_req *r, px_err *err) {
    const px_poll_survey *s = &c->plan.survey;
    if (s->elig == PX_POLL_ELIG_LIST)
        return px_poll_members_has(&c->members, r->member)
                   ? 0
                   : px_fail(err, PX_E_DENIED, "not a member of the poll's list");
    if (!r->clen)
        return px_fail(err, PX_E_DENIED, "the poll asks for a credential from %s", s->source.name);
    return px_poll_credential_check(r->credential, r->clen, s, r->member, r->now, err);
}

static int record(px_poll_issuer *is, const px_poll_issue_req *r, const uint8_t bd[32], const uint8_t *sig,
                  size_t k, px_err *err) {
    sqlite3_stmt *st;
    if (px_pdb_prepare(is->db, &st,
                       "INSERT INTO issued(poll, member, blinded, blind_sig, issued) VALUES (?, ?, ?, ?, ?)", err))
        return -1;
    sqlite3_bind_blob(st, 1, r->poll, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, r->member, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, bd, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, sig, (int)k, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, r->now);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_pdb_fail(is->db, "recording the token", err);
    sqlite3_finalize(st);
    return rc;
}

int px_poll_issuer_issue(px_poll_issuer *is, const px_poll_issue_req *r, px_buf *blind_sig, int64_t *issued_at,
                         int *fresh, px_err *err) {
    int64_t closed;
    uint64_t counts[3];
    uint8_t bd[32], had[32], sig[PX_POLL_RSA_MAX_BYTES];
    px_buf prev = PX_BUF_INIT;
    int rc = -1;
    *fresh = 0;
    pthread_mutex_lock(&is->mu);
    cached *c = poll_get(is, r->poll, &closed, counts, err);
    if (!c)
        goto out;
    const px_poll_survey *s = &c->plan.survey;
    size_t k = px_poll_pub_bytes(s->key);
    if (closed || r->now > s->closes) {
        px_fail(err, PX_E_DENIED, "issuance for this poll is closed");
        goto out;
    }
    if (r->blen != k) {
        count_refusal(is, r->poll, "invalid");
        px_fail(err, PX_E_INVALID, "the blinded message has %zu bytes, the poll key %zu", r->blen, k);
        goto out;
    }
    px_sha256(bd, r->blinded, r->blen);
    int found = member_row(is, r->poll, r->member, had, &prev, issued_at, err);
    if (found < 0)
        goto out;
    if (found) { /* a lost answer is given again; a second token never */
        if (px_ct_equal(had, bd, 32))
            rc = px_buf_append(blind_sig, prev.data, prev.len, err);
        else {
            count_refusal(is, r->poll, "again");
            px_fail(err, PX_E_STATE, "this member already holds a token for this poll");
        }
        goto out;
    }
    if (eligible(c, r, err)) {
        count_refusal(is, r->poll, "not_eligible");
        goto out;
    }
    if (px_poll_blind_sign(c->key, r->blinded, r->blen, sig, err)) {
        if (err && err->code == PX_E_INVALID)
            count_refusal(is, r->poll, "invalid");
        goto out;
    }
    /* Durable first: the signature leaves only once the row is on disk. */
    if (record(is, r, bd, sig, k, err) || px_buf_append(blind_sig, sig, k, err))
        goto out;
    *issued_at = r->now;
    *fresh = 1;
    rc = 0;
out:
    pthread_mutex_unlock(&is->mu);
    px_memzero(sig, sizeof sig);
    px_buf_free(&prev);
    return rc;
}

int px_poll_issuer_close_poll(px_poll_issuer *is, const uint8_t poll[PX_POLL_ID_BYTES], int64_t now,
                              px_poll_issued *out, px_err *err) {
    int64_t closed;
    uint64_t counts[3];
    sqlite3_stmt *st = NULL;
    int rc = -1;
    pthread_mutex_lock(&is->mu);
    cached *c = poll_get(is, poll, &closed, counts, err);
    if (!c)
        goto out;
    if (!closed && now <= c->plan.survey.closes) {
        px_fail(err, PX_E_DENIED, "the poll closes at %lld: issuance stays open until then",
                (long long)c->plan.survey.closes);
        goto out;
    }
    if (!closed) {
        if (px_pdb_prepare(is->db, &st, "UPDATE polls SET closed = ? WHERE poll = ?", err))
            goto out;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_blob(st, 2, poll, 32, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            px_pdb_fail(is->db, "closing the poll", err);
            goto out;
        }
        sqlite3_finalize(st);
        closed = now;
    }
    if (px_pdb_prepare(is->db, &st, "SELECT count(*) FROM issued WHERE poll = ?", err))
        goto out;
    sqlite3_bind_blob(st, 1, poll, 32, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        px_pdb_fail(is->db, "counting tokens", err);
        goto out;
    }
    memset(out, 0, sizeof *out);
    memcpy(out->poll, poll, 32);
    out->issued = (uint64_t)sqlite3_column_int64(st, 0);
    out->not_eligible = counts[0], out->again = counts[1], out->invalid = counts[2];
    out->closed = closed;
    rc = 0;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&is->mu);
    return rc;
}

int px_poll_issuer_plan(px_poll_issuer *is, const uint8_t poll[PX_POLL_ID_BYTES], px_buf *plan, px_err *err) {
    int64_t closed;
    uint64_t counts[3];
    pthread_mutex_lock(&is->mu);
    cached *c = poll_get(is, poll, &closed, counts, err);
    int rc = c ? px_buf_append(plan, c->plan.envelope.data, c->plan.envelope.len, err) : -1;
    pthread_mutex_unlock(&is->mu);
    return rc;
}
