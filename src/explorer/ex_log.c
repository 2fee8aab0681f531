/* The log's views: the overview, the log itself (checkpoint, witnesses'
 * cosignatures and how fresh they are, appends over time), one entry with
 * its inclusion proof, a digest's lineage (px_trace: the same JSON and dot
 * as `pixiu trace`), search, a node, and the trust root the receipt page
 * pins to. */
#include <ctype.h>
#include <string.h>

#include "explorer/ex.h"

#define EX_APPEND_BUCKETS 48
#define EX_SEARCH_MAX 20
#define EX_NODE_TASKS 200

static json_t *verifier_json(const px_verifier *v) {
    px_buf b = PX_BUF_INIT;
    json_t *s = px_verifier_format(v, &b, NULL) ? NULL : json_stringn((char *)b.data, b.len);
    px_buf_free(&b);
    return s ? s : json_null();
}

static json_t *roles_json(unsigned roles) {
    json_t *a = json_array();
    for (unsigned b = 1; b <= PX_ROLE_CONSUMER; b <<= 1)
        if (roles & b)
            json_array_append_new(a, json_string(px_role_name(b)));
    return a;
}

static json_t *member_json(const px_member *m) {
    json_t *o = json_pack("{s:s,s:s,s:o,s:o}", "id", m->id, "url", m->url, "signing_key", verifier_json(&m->signing),
                          "roles", roles_json(m->roles));
    if (o && m->has_platform) {
        json_object_set_new(o, "platform_key", verifier_json(&m->platform));
        json_object_set_new(o, "tee", json_string(m->tee));
        json_object_set_new(o, "level", json_integer(m->level));
    }
    if (o && m->has_box) {
        char hex[2 * PX_BOX_PUBLICKEYBYTES + 1];
        px_hex_encode(hex, m->box_pk, PX_BOX_PUBLICKEYBYTES);
        json_object_set_new(o, "box_key", json_string(hex));
    }
    return o;
}

static int members(px_explorer *x, px_membership *m, px_err *err) {
    memset(m, 0, sizeof *m);
    if (!x->o.members)
        return px_fail(err, PX_E_INTERNAL, "the explorer has no membership");
    return x->o.members(x->o.ctx, m, err);
}

/* ---- overview ---------------------------------------------------------------------- */

void ex_view_overview(ex_req *r) {
    px_explorer *x = r->x;
    px_err err = {0};
    px_membership m;
    if (members(x, &m, &err))
        return ex_fail(r, &err);
    const px_member *log = NULL;
    for (size_t i = 0; i < m.n && !log; i++)
        if (m.nodes[i].roles & PX_ROLE_LOG)
            log = &m.nodes[i];
    json_t *o = json_pack("{s:s,s:o,s:b,s:b,s:s?,s:I}", "node", x->node_id, "roles", roles_json(x->o.roles), "log",
                          x->o.log != NULL, "pod", x->o.pod != NULL, "log_explorer", log ? log->url : NULL, "members",
                          (json_int_t)m.n);
    px_membership_free(&m);
    if (o && x->o.log) {
        uint64_t size = 0;
        pthread_mutex_lock(&x->mu);
        int rc = ex_index_update(x, &err);
        size_t tasks = x->ntasks;
        size = x->scanned;
        pthread_mutex_unlock(&x->mu);
        if (rc) {
            json_decref(o);
            return ex_fail(r, &err);
        }
        json_object_set_new(o, "size", json_integer((json_int_t)size));
        json_object_set_new(o, "tasks", json_integer((json_int_t)tasks));
    }
    ex_json(r, o);
}

/* ---- the log ------------------------------------------------------------------------- */

static json_t *appends_json(px_explorer *x) {
    int64_t lo = 0, hi = 0;
    for (uint64_t i = 0; i < x->scanned; i++) {
        int64_t t = x->times[i];
        if (t > 0 && (!lo || t < lo))
            lo = t;
        if (t > hi)
            hi = t;
    }
    json_t *counts = json_array();
    int64_t width = lo ? (hi - lo) / EX_APPEND_BUCKETS + 1 : 1;
    if (width < 1000)
        width = 1000;
    size_t nb = lo ? (size_t)((hi - lo) / width + 1) : 0;
    uint64_t c[EX_APPEND_BUCKETS + 1] = {0}, untimed = 0;
    for (uint64_t i = 0; i < x->scanned; i++) {
        int64_t t = x->times[i];
        if (t > 0)
            c[(t - lo) / width]++;
        else
            untimed++;
    }
    for (size_t b = 0; b < nb && b <= EX_APPEND_BUCKETS; b++)
        json_array_append_new(counts, json_integer((json_int_t)c[b]));
    return json_pack("{s:I,s:I,s:o,s:I}", "from", (json_int_t)lo, "bucket_ms", (json_int_t)width, "counts", counts,
                     "untimed", (json_int_t)untimed);
}

