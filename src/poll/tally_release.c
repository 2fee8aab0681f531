/* The tally's release: every table (one per question, one per crosstab)
 * gets exact discrete Laplace noise calibrated to what one ballot can
 * change in it, with the survey's ε split evenly between the tables
 * (basic composition); the small-cell rule then applies to the noisy
 * counts only, which is post-processing and costs no privacy. */
#include <string.h>

#include "pixiu/dp.h"
#include "poll/pjson.h"
#include "poll/tally_int.h"

typedef struct table_noise {
    px_dp_noise noise;
    char eps[PX_DP_DEC_STR_MAX], scale[PX_DP_DEC_STR_MAX];
} table_noise;

/* Laplace noise for L1 sensitivity l1 at eps / parts. */
static int calibrate(table_noise *tn, px_dp_q eps, uint64_t parts, uint64_t l1, px_err *err) {
    px_dp_q e = px_dp_q_make(eps.num, eps.den * parts); /* den <= 10^6, parts <= 192: no overflow */
    px_dp_spend spend;
    if (px_dp_noise_calibrate(&tn->noise, PX_DP_NOISE_LAPLACE, l1, 0, e, px_dp_q_make(0, 1), &spend, err))
        return -1;
    px_dp_q_format(e, tn->eps);
    px_dp_q_format(px_dp_q_make(tn->noise.a, tn->noise.b), tn->scale);
    return 0;
}

/* A noisy count under the small-cell rule: a number, or null (withheld). */
static int noisy_count(const px_poll_survey *s, const table_noise *tn, px_dp_rng *rng, uint64_t count, json_t **out,
                       int64_t *value, px_err *err) {
    int64_t v;
    if (px_dp_noise_add(&tn->noise, rng, (int64_t)count, &v, err))
        return -1;
    if (v < 0)
        v = 0; /* post-processing: a count is not negative */
    *value = v;
    int withheld = s->cells == PX_POLL_CELLS_SUPPRESS && (uint64_t)v < s->below;
    *out = withheld ? json_null() : json_integer(v);
    return *out ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
}

static uint64_t l1_of(const px_poll_question *q) {
    if (q->type == PX_POLL_NUMERIC) {
        uint64_t a = (uint64_t)(q->min < 0 ? -q->min : q->min), b = (uint64_t)(q->max < 0 ? -q->max : q->max);
        return a > b ? a : b;
    }
    return q->max_choices;
}

/* One row of a table: counts per option, or a numeric sum, count and mean. */
static int row_json(const px_poll_survey *s, const px_poll_question *q, const px_poll_row *r,
                    const table_noise *tn, px_dp_rng *rng, json_t *o, px_err *err) {
    int64_t v;
    json_t *c;
    if (q->type != PX_POLL_NUMERIC) {
        json_t *counts = json_array();
        if (px_pj_set(o, "counts", counts, err))
            return -1;
        for (uint32_t k = 0; k < q->noptions; k++)
            if (noisy_count(s, &tn[0], rng, r->counts[k], &c, &v, err) || json_array_append_new(counts, c))
                return -1;
        return 0;
    }
    int64_t sum, n;
    if (px_dp_noise_add(&tn[0].noise, rng, r->sum, &sum, err) || noisy_count(s, &tn[1], rng, r->n, &c, &n, err) ||
        px_pj_set(o, "count", c, err))
        return -1;
    int shown = !json_is_null(c) && n >= 1;
    double mean = shown ? (double)sum / (double)n : 0;
    if (mean < (double)q->min)
        mean = (double)q->min; /* post-processing into the question's range */
    if (mean > (double)q->max)
        mean = (double)q->max;
    return px_pj_set(o, "sum", shown ? json_integer(sum) : json_null(), err) ||
           px_pj_set(o, "mean", shown ? json_real(mean) : json_null(), err);
}

