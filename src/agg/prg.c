/* Seeds and masks: the pairwise seed from an X25519 agreement, the
 * commitment to a self-mask seed, and the keystreams added to an update.
 *
 * A mask is ChaCha20 (IETF, nonce 0) keyed by a seed used for one mask
 * only: every seed is bound to the manifest and the round, so reusing the
 * zero nonce never repeats a keystream. Streams are generated a chunk at a
 * time at the right block counter, all of them per chunk, so the update is
 * read and written once while the keystream stays in the L1 cache. */
#include "agg/agg_int.h"

int agg_pair_seed(const px_agg_params *p, const uint8_t sk_u[32], const uint8_t pk_u[32],
                  const uint8_t pk_v[32], uint8_t seed[32]) {
    uint8_t shared[crypto_scalarmult_BYTES], ctx[AGG_CTX_BYTES];
    if (crypto_scalarmult(shared, sk_u, pk_v) != 0)
        return -1;
    agg_ctx(p, ctx);
    /* Both ends hash the keys in the same (sorted) order, so s_uv = s_vu. */
    int lo = memcmp(pk_u, pk_v, 32) < 0;
    static const char label[] = "PIXIU-secagg-pair-v1";
    const void *parts[] = {label, ctx, shared, lo ? pk_u : pk_v, lo ? pk_v : pk_u};
    const size_t lens[] = {sizeof label - 1, sizeof ctx, sizeof shared, 32, 32};
    px_sha256_parts(seed, 5, parts, lens);
    sodium_memzero(shared, sizeof shared);
    return 0;
}

void agg_self_commit(const px_agg_params *p, uint32_t u, const uint8_t b[32], uint8_t out[32]) {
    uint8_t ctx[AGG_CTX_BYTES], ub[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    agg_ctx(p, ctx);
    static const char label[] = "PIXIU-secagg-self-v1";
    const void *parts[] = {label, ctx, ub, b};
    const size_t lens[] = {sizeof label - 1, sizeof ctx, 4, 32};
    px_sha256_parts(out, 4, parts, lens);
}

void agg_streams_apply(uint32_t *acc, size_t first, size_t count, const agg_stream *s, size_t ns) {
    static const uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES];
    /* libsodium offers a keystream at a block counter only as an xor:
     * xor zeros (read-only, shared, cheaper than clearing ks each time). */
    static const uint8_t zero[AGG_CHUNK_WORDS * 4];
    uint32_t ks[AGG_CHUNK_WORDS];
    for (size_t done = 0; done < count; done += AGG_CHUNK_WORDS) {
        size_t m = count - done < AGG_CHUNK_WORDS ? count - done : AGG_CHUNK_WORDS;
        /* Keystream bytes 4*(first+done) onwards: a 64-byte block holds 16
         * words, and first is a multiple of 16. */
        uint32_t ic = (uint32_t)((first + done) / 16);
        uint32_t *a = acc + done;
        for (size_t j = 0; j < ns; j++) {
            crypto_stream_chacha20_ietf_xor_ic((uint8_t *)ks, zero, m * 4, nonce, ic, s[j].key);
            /* Words are little-endian; on a big-endian host swap them. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            for (size_t i = 0; i < m; i++)
                ks[i] = __builtin_bswap32(ks[i]);
#endif
            if (s[j].sign > 0)
                for (size_t i = 0; i < m; i++)
                    a[i] += ks[i];
            else
                for (size_t i = 0; i < m; i++)
                    a[i] -= ks[i];
        }
    }
    sodium_memzero(ks, sizeof ks);
}
