/* The survey's items: questions, the demographic fields it asks PODs for,
 * the cross-tabulations it releases and its DP rule. Strict: closed
 * objects, bounded counts, ids unique, everything a tally needs decided
 * here so a survey that parses can be tallied. */
#include <string.h>

#include "pixiu/dp.h"
#include "poll/pjson.h"
#include "poll/survey_int.h"

static int qid(const json_t *v, const char *what, char dst[PX_POLL_QID_MAX + 1], px_err *err) {
    return px_pj_name(v, what, dst, PX_POLL_QID_MAX + 1, err);
}

static int labels(const json_t *arr, const char *what, size_t max, char ***out, uint32_t *n, px_err *err) {
    if (!json_is_array(arr) || json_array_size(arr) < 1 || json_array_size(arr) > max)
        return px_fail(err, PX_E_INVALID, "%s must be an array of 1 to %zu strings", what, max);
    size_t m = json_array_size(arr);
    char **l = calloc(m, sizeof *l);
    if (!l)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    *out = l;
    *n = (uint32_t)m;
    for (size_t i = 0; i < m; i++) {
        if (px_pj_text(json_array_get(arr, i), what, PX_POLL_TEXT_MAX, &l[i], err))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(l[i], l[j]))
                return px_fail(err, PX_E_INVALID, "%s: \"%.40s\" appears twice", what, l[i]);
    }
    return 0;
}

static int question(px_poll_question *q, const json_t *o, size_t i, px_err *err) {
    static const char *const keys[] = {"id", "text", "type", "options", "max_choices", "min", "max", NULL};
    char what[48];
    snprintf(what, sizeof what, "question %zu", i);
    const char *type;
    if (px_pj_only(o, what, keys, err) || qid(json_object_get(o, "id"), what, q->id, err) ||
        px_pj_text(json_object_get(o, "text"), what, PX_POLL_TEXT_MAX, &q->text, err) ||
        px_json_str(o, "type", &type, err))
        return px_err_prefix(err, "%s: ", what);
    if (!strcmp(type, "single") || !strcmp(type, "multiple")) {
        q->type = !strcmp(type, "single") ? PX_POLL_SINGLE : PX_POLL_MULTIPLE;
        if (json_object_get(o, "min") || json_object_get(o, "max"))
            return px_fail(err, PX_E_INVALID, "%s (%s): \"min\" and \"max\" are for numeric questions", what, q->id);
        if (labels(json_object_get(o, "options"), "options", PX_POLL_MAX_OPTIONS, &q->options, &q->noptions, err))
            return px_err_prefix(err, "%s (%s): ", what, q->id);
        if (q->noptions < 2)
            return px_fail(err, PX_E_INVALID, "%s (%s): a choice needs at least 2 options", what, q->id);
        q->max_choices = q->type == PX_POLL_SINGLE ? 1 : q->noptions;
        json_t *mc = json_object_get(o, "max_choices");
        if (mc && q->type == PX_POLL_SINGLE)
            return px_fail(err, PX_E_INVALID, "%s (%s): \"max_choices\" is for multiple-choice questions", what,
                           q->id);
        int64_t v;
        if (mc && px_pj_int(o, "max_choices", 1, q->noptions, &v, err))
            return px_err_prefix(err, "%s (%s): ", what, q->id);
        if (mc)
            q->max_choices = (uint32_t)v;
        return 0;
    }
    if (strcmp(type, "numeric"))
        return px_fail(err, PX_E_INVALID, "%s (%s): type \"%.20s\" is not single, multiple or numeric", what, q->id,
                       type);
    q->type = PX_POLL_NUMERIC;
    if (json_object_get(o, "options") || json_object_get(o, "max_choices"))
        return px_fail(err, PX_E_INVALID, "%s (%s): a numeric question has no options", what, q->id);
    if (px_pj_int(o, "min", -PX_POLL_NUMERIC_BOUND, PX_POLL_NUMERIC_BOUND, &q->min, err) ||
        px_pj_int(o, "max", -PX_POLL_NUMERIC_BOUND, PX_POLL_NUMERIC_BOUND, &q->max, err))
        return px_err_prefix(err, "%s (%s): ", what, q->id);
    if (q->min >= q->max)
        return px_fail(err, PX_E_INVALID, "%s (%s): min must be below max", what, q->id);
    return 0;
}

