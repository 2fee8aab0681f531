/* Checking the signatures of many records against the same source keys.
 *
 * What a P-256 check costs besides the verification itself is kept out of
 * the per-record path: the key was parsed once, when the prover's config
 * was (px_source_key holds the EVP_PKEY), and the verification context is
 * made once per key and thread, not per record. A fresh context per record
 * costs about 4 % of a verification on one thread and 8 % on two, since
 * OpenSSL 3.0 fetches the algorithm under a lock each time (bench/pod.c,
 * docs/pod.md). The signature is re-encoded as DER for OpenSSL on the
 * stack; that costs well under 1 %.
 *
 * A record in the batch form costs its path (a dozen SHA-256 blocks for a
 * batch of a thousand) and, the first time this thread sees its batch, the
 * verification of the batch's signature; later records of the batch find
 * that verdict in the key's cache. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "pod/verifier.h"

/* DER of two INTEGERs of at most 33 bytes each inside a SEQUENCE. */
#define P256_DER_MAX 72

EVP_PKEY_CTX *px_source_p256_ctx(EVP_PKEY *pkey) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx && (EVP_PKEY_verify_init(ctx) != 1 || EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1)) {
        EVP_PKEY_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* OpenSSL's verify is stateless between calls once the context is set up
 * (the provider keeps only the key and the digest size), so one context
 * serves any number of records. */
int px_source_p256_check(EVP_PKEY_CTX *ctx, const uint8_t digest[PX_SHA256_BYTES], const uint8_t *sig) {
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    uint8_t der[P256_DER_MAX], *p = der;
    int ok = 0;
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es now */
        int derlen = i2d_ECDSA_SIG(es, NULL);
        ok = derlen > 0 && derlen <= P256_DER_MAX && i2d_ECDSA_SIG(es, &p) == derlen &&
             EVP_PKEY_verify(ctx, der, (size_t)derlen, digest, PX_SHA256_BYTES) == 1;
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return ok ? 0 : -1;
}

int px_source_verifier_init(px_source_verifier *v, const px_source_key *keys, size_t nkeys, px_err *err) {
    memset(v, 0, sizeof *v);
    v->ctx = calloc(nkeys ? nkeys : 1, sizeof *v->ctx);
    v->batches = calloc(nkeys ? nkeys : 1, sizeof *v->batches);
    if (!v->ctx || !v->batches) {
        free(v->ctx);
        free(v->batches);
        v->ctx = NULL;
        v->batches = NULL;
        return px_fail(err, PX_E_NOMEM, "out of memory for the signature verifier");
    }
    v->keys = keys;
    v->nkeys = nkeys;
    return 0;
}

/* A 64-byte signature of one digest by key i: px_source_verify_digest, with
 * this thread's context for P-256. */
static int check_digest(px_source_verifier *v, size_t i, const uint8_t digest[PX_SHA256_BYTES],
                        const uint8_t *sig) {
    const px_source_key *k = &v->keys[i];
    if (k->alg != PX_SRC_P256)
        return px_source_verify_digest(k, digest, sig);
    if (!k->ossl)
        return -1;
    if (!v->ctx[i] && !(v->ctx[i] = px_source_p256_ctx(k->ossl)))
        return -1;
    return px_source_p256_check(v->ctx[i], digest, sig);
}

static int check_batch(px_source_verifier *v, size_t i, const uint8_t digest[PX_SHA256_BYTES], const uint8_t *sig,
                       size_t sig_len) {
    px_source_batch_sig b;
    uint8_t batch[PX_SHA256_BYTES];
    if (px_source_batch_parse(&b, sig, sig_len, NULL) || px_source_batch_digest_of(batch, &b, digest, NULL))
        return -1;
    /* Without memory for a cache the check is merely uncached. */
    if (!v->batches[i] && !(v->batches[i] = calloc(1, sizeof *v->batches[i])))
        return check_digest(v, i, batch, b.sig) == 0 ? 0 : -1;
    px_batch_cache *c = v->batches[i];
    for (unsigned j = 0; j < c->n; j++)
        if (!memcmp(c->seen[j].digest, batch, sizeof batch) && !memcmp(c->seen[j].sig, b.sig, PX_SRC_SIG_BYTES))
            return c->seen[j].rc;
    /* A failure is remembered as a failure: the same digest and signature
     * always get the same verdict, cached or not. Only a check that could
     * not be made (no OpenSSL context) is not remembered. */
    int rc = check_digest(v, i, batch, b.sig) == 0 ? 0 : -1;
    if (v->keys[i].alg == PX_SRC_P256 && !v->ctx[i])
        return rc;
    px_batch_seen *s = &c->seen[c->next];
    s->rc = rc;
    memcpy(s->digest, batch, sizeof batch);
    memcpy(s->sig, b.sig, PX_SRC_SIG_BYTES);
    c->next = (c->next + 1) % PX_VERIFIER_BATCHES;
    if (c->n < PX_VERIFIER_BATCHES)
        c->n++;
    return s->rc;
}

int px_source_verifier_check(px_source_verifier *v, size_t i, const uint8_t digest[PX_SHA256_BYTES],
                             const uint8_t *sig, size_t sig_len) {
    if (sig_len == PX_SRC_SIG_BYTES)
        return check_digest(v, i, digest, sig);
    return check_batch(v, i, digest, sig, sig_len);
}

void px_source_verifier_free(px_source_verifier *v) {
    for (size_t i = 0; v->ctx && i < v->nkeys; i++)
        EVP_PKEY_CTX_free(v->ctx[i]);
    for (size_t i = 0; v->batches && i < v->nkeys; i++)
        free(v->batches[i]);
    free(v->ctx);
    free(v->batches);
    memset(v, 0, sizeof *v);
}
