/* Source keys: the Ed25519 and ECDSA P-256 keys of the devices and
 * organisations that sign records, in the signed-note key text layout, and
 * the record digest they sign. Ed25519 is libsodium's; P-256 is OpenSSL's
 * (libsodium has no P-256), used through the non-deprecated EVP API. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "pod/verifier.h"

#define PRIV_PREFIX "PRIVATE+KEY+"
#define PRIV_PREFIX_LEN 12
#define P256_SCALAR_BYTES 32
#define P256_POINT_BYTES 65
#define KEY_FILE_MAX 4096
#define KEY_RAW_MAX (1 + PX_SRC_PK_MAX)

int px_source_record_digest(uint8_t out[PX_SHA256_BYTES], const px_schema *s, const px_value *values,
                     px_err *err) {
    px_buf b = PX_BUF_INIT;
    if (px_record_encode_values(&b, s, values, err)) {
        px_buf_free(&b);
        return -1;
    }
    const void *parts[2] = {PX_RECORD_DIGEST_TAG, b.data};
    size_t lens[2] = {PX_RECORD_DIGEST_TAG_LEN, b.len};
    px_sha256_parts(out, 2, parts, lens);
    px_buf_free(&b);
    return 0;
}

uint32_t px_source_key_id(const char *name, uint8_t alg, const uint8_t *pk, size_t pk_len) {
    uint8_t sep[2] = {0x0A, alg};
    const void *parts[3] = {name, sep, pk};
    size_t lens[3] = {strlen(name), 2, pk_len};
    uint8_t h[PX_SHA256_BYTES];
    px_sha256_parts(h, 3, parts, lens);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

static size_t alg_pk_len(uint8_t alg) {
    return alg == PX_SRC_ED25519 ? PX_SIGN_PUBLICKEYBYTES : alg == PX_SRC_P256 ? P256_POINT_BYTES : 0;
}

/* ---- OpenSSL P-256 glue ------------------------------------------------- */

static EVP_PKEY *p256_from_params(const uint8_t *pub, const BIGNUM *priv, px_err *err) {
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, P256_POINT_BYTES) ||
        (priv && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) || !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) ||
        EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        px_fail(err, PX_E_INVALID, "not a valid P-256 public key");
        pkey = NULL;
    }
    if (pkey) { /* the point must lie on the curve: never trust the decoder alone */
        EVP_PKEY_CTX *chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!chk || EVP_PKEY_public_check(chk) != 1) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
            px_fail(err, PX_E_INVALID, "P-256 public key is not a point on the curve");
        }
        EVP_PKEY_CTX_free(chk);
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* pub = priv * G, uncompressed. */
static int p256_public_of(uint8_t pub[P256_POINT_BYTES], const BIGNUM *priv, px_err *err) {
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *pt = g ? EC_POINT_new(g) : NULL;
    int rc = -1;
    if (pt && !BN_is_zero(priv) && BN_cmp(priv, EC_GROUP_get0_order(g)) < 0 &&
        EC_POINT_mul(g, pt, priv, NULL, NULL, NULL) == 1 &&
        EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, pub, P256_POINT_BYTES, NULL) ==
            P256_POINT_BYTES)
        rc = 0;
    else
        px_fail(err, PX_E_INVALID, "not a valid P-256 private scalar");
    EC_POINT_free(pt);
    EC_GROUP_free(g);
    return rc;
}

/* One record: a context of its own (the prover keeps one per key instead,
 * src/pod/verifier.c); the check itself is the same code. */