/* The checkpoint cosigned by the witnesses, asked again when the last
 * answer is older than PX_EXPLORER_COSIGN_EVERY_MS (one request at a
 * time, never while holding the lock): a copy into out, or the note itself. */
static void cosigned_note(px_explorer *x, const px_buf *note, px_buf *out) {
    int64_t now = px_now_ms();
    pthread_mutex_lock(&x->mu);
    int ask = x->o.cosign && !x->cosigning && now - x->cosigned_at >= PX_EXPLORER_COSIGN_EVERY_MS;
    if (ask)
        x->cosigning = 1;
    pthread_mutex_unlock(&x->mu);
    if (ask) {
        px_buf got = PX_BUF_INIT;
        int rc = x->o.cosign(x->o.ctx, (const char *)note->data, note->len, &got, NULL);
        pthread_mutex_lock(&x->mu);
        if (rc == 0) {
            px_buf_free(&x->cosigned);
            x->cosigned = got;
            got = (px_buf)PX_BUF_INIT;
        }
        x->cosigned_at = now;
        x->cosigning = 0;
        pthread_mutex_unlock(&x->mu);
        px_buf_free(&got);
    }
    pthread_mutex_lock(&x->mu);
    const px_buf *src = x->cosigned.len ? &x->cosigned : note;
    px_buf_append(out, src->data, src->len, NULL);
    pthread_mutex_unlock(&x->mu);
}

/* Each witness of the membership: whether it cosigned the checkpoint
 * (the log's, or the one last cosigned for this view), and when. */
static json_t *witnesses_json(const px_membership *m, const px_note *note, int64_t now) {
    json_t *arr = json_array();
    for (size_t i = 0; i < m->n; i++) {
        const px_member *w = &m->nodes[i];
        if (!(w->roles & PX_ROLE_WITNESS))
            continue;
        px_cosigner c;
        memcpy(c.name, w->signing.name, sizeof c.name);
        memcpy(c.pk, w->signing.pk, sizeof c.pk);
        c.id = px_cosig_key_id(c.name, c.pk);
        uint64_t ts = 0;
        px_err e = {0};
        int ok = note && px_cosig_verify(note, &c, &ts, &e) == 0;
        json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:o,s:o,s:s}", "node", w->id, "name", c.name, "cosigned",
                                             ok, "time", ok ? json_integer((json_int_t)ts * 1000) : json_null(),
                                             "age_ms", ok ? json_integer(now - (json_int_t)ts * 1000) : json_null(),
                                             "why", ok ? "" : e.msg));
    }
    return arr;
}

void ex_view_log(ex_req *r) {
    px_explorer *x = r->x;
    px_err err = {0};
    px_buf text = PX_BUF_INIT;
    uint64_t size;
    px_membership m;
    if (px_log_checkpoint(x->o.log, &text, &size, &err) || members(x, &m, &err)) {
        px_buf_free(&text);
        return ex_fail(r, &err);
    }
    const px_member *self = px_membership_find(&m, x->node_id);
    px_checkpoint cp, wcp;
    px_note note;
    px_buf cosigned = PX_BUF_INIT;
    cosigned_note(x, &text, &cosigned);
    int have_cp = self && px_checkpoint_open(&cp, (char *)text.data, text.len, &self->signing, NULL, &err) == 0;
    int have_note = self && px_checkpoint_open(&wcp, (char *)cosigned.data, cosigned.len, &self->signing, NULL, NULL) == 0 &&
                    px_note_parse(&note, (char *)cosigned.data, cosigned.len, NULL) == 0;
    json_t *o = json_pack("{s:s,s:I,s:s%,s:b,s:s}", "node", x->node_id, "size", (json_int_t)size, "note",
                          (char *)text.data, text.len, "signed", have_cp, "why", have_cp ? "" : err.msg);
    if (o && have_cp) {
        px_buf root = PX_BUF_INIT;
        px_buf_append_b64(&root, cp.root, sizeof cp.root, NULL);
        json_object_set_new(o, "origin", json_string(cp.origin));
        json_object_set_new(o, "root", json_stringn((char *)root.data, root.len));
        json_object_set_new(o, "log_key", verifier_json(&self->signing));
        px_buf_free(&root);
        px_checkpoint_free(&cp);
    }
    if (o) {
        json_object_set_new(o, "witnesses", witnesses_json(&m, have_note ? &note : NULL, px_now_ms()));
        json_object_set_new(o, "cosigned_size", have_note ? json_integer((json_int_t)wcp.size) : json_null());
        pthread_mutex_lock(&x->mu);
        int rc = ex_index_update(x, &err);
        if (rc == 0) {
            json_object_set_new(o, "appends", appends_json(x));
            json_object_set_new(o, "tasks", json_integer((json_int_t)x->ntasks));
        }
        pthread_mutex_unlock(&x->mu);
        if (rc) {
            json_decref(o);
            o = NULL;
        }
    }
    if (have_note) {
        px_note_free(&note);
        px_checkpoint_free(&wcp);
    }
    px_buf_free(&cosigned);
    px_membership_free(&m);
    px_buf_free(&text);
    if (!o)
        return ex_fail(r, err.msg[0] ? &err : &(px_err){PX_E_NOMEM, "out of memory"});
    ex_json(r, o);
}

