/* The survey file: who conducts, issues and collects, the token key, who
 * may answer, what is asked, when, and how results are released. Signed
 * by the conductor as DSSE; the poll id is the envelope's SHA-256. Also
 * the member list and credentials that decide eligibility. */
#include <string.h>

#include "pixiu/proof.h"
#include "poll/pjson.h"
#include "poll/survey_int.h"

#define TIME_MAX (INT64_C(1) << 53)
#define TALLY_GRACE_MS_DEFAULT (3600 * 1000)

static int parse_key(px_poll_survey *s, const json_t *doc, px_err *err) {
    px_buf der = PX_BUF_INIT;
    int rc = px_json_b64(doc, "token_key", &der, err) || px_poll_pub_parse(&s->key, der.data, der.len, err);
    px_buf_free(&der);
    return rc ? px_err_prefix(err, "token_key: ") : 0;
}

static int parse_eligibility(px_poll_survey *s, const json_t *doc, px_err *err) {
    static const char *const keys[] = {"list", "members", "source", "claim", NULL};
    json_t *e;
    int64_t members = 0;
    if (px_pj_obj(doc, "eligibility", &e, err) || px_pj_only(e, "eligibility", keys, err))
        return -1;
    if (json_object_get(e, "list")) {
        s->elig = PX_POLL_ELIG_LIST;
        if (json_object_get(e, "source") || json_object_get(e, "claim"))
            return px_fail(err, PX_E_INVALID, "eligibility: a \"list\" takes no \"source\" or \"claim\"");
        if (px_json_hex(e, "list", s->list_digest, sizeof s->list_digest, err) ||
            px_pj_int(e, "members", 1, PX_POLL_MAX_MEMBERS, &members, err))
            return px_err_prefix(err, "eligibility: ");
    } else {
        s->elig = PX_POLL_ELIG_CREDENTIAL;
        if (px_pj_verifier(json_object_get(e, "source"), "eligibility.source", &s->source, err) ||
            px_pj_name(json_object_get(e, "claim"), "eligibility.claim", s->claim, sizeof s->claim, err))
            return px_err_prefix(err, "eligibility needs \"list\" (a member list digest) or \"source\" and "
                                 "\"claim\" (a credential): ");
        if (json_object_get(e, "members") && px_pj_int(e, "members", 1, PX_POLL_MAX_MEMBERS, &members, err))
            return px_err_prefix(err, "eligibility: ");
    }
    s->members = (uint64_t)members;
    return 0;
}

static int parse_parties(px_poll_survey *s, const json_t *doc, px_err *err) {
    json_t *boxes, *v;
    size_t i;
    if (px_pj_party(json_object_get(doc, "conductor"), "conductor", &s->conductor, err) ||
        px_pj_party(json_object_get(doc, "issuer"), "issuer", &s->issuer, err) ||
        px_pj_arr(doc, "boxes", 1, PX_POLL_MAX_BOXES, &boxes, err))
        return -1;
    if (!(s->boxes = calloc(json_array_size(boxes), sizeof *s->boxes)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    json_array_foreach(boxes, i, v) {
        if (px_pj_party(v, "boxes[]", &s->boxes[i], err))
            return -1;
        s->nboxes = i + 1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->boxes[j].id, s->boxes[i].id))
                return px_fail(err, PX_E_INVALID, "boxes: \"%s\" appears twice", s->boxes[i].id);
    }
    return 0;
}

static int parse_times(px_poll_survey *s, const json_t *doc, px_err *err) {
    if (px_pj_int(doc, "opens", 0, TIME_MAX, &s->opens, err) ||
        px_pj_int(doc, "closes", 0, TIME_MAX, &s->closes, err))
        return -1;
    s->tally_by = s->closes + TALLY_GRACE_MS_DEFAULT;
    if (json_object_get(doc, "tally_by") && px_pj_int(doc, "tally_by", 0, TIME_MAX, &s->tally_by, err))
        return -1;
    if (s->opens >= s->closes || s->closes >= s->tally_by)
        return px_fail(err, PX_E_INVALID, "times: opens < closes < tally_by is required");
    return 0;
}

