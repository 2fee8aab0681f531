/* PIXIU crypto: hashes, signing and box keys, sealing, AEAD, randomness.
 *
 * A thin, named layer over libsodium: PIXIU never implements a primitive
 * itself. Key files use the signed-note key formats of the transparency
 * ecosystem (C2SP signed-note, golang.org/x/mod/sumdb/note):
 *
 *   private key:  PRIVATE+KEY+<name>+<hex keyid>+<base64(0x01 || seed)>
 *   verifier key: <name>+<hex keyid>+<base64(0x01 || pubkey)>
 *   keyid:        first 4 bytes of SHA-256(name || 0x0A || 0x01 || pubkey)
 */
#ifndef PIXIU_CRYPTO_H
#define PIXIU_CRYPTO_H

#include "pixiu/core.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

#define PX_SHA256_BYTES 32
#define PX_BLAKE2B_BYTES 32
#define PX_SIGN_PUBLICKEYBYTES 32
#define PX_SIGN_SECRETKEYBYTES 64
#define PX_SIGN_SEEDBYTES 32
#define PX_SIGN_BYTES 64
#define PX_BOX_PUBLICKEYBYTES 32
#define PX_BOX_SECRETKEYBYTES 32
#define PX_SEAL_OVERHEAD 48 /* crypto_box_SEALBYTES */
#define PX_AEAD_KEYBYTES 32
#define PX_AEAD_NONCEBYTES 24
#define PX_AEAD_ABYTES 16
#define PX_AEAD_OVERHEAD (PX_AEAD_NONCEBYTES + PX_AEAD_ABYTES)
#define PX_KEY_NAME_MAX 128
#define PX_ALG_ED25519 0x01 /* signed-note signature type byte */

/* Must be called once before any other function here (idempotent). */
int px_crypto_init(px_err *err);

/* ---- hashing ------------------------------------------------------------ */

void px_sha256(uint8_t out[PX_SHA256_BYTES], const void *in, size_t n);
/* SHA-256 over several parts, as if concatenated. */
void px_sha256_parts(uint8_t out[PX_SHA256_BYTES], size_t nparts,
                     const void *const *parts, const size_t *lens);
void px_blake2b(uint8_t out[PX_BLAKE2B_BYTES], const void *in, size_t n);
/* BLAKE2b with an outlen of 16..64 bytes, keyed by key (keylen 16..64, or
 * NULL and 0 for none), over a then b as if concatenated. */
void px_blake2b_keyed(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen, const void *a,
                      size_t alen, const void *b, size_t blen);

typedef struct px_sha256_ctx {
    PX_ALIGNAS(16) uint8_t opaque[128]; /* OpenSSL's SHA256_CTX */
} px_sha256_ctx;
void px_sha256_init(px_sha256_ctx *c);
void px_sha256_update(px_sha256_ctx *c, const void *in, size_t n);
void px_sha256_final(px_sha256_ctx *c, uint8_t out[PX_SHA256_BYTES]);

/* ---- randomness and memory ---------------------------------------------- */

void px_random(void *out, size_t n);     /* CSPRNG */
uint32_t px_random_uniform(uint32_t upper); /* unbiased in [0, upper) */
/* The ChaCha20 keystream (RFC 8439: 32-bit block counter, 96-bit nonce)
 * from block `counter` on: a public expansion of a seed, not encryption. */
#define PX_STREAM_KEYBYTES 32
#define PX_STREAM_NONCEBYTES 12
void px_stream_chacha20(uint8_t *out, size_t n, const uint8_t nonce[PX_STREAM_NONCEBYTES],
                        uint32_t counter, const uint8_t key[PX_STREAM_KEYBYTES]);
/* Constant-time equality, a predicate: 1 if equal, 0 otherwise. */
int px_ct_equal(const void *a, const void *b, size_t n);
void px_memzero(void *p, size_t n); /* not optimised away */

/* ---- Ed25519 signing ---------------------------------------------------- */

typedef struct px_sign_keypair {
    uint8_t pk[PX_SIGN_PUBLICKEYBYTES];
    uint8_t sk[PX_SIGN_SECRETKEYBYTES];
} px_sign_keypair;

void px_sign_keygen(px_sign_keypair *kp);
void px_sign_from_seed(px_sign_keypair *kp,
                       const uint8_t seed[PX_SIGN_SEEDBYTES]);
void px_sign_detached(uint8_t sig[PX_SIGN_BYTES], const void *m, size_t n,
                      const px_sign_keypair *kp);
/* 0 if sig is a valid signature of m by pk, else -1 with PX_E_VERIFY
 * (a check, like every function that takes a px_err; px_ct_equal is a
 * predicate: docs/architecture.md, "Names and results"). */
