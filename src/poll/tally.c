/* The tally's accumulator: each sealed ballot is opened, checked and
 * either counted, spending its token, or refused with a reason. */
#include <string.h>

#include "poll/tally_int.h"

#define SET_MIN 1024
#define SPENT_DOMAIN "PIXIU-poll-spent-v1\n"
#define TOKEN_NONCE_OFF (4 + 1 + 3 * 32)

const char *px_poll_reason_name(px_poll_reason r) {
    static const char *const names[PX_POLL_NREASONS] = {"accepted", "malformed", "wrong-poll", "bad-token",
                                                        "spent",    "replayed",  "late",       "early"};
    return (unsigned)r < PX_POLL_NREASONS ? names[r] : "unknown";
}

/* ---- a set of 32-byte keys ------------------------------------------------------ */

static size_t slot_of(const px_poll_set *s, const uint8_t key[32]) {
    uint8_t h[16];
    px_blake2b_keyed(h, sizeof h, s->seed, sizeof s->seed, key, 32, NULL, 0);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return (size_t)(v & (s->cap - 1));
}

static int set_grow(px_poll_set *s, px_err *err) {
    px_poll_set b = *s;
    b.cap = s->cap ? 2 * s->cap : SET_MIN;
    b.n = 0;
    b.keys = malloc(b.cap * sizeof *b.keys);
    b.used = calloc(b.cap, 1);
    if (!b.keys || !b.used) {
        free(b.keys), free(b.used);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < s->cap; i++)
        if (s->used[i]) {
            size_t j = slot_of(&b, s->keys[i]);
            while (b.used[j])
                j = (j + 1) & (b.cap - 1);
            memcpy(b.keys[j], s->keys[i], 32);
            b.used[j] = 1;
            b.n++;
        }
    free(s->keys), free(s->used);
    *s = b;
    return 0;
}

static int set_has(const px_poll_set *s, const uint8_t key[32]) {
    if (!s->cap)
        return 0;
    for (size_t j = slot_of(s, key); s->used[j]; j = (j + 1) & (s->cap - 1))
        if (!memcmp(s->keys[j], key, 32))
            return 1;
    return 0;
}

static int set_add(px_poll_set *s, const uint8_t key[32], px_err *err) {
    if (2 * (s->n + 1) > s->cap && set_grow(s, err))
        return -1;
    size_t j = slot_of(s, key);
    while (s->used[j])
        j = (j + 1) & (s->cap - 1);
    memcpy(s->keys[j], key, 32);
    s->used[j] = 1;
    s->n++;
    return 0;
}

static void set_free(px_poll_set *s) {
    free(s->keys);
    free(s->used);
    memset(s, 0, sizeof *s);
}

/* ---- the accumulator ------------------------------------------------------------ */

static int rows_new(px_poll_row **out, size_t nrows, const px_poll_question *q, px_err *err) {
    px_poll_row *r = calloc(nrows, sizeof *r);
    if (!r)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    *out = r;
    for (size_t i = 0; q->type != PX_POLL_NUMERIC && i < nrows; i++)
        if (!(r[i].counts = calloc(q->noptions, sizeof *r[i].counts)))
            return px_fail(err, PX_E_NOMEM, "out of memory");
    return 0;
}

static void rows_free(px_poll_row *r, size_t nrows) {
    for (size_t i = 0; r && i < nrows; i++)
        free(r[i].counts);
    free(r);
}