int px_poll_survey_parse_doc(px_poll_survey *s, const void *json, size_t len, px_err *err) {
    static const char *const keys[] = {"schema", "name", "title", "conductor", "nonce", "opens", "closes",
                                       "tally_by", "issuer", "boxes", "token_key", "eligibility", "dataset",
                                       "questions", "demographics", "crosstabs", "dp", NULL};
    memset(s, 0, sizeof *s);
    json_t *doc = px_json_parse(json, len, PX_POLL_SURVEY_MAX_BYTES, err);
    if (!doc)
        return px_err_prefix(err, "survey: ");
    const char *schema;
    int rc = -1;
    if (px_pj_only(doc, "survey", keys, err) || px_json_str(doc, "schema", &schema, err))
        goto out;
    if (strcmp(schema, PX_POLL_SURVEY_SCHEMA)) {
        px_fail(err, PX_E_INVALID, "schema is not %s", PX_POLL_SURVEY_SCHEMA);
        goto out;
    }
    if (px_pj_name(json_object_get(doc, "name"), "name", s->name, sizeof s->name, err) ||
        px_pj_text(json_object_get(doc, "title"), "title", PX_POLL_TEXT_MAX, &s->title, err) ||
        px_json_hex(doc, "nonce", s->nonce, sizeof s->nonce, err) || parse_times(s, doc, err) ||
        parse_parties(s, doc, err) || parse_key(s, doc, err) || parse_eligibility(s, doc, err) ||
        px_poll_survey_items(s, doc, err))
        goto out;
    if (json_object_get(doc, "dataset")) {
        if (px_pj_name(json_object_get(doc, "dataset"), "dataset", s->dataset, sizeof s->dataset, err))
            goto out;
    } else if (s->ndemographics) {
        px_fail(err, PX_E_INVALID, "a survey with demographics names the POD \"dataset\" they come from");
        goto out;
    }
    rc = 0;
out:
    json_decref(doc);
    if (rc) {
        px_err_prefix(err, "survey: ");
        px_poll_survey_free(s);
    }
    return rc;
}

void px_poll_survey_free(px_poll_survey *s) {
    px_buf_free(&s->envelope);
    free(s->title);
    free(s->boxes);
    px_poll_pub_free(s->key);
    px_poll_survey_items_free(s);
    memset(s, 0, sizeof *s);
}

int px_poll_survey_sign(px_buf *out, const void *json, size_t len, const px_signer *conductor, px_err *err) {
    px_poll_survey s;
    if (px_poll_survey_parse_doc(&s, json, len, err))
        return -1;
    px_verifier v;
    px_signer_verifier(conductor, &v);
    int rc = 0;
    if (memcmp(v.pk, s.conductor.key.pk, sizeof v.pk))
        rc = px_fail(err, PX_E_INVALID, "survey: conductor.key is not the signer's key");
    px_poll_survey_free(&s);
    if (rc == 0)
        rc = px_dsse_sign(out, PX_POLL_SURVEY_PAYLOAD_TYPE, json, len, conductor, 1, err);
    return rc;
}

int px_poll_survey_parse(px_poll_survey *s, const void *envelope, size_t len, px_err *err) {
    px_dsse e;
    if (len > PX_POLL_SURVEY_MAX_BYTES * 2)
        return px_fail(err, PX_E_LIMIT, "survey envelope of %zu bytes", len);
    if (px_dsse_parse(&e, envelope, len, err))
        return px_err_prefix(err, "survey: ");
    int rc = -1;
    if (strcmp(e.payload_type, PX_POLL_SURVEY_PAYLOAD_TYPE))
        px_fail(err, PX_E_INVALID, "survey: payload type is not %s", PX_POLL_SURVEY_PAYLOAD_TYPE);
    else if (px_poll_survey_parse_doc(s, e.payload.data, e.payload.len, err) == 0) {
        if (px_dsse_verify(&e, &s->conductor.key, err))
            px_err_prefix(err, "survey: not signed by its conductor: ");
        else if (px_buf_append(&s->envelope, envelope, len, err) == 0) {
            px_sha256(s->id, envelope, len);
            rc = 0;
        }
        if (rc)
            px_poll_survey_free(s);
    }
    px_dsse_free(&e);
    return rc;
}

/* ---- eligibility: the member list and credentials ------------------------------ */

static int key_cmp(const void *a, const void *b) {
    return memcmp(((const px_verifier *)a)->pk, ((const px_verifier *)b)->pk, PX_SIGN_PUBLICKEYBYTES);
}

