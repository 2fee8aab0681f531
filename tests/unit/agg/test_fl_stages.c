/* The federated-learning stages run in-process on a real round: users of
 * the secure-aggregation library (n users, k = 8, t = 5) mask clipped
 * updates; each user λ's instance key signs its reveal over its output
 * commitment as the serving path does; the reveals are sealed to the
 * aggregator's box key. fl-agg must move the model by the survivors' mean
 * plus noise, with 10% and 30% dropouts, and refuse by name: a malformed
 * masked update (truncated, garbage), an oversized one (another dim), one
 * replayed from another round or manifest, a reveal signed by a key that
 * sent no update, a forged reveal signature, too few survivors, a user
 * index given twice, a model of another dim. fl-user must refuse to send
 * an update the clip bound does not cover (status "clamped", no output). */
#include "agg_testlib.h"

#include <math.h>

#include "agg/fl_int.h"
#include "pixiu/lambda.h"
#include "pixiu/sandbox.h"

#define DIM 64u
#define SCALE 256u
#define CLIP "64" /* clip_q = 64 x 256 = 16384 */
#define CLIP_Q 16384u
#define BOUND 2048 /* |q_i| <= 2048 over 64 words: ||q||_2 <= 16384 */
#define R0 4u      /* the model's round; the users mask round R0 + 1 */

static const char serve_tag[] = "PIXIU-serve-v1\n";

typedef struct fx {
    sim s;
    px_sign_keypair *sign; /* each user λ's instance key */
    px_box_keypair agg;    /* the aggregator's box key */
    px_stage_input *in;
    uint32_t *who; /* the user of each input */
    size_t nin;
    px_buf model, reveals;
    float w0[DIM];
    px_stage_config cfg;
    json_t *params;
    uint32_t min_survivors;
    const char *epsilon;
} fx;

static json_t *params_for(uint32_t dim, uint32_t min_survivors, const char *epsilon) {
    json_t *p = json_pack("{s:i,s:i,s:s,s:i,s:i,s:i,s:i,s:s,s:s}", "dim", (json_int_t)dim, "scale",
                          (json_int_t)SCALE, "clip", CLIP, "neighbors", 8, "threshold", 5, "min_survivors",
                          (json_int_t)min_survivors, "rounds", 2, "epsilon", epsilon, "delta", "0.00001");
    assert_non_null(p);
    return p;
}

/* The serving path's signature over a response to a request (hash h). */
static void serve_sign(uint8_t sig[64], const uint8_t manifest[32], const uint8_t commit[32], const uint8_t h[32],
                       const uint8_t *resp, size_t resp_len, const px_sign_keypair *kp) {
    uint8_t dr[32], d[32];
    px_sha256(dr, resp, resp_len);
    const void *parts[5] = {serve_tag, manifest, commit, h, dr};
    size_t lens[5] = {sizeof serve_tag - 1, 32, 32, 32, 32};
    px_sha256_parts(d, 5, parts, lens);
    px_sign_detached(sig, d, sizeof d, kp);
}

/* A round of n users; percent of them drop before sending (spread so no
 * survivor is left short), or, with random set, at random followed by the
 * aggregator's pruning. */
