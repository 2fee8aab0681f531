/* The PIR querier: fetch a table's hint through a PIR task, check it
 * against the receipts of that task and of the DP task that made the
 * table, and fetch rows privately from the PIR λ (docs/pir.md). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exec/util.h"
#include "node/pirclient.h"

#define MAX_WITNESSES 64

/* ---- receipts, against the membership -------------------------------------------------- */

/* The trust root a membership gives (as `pixiu verify --membership`): its
 * log, POD keys, platform keys and witnesses, and the accepted builds
 * (none given: this machine's own). */
typedef struct root_keys {
    px_node_key *pods;
    px_node_platform *plat;
    px_cosigner wit[MAX_WITNESSES];
    px_lambda_build *own;
    px_receipt_root root;
} root_keys;

static void root_free(root_keys *k) {
    free(k->pods);
    free(k->plat);
    if (k->own)
        px_node_build_free(k->own);
    memset(k, 0, sizeof *k);
}

static int root_init(root_keys *k, const px_membership *m, const uint8_t (*builds)[PX_SHA256_BYTES], size_t nbuilds,
                     px_err *err) {
    memset(k, 0, sizeof *k);
    const px_member *log = px_node_find_role(m, PX_ROLE_LOG);
    if (!log)
        return px_fail(err, PX_E_INVALID, "the membership has no log");
    k->pods = calloc(m->n + 1, sizeof *k->pods);
    k->plat = calloc(m->n + 1, sizeof *k->plat);
    if (!k->pods || !k->plat || (!nbuilds && px_node_build(&k->own, NULL, err))) {
        root_free(k);
        return err && err->code ? -1 : px_fail(err, PX_E_NOMEM, "out of memory");
    }
    px_receipt_root *r = &k->root;
    r->log_key = &log->signing;
    for (size_t i = 0; i < m->n; i++) {
        const px_member *x = &m->nodes[i];
        if (x->roles & PX_ROLE_POD) {
            snprintf(k->pods[r->npods].id, sizeof k->pods[r->npods].id, "%s", x->id);
            k->pods[r->npods++].key = x->signing;
        }
        if (x->has_platform) {
            snprintf(k->plat[r->nplatforms].id, sizeof k->plat[r->nplatforms].id, "%s", x->id);
            k->plat[r->nplatforms++].platform = x->platform;
        }
        if ((x->roles & PX_ROLE_WITNESS) && r->nwitnesses < MAX_WITNESSES) {
            px_cosigner *c = &k->wit[r->nwitnesses++];
            memcpy(c->name, x->signing.name, sizeof c->name);
            memcpy(c->pk, x->signing.pk, sizeof c->pk);
            c->id = px_cosig_key_id(c->name, c->pk);
        }
    }
    r->pods = k->pods;
    r->platforms = k->plat;
    r->witnesses = k->wit;
    r->min_witnesses = r->nwitnesses;
    r->builds = nbuilds ? builds : (const uint8_t(*)[PX_SHA256_BYTES])&k->own->digest;
    r->nbuilds = nbuilds ? nbuilds : 1;
    return 0;
}

/* The entries of a (verified) receipt, parsed; the caller frees each. */
static int receipt_entries(const px_buf *receipt, px_entry **out, size_t *n, px_err *err) {
    json_t *o = px_json_parse(receipt->data, receipt->len, PX_RECEIPT_MAX_BYTES, err), *arr, *v;
    size_t i;
    *out = NULL;
    *n = 0;
    if (!o || px_x_arr(o, "entries", 1, PX_RECEIPT_MAX_ENTRIES, &arr, err)) {
        json_decref(o);
        return -1;
    }
    px_entry *e = calloc(json_array_size(arr), sizeof *e);
    int rc = e ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
    json_array_foreach(arr, i, v) {
        px_buf b = PX_BUF_INIT;
        int64_t ix = 0;
        if (rc == 0 && (px_json_int(v, "index", &ix, err) || ix < 0 || px_json_b64(v, "entry", &b, err) ||
                        px_entry_parse(&e[*n], (uint64_t)ix, b.data, b.len, err)))
            rc = -1;
        else if (rc == 0)
            (*n)++;
        px_buf_free(&b);
    }
    json_decref(o);
    if (rc) {
        for (size_t k = 0; k < *n; k++)
            px_entry_free(&e[k]);
        free(e);
        *n = 0;
        return -1;
    }
    *out = e;
    return 0;
}

