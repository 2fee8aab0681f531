/* A poll for the poll tests: a conductor, a token key, a signed survey of
 * three questions (single, multiple, numeric) and two demographics, and
 * helpers that issue tokens and make sealed ballots as a member would. */
#ifndef PX_POLL_FIXTURE_H
#define PX_POLL_FIXTURE_H

#include "px_test.h"

#include "pixiu/poll.h"

typedef struct poll_fx {
    px_signer conductor, issuer, box;
    px_poll_key *key;
    px_buf envelope;
    px_poll_survey survey;
    px_box_keypair tally; /* the tally instance's key */
} poll_fx;

static inline void fx_vkey(const px_signer *s, char *out, size_t cap) {
    px_verifier v;
    px_buf b = PX_BUF_INIT;
    px_signer_verifier(s, &v);
    assert_int_equal(px_verifier_format(&v, &b, NULL), 0);
    snprintf(out, cap, "%.*s", (int)b.len, (const char *)b.data);
    px_buf_free(&b);
}

/* The survey document; extra is spliced in before "dp" (may be ""), dp is
 * the dp member's value. */
static inline void fx_doc(poll_fx *f, px_buf *out, const px_poll_key *key, int64_t opens, int64_t closes,
                          const char *dp) {
    char c[256], i[256], b[256];
    fx_vkey(&f->conductor, c, sizeof c);
    fx_vkey(&f->issuer, i, sizeof i);
    fx_vkey(&f->box, b, sizeof b);
    size_t sl;
    const uint8_t *spki = px_poll_pub_spki(px_poll_key_pub(key), &sl);
    char *k64 = malloc(px_b64_encoded_len(sl) + 1);
    px_b64_encode(k64, spki, sl);
    px_buf_printf(out, NULL,
                  "{\"schema\":\"urn:pixiu:survey:v1\",\"name\":\"customers-2025\",\"title\":\"How are we doing?\","
                  "\"conductor\":{\"id\":\"acme\",\"key\":\"%s\"},\"nonce\":\"00112233445566778899aabbccddeeff\","
                  "\"opens\":%lld,\"closes\":%lld,\"issuer\":{\"id\":\"acme\",\"key\":\"%s\"},"
                  "\"boxes\":[{\"id\":\"exec-1\",\"key\":\"%s\"}],\"token_key\":\"%s\","
                  "\"eligibility\":{\"list\":\"%064d\",\"members\":300},\"dataset\":\"profile\","
                  "\"questions\":["
                  "{\"id\":\"satisfied\",\"text\":\"How satisfied are you?\",\"type\":\"single\","
                  "\"options\":[\"unhappy\",\"neutral\",\"happy\"]},"
                  "{\"id\":\"features\",\"text\":\"What do you use?\",\"type\":\"multiple\","
                  "\"options\":[\"app\",\"web\",\"branch\",\"phone\"],\"max_choices\":2},"
                  "{\"id\":\"spend\",\"text\":\"Monthly spend?\",\"type\":\"numeric\",\"min\":0,\"max\":1000}],"
                  "\"demographics\":[{\"id\":\"age\",\"field\":\"age\",\"bands\":[[18,34],[35,64],[65,120]]},"
                  "{\"id\":\"region\",\"field\":\"region\",\"categories\":[\"north\",\"south\"]}],"
                  "\"crosstabs\":[{\"question\":\"satisfied\",\"by\":\"age\"},{\"question\":\"spend\",\"by\":\"region\"}],"
                  "\"dp\":%s}",
                  c, (long long)opens, (long long)closes, i, b, k64, 0, dp);
    free(k64);
}

static inline void fx_init_at(poll_fx *f, const char *dp, int64_t opens, int64_t closes) {
    px_err err = {0};
    memset(f, 0, sizeof *f);
    px_assert_ok(px_crypto_init(&err), &err);
    px_assert_ok(px_signer_generate(&f->conductor, "acme", &err), &err);
    px_assert_ok(px_signer_generate(&f->issuer, "acme-issuer", &err), &err);
    px_assert_ok(px_signer_generate(&f->box, "exec-1", &err), &err);
    px_assert_ok(px_poll_key_generate(&f->key, 2048, &err), &err);
    px_box_keygen(&f->tally);
    px_buf doc = PX_BUF_INIT;
    fx_doc(f, &doc, f->key, opens, closes,
           dp ? dp : "{\"epsilon\":\"1\",\"small_cells\":{\"rule\":\"suppress\",\"below\":5}}");
    px_assert_ok(px_poll_survey_sign(&f->envelope, doc.data, doc.len, &f->conductor, &err), &err);
    px_assert_ok(px_poll_survey_parse(&f->survey, f->envelope.data, f->envelope.len, &err), &err);
    px_buf_free(&doc);
}

/* A poll open from a minute ago for an hour. */
static inline void fx_init(poll_fx *f, const char *dp) {
    int64_t now = px_now_ms();
    fx_init_at(f, dp, now - 60000, now + 3600000);
}

static inline void fx_free(poll_fx *f) {
    px_poll_survey_free(&f->survey);
    px_poll_key_free(f->key);
    px_buf_free(&f->envelope);
}

/* A member's token: blind, have the key sign, finalize. */
static inline void fx_token(const px_poll_survey *s, const px_poll_key *key, px_poll_token *out) {
    px_err err = {0};
    px_poll_request r;
    uint8_t bsig[PX_POLL_RSA_MAX_BYTES];
    px_assert_ok(px_poll_request_new(&r, s->key, s->id, &err), &err);
    px_assert_ok(px_poll_blind_sign(key, r.blinded, r.k, bsig, &err), &err);
    px_assert_ok(px_poll_request_finish(&r, s->key, bsig, r.k, &err), &err);
    *out = r.token;
    px_poll_request_wipe(&r);
}

/* A sealed ballot: answers as JSON, demographic categories as given. */
static inline void fx_ballot_to(const poll_fx *f, const px_poll_token *t, const char *answers, uint8_t age,
                                uint8_t region, const uint8_t to[32], px_buf *sealed) {
    px_err err = {0};
    px_poll_ballot b;
    memset(&b, 0, sizeof b);
    memcpy(b.poll, f->survey.id, 32);
    b.token = *t;
    px_assert_ok(px_poll_answers_parse(&b, &f->survey, answers, strlen(answers), &err), &err);
    b.ndemo = 2;
    b.demo[0] = age;
    b.demo[1] = region;
    px_buf plain = PX_BUF_INIT;
    px_assert_ok(px_poll_ballot_encode(&b, &plain, &err), &err);
    uint8_t r[PX_COMMIT_RANDBYTES], c[32];
    px_commit_new(r, plain.data, plain.len, c);
    px_assert_ok(px_seal_committed(sealed, r, plain.data, plain.len, to, &err), &err);
    px_buf_free(&plain);
}

static inline void fx_ballot(const poll_fx *f, const px_poll_token *t, const char *answers, uint8_t age,
                             uint8_t region, px_buf *sealed) {
    fx_ballot_to(f, t, answers, age, region, f->tally.pk, sealed);
}

#endif
