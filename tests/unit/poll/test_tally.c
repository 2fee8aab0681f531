/* The tally's accumulator and release: honest ballots counted once each,
 * and every bad ballot refused with its reason: a double vote with one
 * token, a replayed ballot, a token from another poll, a token signed with
 * another key, garbage, answers outside the survey, a ballot after the
 * poll closed. Then the DP release: noise scales as declared, small cells
 * withheld, the spent list and its digest. */
#include "poll_fixture.h"

#include "pixiu/dp.h"

static poll_fx fx;

static int setup(void **state) {
    (void)state;
    fx_init(&fx, NULL);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    fx_free(&fx);
    return 0;
}

static px_poll_reason offer(px_poll_tally *t, const px_buf *sealed, int64_t at) {
    px_poll_reason r;
    px_err why = {0};
    px_assert_ok(px_poll_tally_offer(t, sealed->data, sealed->len, at, &r, &why), &why);
    return r;
}

static void test_counts_and_refusals(void **state) {
    (void)state;
    px_err err = {0};
    px_poll_tally *t = NULL;
    px_assert_ok(px_poll_tally_new(&t, &fx.survey, &fx.tally, &err), &err);
    int64_t now = px_now_ms();
    px_poll_token tok[3];
    for (int i = 0; i < 3; i++)
        fx_token(&fx.survey, fx.key, &tok[i]);
    px_buf b[3] = {PX_BUF_INIT, PX_BUF_INIT, PX_BUF_INIT};
    fx_ballot(&fx, &tok[0], "{\"satisfied\":\"happy\",\"features\":[\"app\",\"web\"],\"spend\":120}", 0, 1, &b[0]);
    fx_ballot(&fx, &tok[1], "{\"satisfied\":\"neutral\",\"spend\":80}", 1, 0, &b[1]);
    fx_ballot(&fx, &tok[2], "{}", PX_POLL_UNKNOWN, PX_POLL_UNKNOWN, &b[2]);
    for (int i = 0; i < 3; i++)
        assert_int_equal(offer(t, &b[i], now), PX_POLL_ACCEPTED);

    /* The same sealed ballot again, and the same token in a new ballot. */
    assert_int_equal(offer(t, &b[0], now), PX_POLL_REPLAYED);
    px_buf again = PX_BUF_INIT;
    fx_ballot(&fx, &tok[0], "{\"satisfied\":\"unhappy\"}", 0, 1, &again);
    assert_int_equal(offer(t, &again, now), PX_POLL_SPENT);

    /* A token from another poll (same key, another survey). */
    poll_fx other;
    memset(&other, 0, sizeof other);
    px_buf odoc = PX_BUF_INIT, oenv = PX_BUF_INIT;
    fx_doc(&fx, &odoc, fx.key, now - 1000, now + 1000,
           "{\"epsilon\":\"2\",\"small_cells\":{\"rule\":\"noise\"}}");
    px_assert_ok(px_poll_survey_sign(&oenv, odoc.data, odoc.len, &fx.conductor, &err), &err);
    px_poll_survey os;
    px_assert_ok(px_poll_survey_parse(&os, oenv.data, oenv.len, &err), &err);
    px_poll_token foreign;
    fx_token(&os, fx.key, &foreign);
    px_buf wrong = PX_BUF_INIT;
    fx_ballot(&fx, &foreign, "{\"satisfied\":\"happy\"}", 0, 0, &wrong);
    assert_int_equal(offer(t, &wrong, now), PX_POLL_WRONG_POLL);
    px_poll_survey_free(&os);

    /* A token signed with another key, claiming this poll and key. */
    px_poll_key *k2 = NULL;
    px_assert_ok(px_poll_key_generate(&k2, 2048, &err), &err);
    px_poll_token forged;
    fx_token(&fx.survey, fx.key, &forged);
    {
        px_poll_request r;
        uint8_t bsig[PX_POLL_RSA_MAX_BYTES];
        px_assert_ok(px_poll_request_new(&r, px_poll_key_pub(k2), fx.survey.id, &err), &err);
        px_assert_ok(px_poll_blind_sign(k2, r.blinded, r.k, bsig, &err), &err);
        px_assert_ok(px_poll_request_finish(&r, px_poll_key_pub(k2), bsig, r.k, &err), &err);
        memcpy(forged.sig, r.token.sig, r.token.sig_len); /* right key id, wrong signer */
    }
    px_buf bad = PX_BUF_INIT;
    fx_ballot(&fx, &forged, "{\"satisfied\":\"happy\"}", 0, 0, &bad);
    assert_int_equal(offer(t, &bad, now), PX_POLL_BAD_TOKEN);
    px_poll_key_free(k2);

    /* Garbage, a box sealed to another key, a ballot too late / early. */
    px_buf junk = PX_BUF_INIT;
    px_buf_append_str(&junk, "not a ballot at all, but long enough to look like a sealed box.......", NULL);
    assert_int_equal(offer(t, &junk, now), PX_POLL_MALFORMED);
    px_poll_token tl;
    fx_token(&fx.survey, fx.key, &tl);
    px_buf late = PX_BUF_INIT, early = PX_BUF_INIT;
    fx_ballot(&fx, &tl, "{\"satisfied\":\"happy\"}", 0, 0, &late);
    assert_int_equal(offer(t, &late, fx.survey.closes + 1), PX_POLL_LATE);
    fx_ballot(&fx, &tl, "{\"satisfied\":\"happy\"}", 0, 0, &early);
    assert_int_equal(offer(t, &early, fx.survey.opens - 1), PX_POLL_EARLY);
    /* The refused ballot spent nothing: the same token still counts. */
    px_buf ok = PX_BUF_INIT;
    fx_ballot(&fx, &tl, "{\"satisfied\":\"unhappy\",\"spend\":1000}", 2, 0, &ok);
    assert_int_equal(offer(t, &ok, now), PX_POLL_ACCEPTED);

    uint64_t counts[PX_POLL_NREASONS], received;
    px_poll_tally_counts(t, counts, &received);
    assert_int_equal(received, 11);
    assert_int_equal(counts[PX_POLL_ACCEPTED], 4);
    assert_int_equal(counts[PX_POLL_REPLAYED], 1);
    assert_int_equal(counts[PX_POLL_SPENT], 1);
    assert_int_equal(counts[PX_POLL_WRONG_POLL], 1);
    assert_int_equal(counts[PX_POLL_BAD_TOKEN], 1);
    assert_int_equal(counts[PX_POLL_MALFORMED], 1);
    assert_int_equal(counts[PX_POLL_LATE], 1);
    assert_int_equal(counts[PX_POLL_EARLY], 1);

    /* The release: four tokens in the spent list, each verifiable. */
    px_dp_rng rng;
    px_dp_rng_init(&rng);
    px_buf result = PX_BUF_INIT;
    json_t *report = NULL;
    px_assert_ok(px_poll_tally_release(t, &rng, 5, &result, &report, &err), &err);
    json_t *doc = px_json_parse(result.data, result.len, 1 << 24, &err);
    assert_non_null(doc);
    json_t *spent = json_object_get(doc, "spent");
    assert_int_equal(json_array_size(spent), 4);
    px_buf all = PX_BUF_INIT;
    for (size_t i = 0; i < 4; i++) {
        px_buf tb = PX_BUF_INIT;
        const char *s = json_string_value(json_array_get(spent, i));
        px_assert_ok(px_b64_decode(&tb, s, strlen(s), &err), &err);
        px_poll_token pt;
        px_assert_ok(px_poll_token_parse(&pt, tb.data, tb.len, &err), &err);
        px_assert_ok(px_poll_token_verify(&pt, fx.survey.key, fx.survey.id, &err), &err);
        px_buf_append(&all, tb.data, tb.len, NULL);
        px_buf_free(&tb);
    }
    uint8_t d[32], want[32];
    px_poll_spent_digest(d, all.data, all.len);
    px_assert_ok(px_json_hex(report, "spent", want, 32, &err), &err);
    assert_memory_equal(d, want, 32);
    assert_int_equal(json_integer_value(json_object_get(report, "accepted")), 4);
    assert_int_equal(json_integer_value(json_object_get(report, "issued")), 5);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(report, "refused"), "spent")), 1);
    /* Scales: five tables at epsilon 1/5 each: a single choice 5, a
     * two-choice multiple 10; numeric sum 1000 / (1/10) = 10000, count 10. */
    json_t *qs = json_object_get(doc, "questions");
    assert_string_equal(json_string_value(json_object_get(json_array_get(qs, 0), "scale")), "5");
    assert_string_equal(json_string_value(json_object_get(json_array_get(qs, 1), "scale")), "10");
    json_t *ns = json_object_get(json_array_get(qs, 2), "scale");
    assert_string_equal(json_string_value(json_object_get(ns, "sum")), "10000");
    assert_string_equal(json_string_value(json_object_get(ns, "count")), "10");
    json_decref(doc);
    json_decref(report);
    px_poll_tally_free(t);
    px_buf_free(&result);
    px_buf_free(&all);
    px_buf *bufs[] = {&b[0], &b[1], &b[2], &again, &wrong, &bad, &junk, &late, &early, &ok, &odoc, &oenv};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        px_buf_free(bufs[i]);
}