static void fx_init(fx *f, uint32_t n, unsigned percent, int random, uint32_t min_survivors) {
    memset(f, 0, sizeof *f);
    assert_true(n <= 256);
    sim_init(&f->s, n, 8, 5, DIM, R0 + 1);
    for (size_t i = 0; i < (size_t)n * DIM; i++)
        f->s.q[i] = (uint32_t)((int32_t)randombytes_uniform(2 * BOUND + 1) - BOUND);
    f->s.p.clip = CLIP_Q;
    f->min_survivors = min_survivors;
    f->epsilon = "10000";
    if (random)
        for (uint32_t i = 0; i < n; i++)
            f->s.dropped[i] = randombytes_uniform(100) < percent;
    else if (percent)
        assert_int_equal(sim_drop_spread(&f->s, percent), n * percent / 100);
    sim_mask(&f->s);
    if (random) {
        uint32_t removed;
        px_err err = {0};
        px_assert_ok(px_agg_survivors_prune(&f->s.p, f->s.bitmap, f->s.bitmap_len, &removed, &err), &err);
        for (uint32_t i = 0; i < n; i++)
            if (!agg_bit(f->s.bitmap, i))
                f->s.dropped[i] = 1; /* pruned: left out like a dropout */
    }
    sim_reveal(&f->s);
    f->sign = calloc(n, sizeof *f->sign);
    f->in = calloc(n + 1, sizeof *f->in);
    f->who = calloc(n + 1, sizeof *f->who);
    for (uint32_t i = 0; i < n; i++) {
        px_sign_keygen(&f->sign[i]);
        if (f->s.dropped[i])
            continue;
        f->who[f->nin] = i;
        px_stage_input *in = &f->in[f->nin++];
        in->data = f->s.masked[i].data;
        in->len = f->s.masked[i].len;
        px_sha256(in->digest, in->data, in->len);
        snprintf(in->producer_node, sizeof in->producer_node, "pod-%u", i);
        snprintf(in->producer_kind, sizeof in->producer_kind, "fl-user");
        memcpy(in->producer_key, f->sign[i].pk, 32);
    }
    px_box_keygen(&f->agg);
    for (uint32_t j = 0; j < DIM; j++)
        f->w0[j] = (float)((int)randombytes_uniform(2001) - 1000) / 1000.0f;
    px_err err = {0};
    px_assert_ok(px_fl_model_write(&f->model, f->w0, DIM, R0, 77, &err), &err);
    memcpy(f->cfg.manifest, f->s.p.manifest, 32);
    snprintf(f->cfg.kind, sizeof f->cfg.kind, "fl-agg");
    f->cfg.index = 1;
}


/* The reveals as the dispatcher bundles them: each survivor's REVEAL sealed
 * to the aggregator and signed by that survivor's instance key over its
 * input's digest (its logged output commitment). */
static void fx_reveals(fx *f) {
    px_err err = {0};
    px_buf_reset(&f->reveals);
    uint32_t count = 0;
    for (size_t i = 0; i < f->nin; i++)
        count += f->s.reveal[f->who[i]].len > 0;
    px_assert_ok(px_fl_reveals_begin(&f->reveals, f->s.roster, f->s.p.n, count, &err), &err);
    for (size_t i = 0; i < f->nin; i++) {
        uint32_t u = f->who[i];
        if (!f->s.reveal[u].len)
            continue;
        char req[32];
        int rl = snprintf(req, sizeof req, "PXFQ reveal request %u", u);
        uint8_t h[32], sig[64];
        px_sha256(h, req, (size_t)rl);
        px_buf sealed = PX_BUF_INIT;
        px_assert_ok(px_seal(&sealed, f->s.reveal[u].data, f->s.reveal[u].len, f->agg.pk, &err), &err);
        serve_sign(sig, f->cfg.manifest, f->in[i].digest, h, sealed.data, sealed.len, &f->sign[u]);
        px_assert_ok(px_fl_reveals_add(&f->reveals, f->sign[u].pk, h, sealed.data, sealed.len, sig, &err), &err);
        px_buf_free(&sealed);
    }
}

static void fx_free(fx *f) {
    json_decref(f->params);
    px_buf_free(&f->model);
    px_buf_free(&f->reveals);
    free(f->sign);
    free(f->in);
    free(f->who);
    sim_free(&f->s);
}

/* Runs fl-agg; out is the caller's to free (output, report). */
static int fx_run(fx *f, px_stage_out *out, px_err *err) {
    if (!f->params)
        f->params = params_for(DIM, f->min_survivors, f->epsilon);
    f->cfg.params = f->params;
    px_stage_ctx ctx = {.config = &f->cfg, .params = f->params, .code = f->model.data, .code_len = f->model.len,
                        .inputs = f->in, .ninputs = f->nin, .box = &f->agg, .content = f->reveals.data,
                        .content_len = f->reveals.len};
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    return px_agg_fl_agg_kind.run(&ctx, out, err);
}

