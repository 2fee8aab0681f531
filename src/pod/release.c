/* Release statements: when a POD hands a dataset to an admitted task it
 * signs an in-toto statement (predicate urn:pixiu:predicate:release:v1 of
 * docs/formats.md: digests and counts, never data) as a DSSE envelope with
 * its own key, and keeps it in its releases table. Releasing also marks the
 * task's charge as started, in the same transaction, so budget spent on
 * data that left the POD can never be refunded. */
#include <string.h>

#include "pixiu/proof.h"
#include "pod/db.h"
#include "pod/row.h"

#define HEX_DIGEST_LEN (2 * PX_SHA256_BYTES)

static json_t *release_predicate(const px_release_info *ri) {
    char digest[HEX_DIGEST_LEN + 1], key[2 * PX_BOX_PUBLICKEYBYTES + 1];
    char eps[PX_AMOUNT_TEXT_MAX], delta[PX_AMOUNT_TEXT_MAX];
    px_hex_encode(digest, ri->dataset_digest, PX_SHA256_BYTES);
    px_hex_encode(key, ri->stage_key, PX_BOX_PUBLICKEYBYTES);
    px_eps_format(eps, ri->eps);
    px_delta_format(delta, ri->delta);
    /* To an instance at the POD: no counts, which would say how much data
     * one person holds. */
    if (ri->at_pod)
        return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "manifest", ri->manifest, "pod", ri->pod, "dataset",
                         ri->dataset, "dataset_digest", digest, "at", "pod", "epsilon", eps, "delta", delta,
                         "stage_key", key, "released", (json_int_t)ri->released_ms);
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s,s:I}", "manifest", ri->manifest, "pod", ri->pod,
                     "dataset", ri->dataset, "dataset_digest", digest, "records", (json_int_t)ri->records, "signed",
                     (json_int_t)ri->signed_records, "unsigned", (json_int_t)ri->unsigned_records, "epsilon", eps,
                     "delta", delta, "stage_key", key, "released", (json_int_t)ri->released_ms);
}

int px_release_statement(px_buf *out, const px_release_info *ri, const px_signer *pod_key, px_err *err) {
    json_t *pred = release_predicate(ri);
    if (!pred)
        return px_fail(err, PX_E_NOMEM, "could not build the release predicate");
    px_subject subj = {(char *)"release", {0}};
    memcpy(subj.sha256, ri->dataset_digest, PX_SHA256_BYTES);
    px_buf st = PX_BUF_INIT;
    int rc = px_statement_build(&st, &subj, 1, PX_RELEASE_PREDICATE, pred, err);
    if (rc == 0)
        rc = px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, pod_key, 1, err);
    json_decref(pred);
    px_buf_free(&st);
    return rc;
}

/* The admitted charge this release spends: it must exist and not be used. */
static int claim_charge(px_pod *p, const char *manifest, const char *dataset, px_release_info *ri, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st, "SELECT state, eps, delta FROM charges WHERE manifest = ? AND dataset = ?", err))
        return -1;
    sqlite3_bind_text(st, 1, manifest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, dataset, -1, SQLITE_STATIC);
    int sr = sqlite3_step(st), rc = -1;
    if (sr == SQLITE_DONE)
        px_fail(err, PX_E_DENIED, "manifest %.16s... was not admitted to dataset \"%s\"", manifest, dataset);
    else if (sr != SQLITE_ROW)
        px_db_fail(p, "reading charges", err);
    else if (sqlite3_column_int(st, 0) != PX_CHARGE_CHARGED)
        px_fail(err, PX_E_STATE, "the charge of manifest %.16s... is %s, not available for a release", manifest,
                px_charge_state_name((px_charge_state)sqlite3_column_int(st, 0)));
    else {
        ri->eps = sqlite3_column_int64(st, 1);
        ri->delta = sqlite3_column_int64(st, 2);
        rc = 0;
    }
    sqlite3_finalize(st);
    if (rc)
        return -1;
    if (px_db_prepare(p, &st, "UPDATE charges SET state = 2, updated = ? WHERE manifest = ? AND dataset = ?", err))
        return -1;
    sqlite3_bind_int64(st, 1, px_now_ms());
    sqlite3_bind_text(st, 2, manifest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, dataset, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_db_fail(p, "marking the charge started", err);
    sqlite3_finalize(st);
    return rc;
}

