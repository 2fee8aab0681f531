/* Polls: token verification, issuance and the tally, each against the
 * raw cryptography it rests on, measured in the same run with the same
 * key (RSA-2048, the polls' default).
 *
 *   poll_token_verify   tokens/s: parse, poll and key checks, RFC 9474
 *                       verification written in PIXIU over OpenSSL's BIGNUM;
 *                       baseline OpenSSL's own RSASSA-PSS verification
 *                       (EVP_DigestVerify, SHA-384, salt 48) of the same
 *                       signatures
 *   poll_issue          blind signatures/s: BlindSign with its check before
 *                       release; baseline OpenSSL's raw RSA private-key
 *                       operation (EVP_PKEY_decrypt, no padding) on the same
 *                       inputs
 *   poll_issue_durable  the issuer's whole answer: eligibility on a list of
 *                       members, the member's row committed (SQLite,
 *                       synchronous=FULL, in TMPDIR) before signing leaves;
 *                       same baseline
 *   poll_tally_100k     ballots/s through the tally (open, parse, token,
 *                       answers, spent set, counting, then the DP release),
 *                       100,000 sealed ballots; baseline the floor of its
 *                       cryptography: one sealed-box open plus one OpenSSL
 *                       RSA-PSS verification per ballot
 *
 * Minting 100,000 distinct tokens would take minutes of RSA signing, so
 * the ballots carry 2,000 tokens, each in 50 ballots: the tally verifies
 * every ballot's token in full before it looks at the spent set, so each
 * ballot costs the same; 2,000 are accepted, the rest refused as spent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "pixiu/dp.h"
#include "pixiu/poll.h"

#define SECONDS 2.0
#define NTOKENS 200
#define TALLY_BALLOTS 100000
#define TALLY_TOKENS 2000
#define DURABLE_MEMBERS 200

static double now_s(void) {
    return (double)px_mono_ns() / 1e9;
}

static void die(const char *what, const px_err *e) {
    fprintf(stderr, "bench poll: %s: %s\n", what, e ? e->msg : "failed");
    exit(1);
}

static const char survey_fmt[] =
    "{\"schema\":\"urn:pixiu:survey:v1\",\"name\":\"bench\",\"title\":\"bench\","
    "\"conductor\":{\"id\":\"acme\",\"key\":\"%s\"},\"nonce\":\"00112233445566778899aabbccddeeff\","
    "\"opens\":1000,\"closes\":%lld,\"issuer\":{\"id\":\"acme\",\"key\":\"%s\"},"
    "\"boxes\":[{\"id\":\"exec-1\",\"key\":\"%s\"}],\"token_key\":\"%s\","
    "\"eligibility\":{\"list\":\"%s\",\"members\":%d},\"dataset\":\"profile\","
    "\"questions\":[{\"id\":\"q1\",\"text\":\"q\",\"type\":\"single\",\"options\":[\"a\",\"b\",\"c\",\"d\"]},"
    "{\"id\":\"q2\",\"text\":\"q\",\"type\":\"multiple\",\"options\":[\"a\",\"b\",\"c\",\"d\"],\"max_choices\":2},"
    "{\"id\":\"q3\",\"text\":\"q\",\"type\":\"single\",\"options\":[\"y\",\"n\"]},"
    "{\"id\":\"q4\",\"text\":\"q\",\"type\":\"numeric\",\"min\":0,\"max\":500},"
    "{\"id\":\"q5\",\"text\":\"q\",\"type\":\"numeric\",\"min\":0,\"max\":20}],"
    "\"demographics\":[{\"id\":\"age\",\"field\":\"age\",\"bands\":[[18,34],[35,64],[65,120]]},"
    "{\"id\":\"region\",\"field\":\"region\",\"categories\":[\"n\",\"s\",\"e\",\"w\"]}],"
    "\"crosstabs\":[{\"question\":\"q1\",\"by\":\"age\"},{\"question\":\"q1\",\"by\":\"region\"},"
    "{\"question\":\"q4\",\"by\":\"age\"}],"
    "\"dp\":{\"epsilon\":\"1\",\"small_cells\":{\"rule\":\"suppress\",\"below\":10}}}";

typedef struct fx {
    px_signer conductor;
    px_poll_key *key;
    px_poll_survey s;
    px_buf members;
    px_signer *m;
} fx;

static void vkey(const px_signer *s, px_buf *out) {
    px_verifier v;
    px_signer_verifier(s, &v);
    if (px_verifier_format(&v, out, NULL) || !px_buf_cstr(out, NULL))
        die("verifier", NULL);
}

static void fx_init(fx *f, int64_t closes) {
    px_err err = {0};
    if (px_crypto_init(&err) || px_signer_generate(&f->conductor, "acme", &err) ||
        px_poll_key_generate(&f->key, 2048, &err))
        die("keys", &err);
    f->m = calloc(DURABLE_MEMBERS, sizeof *f->m);
    px_buf_append_str(&f->members, "{\"schema\":\"urn:pixiu:poll-members:v1\",\"members\":[", NULL);
    for (int i = 0; i < DURABLE_MEMBERS; i++) {
        char name[16];
        px_buf v = PX_BUF_INIT;
        snprintf(name, sizeof name, "pod-%d", i);
        if (px_signer_generate(&f->m[i], name, &err))
            die("member", &err);
        vkey(&f->m[i], &v);
        px_buf_printf(&f->members, NULL, "%s\"%s\"", i ? "," : "", (const char *)v.data);
        px_buf_free(&v);
    }
    px_buf_append_str(&f->members, "]}", NULL);
    uint8_t d[32];
    char hex[65];
    px_sha256(d, f->members.data, f->members.len);
    px_hex_encode(hex, d, 32);
    px_buf c = PX_BUF_INIT, doc = PX_BUF_INIT, env = PX_BUF_INIT;
    vkey(&f->conductor, &c);
    size_t sl;
    const uint8_t *spki = px_poll_pub_spki(px_poll_key_pub(f->key), &sl);
    char *k64 = malloc(px_b64_encoded_len(sl) + 1);
    px_b64_encode(k64, spki, sl);
    px_buf_printf(&doc, NULL, survey_fmt, (const char *)c.data, (long long)closes, (const char *)c.data,
                  (const char *)c.data, k64, hex, DURABLE_MEMBERS);
    if (px_poll_survey_sign(&env, doc.data, doc.len, &f->conductor, &err) ||
        px_poll_survey_parse(&f->s, env.data, env.len, &err))
        die("survey", &err);
    free(k64);
    px_buf_free(&c), px_buf_free(&doc), px_buf_free(&env);
}

static void token(const fx *f, px_poll_token *t) {
    px_err err = {0};
    px_poll_request r;
    uint8_t bs[PX_POLL_RSA_MAX_BYTES];
    if (px_poll_request_new(&r, f->s.key, f->s.id, &err) || px_poll_blind_sign(f->key, r.blinded, r.k, bs, &err) ||
        px_poll_request_finish(&r, f->s.key, bs, r.k, &err))
        die("token", &err);
    *t = r.token;
}

/* What a token's signature covers (token.c's layout). */
static void token_input(const px_poll_token *t, uint8_t *out, size_t *len) {
    static const char dom[] = "PIXIU-poll-token-v1\n";
    uint8_t *p = out;
    memcpy(p, t->prefix, 32), p += 32;
    memcpy(p, dom, sizeof dom - 1), p += sizeof dom - 1;
    memcpy(p, t->poll, 32), p += 32;
    memcpy(p, t->key_id, 32), p += 32;
    memcpy(p, t->nonce, 32), p += 32;
    *len = (size_t)(p - out);
}

