/* Serving after the step: an instance of a kind with a `serve` function
 * (PIR) answers requests once its ok step was released, each response
 * signed by the instance key, until the config's deadline. The step's
 * guarantees carry over: what it serves from is what its logged proof
 * names (the output commitment), and nothing leaves after the deadline.
 * Requests are not logged: a PIR query is meant to leave no trace of which
 * row it asked for, and its count and timing would be all a log could add. */
#include <string.h>

#include "lambda/step_internal.h"

#define SERVE_TAG "PIXIU-serve-v1\n"

static void serve_digest_hashed(uint8_t out[PX_SHA256_BYTES], const uint8_t manifest[PX_SHA256_BYTES],
                                const uint8_t commit[PX_SHA256_BYTES], const uint8_t dq[PX_SHA256_BYTES],
                                const uint8_t *resp, size_t resp_len) {
    uint8_t dr[PX_SHA256_BYTES];
    px_sha256(dr, resp, resp_len);
    const void *parts[5] = {SERVE_TAG, manifest, commit, dq, dr};
    size_t lens[5] = {sizeof SERVE_TAG - 1, PX_SHA256_BYTES, PX_SHA256_BYTES, PX_SHA256_BYTES, PX_SHA256_BYTES};
    px_sha256_parts(out, 5, parts, lens);
}

static void serve_digest(uint8_t out[PX_SHA256_BYTES], const uint8_t manifest[PX_SHA256_BYTES],
                         const uint8_t commit[PX_SHA256_BYTES], const uint8_t *req, size_t req_len,
                         const uint8_t *resp, size_t resp_len) {
    uint8_t dq[PX_SHA256_BYTES];
    px_sha256(dq, req, req_len);
    serve_digest_hashed(out, manifest, commit, dq, resp, resp_len);
}

int px_lambda_serving(const px_lambda *l) {
    return l->serve_state != NULL && (!l->config.deadline || px_now_ms() <= l->config.deadline);
}

int px_lambda_serve(px_lambda *l, const uint8_t *req, size_t len, px_buf *resp, uint8_t sig[PX_SIGN_BYTES],
                    px_err *err) {
    if (!l->serve_state || !l->kind->serve)
        return px_fail(err, PX_E_STATE, "the instance serves no requests (its kind does not, or its step did not "
                                        "release an output)");
    if (l->config.deadline && px_now_ms() > l->config.deadline)
        return px_fail(err, PX_E_DENIED, "the manifest's deadline (%lld) has passed: the instance answers nothing",
                       (long long)l->config.deadline);
    if (len > PX_SERVE_MAX_REQUEST)
        return px_fail(err, PX_E_LIMIT, "a request of %zu bytes is over %u", len, PX_SERVE_MAX_REQUEST);
    px_buf out = PX_BUF_INIT;
    if (l->kind->serve(l->serve_state, l->serve_commit, req, len, &out, err)) {
        px_buf_free(&out);
        return -1;
    }
    uint8_t d[PX_SHA256_BYTES];
    serve_digest(d, l->config.manifest, l->serve_commit, req, len, out.data, out.len);
    px_sign_detached(sig, d, sizeof d, &l->signer.kp);
    int rc = px_buf_append(resp, out.data, out.len, err);
    px_buf_free(&out);
    return rc;
}

int px_serve_verify_hashed(const uint8_t sig[PX_SIGN_BYTES], const uint8_t manifest[PX_SHA256_BYTES],
                           const uint8_t output_commit[PX_SHA256_BYTES], const uint8_t req_hash[PX_SHA256_BYTES],
                           const uint8_t *resp, size_t resp_len, const uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES],
                           px_err *err) {
    uint8_t d[PX_SHA256_BYTES];
    serve_digest_hashed(d, manifest, output_commit, req_hash, resp, resp_len);
    if (px_sign_verify(sig, d, sizeof d, sign_pk, NULL))
        return px_fail(err, PX_E_VERIFY, "the response is not signed by the attested instance for this request");
    return 0;
}

int px_serve_verify(const uint8_t sig[PX_SIGN_BYTES], const uint8_t manifest[PX_SHA256_BYTES],
                    const uint8_t output_commit[PX_SHA256_BYTES], const uint8_t *req, size_t req_len,
                    const uint8_t *resp, size_t resp_len, const uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES],
                    px_err *err) {
    uint8_t d[PX_SHA256_BYTES];
    serve_digest(d, manifest, output_commit, req, req_len, resp, resp_len);
    if (px_sign_verify(sig, d, sizeof d, sign_pk, NULL))
        return px_fail(err, PX_E_VERIFY, "the response is not signed by the attested instance for this request");
    return 0;
}
