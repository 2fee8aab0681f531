/* What the issuer, the ballot boxes and the conductor publish or hand on:
 * issuance statements, the issuer's count at close, release statements
 * for what they seal to the tally, the boxes' batches and receipts, and
 * the spent list in parts. Each is built and read here, so writer and
 * reader agree by construction. */
#include <string.h>

#include "pixiu/proof.h"
#include "poll/pjson.h"

#define TIME_MAX (INT64_C(1) << 53)
#define COUNT_MAX (INT64_C(1) << 40)

static int sign_statement(px_buf *out, const uint8_t poll[PX_POLL_ID_BYTES], const char *type, json_t *pred,
                          const px_signer *key, px_err *err) {
    if (!pred)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_subject subj = {(char *)"poll", {0}};
    memcpy(subj.sha256, poll, PX_POLL_ID_BYTES);
    px_buf st = PX_BUF_INIT;
    int rc = px_statement_build(&st, &subj, 1, type, pred, err) ||
             px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, key, 1, err);
    json_decref(pred);
    px_buf_free(&st);
    return rc ? -1 : 0;
}

/* Open a statement of `type` about poll (when not NULL) signed by key. */
static int open_statement(px_statement *st, const void *env, size_t len, const px_verifier *key, const char *type,
                          const uint8_t *poll, px_err *err) {
    px_dsse e;
    if (px_dsse_parse(&e, env, len, err))
        return -1;
    int rc = -1;
    if (strcmp(e.payload_type, PX_INTOTO_PAYLOAD_TYPE))
        px_fail(err, PX_E_INVALID, "not an in-toto statement");
    else if (px_dsse_verify(&e, key, NULL))
        px_fail(err, PX_E_VERIFY, "not signed by %s", key->name);
    else if (px_statement_parse(st, e.payload.data, e.payload.len, err) == 0) {
        if (strcmp(st->predicate_type, type) || st->nsubjects != 1 || strcmp(st->subjects[0].name, "poll"))
            px_fail(err, PX_E_INVALID, "not a %s statement about a poll", type);
        else if (poll && !px_ct_equal(st->subjects[0].sha256, poll, PX_POLL_ID_BYTES))
            px_fail(err, PX_E_VERIFY, "the statement is about another poll");
        else
            rc = 0;
        if (rc)
            px_statement_free(st);
    }
    px_dsse_free(&e);
    return rc;
}