static EVP_PKEY *ossl_pub(const fx *f) {
    size_t sl;
    const unsigned char *p = px_poll_pub_spki(f->s.key, &sl);
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)sl);
    if (!k)
        die("OpenSSL key", NULL);
    return k;
}

static int ossl_verify(EVP_PKEY *k, const uint8_t *in, size_t len, const uint8_t *sig, size_t slen) {
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    int ok = EVP_DigestVerifyInit(mc, &pc, EVP_sha384(), NULL, k) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384()) == 1 &&
             EVP_DigestVerify(mc, sig, slen, in, len) == 1;
    EVP_MD_CTX_free(mc);
    return ok;
}

static void bench_verify(const fx *f) {
    px_poll_token *t = malloc(NTOKENS * sizeof *t);
    for (int i = 0; i < NTOKENS; i++)
        token(f, &t[i]);
    EVP_PKEY *k = ossl_pub(f);
    uint8_t in[256];
    size_t len;
    px_err err;
    double rate[2];
    for (int pass = 0; pass < 2; pass++) {
        uint64_t n = 0;
        double t0 = now_s(), t1;
        do {
            for (int i = 0; i < NTOKENS; i++) {
                int ok;
                if (pass == 0) {
                    px_buf b = PX_BUF_INIT;
                    px_poll_token back;
                    ok = px_poll_token_encode(&t[i], &b, &err) == 0 &&
                         px_poll_token_parse(&back, b.data, b.len, &err) == 0 &&
                         px_poll_token_verify(&back, f->s.key, f->s.id, &err) == 0;
                    px_buf_free(&b);
                } else {
                    token_input(&t[i], in, &len);
                    ok = ossl_verify(k, in, len, t[i].sig, t[i].sig_len);
                }
                if (!ok)
                    die("verify", NULL);
            }
            n += NTOKENS;
            t1 = now_s();
        } while (t1 - t0 < SECONDS);
        rate[pass] = (double)n / (t1 - t0);
    }
    printf("BENCH name=poll_token_verify value=%.0f unit=tokens/s baseline=%.0f ratio=%.2f\n", rate[0], rate[1],
           rate[0] / rate[1]);
    EVP_PKEY_free(k);
    free(t);
}