static int noise_json(json_t *o, const px_poll_question *q, const table_noise *tn, px_err *err) {
    if (q->type != PX_POLL_NUMERIC)
        return px_pj_set(o, "epsilon", json_string(tn[0].eps), err) ||
               px_pj_set(o, "scale", json_string(tn[0].scale), err);
    return px_pj_set(o, "epsilon", json_pack("{s:s,s:s}", "sum", tn[0].eps, "count", tn[1].eps), err) ||
           px_pj_set(o, "scale", json_pack("{s:s,s:s}", "sum", tn[0].scale, "count", tn[1].scale), err);
}

static int table_calibrate(table_noise tn[2], const px_poll_question *q, px_dp_q eps, uint64_t tables,
                           px_err *err) {
    if (q->type != PX_POLL_NUMERIC)
        return calibrate(&tn[0], eps, tables, l1_of(q), err);
    return calibrate(&tn[0], eps, 2 * tables, l1_of(q), err) || calibrate(&tn[1], eps, 2 * tables, 1, err);
}

static int options_json(json_t *o, const px_poll_question *q, px_err *err) {
    if (q->type == PX_POLL_NUMERIC)
        return px_pj_set(o, "range", json_pack("[I,I]", (json_int_t)q->min, (json_int_t)q->max), err);
    json_t *a = json_array();
    if (px_pj_set(o, "options", a, err))
        return -1;
    for (uint32_t k = 0; k < q->noptions; k++)
        if (json_array_append_new(a, json_string(q->options[k])))
            return px_fail(err, PX_E_NOMEM, "out of memory");
    return 0;
}

static int questions_json(px_poll_tally *t, json_t *doc, px_dp_q eps, uint64_t tables, px_dp_rng *rng,
                          px_err *err) {
    const px_poll_survey *s = t->s;
    json_t *arr = json_array();
    if (px_pj_set(doc, "questions", arr, err))
        return -1;
    for (size_t i = 0; i < s->nquestions; i++) {
        const px_poll_question *q = &s->questions[i];
        table_noise tn[2];
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o))
            return px_fail(err, PX_E_NOMEM, "out of memory");
        static const char *const types[] = {"", "single", "multiple", "numeric"};
        if (px_pj_set(o, "id", json_string(q->id), err) || px_pj_set(o, "type", json_string(types[q->type]), err) ||
            options_json(o, q, err) || table_calibrate(tn, q, eps, tables, err) || noise_json(o, q, tn, err) ||
            row_json(s, q, &t->q[i], tn, rng, o, err))
            return -1;
    }
    return 0;
}

static int crosstabs_json(px_poll_tally *t, json_t *doc, px_dp_q eps, uint64_t tables, px_dp_rng *rng,
                          px_err *err) {
    const px_poll_survey *s = t->s;
    json_t *arr = json_array();
    if (px_pj_set(doc, "crosstabs", arr, err))
        return -1;
    for (size_t i = 0; i < s->ncrosstabs; i++) {
        const px_poll_question *q = &s->questions[s->crosstabs[i].question];
        const px_poll_demographic *d = &s->demographics[s->crosstabs[i].demographic];
        table_noise tn[2];
        json_t *o = json_object(), *rows = json_array();
        if (!o || json_array_append_new(arr, o) || px_pj_set(o, "question", json_string(q->id), err) ||
            px_pj_set(o, "by", json_string(d->id), err) || table_calibrate(tn, q, eps, tables, err) ||
            noise_json(o, q, tn, err) || px_pj_set(o, "rows", rows, err))
            return px_fail(err, PX_E_NOMEM, "out of memory building crosstab %zu", i);
        for (uint32_t c = 0; c <= d->n; c++) {
            json_t *r = json_object();
            if (!r || json_array_append_new(rows, r) ||
                px_pj_set(r, "category", json_string(c < d->n ? d->labels[c] : "unknown"), err) ||
                row_json(s, q, &t->x[i][c], tn, rng, r, err))
                return -1;
        }
    }
    return 0;
}