static int p256_verify(EVP_PKEY *pkey, const uint8_t digest[PX_SHA256_BYTES], const uint8_t *sig) {
    EVP_PKEY_CTX *ctx = px_source_p256_ctx(pkey);
    int rc = ctx ? px_source_p256_check(ctx, digest, sig) : -1;
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

static int p256_sign(EVP_PKEY *pkey, const uint8_t digest[PX_SHA256_BYTES], uint8_t sig[PX_SRC_SIG_BYTES],
                     px_err *err) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    uint8_t der[80];
    size_t derlen = sizeof der;
    ECDSA_SIG *es = NULL;
    int rc = -1;
    if (ctx && EVP_PKEY_sign_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
        EVP_PKEY_sign(ctx, der, &derlen, digest, PX_SHA256_BYTES) == 1) {
        const uint8_t *p = der;
        es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
        const BIGNUM *r, *s;
        if (es) {
            ECDSA_SIG_get0(es, &r, &s);
            if (BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32)
                rc = 0;
        }
    }
    if (rc)
        px_fail(err, PX_E_INTERNAL, "ECDSA P-256 signing failed");
    ECDSA_SIG_free(es);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* ---- public keys -------------------------------------------------------- */

static int key_init(px_source_key *k, const char *name, uint8_t alg, const uint8_t *pk, size_t pk_len,
                    px_err *err) {
    size_t nlen = strlen(name);
    if (!px_key_name_valid(name, nlen))
        return px_fail(err, PX_E_INVALID,
                       "invalid source key name: must be 1-%d bytes of UTF-8 without spaces or '+'",
                       PX_KEY_NAME_MAX);
    if (alg_pk_len(alg) == 0)
        return px_fail(err, PX_E_INVALID, "unsupported source key algorithm %u (1 Ed25519, 2 ECDSA P-256)", alg);
    if (pk_len != alg_pk_len(alg))
        return px_fail(err, PX_E_INVALID, "source key of algorithm %u must have %zu bytes, not %zu", alg,
                       alg_pk_len(alg), pk_len);
    px_source_key t;
    memset(&t, 0, sizeof t);
    memcpy(t.name, name, nlen + 1);
    t.alg = alg;
    memcpy(t.pk, pk, pk_len);
    t.pk_len = pk_len;
    t.id = px_source_key_id(t.name, alg, pk, pk_len);
    if (alg == PX_SRC_P256 && !(t.ossl = p256_from_params(pk, NULL, err)))
        return -1;
    *k = t;
    return 0;
}

/* Split "<name>+<hex id>+<base64>" into its parts; raw gets the decoded key. */
static int split_key(const char *text, size_t len, char *name, uint32_t *id, uint8_t *raw, size_t *rawlen,
                     px_err *err) {
    const char *p1 = memchr(text, '+', len);
    const char *p2 = p1 ? memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - text)) : NULL;
    if (!p2)
        return px_fail(err, PX_E_INVALID, "source key: expected <name>+<hex id>+<base64 key>");
    size_t nlen = (size_t)(p1 - text);
    if (!px_key_name_valid(text, nlen))
        return px_fail(err, PX_E_INVALID, "source key: invalid key name");
    memcpy(name, text, nlen);
    name[nlen] = 0;
    uint8_t idb[4];
    if (px_hex_decode_exact(idb, 4, p1 + 1, (size_t)(p2 - p1 - 1), err))
        return px_err_prefix(err, "source key id: ");
    *id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
    px_buf b = PX_BUF_INIT;
    const char *b64 = p2 + 1;
    size_t blen = len - (size_t)(b64 - text);
    if (blen > 2 * KEY_RAW_MAX || px_b64_decode(&b, b64, blen, err)) {
        px_buf_free(&b);
        return px_fail(err, PX_E_INVALID, "source key: key is not valid base64 of a key");
    }
    if (b.len < 1 || b.len > KEY_RAW_MAX) {
        px_buf_free(&b);
        return px_fail(err, PX_E_INVALID, "source key: key has %zu bytes", b.len);
    }
    memcpy(raw, b.data, b.len);
    *rawlen = b.len;
    px_buf_free(&b);
    return 0;
}

static size_t trim_eol(const char *text, size_t len) {
    if (len && text[len - 1] == '\n')
        len--;
    if (len && text[len - 1] == '\r')
        len--;
    return len;
}

int px_source_key_parse(px_source_key *k, const char *text, size_t len, px_err *err) {
    char name[PX_KEY_NAME_MAX + 1];
    uint8_t raw[KEY_RAW_MAX];
    size_t rawlen;
    uint32_t id;
    len = trim_eol(text, len);
    if (split_key(text, len, name, &id, raw, &rawlen, err))
        return -1;
    px_source_key t;
    if (key_init(&t, name, raw[0], raw + 1, rawlen - 1, err))
        return px_err_prefix(err, "source key \"%s\": ", name);
    if (t.id != id) {
        px_source_key_free(&t);
        return px_fail(err, PX_E_VERIFY, "source key \"%s\": key id %08x does not match the name and key (forged?)",
                       name, id);
    }
    *k = t;
    return 0;
}

