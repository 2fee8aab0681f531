/* RFC 9474 blind RSA signatures: Prepare, Blind, BlindSign, Finalize and
 * Verify, for the four variants of section 5 (SHA-384, MGF1-SHA-384, salt
 * length 48 or 0, with or without the 32-byte random message prefix).
 *
 * OpenSSL does the arithmetic: BIGNUM with a cached Montgomery context for
 * the public-key operation, and EVP's raw RSA private-key operation (CRT,
 * base blinding, constant-time exponentiation) for BlindSign. EMSA-PSS
 * encoding and verification (RFC 8017 9.1) are written here, so the same
 * code encodes at Blind and checks at Verify. */
#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "poll/brsa_int.h"

#define HLEN 48 /* SHA-384 */
#define MAX_E_BITS 33

struct px_poll_pub {
    BIGNUM *n, *e;
    BN_MONT_CTX *mont;
    size_t k;      /* modulus bytes */
    unsigned bits; /* modulus bits */
    uint8_t *spki;
    size_t spki_len;
    uint8_t id[PX_POLL_KEY_ID_BYTES];
};

struct px_poll_key {
    EVP_PKEY *pkey;
    px_poll_pub *pub;
};

const char *px_poll_variant_name(px_poll_variant v) {
    static const char *const names[] = {"RSABSSA-SHA384-PSS-Randomized", "RSABSSA-SHA384-PSSZERO-Randomized",
                                        "RSABSSA-SHA384-PSS-Deterministic", "RSABSSA-SHA384-PSSZERO-Deterministic"};
    return (unsigned)v < 4 ? names[v] : "unknown";
}

static size_t salt_len(px_poll_variant v) {
    return v == PX_POLL_SHA384_PSS_RANDOMIZED || v == PX_POLL_SHA384_PSS_DETERMINISTIC ? PX_POLL_SALT_BYTES : 0;
}

static int randomized(px_poll_variant v) {
    return v == PX_POLL_SHA384_PSS_RANDOMIZED || v == PX_POLL_SHA384_PSSZERO_RANDOMIZED;
}

static int variant_ok(px_poll_variant v, px_err *err) {
    if ((unsigned)v > PX_POLL_SHA384_PSSZERO_DETERMINISTIC)
        return px_fail(err, PX_E_INVALID, "unknown RFC 9474 variant %d", (int)v);
    return 0;
}

/* ---- SHA-384 and MGF1 -------------------------------------------------------- */

static EVP_MD *sha384_md;
static pthread_once_t sha384_once = PTHREAD_ONCE_INIT;

static void sha384_fetch(void) {
    sha384_md = EVP_MD_fetch(NULL, "SHA384", NULL);
}

static const EVP_MD *sha384(void) {
    pthread_once(&sha384_once, sha384_fetch);
    return sha384_md;
}

static int hash_parts(uint8_t out[HLEN], const void *a, size_t alen, const void *b, size_t blen, const void *c,
                      size_t clen) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    int ok = ctx && sha384() && EVP_DigestInit_ex(ctx, sha384(), NULL) == 1 &&
             (!alen || EVP_DigestUpdate(ctx, a, alen) == 1) && (!blen || EVP_DigestUpdate(ctx, b, blen) == 1) &&
             (!clen || EVP_DigestUpdate(ctx, c, clen) == 1) && EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == HLEN;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* MGF1 with SHA-384 (RFC 8017 B.2.1), XORed into buf. */
static int mgf1_xor(uint8_t *buf, size_t len, const uint8_t seed[HLEN]) {
    uint8_t h[HLEN];
    for (uint32_t counter = 0; (size_t)counter * HLEN < len; counter++) {
        uint8_t c[4] = {(uint8_t)(counter >> 24), (uint8_t)(counter >> 16), (uint8_t)(counter >> 8),
                        (uint8_t)counter};
        if (hash_parts(h, seed, HLEN, c, 4, NULL, 0))
            return -1;
        size_t off = (size_t)counter * HLEN, take = len - off < HLEN ? len - off : HLEN;
        for (size_t i = 0; i < take; i++)
            buf[off + i] ^= h[i];
    }
    return 0;
}

static const uint8_t zeros8[8];

/* EMSA-PSS-ENCODE (RFC 8017 9.1.1) with emBits = modBits - 1: em gets
 * emLen = ceil(emBits / 8) bytes. */
