/* RFC 6962 / RFC 9162 Merkle tree hashing, proof generation (2.1.3.1,
 * 2.1.4.1) and proof verification (2.1.3.2, 2.1.4.2).
 *
 * Generation works over any store that can name the hash of a complete
 * (power-of-two, aligned) subtree: the caller passes a px_log_node_fn. The
 * incomplete subtrees on the right edge of a tree are rebuilt from complete
 * ones, so a proof costs O(log n) node look-ups.
 */
#include <string.h>

#include "pixiu/log.h"

static const uint8_t LEAF_PREFIX = 0x00, NODE_PREFIX = 0x01;

void px_log_leaf_hash(uint8_t out[PX_LOG_HASH_BYTES], const void *entry, size_t n) {
    const void *parts[2] = {&LEAF_PREFIX, entry};
    size_t lens[2] = {1, n};
    px_sha256_parts(out, 2, parts, lens);
}

void px_log_node_hash(uint8_t out[PX_LOG_HASH_BYTES], const uint8_t left[PX_LOG_HASH_BYTES],
                      const uint8_t right[PX_LOG_HASH_BYTES]) {
    uint8_t in[1 + 2 * PX_LOG_HASH_BYTES];
    in[0] = NODE_PREFIX;
    memcpy(in + 1, left, PX_LOG_HASH_BYTES);
    memcpy(in + 1 + PX_LOG_HASH_BYTES, right, PX_LOG_HASH_BYTES);
    px_sha256(out, in, sizeof in);
}

void px_log_empty_root(uint8_t out[PX_LOG_HASH_BYTES]) { px_sha256(out, "", 0); }