static void out_free(px_stage_out *out) {
    px_buf_free(&out->output);
    json_decref(out->report);
}

/* Expect a refusal with status and a message fragment, and no output. */
static void expect_refusal(fx *f, const char *status, const char *needle) {
    px_stage_out out;
    px_err err;
    if (fx_run(f, &out, &err) != -1)
        fail_msg("fl-agg succeeded, expected a refusal naming \"%s\"", needle);
    assert_non_null(out.status);
    if (strcmp(out.status, status))
        fail_msg("status %s, expected %s (%s)", out.status, status, err.msg);
    if (!strstr(err.msg, needle))
        fail_msg("the refusal says \"%s\", not \"%s\"", err.msg, needle);
    assert_int_equal(out.output.len, 0);
    out_free(&out);
}

/* A round that succeeds: the model moved by (sum + noise) / survivors /
 * scale; the noise is there and small at this epsilon. */
static void check_good(fx *f, uint32_t want_survivors) {
    fx_reveals(f);
    px_stage_out out;
    px_err err;
    if (fx_run(f, &out, &err))
        fail_msg("fl-agg refused a good round: %s (%s)", err.msg, out.status ? out.status : "");
    uint32_t nsurv = 0;
    for (uint32_t i = 0; i < f->s.p.n; i++)
        nsurv += !f->s.dropped[i];
    assert_int_equal(nsurv, want_survivors);
    assert_int_equal(f->nin, nsurv);
    px_fl_model m;
    px_assert_ok(px_fl_model_parse(&m, out.output.data, out.output.len, &err), &err);
    assert_int_equal(m.dim, DIM);
    assert_int_equal(m.round, R0 + 1);
    assert_true(m.seed == 78);
    uint32_t want[DIM];
    sim_plain_sum(&f->s, want);
    double sq = 0, nonzero = 0, dev_max = 0;
    for (uint32_t j = 0; j < DIM; j++) {
        /* The noise in quantised units of the sum. */
        double step = ((double)m.w[j] - f->w0[j]) * nsurv * SCALE;
        double d = step - (double)(int32_t)want[j];
        sq += d * d;
        nonzero += fabs(d) > 0.5;
        dev_max = fmax(dev_max, fabs(d));
    }
    double rms = sqrt(sq / DIM);
    /* epsilon 10^4, delta 10^-5 over 2 rounds: rho ~ 4670 a round, so
     * sigma ~ 16384 / sqrt(2 rho) ~ 170 units; the sum's words spread
     * over thousands. Without the noise every word would match. */
    if (!(rms > 40 && rms < 700 && dev_max < 2000 && nonzero > DIM / 2))
        fail_msg("the model moved by the sum plus noise of rms %.1f (max %.1f, %g words off): not the noisy mean",
                 rms, dev_max, nonzero);
    /* The proof's report and DP statement. */
    assert_int_equal(out.has_dp, 1);
    assert_string_equal(out.dp.mechanism, "gaussian");
    assert_string_equal(out.dp.epsilon, "10000");
    assert_int_equal(json_integer_value(json_object_get(out.report, "survivors")), nsurv);
    assert_int_equal(json_integer_value(json_object_get(out.report, "dropped")), f->s.p.n - nsurv);
    assert_int_equal(json_integer_value(json_object_get(out.report, "round")), R0 + 1);
    px_fl_model_free(&m);
    out_free(&out);
}

static void test_good_round(void **state) {
    (void)state;
    fx f;
    fx_init(&f, 20, 0, 0, 12);
    check_good(&f, 20);
    fx_free(&f);
}

static void test_dropouts_10_percent(void **state) {
    (void)state;
    fx f;
    fx_init(&f, 40, 10, 0, 12);
    check_good(&f, 36);
    fx_free(&f);
}

/* 30% dropped at random, the short survivors pruned as the dispatcher
 * does before it asks for reveals. */