int px_poll_pss_encode(uint8_t *em, size_t em_len, unsigned em_bits, const uint8_t *msg, size_t len,
                       const uint8_t *salt, size_t slen, px_err *err) {
    uint8_t mhash[HLEN], h[HLEN];
    if (em_len < HLEN + slen + 2)
        return px_fail(err, PX_E_INVALID, "EMSA-PSS: the modulus is too short for SHA-384 and the salt");
    size_t db_len = em_len - HLEN - 1;
    if (hash_parts(mhash, msg, len, NULL, 0, NULL, 0) ||
        hash_parts(h, zeros8, sizeof zeros8, mhash, HLEN, salt, slen))
        return px_fail(err, PX_E_INTERNAL, "SHA-384 failed");
    memset(em, 0, db_len);
    em[db_len - slen - 1] = 0x01;
    if (slen)
        memcpy(em + db_len - slen, salt, slen);
    if (mgf1_xor(em, db_len, h))
        return px_fail(err, PX_E_INTERNAL, "MGF1 failed");
    em[0] &= (uint8_t)(0xFFu >> (8 * em_len - em_bits));
    memcpy(em + db_len, h, HLEN);
    em[em_len - 1] = 0xbc;
    return 0;
}

/* EMSA-PSS-VERIFY (RFC 8017 9.1.2): 0 consistent, -1 not. em is modified. */
static int pss_verify(uint8_t *em, size_t em_len, unsigned em_bits, const uint8_t *msg, size_t len, size_t slen) {
    uint8_t mhash[HLEN], h2[HLEN];
    if (em_len < HLEN + slen + 2 || em[em_len - 1] != 0xbc)
        return -1;
    size_t db_len = em_len - HLEN - 1;
    const uint8_t *h = em + db_len;
    uint8_t top = (uint8_t)(0xFFu << (8 - (8 * em_len - em_bits)));
    if (8 * em_len - em_bits && (em[0] & top))
        return -1;
    if (mgf1_xor(em, db_len, h))
        return -1;
    em[0] &= (uint8_t)(0xFFu >> (8 * em_len - em_bits));
    for (size_t i = 0; i < db_len - slen - 1; i++)
        if (em[i])
            return -1;
    if (em[db_len - slen - 1] != 0x01)
        return -1;
    if (hash_parts(mhash, msg, len, NULL, 0, NULL, 0) ||
        hash_parts(h2, zeros8, sizeof zeros8, mhash, HLEN, em + db_len - slen, slen))
        return -1;
    return CRYPTO_memcmp(h, h2, HLEN) == 0 ? 0 : -1;
}

/* ---- keys ------------------------------------------------------------------- */

void px_poll_pub_free(px_poll_pub *p) {
    if (!p)
        return;
    BN_free(p->n);
    BN_free(p->e);
    BN_MONT_CTX_free(p->mont);
    free(p->spki);
    free(p);
}