static void entries_free(px_entry *e, size_t n) {
    for (size_t k = 0; k < n; k++)
        px_entry_free(&e[k]);
    free(e);
}

/* A receipt checked against the root, its plan (whole, in one entry) and
 * the ok proof of stage 0 signed by the attested instance. */
typedef struct task_view {
    px_receipt_summary s;
    px_plan plan;
    int has_plan;
    px_exec_proof proof;
    px_evidence ev; /* stage 0's, from the verified plan */
} task_view;

static void view_free(task_view *v) {
    px_receipt_summary_free(&v->s);
    if (v->has_plan)
        px_plan_free(&v->plan);
    memset(v, 0, sizeof *v);
}

static int view_task(task_view *v, const char *what, const px_buf *receipt, const root_keys *k, px_err *err) {
    memset(v, 0, sizeof *v);
    if (px_receipt_verify(receipt->data, receipt->len, &k->root, &v->s, err))
        return px_err_prefix(err, "%s: ", what);
    if (v->s.failed)
        return px_fail(err, PX_E_VERIFY, "%s: the task failed (%s)", what, v->s.audit.why);
    px_entry *e = NULL;
    size_t n = 0;
    int rc = receipt_entries(receipt, &e, &n, err), found = 0;
    int got = rc ? -1 : px_plan_first(e, n, v->s.manifest, &v->plan, err);
    v->has_plan = got == 1;
    if (rc == 0 && got != 1)
        rc = got < 0 ? px_err_prefix(err, "%s: ", what) : px_fail(err, PX_E_INVALID, "%s: no plan in the receipt", what);
    if (rc == 0 && px_evidence_parse(&v->ev, v->plan.instances[0].evidence.data, v->plan.instances[0].evidence.len,
                                     err)) /* its signature: checked by the receipt's audit */
        rc = -1;
    for (size_t i = 0; rc == 0 && i < n && !found; i++)
        if (e[i].kind == PX_ENTRY_EXEC && e[i].stage == 0 &&
            px_lambda_proof_verify(&v->proof, e[i].raw.data, e[i].raw.len, v->ev.sign_pk, NULL) == 0 &&
            !strcmp(v->proof.status, PX_STATUS_OK))
            found = 1;
    if (rc == 0 && !found)
        rc = px_fail(err, PX_E_INVALID, "%s: no ok proof of stage 0 by its attested instance", what);
    entries_free(e, n);
    return rc;
}

/* ---- the checks ----------------------------------------------------------------------- */

static int hexeq(const uint8_t *a, const uint8_t *b) {
    return px_ct_equal(a, b, PX_SHA256_BYTES);
}