static void test_dropouts_30_percent(void **state) {
    (void)state;
    for (int trial = 0; trial < 3; trial++) {
        fx f;
        fx_init(&f, 40, 30, 1, 12);
        uint32_t alive = 0;
        for (uint32_t i = 0; i < 40; i++)
            alive += !f.s.dropped[i];
        if (alive >= 12)
            check_good(&f, alive);
        else {
            fx_reveals(&f);
            expect_refusal(&f, PX_STATUS_BAD_INPUT, "too few survivors");
        }
        fx_free(&f);
    }
    /* Spread 30%: nobody is pruned. */
    fx f;
    fx_init(&f, 40, 30, 0, 12);
    check_good(&f, 28);
    fx_free(&f);
}

/* A user λ's masked update that is not one: the aggregator names the
 * input and the POD it came from. */
static void test_malformed_masked(void **state) {
    (void)state;
    fx f;
    fx_init(&f, 20, 0, 0, 12);
    f.in[3].len -= 1; /* truncated */
    px_sha256(f.in[3].digest, f.in[3].data, f.in[3].len);
    fx_reveals(&f);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "input 3 (pod-3): masked update: ");
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "truncated");
    f.in[3].len = 40; /* shorter than a header */
    fx_reveals(&f);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "input 3 (pod-3): masked update: truncated (40 bytes");
    uint8_t garbage[PX_AGG_MASKED_HEADER + 4 * DIM];
    randombytes_buf(garbage, sizeof garbage);
    f.in[3].data = garbage;
    f.in[3].len = sizeof garbage;
    px_sha256(f.in[3].digest, garbage, sizeof garbage);
    fx_reveals(&f);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "input 3 (pod-3): masked update: not a masked update message");
    fx_free(&f);
}

/* An update of more words than the model: well-formed, signed for, but of
 * another dim. */
static void test_oversized_masked(void **state) {
    (void)state;
    fx f;
    fx_init(&f, 20, 0, 0, 12);
    px_buf big = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_buf_append(&big, f.in[5].data, f.in[5].len, &err), &err);
    uint8_t zero[4 * 1024] = {0};
    px_assert_ok(px_buf_append(&big, zero, sizeof zero, &err), &err);
    for (int b = 0; b < 4; b++)
        big.data[20 + b] = (uint8_t)((DIM + 1024) >> (8 * b));
    f.in[5].data = big.data;
    f.in[5].len = big.len;
    px_sha256(f.in[5].digest, big.data, big.len);
    fx_reveals(&f);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "masked update from user 5: dim 1088, expected 64");
    px_buf_free(&big);
    fx_free(&f);
}

/* User 2's masked update of an earlier round, and one of another manifest,
 * in place of this round's. */
static void test_replayed_masked(void **state) {
    (void)state;
    fx f;
    fx_init(&f, 20, 0, 0, 12);
    px_err err = {0};
    px_agg_params old = f.s.p;
    old.round = R0; /* the round before */
    px_agg_user *u = px_agg_user_new(&old, f.s.roster, 2, f.s.sk[2], &err);
    assert_non_null(u);
    px_buf m = PX_BUF_INIT, sh = PX_BUF_INIT;
    px_assert_ok(px_agg_user_mask(u, f.s.q + 2 * DIM, &m, &sh, &err), &err);
    px_agg_user_free(u);
    f.in[2].data = m.data;
    f.in[2].len = m.len;
    px_sha256(f.in[2].digest, m.data, m.len);
    fx_reveals(&f);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "masked update from user 2: round 4, expected 5 (a replay from an earlier round)");

    /* Another manifest, the same round number: only the commitment, bound
     * to the manifest, tells. */
    px_agg_params other = f.s.p;
    memset(other.manifest, 0x77, 32);
    u = px_agg_user_new(&other, f.s.roster, 2, f.s.sk[2], &err);
    assert_non_null(u);
    px_buf m2 = PX_BUF_INIT, sh2 = PX_BUF_INIT;
    px_assert_ok(px_agg_user_mask(u, f.s.q + 2 * DIM, &m2, &sh2, &err), &err);
    px_agg_user_free(u);
    f.in[2].data = m2.data;
    f.in[2].len = m2.len;
    px_sha256(f.in[2].digest, m2.data, m2.len);
    fx_reveals(&f);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "user 2's self mask: the revealed shares do not open its commitment");
    px_buf_free(&m);
    px_buf_free(&sh);
    px_buf_free(&m2);
    px_buf_free(&sh2);
    fx_free(&f);
}