/* The public half from n and e; spki is computed from them. */
static int pub_make(px_poll_pub **out, BIGNUM *n, BIGNUM *e, px_err *err) {
    px_poll_pub *p = calloc(1, sizeof *p);
    BN_CTX *ctx = BN_CTX_new();
    if (!p || !ctx) {
        BN_free(n), BN_free(e), free(p), BN_CTX_free(ctx);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    p->n = n, p->e = e;
    int bits = BN_num_bits(n);
    int rc = -1;
    if (bits < PX_POLL_RSA_MIN_BITS || bits > PX_POLL_RSA_MAX_BITS)
        px_fail(err, PX_E_INVALID, "RSA modulus of %d bits: a poll key has %d to %d", bits, PX_POLL_RSA_MIN_BITS,
                PX_POLL_RSA_MAX_BITS);
    else if (!BN_is_odd(n) || !BN_is_odd(e) || BN_num_bits(e) < 2 || BN_num_bits(e) > MAX_E_BITS ||
             BN_cmp(e, n) >= 0)
        px_fail(err, PX_E_INVALID, "RSA public key: the modulus and exponent must be odd, 3 <= e <= 2^32");
    else if (!(p->mont = BN_MONT_CTX_new()) || !BN_MONT_CTX_set(p->mont, n, ctx))
        px_fail(err, PX_E_NOMEM, "out of memory");
    else
        rc = 0;
    p->bits = (unsigned)bits;
    p->k = ((size_t)bits + 7) / 8;
    BN_CTX_free(ctx);
    if (rc) {
        px_poll_pub_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

static int pub_set_spki(px_poll_pub *p, EVP_PKEY *pkey, px_err *err) {
    unsigned char *der = NULL;
    int len = i2d_PUBKEY(pkey, &der);
    if (len <= 0)
        return px_fail(err, PX_E_INTERNAL, "cannot encode the RSA public key");
    p->spki = malloc((size_t)len);
    if (!p->spki) {
        OPENSSL_free(der);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    memcpy(p->spki, der, (size_t)len);
    p->spki_len = (size_t)len;
    OPENSSL_free(der);
    px_sha256(p->id, p->spki, p->spki_len);
    return 0;
}

static EVP_PKEY *pkey_from_bld(OSSL_PARAM_BLD *bld, int selection) {
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &pkey, selection, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static int pub_from_pkey(px_poll_pub **out, EVP_PKEY *pkey, px_err *err) {
    BIGNUM *n = NULL, *e = NULL;
    if (!EVP_PKEY_is_a(pkey, "RSA") || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
        BN_free(n), BN_free(e);
        return px_fail(err, PX_E_INVALID, "not an RSA (rsaEncryption) key");
    }
    if (pub_make(out, n, e, err))
        return -1;
    if (pub_set_spki(*out, pkey, err)) {
        px_poll_pub_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int px_poll_pub_from_params(px_poll_pub **out, const uint8_t *nb, size_t nlen, const uint8_t *eb, size_t elen,
                            px_err *err) {
    BIGNUM *n = BN_bin2bn(nb, (int)nlen, NULL), *e = BN_bin2bn(eb, (int)elen, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    int rc = -1;
    if (!n || !e || !bld)
        px_fail(err, PX_E_NOMEM, "out of memory");
    else if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
             !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
             !(pkey = pkey_from_bld(bld, EVP_PKEY_PUBLIC_KEY)))
        px_fail(err, PX_E_INVALID, "not a usable RSA public key");
    else
        rc = pub_from_pkey(out, pkey, err);
    EVP_PKEY_free(pkey);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n), BN_free(e);
    return rc;
}

int px_poll_pub_parse(px_poll_pub **out, const uint8_t *spki, size_t len, px_err *err) {
    if (len == 0 || len > 4096)
        return px_fail(err, PX_E_INVALID, "RSA public key: %zu bytes of SPKI", len);
    const unsigned char *p = spki;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)len);
    if (!pkey)
        return px_fail(err, PX_E_INVALID, "RSA public key: not a SubjectPublicKeyInfo");
    int rc = -1;
    if ((size_t)(p - spki) != len)
        px_fail(err, PX_E_INVALID, "RSA public key: trailing bytes after the SubjectPublicKeyInfo");
    else if (pub_from_pkey(out, pkey, err) == 0) {
        /* One encoding per key: the key id is a digest of these bytes. */
        if ((*out)->spki_len != len || memcmp((*out)->spki, spki, len)) {
            px_poll_pub_free(*out);
            *out = NULL;
            px_fail(err, PX_E_INVALID, "RSA public key: not the canonical DER encoding");
        } else
            rc = 0;
    }
    EVP_PKEY_free(pkey);
    return rc;
}

size_t px_poll_pub_bytes(const px_poll_pub *p) {
    return p->k;
}

const uint8_t *px_poll_pub_spki(const px_poll_pub *p, size_t *len) {
    *len = p->spki_len;
    return p->spki;
}

void px_poll_pub_id(const px_poll_pub *p, uint8_t id[PX_POLL_KEY_ID_BYTES]) {
    memcpy(id, p->id, PX_POLL_KEY_ID_BYTES);
}

void px_poll_key_free(px_poll_key *k) {
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    px_poll_pub_free(k->pub);
    free(k);
}

const px_poll_pub *px_poll_key_pub(const px_poll_key *k) {
    return k->pub;
}

static int key_wrap(px_poll_key **out, EVP_PKEY *pkey, px_err *err) {
    px_poll_key *k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    k->pkey = pkey;
    if (pub_from_pkey(&k->pub, pkey, err)) {
        px_poll_key_free(k);
        return -1;
    }
    *out = k;
    return 0;
}

int px_poll_key_generate(px_poll_key **out, unsigned bits, px_err *err) {
    if (bits < PX_POLL_RSA_MIN_BITS || bits > PX_POLL_RSA_MAX_BITS || bits % 8)
        return px_fail(err, PX_E_INVALID, "a poll key has %d to %d bits (a multiple of 8), not %u",
                       PX_POLL_RSA_MIN_BITS, PX_POLL_RSA_MAX_BITS, bits);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *pkey = NULL;
    int ok = ctx && EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) > 0 &&
             EVP_PKEY_generate(ctx, &pkey) > 0;
    EVP_PKEY_CTX_free(ctx);
    if (!ok)
        return px_fail(err, PX_E_INTERNAL, "RSA key generation failed");
    return key_wrap(out, pkey, err);
}

int px_poll_key_parse(px_poll_key **out, const uint8_t *der, size_t len, px_err *err) {
    if (len == 0 || len > 16384)
        return px_fail(err, PX_E_INVALID, "RSA private key: %zu bytes", len);
    const unsigned char *p = der;
    EVP_PKEY *pkey = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)len);
    if (!pkey)
        return px_fail(err, PX_E_INVALID, "not an RSA private key (PKCS#1 DER)");
    if ((size_t)(p - der) != len) {
        EVP_PKEY_free(pkey);
        return px_fail(err, PX_E_INVALID, "RSA private key: trailing bytes");
    }
    return key_wrap(out, pkey, err);
}

int px_poll_key_export(const px_poll_key *k, px_buf *out, px_err *err) {
    unsigned char *der = NULL;
    int len = i2d_PrivateKey(k->pkey, &der);
    if (len <= 0)
        return px_fail(err, PX_E_INTERNAL, "cannot encode the RSA private key");
    int rc = px_buf_append(out, der, (size_t)len, err);
    OPENSSL_clear_free(der, (size_t)len);
    return rc;
}

int px_poll_key_from_params(px_poll_key **out, const uint8_t *nb, size_t nlen, const uint8_t *eb, size_t elen,
                            const uint8_t *db, size_t dlen, const uint8_t *pb, size_t plen, const uint8_t *qb,
                            size_t qlen, px_err *err) {
    BIGNUM *n = BN_bin2bn(nb, (int)nlen, NULL), *e = BN_bin2bn(eb, (int)elen, NULL);
    BIGNUM *d = BN_secure_new(), *p = BN_secure_new(), *q = BN_secure_new();
    BIGNUM *dp = BN_secure_new(), *dq = BN_secure_new(), *qi = BN_secure_new(), *t = BN_new();
    BN_CTX *ctx = BN_CTX_secure_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    int rc = -1;
    if (!n || !e || !d || !p || !q || !dp || !dq || !qi || !t || !ctx || !bld || !BN_bin2bn(db, (int)dlen, d) ||
        !BN_bin2bn(pb, (int)plen, p) || !BN_bin2bn(qb, (int)qlen, q))
        px_fail(err, PX_E_NOMEM, "out of memory");
    else if (!BN_sub(t, p, BN_value_one()) || !BN_mod(dp, d, t, ctx) || !BN_sub(t, q, BN_value_one()) ||
             !BN_mod(dq, d, t, ctx) || !BN_mod_inverse(qi, q, p, ctx) || !BN_mul(t, p, q, ctx) || BN_cmp(t, n))
        px_fail(err, PX_E_INVALID, "RSA parameters: n is not p * q or q is not invertible mod p");
    else if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
             !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
             !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) ||
             !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) ||
             !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) ||
             !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dp) ||
             !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dq) ||
             !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi) ||
             !(pkey = pkey_from_bld(bld, EVP_PKEY_KEYPAIR)))
        px_fail(err, PX_E_INVALID, "not a usable RSA private key");
    else
        rc = key_wrap(out, pkey, err);
    OSSL_PARAM_BLD_free(bld);
    BN_CTX_free(ctx);
    BN_free(n), BN_free(e), BN_free(t);
    BN_clear_free(d), BN_clear_free(p), BN_clear_free(q), BN_clear_free(dp), BN_clear_free(dq), BN_clear_free(qi);
    return rc;
}