/* ---- one entry ----------------------------------------------------------------------- */

void ex_view_entry(ex_req *r) {
    px_explorer *x = r->x;
    px_err err = {0};
    char *end;
    unsigned long long n = strtoull(r->rest, &end, 10);
    uint64_t size;
    if (!isdigit((unsigned char)r->rest[0]) || *end || (r->rest[0] == '0' && r->rest[1]) || strlen(r->rest) > 19) {
        px_fail(&err, PX_E_NOTFOUND, "an entry is /ui/entry/<index>");
        return ex_fail(r, &err);
    }
    if (ex_size(x, &size, &err))
        return ex_fail(r, &err);
    if (n >= size) {
        px_fail(&err, PX_E_NOTFOUND, "entry %llu is beyond the checkpoint's %llu entries", n, (unsigned long long)size);
        return ex_fail(r, &err);
    }
    px_buf b = PX_BUF_INIT;
    if (px_log_entry(x->o.log, n, &b, &err)) {
        px_buf_free(&b);
        return ex_fail(r, &err);
    }
    px_entry e;
    px_err perr = {0};
    int parsed = px_entry_parse(&e, n, b.data, b.len, &perr) == 0;
    uint8_t id[PX_SHA256_BYTES];
    char hex[2 * PX_SHA256_BYTES + 1];
    px_sha256(id, b.data, b.len);
    ex_hex(hex, id);
    json_t *inc = ex_inclusion(x, n, size, &err);
    json_t *o = inc ? json_pack("{s:I,s:s,s:s,s:I,s:o}", "entry", (json_int_t)n, "id", hex, "kind",
                                parsed ? ex_kind_name(e.kind) : "other", "bytes", (json_int_t)b.len, "inclusion", inc)
                    : NULL;
    if (o) {
        px_x_set_b64(o, "raw", b.data, b.len, NULL);
        if (!parsed)
            json_object_set_new(o, "why", json_string(perr.msg));
        if (parsed && e.kind != PX_ENTRY_OTHER) {
            char mh[2 * PX_SHA256_BYTES + 1];
            ex_hex(mh, e.manifest);
            json_object_set_new(o, "task", json_string(mh));
            json_object_set_new(o, "predicate_type", json_string(e.st.predicate_type));
            json_object_set_new(o, "predicate", json_deep_copy(e.st.predicate));
            json_t *subj = json_array();
            for (size_t i = 0; i < e.st.nsubjects; i++) {
                ex_hex(mh, e.st.subjects[i].sha256);
                json_array_append_new(subj, json_pack("{s:s,s:s}", "name", e.st.subjects[i].name ? e.st.subjects[i].name
                                                                                                  : "", "sha256", mh));
            }
            json_object_set_new(o, "subject", subj);
        }
        if (parsed) {
            json_t *sigs = json_array();
            for (size_t i = 0; i < e.env.nsigs; i++)
                json_array_append_new(sigs, json_pack("{s:s}", "keyid", e.env.sigs[i].keyid ? e.env.sigs[i].keyid : ""));
            json_object_set_new(o, "payload_type", json_string(e.env.payload_type));
            json_object_set_new(o, "signatures", sigs);
        }
    }
    if (parsed)
        px_entry_free(&e);
    px_buf_free(&b);
    if (!o)
        return ex_fail(r, err.msg[0] ? &err : &(px_err){PX_E_NOMEM, "out of memory"});
    ex_json(r, o);
}

/* ---- lineage ------------------------------------------------------------------------- */