/* Bands: [[lo, hi], ...] ascending and disjoint, with labels "lo-hi". */
static int bands(px_poll_demographic *d, const json_t *arr, const char *what, px_err *err) {
    if (!json_is_array(arr) || json_array_size(arr) < 1 || json_array_size(arr) > PX_POLL_MAX_CATEGORIES)
        return px_fail(err, PX_E_INVALID, "%s: \"bands\" must be an array of 1 to %d [lo, hi] pairs", what,
                       PX_POLL_MAX_CATEGORIES);
    d->n = (uint32_t)json_array_size(arr);
    d->numeric = 1;
    if (!(d->bands = calloc(d->n, sizeof *d->bands)) || !(d->labels = calloc(d->n, sizeof *d->labels)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < d->n; i++) {
        json_t *b = json_array_get(arr, i);
        json_t *lo = json_array_get(b, 0), *hi = json_array_get(b, 1);
        if (!json_is_array(b) || json_array_size(b) != 2 || !json_is_integer(lo) || !json_is_integer(hi) ||
            json_integer_value(lo) > json_integer_value(hi) || json_integer_value(lo) < -PX_POLL_NUMERIC_BOUND ||
            json_integer_value(hi) > PX_POLL_NUMERIC_BOUND)
            return px_fail(err, PX_E_INVALID, "%s: band %u must be [lo, hi] integers with lo <= hi", what, i);
        d->bands[i][0] = json_integer_value(lo);
        d->bands[i][1] = json_integer_value(hi);
        if (i && d->bands[i][0] <= d->bands[i - 1][1])
            return px_fail(err, PX_E_INVALID, "%s: bands must be ascending and disjoint", what);
        char l[48];
        snprintf(l, sizeof l, "%lld-%lld", (long long)d->bands[i][0], (long long)d->bands[i][1]);
        if (!(d->labels[i] = strdup(l)))
            return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    return 0;
}

static int demographic(px_poll_demographic *d, const json_t *o, size_t i, px_err *err) {
    static const char *const keys[] = {"id", "field", "bands", "categories", NULL};
    char what[48];
    snprintf(what, sizeof what, "demographic %zu", i);
    if (px_pj_only(o, what, keys, err) || qid(json_object_get(o, "id"), what, d->id, err) ||
        px_pj_name(json_object_get(o, "field"), what, d->field, sizeof d->field, err))
        return -1;
    json_t *b = json_object_get(o, "bands"), *c = json_object_get(o, "categories");
    if (!b == !c)
        return px_fail(err, PX_E_INVALID, "%s (%s): needs exactly one of \"bands\" (a numeric field) or "
                       "\"categories\" (a text field)", what, d->id);
    if (b)
        return bands(d, b, what, err);
    if (labels(c, "categories", PX_POLL_MAX_CATEGORIES, &d->categories, &d->n, err))
        return px_err_prefix(err, "%s (%s): ", what, d->id);
    d->labels = calloc(d->n, sizeof *d->labels);
    for (uint32_t k = 0; d->labels && k < d->n; k++)
        if (!(d->labels[k] = strdup(d->categories[k])))
            return px_fail(err, PX_E_NOMEM, "out of memory");
    return d->labels ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
}

static int crosstab(px_poll_survey *s, px_poll_crosstab *x, const json_t *o, size_t i, px_err *err) {
    static const char *const keys[] = {"question", "by", NULL};
    char what[48], q[PX_POLL_QID_MAX + 1], d[PX_POLL_QID_MAX + 1];
    snprintf(what, sizeof what, "crosstab %zu", i);
    if (px_pj_only(o, what, keys, err) || qid(json_object_get(o, "question"), what, q, err) ||
        qid(json_object_get(o, "by"), what, d, err))
        return -1;
    int qi = px_poll_survey_question(s, q), di = px_poll_survey_demographic(s, d);
    if (qi < 0 || di < 0)
        return px_fail(err, PX_E_INVALID, "%s: no %s \"%s\" in the survey", what, qi < 0 ? "question" : "demographic",
                       qi < 0 ? q : d);
    x->question = (uint32_t)qi;
    x->demographic = (uint32_t)di;
    for (size_t j = 0; j < i; j++)
        if (s->crosstabs[j].question == x->question && s->crosstabs[j].demographic == x->demographic)
            return px_fail(err, PX_E_INVALID, "%s: %s by %s appears twice", what, q, d);
    return 0;
}

/* {"epsilon": "1", "noise": "laplace", "small_cells": {"rule", "below"}} */
static int dp_rule(px_poll_survey *s, const json_t *o, px_err *err) {
    static const char *const keys[] = {"epsilon", "noise", "small_cells", NULL};
    static const char *const cell_keys[] = {"rule", "below", NULL};
    const char *eps, *noise = "laplace", *rule;
    json_t *cells;
    px_dp_q q;
    if (px_pj_only(o, "dp", keys, err) || px_json_str(o, "epsilon", &eps, err))
        return px_err_prefix(err, "dp: ");
    if (strlen(eps) >= sizeof s->epsilon || px_dp_q_parse(&q, eps, strlen(eps), err))
        return px_err_prefix(err, "dp: epsilon: ");
    const char *dot = strchr(eps, '.');
    if (px_dp_q_is_zero(q) || px_dp_q_cmp(q, px_dp_q_make(100, 1)) > 0 || (dot && strlen(dot + 1) > 6))
        return px_fail(err, PX_E_INVALID, "dp: epsilon must be above 0 and at most 100, with at most 6 decimals");
    memcpy(s->epsilon, eps, strlen(eps) + 1);
    if (json_object_get(o, "noise") && px_json_str(o, "noise", &noise, err))
        return px_err_prefix(err, "dp: ");
    if (strcmp(noise, "laplace"))
        return px_fail(err, PX_E_INVALID, "dp: noise \"%.20s\" is not supported (polls use \"laplace\")", noise);
    if (px_pj_obj(o, "small_cells", &cells, err) || px_pj_only(cells, "dp.small_cells", cell_keys, err) ||
        px_json_str(cells, "rule", &rule, err))
        return px_err_prefix(err, "dp: ");
    int64_t below = 0;
    if (!strcmp(rule, "suppress")) {
        s->cells = PX_POLL_CELLS_SUPPRESS;
        if (px_pj_int(cells, "below", 1, 1000000, &below, err))
            return px_err_prefix(err, "dp.small_cells: ");
    } else if (!strcmp(rule, "noise")) {
        s->cells = PX_POLL_CELLS_NOISE;
        if (json_object_get(cells, "below"))
            return px_fail(err, PX_E_INVALID, "dp.small_cells: \"below\" is for the \"suppress\" rule");
    } else
        return px_fail(err, PX_E_INVALID, "dp.small_cells: rule \"%.20s\" is not \"suppress\" or \"noise\"", rule);
    s->below = (uint64_t)below;
    return 0;
}

int px_poll_survey_items(px_poll_survey *s, const json_t *doc, px_err *err) {
    json_t *qs, *ds = json_object_get(doc, "demographics"), *xs = json_object_get(doc, "crosstabs"), *dp, *v;
    size_t i;
    if (px_pj_arr(doc, "questions", 1, PX_POLL_MAX_QUESTIONS, &qs, err))
        return -1;
    if (!(s->questions = calloc(json_array_size(qs), sizeof *s->questions)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    json_array_foreach(qs, i, v) {
        s->nquestions = i + 1;
        if (question(&s->questions[i], v, i, err))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->questions[j].id, s->questions[i].id))
                return px_fail(err, PX_E_INVALID, "question id \"%s\" appears twice", s->questions[i].id);
    }
    if (ds && px_pj_arr(doc, "demographics", 0, PX_POLL_MAX_DEMOGRAPHICS, &ds, err))
        return -1;
    if (ds && json_array_size(ds) && !(s->demographics = calloc(json_array_size(ds), sizeof *s->demographics)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    json_array_foreach(ds, i, v) {
        s->ndemographics = i + 1;
        if (demographic(&s->demographics[i], v, i, err))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->demographics[j].id, s->demographics[i].id))
                return px_fail(err, PX_E_INVALID, "demographic id \"%s\" appears twice", s->demographics[i].id);
    }
    if (xs && px_pj_arr(doc, "crosstabs", 0, PX_POLL_MAX_CROSSTABS, &xs, err))
        return -1;
    if (xs && json_array_size(xs) && !(s->crosstabs = calloc(json_array_size(xs), sizeof *s->crosstabs)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    json_array_foreach(xs, i, v) {
        s->ncrosstabs = i + 1;
        if (crosstab(s, &s->crosstabs[i], v, i, err))
            return -1;
    }
    if (px_pj_obj(doc, "dp", &dp, err))
        return -1;
    return dp_rule(s, dp, err);
}

void px_poll_survey_items_free(px_poll_survey *s) {
    for (size_t i = 0; i < s->nquestions; i++) {
        px_poll_question *q = &s->questions[i];
        free(q->text);
        for (uint32_t k = 0; q->options && k < q->noptions; k++)
            free(q->options[k]);
        free(q->options);
    }
    free(s->questions);
    for (size_t i = 0; i < s->ndemographics; i++) {
        px_poll_demographic *d = &s->demographics[i];
        for (uint32_t k = 0; k < d->n; k++) {
            if (d->categories)
                free(d->categories[k]);
            if (d->labels)
                free(d->labels[k]);
        }
        free(d->categories);
        free(d->labels);
        free(d->bands);
    }
    free(s->demographics);
    free(s->crosstabs);
}

int px_poll_survey_question(const px_poll_survey *s, const char *id) {
    for (size_t i = 0; i < s->nquestions; i++)
        if (!strcmp(s->questions[i].id, id))
            return (int)i;
    return -1;
}

int px_poll_survey_demographic(const px_poll_survey *s, const char *id) {
    for (size_t i = 0; i < s->ndemographics; i++)
        if (!strcmp(s->demographics[i].id, id))
            return (int)i;
    return -1;
}