static int store_release(px_pod *p, const px_release_info *ri, const px_buf *env, px_err *err) {
    char id[HEX_DIGEST_LEN + 1], digest[HEX_DIGEST_LEN + 1], key[2 * PX_BOX_PUBLICKEYBYTES + 1];
    uint8_t h[PX_SHA256_BYTES];
    px_sha256(h, env->data, env->len);
    px_hex_encode(id, h, sizeof h);
    px_hex_encode(digest, ri->dataset_digest, PX_SHA256_BYTES);
    px_hex_encode(key, ri->stage_key, PX_BOX_PUBLICKEYBYTES);
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st,
                      "INSERT INTO releases(id, manifest, pod, dataset, digest, records, signed, unsigned, eps, delta,"
                      " stage_key, released, envelope) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                      err))
        return -1;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, ri->manifest, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ri->pod, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ri->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, digest, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (int64_t)ri->records);
    sqlite3_bind_int64(st, 7, (int64_t)ri->signed_records);
    sqlite3_bind_int64(st, 8, (int64_t)ri->unsigned_records);
    sqlite3_bind_int64(st, 9, ri->eps);
    sqlite3_bind_int64(st, 10, ri->delta);
    sqlite3_bind_text(st, 11, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, ri->released_ms);
    sqlite3_bind_blob(st, 13, env->data, (int)env->len, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : px_db_fail(p, "storing the release", err);
    sqlite3_finalize(st);
    return rc;
}

static int release_locked(px_pod *p, const px_signer *key, px_release_info *ri, const px_pod_hosting *h,
                          px_buf *stream, px_buf *env, px_err *err) {
    px_pod_export_info ex;
    px_buf plain = PX_BUF_INIT, kept = PX_BUF_INIT;
    uint8_t r[PX_COMMIT_RANDBYTES];
    if (claim_charge(p, ri->manifest, ri->dataset, ri, err) || px_db_export(p, ri->dataset, &plain, &ex, err)) {
        px_buf_free(&plain);
        return -1;
    }
    /* What a stage at the POD may not read stays out of its release. */
    if (h && h->topic_field[0] && h->nopt_out) {
        uint64_t n;
        int frc = px_pod_hosting_filter(h, &plain, &kept, &n, err);
        px_buf_free(&plain);
        if (frc) {
            px_buf_free(&kept);
            return -1;
        }
        plain = kept;
    }
    /* What leaves is the committed payload; the statement names it by the
     * commitment, never by a digest of the records (docs/formats.md). */
    px_commit_new(r, plain.data, plain.len, ri->dataset_digest);
    int rc = px_buf_append(stream, PX_COMMIT_MAGIC, 4, err) || px_buf_append(stream, r, sizeof r, err) ||
             px_buf_append(stream, plain.data, plain.len, err);
    px_memzero(r, sizeof r);
    px_buf_free(&plain);
    if (rc)
        return -1;
    ri->records = ex.records;
    ri->signed_records = ex.signed_records;
    ri->unsigned_records = ex.unsigned_records;
    ri->released_ms = px_now_ms();
    return px_release_statement(env, ri, key, err) || store_release(p, ri, env, err) ? -1 : 0;
}

static int release(px_pod *p, const px_signer *pod_key, const char *pod_id, const char *manifest_hex,
                   const char *dataset, const uint8_t stage_key[PX_BOX_PUBLICKEYBYTES], const px_pod_hosting *h,
                   px_buf *stream, px_buf *envelope, px_err *err) {
    px_release_info ri;
    memset(&ri, 0, sizeof ri);
    ri.at_pod = h != NULL;
    if (px_id_check("POD", pod_id, err) || px_id_check("dataset", dataset, err))
        return -1;
    if (strlen(manifest_hex) != HEX_DIGEST_LEN || strspn(manifest_hex, "0123456789abcdef") != HEX_DIGEST_LEN)
        return px_fail(err, PX_E_INVALID, "manifest id must be %d lower-case hex digits", HEX_DIGEST_LEN);
    strcpy(ri.manifest, manifest_hex);
    strcpy(ri.pod, pod_id);
    strcpy(ri.dataset, dataset);
    memcpy(ri.stage_key, stage_key, PX_BOX_PUBLICKEYBYTES);
    size_t s0 = stream->len, e0 = envelope->len;
    if (px_db_begin(p, err))
        return -1;
    if (release_locked(p, pod_key, &ri, h, stream, envelope, err) || px_db_commit(p, err)) {
        px_db_rollback(p);
        stream->len = s0;
        envelope->len = e0;
        return px_err_prefix(err, "release of \"%s\": ", dataset);
    }
    return 0;
}