/* A reveal signed by a key that sent no masked update, and one whose
 * signature does not verify. */
static void test_reveal_signatures(void **state) {
    (void)state;
    fx f;
    fx_init(&f, 20, 0, 0, 12);
    fx_reveals(&f);
    px_fl_reveals rv;
    px_err err = {0};
    px_assert_ok(px_fl_reveals_parse(&rv, f.reveals.data, f.reveals.len, &err), &err);
    /* Entry 0 re-signed by an outsider's key. */
    px_fl_reveal r0;
    uint8_t *e0 = (uint8_t *)rv.entries;
    px_fl_reveals_next(e0, &r0);
    px_sign_keypair outsider;
    px_sign_keygen(&outsider);
    memcpy(e0, outsider.pk, 32);
    uint8_t sig[64];
    serve_sign(sig, f.cfg.manifest, f.in[0].digest, r0.req_hash, r0.resp, r0.resp_len, &outsider);
    memcpy((uint8_t *)r0.sig, sig, 64);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "reveal 0: its signer sent no masked update");

    /* A signature that is not the instance's. */
    fx_reveals(&f);
    px_assert_ok(px_fl_reveals_parse(&rv, f.reveals.data, f.reveals.len, &err), &err);
    const uint8_t *e = rv.entries;
    px_fl_reveal r;
    e += px_fl_reveals_next(e, &r);
    px_fl_reveals_next(e, &r); /* entry 1: user 1's */
    ((uint8_t *)r.sig)[10] ^= 1;
    expect_refusal(&f, PX_STATUS_BAD_INPUT,
                   "reveal of pod-1: the response is not signed by the attested instance for this request");

    /* Signed by the right key, but over another user's output: the
     * signature is bound to the signer's own commitment. */
    fx_reveals(&f);
    px_assert_ok(px_fl_reveals_parse(&rv, f.reveals.data, f.reveals.len, &err), &err);
    px_fl_reveals_next(rv.entries, &r);
    serve_sign(sig, f.cfg.manifest, f.in[1].digest, r.req_hash, r.resp, r.resp_len, &f.sign[0]);
    memcpy((uint8_t *)r.sig, sig, 64);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "reveal of pod-0: the response is not signed");
    fx_free(&f);
}

/* min_survivors 29 of 40 with 30% (12) dropped: 28 survive, refused
 * although every reveal is there and good. */
static void test_too_few_survivors(void **state) {
    (void)state;
    fx f;
    fx_init(&f, 40, 30, 0, 29);
    fx_reveals(&f);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "too few survivors: 28 of 40, need 29");
    fx_free(&f);
    /* The same round with min_survivors 28 is unmasked. */
    fx_init(&f, 40, 30, 0, 28);
    check_good(&f, 28);
    fx_free(&f);
}

/* User 4's update twice (from two producers). */
static void test_duplicate_user(void **state) {
    (void)state;
    fx f;
    fx_init(&f, 20, 10, 0, 12);
    f.in[f.nin] = f.in[4];
    f.who[f.nin] = f.who[4];
    memcpy(f.in[f.nin].producer_key, f.sign[f.s.p.n - 1].pk, 32);
    snprintf(f.in[f.nin].producer_node, sizeof f.in[f.nin].producer_node, "pod-x");
    f.nin++;
    fx_reveals(&f);
    char want[80];
    snprintf(want, sizeof want, "input %zu (pod-x): user %u is there twice", f.nin - 1, f.who[4]);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, want);
    fx_free(&f);
}