int px_source_key_format(const px_source_key *k, px_buf *out, px_err *err) {
    uint8_t raw[KEY_RAW_MAX];
    raw[0] = k->alg;
    memcpy(raw + 1, k->pk, k->pk_len);
    size_t start = out->len;
    if (px_buf_printf(out, err, "%s+%08x+", k->name, k->id) || px_buf_append_b64(out, raw, 1 + k->pk_len, err)) {
        out->len = start;
        return -1;
    }
    return 0;
}

void px_source_key_ref(const px_source_key *k, char *ref) {
    snprintf(ref, PX_SRC_REF_MAX + 1, "%s+%08x", k->name, k->id);
}

int px_source_key_copy(px_source_key *dst, const px_source_key *src, px_err *err) {
    return key_init(dst, src->name, src->alg, src->pk, src->pk_len, err);
}

void px_source_key_free(px_source_key *k) {
    if (k->ossl)
        EVP_PKEY_free(k->ossl);
    k->ossl = NULL;
}

void px_source_keys_free(px_source_key *keys, size_t n) {
    for (size_t i = 0; keys && i < n; i++)
        px_source_key_free(&keys[i]);
    free(keys);
}

/* One 64-byte signature of one digest (a record's or a batch's). */
int px_source_verify_digest(const px_source_key *k, const uint8_t digest[PX_SHA256_BYTES],
                            const uint8_t sig[PX_SRC_SIG_BYTES]) {
    if (k->alg == PX_SRC_ED25519)
        return px_sign_verify(sig, digest, PX_SHA256_BYTES, k->pk, NULL);
    if (k->alg == PX_SRC_P256 && k->ossl)
        return p256_verify(k->ossl, digest, sig);
    return -1;
}

int px_source_verify(const px_source_key *k, const uint8_t digest[PX_SHA256_BYTES], const uint8_t *sig,
                     size_t sig_len) {
    if (sig_len == PX_SRC_SIG_BYTES)
        return px_source_verify_digest(k, digest, sig);
    px_source_batch_sig b;
    uint8_t batch[PX_SHA256_BYTES];
    if (px_source_batch_parse(&b, sig, sig_len, NULL) || px_source_batch_digest_of(batch, &b, digest, NULL))
        return -1;
    return px_source_verify_digest(k, batch, b.sig);
}

/* ---- private keys -------------------------------------------------------- */

static int signer_from_secret(px_source_signer *s, const char *name, uint8_t alg, const uint8_t *secret,
                              px_err *err) {
    px_source_signer t;
    memset(&t, 0, sizeof t);
    uint8_t pub[P256_POINT_BYTES];
    if (alg == PX_SRC_ED25519) {
        px_sign_keypair kp;
        px_sign_from_seed(&kp, secret);
        memcpy(t.sk, kp.sk, sizeof kp.sk);
        int rc = key_init(&t.pub, name, alg, kp.pk, sizeof kp.pk, err);
        px_memzero(&kp, sizeof kp);
        if (rc)
            return -1;
    } else if (alg == PX_SRC_P256) {
        BIGNUM *priv = BN_secure_new();
        if (!priv || !BN_bin2bn(secret, P256_SCALAR_BYTES, priv)) {
            BN_clear_free(priv);
            return px_fail(err, PX_E_NOMEM, "out of memory reading a P-256 key");
        }
        if (p256_public_of(pub, priv, err) || key_init(&t.pub, name, alg, pub, sizeof pub, err)) {
            BN_clear_free(priv);
            return -1;
        }
        /* keep a key pair object for signing; the public one is replaced */
        EVP_PKEY *pair = p256_from_params(pub, priv, err);
        BN_clear_free(priv);
        if (!pair) {
            px_source_key_free(&t.pub);
            return -1;
        }
        EVP_PKEY_free(t.pub.ossl);
        t.pub.ossl = pair;
        memcpy(t.sk, secret, P256_SCALAR_BYTES);
    } else {
        return px_fail(err, PX_E_INVALID, "unsupported source key algorithm %u", alg);
    }
    *s = t;
    return 0;
}

