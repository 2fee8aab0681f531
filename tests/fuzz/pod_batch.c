/* Fuzz batch signatures (the batch form of px_sig): any bytes as a
 * record's signature are a verdict, never a crash; the prover's verifier,
 * whose cache of batch signatures is carried from input to input, gives
 * exactly the verdict of the one-off px_source_verify; and whatever
 * verifies in the batch form parses, with the path the tree needs.
 *
 * Input: one byte choosing the record digest (0-4: the five records the
 * fixed key below signed as one batch, digests SHA-256("fuzz record <i>");
 * anything else: the next 32 bytes), then the signature. The seeds are
 * those five records' batch signatures, a per-record signature, a batch of
 * one and a path one hash short, made by an independent implementation of
 * docs/formats.md (Python's hashlib and cryptography). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pixiu/log.h"
#include "pod/verifier.h"

static const char key_text[] = "PRIVATE+KEY+fuzz-source+b29ee44b+AdKPCvuIZONeCb6UUC4fG75rUh1AnhFJOlulnbOprccF";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static px_source_signer s;
    static px_source_verifier v;
    static uint8_t digests[5][PX_SHA256_BYTES];
    static int ready;
    if (!ready) {
        if (px_crypto_init(NULL) || px_source_signer_parse(&s, key_text, strlen(key_text), NULL) ||
            px_source_verifier_init(&v, &s.pub, 1, NULL))
            abort();
        for (int i = 0; i < 5; i++) {
            char m[32];
            snprintf(m, sizeof m, "fuzz record %d", i);
            px_sha256(digests[i], m, strlen(m));
        }
        ready = 1;
    }
    if (size < 1)
        return 0;
    const uint8_t *digest = data[0] < 5 ? digests[data[0]] : data + 1;
    size_t skip = data[0] < 5 ? 1 : 1 + PX_SHA256_BYTES;
    if (size < skip)
        return 0;
    const uint8_t *sig = data + skip;
    size_t len = size - skip;
    int one = px_source_verify(&s.pub, digest, sig, len);
    if (px_source_verifier_check(&v, 0, digest, sig, len) != one)
        abort(); /* the cache changed a verdict */
    px_source_batch_sig b;
    int parsed = px_source_batch_parse(&b, sig, len, NULL) == 0;
    if (parsed && (b.size < 1 || b.size > PX_SRC_BATCH_MAX || b.index >= b.size ||
                   b.npath != px_log_inclusion_proof_len(b.index, b.size) ||
                   len != PX_SRC_BATCH_FIXED + PX_SHA256_BYTES * b.npath || b.sig != sig))
        abort();
    if (one == 0 && len != PX_SRC_SIG_BYTES && !parsed)
        abort(); /* accepted something that is not a batch signature */
    return 0;
}
