/* Hiding commitments to sealed payloads (see pixiu/crypto.h).
 *
 * Binding rests on SHA-256's collision resistance; hiding on r being 32
 * secret random bytes that only the sealed box carries. The domain tag keeps
 * these digests apart from every other SHA-256 PIXIU computes. */
#include <string.h>

#include "pixiu/crypto.h"

static const char commit_tag[] = "PIXIU-commit-v1\n";

void px_commit_digest(uint8_t commit[PX_SHA256_BYTES], const uint8_t r[PX_COMMIT_RANDBYTES], const void *data,
                      size_t n) {
    const void *parts[3] = {commit_tag, r, data};
    size_t lens[3] = {sizeof commit_tag - 1, PX_COMMIT_RANDBYTES, n};
    px_sha256_parts(commit, 3, parts, lens);
}

void px_commit_new(uint8_t r[PX_COMMIT_RANDBYTES], const void *data, size_t n, uint8_t commit[PX_SHA256_BYTES]) {
    px_random(r, PX_COMMIT_RANDBYTES);
    px_commit_digest(commit, r, data, n);
}

int px_seal_committed(px_buf *out, const uint8_t r[PX_COMMIT_RANDBYTES], const void *data, size_t n,
                      const uint8_t pk[PX_BOX_PUBLICKEYBYTES], px_err *err) {
    px_buf m = PX_BUF_INIT;
    int rc = px_buf_append(&m, PX_COMMIT_MAGIC, 4, err) || px_buf_append(&m, r, PX_COMMIT_RANDBYTES, err) ||
                     px_buf_append(&m, data, n, err) || px_seal(out, m.data, m.len, pk, err)
                 ? -1
                 : 0;
    px_buf_free(&m); /* wipes the plaintext copy */
    return rc;
}

int px_open_committed(px_buf *out, uint8_t commit[PX_SHA256_BYTES], const void *c, size_t n,
                      const px_box_keypair *kp, px_err *err) {
    size_t start = out->len;
    if (px_seal_open(out, c, n, kp, err))
        return -1;
    uint8_t *p = out->data + start;
    size_t len = out->len - start;
    if (len < PX_COMMIT_HEADERBYTES || memcmp(p, PX_COMMIT_MAGIC, 4) != 0) {
        px_memzero(p, len);
        out->len = start;
        return px_fail(err, PX_E_INVALID, "sealed payload lacks its \"" PX_COMMIT_MAGIC "\" commitment header");
    }
    px_commit_digest(commit, p + 4, p + PX_COMMIT_HEADERBYTES, len - PX_COMMIT_HEADERBYTES);
    memmove(p, p + PX_COMMIT_HEADERBYTES, len - PX_COMMIT_HEADERBYTES);
    px_memzero(p + len - PX_COMMIT_HEADERBYTES, PX_COMMIT_HEADERBYTES);
    out->len -= PX_COMMIT_HEADERBYTES;
    return 0;
}