int px_pod_release(px_pod *p, const px_signer *pod_key, const char *pod_id, const char *manifest_hex,
                   const char *dataset, const uint8_t stage_key[PX_BOX_PUBLICKEYBYTES], px_buf *stream,
                   px_buf *envelope, px_err *err) {
    return release(p, pod_key, pod_id, manifest_hex, dataset, stage_key, NULL, stream, envelope, err);
}

int px_pod_release_at_pod(px_pod *p, const px_signer *pod_key, const char *pod_id, const char *manifest_hex,
                          const char *dataset, const uint8_t stage_key[PX_BOX_PUBLICKEYBYTES],
                          const px_pod_hosting *h, px_buf *stream, px_buf *envelope, px_err *err) {
    static const px_pod_hosting none;
    return release(p, pod_key, pod_id, manifest_hex, dataset, stage_key, h ? h : &none, stream, envelope, err);
}

/* ---- listing ------------------------------------------------------------------ */

static int row_to_release(sqlite3_stmt *st, px_pod_release_row *r) {
    px_err e;
    memset(r, 0, sizeof *r);
    px_db_text(st, 0, r->id, sizeof r->id);
    px_db_text(st, 1, r->info.manifest, sizeof r->info.manifest);
    px_db_text(st, 2, r->info.pod, sizeof r->info.pod);
    px_db_text(st, 3, r->info.dataset, sizeof r->info.dataset);
    const char *d = (const char *)sqlite3_column_text(st, 4), *k = (const char *)sqlite3_column_text(st, 10);
    if (!d || !k || px_hex_decode_exact(r->info.dataset_digest, PX_SHA256_BYTES, d, strlen(d), &e) ||
        px_hex_decode_exact(r->info.stage_key, PX_BOX_PUBLICKEYBYTES, k, strlen(k), &e))
        return -1;
    r->info.records = (uint64_t)sqlite3_column_int64(st, 5);
    r->info.signed_records = (uint64_t)sqlite3_column_int64(st, 6);
    r->info.unsigned_records = (uint64_t)sqlite3_column_int64(st, 7);
    r->info.eps = sqlite3_column_int64(st, 8);
    r->info.delta = sqlite3_column_int64(st, 9);
    r->info.released_ms = sqlite3_column_int64(st, 11);
    return 0;
}

int px_pod_release_list(px_pod *p, px_pod_release_row **out, size_t *n, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st,
                      "SELECT id, manifest, pod, dataset, digest, records, signed, unsigned, eps, delta, stage_key,"
                      " released FROM releases ORDER BY released, id",
                      err))
        return -1;
    px_pod_release_row *v = NULL;
    size_t cnt = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        px_pod_release_row *nv = realloc(v, (cnt + 1) * sizeof *v);
        if (!nv || row_to_release(st, &nv[cnt])) {
            if (nv)
                v = nv;
            px_fail(err, nv ? PX_E_STATE : PX_E_NOMEM, nv ? "a stored release row is corrupt" : "out of memory");
            break;
        }
        v = nv;
        cnt++;
    }
    if (rc != SQLITE_DONE) {
        if (rc != SQLITE_ROW)
            px_db_fail(p, "listing releases", err);
        free(v);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    *out = v;
    *n = cnt;
    return 0;
}

int px_pod_release_get(px_pod *p, const char *id_hex, px_buf *envelope, px_err *err) {
    sqlite3_stmt *st;
    if (px_db_prepare(p, &st, "SELECT envelope FROM releases WHERE id = ?", err))
        return -1;
    sqlite3_bind_text(st, 1, id_hex, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = px_buf_append(envelope, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), err);
    else
        rc = rc == SQLITE_DONE ? px_fail(err, PX_E_NOTFOUND, "no release %s", px_row_safe_name(id_hex))
                               : px_db_fail(p, "reading releases", err);
    sqlite3_finalize(st);
    return rc;
}
