/* Ballots: the fixed-length binary form the tally λ opens, its check
 * against the survey, the member's answers as JSON, and the POD-side fill
 * of the demographic bands the survey asks for. */
#include <string.h>

#include "poll/pjson.h"

#define HDR (4 + PX_POLL_ID_BYTES + 2)

int px_poll_ballot_encode(const px_poll_ballot *b, px_buf *out, px_err *err) {
    px_buf tok = PX_BUF_INIT;
    if (b->nanswers > PX_POLL_MAX_QUESTIONS || b->ndemo > PX_POLL_MAX_DEMOGRAPHICS)
        return px_fail(err, PX_E_INVALID, "ballot: too many answers or demographics");
    if (px_poll_token_encode(&b->token, &tok, err))
        return -1;
    int rc = px_buf_reserve(out, HDR + tok.len + 2 + 9 * b->nanswers + b->ndemo, err);
    if (rc == 0) {
        px_buf_append(out, PX_POLL_BALLOT_MAGIC, 4, NULL);
        px_buf_append(out, b->poll, PX_POLL_ID_BYTES, NULL);
        px_buf_append_u16le(out, (uint16_t)tok.len, NULL);
        px_buf_append(out, tok.data, tok.len, NULL);
        px_buf_append_u8(out, (uint8_t)b->nanswers, NULL);
        for (size_t i = 0; i < b->nanswers; i++) {
            px_buf_append_u8(out, b->answers[i].present, NULL);
            px_buf_append_u64le(out, b->answers[i].present ? (uint64_t)b->answers[i].value : 0, NULL);
        }
        px_buf_append_u8(out, (uint8_t)b->ndemo, NULL);
        px_buf_append(out, b->demo, b->ndemo, NULL);
    }
    px_buf_free(&tok);
    return rc;
}

int px_poll_ballot_parse(px_poll_ballot *b, const uint8_t *d, size_t len, px_err *err) {
    if (len < HDR || memcmp(d, PX_POLL_BALLOT_MAGIC, 4))
        return px_fail(err, PX_E_INVALID, "not a ballot (no PXB1 header)");
    size_t tl = px_load_u16le(d + 4 + PX_POLL_ID_BYTES), off = HDR + tl;
    if (tl > PX_POLL_TOKEN_MAX || off + 1 > len)
        return px_fail(err, PX_E_INVALID, "ballot: truncated token");
    memcpy(b->poll, d + 4, PX_POLL_ID_BYTES);
    if (px_poll_token_parse(&b->token, d + HDR, tl, err))
        return px_err_prefix(err, "ballot: ");
    size_t nq = d[off++];
    if (nq > PX_POLL_MAX_QUESTIONS || off + 9 * nq + 1 > len)
        return px_fail(err, PX_E_INVALID, "ballot: %zu answers do not fit", nq);
    for (size_t i = 0; i < nq; i++, off += 9) {
        b->answers[i].present = d[off];
        b->answers[i].value = (int64_t)px_load_u64le(d + off + 1);
        if (d[off] > 1 || (!d[off] && b->answers[i].value))
            return px_fail(err, PX_E_INVALID, "ballot: answer %zu has a bad presence byte", i);
    }
    b->nanswers = nq;
    size_t nd = d[off++];
    if (nd > PX_POLL_MAX_DEMOGRAPHICS || off + nd != len)
        return px_fail(err, PX_E_INVALID, "ballot: %zu demographics and %zu bytes left do not agree", nd, len - off);
    memcpy(b->demo, d + off, nd);
    b->ndemo = nd;
    return 0;
}

