/* The survey file is strict: every hostile or careless variant is refused
 * with a message naming the cause, and a survey signed by anyone but its
 * conductor does not parse. The POD-side fill turns a person's record into
 * the bands the survey asks for and nothing else; answers outside the
 * survey are refused; ballots and tokens of the wrong shape do not parse. */
#include "poll_fixture.h"

static poll_fx fx;
static px_buf good;

static int setup(void **state) {
    (void)state;
    fx_init(&fx, NULL);
    fx_doc(&fx, &good, fx.key, 1000, 2000, "{\"epsilon\":\"0.5\",\"small_cells\":{\"rule\":\"suppress\",\"below\":10}}");
    px_buf_cstr(&good, NULL);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    px_buf_free(&good);
    fx_free(&fx);
    return 0;
}

/* The good document with `from` replaced by `to` must fail naming `why`. */
static void refused(const char *from, const char *to, const char *why) {
    const char *text = (const char *)good.data, *at = strstr(text, from);
    if (!at)
        fail_msg("fixture lacks \"%s\"", from);
    px_buf b = PX_BUF_INIT;
    px_buf_append(&b, text, (size_t)(at - text), NULL);
    px_buf_append_str(&b, to, NULL);
    px_buf_append_str(&b, at + strlen(from), NULL);
    px_poll_survey s;
    px_err err = {0};
    if (px_poll_survey_parse_doc(&s, b.data, b.len, &err) == 0)
        fail_msg("accepted with \"%s\" -> \"%s\"", from, to);
    if (!strstr(err.msg, why))
        fail_msg("\"%s\" -> \"%s\": message \"%s\" does not say \"%s\"", from, to, err.msg, why);
    px_buf_free(&b);
}

static void test_survey_strict(void **state) {
    (void)state;
    px_poll_survey s;
    px_err err = {0};
    px_assert_ok(px_poll_survey_parse_doc(&s, good.data, good.len, &err), &err);
    assert_int_equal(s.nquestions, 3);
    assert_int_equal(s.questions[1].max_choices, 2);
    assert_int_equal(s.demographics[0].n, 3);
    assert_string_equal(s.demographics[0].labels[1], "35-64");
    assert_int_equal(s.below, 10);
    px_poll_survey_free(&s);
    refused("\"schema\":\"urn:pixiu:survey:v1\"", "\"schema\":\"urn:pixiu:survey:v2\"", "schema");
    refused("\"title\"", "\"titel\":1,\"title\"", "unknown field \"titel\"");
    refused("\"opens\":1000", "\"opens\":3000", "opens < closes");
    refused("\"id\":\"spend\"", "\"id\":\"satisfied\"", "appears twice");
    refused("\"type\":\"numeric\"", "\"type\":\"text\"", "not single, multiple or numeric");
    refused("\"min\":0,\"max\":1000", "\"min\":5,\"max\":5", "min must be below max");
    refused("\"max_choices\":2", "\"max_choices\":9", "max_choices");
    refused("\"options\":[\"unhappy\",\"neutral\",\"happy\"]", "\"options\":[\"a\",\"a\"]", "appears twice");
    refused("\"options\":[\"unhappy\",\"neutral\",\"happy\"]", "\"options\":[\"only\"]", "at least 2 options");
    refused("[[18,34],[35,64]", "[[18,40],[35,64]", "ascending and disjoint");
    refused("\"by\":\"age\"", "\"by\":\"height\"", "no demographic \"height\"");
    refused("\"epsilon\":\"0.5\"", "\"epsilon\":\"0\"", "epsilon must be above 0");
    refused("\"epsilon\":\"0.5\"", "\"epsilon\":\"0.1234567\"", "at most 6 decimals");
    refused("\"epsilon\":\"0.5\"", "\"epsilon\":\"0.5\",\"noise\":\"gaussian\"", "not supported");
    refused("\"rule\":\"suppress\",\"below\":10", "\"rule\":\"hide\"", "not \"suppress\" or \"noise\"");
    refused("\"rule\":\"suppress\",\"below\":10", "\"rule\":\"noise\",\"below\":3", "is for the \"suppress\" rule");
    refused("\"token_key\":\"", "\"token_key\":\"AAAA", "token_key");
    refused("\"dataset\":\"profile\",", "", "names the POD \"dataset\"");
    refused("\"text\":\"Monthly spend?\"", "\"text\":\"a\\u0007b\"", "control character");
    refused("\"boxes\":[{\"id\":\"exec-1\"", "\"boxes\":[{\"id\":\"exec 1\"", "boxes[]");
}