int px_poll_issue_sign(px_buf *out, const uint8_t poll[PX_POLL_ID_BYTES], const uint8_t member_pk[32],
                       const uint8_t *blinded, size_t blen, int64_t issued, const px_signer *issuer, px_err *err) {
    uint8_t m[32], b[32];
    px_sha256(m, member_pk, 32);
    px_sha256(b, blinded, blen);
    json_t *p = json_object();
    if (!p || px_pj_set_hex(p, "poll", poll, 32, err) || px_pj_set_hex(p, "member", m, 32, err) ||
        px_pj_set_hex(p, "blinded", b, 32, err) || px_pj_set(p, "issued", json_integer(issued), err)) {
        json_decref(p);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    return sign_statement(out, poll, PX_POLL_ISSUE_PREDICATE, p, issuer, err);
}

int px_poll_issued_sign(px_buf *out, const px_poll_issued *s, const px_signer *issuer, px_err *err) {
    json_t *p = json_object();
    if (!p || px_pj_set_hex(p, "poll", s->poll, 32, err) ||
        px_pj_set(p, "issued", json_integer((json_int_t)s->issued), err) ||
        px_pj_set(p, "refused",
                  json_pack("{s:I,s:I,s:I}", "not-eligible", (json_int_t)s->not_eligible, "again",
                            (json_int_t)s->again, "invalid", (json_int_t)s->invalid),
                  err) ||
        px_pj_set(p, "closed", json_integer(s->closed), err)) {
        json_decref(p);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    return sign_statement(out, s->poll, PX_POLL_ISSUED_PREDICATE, p, issuer, err);
}

int px_poll_issued_verify(px_poll_issued *out, const void *env, size_t len, const px_verifier *issuer,
                          px_err *err) {
    static const char *const keys[] = {"poll", "issued", "refused", "closed", NULL};
    static const char *const rkeys[] = {"not-eligible", "again", "invalid", NULL};
    px_statement st;
    if (open_statement(&st, env, len, issuer, PX_POLL_ISSUED_PREDICATE, NULL, err))
        return px_err_prefix(err, "issuer's count: ");
    json_t *p = st.predicate, *r;
    int64_t v[4];
    int rc = px_pj_only(p, "poll-issued", keys, err) || px_json_hex(p, "poll", out->poll, 32, err) ||
             px_pj_int(p, "issued", 0, COUNT_MAX, &v[0], err) || px_pj_obj(p, "refused", &r, err) ||
             px_pj_only(r, "refused", rkeys, err) || px_pj_int(r, "not-eligible", 0, COUNT_MAX, &v[1], err) ||
             px_pj_int(r, "again", 0, COUNT_MAX, &v[2], err) || px_pj_int(r, "invalid", 0, COUNT_MAX, &v[3], err) ||
             px_pj_int(p, "closed", 0, TIME_MAX, &out->closed, err);
    if (!rc && !px_ct_equal(out->poll, st.subjects[0].sha256, 32))
        rc = px_fail(err, PX_E_INVALID, "subject and poll differ");
    px_statement_free(&st);
    if (rc)
        return px_err_prefix(err, "issuer's count: ");
    out->issued = (uint64_t)v[0], out->not_eligible = (uint64_t)v[1], out->again = (uint64_t)v[2];
    out->invalid = (uint64_t)v[3];
    return 0;
}

int px_poll_release_sign(px_buf *out, const uint8_t poll[PX_POLL_ID_BYTES], const char *from, const char *dataset,
                         const uint8_t commit[PX_SHA256_BYTES], uint64_t records,
                         const uint8_t stage_key[PX_BOX_PUBLICKEYBYTES], const px_signer *key, px_err *err) {
    json_t *p = json_object();
    if (!p || px_pj_set_hex(p, "manifest", poll, 32, err) || px_pj_set(p, "pod", json_string(from), err) ||
        px_pj_set(p, "dataset", json_string(dataset), err) || px_pj_set_hex(p, "dataset_digest", commit, 32, err) ||
        px_pj_set(p, "records", json_integer((json_int_t)records), err) ||
        px_pj_set(p, "signed", json_integer(0), err) ||
        px_pj_set(p, "unsigned", json_integer((json_int_t)records), err) ||
        px_pj_set(p, "epsilon", json_string("0"), err) || px_pj_set(p, "delta", json_string("0"), err) ||
        px_pj_set_hex(p, "stage_key", stage_key, 32, err) || px_pj_set(p, "released", json_integer(px_now_ms()), err)) {
        json_decref(p);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    px_subject subj = {(char *)"release", {0}};
    memcpy(subj.sha256, commit, 32);
    px_buf st = PX_BUF_INIT;
    int rc = px_statement_build(&st, &subj, 1, PX_RELEASE_PREDICATE, p, err) ||
             px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, key, 1, err);
    json_decref(p);
    px_buf_free(&st);
    return rc ? -1 : 0;
}

/* ---- ballot boxes -------------------------------------------------------------- */

int px_poll_box_begin(px_buf *payload, px_err *err) {
    return px_buf_append(payload, PX_POLL_BOX_MAGIC, 4, err) || px_buf_append_u32le(payload, 0, err) ? -1 : 0;
}

int px_poll_box_append(px_buf *payload, int64_t received, const uint8_t *sealed, size_t len, px_err *err) {
    if (payload->len < 8 || memcmp(payload->data, PX_POLL_BOX_MAGIC, 4))
        return px_fail(err, PX_E_INVALID, "not a ballot box payload");
    uint32_t n = px_load_u32le(payload->data + 4);
    if (n >= PX_POLL_MAX_BALLOTS || len > PX_POLL_BALLOT_MAX + 128)
        return px_fail(err, PX_E_LIMIT, "ballot box payload full");
    if (px_buf_append_u64le(payload, (uint64_t)received, err) || px_buf_append_u32le(payload, (uint32_t)len, err) ||
        px_buf_append(payload, sealed, len, err))
        return -1;
    n++;
    uint8_t *p = payload->data + 4;
    p[0] = (uint8_t)n, p[1] = (uint8_t)(n >> 8), p[2] = (uint8_t)(n >> 16), p[3] = (uint8_t)(n >> 24);
    return 0;
}

int px_poll_box_parse(const uint8_t *p, size_t len, px_poll_boxed **out, size_t *n, px_err *err) {
    if (len < 8 || memcmp(p, PX_POLL_BOX_MAGIC, 4))
        return px_fail(err, PX_E_INVALID, "not a ballot box payload");
    size_t count = px_load_u32le(p + 4), off = 8;
    if (count > PX_POLL_MAX_BALLOTS || count > (len - 8) / 12)
        return px_fail(err, PX_E_INVALID, "ballot box payload: %zu ballots do not fit", count);
    px_poll_boxed *b = calloc(count ? count : 1, sizeof *b);
    if (!b)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        if (len - off < 12) {
            free(b);
            return px_fail(err, PX_E_INVALID, "ballot box payload: truncated at ballot %zu", i);
        }
        b[i].received = (int64_t)px_load_u64le(p + off);
        b[i].len = px_load_u32le(p + off + 8);
        off += 12;
        if (b[i].len > len - off) {
            free(b);
            return px_fail(err, PX_E_INVALID, "ballot box payload: truncated at ballot %zu", i);
        }
        b[i].sealed = p + off;
        off += b[i].len;
    }
    if (off != len) {
        free(b);
        return px_fail(err, PX_E_INVALID, "ballot box payload: %zu trailing bytes", len - off);
    }
    *out = b;
    *n = count;
    return 0;
}

int px_poll_ballot_receipt_sign(px_buf *out, const uint8_t poll[PX_POLL_ID_BYTES],
                                const uint8_t ballot[PX_SHA256_BYTES], int64_t received, const px_signer *box,
                                px_err *err) {
    json_t *o = json_object();
    px_buf body = PX_BUF_INIT;
    int rc = !o || px_pj_set_hex(o, "poll", poll, 32, err) || px_pj_set_hex(o, "ballot", ballot, 32, err) ||
             px_pj_set(o, "received", json_integer(received), err) || px_json_dump(o, &body, err) ||
             px_dsse_sign(out, PX_POLL_BALLOT_RECEIPT_TYPE, body.data, body.len, box, 1, err);
    json_decref(o);
    px_buf_free(&body);
    return rc ? -1 : 0;
}

int px_poll_ballot_receipt_verify(const void *env, size_t len, const px_verifier *box,
                                  const uint8_t poll[PX_POLL_ID_BYTES], const uint8_t ballot[PX_SHA256_BYTES],
                                  int64_t *received, px_err *err) {
    static const char *const keys[] = {"poll", "ballot", "received", NULL};
    px_dsse e;
    if (px_dsse_parse(&e, env, len, err))
        return px_err_prefix(err, "ballot receipt: ");
    json_t *o = NULL;
    uint8_t p[32], b[32];
    int rc = -1;
    if (strcmp(e.payload_type, PX_POLL_BALLOT_RECEIPT_TYPE) || px_dsse_verify(&e, box, NULL))
        px_fail(err, PX_E_VERIFY, "ballot receipt: not signed by box %s", box->name);
    else if (!(o = px_json_parse(e.payload.data, e.payload.len, 4096, err)) || px_pj_only(o, "receipt", keys, err) ||
             px_json_hex(o, "poll", p, 32, err) || px_json_hex(o, "ballot", b, 32, err) ||
             px_pj_int(o, "received", 0, TIME_MAX, received, err))
        px_err_prefix(err, "ballot receipt: ");
    else if (!px_ct_equal(p, poll, 32) || !px_ct_equal(b, ballot, 32))
        px_fail(err, PX_E_VERIFY, "ballot receipt: for another poll or ballot");
    else
        rc = 0;
    json_decref(o);
    px_dsse_free(&e);
    return rc;
}

/* ---- the spent list ------------------------------------------------------------ */

static int next_token(const uint8_t *p, size_t len, size_t *tl) {
    if (len < PX_POLL_TOKEN_FIXED)
        return -1;
    *tl = PX_POLL_TOKEN_FIXED + px_load_u16le(p + PX_POLL_TOKEN_FIXED - 2);
    return *tl <= len ? 0 : -1;
}

int px_poll_spent_parts(px_buf **out, size_t *n, const uint8_t poll[PX_POLL_ID_BYTES], const uint8_t *tokens,
                        size_t len, const px_signer *conductor, px_err *err) {
    size_t count = 0, tl = 0;
    for (size_t off = 0; off < len; off += tl, count++)
        if (next_token(tokens + off, len - off, &tl))
            return px_fail(err, PX_E_INVALID, "spent list: malformed token %zu", count);
    size_t parts = count ? (count + PX_POLL_SPENT_PER_PART - 1) / PX_POLL_SPENT_PER_PART : 1;
    px_buf *b = calloc(parts, sizeof *b);
    if (!b)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    size_t off = 0;
    for (size_t i = 0; i < parts; i++) {
        json_t *p = json_object(), *arr = json_array();
        int rc = !p || px_pj_set_hex(p, "poll", poll, 32, err) || px_pj_set(p, "part", json_integer((json_int_t)i), err) ||
                 px_pj_set(p, "parts", json_integer((json_int_t)parts), err) || px_pj_set(p, "tokens", arr, err);
        for (size_t k = 0; !rc && k < PX_POLL_SPENT_PER_PART && off < len; k++, off += tl) {
            next_token(tokens + off, len - off, &tl);
            char *s = malloc(px_b64_encoded_len(tl) + 1);
            if (!s)
                rc = px_fail(err, PX_E_NOMEM, "out of memory");
            else {
                px_b64_encode(s, tokens + off, tl);
                rc = json_array_append_new(arr, json_string(s)) ? px_fail(err, PX_E_NOMEM, "out of memory") : 0;
                free(s);
            }
        }
        if (rc || sign_statement(&b[i], poll, PX_POLL_SPENT_PREDICATE, p, conductor, err)) {
            if (rc)
                json_decref(p);
            for (size_t k = 0; k <= i; k++)
                px_buf_free(&b[k]);
            free(b);
            return -1;
        }
    }
    *out = b;
    *n = parts;
    return 0;
}

int px_poll_spent_part_read(const void *env, size_t len, const px_verifier *conductor,
                            const uint8_t poll[PX_POLL_ID_BYTES], uint32_t *part, uint32_t *parts, px_buf *tokens,
                            px_err *err) {
    static const char *const keys[] = {"poll", "part", "parts", "tokens", NULL};
    px_statement st;
    if (open_statement(&st, env, len, conductor, PX_POLL_SPENT_PREDICATE, poll, err))
        return px_err_prefix(err, "spent list: ");
    json_t *p = st.predicate, *arr, *v;
    int64_t a, b;
    uint8_t id[32];
    size_t i;
    int rc = px_pj_only(p, "poll-spent", keys, err) || px_json_hex(p, "poll", id, 32, err) ||
             px_pj_int(p, "parts", 1, PX_POLL_MAX_BALLOTS, &b, err) || px_pj_int(p, "part", 0, b - 1, &a, err) ||
             px_pj_arr(p, "tokens", 0, PX_POLL_SPENT_PER_PART, &arr, err);
    if (!rc && !px_ct_equal(id, poll, 32))
        rc = px_fail(err, PX_E_VERIFY, "about another poll");
    if (!rc)
        json_array_foreach(arr, i, v) {
            px_buf t = PX_BUF_INIT;
            px_poll_token tok;
            const char *s = json_string_value(v);
            rc = !s || px_b64_decode(&t, s, json_string_length(v), err) ||
                 px_poll_token_parse(&tok, t.data, t.len, err) || px_buf_append(tokens, t.data, t.len, err);
            px_buf_free(&t);
            if (rc) {
                if (!s)
                    px_fail(err, PX_E_INVALID, "tokens[] must be base64 strings");
                break;
            }
        }
    px_statement_free(&st);
    if (rc)
        return px_err_prefix(err, "spent list: ");
    *part = (uint32_t)a;
    *parts = (uint32_t)b;
    return 0;
}