static int spent_json(px_poll_tally *t, json_t *doc, uint8_t digest[PX_SHA256_BYTES], px_err *err) {
    px_buf all = PX_BUF_INIT;
    size_t n;
    json_t *arr = json_array();
    int rc = px_pj_set(doc, "spent", arr, err) || px_poll_tally_spent(t, digest, &all, &n, err);
    for (size_t off = 0, i = 0; rc == 0 && i < n; i++) {
        size_t len = PX_POLL_TOKEN_FIXED + px_load_u16le(all.data + off + PX_POLL_TOKEN_FIXED - 2);
        char *b = malloc(px_b64_encoded_len(len) + 1);
        if (!b)
            rc = px_fail(err, PX_E_NOMEM, "out of memory");
        else {
            px_b64_encode(b, all.data + off, len);
            rc = json_array_append_new(arr, json_string(b)) ? px_fail(err, PX_E_NOMEM, "out of memory") : 0;
            free(b);
        }
        off += len;
    }
    px_buf_free(&all);
    return rc ? -1 : 0;
}

static json_t *refusals(const px_poll_tally *t) {
    json_t *o = json_object();
    for (int r = 1; o && r < PX_POLL_NREASONS; r++)
        if (json_object_set_new(o, px_poll_reason_name((px_poll_reason)r), json_integer((json_int_t)t->counts[r])))
            return json_decref(o), NULL;
    return o;
}

static int report_json(px_poll_tally *t, uint64_t issued, const uint8_t spent[32], uint64_t tables, json_t **out,
                       px_err *err) {
    json_t *r = json_object();
    int rc = !r || px_pj_set_hex(r, "poll", t->s->id, PX_POLL_ID_BYTES, err) ||
             px_pj_set(r, "issued", json_integer((json_int_t)issued), err) ||
             px_pj_set(r, "received", json_integer((json_int_t)t->received), err) ||
             px_pj_set(r, "accepted", json_integer((json_int_t)t->counts[PX_POLL_ACCEPTED]), err) ||
             px_pj_set(r, "refused", refusals(t), err) || px_pj_set_hex(r, "spent", spent, 32, err) ||
             px_pj_set(r, "epsilon", json_string(t->s->epsilon), err) ||
             px_pj_set(r, "tables", json_integer((json_int_t)tables), err);
    if (rc) {
        json_decref(r);
        return px_fail(err, PX_E_NOMEM, "out of memory building the tally report");
    }
    *out = r;
    return 0;
}

int px_poll_tally_release(px_poll_tally *t, px_dp_rng *rng, uint64_t issued, px_buf *out, json_t **report,
                          px_err *err) {
    const px_poll_survey *s = t->s;
    px_dp_q eps;
    uint8_t spent[PX_SHA256_BYTES];
    uint64_t tables = s->nquestions + s->ncrosstabs;
    if (px_dp_q_parse(&eps, s->epsilon, strlen(s->epsilon), err))
        return -1;
    json_t *doc = json_object(), *dp = json_object();
    int rc = !doc || !dp || px_pj_set(doc, "schema", json_string(PX_POLL_RESULT_SCHEMA), err) ||
             px_pj_set_hex(doc, "poll", s->id, PX_POLL_ID_BYTES, err) ||
             px_pj_set(doc, "accepted", json_integer((json_int_t)t->counts[PX_POLL_ACCEPTED]), err) ||
             px_pj_set(doc, "dp", dp, err) || px_pj_set(dp, "noise", json_string("laplace"), err) ||
             px_pj_set(dp, "epsilon", json_string(s->epsilon), err) ||
             px_pj_set(dp, "tables", json_integer((json_int_t)tables), err) ||
             px_pj_set(dp, "small_cells",
                       s->cells == PX_POLL_CELLS_SUPPRESS
                           ? json_pack("{s:s,s:I}", "rule", "suppress", "below", (json_int_t)s->below)
                           : json_pack("{s:s}", "rule", "noise"),
                       err) ||
             questions_json(t, doc, eps, tables, rng, err) || crosstabs_json(t, doc, eps, tables, rng, err) ||
             spent_json(t, doc, spent, err) || report_json(t, issued, spent, tables, report, err);
    if (!dp && doc)
        rc = -1;
    if (rc == 0 && px_json_dump(doc, out, err)) {
        json_decref(*report);
        *report = NULL;
        rc = -1;
    }
    json_decref(doc);
    return rc ? -1 : 0;
}