/* Largest power of two strictly less than n (n >= 2). */
static uint64_t split_point(uint64_t n) {
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

static int is_pow2(uint64_t n) { return n && !(n & (n - 1)); }

static unsigned log2u(uint64_t n) {
    unsigned h = 0;
    while ((1ull << h) < n)
        h++;
    return h;
}

void px_log_root_from_hashes(uint8_t out[PX_LOG_HASH_BYTES], const uint8_t *hashes, uint64_t n) {
    if (n == 0) {
        px_log_empty_root(out);
        return;
    }
    if (n == 1) {
        memcpy(out, hashes, PX_LOG_HASH_BYTES);
        return;
    }
    uint64_t k = split_point(n);
    uint8_t l[PX_LOG_HASH_BYTES], r[PX_LOG_HASH_BYTES];
    px_log_root_from_hashes(l, hashes, k);
    px_log_root_from_hashes(r, hashes + k * PX_LOG_HASH_BYTES, n - k);
    px_log_node_hash(out, l, r);
}

int px_log_range_root(px_log_node_fn node, void *ctx, uint64_t lo, uint64_t hi,
                      uint8_t out[PX_LOG_HASH_BYTES], px_err *err) {
    if (hi <= lo)
        return px_fail(err, PX_E_INTERNAL, "merkle: empty range %llu..%llu",
                       (unsigned long long)lo, (unsigned long long)hi);
    uint64_t n = hi - lo;
    if (is_pow2(n) && lo % n == 0) {
        unsigned h = log2u(n);
        return node(ctx, h, lo >> h, out, err);
    }
    /* The left part of an RFC 6962 split is always complete, so this
     * recursion only walks down the right edge. */
    uint64_t k = split_point(n);
    uint8_t l[PX_LOG_HASH_BYTES], r[PX_LOG_HASH_BYTES];
    if (px_log_range_root(node, ctx, lo, lo + k, l, err) ||
        px_log_range_root(node, ctx, lo + k, hi, r, err))
        return -1;
    px_log_node_hash(out, l, r);
    return 0;
}

/* Proof hashes are found top-down and emitted bottom-up: collect, then
 * reverse into out. */
typedef struct proof_acc {
    uint8_t h[PX_LOG_MAX_PROOF][PX_LOG_HASH_BYTES];
    size_t n;
} proof_acc;

static int acc_push(proof_acc *a, px_log_node_fn node, void *ctx, uint64_t lo, uint64_t hi,
                    px_err *err) {
    if (a->n == PX_LOG_MAX_PROOF)
        return px_fail(err, PX_E_INTERNAL, "merkle: proof longer than %d hashes", PX_LOG_MAX_PROOF);
    return px_log_range_root(node, ctx, lo, hi, a->h[a->n++], err);
}

static int acc_emit(const proof_acc *a, px_buf *out, px_err *err) {
    for (size_t i = a->n; i-- > 0;)
        if (px_buf_append(out, a->h[i], PX_LOG_HASH_BYTES, err))
            return -1;
    return 0;
}

int px_log_prove_inclusion(px_log_node_fn node, void *ctx, uint64_t index, uint64_t size,
                           px_buf *out, px_err *err) {
    if (index >= size)
        return px_fail(err, PX_E_INVALID, "inclusion proof: index %llu is not below tree size %llu",
                       (unsigned long long)index, (unsigned long long)size);
    proof_acc a;
    a.n = 0;
    uint64_t lo = 0, hi = size;
    while (hi - lo > 1) {
        uint64_t k = split_point(hi - lo);
        if (index < lo + k) {
            if (acc_push(&a, node, ctx, lo + k, hi, err))
                return -1;
            hi = lo + k;
        } else {
            if (acc_push(&a, node, ctx, lo, lo + k, err))
                return -1;
            lo += k;
        }
    }
    size_t start = out->len;
    if (acc_emit(&a, out, err)) {
        out->len = start;
        return -1;
    }
    return 0;
}

int px_log_prove_consistency(px_log_node_fn node, void *ctx, uint64_t size1, uint64_t size2,
                             px_buf *out, px_err *err) {
    if (size1 == 0 || size1 > size2)
        return px_fail(err, PX_E_INVALID, "consistency proof: sizes %llu and %llu are not 0 < size1 <= size2",
                       (unsigned long long)size1, (unsigned long long)size2);
    proof_acc a;
    a.n = 0;
    uint64_t lo = 0, hi = size2, m = size1;
    int whole = 1; /* RFC 9162 SUBPROOF's b: still on the original tree's left spine */
    while (m < hi) {
        uint64_t k = split_point(hi - lo);
        if (m <= lo + k) {
            if (acc_push(&a, node, ctx, lo + k, hi, err))
                return -1;
            hi = lo + k;
        } else {
            if (acc_push(&a, node, ctx, lo, lo + k, err))
                return -1;
            lo += k;
            whole = 0;
        }
    }
    if (!whole && acc_push(&a, node, ctx, lo, hi, err))
        return -1;
    size_t start = out->len;
    if (acc_emit(&a, out, err)) {
        out->len = start;
        return -1;
    }
    return 0;
}

/* Bits needed to write n (0 for 0). */
static unsigned bit_len(uint64_t n) {
    unsigned b = 0;
    for (; n; n >>= 1)
        b++;
    return b;
}

static unsigned popcount64(uint64_t n) {
    unsigned c = 0;
    for (; n; n &= n - 1)
        c++;
    return c;
}

size_t px_log_inclusion_proof_len(uint64_t index, uint64_t size) {
    if (index >= size)
        return 0;
    unsigned inner = bit_len(index ^ (size - 1));
    return inner + popcount64(inner < 64 ? index >> inner : 0);
}

/* RFC 9162 2.1.3.2, arranged as in transparency-dev/merkle: the paths from
 * the root to index and to size-1 share all but their lowest `inner`
 * levels, so the proof is `inner` siblings climbing from the leaf (left or
 * right as the index's bits say) and then one left sibling per set bit of
 * index above them (the tree's right border). Its length is therefore
 * known before anything is hashed, and a proof of the wrong length is
 * refused at once. Each level is hashed from one buffer on the stack,
 * "0x01 || left || right", filled in place: no allocation, no encoding,
 * nothing but the SHA-256 work the proof requires. */
int px_log_root_from_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[PX_LOG_HASH_BYTES],
                               const uint8_t *proof, size_t nproof, uint8_t root[PX_LOG_HASH_BYTES], px_err *err) {
    if (index >= size)
        return px_fail(err, PX_E_VERIFY, "inclusion: index %llu is not below tree size %llu",
                       (unsigned long long)index, (unsigned long long)size);
    unsigned inner = bit_len(index ^ (size - 1));
    size_t want = px_log_inclusion_proof_len(index, size);
    if (nproof > want)
        return px_fail(err, PX_E_VERIFY, "inclusion: proof has %zu hashes, more than the tree needs (%zu)", nproof,
                       want);
    if (nproof < want)
        return px_fail(err, PX_E_VERIFY, "inclusion: proof has %zu hashes, fewer than the tree needs (%zu)", nproof,
                       want);
    enum { H = PX_LOG_HASH_BYTES };
    uint8_t node[1 + 2 * H], r[H];
    node[0] = NODE_PREFIX;
    memcpy(r, leaf, H);
    for (size_t i = 0; i < want; i++) {
        /* Inner levels: the index's bit says which side the running hash
         * is on. Border levels: the sibling is always on the left. */
        int right = i >= inner || ((index >> i) & 1);
        memcpy(node + 1 + (right ? H : 0), r, H);
        memcpy(node + 1 + (right ? 0 : H), proof + i * H, H);
        px_sha256(r, node, sizeof node);
    }
    memcpy(root, r, H);
    return 0;
}