int px_sign_verify(const uint8_t sig[PX_SIGN_BYTES], const void *m, size_t n,
                   const uint8_t pk[PX_SIGN_PUBLICKEYBYTES], px_err *err);

/* ---- X25519 boxes: sealing to a public key ------------------------------ */

typedef struct px_box_keypair {
    uint8_t pk[PX_BOX_PUBLICKEYBYTES];
    uint8_t sk[PX_BOX_SECRETKEYBYTES];
} px_box_keypair;

void px_box_keygen(px_box_keypair *kp);
/* Anonymous sealed box (X25519 + XSalsa20-Poly1305); appends n+48 bytes. */
int px_seal(px_buf *out, const void *m, size_t n,
            const uint8_t pk[PX_BOX_PUBLICKEYBYTES], px_err *err);
int px_seal_open(px_buf *out, const void *c, size_t n, const px_box_keypair *kp,
                 px_err *err);

/* ---- hiding commitments to sealed payloads -------------------------------
 *
 * What a trust-λ hands on is sealed as "PXC1" || r || data with 32 fresh
 * random bytes r, and every public statement names it by the commitment
 * SHA-256("PIXIU-commit-v1\n" || r || data): whoever can open the box can
 * check it, whoever reads the log learns nothing about small data (r is
 * secret) and equal data of two tasks get unrelated digests
 * (docs/formats.md). */
#define PX_COMMIT_MAGIC "PXC1"
#define PX_COMMIT_RANDBYTES 32
#define PX_COMMIT_HEADERBYTES (4 + PX_COMMIT_RANDBYTES)

/* Fresh r for data, and the commitment to it. */
void px_commit_new(uint8_t r[PX_COMMIT_RANDBYTES], const void *data, size_t n,
                   uint8_t commit[PX_SHA256_BYTES]);
void px_commit_digest(uint8_t commit[PX_SHA256_BYTES], const uint8_t r[PX_COMMIT_RANDBYTES],
                      const void *data, size_t n);
/* Seal "PXC1" || r || data to pk (appends to out). */
int px_seal_committed(px_buf *out, const uint8_t r[PX_COMMIT_RANDBYTES], const void *data,
                      size_t n, const uint8_t pk[PX_BOX_PUBLICKEYBYTES], px_err *err);
/* Open such a box: out receives the data alone and commit its commitment.
 * A box that opens but lacks the header is PX_E_INVALID. */
int px_open_committed(px_buf *out, uint8_t commit[PX_SHA256_BYTES], const void *c, size_t n,
                      const px_box_keypair *kp, px_err *err);

/* XChaCha20-Poly1305 with a random nonce: out = nonce || ciphertext || tag. */
int px_aead_encrypt(px_buf *out, const void *m, size_t n, const void *ad,
                    size_t adlen, const uint8_t key[PX_AEAD_KEYBYTES],
                    px_err *err);
int px_aead_decrypt(px_buf *out, const void *c, size_t n, const void *ad,
                    size_t adlen, const uint8_t key[PX_AEAD_KEYBYTES],
                    px_err *err);

/* ---- named keys in signed-note format ----------------------------------- */

typedef struct px_signer {
    char name[PX_KEY_NAME_MAX + 1];
    uint32_t id;
    px_sign_keypair kp;
} px_signer;

typedef struct px_verifier {
    char name[PX_KEY_NAME_MAX + 1];
    uint32_t id;
    uint8_t pk[PX_SIGN_PUBLICKEYBYTES];
} px_verifier;

/* 1 if name is a valid key name: non-empty, at most PX_KEY_NAME_MAX bytes,
 * printable ASCII or UTF-8, no spaces and no '+'. */
int px_key_name_valid(const char *name, size_t len);
uint32_t px_key_id(const char *name, const uint8_t pk[PX_SIGN_PUBLICKEYBYTES]);

int px_signer_generate(px_signer *s, const char *name, px_err *err);
int px_signer_from_seed(px_signer *s, const char *name,
                        const uint8_t seed[PX_SIGN_SEEDBYTES], px_err *err);
/* Parse "PRIVATE+KEY+..." (one trailing newline allowed). */
int px_signer_parse(px_signer *s, const char *text, size_t len, px_err *err);
int px_signer_format(const px_signer *s, px_buf *out, px_err *err);
int px_signer_load(px_signer *s, const char *path, px_err *err);
void px_signer_verifier(const px_signer *s, px_verifier *v);
void px_signer_wipe(px_signer *s);

int px_verifier_parse(px_verifier *v, const char *text, size_t len,
                      px_err *err);
int px_verifier_format(const px_verifier *v, px_buf *out, px_err *err);
/* arg is either a verifier-key string or the path of a file holding one. */
int px_verifier_load(px_verifier *v, const char *arg, px_err *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
