/* Hashes, randomness, Ed25519, X25519 sealed boxes and AEAD: libsodium,
 * named the PIXIU way; SHA-256 from OpenSSL.
 *
 * SHA-256 is OpenSSL's because libsodium's is portable C: on these
 * machines it hashes about 250 MB/s against OpenSSL's 1.4 GB/s (SHA
 * extensions), and a 64-byte Merkle node costs 0.6 µs against 0.25 µs.
 * Every body digest, sealed input, record digest and tree node pays it.
 * The low-level context is used, not EVP: it is a plain struct that fits
 * px_sha256_ctx's storage (no allocation, nothing to free), and EVP looks
 * the algorithm up again on every digest, which costs more than hashing a
 * tree node. OpenSSL 3 marks that API deprecated but keeps it. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <assert.h>
#include <string.h>

#include <openssl/sha.h>
#include <sodium.h>

#include "pixiu/crypto.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(px_sha256_ctx), "sha256 ctx too small");
_Static_assert(SHA256_DIGEST_LENGTH == PX_SHA256_BYTES, "sha256 bytes");
_Static_assert(crypto_sign_PUBLICKEYBYTES == PX_SIGN_PUBLICKEYBYTES, "sign pk");
_Static_assert(crypto_sign_SECRETKEYBYTES == PX_SIGN_SECRETKEYBYTES, "sign sk");
_Static_assert(crypto_sign_BYTES == PX_SIGN_BYTES, "sign bytes");
_Static_assert(crypto_box_SEALBYTES == PX_SEAL_OVERHEAD, "seal overhead");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == PX_AEAD_NONCEBYTES, "aead nonce");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == PX_AEAD_ABYTES, "aead tag");

int px_crypto_init(px_err *err) {
    if (sodium_init() < 0)
        return px_fail(err, PX_E_INTERNAL, "libsodium failed to initialise");
    return 0;
}

void px_sha256(uint8_t out[PX_SHA256_BYTES], const void *in, size_t n) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, in, n);
    SHA256_Final(out, &c);
}

void px_sha256_parts(uint8_t out[PX_SHA256_BYTES], size_t nparts, const void *const *parts,
                     const size_t *lens) {
    SHA256_CTX c;
    SHA256_Init(&c);
    for (size_t i = 0; i < nparts; i++)
        SHA256_Update(&c, parts[i], lens[i]);
    SHA256_Final(out, &c);
}

void px_sha256_init(px_sha256_ctx *c) {
    SHA256_Init((SHA256_CTX *)(void *)c->opaque);
}

void px_sha256_update(px_sha256_ctx *c, const void *in, size_t n) {
    SHA256_Update((SHA256_CTX *)(void *)c->opaque, in, n);
}

void px_sha256_final(px_sha256_ctx *c, uint8_t out[PX_SHA256_BYTES]) {
    SHA256_Final(out, (SHA256_CTX *)(void *)c->opaque);
}

void px_blake2b(uint8_t out[PX_BLAKE2B_BYTES], const void *in, size_t n) {
    crypto_generichash(out, PX_BLAKE2B_BYTES, in, n, NULL, 0);
}

void px_blake2b_keyed(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen, const void *a,
                      size_t alen, const void *b, size_t blen) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, keylen, outlen);
    crypto_generichash_update(&st, a, alen);
    crypto_generichash_update(&st, b, blen);
    crypto_generichash_final(&st, out, outlen);
    sodium_memzero(&st, sizeof st);
}

void px_random(void *out, size_t n) {
    randombytes_buf(out, n);
}

uint32_t px_random_uniform(uint32_t upper) {
    return randombytes_uniform(upper);
}

void px_stream_chacha20(uint8_t *out, size_t n, const uint8_t nonce[PX_STREAM_NONCEBYTES], uint32_t counter,
                        const uint8_t key[PX_STREAM_KEYBYTES]) {
    memset(out, 0, n);
    crypto_stream_chacha20_ietf_xor_ic(out, out, n, nonce, counter, key);
}

int px_ct_equal(const void *a, const void *b, size_t n) {
    return sodium_memcmp(a, b, n) == 0;
}

void px_memzero(void *p, size_t n) {
    sodium_memzero(p, n);
}

void px_sign_keygen(px_sign_keypair *kp) {
    crypto_sign_keypair(kp->pk, kp->sk);
}

void px_sign_from_seed(px_sign_keypair *kp, const uint8_t seed[PX_SIGN_SEEDBYTES]) {
    crypto_sign_seed_keypair(kp->pk, kp->sk, seed);
}

void px_sign_detached(uint8_t sig[PX_SIGN_BYTES], const void *m, size_t n, const px_sign_keypair *kp) {
    crypto_sign_detached(sig, NULL, m, n, kp->sk);
}

int px_sign_verify(const uint8_t sig[PX_SIGN_BYTES], const void *m, size_t n,
                   const uint8_t pk[PX_SIGN_PUBLICKEYBYTES], px_err *err) {
    if (crypto_sign_verify_detached(sig, m, n, pk) == 0)
        return 0;
    return px_fail(err, PX_E_VERIFY, "Ed25519 signature does not verify");
}

void px_box_keygen(px_box_keypair *kp) {
    crypto_box_keypair(kp->pk, kp->sk);
}

int px_seal(px_buf *out, const void *m, size_t n, const uint8_t pk[PX_BOX_PUBLICKEYBYTES], px_err *err) {
    if (px_buf_reserve(out, n + PX_SEAL_OVERHEAD, err))
        return -1;
    if (crypto_box_seal(out->data + out->len, m, n, pk) != 0)
        return px_fail(err, PX_E_INVALID, "cannot seal to this public key");
    out->len += n + PX_SEAL_OVERHEAD;
    return 0;
}

int px_seal_open(px_buf *out, const void *c, size_t n, const px_box_keypair *kp, px_err *err) {
    if (n < PX_SEAL_OVERHEAD)
        return px_fail(err, PX_E_INVALID, "sealed box of %zu bytes is shorter than its %d-byte overhead", n,
                       PX_SEAL_OVERHEAD);
    if (px_buf_reserve(out, n - PX_SEAL_OVERHEAD, err))
        return -1;
    if (crypto_box_seal_open(out->data + out->len, c, n, kp->pk, kp->sk) != 0)
        return px_fail(err, PX_E_VERIFY, "sealed box does not open with this key (wrong recipient or tampered)");
    out->len += n - PX_SEAL_OVERHEAD;
    return 0;
}

int px_aead_encrypt(px_buf *out, const void *m, size_t n, const void *ad, size_t adlen,
                    const uint8_t key[PX_AEAD_KEYBYTES], px_err *err) {
    if (px_buf_reserve(out, n + PX_AEAD_OVERHEAD, err))
        return -1;
    uint8_t *nonce = out->data + out->len;
    randombytes_buf(nonce, PX_AEAD_NONCEBYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + PX_AEAD_NONCEBYTES, &clen, m, n, ad, adlen, NULL, nonce,
                                               key);
    out->len += PX_AEAD_NONCEBYTES + (size_t)clen;
    return 0;
}

int px_aead_decrypt(px_buf *out, const void *c, size_t n, const void *ad, size_t adlen,
                    const uint8_t key[PX_AEAD_KEYBYTES], px_err *err) {
    if (n < PX_AEAD_OVERHEAD)
        return px_fail(err, PX_E_INVALID, "AEAD ciphertext of %zu bytes is shorter than its overhead", n);
    if (px_buf_reserve(out, n - PX_AEAD_OVERHEAD, err))
        return -1;
    const uint8_t *nonce = c;
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out->data + out->len, &mlen, NULL, nonce + PX_AEAD_NONCEBYTES,
                                                   n - PX_AEAD_NONCEBYTES, ad, adlen, nonce, key) != 0)
        return px_fail(err, PX_E_VERIFY, "AEAD ciphertext failed authentication (wrong key or tampered)");
    out->len += (size_t)mlen;
    return 0;
}