/* Everything that ties the hint to the DP table; see pirclient.h. */
static int session_check(px_pir_session *s, const px_buf *table_receipt, const px_buf *receipt, const px_buf *hint,
                         const px_membership *m, const uint8_t (*builds)[PX_SHA256_BYTES], size_t nbuilds,
                         px_err *err) {
    memset(s, 0, sizeof *s);
    root_keys k;
    task_view dp, pir;
    memset(&dp, 0, sizeof dp);
    memset(&pir, 0, sizeof pir);
    if (root_init(&k, m, builds, nbuilds, err))
        return -1;
    int rc = view_task(&dp, "the table's receipt", table_receipt, &k, err) ||
             view_task(&pir, "the PIR receipt", receipt, &k, err);
    uint8_t rd[PX_SHA256_BYTES], want[PX_SHA256_BYTES], commit[PX_SHA256_BYTES], seed[PX_PIR_SEED_BYTES];
    px_sha256(rd, table_receipt->data, table_receipt->len);
    const px_manifest *pm = rc ? NULL : &pir.plan.manifest;
    if (rc == 0 && !px_manifest_behind_dp(&dp.plan.manifest))
        rc = px_fail(err, PX_E_VERIFY, "the table's task is not behind DP: its result is not a DP table");
    if (rc == 0 && (pm->nstages != 1 || pm->stages[0].kind != PX_STAGE_PIR ||
                    px_json_hex(pm->stages[0].params, "table", want, sizeof want, NULL) || !hexeq(want, dp.s.result)))
        rc = px_fail(err, PX_E_VERIFY, "the PIR task does not serve the table's result");
    if (rc == 0 && (!pir.proof.has_derived || !hexeq(pir.proof.derived.manifest, dp.s.manifest) ||
                    !hexeq(pir.proof.derived.result, dp.s.result) || !hexeq(pir.proof.derived.receipt, rd)))
        rc = px_fail(err, PX_E_VERIFY, "the PIR λ's proof does not derive from this table's task, result and "
                                       "receipt");
    /* The cached hint: "PXC1" || r || bundle, opening the PIR result. */
    if (rc == 0 && (hint->len < PX_COMMIT_HEADERBYTES || memcmp(hint->data, PX_COMMIT_MAGIC, 4)))
        rc = px_fail(err, PX_E_INVALID, "the cached hint is not \"PXC1\" || r || hint");
    px_pir_hint_view hv;
    const uint8_t *bundle = hint->data + PX_COMMIT_HEADERBYTES;
    size_t blen = hint->len - PX_COMMIT_HEADERBYTES;
    if (rc == 0) {
        px_commit_digest(commit, hint->data + 4, bundle, blen);
        if (!hexeq(commit, pir.s.result))
            rc = px_fail(err, PX_E_VERIFY, "the hint is not the one the PIR receipt names (commitment differs)");
    }
    if (rc == 0)
        rc = px_pir_hint_parse(&hv, bundle, blen, err) || px_pir_info_parse(&s->info, hv.info, hv.info_len, err);
    if (rc == 0) {
        px_pir_table_seed(seed, dp.s.result);
        if (!hexeq(s->info.table, dp.s.result) || !hexeq(s->info.manifest, dp.s.manifest) ||
            !hexeq(s->info.receipt, rd) || !px_ct_equal(hv.params.seed, seed, PX_PIR_SEED_BYTES))
            rc = px_fail(err, PX_E_VERIFY, "the hint describes another table (or another A) than the receipts");
        else if (hv.params.records != s->info.nrows || hv.params.record_bytes != 8 * s->info.ncolumns)
            rc = px_fail(err, PX_E_VERIFY, "the hint's shape is not its table's");
    }
    if (rc == 0)
        rc = px_pir_hint_copy(&hv, &s->hint, err);
    if (rc == 0) {
        s->params = hv.params;
        memcpy(s->task, pir.s.manifest, PX_SHA256_BYTES);
        memcpy(s->commit, pir.s.result, PX_SHA256_BYTES);
        snprintf(s->node, sizeof s->node, "%s", pir.plan.instances[0].node);
        memcpy(s->instance, pir.ev.sign_pk, PX_SIGN_PUBLICKEYBYTES);
        s->deadline = pm->deadline;
        s->hint_bytes = blen;
        s->table_bytes = (size_t)s->info.nrows * s->info.ncolumns * 8;
    }
    view_free(&dp);
    view_free(&pir);
    root_free(&k);
    if (rc)
        px_node_pir_session_free(s);
    return rc ? -1 : 0;
}

void px_node_pir_session_free(px_pir_session *s) {
    free(s->hint);
    px_pir_info_free(&s->info);
    memset(s, 0, sizeof *s);
}

static int cache_path(char *out, size_t cap, const char *dir, const char *name, px_err *err) {
    if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
        return px_fail(err, PX_E_LIMIT, "cache path too long");
    return 0;
}

int px_node_pir_session_open(px_pir_session *s, const char *dir, const px_membership *members,
                        const uint8_t (*builds)[PX_SHA256_BYTES], size_t nbuilds, px_err *err) {
    char p[3][PX_NODE_PATH_MAX];
    px_buf b[3] = {PX_BUF_INIT, PX_BUF_INIT, PX_BUF_INIT};
    const char *names[3] = {PX_PIR_CACHE_TABLE_RECEIPT, PX_PIR_CACHE_RECEIPT, PX_PIR_CACHE_HINT};
    size_t max[3] = {PX_RECEIPT_MAX_BYTES, PX_RECEIPT_MAX_BYTES, PX_LAMBDA_MAX_INPUT_BYTES};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = cache_path(p[i], sizeof p[i], dir, names[i], err) || px_file_read(p[i], max[i], &b[i], err);
    if (rc)
        px_err_prefix(err, "the hint cache %s (run `pixiu pir fetch-hint` first): ", dir);
    else
        rc = session_check(s, &b[0], &b[1], &b[2], members, builds, nbuilds, err);
    for (int i = 0; i < 3; i++)
        px_buf_free(&b[i]);
    return rc;
}