static void test_signed_by_conductor(void **state) {
    (void)state;
    px_err err = {0};
    px_signer other;
    px_buf env = PX_BUF_INIT;
    px_assert_ok(px_signer_generate(&other, "acme", &err), &err);
    /* Signing a survey that names another conductor is refused... */
    px_assert_fails(px_poll_survey_sign(&env, good.data, good.len, &other, &err), &err, PX_E_INVALID);
    /* ...and an envelope made anyway does not parse. */
    px_assert_ok(px_dsse_sign(&env, PX_POLL_SURVEY_PAYLOAD_TYPE, good.data, good.len, &other, 1, &err), &err);
    px_poll_survey s;
    px_assert_fails(px_poll_survey_parse(&s, env.data, env.len, &err), &err, PX_E_VERIFY);
    px_buf_free(&env);
}

static void records(px_buf *out, int64_t age, const char *region, int n) {
    px_schema sc;
    memset(&sc, 0, sizeof sc);
    const char *names[] = {"person", "age", "region", "income"};
    px_field_type types[] = {PX_FIELD_TEXT, PX_FIELD_INT, PX_FIELD_TEXT, PX_FIELD_INT};
    for (int i = 0; i < 4; i++) {
        snprintf(sc.fields[i].name, sizeof sc.fields[i].name, "%s", names[i]);
        sc.fields[i].type = types[i];
    }
    sc.nfields = 4;
    sc.user_field = 0;
    px_err err = {0};
    px_assert_ok(px_records_begin(out, &sc, (uint64_t)n, &err), &err);
    for (int k = 0; k < n; k++) {
        px_value v[4] = {{.type = PX_FIELD_TEXT, .p = (const uint8_t *)"p1", .len = 2},
                         {.type = PX_FIELD_INT, .i = age},
                         {.type = PX_FIELD_TEXT, .p = (const uint8_t *)region, .len = (uint32_t)strlen(region)},
                         {.type = PX_FIELD_INT, .i = 123456}};
        px_assert_ok(px_records_append(out, &sc, v, 0, &err), &err);
    }
}

static void test_fill(void **state) {
    (void)state;
    px_err err = {0};
    uint8_t demo[PX_POLL_MAX_DEMOGRAPHICS];
    size_t nd;
    px_buf r = PX_BUF_INIT;
    records(&r, 40, "south", 1);
    px_assert_ok(px_poll_fill(&fx.survey, r.data, r.len, demo, &nd, &err), &err);
    assert_int_equal(nd, 2);
    assert_int_equal(demo[0], 1); /* 35-64 */
    assert_int_equal(demo[1], 1); /* south */
    px_buf_reset(&r);
    records(&r, 12, "mars", 1); /* in no band, in no category */
    px_assert_ok(px_poll_fill(&fx.survey, r.data, r.len, demo, &nd, &err), &err);
    assert_int_equal(demo[0], PX_POLL_UNKNOWN);
    assert_int_equal(demo[1], PX_POLL_UNKNOWN);
    px_buf_reset(&r);
    records(&r, 40, "south", 2); /* not a per-person profile */
    px_assert_fails(px_poll_fill(&fx.survey, r.data, r.len, demo, &nd, &err), &err, PX_E_INVALID);
    px_buf_reset(&r);
    records(&r, 40, "south", 0); /* nothing known: unknown */
    px_assert_ok(px_poll_fill(&fx.survey, r.data, r.len, demo, &nd, &err), &err);
    assert_int_equal(demo[0], PX_POLL_UNKNOWN);
    px_buf_free(&r);
}