/* The raw private-key operation on one blinded message. */
static int ossl_private(const px_poll_key *sk, EVP_PKEY *pk, const uint8_t *in, size_t k, uint8_t *out) {
    (void)sk;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    size_t outlen = k;
    int ok = pc && EVP_PKEY_decrypt_init(pc) > 0 && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_NO_PADDING) > 0 &&
             EVP_PKEY_decrypt(pc, out, &outlen, in, k) > 0;
    EVP_PKEY_CTX_free(pc);
    return ok;
}

static double baseline_private(const fx *f, px_poll_request *req) {
    px_buf der = PX_BUF_INIT;
    px_err err;
    if (px_poll_key_export(f->key, &der, &err))
        die("export", &err);
    const unsigned char *p = der.data;
    EVP_PKEY *pk = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)der.len);
    px_buf_free(&der);
    uint8_t out[PX_POLL_RSA_MAX_BYTES];
    uint64_t n = 0;
    double t0 = now_s(), t1;
    do {
        for (int i = 0; i < NTOKENS; i++)
            if (!ossl_private(f->key, pk, req[i].blinded, req[i].k, out))
                die("private op", NULL);
        n += NTOKENS;
        t1 = now_s();
    } while (t1 - t0 < SECONDS);
    EVP_PKEY_free(pk);
    return (double)n / (t1 - t0);
}