/* ---- the protocol ----------------------------------------------------------- */

int px_poll_prepare(px_poll_variant v, const uint8_t *msg, size_t len, uint8_t prefix[PX_POLL_PREFIX_BYTES],
                    px_buf *out, px_err *err) {
    if (variant_ok(v, err))
        return -1;
    if (randomized(v)) {
        uint8_t r[PX_POLL_PREFIX_BYTES];
        px_random(r, sizeof r);
        if (prefix)
            memcpy(prefix, r, sizeof r);
        if (px_buf_append(out, r, sizeof r, err))
            return -1;
    }
    return px_buf_append(out, msg, len, err);
}

/* x^e mod n with the public key. */
static int rsavp1(const px_poll_pub *pk, BIGNUM *out, const BIGNUM *x, BN_CTX *ctx) {
    return BN_mod_exp_mont(out, x, pk->e, pk->n, ctx, pk->mont) ? 0 : -1;
}

int px_poll_blind_with(const px_poll_pub *pk, px_poll_variant v, const uint8_t *input, size_t len,
                       const uint8_t *salt, const uint8_t *inv_in, uint8_t *blinded, uint8_t *inv_out, px_err *err) {
    if (variant_ok(v, err))
        return -1;
    size_t k = pk->k, em_len = (pk->bits - 1 + 7) / 8;
    uint8_t em[PX_POLL_RSA_MAX_BYTES];
    if (px_poll_pss_encode(em, em_len, pk->bits - 1, input, len, salt, salt_len(v), err))
        return -1;
    BN_CTX *ctx = BN_CTX_secure_new();
    BIGNUM *m = BN_secure_new(), *r = BN_secure_new(), *inv = BN_secure_new(), *x = BN_secure_new(),
           *g = BN_new();
    int rc = -1;
    if (!ctx || !m || !r || !inv || !x || !g || !BN_bin2bn(em, (int)em_len, m)) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    BN_set_flags(r, BN_FLG_CONSTTIME);
    BN_set_flags(inv, BN_FLG_CONSTTIME);
    if (!BN_gcd(g, m, pk->n, ctx) || !BN_is_one(g)) {
        px_fail(err, PX_E_INVALID, "blind: the encoded message is not coprime to the modulus");
        goto out;
    }
    if (inv_in) { /* known-answer tests: r = inv^-1 */
        if (!BN_bin2bn(inv_in, (int)k, inv) || !BN_mod_inverse(r, inv, pk->n, ctx)) {
            px_fail(err, PX_E_INVALID, "blind: the given inverse is not invertible");
            goto out;
        }
    } else {
        do {
            if (!BN_priv_rand_range(r, pk->n)) {
                px_fail(err, PX_E_INTERNAL, "blind: no randomness");
                goto out;
            }
        } while (BN_is_zero(r));
        if (!BN_mod_inverse(inv, r, pk->n, ctx)) {
            px_fail(err, PX_E_INVALID, "blind: blinding error (r not invertible)");
            goto out;
        }
    }
    if (rsavp1(pk, x, r, ctx) || !BN_mod_mul(x, x, m, pk->n, ctx) || BN_bn2binpad(x, blinded, (int)k) != (int)k ||
        BN_bn2binpad(inv, inv_out, (int)k) != (int)k) {
        px_fail(err, PX_E_INTERNAL, "blind: arithmetic failed");
        goto out;
    }
    rc = 0;
out:
    px_memzero(em, sizeof em);
    BN_CTX_free(ctx);
    BN_clear_free(m), BN_clear_free(r), BN_clear_free(inv), BN_clear_free(x), BN_free(g);
    return rc;
}

