/* Internal to src/pod: checking many records' signatures against the same
 * source keys (the data-prover). */
#ifndef PIXIU_POD_VERIFIER_H
#define PIXIU_POD_VERIFIER_H

#include <openssl/types.h>

#include "pixiu/pod.h"

/* One thread's verifier over an array of keys (borrowed; the caller keeps
 * them alive and unchanged). A P-256 key gets one OpenSSL verification
 * context, made when the first record it signed is checked and reused for
 * every later one. Not to be shared between threads: each thread has its
 * own, since an OpenSSL context is not thread-safe. */
typedef struct px_source_verifier {
    const px_source_key *keys;
    size_t nkeys;
    EVP_PKEY_CTX **ctx; /* one slot per key, NULL until first used; owned */
} px_source_verifier;

int px_source_verifier_init(px_source_verifier *v, const px_source_key *keys, size_t nkeys, px_err *err);
/* Exactly px_source_verify(&keys[i], ...): 0 if sig is the key's signature
 * of digest, -1 otherwise (a context that cannot be made is -1 too, as it
 * is for px_source_verify). */
int px_source_verifier_check(px_source_verifier *v, size_t i, const uint8_t digest[PX_SHA256_BYTES],
                             const uint8_t *sig, size_t sig_len);
void px_source_verifier_free(px_source_verifier *v);

/* The P-256 path both share, so that the one-shot and the cached checks
 * cannot disagree: a context ready to verify SHA-256 prehashes with pkey
 * (NULL if OpenSSL cannot make one), and one check with it. */
EVP_PKEY_CTX *px_source_p256_ctx(EVP_PKEY *pkey);
int px_source_p256_check(EVP_PKEY_CTX *ctx, const uint8_t digest[PX_SHA256_BYTES], const uint8_t *sig);

#endif