static void bench_issue(const fx *f) {
    px_poll_request *req = malloc(NTOKENS * sizeof *req);
    px_err err = {0};
    for (int i = 0; i < NTOKENS; i++)
        if (px_poll_request_new(&req[i], f->s.key, f->s.id, &err))
            die("request", &err);
    uint8_t out[PX_POLL_RSA_MAX_BYTES];
    uint64_t n = 0;
    double t0 = now_s(), t1;
    do {
        for (int i = 0; i < NTOKENS; i++)
            if (px_poll_blind_sign(f->key, req[i].blinded, req[i].k, out, &err))
                die("blind sign", &err);
        n += NTOKENS;
        t1 = now_s();
    } while (t1 - t0 < SECONDS);
    double mine = (double)n / (t1 - t0), base = baseline_private(f, req);
    printf("BENCH name=poll_issue value=%.0f unit=signatures/s baseline=%.0f ratio=%.2f\n", mine, base, mine / base);

    /* The issuer's whole answer, durable. */
    char dir[] = "/tmp/pixiu-bench-issuer-XXXXXX", path[64], cmd[96];
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    snprintf(path, sizeof path, "%s/issuer.db", dir);
    px_poll_issuer *is = NULL;
    px_buf spki = PX_BUF_INIT, plan = PX_BUF_INIT, cfg = PX_BUF_INIT, ev = PX_BUF_INIT, env = PX_BUF_INIT;
    if (px_poll_issuer_open(&is, path, &err))
        die("issuer", &err);
    /* The issuer makes its own key; the survey is re-signed around it. */
    fx g = *f;
    if (px_poll_issuer_new_key(is, "acme", 2048, &spki, &err))
        die("key", &err);
    px_poll_pub *pub = NULL;
    if (px_poll_pub_parse(&pub, spki.data, spki.len, &err))
        die("pub", &err);
    px_buf c = PX_BUF_INIT, doc = PX_BUF_INIT;
    vkey(&f->conductor, &c);
    char *k64 = malloc(px_b64_encoded_len(spki.len) + 1), hex[65];
    px_b64_encode(k64, spki.data, spki.len);
    uint8_t d[32];
    px_sha256(d, f->members.data, f->members.len);
    px_hex_encode(hex, d, 32);
    px_buf_printf(&doc, NULL, survey_fmt, (const char *)c.data, (long long)(px_now_ms() + 3600000),
                  (const char *)c.data, (const char *)c.data, k64, hex, DURABLE_MEMBERS);
    uint8_t nonce[32] = {0};
    px_buf_append_str(&cfg, "{}", NULL);
    px_buf_append_str(&ev, "-", NULL);
    px_poll_survey s2;
    px_verifier self;
    px_signer_verifier(&f->conductor, &self);
    if (px_poll_survey_sign(&env, doc.data, doc.len, &g.conductor, &err) ||
        px_poll_survey_parse(&s2, env.data, env.len, &err) ||
        px_poll_plan_sign(&plan, &env, "exec-1", nonce, &cfg, &ev, &f->conductor, &err) ||
        px_poll_issuer_open_poll(is, "acme", &self, plan.data, plan.len, f->members.data, f->members.len, &err))
        die("open", &err);
    px_poll_request *r2 = malloc(DURABLE_MEMBERS * sizeof *r2);
    for (int i = 0; i < DURABLE_MEMBERS; i++)
        if (px_poll_request_new(&r2[i], s2.key, s2.id, &err))
            die("request", &err);
    px_buf sig = PX_BUF_INIT;
    int64_t at;
    int fresh;
    t0 = now_s();
    for (int i = 0; i < DURABLE_MEMBERS; i++) {
        px_poll_issue_req q = {s2.id, f->m[i].kp.pk, r2[i].blinded, r2[i].k, NULL, 0, px_now_ms()};
        px_buf_reset(&sig);
        if (px_poll_issuer_issue(is, &q, &sig, &at, &fresh, &err))
            die("issue", &err);
    }
    t1 = now_s();
    double durable = DURABLE_MEMBERS / (t1 - t0);
    printf("BENCH name=poll_issue_durable value=%.0f unit=tokens/s baseline=%.0f ratio=%.2f\n", durable, base,
           durable / base);
    px_poll_issuer_close(is);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench poll: could not remove %s\n", dir);
    px_poll_survey_free(&s2);
    px_poll_pub_free(pub);
    free(k64), free(r2), free(req);
    px_buf *bufs[] = {&spki, &plan, &cfg, &ev, &env, &c, &doc, &sig};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        px_buf_free(bufs[i]);
}