static unsigned popcount32(uint64_t v) {
    unsigned n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

int px_poll_ballot_check(const px_poll_ballot *b, const px_poll_survey *s, px_err *err) {
    if (!px_ct_equal(b->poll, s->id, PX_POLL_ID_BYTES))
        return px_fail(err, PX_E_DENIED, "the ballot is for another poll");
    if (b->nanswers != s->nquestions || b->ndemo != s->ndemographics)
        return px_fail(err, PX_E_INVALID, "the ballot has %zu answers and %zu demographics, the survey %zu and %zu",
                       b->nanswers, b->ndemo, s->nquestions, s->ndemographics);
    for (size_t i = 0; i < b->nanswers; i++) {
        const px_poll_question *q = &s->questions[i];
        int64_t v = b->answers[i].value;
        if (!b->answers[i].present)
            continue;
        if (q->type == PX_POLL_SINGLE && (v < 0 || v >= (int64_t)q->noptions))
            return px_fail(err, PX_E_INVALID, "answer to %s is not one of its options", q->id);
        if (q->type == PX_POLL_MULTIPLE &&
            (v <= 0 || (uint64_t)v >= (UINT64_C(1) << q->noptions) || popcount32((uint64_t)v) > q->max_choices))
            return px_fail(err, PX_E_INVALID, "answer to %s is not 1 to %u of its options", q->id, q->max_choices);
        if (q->type == PX_POLL_NUMERIC && (v < q->min || v > q->max))
            return px_fail(err, PX_E_INVALID, "answer to %s is outside [%lld, %lld]", q->id, (long long)q->min,
                           (long long)q->max);
    }
    for (size_t i = 0; i < b->ndemo; i++)
        if (b->demo[i] != PX_POLL_UNKNOWN && b->demo[i] >= s->demographics[i].n)
            return px_fail(err, PX_E_INVALID, "demographic %s: category %u is not declared", s->demographics[i].id,
                           b->demo[i]);
    return 0;
}

static int option_of(const px_poll_question *q, const json_t *v, uint32_t *out, px_err *err) {
    const char *l = json_string_value(v);
    for (uint32_t k = 0; l && k < q->noptions; k++)
        if (!strcmp(q->options[k], l)) {
            *out = k;
            return 0;
        }
    return px_fail(err, PX_E_INVALID, "answer to %s: \"%.40s\" is not one of its options", q->id, l ? l : "?");
}

static int answer(px_poll_answer *a, const px_poll_question *q, const json_t *v, px_err *err) {
    uint32_t k = 0;
    a->present = 1;
    if (q->type == PX_POLL_SINGLE) {
        if (option_of(q, v, &k, err))
            return -1;
        a->value = k;
    } else if (q->type == PX_POLL_MULTIPLE) {
        size_t i;
        json_t *e;
        if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > q->max_choices)
            return px_fail(err, PX_E_INVALID, "answer to %s: 1 to %u options, as an array", q->id, q->max_choices);
        a->value = 0;
        json_array_foreach(v, i, e) {
            if (option_of(q, e, &k, err))
                return -1;
            if (a->value & (INT64_C(1) << k))
                return px_fail(err, PX_E_INVALID, "answer to %s: \"%s\" chosen twice", q->id, q->options[k]);
            a->value |= INT64_C(1) << k;
        }
    } else {
        if (!json_is_integer(v) || json_integer_value(v) < q->min || json_integer_value(v) > q->max)
            return px_fail(err, PX_E_INVALID, "answer to %s: an integer from %lld to %lld", q->id, (long long)q->min,
                           (long long)q->max);
        a->value = json_integer_value(v);
    }
    return 0;
}

int px_poll_answers_parse(px_poll_ballot *b, const px_poll_survey *s, const void *json, size_t len, px_err *err) {
    json_t *doc = px_json_parse(json, len, 1 << 20, err), *v;
    const char *key;
    if (!doc)
        return px_err_prefix(err, "answers: ");
    int rc = 0;
    if (!json_is_object(doc))
        rc = px_fail(err, PX_E_INVALID, "answers: a JSON object keyed by question id");
    json_object_foreach(doc, key, v) {
        if (rc == 0 && px_poll_survey_question(s, key) < 0)
            rc = px_fail(err, PX_E_INVALID, "answers: the survey has no question \"%.40s\"", key);
    }
    memset(b->answers, 0, sizeof b->answers);
    b->nanswers = s->nquestions;
    for (size_t i = 0; rc == 0 && i < s->nquestions; i++)
        if ((v = json_object_get(doc, s->questions[i].id)))
            rc = answer(&b->answers[i], &s->questions[i], v, err);
    json_decref(doc);
    return rc;
}

/* ---- the POD-side fill ------------------------------------------------------ */

static uint8_t category_of(const px_poll_demographic *d, const px_value *v) {
    if (d->numeric && v->type == PX_FIELD_INT) {
        for (uint32_t k = 0; k < d->n; k++)
            if (v->i >= d->bands[k][0] && v->i <= d->bands[k][1])
                return (uint8_t)k;
    } else if (!d->numeric && v->type == PX_FIELD_TEXT) {
        for (uint32_t k = 0; k < d->n; k++)
            if (strlen(d->categories[k]) == v->len && !memcmp(d->categories[k], v->p, v->len))
                return (uint8_t)k;
    }
    return PX_POLL_UNKNOWN;
}

int px_poll_fill(const px_poll_survey *s, const uint8_t *records, size_t len, uint8_t *demo, size_t *ndemo,
                 px_err *err) {
    px_records_reader r;
    px_value vals[PX_RECORDS_MAX_FIELDS];
    uint8_t flags;
    memset(demo, PX_POLL_UNKNOWN, s->ndemographics);
    *ndemo = s->ndemographics;
    if (!s->ndemographics)
        return 0;
    if (px_records_open(&r, records, len, err))
        return px_err_prefix(err, "fill: ");
    if (r.count > 1)
        return px_fail(err, PX_E_INVALID, "fill: dataset \"%s\" holds %llu records; a per-person profile has one",
                       s->dataset, (unsigned long long)r.count);
    if (r.count == 0)
        return 0;
    int got = px_records_next(&r, vals, &flags, err);
    if (got < 0)
        return px_err_prefix(err, "fill: ");
    if (got == 0)
        return px_fail(err, PX_E_INVALID, "fill: dataset \"%s\" ends before its record", s->dataset);
    for (size_t i = 0; i < s->ndemographics; i++) {
        int f = px_schema_find(&r.schema, s->demographics[i].field);
        if (f >= 0)
            demo[i] = category_of(&s->demographics[i], &vals[f]);
    }
    return 0;
}

size_t px_poll_ballot_sealed_size(const px_poll_survey *s) {
    size_t token = PX_POLL_TOKEN_FIXED + px_poll_pub_bytes(s->key);
    return HDR + token + 1 + 9 * s->nquestions + 1 + s->ndemographics + PX_COMMIT_HEADERBYTES + PX_SEAL_OVERHEAD;
}