static void test_answers_and_shapes(void **state) {
    (void)state;
    px_err err = {0};
    px_poll_ballot b;
    memset(&b, 0, sizeof b);
    const char *bad[] = {"{\"satisfied\":\"ecstatic\"}", "{\"features\":[\"app\",\"web\",\"phone\"]}",
                         "{\"features\":[\"app\",\"app\"]}", "{\"spend\":1001}", "{\"spend\":\"12\"}",
                         "{\"weather\":\"sunny\"}", "[]", "{\"features\":[]}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        px_assert_fails(px_poll_answers_parse(&b, &fx.survey, bad[i], strlen(bad[i]), &err), &err, PX_E_INVALID);
    const char *ok = "{\"features\":[\"phone\",\"app\"],\"spend\":0}";
    px_assert_ok(px_poll_answers_parse(&b, &fx.survey, ok, strlen(ok), &err), &err);
    assert_int_equal(b.answers[0].present, 0);
    assert_int_equal(b.answers[1].value, 9);
    /* A ballot whose answers were tampered with is refused by the check. */
    memcpy(b.poll, fx.survey.id, 32);
    b.ndemo = 2;
    px_assert_ok(px_poll_ballot_check(&b, &fx.survey, &err), &err);
    b.answers[1].value = 15; /* four options chosen, two allowed */
    px_assert_fails(px_poll_ballot_check(&b, &fx.survey, &err), &err, PX_E_INVALID);
    b.answers[1].value = 9;
    b.demo[0] = 3; /* a category the survey did not declare */
    px_assert_fails(px_poll_ballot_check(&b, &fx.survey, &err), &err, PX_E_INVALID);
    b.demo[0] = PX_POLL_UNKNOWN;
    b.poll[0] ^= 1;
    px_assert_fails(px_poll_ballot_check(&b, &fx.survey, &err), &err, PX_E_DENIED);
    /* Token and ballot shapes: truncated, padded, wrong magic or version. */
    px_poll_token t;
    fx_token(&fx.survey, fx.key, &t);
    px_buf tb = PX_BUF_INIT;
    px_assert_ok(px_poll_token_encode(&t, &tb, &err), &err);
    px_poll_token back;
    px_assert_fails(px_poll_token_parse(&back, tb.data, tb.len - 1, &err), &err, PX_E_INVALID);
    px_buf_append_u8(&tb, 0, NULL);
    px_assert_fails(px_poll_token_parse(&back, tb.data, tb.len, &err), &err, PX_E_INVALID);
    tb.len--;
    tb.data[4] = 2;
    px_assert_fails(px_poll_token_parse(&back, tb.data, tb.len, &err), &err, PX_E_INVALID);
    tb.data[4] = 1;
    tb.data[0] = 'X';
    px_assert_fails(px_poll_token_parse(&back, tb.data, tb.len, &err), &err, PX_E_INVALID);
    px_buf_free(&tb);
    b.poll[0] ^= 1;
    b.token = t;
    px_buf bb = PX_BUF_INIT;
    px_assert_ok(px_poll_ballot_encode(&b, &bb, &err), &err);
    px_poll_ballot b2;
    px_assert_ok(px_poll_ballot_parse(&b2, bb.data, bb.len, &err), &err);
    px_assert_fails(px_poll_ballot_parse(&b2, bb.data, bb.len - 1, &err), &err, PX_E_INVALID);
    bb.data[bb.len - 3] = 7; /* nd no longer matches what is left */
    px_assert_fails(px_poll_ballot_parse(&b2, bb.data, bb.len, &err), &err, PX_E_INVALID);
    px_buf_free(&bb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_survey_strict),
        cmocka_unit_test(test_signed_by_conductor),
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_answers_and_shapes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