static int lookup_subject(void *ctx, const uint8_t d[PX_SHA256_BYTES], px_entry **out, size_t *n, px_err *err) {
    return ex_entries(ctx, PX_LOG_BY_SUBJECT, d, out, n, err);
}

static int lookup_manifest(void *ctx, const uint8_t d[PX_SHA256_BYTES], px_entry **out, size_t *n, px_err *err) {
    return ex_entries(ctx, PX_LOG_BY_MANIFEST, d, out, n, err);
}

/* JSON exactly as `pixiu trace --json`; ?format=dot as `pixiu trace --dot`. */
void ex_view_digest(ex_req *r) {
    px_explorer *x = r->x;
    px_err err = {0};
    uint8_t d[PX_SHA256_BYTES], task[PX_SHA256_BYTES];
    const char *after;
    char q[80], f[16];
    if (ex_parse_digest(r->rest, d, &after) || *after) {
        px_fail(&err, PX_E_NOTFOUND, "a digest is /ui/digest/<64 hex digits>");
        return ex_fail(r, &err);
    }
    const char *tq = ex_query(r->req, "task", q, sizeof q);
    if (tq && (ex_parse_digest(tq, task, &after) || *after)) {
        px_fail(&err, PX_E_INVALID, "task must be a manifest id (64 hex digits)");
        return ex_fail(r, &err);
    }
    int dot = ex_query(r->req, "format", f, sizeof f) && !strcmp(f, "dot");
    px_explorer_trust t;
    if (!x->o.trust_get || x->o.trust_get(x->o.ctx, &t, &err))
        return ex_fail(r, &err);
    px_trace_src src = {.subject = lookup_subject, .manifest = lookup_manifest, .ctx = x, .pods = t.pods,
                        .npods = t.npods, .check = px_exec_evidence_check, .check_ctx = &t.exec,
                        .task = tq ? task : NULL};
    px_buf out = PX_BUF_INIT;
    int rc = px_trace(&out, d, &src, dot ? PX_TRACE_DOT : PX_TRACE_JSON, NULL, &err);
    if (x->o.trust_put)
        x->o.trust_put(x->o.ctx, &t);
    if (rc) {
        px_buf_free(&out);
        return ex_fail(r, &err);
    }
    ex_reply(r, dot ? "text/vnd.graphviz; charset=utf-8" : "application/json", &out);
}

/* ---- search ------------------------------------------------------------------------- */

static int add_result(json_t *arr, const char *kind, const char *id, const char *label) {
    char url[160];
    snprintf(url, sizeof url, "/ui/%s/%s", kind, id);
    return json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "kind", kind, "id", id, "url", url, "label",
                                                label));
}

static size_t lookup_count(px_explorer *x, px_log_key_kind k, const uint8_t d[PX_SHA256_BYTES]) {
    uint64_t idx[1];
    size_t n = 0;
    return px_log_lookup(x->o.log, k, d, 0, idx, 1, &n, NULL) ? 0 : n;
}

static void search_hex(px_explorer *x, const char *q, size_t len, json_t *arr) {
    uint8_t d[PX_SHA256_BYTES];
    if (len == 2 * PX_SHA256_BYTES && ex_parse_digest(q, d, NULL) == 0) {
        pthread_mutex_lock(&x->mu);
        int task = ex_index_find(x, d) != NULL;
        pthread_mutex_unlock(&x->mu);
        if (task || lookup_count(x, PX_LOG_BY_MANIFEST, d))
            add_result(arr, "task", q, "task (manifest id)");
        if (lookup_count(x, PX_LOG_BY_SUBJECT, d) || lookup_count(x, PX_LOG_BY_INPUT, d))
            add_result(arr, "digest", q, "digest: its lineage");
        return;
    }
    /* A prefix of a task id. */
    pthread_mutex_lock(&x->mu);
    for (size_t i = x->ntasks; i-- > 0 && json_array_size(arr) < EX_SEARCH_MAX;) {
        char hex[2 * PX_SHA256_BYTES + 1];
        ex_hex(hex, x->tasks[i].id);
        if (!strncmp(hex, q, len))
            add_result(arr, "task", hex, "task (manifest id)");
    }
    pthread_mutex_unlock(&x->mu);
}

