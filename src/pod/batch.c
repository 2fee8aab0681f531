/* Batch signatures: one source signature over an RFC 9162 Merkle tree of
 * many records, each record carrying the signature and its own inclusion
 * proof (docs/formats.md). A record stays verifiable on its own, so the
 * prover's verdict per record is as exact as with one signature each, and
 * a verifier that has already checked a batch's signature need not check
 * it again for the batch's other records (src/pod/verifier.c).
 *
 * The tree, its proofs and their verification are the log's (src/log/
 * merkle.c): the leaf hash of a record is px_log_leaf_hash of its digest,
 * and the root a path leads to is px_log_root_from_inclusion's. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/log.h"
#include "pixiu/pod.h"

static uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

size_t px_source_batch_sig_len(uint32_t index, uint32_t size) {
    return PX_SRC_BATCH_FIXED + PX_SHA256_BYTES * px_log_inclusion_proof_len(index, size);
}

int px_source_batch_parse(px_source_batch_sig *b, const uint8_t *sig, size_t sig_len, px_err *err) {
    if (sig_len < PX_SRC_BATCH_FIXED || sig_len > PX_SRC_SIG_MAX)
        return px_fail(err, PX_E_INVALID, "a batch signature has %d to %d bytes, not %zu", PX_SRC_BATCH_FIXED,
                       PX_SRC_SIG_MAX, sig_len);
    uint32_t index = get_be32(sig + PX_SRC_SIG_BYTES), size = get_be32(sig + PX_SRC_SIG_BYTES + 4);
    if (size < 1 || size > PX_SRC_BATCH_MAX)
        return px_fail(err, PX_E_INVALID, "batch size %u is not 1 to %d", size, PX_SRC_BATCH_MAX);
    if (index >= size)
        return px_fail(err, PX_E_INVALID, "batch index %u is not below the batch size %u", index, size);
    /* The path's length follows from (index, size): a path one hash too
     * long or too short is malformed, not merely a failed check. */
    if (sig_len != px_source_batch_sig_len(index, size))
        return px_fail(err, PX_E_INVALID, "record %u of a batch of %u needs a path of %zu hashes, not %zu bytes",
                       index, size, px_log_inclusion_proof_len(index, size), sig_len - PX_SRC_BATCH_FIXED);
    b->sig = sig;
    b->index = index;
    b->size = size;
    b->path = sig + PX_SRC_BATCH_FIXED;
    b->npath = (sig_len - PX_SRC_BATCH_FIXED) / PX_SHA256_BYTES;
    return 0;
}

void px_source_batch_digest(uint8_t out[PX_SHA256_BYTES], uint32_t size, const uint8_t root[PX_SHA256_BYTES]) {
    uint8_t be[4];
    put_be32(be, size);
    const void *parts[3] = {PX_BATCH_DIGEST_TAG, be, root};
    size_t lens[3] = {PX_BATCH_DIGEST_TAG_LEN, sizeof be, PX_SHA256_BYTES};
    px_sha256_parts(out, 3, parts, lens);
}

int px_source_batch_digest_of(uint8_t out[PX_SHA256_BYTES], const px_source_batch_sig *b,
                              const uint8_t record_digest[PX_SHA256_BYTES], px_err *err) {
    uint8_t leaf[PX_SHA256_BYTES], root[PX_SHA256_BYTES];
    px_log_leaf_hash(leaf, record_digest, PX_SHA256_BYTES);
    if (px_log_root_from_inclusion(b->index, b->size, leaf, b->path, b->npath, root, err))
        return -1;
    px_source_batch_digest(out, b->size, root);
    return 0;
}

/* ---- signing ------------------------------------------------------------------ */

/* Level h of the tree holds the size >> h complete subtrees of height h,
 * left to right: every node an inclusion proof asks for (the incomplete
 * ones on the right edge are rebuilt from these by the log's code). */
static int batch_node(void *ctx, unsigned height, uint64_t index, uint8_t out[PX_SHA256_BYTES], px_err *err) {
    const px_source_batch *b = ctx;
    if (height > PX_SRC_BATCH_PATH_MAX || index >= (uint64_t)(b->size >> height))
        return px_fail(err, PX_E_INTERNAL, "batch tree of %u records has no node %llu at height %u", b->size,
                       (unsigned long long)index, height);
    memcpy(out, b->nodes + (b->level[height] + index) * PX_SHA256_BYTES, PX_SHA256_BYTES);
    return 0;
}

int px_source_batch_sign(px_source_batch *b, const px_source_signer *s, const uint8_t *digests, size_t n,
                         px_err *err) {
    memset(b, 0, sizeof *b);
    if (n < 1 || n > PX_SRC_BATCH_MAX)
        return px_fail(err, PX_E_INVALID, "a batch holds 1 to %d records, not %zu", PX_SRC_BATCH_MAX, n);
    /* n leaves, then n/2, n/4, ... nodes: fewer than 2n hashes in all */
    if (!(b->nodes = malloc(2 * n * PX_SHA256_BYTES)))
        return px_fail(err, PX_E_NOMEM, "out of memory for a batch of %zu records", n);
    b->size = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        px_log_leaf_hash(b->nodes + i * PX_SHA256_BYTES, digests + i * PX_SHA256_BYTES, PX_SHA256_BYTES);
    size_t at = n;
    for (unsigned h = 1; h <= PX_SRC_BATCH_PATH_MAX; h++) {
        b->level[h] = at;
        const uint8_t *below = b->nodes + b->level[h - 1] * PX_SHA256_BYTES;
        for (size_t j = 0; j < n >> h; j++, at++)
            px_log_node_hash(b->nodes + at * PX_SHA256_BYTES, below + 2 * j * PX_SHA256_BYTES,
                             below + (2 * j + 1) * PX_SHA256_BYTES);
    }
    uint8_t digest[PX_SHA256_BYTES];
    if (px_log_range_root(batch_node, b, 0, n, b->root, err))
        goto fail;
    px_source_batch_digest(digest, b->size, b->root);
    if (px_source_sign(s, digest, b->sig, err))
        goto fail;
    return 0;
fail:
    px_source_batch_free(b);
    return px_err_prefix(err, "signing a batch: ");
}

int px_source_batch_append_sig(const px_source_batch *b, uint32_t index, px_buf *out, px_err *err) {
    if (index >= b->size)
        return px_fail(err, PX_E_INVALID, "record %u is not in a batch of %u", index, b->size);
    uint8_t fixed[PX_SRC_BATCH_FIXED];
    memcpy(fixed, b->sig, PX_SRC_SIG_BYTES);
    put_be32(fixed + PX_SRC_SIG_BYTES, index);
    put_be32(fixed + PX_SRC_SIG_BYTES + 4, b->size);
    size_t start = out->len;
    if (px_buf_append(out, fixed, sizeof fixed, err) ||
        px_log_prove_inclusion(batch_node, (void *)b, index, b->size, out, err)) {
        out->len = start;
        return -1;
    }
    return 0;
}

void px_source_batch_free(px_source_batch *b) {
    free(b->nodes);
    memset(b, 0, sizeof *b);
}