int px_source_signer_generate(px_source_signer *s, const char *name, uint8_t alg, px_err *err) {
    uint8_t secret[P256_SCALAR_BYTES];
    int rc, tries = alg == PX_SRC_P256 ? 16 : 1; /* a P-256 scalar must be in [1, n) */
    do {
        px_random(secret, sizeof secret);
        rc = signer_from_secret(s, name, alg, secret, err);
    } while (rc && --tries > 0);
    px_memzero(secret, sizeof secret);
    return rc;
}

int px_source_signer_parse(px_source_signer *s, const char *text, size_t len, px_err *err) {
    len = trim_eol(text, len);
    if (len < PRIV_PREFIX_LEN || memcmp(text, PRIV_PREFIX, PRIV_PREFIX_LEN) != 0)
        return px_fail(err, PX_E_INVALID, "source private key: does not start with \"" PRIV_PREFIX "\"");
    char name[PX_KEY_NAME_MAX + 1];
    uint8_t raw[KEY_RAW_MAX];
    size_t rawlen;
    uint32_t id;
    if (split_key(text + PRIV_PREFIX_LEN, len - PRIV_PREFIX_LEN, name, &id, raw, &rawlen, err))
        return px_err_prefix(err, "private key: ");
    int rc = -1;
    if (rawlen != 1 + 32)
        px_fail(err, PX_E_INVALID, "source private key: secret must have 32 bytes");
    else if (signer_from_secret(s, name, raw[0], raw + 1, err) == 0) {
        if (s->pub.id == id)
            rc = 0;
        else {
            px_source_signer_free(s);
            px_fail(err, PX_E_VERIFY, "source private key: key id does not match the name and key");
        }
    }
    px_memzero(raw, sizeof raw);
    return rc;
}

int px_source_signer_load(px_source_signer *s, const char *path, px_err *err) {
    px_buf b = PX_BUF_INIT;
    int rc = px_file_read(path, KEY_FILE_MAX, &b, err);
    if (rc == 0 && (rc = px_source_signer_parse(s, (const char *)b.data, b.len, err)) != 0)
        px_err_prefix(err, "%s: ", path);
    px_buf_free(&b);
    return rc;
}

int px_source_signer_format(const px_source_signer *s, px_buf *out, px_err *err) {
    uint8_t raw[1 + 32];
    raw[0] = s->pub.alg;
    memcpy(raw + 1, s->sk, 32); /* Ed25519: the seed is the first half */
    size_t start = out->len;
    int rc = px_buf_printf(out, err, PRIV_PREFIX "%s+%08x+", s->pub.name, s->pub.id) ||
             px_buf_append_b64(out, raw, sizeof raw, err);
    px_memzero(raw, sizeof raw);
    if (rc)
        out->len = start;
    return rc ? -1 : 0;
}

int px_source_sign(const px_source_signer *s, const uint8_t digest[PX_SHA256_BYTES],
                   uint8_t sig[PX_SRC_SIG_BYTES], px_err *err) {
    if (s->pub.alg == PX_SRC_ED25519) {
        px_sign_keypair kp;
        memcpy(kp.sk, s->sk, sizeof kp.sk);
        memcpy(kp.pk, s->pub.pk, sizeof kp.pk);
        px_sign_detached(sig, digest, PX_SHA256_BYTES, &kp);
        px_memzero(&kp, sizeof kp);
        return 0;
    }
    if (s->pub.alg == PX_SRC_P256 && s->pub.ossl)
        return p256_sign(s->pub.ossl, digest, sig, err);
    return px_fail(err, PX_E_INVALID, "source key cannot sign");
}

int px_source_preload(px_err *err) {
    px_source_signer s;
    uint8_t digest[PX_SHA256_BYTES] = {0}, sig[PX_SRC_SIG_BYTES];
    if (px_source_signer_generate(&s, "preload", PX_SRC_P256, err))
        return -1;
    int rc = px_source_sign(&s, digest, sig, err);
    if (rc == 0 && px_source_verify(&s.pub, digest, sig, sizeof sig) != 0)
        rc = px_fail(err, PX_E_INTERNAL, "P-256 self-test failed");
    px_source_signer_free(&s);
    return rc;
}

void px_source_signer_free(px_source_signer *s) {
    px_source_key_free(&s->pub);
    px_memzero(s, sizeof *s);
}