/* The round's model has another dim than params (and the updates). */
static void test_model_dim(void **state) {
    (void)state;
    fx f;
    fx_init(&f, 20, 0, 0, 12);
    fx_reveals(&f);
    float w[DIM + 1] = {0};
    px_buf_reset(&f.model);
    px_err err = {0};
    px_assert_ok(px_fl_model_write(&f.model, w, DIM + 1, R0, 1, &err), &err);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "the round's model has 65 weights, params.dim is 64");
    /* A model of the wrong round: the users masked round 5, the model says 6
     * comes next. */
    px_buf_reset(&f.model);
    px_assert_ok(px_fl_model_write(&f.model, f.w0, DIM, R0 + 1, 1, &err), &err);
    expect_refusal(&f, PX_STATUS_BAD_INPUT, "round 5, expected 6");
    fx_free(&f);
}

/* ---- fl-user: an update the clip bound does not cover is never sent ---- */

typedef struct sb_fx {
    char dir[256], work[64];
    px_sandbox sb;
} sb_fx;

static int sb_setup(void **state) {
    sb_fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/fl-stages-test-XXXXXX", PX_BUILD_DIR);
    if (!mkdtemp(f->dir))
        return -1;
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", f->dir);
    setenv("PIXIU_WASM_RUNNER", PX_BUILD_DIR "/pixiu-wasm-runner", 1);
    snprintf(f->work, sizeof f->work, "/dev/shm/pixiu-test-XXXXXX");
    if (!mkdtemp(f->work))
        return -1;
    px_sandbox_tools t = {.cache_dir = cache, .work_dir = f->work};
    px_err err = {0};
    if (px_sandbox_init_tools(&f->sb, &t, &err)) {
        fprintf(stderr, "init: %s\n", err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int sb_teardown(void **state) {
    sb_fx *f = *state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", f->dir, f->work);
    int rc = system(cmd);
    free(f);
    return rc ? -1 : 0;
}

/* A training module that drains its input and writes a fixed PXFU of
 * UDIM values, each `value` (a wat float literal). */
#define UDIM 4u
static void module(sb_fx *f, const char *name, const char *value, px_buf *out) {
    char wat[4096], path[400], cmd[1000];
    snprintf(wat, sizeof wat,
             "(module (import \"wasi_snapshot_preview1\" \"fd_read\" (func $read (param i32 i32 i32 i32) (result i32)))"
             "(import \"wasi_snapshot_preview1\" \"fd_write\" (func $write (param i32 i32 i32 i32) (result i32)))"
             "(memory (export \"memory\") 2)"
             "(data (i32.const 2048) \"PXFU\\01\\00\\00\\00\\%02x\\00\\00\\00\")"
             "(func (export \"_start\") (local $n i32) (local $i i32)"
             " (block $done (loop $l"
             "  (i32.store (i32.const 0) (i32.const 4096))"
             "  (i32.store (i32.const 4) (i32.const 60000))"
             "  (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))"
             "  (local.set $n (i32.load (i32.const 8)))"
             "  (br_if $done (i32.eqz (local.get $n)))"
             "  (br $l)))"
             " (block $d2 (loop $l2"
             "  (br_if $d2 (i32.ge_u (local.get $i) (i32.const %u)))"
             "  (f32.store (i32.add (i32.const 2060) (i32.mul (local.get $i) (i32.const 4))) (f32.const %s))"
             "  (local.set $i (i32.add (local.get $i) (i32.const 1)))"
             "  (br $l2)))"
             " (i32.store (i32.const 0) (i32.const 2048))"
             " (i32.store (i32.const 4) (i32.const %u))"
             " (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))))",
             UDIM, UDIM, value, 12 + 4 * UDIM);
    snprintf(path, sizeof path, "%s/%s.wat", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(wat, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "wat2wasm '%s' -o '%s/%s.wasm'", path, f->dir, name);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/%s.wasm", f->dir, name);
    assert_int_equal(px_file_read(path, 1 << 20, out, NULL), 0);
}

/* fl-user at user 1 of a roster of 3, clip 1 at scale 256 (bound 256). */
static int run_user(sb_fx *f, const char *value, px_stage_out *out, px_err *err) {
    px_buf code = PX_BUF_INIT, model = PX_BUF_INIT, bc = PX_BUF_INIT;
    px_box_keypair me, agg;
    px_box_keygen(&me);
    px_box_keygen(&agg);
    uint8_t roster[3 * 32];
    for (int i = 0; i < 3; i++) {
        px_box_keypair k;
        px_box_keygen(&k);
        memcpy(roster + 32 * i, i == 1 ? me.pk : k.pk, 32);
    }
    module(f, value[0] == '1' && value[1] == '0' ? "big" : "small", value, &code);
    float w[UDIM] = {0};
    px_err e = {0};
    px_assert_ok(px_fl_model_write(&model, w, UDIM, 0, 1, &e), &e);
    px_assert_ok(px_fl_broadcast_write(&bc, 1, roster, 3, 1, model.data, model.len, &e), &e);
    json_t *params = json_pack("{s:i,s:i,s:s,s:i,s:i}", "dim", (json_int_t)UDIM, "scale", 256, "clip", "1",
                               "neighbors", 2, "threshold", 2);
    px_stage_config cfg;
    memset(&cfg, 0, sizeof cfg);
    memset(cfg.manifest, 0x33, 32);
    snprintf(cfg.kind, sizeof cfg.kind, "fl-user");
    uint8_t succ[1][32];
    memcpy(succ[0], agg.pk, 32);
    cfg.successors = succ;
    cfg.nsuccessors = 1;
    cfg.params = params;
    cfg.limits = (px_limits){.cpu_ms = 5000, .wall_ms = 30000, .mem_mb = 16, .max_output = 1 << 20,
                             .timeout_ms = 60000};
    static const uint8_t records[] = "PXR1 the POD's records (the module ignores them)";
    px_stage_input in;
    memset(&in, 0, sizeof in);
    in.data = records;
    in.len = sizeof records;
    in.from_release = 1;
    px_stage_ctx ctx = {.config = &cfg, .params = params, .code = code.data, .code_len = code.len, .inputs = &in,
                        .ninputs = 1, .sandbox = &f->sb, .box = &me, .content = bc.data, .content_len = bc.len};
    memset(out, 0, sizeof *out);
    int rc = px_agg_fl_user_kind.run(&ctx, out, err);
    json_decref(params);
    px_buf_free(&code);
    px_buf_free(&model);
    px_buf_free(&bc);
    return rc;
}

static void test_user_unclipped(void **state) {
    sb_fx *f = *state;
    px_stage_out out;
    px_err err = {0};
    /* 0.25 x 256 = 64 a word, ||q|| = 128 <= 256: masked and sent. */
    if (run_user(f, "0.25", &out, &err))
        fail_msg("fl-user refused a clipped update: %s", err.msg);
    px_agg_masked_view v;
    px_assert_ok(px_agg_masked_parse(&v, out.output.data, out.output.len, &err), &err);
    assert_int_equal(v.index, 1);
    assert_int_equal(v.round, 1);
    assert_int_equal(v.dim, UDIM);
    assert_non_null(out.state);
    px_agg_fl_user_kind.state_free(out.state);
    px_buf_free(&out.output);
    /* 10 x 256 = 2560 a word, ||q|| = 5120 > 256: never sent. */
    memset(&err, 0, sizeof err);
    assert_int_equal(run_user(f, "10.0", &out, &err), -1);
    assert_non_null(out.status);
    assert_string_equal(out.status, PX_STATUS_CLAMPED);
    if (!strstr(err.msg, "update not sent: "))
        fail_msg("the refusal says \"%s\"", err.msg);
    assert_int_equal(out.output.len, 0);
    assert_null(out.state);
    px_buf_free(&out.output);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_round),
        cmocka_unit_test(test_dropouts_10_percent),
        cmocka_unit_test(test_dropouts_30_percent),
        cmocka_unit_test(test_malformed_masked),
        cmocka_unit_test(test_oversized_masked),
        cmocka_unit_test(test_replayed_masked),
        cmocka_unit_test(test_reveal_signatures),
        cmocka_unit_test(test_too_few_survivors),
        cmocka_unit_test(test_duplicate_user),
        cmocka_unit_test(test_model_dim),
        cmocka_unit_test_setup_teardown(test_user_unclipped, sb_setup, sb_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
