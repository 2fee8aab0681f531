/* Poll tokens: an RFC 9474 RSABSSA-SHA384-PSS-Randomized signature by the
 * poll's key over a message naming the poll, the key and a nonce the
 * member chose. The binary format is in pixiu/poll.h. */
#include <string.h>

#include "pixiu/poll.h"

#define TOKEN_DOMAIN "PIXIU-poll-token-v1\n"
#define TOKEN_DOMAIN_LEN (sizeof TOKEN_DOMAIN - 1)
#define TOKEN_MSG_LEN (TOKEN_DOMAIN_LEN + 3 * 32)
#define TOKEN_INPUT_LEN (PX_POLL_PREFIX_BYTES + TOKEN_MSG_LEN)
#define VARIANT PX_POLL_SHA384_PSS_RANDOMIZED

/* input = prefix || "PIXIU-poll-token-v1\n" || poll || key id || nonce */
static void token_input(uint8_t out[TOKEN_INPUT_LEN], const px_poll_token *t) {
    uint8_t *p = out;
    memcpy(p, t->prefix, PX_POLL_PREFIX_BYTES), p += PX_POLL_PREFIX_BYTES;
    memcpy(p, TOKEN_DOMAIN, TOKEN_DOMAIN_LEN), p += TOKEN_DOMAIN_LEN;
    memcpy(p, t->poll, 32), p += 32;
    memcpy(p, t->key_id, 32), p += 32;
    memcpy(p, t->nonce, 32);
}

int px_poll_token_encode(const px_poll_token *t, px_buf *out, px_err *err) {
    if (t->sig_len < PX_POLL_RSA_MIN_BITS / 8 || t->sig_len > PX_POLL_RSA_MAX_BYTES)
        return px_fail(err, PX_E_INVALID, "token: a signature of %zu bytes", t->sig_len);
    if (px_buf_reserve(out, PX_POLL_TOKEN_FIXED + t->sig_len, err))
        return -1;
    px_buf_append(out, PX_POLL_TOKEN_MAGIC, 4, NULL);
    px_buf_append_u8(out, PX_POLL_TOKEN_VERSION, NULL);
    px_buf_append(out, t->poll, 32, NULL);
    px_buf_append(out, t->key_id, 32, NULL);
    px_buf_append(out, t->prefix, 32, NULL);
    px_buf_append(out, t->nonce, 32, NULL);
    px_buf_append_u16le(out, (uint16_t)t->sig_len, NULL);
    px_buf_append(out, t->sig, t->sig_len, NULL);
    return 0;
}

int px_poll_token_parse(px_poll_token *t, const uint8_t *b, size_t len, px_err *err) {
    if (len < PX_POLL_TOKEN_FIXED || memcmp(b, PX_POLL_TOKEN_MAGIC, 4))
        return px_fail(err, PX_E_INVALID, "not a poll token (no PXPT header)");
    if (b[4] != PX_POLL_TOKEN_VERSION)
        return px_fail(err, PX_E_INVALID, "poll token version %u is not %u", b[4], PX_POLL_TOKEN_VERSION);
    size_t sig_len = px_load_u16le(b + 5 + 4 * 32);
    if (sig_len < PX_POLL_RSA_MIN_BITS / 8 || sig_len > PX_POLL_RSA_MAX_BYTES)
        return px_fail(err, PX_E_INVALID, "poll token: a signature of %zu bytes (256 to %d)", sig_len,
                       PX_POLL_RSA_MAX_BYTES);
    if (len != PX_POLL_TOKEN_FIXED + sig_len)
        return px_fail(err, PX_E_INVALID, "poll token: %zu bytes, its signature length says %zu", len,
                       PX_POLL_TOKEN_FIXED + sig_len);
    const uint8_t *p = b + 5;
    memcpy(t->poll, p, 32), p += 32;
    memcpy(t->key_id, p, 32), p += 32;
    memcpy(t->prefix, p, 32), p += 32;
    memcpy(t->nonce, p, 32), p += 32 + 2;
    memcpy(t->sig, p, sig_len);
    t->sig_len = sig_len;
    return 0;
}

int px_poll_token_verify(const px_poll_token *t, const px_poll_pub *pk, const uint8_t poll[PX_POLL_ID_BYTES],
                         px_err *err) {
    uint8_t id[PX_POLL_KEY_ID_BYTES], in[TOKEN_INPUT_LEN];
    if (!px_ct_equal(t->poll, poll, PX_POLL_ID_BYTES))
        return px_fail(err, PX_E_DENIED, "the token is for another poll");
    px_poll_pub_id(pk, id);
    if (!px_ct_equal(t->key_id, id, sizeof id))
        return px_fail(err, PX_E_VERIFY, "the token names another key than the poll's");
    token_input(in, t);
    if (px_poll_verify(pk, VARIANT, in, sizeof in, t->sig, t->sig_len, err))
        return px_err_prefix(err, "token: ");
    return 0;
}

int px_poll_request_new(px_poll_request *r, const px_poll_pub *pk, const uint8_t poll[PX_POLL_ID_BYTES],
                        px_err *err) {
    memset(r, 0, sizeof *r);
    memcpy(r->token.poll, poll, PX_POLL_ID_BYTES);
    px_poll_pub_id(pk, r->token.key_id);
    px_random(r->token.nonce, sizeof r->token.nonce);
    /* Prepare: the prefix is the Randomized variant's 32 random bytes. */
    px_random(r->token.prefix, sizeof r->token.prefix);
    r->k = px_poll_pub_bytes(pk);
    uint8_t in[TOKEN_INPUT_LEN];
    token_input(in, &r->token);
    if (px_poll_blind(pk, VARIANT, in, sizeof in, r->blinded, r->inv, err)) {
        px_poll_request_wipe(r);
        return -1;
    }
    return 0;
}

int px_poll_request_finish(px_poll_request *r, const px_poll_pub *pk, const uint8_t *blind_sig, size_t len,
                           px_err *err) {
    uint8_t in[TOKEN_INPUT_LEN], sig[PX_POLL_RSA_MAX_BYTES];
    uint8_t id[PX_POLL_KEY_ID_BYTES];
    px_poll_pub_id(pk, id);
    if (r->k != px_poll_pub_bytes(pk) || !px_ct_equal(id, r->token.key_id, sizeof id))
        return px_fail(err, PX_E_INVALID, "the request was blinded for another key");
    token_input(in, &r->token);
    if (px_poll_finalize(pk, VARIANT, in, sizeof in, blind_sig, len, r->inv, sig, err))
        return -1;
    memcpy(r->token.sig, sig, r->k);
    r->token.sig_len = r->k;
    return 0;
}

void px_poll_request_wipe(px_poll_request *r) {
    px_memzero(r->inv, sizeof r->inv);
}