void ex_view_search(ex_req *r) {
    px_explorer *x = r->x;
    px_err err = {0};
    char q[80];
    if (!ex_query(r->req, "q", q, sizeof q)) {
        px_fail(&err, PX_E_INVALID, "search needs q: a task id, a digest, an entry index or a node id");
        return ex_fail(r, &err);
    }
    char *s = q, low[80];
    while (*s == ' ')
        s++;
    size_t len = strlen(s);
    while (len && s[len - 1] == ' ')
        s[--len] = 0;
    for (size_t i = 0; i <= len; i++)
        low[i] = (char)tolower((unsigned char)s[i]);
    json_t *arr = json_array();
    pthread_mutex_lock(&x->mu);
    int rc = ex_index_update(x, &err);
    uint64_t size = x->scanned;
    pthread_mutex_unlock(&x->mu);
    if (rc) {
        json_decref(arr);
        return ex_fail(r, &err);
    }
    size_t hex = strspn(low, "0123456789abcdef"), digits = strspn(s, "0123456789");
    if (len && digits == len && len <= 19 && strtoull(s, NULL, 10) < size)
        add_result(arr, "entry", s, "log entry");
    if (len >= 4 && hex == len)
        search_hex(x, low, len, arr);
    px_membership m;
    if (len && px_node_id_valid(s) && members(x, &m, NULL) == 0) {
        const px_member *who = px_membership_find(&m, s);
        if (who)
            add_result(arr, "node", who->id, "node");
        px_membership_free(&m);
    }
    ex_json(r, json_pack("{s:s,s:o}", "query", s, "results", arr));
}

/* ---- a node ----------------------------------------------------------------------------- */

static int names(const json_t *summary, const char *key, const char *id) {
    const json_t *v = json_object_get(summary, key), *e;
    size_t i;
    if (json_is_string(v))
        return !strcmp(json_string_value(v), id);
    json_array_foreach(v, i, e) if (json_is_string(e) && !strcmp(json_string_value(e), id)) return 1;
    return 0;
}

void ex_view_node(ex_req *r) {
    px_explorer *x = r->x;
    px_err err = {0};
    px_membership m;
    if (members(x, &m, &err))
        return ex_fail(r, &err);
    const px_member *who = px_node_id_valid(r->rest) ? px_membership_find(&m, r->rest) : NULL;
    if (!who) {
        px_membership_free(&m);
        px_fail(&err, PX_E_NOTFOUND, "no node \"%.64s\" in the membership", r->rest);
        return ex_fail(r, &err);
    }
    json_t *o = json_pack("{s:o}", "member", member_json(who)), *tasks = json_array();
    char id[PX_MEMBER_ID_MAX + 1];
    snprintf(id, sizeof id, "%s", who->id);
    px_membership_free(&m);
    if (x->o.log) {
        pthread_mutex_lock(&x->mu);
        int rc = ex_index_update(x, &err);
        int64_t now = px_now_ms();
        for (size_t k = 0; rc == 0 && k < x->ntasks && k < EX_NODE_TASKS; k++) {
            json_t *s = ex_task_summary(x, &x->tasks[x->ntasks - 1 - k], now, NULL);
            const char *role = names(s, "consumer", id)    ? "consumer"
                               : names(s, "executors", id) ? "executor"
                               : names(s, "pods", id)      ? "pod"
                                                           : NULL;
            if (role)
                json_array_append_new(tasks, json_pack("{s:s,s:O}", "role", role, "summary", s));
            json_decref(s);
        }
        pthread_mutex_unlock(&x->mu);
    }
    json_object_set_new(o, "tasks", tasks);
    ex_json(r, o);
}

/* ---- the trust root of the receipt page ----------------------------------------------- */

void ex_view_verify(ex_req *r) {
    px_explorer *x = r->x;
    px_err err = {0};
    px_membership m;
    if (members(x, &m, &err))
        return ex_fail(r, &err);
    json_t *nodes = json_array(), *builds = json_array();
    for (size_t i = 0; i < m.n; i++)
        json_array_append_new(nodes, member_json(&m.nodes[i]));
    px_membership_free(&m);
    px_explorer_trust t;
    const char *why = "";
    if (x->o.trust_get && x->o.trust_get(x->o.ctx, &t, &err) == 0) {
        for (size_t i = 0; i < t.exec.nbuilds; i++) {
            char hex[2 * PX_SHA256_BYTES + 1];
            ex_hex(hex, t.exec.builds[i]);
            json_array_append_new(builds, json_string(hex));
        }
        if (x->o.trust_put)
            x->o.trust_put(x->o.ctx, &t);
    } else {
        why = err.msg;
    }
    ex_json(r, json_pack("{s:s,s:{s:s,s:o},s:o,s:s}", "node", x->node_id, "membership", "schema",
                         PX_MEMBERSHIP_SCHEMA, "nodes", nodes, "builds", builds, "why", why));
}