int px_poll_blind(const px_poll_pub *pk, px_poll_variant v, const uint8_t *input, size_t len, uint8_t *blinded,
                  uint8_t *inv, px_err *err) {
    uint8_t salt[PX_POLL_SALT_BYTES];
    px_random(salt, sizeof salt);
    return px_poll_blind_with(pk, v, input, len, salt, NULL, blinded, inv, err);
}

int px_poll_blind_sign(const px_poll_key *sk, const uint8_t *blinded, size_t len, uint8_t *blind_sig,
                       px_err *err) {
    const px_poll_pub *pk = sk->pub;
    if (len != pk->k)
        return px_fail(err, PX_E_INVALID, "blind sign: the blinded message has %zu bytes, not %zu", len, pk->k);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *m = BN_new(), *s = BN_new(), *m2 = BN_new();
    EVP_PKEY_CTX *pc = NULL;
    size_t outlen = pk->k;
    int rc = -1;
    if (!ctx || !m || !s || !m2 || !BN_bin2bn(blinded, (int)len, m)) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    if (BN_cmp(m, pk->n) >= 0) {
        px_fail(err, PX_E_INVALID, "blind sign: the blinded message is not below the modulus");
        goto out;
    }
    /* RSASP1: OpenSSL's private-key operation without padding. */
    if (!(pc = EVP_PKEY_CTX_new_from_pkey(NULL, sk->pkey, NULL)) || EVP_PKEY_decrypt_init(pc) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_NO_PADDING) <= 0 ||
        EVP_PKEY_decrypt(pc, blind_sig, &outlen, blinded, len) <= 0 || outlen != pk->k) {
        px_fail(err, PX_E_INTERNAL, "blind sign: the RSA private-key operation failed");
        goto out;
    }
    /* RSAVP1 of the result must give the input back, or nothing leaves. */
    if (!BN_bin2bn(blind_sig, (int)outlen, s) || rsavp1(pk, m2, s, ctx) || BN_cmp(m, m2)) {
        px_memzero(blind_sig, pk->k);
        px_fail(err, PX_E_INTERNAL, "blind sign: the signature does not verify (a faulty computation); "
                                    "nothing was released");
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_CTX_free(pc);
    BN_CTX_free(ctx);
    BN_free(m), BN_free(s), BN_free(m2);
    return rc;
}