int px_poll_tally_new(px_poll_tally **out, const px_poll_survey *s, const px_box_keypair *kp, px_err *err) {
    px_poll_tally *t = calloc(1, sizeof *t);
    if (!t)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    t->s = s;
    t->kp = *kp;
    px_random(t->spent.seed, sizeof t->spent.seed);
    px_random(t->seen.seed, sizeof t->seen.seed);
    int rc = !(t->q = calloc(s->nquestions, sizeof *t->q)) ||
             (s->ncrosstabs && !(t->x = calloc(s->ncrosstabs, sizeof *t->x)));
    if (rc)
        px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < s->nquestions; i++) {
        px_poll_row *r = NULL;
        rc = rows_new(&r, 1, &s->questions[i], err);
        if (r)
            t->q[i] = *r, free(r);
    }
    for (size_t i = 0; !rc && i < s->ncrosstabs; i++) {
        const px_poll_crosstab *x = &s->crosstabs[i];
        rc = rows_new(&t->x[i], s->demographics[x->demographic].n + 1, &s->questions[x->question], err);
    }
    if (rc) {
        px_poll_tally_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void px_poll_tally_free(px_poll_tally *t) {
    if (!t)
        return;
    const px_poll_survey *s = t->s;
    for (size_t i = 0; t->q && i < s->nquestions; i++)
        free(t->q[i].counts);
    free(t->q);
    for (size_t i = 0; t->x && i < s->ncrosstabs; i++)
        rows_free(t->x[i], s->demographics[s->crosstabs[i].demographic].n + 1);
    free(t->x);
    set_free(&t->spent);
    set_free(&t->seen);
    px_buf_free(&t->tokens);
    free(t->token_off);
    px_buf_free(&t->plain);
    px_memzero(&t->kp, sizeof t->kp);
    free(t);
}

static void count_answer(px_poll_row *r, const px_poll_question *q, const px_poll_answer *a) {
    if (!a->present)
        return;
    if (q->type == PX_POLL_SINGLE)
        r->counts[a->value]++;
    else if (q->type == PX_POLL_MULTIPLE) {
        for (uint32_t k = 0; k < q->noptions; k++)
            if ((uint64_t)a->value & (UINT64_C(1) << k))
                r->counts[k]++;
    } else {
        r->sum += a->value;
        r->n++;
    }
}

static void count_ballot(px_poll_tally *t, const px_poll_ballot *b) {
    const px_poll_survey *s = t->s;
    for (size_t i = 0; i < s->nquestions; i++)
        count_answer(&t->q[i], &s->questions[i], &b->answers[i]);
    for (size_t i = 0; i < s->ncrosstabs; i++) {
        const px_poll_crosstab *x = &s->crosstabs[i];
        uint8_t c = b->demo[x->demographic];
        size_t row = c == PX_POLL_UNKNOWN ? s->demographics[x->demographic].n : c;
        count_answer(&t->x[i][row], &s->questions[x->question], &b->answers[x->question]);
    }
}

static int keep_token(px_poll_tally *t, const px_poll_token *tok, px_err *err) {
    if (t->ntokens == t->cap_tokens) {
        size_t cap = t->cap_tokens ? 2 * t->cap_tokens : 256;
        size_t *o = realloc(t->token_off, cap * sizeof *o);
        if (!o)
            return px_fail(err, PX_E_NOMEM, "out of memory");
        t->token_off = o;
        t->cap_tokens = cap;
    }
    t->token_off[t->ntokens] = t->tokens.len;
    if (px_poll_token_encode(tok, &t->tokens, err))
        return -1;
    t->ntokens++;
    return 0;
}

/* The checks in order; the first that fails names the reason. */
static px_poll_reason judge(px_poll_tally *t, const uint8_t *sealed, size_t len, int64_t received,
                            px_poll_ballot *b, px_err *why) {
    const px_poll_survey *s = t->s;
    uint8_t d[PX_SHA256_BYTES];
    px_sha256(d, sealed, len);
    if (set_has(&t->seen, d))
        return px_fail(why, PX_E_STATE, "the same sealed ballot was offered before"), PX_POLL_REPLAYED;
    if (set_add(&t->seen, d, why))
        return PX_POLL_NREASONS;
    if (received > s->closes)
        return px_fail(why, PX_E_DENIED, "received after the poll closed"), PX_POLL_LATE;
    if (received < s->opens)
        return px_fail(why, PX_E_DENIED, "received before the poll opened"), PX_POLL_EARLY;
    uint8_t commit[PX_SHA256_BYTES];
    px_buf_reset(&t->plain);
    if (len > PX_POLL_BALLOT_MAX + PX_COMMIT_HEADERBYTES + PX_SEAL_OVERHEAD ||
        px_open_committed(&t->plain, commit, sealed, len, &t->kp, why) ||
        px_poll_ballot_parse(b, t->plain.data, t->plain.len, why))
        return PX_POLL_MALFORMED;
    if (!px_ct_equal(b->poll, s->id, PX_POLL_ID_BYTES) || !px_ct_equal(b->token.poll, s->id, PX_POLL_ID_BYTES))
        return px_fail(why, PX_E_DENIED, "the ballot or its token is for another poll"), PX_POLL_WRONG_POLL;
    if (px_poll_token_verify(&b->token, s->key, s->id, why))
        return PX_POLL_BAD_TOKEN;
    if (px_poll_ballot_check(b, s, why))
        return PX_POLL_MALFORMED;
    if (set_has(&t->spent, b->token.nonce))
        return px_fail(why, PX_E_STATE, "the token was spent by an earlier ballot"), PX_POLL_SPENT;
    return PX_POLL_ACCEPTED;
}

int px_poll_tally_offer(px_poll_tally *t, const uint8_t *sealed, size_t len, int64_t received,
                        px_poll_reason *reason, px_err *why) {
    px_err e = {0};
    px_poll_ballot b;
    if (t->received >= PX_POLL_MAX_BALLOTS)
        return px_fail(why, PX_E_LIMIT, "a tally takes at most %u ballots", PX_POLL_MAX_BALLOTS);
    px_poll_reason r = judge(t, sealed, len, received, &b, &e);
    if (r == PX_POLL_NREASONS ||
        (r == PX_POLL_ACCEPTED && (set_add(&t->spent, b.token.nonce, &e) || keep_token(t, &b.token, &e)))) {
        if (why)
            *why = e;
        return -1;
    }
    if (r == PX_POLL_ACCEPTED)
        count_ballot(t, &b);
    px_memzero(&b, sizeof b);
    px_memzero(t->plain.data, t->plain.len);
    t->received++;
    t->counts[r]++;
    *reason = r;
    if (why)
        *why = e;
    return 0;
}

void px_poll_tally_counts(const px_poll_tally *t, uint64_t counts[PX_POLL_NREASONS], uint64_t *received) {
    memcpy(counts, t->counts, sizeof t->counts);
    *received = t->received;
}

/* ---- the spent list -------------------------------------------------------------- */

static int by_nonce(const void *a, const void *b, void *base) {
    const uint8_t *p = base;
    return memcmp(p + *(const size_t *)a + TOKEN_NONCE_OFF, p + *(const size_t *)b + TOKEN_NONCE_OFF, 32);
}

void px_poll_spent_digest(uint8_t digest[PX_SHA256_BYTES], const uint8_t *tokens, size_t len) {
    px_sha256_ctx c;
    px_sha256_init(&c);
    px_sha256_update(&c, SPENT_DOMAIN, sizeof SPENT_DOMAIN - 1);
    px_sha256_update(&c, tokens, len);
    px_sha256_final(&c, digest);
}

int px_poll_tally_spent(px_poll_tally *t, uint8_t digest[PX_SHA256_BYTES], px_buf *tokens, size_t *n,
                        px_err *err) {
    if (t->ntokens)
        qsort_r(t->token_off, t->ntokens, sizeof *t->token_off, by_nonce, t->tokens.data);
    px_buf sorted = PX_BUF_INIT;
    if (px_buf_reserve(&sorted, t->tokens.len + 1, err))
        return -1;
    for (size_t i = 0; i < t->ntokens; i++) {
        const uint8_t *p = t->tokens.data + t->token_off[i];
        size_t len = PX_POLL_TOKEN_FIXED + px_load_u16le(p + TOKEN_NONCE_OFF + 32);
        px_buf_append(&sorted, p, len, NULL);
    }
    px_poll_spent_digest(digest, sorted.data, sorted.len);
    int rc = tokens ? px_buf_append(tokens, sorted.data, sorted.len, err) : 0;
    *n = t->ntokens;
    px_buf_free(&sorted);
    return rc;
}
