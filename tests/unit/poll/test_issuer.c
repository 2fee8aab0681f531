/* The issuer's one rule, durably: a token for each eligible member, once.
 * A member asking again with the same blinded message gets the same answer
 * (a lost reply); with another message, a refusal; a non-member, a wrong
 * size, an unknown poll, a closed poll: refused and counted. The state
 * survives a restart. Credentials from a named source. Then the ballot
 * box: only sealed ballots of the survey's size, late ones kept as late,
 * released once after the close, nothing taken after. */
#include <stdlib.h>

#include "poll_fixture.h"

#define NMEMBERS 3

static char dir[64];
static px_signer members[NMEMBERS + 1]; /* the last is not on the list */

static void path_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pixiu-issuer-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    px_err err;
    if (px_crypto_init(&err))
        return -1;
    for (int i = 0; i <= NMEMBERS; i++) {
        char name[16];
        snprintf(name, sizeof name, "pod-%d", i + 1);
        if (px_signer_generate(&members[i], name, &err))
            return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void member_list(px_buf *out) {
    px_buf_append_str(out, "{\"schema\":\"urn:pixiu:poll-members:v1\",\"members\":[", NULL);
    for (int i = 0; i < NMEMBERS; i++) {
        char v[256];
        fx_vkey(&members[i], v, sizeof v);
        px_buf_printf(out, NULL, "%s\"%s\"", i ? "," : "", v);
    }
    px_buf_append_str(out, "]}", NULL);
}

/* A signed poll statement for a survey using the issuer's key spki, with
 * the given eligibility member (JSON text replacing the fixture's). */
static void make_plan(poll_fx *f, const px_buf *spki, const char *elig, int64_t opens, int64_t closes, px_buf *plan,
                      px_poll_survey *s) {
    px_err err = {0};
    px_poll_pub *pk = NULL;
    px_assert_ok(px_poll_pub_parse(&pk, spki->data, spki->len, &err), &err);
    /* fx_doc wants a key pair only for its public half: borrow the shape. */
    px_buf doc = PX_BUF_INIT;
    fx_doc(f, &doc, f->key, opens, closes, "{\"epsilon\":\"1\",\"small_cells\":{\"rule\":\"noise\"}}");
    px_buf_cstr(&doc, NULL);
    char *text = (char *)doc.data;
    /* swap in the issuer's key and the eligibility */
    size_t sl;
    const uint8_t *fk = px_poll_pub_spki(px_poll_key_pub(f->key), &sl);
    char *old64 = malloc(px_b64_encoded_len(sl) + 1), *new64 = malloc(px_b64_encoded_len(spki->len) + 1);
    px_b64_encode(old64, fk, sl);
    px_b64_encode(new64, spki->data, spki->len);
    px_buf fixed = PX_BUF_INIT;
    char *k = strstr(text, old64), *e = strstr(text, "\"eligibility\":"), *e_end = strstr(e, "},") + 1;
    px_buf_append(&fixed, text, (size_t)(k - text), NULL);
    px_buf_append_str(&fixed, new64, NULL);
    px_buf_append(&fixed, k + strlen(old64), (size_t)(e - (k + strlen(old64))), NULL);
    px_buf_printf(&fixed, NULL, "\"eligibility\":%s", elig);
    px_buf_append_str(&fixed, e_end, NULL);
    px_buf env = PX_BUF_INIT, cfg = PX_BUF_INIT, ev = PX_BUF_INIT;
    px_assert_ok(px_poll_survey_sign(&env, fixed.data, fixed.len, &f->conductor, &err), &err);
    px_assert_ok(px_poll_survey_parse(s, env.data, env.len, &err), &err);
    uint8_t nonce[32] = {0};
    px_buf_append_str(&cfg, "{}", NULL);
    px_buf_append_str(&ev, "evidence", NULL);
    px_assert_ok(px_poll_plan_sign(plan, &env, "exec-2", nonce, &cfg, &ev, &f->conductor, &err), &err);
    free(old64), free(new64);
    px_buf_free(&doc), px_buf_free(&fixed), px_buf_free(&env), px_buf_free(&cfg), px_buf_free(&ev);
    px_poll_pub_free(pk);
}

static int issue(px_poll_issuer *is, const px_poll_survey *s, const px_signer *who, const uint8_t *blinded,
                 size_t blen, int64_t now, px_buf *sig, int *fresh, px_err *err) {
    int64_t at;
    px_poll_issue_req r = {s->id, who->kp.pk, blinded, blen, NULL, 0, now};
    px_buf_reset(sig);
    return px_poll_issuer_issue(is, &r, sig, &at, fresh, err);
}

static void test_list_poll(void **state) {
    (void)state;
    poll_fx f;
    fx_init(&f, NULL);
    px_err err = {0};
    char path[128];
    path_of(path, sizeof path, "issuer.db");
    px_poll_issuer *is = NULL;
    px_assert_ok(px_poll_issuer_open(&is, path, &err), &err);
    px_buf spki = PX_BUF_INIT, list = PX_BUF_INIT, plan = PX_BUF_INIT;
    px_assert_ok(px_poll_issuer_new_key(is, "acme", 2048, &spki, &err), &err);
    member_list(&list);
    uint8_t d[32];
    char hex[65], elig[128];
    px_sha256(d, list.data, list.len);
    px_hex_encode(hex, d, 32);
    snprintf(elig, sizeof elig, "{\"list\":\"%s\",\"members\":%d}", hex, NMEMBERS);
    int64_t now = px_now_ms();
    px_poll_survey s;
    make_plan(&f, &spki, elig, now - 1000, now + 100000, &plan, &s);
    px_verifier self, other;
    px_signer_verifier(&f.issuer, &self);
    px_signer_verifier(&f.box, &other);
    /* Only the survey's issuer, for the key's owner, with the right list. */
    px_assert_fails(px_poll_issuer_open_poll(is, "acme", &other, plan.data, plan.len, list.data, list.len, &err),
                    &err, PX_E_DENIED);
    px_assert_fails(px_poll_issuer_open_poll(is, "mallory", &self, plan.data, plan.len, list.data, list.len, &err),
                    &err, PX_E_DENIED);
    px_assert_fails(px_poll_issuer_open_poll(is, "acme", &self, plan.data, plan.len, list.data, list.len - 1, &err),
                    &err, PX_E_VERIFY);
    px_assert_ok(px_poll_issuer_open_poll(is, "acme", &self, plan.data, plan.len, list.data, list.len, &err), &err);
    px_assert_fails(px_poll_issuer_open_poll(is, "acme", &self, plan.data, plan.len, list.data, list.len, &err),
                    &err, PX_E_STATE);

    px_poll_request r0, r1;
    px_assert_ok(px_poll_request_new(&r0, s.key, s.id, &err), &err);
    px_assert_ok(px_poll_request_new(&r1, s.key, s.id, &err), &err);
    px_buf sig = PX_BUF_INIT, sig2 = PX_BUF_INIT;
    int fresh;
    px_assert_ok(issue(is, &s, &members[0], r0.blinded, r0.k, now, &sig, &fresh, &err), &err);
    assert_int_equal(fresh, 1);
    px_assert_ok(px_poll_request_finish(&r0, s.key, sig.data, sig.len, &err), &err);
    /* The same request again: the same answer, no second token. */
    px_assert_ok(issue(is, &s, &members[0], r0.blinded, r0.k, now, &sig2, &fresh, &err), &err);
    assert_int_equal(fresh, 0);
    assert_int_equal(sig2.len, sig.len);
    assert_memory_equal(sig2.data, sig.data, sig.len);
    /* Another blinded message from the same member: refused. */
    px_assert_fails(issue(is, &s, &members[0], r1.blinded, r1.k, now, &sig, &fresh, &err), &err, PX_E_STATE);
    /* A non-member, a wrong size, an unknown poll. */
    px_assert_fails(issue(is, &s, &members[NMEMBERS], r1.blinded, r1.k, now, &sig, &fresh, &err), &err,
                    PX_E_DENIED);
    px_assert_fails(issue(is, &s, &members[1], r1.blinded, r1.k - 1, now, &sig, &fresh, &err), &err, PX_E_INVALID);
    px_poll_survey unknown = s;
    unknown.id[0] ^= 1;
    px_assert_fails(issue(is, &unknown, &members[1], r1.blinded, r1.k, now, &sig, &fresh, &err), &err,
                    PX_E_NOTFOUND);
    px_assert_ok(issue(is, &s, &members[1], r1.blinded, r1.k, now, &sig, &fresh, &err), &err);

    /* A restart keeps everything. */
    px_poll_issuer_close(is);
    px_assert_ok(px_poll_issuer_open(&is, path, &err), &err);
    px_poll_request r2;
    px_assert_ok(px_poll_request_new(&r2, s.key, s.id, &err), &err);
    px_assert_fails(issue(is, &s, &members[1], r2.blinded, r2.k, now, &sig, &fresh, &err), &err, PX_E_STATE);

    /* Closing: not before the poll closes; then nothing more is issued. */
    px_poll_issued c;
    px_assert_fails(px_poll_issuer_close_poll(is, s.id, now, &c, &err), &err, PX_E_DENIED);
    px_assert_ok(px_poll_issuer_close_poll(is, s.id, s.closes + 1, &c, &err), &err);
    assert_int_equal(c.issued, 2);
    assert_int_equal(c.again, 2);
    assert_int_equal(c.not_eligible, 1);
    assert_int_equal(c.invalid, 1);
    px_assert_fails(issue(is, &s, &members[2], r2.blinded, r2.k, now, &sig, &fresh, &err), &err, PX_E_DENIED);
    px_poll_issued c2;
    px_assert_ok(px_poll_issuer_close_poll(is, s.id, s.closes + 99, &c2, &err), &err);
    assert_int_equal(c2.closed, c.closed);
    /* The count, signed, reads back. */
    px_buf st = PX_BUF_INIT;
    px_poll_issued back;
    px_assert_ok(px_poll_issued_sign(&st, &c, &f.issuer, &err), &err);
    px_assert_ok(px_poll_issued_verify(&back, st.data, st.len, &self, &err), &err);
    assert_int_equal(back.issued, 2);
    px_assert_fails(px_poll_issued_verify(&back, st.data, st.len, &other, &err), &err, PX_E_VERIFY);

    px_poll_issuer_close(is);
    px_poll_survey_free(&s);
    px_buf *bufs[] = {&spki, &list, &plan, &sig, &sig2, &st};
    for (size_t i = 0; i < 6; i++)
        px_buf_free(bufs[i]);
    fx_free(&f);
}

static void test_credential_poll(void **state) {
    (void)state;
    poll_fx f;
    fx_init(&f, NULL);
    px_err err = {0};
    char path[128];
    path_of(path, sizeof path, "issuer-cred.db");
    px_poll_issuer *is = NULL;
    px_assert_ok(px_poll_issuer_open(&is, path, &err), &err);
    px_signer source, fake;
    px_assert_ok(px_signer_generate(&source, "bank.example", &err), &err);
    px_assert_ok(px_signer_generate(&fake, "bank.example", &err), &err);
    char sv[256], elig[400];
    fx_vkey(&source, sv, sizeof sv);
    snprintf(elig, sizeof elig, "{\"source\":\"%s\",\"claim\":\"customer\"}", sv);
    px_buf spki = PX_BUF_INIT, plan = PX_BUF_INIT;
    px_assert_ok(px_poll_issuer_new_key(is, "acme", 2048, &spki, &err), &err);
    int64_t now = px_now_ms();
    px_poll_survey s;
    make_plan(&f, &spki, elig, now - 1000, now + 100000, &plan, &s);
    px_verifier self;
    px_signer_verifier(&f.issuer, &self);
    px_assert_ok(px_poll_issuer_open_poll(is, "acme", &self, plan.data, plan.len, NULL, 0, &err), &err);
    px_verifier m0, m1;
    px_signer_verifier(&members[0], &m0);
    px_signer_verifier(&members[1], &m1);
    px_buf good = PX_BUF_INIT, forged = PX_BUF_INIT, other_claim = PX_BUF_INIT, expired = PX_BUF_INIT;
    px_assert_ok(px_poll_credential_sign(&good, &m0, "customer", now + 60000, &source, &err), &err);
    px_assert_ok(px_poll_credential_sign(&forged, &m0, "customer", now + 60000, &fake, &err), &err);
    px_assert_ok(px_poll_credential_sign(&other_claim, &m0, "employee", now + 60000, &source, &err), &err);
    px_assert_ok(px_poll_credential_sign(&expired, &m0, "customer", now - 1, &source, &err), &err);
    px_assert_ok(px_poll_credential_check(good.data, good.len, &s, members[0].kp.pk, now, &err), &err);
    px_assert_fails(px_poll_credential_check(good.data, good.len, &s, members[1].kp.pk, now, &err), &err,
                    PX_E_DENIED); /* someone else's credential */
    px_assert_fails(px_poll_credential_check(forged.data, forged.len, &s, members[0].kp.pk, now, &err), &err,
                    PX_E_DENIED);
    px_assert_fails(px_poll_credential_check(other_claim.data, other_claim.len, &s, members[0].kp.pk, now, &err),
                    &err, PX_E_DENIED);
    px_assert_fails(px_poll_credential_check(expired.data, expired.len, &s, members[0].kp.pk, now, &err), &err,
                    PX_E_DENIED);
    px_poll_request r;
    px_assert_ok(px_poll_request_new(&r, s.key, s.id, &err), &err);
    px_buf sig = PX_BUF_INIT;
    int64_t at;
    int fresh;
    px_poll_issue_req q = {s.id, members[0].kp.pk, r.blinded, r.k, NULL, 0, now};
    px_assert_fails(px_poll_issuer_issue(is, &q, &sig, &at, &fresh, &err), &err, PX_E_DENIED);
    q.credential = good.data, q.clen = good.len;
    px_assert_ok(px_poll_issuer_issue(is, &q, &sig, &at, &fresh, &err), &err);
    px_assert_ok(px_poll_request_finish(&r, s.key, sig.data, sig.len, &err), &err);
    px_poll_issuer_close(is);
    px_poll_survey_free(&s);
    px_buf *bufs[] = {&spki, &plan, &good, &forged, &other_claim, &expired, &sig};
    for (size_t i = 0; i < 7; i++)
        px_buf_free(bufs[i]);
    fx_free(&f);
}

static void test_box(void **state) {
    (void)state;
    poll_fx f;
    fx_init(&f, NULL);
    px_err err = {0};
    char path[128];
    path_of(path, sizeof path, "box.db");
    px_poll_box *b = NULL;
    px_assert_ok(px_poll_box_open(&b, path, &err), &err);
    px_buf plan = PX_BUF_INIT, cfg = PX_BUF_INIT, ev = PX_BUF_INIT;
    uint8_t nonce[32] = {0};
    px_buf_append_str(&cfg, "{}", NULL);
    px_buf_append_str(&ev, "evidence", NULL);
    px_assert_ok(px_poll_plan_sign(&plan, &f.envelope, "exec-2", nonce, &cfg, &ev, &f.conductor, &err), &err);
    px_assert_ok(px_poll_box_open_poll(b, plan.data, plan.len, &err), &err);
    px_poll_token t;
    fx_token(&f.survey, f.key, &t);
    px_buf sealed = PX_BUF_INIT;
    fx_ballot(&f, &t, "{\"satisfied\":\"happy\"}", 0, 0, &sealed);
    assert_int_equal(sealed.len, px_poll_ballot_sealed_size(&f.survey));
    int64_t now = px_now_ms(), at;
    px_assert_ok(px_poll_box_accept(b, f.survey.id, sealed.data, sealed.len, now, &at, &err), &err);
    px_assert_fails(px_poll_box_accept(b, f.survey.id, sealed.data, sealed.len - 1, now, &at, &err), &err,
                    PX_E_INVALID);
    uint8_t other[32] = {1};
    px_assert_fails(px_poll_box_accept(b, other, sealed.data, sealed.len, now, &at, &err), &err, PX_E_NOTFOUND);
    px_assert_fails(px_poll_box_accept(b, f.survey.id, sealed.data, sealed.len, f.survey.opens - 1, &at, &err),
                    &err, PX_E_DENIED);
    /* Late: kept, and said so. */
    px_assert_fails(px_poll_box_accept(b, f.survey.id, sealed.data, sealed.len, f.survey.closes + 5, &at, &err),
                    &err, PX_E_DENIED);
    px_buf payload = PX_BUF_INIT;
    uint64_t n;
    px_assert_fails(px_poll_box_release(b, f.survey.id, now, &payload, &n, &err), &err, PX_E_DENIED);
    /* After a restart, released once, the same batch again, nothing more. */
    px_poll_box_close(b);
    px_assert_ok(px_poll_box_open(&b, path, &err), &err);
    px_assert_ok(px_poll_box_release(b, f.survey.id, f.survey.closes + 10, &payload, &n, &err), &err);
    assert_int_equal(n, 2);
    px_poll_boxed *items;
    size_t ni;
    px_assert_ok(px_poll_box_parse(payload.data, payload.len, &items, &ni, &err), &err);
    assert_int_equal(ni, 2);
    assert_int_equal(items[0].received, now);
    assert_int_equal(items[1].received, f.survey.closes + 5);
    free(items);
    px_assert_fails(px_poll_box_accept(b, f.survey.id, sealed.data, sealed.len, now, &at, &err), &err, PX_E_STATE);
    /* A truncated or padded payload is refused. */
    px_assert_fails(px_poll_box_parse(payload.data, payload.len - 1, &items, &ni, &err), &err, PX_E_INVALID);
    px_poll_box_close(b);
    px_buf *bufs[] = {&plan, &cfg, &ev, &sealed, &payload};
    for (size_t i = 0; i < 5; i++)
        px_buf_free(bufs[i]);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_poll),
        cmocka_unit_test(test_credential_poll),
        cmocka_unit_test(test_box),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