int px_poll_finalize(const px_poll_pub *pk, px_poll_variant v, const uint8_t *input, size_t len,
                     const uint8_t *blind_sig, size_t sig_len, const uint8_t *inv_b, uint8_t *sig, px_err *err) {
    if (sig_len != pk->k)
        return px_fail(err, PX_E_INVALID, "finalize: the blind signature has %zu bytes, not %zu", sig_len, pk->k);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *z = BN_new(), *inv = BN_secure_new(), *s = BN_new();
    int rc = -1;
    if (!ctx || !z || !inv || !s || !BN_bin2bn(blind_sig, (int)sig_len, z) || !BN_bin2bn(inv_b, (int)pk->k, inv))
        px_fail(err, PX_E_NOMEM, "out of memory");
    else if (BN_cmp(z, pk->n) >= 0)
        px_fail(err, PX_E_VERIFY, "finalize: the blind signature is not below the modulus");
    else if (!BN_mod_mul(s, z, inv, pk->n, ctx) || BN_bn2binpad(s, sig, (int)pk->k) != (int)pk->k)
        px_fail(err, PX_E_INTERNAL, "finalize: arithmetic failed");
    else if (px_poll_verify(pk, v, input, len, sig, pk->k, err))
        px_err_prefix(err, "finalize: ");
    else
        rc = 0;
    BN_CTX_free(ctx);
    BN_free(z), BN_clear_free(inv), BN_free(s);
    return rc;
}

int px_poll_verify(const px_poll_pub *pk, px_poll_variant v, const uint8_t *input, size_t len, const uint8_t *sig,
                   size_t sig_len, px_err *err) {
    if (variant_ok(v, err))
        return -1;
    if (sig_len != pk->k)
        return px_fail(err, PX_E_VERIFY, "signature has %zu bytes, not %zu", sig_len, pk->k);
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *s = BN_new(), *m = BN_new();
    uint8_t em[PX_POLL_RSA_MAX_BYTES];
    size_t em_len = (pk->bits - 1 + 7) / 8;
    int rc = -1;
    if (!ctx || !s || !m || !BN_bin2bn(sig, (int)sig_len, s))
        px_fail(err, PX_E_NOMEM, "out of memory");
    else if (BN_cmp(s, pk->n) >= 0 || rsavp1(pk, m, s, ctx) || BN_num_bytes(m) > (int)em_len ||
             BN_bn2binpad(m, em, (int)em_len) != (int)em_len ||
             pss_verify(em, em_len, pk->bits - 1, input, len, salt_len(v)))
        px_fail(err, PX_E_VERIFY, "signature does not verify under the key (%s)", px_poll_variant_name(v));
    else
        rc = 0;
    BN_CTX_free(ctx);
    BN_free(s), BN_free(m);
    return rc;
}