int px_log_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf[PX_LOG_HASH_BYTES],
                            const uint8_t *proof, size_t nproof,
                            const uint8_t root[PX_LOG_HASH_BYTES], px_err *err) {
    uint8_t r[PX_LOG_HASH_BYTES];
    if (px_log_root_from_inclusion(index, size, leaf, proof, nproof, r, err))
        return -1;
    if (!px_ct_equal(r, root, PX_LOG_HASH_BYTES))
        return px_fail(err, PX_E_VERIFY, "inclusion: proof does not lead to the root hash");
    return 0;
}

int px_log_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[PX_LOG_HASH_BYTES],
                              const uint8_t root2[PX_LOG_HASH_BYTES], const uint8_t *proof,
                              size_t nproof, px_err *err) {
    if (size2 < size1)
        return px_fail(err, PX_E_VERIFY, "consistency: size1 %llu is larger than size2 %llu",
                       (unsigned long long)size1, (unsigned long long)size2);
    if (size1 == 0)
        return px_fail(err, PX_E_VERIFY, "consistency: a proof from the empty tree proves nothing");
    if (size1 == size2) {
        if (nproof)
            return px_fail(err, PX_E_VERIFY, "consistency: equal sizes need an empty proof");
        if (!px_ct_equal(root1, root2, PX_LOG_HASH_BYTES))
            return px_fail(err, PX_E_VERIFY, "consistency: same size %llu, different roots (a fork)",
                           (unsigned long long)size1);
        return 0;
    }
    if (nproof == 0)
        return px_fail(err, PX_E_VERIFY, "consistency: empty proof for different sizes");
    /* When size1 is a power of two its root is itself the first hash. */
    size_t i = 0;
    uint8_t fr[PX_LOG_HASH_BYTES], sr[PX_LOG_HASH_BYTES];
    if (is_pow2(size1)) {
        memcpy(fr, root1, sizeof fr);
    } else {
        memcpy(fr, proof, sizeof fr);
        i = 1;
    }
    memcpy(sr, fr, sizeof sr);
    uint64_t fn = size1 - 1, sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    for (; i < nproof; i++) {
        const uint8_t *c = proof + i * PX_LOG_HASH_BYTES;
        if (sn == 0)
            return px_fail(err, PX_E_VERIFY, "consistency: proof has %zu hashes, more than needed", nproof);
        if ((fn & 1) || fn == sn) {
            px_log_node_hash(fr, c, fr);
            px_log_node_hash(sr, c, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            px_log_node_hash(sr, sr, c);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return px_fail(err, PX_E_VERIFY, "consistency: proof has %zu hashes, fewer than needed", nproof);
    if (!px_ct_equal(fr, root1, PX_LOG_HASH_BYTES))
        return px_fail(err, PX_E_VERIFY, "consistency: proof does not lead to the old root");
    if (!px_ct_equal(sr, root2, PX_LOG_HASH_BYTES))
        return px_fail(err, PX_E_VERIFY, "consistency: proof does not lead to the new root");
    return 0;
}
