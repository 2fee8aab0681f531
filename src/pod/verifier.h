/* Internal to src/pod: checking many records' signatures against the same
 * source keys (the data-prover). */
#ifndef PIXIU_POD_VERIFIER_H
#define PIXIU_POD_VERIFIER_H

#include <openssl/types.h>

#include "pixiu/pod.h"

/* Batch signatures a verifier remembers per key: a batch's records mostly
 * come one after another, and a few sources may interleave theirs. */
#define PX_VERIFIER_BATCHES 4

/* A batch signature already checked: the batch digest the record's path
 * led to, the signature bytes, and the verdict. Compared in full, never by
 * a hash or a prefix of them, so a hit gives exactly the verdict a fresh
 * check of the same digest and signature would. */
typedef struct px_batch_seen {
    uint8_t digest[PX_SHA256_BYTES];
    uint8_t sig[PX_SRC_SIG_BYTES];
    int rc; /* what px_source_verify_digest said: 0 or -1 */
} px_batch_seen;

typedef struct px_batch_cache {
    px_batch_seen seen[PX_VERIFIER_BATCHES];
    unsigned n, next; /* slots filled; the one the next new batch replaces */
} px_batch_cache;

/* One thread's verifier over an array of keys (borrowed; the caller keeps
 * them alive and unchanged). A P-256 key gets one OpenSSL verification
 * context, made when the first record it signed is checked and reused for
 * every later one, and a key that signed batches a cache of the last few
 * batch signatures checked, so that a batch's signature is verified once
 * rather than once per record. Not to be shared between threads: each
 * thread has its own, since an OpenSSL context is not thread-safe. */
typedef struct px_source_verifier {
    const px_source_key *keys;
    size_t nkeys;
    EVP_PKEY_CTX **ctx;      /* one slot per key, NULL until first used; owned */
    px_batch_cache **batches; /* one slot per key, NULL until its first batch; owned */
} px_source_verifier;

int px_source_verifier_init(px_source_verifier *v, const px_source_key *keys, size_t nkeys, px_err *err);
/* Exactly px_source_verify(&keys[i], ...): 0 if sig is the key's signature
 * of the record digest (either form), -1 otherwise (a context that cannot
 * be made is -1 too, as it is for px_source_verify). */
int px_source_verifier_check(px_source_verifier *v, size_t i, const uint8_t digest[PX_SHA256_BYTES],
                             const uint8_t *sig, size_t sig_len);
void px_source_verifier_free(px_source_verifier *v);

/* One 64-byte signature by k of a record's or a batch's digest, with a
 * context of its own for P-256 (src/pod/source.c). */
int px_source_verify_digest(const px_source_key *k, const uint8_t digest[PX_SHA256_BYTES],
                            const uint8_t sig[PX_SRC_SIG_BYTES]);

/* The P-256 path both share, so that the one-shot and the cached checks
 * cannot disagree: a context ready to verify SHA-256 prehashes with pkey
 * (NULL if OpenSSL cannot make one), and one check with it. */
EVP_PKEY_CTX *px_source_p256_ctx(EVP_PKEY *pkey);
int px_source_p256_check(EVP_PKEY_CTX *ctx, const uint8_t digest[PX_SHA256_BYTES], const uint8_t *sig);

#endif