/* With a large epsilon the noise is small: counts come out near the truth;
 * with a high suppression threshold every cell is withheld. */
static void test_release_values(void **state) {
    (void)state;
    px_err err = {0};
    poll_fx f2;
    fx_init(&f2, "{\"epsilon\":\"100\",\"small_cells\":{\"rule\":\"noise\"}}");
    px_poll_tally *t = NULL;
    px_assert_ok(px_poll_tally_new(&t, &f2.survey, &f2.tally, &err), &err);
    int64_t now = px_now_ms();
    for (int i = 0; i < 30; i++) {
        px_poll_token tok;
        fx_token(&f2.survey, f2.key, &tok);
        px_buf b = PX_BUF_INIT;
        char ans[128];
        snprintf(ans, sizeof ans, "{\"satisfied\":\"%s\",\"spend\":%d}", i < 20 ? "happy" : "unhappy", 100);
        fx_ballot(&f2, &tok, ans, (uint8_t)(i % 3), 0, &b);
        assert_int_equal(offer(t, &b, now), PX_POLL_ACCEPTED);
        px_buf_free(&b);
    }
    px_dp_rng rng;
    px_dp_rng_init(&rng);
    px_buf result = PX_BUF_INIT;
    json_t *report = NULL;
    px_assert_ok(px_poll_tally_release(t, &rng, 30, &result, &report, &err), &err);
    json_t *doc = px_json_parse(result.data, result.len, 1 << 24, &err);
    json_t *q0 = json_array_get(json_object_get(doc, "questions"), 0);
    json_t *counts = json_object_get(q0, "counts");
    /* scale 5/100 = 0.05: P(|noise| >= 1) is about 2e-9 */
    assert_int_equal(json_integer_value(json_array_get(counts, 0)), 10);
    assert_int_equal(json_integer_value(json_array_get(counts, 1)), 0);
    assert_int_equal(json_integer_value(json_array_get(counts, 2)), 20);
    json_t *q2 = json_array_get(json_object_get(doc, "questions"), 2);
    /* count scale 0.1, sum scale 100: P(|count - 30| > 2) ~ e^-30 */
    json_int_t n = json_integer_value(json_object_get(q2, "count"));
    assert_true(n >= 28 && n <= 32);
    double mean = json_real_value(json_object_get(q2, "mean"));
    assert_true(mean > 50 && mean < 150);
    json_t *x0 = json_array_get(json_object_get(doc, "crosstabs"), 0);
    assert_int_equal(json_array_size(json_object_get(x0, "rows")), 4); /* three bands and unknown */
    json_decref(doc);
    json_decref(report);
    px_buf_free(&result);
    px_poll_tally_free(t);
    fx_free(&f2);

    poll_fx f3;
    fx_init(&f3, "{\"epsilon\":\"100\",\"small_cells\":{\"rule\":\"suppress\",\"below\":1000}}");
    px_assert_ok(px_poll_tally_new(&t, &f3.survey, &f3.tally, &err), &err);
    px_poll_token tok;
    fx_token(&f3.survey, f3.key, &tok);
    px_buf b = PX_BUF_INIT;
    fx_ballot(&f3, &tok, "{\"satisfied\":\"happy\",\"spend\":5}", 0, 0, &b);
    assert_int_equal(offer(t, &b, now), PX_POLL_ACCEPTED);
    px_assert_ok(px_poll_tally_release(t, &rng, 1, &result, &report, &err), &err);
    doc = px_json_parse(result.data, result.len, 1 << 24, &err);
    q0 = json_array_get(json_object_get(doc, "questions"), 0);
    for (size_t i = 0; i < 3; i++)
        assert_true(json_is_null(json_array_get(json_object_get(q0, "counts"), i)));
    q2 = json_array_get(json_object_get(doc, "questions"), 2);
    assert_true(json_is_null(json_object_get(q2, "mean")));
    json_decref(doc);
    json_decref(report);
    px_buf_free(&result);
    px_buf_free(&b);
    px_poll_tally_free(t);
    fx_free(&f3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_and_refusals),
        cmocka_unit_test(test_release_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