static void bench_tally(const fx *f) {
    px_err err = {0};
    px_box_keypair kp;
    px_box_keygen(&kp);
    px_poll_token *t = malloc(TALLY_TOKENS * sizeof *t);
    for (int i = 0; i < TALLY_TOKENS; i++)
        token(f, &t[i]);
    px_buf *sealed = calloc(TALLY_BALLOTS, sizeof *sealed);
    for (int i = 0; i < TALLY_BALLOTS; i++) {
        px_poll_ballot b;
        memset(&b, 0, sizeof b);
        memcpy(b.poll, f->s.id, 32);
        b.token = t[i % TALLY_TOKENS];
        b.nanswers = 5;
        int64_t v[5] = {i % 4, 1 + (i % 3), i % 2, (i * 7) % 501, i % 21};
        for (int q = 0; q < 5; q++)
            b.answers[q] = (px_poll_answer){(uint8_t)(i % 17 != q), v[q]};
        b.ndemo = 2;
        b.demo[0] = (uint8_t)(i % 3);
        b.demo[1] = (uint8_t)(i % 4);
        px_buf plain = PX_BUF_INIT;
        uint8_t r[PX_COMMIT_RANDBYTES], c[32];
        if (px_poll_ballot_encode(&b, &plain, &err))
            die("ballot", &err);
        px_commit_new(r, plain.data, plain.len, c);
        if (px_seal_committed(&sealed[i], r, plain.data, plain.len, kp.pk, &err))
            die("seal", &err);
        px_buf_free(&plain);
    }
    px_poll_tally *ty = NULL;
    if (px_poll_tally_new(&ty, &f->s, &kp, &err))
        die("tally", &err);
    double t0 = now_s();
    for (int i = 0; i < TALLY_BALLOTS; i++) {
        px_poll_reason r;
        if (px_poll_tally_offer(ty, sealed[i].data, sealed[i].len, 2000, &r, &err))
            die("offer", &err);
        if ((i < TALLY_TOKENS) != (r == PX_POLL_ACCEPTED))
            die("verdict", NULL);
    }
    px_dp_rng rng;
    px_dp_rng_init(&rng);
    px_buf out = PX_BUF_INIT;
    json_t *report = NULL;
    if (px_poll_tally_release(ty, &rng, TALLY_TOKENS, &out, &report, &err))
        die("release", &err);
    double mine = TALLY_BALLOTS / (now_s() - t0);
    json_decref(report);
    px_buf_free(&out);
    px_poll_tally_free(ty);
    /* The floor: open each sealed ballot, verify its token with OpenSSL. */
    EVP_PKEY *k = ossl_pub(f);
    px_buf plain = PX_BUF_INIT;
    uint8_t in[256];
    size_t len;
    t0 = now_s();
    for (int i = 0; i < TALLY_BALLOTS; i++) {
        px_poll_ballot b;
        px_buf_reset(&plain);
        if (px_seal_open(&plain, sealed[i].data, sealed[i].len, &kp, &err) ||
            px_poll_ballot_parse(&b, plain.data + PX_COMMIT_HEADERBYTES, plain.len - PX_COMMIT_HEADERBYTES, &err))
            die("open", &err);
        token_input(&b.token, in, &len);
        if (!ossl_verify(k, in, len, b.token.sig, b.token.sig_len))
            die("verify", NULL);
    }
    double base = TALLY_BALLOTS / (now_s() - t0);
    printf("BENCH name=poll_tally_100k value=%.0f unit=ballots/s baseline=%.0f ratio=%.2f\n", mine, base,
           mine / base);
    EVP_PKEY_free(k);
    px_buf_free(&plain);
    for (int i = 0; i < TALLY_BALLOTS; i++)
        px_buf_free(&sealed[i]);
    free(sealed);
    free(t);
}

int main(void) {
    fx f;
    memset(&f, 0, sizeof f);
    fx_init(&f, px_now_ms() + 3600000);
    bench_verify(&f);
    bench_issue(&f);
    bench_tally(&f);
    px_poll_survey_free(&f.s);
    px_poll_key_free(f.key);
    px_buf_free(&f.members);
    free(f.m);
    return 0;
}