/* ---- fetching the hint ----------------------------------------------------------------- */

static int template_json(const px_pir_fetch_opts *o, const uint8_t table[PX_SHA256_BYTES], px_buf *out,
                         px_err *err) {
    char t[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(t, table, PX_SHA256_BYTES);
    json_t *doc = json_pack("{s:s, s:[{s:s, s:{s:[{s:s,s:s},{s:s,s:s}]}, s:[s]}], s:[{s:s, s:i, s:{s:s}}], s:I}",
                            "name", "pir-table", "datasets", "name", o->dataset, "schema", "fields", "name",
                            PX_PIR_DATASET_PART, "type", "int", "name", PX_PIR_DATASET_BYTES, "type", "blob", "pods",
                            o->pod, "stages", "kind", "pir", "min_level", 1, "params", "table", t, "deadline",
                            (json_int_t)(px_now_ms() + o->serve_ms));
    if (!doc)
        return px_fail(err, PX_E_INVALID, "cannot build the PIR manifest (dataset or POD name)");
    if (o->at_pod)
        json_object_set_new(json_array_get(json_object_get(doc, "stages"), 0), "at", json_string("pod"));
    int rc = px_json_dump(doc, out, err);
    json_decref(doc);
    return rc;
}

static int write_cache(const char *dir, const px_buf *b[3], px_err *err) {
    const char *names[3] = {PX_PIR_CACHE_TABLE_RECEIPT, PX_PIR_CACHE_RECEIPT, PX_PIR_CACHE_HINT};
    if (mkdir(dir, 0700) && errno != EEXIST)
        return px_fail(err, PX_E_IO, "cannot create %s: %s", dir, strerror(errno));
    char p[PX_NODE_PATH_MAX];
    for (int i = 0; i < 3; i++)
        if (cache_path(p, sizeof p, dir, names[i], err) || px_file_write_atomic(p, b[i]->data, b[i]->len, 0600, err))
            return -1;
    return 0;
}

int px_node_pir_fetch(const px_pir_fetch_opts *o, const char *dir, px_err *err) {
    json_t *r = px_json_parse(o->table_receipt, o->table_receipt_len, PX_RECEIPT_MAX_BYTES, err);
    uint8_t table[PX_SHA256_BYTES];
    int rc = r ? px_json_hex(r, "result", table, sizeof table, err) : -1;
    json_decref(r);
    if (rc)
        return px_err_prefix(err, "the table's receipt: ");
    px_buf tmpl = PX_BUF_INIT;
    px_submit_result res;
    memset(&res, 0, sizeof res);
    px_submit_opts so = {o->id, o->key, o->members, NULL, 0, o->builds, o->nbuilds, o->progress, NULL, 0, NULL, 0};
    rc = template_json(o, table, &tmpl, err) || px_submit(&so, tmpl.data, tmpl.len, &res, err);
    if (rc == 0 && !res.ok)
        rc = px_fail(err, PX_E_VERIFY, "the PIR task failed: %s%s%s", res.failure, res.verdict_why[0] ? ": " : "",
                     res.verdict_why);
    px_buf tr = {(uint8_t *)o->table_receipt, o->table_receipt_len, 0};
    px_pir_session s;
    if (rc == 0)
        rc = session_check(&s, &tr, &res.receipt, &res.opening, o->members, o->builds, o->nbuilds, err);
    if (rc == 0) {
        px_node_pir_session_free(&s);
        const px_buf *b[3] = {&tr, &res.receipt, &res.opening};
        rc = write_cache(dir, b, err);
    }
    px_submit_result_free(&res);
    px_buf_free(&tmpl);
    return rc;
}

/* ---- a query ----------------------------------------------------------------------------- */

static int ask(const px_pir_session *s, const px_membership *m, const char *id, const px_signer *key,
               const px_buf *query, px_buf *answer, uint8_t sig[PX_SIGN_BYTES], px_err *err) {
    const px_member *node = px_membership_find(m, s->node);
    if (!node)
        return px_fail(err, PX_E_NOTFOUND, "the PIR λ's node %s is not in the membership", s->node);
    json_t *body = json_object();
    px_buf b = PX_BUF_INIT, resp = PX_BUF_INIT;
    int status = 0;
    int rc = body ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = px_x_set_hex(body, "instance", s->instance, PX_SIGN_PUBLICKEYBYTES, err) ||
             px_x_set_b64(body, "request", query->data, query->len, err) || px_json_dump(body, &b, err) ||
             px_signed_call(key, id, node->id, "POST", node->url, "/v1/serve", b.data, b.len, PX_NODE_CALL_TIMEOUT_MS,
                            PX_NODE_BODY_MAX, &status, &resp, err);
    json_t *o = NULL;
    if (rc == 0 && status != 200)
        rc = px_fail(err, PX_E_UNAVAILABLE, "node %s refused the query: HTTP %d %.*s", node->id, status,
                     (int)(resp.len > 200 ? 200 : resp.len), (const char *)resp.data);
    if (rc == 0 && !(o = px_json_parse(resp.data, resp.len, PX_NODE_BODY_MAX, err)))
        rc = -1;
    px_buf sb = PX_BUF_INIT;
    if (rc == 0 && (px_json_b64(o, "response", answer, err) || px_json_b64(o, "signature", &sb, err)))
        rc = -1;
    if (rc == 0 && sb.len != PX_SIGN_BYTES)
        rc = px_fail(err, PX_E_INVALID, "the answer's signature is not %d bytes", PX_SIGN_BYTES);
    if (rc == 0)
        memcpy(sig, sb.data, PX_SIGN_BYTES);
    json_decref(o);
    json_decref(body);
    px_buf_free(&b);
    px_buf_free(&resp);
    px_buf_free(&sb);
    return rc;
}

int px_node_pir_session_query(const px_pir_session *s, const px_membership *members, const char *id,
                         const px_signer *key, const char *row, px_pir_fetched *out, px_err *err) {
    memset(out, 0, sizeof *out);
    int64_t i = px_pir_info_find(&s->info, row);
    if (i < 0)
        return px_fail(err, PX_E_NOTFOUND, "the table has no row \"%.64s\"", row);
    const px_pir_params *pp = &s->params;
    uint32_t *q = malloc((size_t)pp->cols * sizeof *q), *a = malloc((size_t)pp->rows * sizeof *a);
    uint8_t *rec = malloc(pp->record_bytes), sig[PX_SIGN_BYTES], qd[PX_SHA256_BYTES], got[PX_SHA256_BYTES];
    px_buf query = PX_BUF_INIT, answer = PX_BUF_INIT;
    px_pir_secret sec;
    int rc = q && a && rec ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = px_pir_query(pp, (uint32_t)i, &sec, q, err) || px_pir_query_encode(&query, s->commit, q, pp->cols, err) ||
             ask(s, members, id, key, &query, &answer, sig, err) ||
             px_serve_verify(sig, s->task, s->commit, query.data, query.len, answer.data, answer.len, s->instance,
                             err) ||
             px_pir_answer_parse(answer.data, answer.len, pp->rows, got, a, err);
    px_sha256(qd, query.data, query.len);
    if (rc == 0 && !hexeq(qd, got))
        rc = px_fail(err, PX_E_VERIFY, "the answer is for another query");
    if (rc == 0)
        rc = px_pir_decode(pp, s->hint, &sec, a, (uint32_t)i, rec, err);
    if (rc == 0) {
        out->row = (uint32_t)i;
        for (uint32_t c = 0; c < s->info.ncolumns; c++) {
            uint64_t u = px_load_u64le(rec + 8 * c);
            memcpy(&out->values[c], &u, 8);
        }
        out->query_bytes = query.len;
        out->answer_bytes = answer.len;
    }
    px_pir_secret_wipe(&sec);
    free(q);
    free(a);
    free(rec);
    px_buf_free(&query);
    px_buf_free(&answer);
    return rc;
}