int px_poll_members_parse(px_poll_members *m, const void *json, size_t len, px_err *err) {
    static const char *const keys[] = {"schema", "members", NULL};
    memset(m, 0, sizeof *m);
    json_t *doc = px_json_parse(json, len, 256u << 20, err), *arr, *v;
    const char *schema;
    size_t i;
    int rc = -1;
    if (!doc || px_pj_only(doc, "member list", keys, err) || px_json_str(doc, "schema", &schema, err) ||
        px_pj_arr(doc, "members", 1, PX_POLL_MAX_MEMBERS, &arr, err))
        goto out;
    if (strcmp(schema, PX_POLL_MEMBERS_SCHEMA)) {
        px_fail(err, PX_E_INVALID, "schema is not %s", PX_POLL_MEMBERS_SCHEMA);
        goto out;
    }
    if (!(m->keys = calloc(json_array_size(arr), sizeof *m->keys))) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    json_array_foreach(arr, i, v) if (px_pj_verifier(v, "members[]", &m->keys[i], err)) goto out;
    m->n = json_array_size(arr);
    qsort(m->keys, m->n, sizeof *m->keys, key_cmp);
    for (i = 1; i < m->n; i++)
        if (!key_cmp(&m->keys[i - 1], &m->keys[i])) {
            px_fail(err, PX_E_INVALID, "the key of %s appears twice", m->keys[i].name);
            goto out;
        }
    rc = 0;
out:
    json_decref(doc);
    if (rc) {
        px_err_prefix(err, "member list: ");
        px_poll_members_free(m);
    }
    return rc;
}

void px_poll_members_free(px_poll_members *m) {
    free(m->keys);
    memset(m, 0, sizeof *m);
}

int px_poll_members_has(const px_poll_members *m, const uint8_t pk[PX_SIGN_PUBLICKEYBYTES]) {
    px_verifier k;
    memcpy(k.pk, pk, sizeof k.pk);
    return m->n && bsearch(&k, m->keys, m->n, sizeof *m->keys, key_cmp) != NULL;
}

int px_poll_credential_sign(px_buf *out, const px_verifier *subject, const char *claim, int64_t expires,
                            const px_signer *source, px_err *err) {
    px_buf vk = PX_BUF_INIT, body = PX_BUF_INIT;
    json_t *o = NULL;
    int rc = -1;
    if (px_verifier_format(subject, &vk, err) || !px_buf_cstr(&vk, err))
        goto out;
    o = json_pack("{s:s,s:s,s:s,s:I}", "schema", PX_POLL_CREDENTIAL_SCHEMA, "subject", (char *)vk.data, "claim",
                  claim, "expires", (json_int_t)expires);
    if (!o) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    rc = px_json_dump(o, &body, err) ||
         px_dsse_sign(out, PX_POLL_CREDENTIAL_PAYLOAD_TYPE, body.data, body.len, source, 1, err);
out:
    json_decref(o);
    px_buf_free(&vk);
    px_buf_free(&body);
    return rc ? -1 : 0;
}

int px_poll_credential_check(const void *env, size_t len, const px_poll_survey *s,
                             const uint8_t requester[PX_SIGN_PUBLICKEYBYTES], int64_t now, px_err *err) {
    static const char *const keys[] = {"schema", "subject", "claim", "expires", NULL};
    if (s->elig != PX_POLL_ELIG_CREDENTIAL)
        return px_fail(err, PX_E_INVALID, "the poll takes no credentials");
    px_dsse e;
    if (px_dsse_parse(&e, env, len, err))
        return px_err_prefix(err, "credential: ");
    json_t *doc = NULL;
    const char *schema, *claim;
    px_verifier subject;
    int64_t expires;
    int rc = -1;
    if (strcmp(e.payload_type, PX_POLL_CREDENTIAL_PAYLOAD_TYPE))
        px_fail(err, PX_E_INVALID, "credential: payload type is not %s", PX_POLL_CREDENTIAL_PAYLOAD_TYPE);
    else if (px_dsse_verify(&e, &s->source, NULL))
        px_fail(err, PX_E_DENIED, "credential: not signed by the poll's source %s", s->source.name);
    else if (!(doc = px_json_parse(e.payload.data, e.payload.len, 1 << 16, err)) ||
             px_pj_only(doc, "credential", keys, err) || px_json_str(doc, "schema", &schema, err) ||
             px_json_str(doc, "claim", &claim, err) ||
             px_pj_verifier(json_object_get(doc, "subject"), "subject", &subject, err) ||
             px_pj_int(doc, "expires", 0, TIME_MAX, &expires, err))
        px_err_prefix(err, "credential: ");
    else if (strcmp(schema, PX_POLL_CREDENTIAL_SCHEMA))
        px_fail(err, PX_E_INVALID, "credential: schema is not %s", PX_POLL_CREDENTIAL_SCHEMA);
    else if (strcmp(claim, s->claim))
        px_fail(err, PX_E_DENIED, "credential: claims \"%.40s\", the poll asks for \"%s\"", claim, s->claim);
    else if (!px_ct_equal(subject.pk, requester, PX_SIGN_PUBLICKEYBYTES))
        px_fail(err, PX_E_DENIED, "credential: issued to another key than the requester's");
    else if (expires <= now)
        px_fail(err, PX_E_DENIED, "credential: expired");
    else
        rc = 0;
    json_decref(doc);
    px_dsse_free(&e);
    return rc;
}
