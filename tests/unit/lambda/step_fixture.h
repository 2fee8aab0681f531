/* Shared by the trust-λ tests: a platform key, a POD key, a manifest, a
 * successor, stage configs, releases and evidence made the way a node, a
 * POD and a recruiter make them. */
#ifndef PX_STEP_FIXTURE_H
#define PX_STEP_FIXTURE_H

#include "px_test.h"
#include "pixiu/lambda.h"
#include "pixiu/records.h"

typedef struct fixture {
    px_signer platform, pod, stranger;
    px_verifier platform_v, pod_v, stranger_v;
    uint8_t manifest[32];
    px_box_keypair successor;
    px_tee_build build; /* what the instances are measured under */
    uint8_t worker[32]; /* its digest */
} fixture;

static inline void fx_init(fixture *f) {
    px_err err = {0};
    px_assert_ok(px_crypto_init(&err), &err);
    px_assert_ok(px_signer_generate(&f->platform, "node-a", &err), &err);
    px_assert_ok(px_signer_generate(&f->pod, "pod-1", &err), &err);
    px_assert_ok(px_signer_generate(&f->stranger, "node-a", &err), &err);
    px_signer_verifier(&f->platform, &f->platform_v);
    px_signer_verifier(&f->pod, &f->pod_v);
    px_signer_verifier(&f->stranger, &f->stranger_v);
    px_random(f->manifest, sizeof f->manifest);
    px_box_keygen(&f->successor);
    uint8_t d[32];
    px_random(d, sizeof d);
    px_assert_ok(px_tee_build_init(&f->build, NULL, &err), &err);
    px_assert_ok(px_tee_build_add(&f->build, "worker", d, &err), &err);
    px_assert_ok(px_tee_build_digest(f->worker, &f->build, &err), &err);
}

static inline char *fx_vkey(const px_verifier *v) {
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_verifier_format(v, &b, &err), &err);
    while (b.len && b.data[b.len - 1] == '\n')
        b.len--;
    return px_buf_cstr(&b, &err);
}

/* Config of stage `index` of `kind` sending to `to` and trusting the
 * fixture's platform and POD keys at min_level; params is a JSON object
 * text or NULL. */
static inline void fx_config_kind(const fixture *f, px_buf *out, uint32_t index, const uint8_t to[32], int min_level,
                                  const char *kind, const char *params) {
    char m[65], s[65];
    px_hex_encode(m, f->manifest, 32);
    px_hex_encode(s, to, 32);
    char *pv = fx_vkey(&f->platform_v), *dv = fx_vkey(&f->pod_v);
    px_err err = {0};
    px_assert_ok(px_buf_printf(out, &err,
                               "{\"manifest\":\"%s\",\"stage\":{\"index\":%u,\"kind\":\"%s\"},"
                               "\"successors\":[\"%s\"],\"predecessors\":{\"platform_keys\":[\"%s\"],"
                               "\"min_level\":%d,\"pods\":[\"%s\"]}%s%s}",
                               m, index, kind, s, pv, min_level, dv, params ? ",\"params\":" : "",
                               params ? params : ""),
                 &err);
    free(pv);
    free(dv);
}

static inline void fx_config(const fixture *f, px_buf *out, uint32_t index, const uint8_t to[32], int min_level) {
    fx_config_kind(f, out, index, to, min_level, "aggregate", NULL);
}

/* The commitment randomness the fixtures use for data: derived from the data
 * so that fx_release and fx_seal of the same bytes agree (real producers
 * draw it fresh). */
static inline void fx_commit_r(uint8_t r[PX_COMMIT_RANDBYTES], const uint8_t *data, size_t len) {
    const void *parts[2] = {"fixture commitment randomness", data};
    size_t lens[2] = {29, len};
    px_sha256_parts(r, 2, parts, lens);
}

/* The commitment to data under fx_commit_r: what proofs name it by. */
static inline void fx_commit(uint8_t d[32], const uint8_t *data, size_t len) {
    uint8_t r[PX_COMMIT_RANDBYTES];
    fx_commit_r(r, data, len);
    px_commit_digest(d, r, data, len);
}

/* A POD release of data to stage key `to`, signed by `by`. */
static inline void fx_release(const fixture *f, px_buf *out, const px_signer *by, const uint8_t *data, size_t len,
                              const uint8_t to[32]) {
    px_err err = {0};
    uint8_t d[32];
    fx_commit(d, data, len);
    char m[65], dh[65], k[65];
    px_hex_encode(m, f->manifest, 32);
    px_hex_encode(dh, d, 32);
    px_hex_encode(k, to, 32);
    json_t *pred = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s, s:I}", "manifest", m, "pod",
                             "pod-1", "dataset", "demo", "dataset_digest", dh, "records", 1, "signed", 1,
                             "unsigned", 0, "epsilon", "1.0", "delta", "0", "stage_key", k, "released",
                             (json_int_t)px_now_ms());
    px_subject subj = {(char *)"release", {0}};
    memcpy(subj.sha256, d, 32);
    px_buf st = PX_BUF_INIT;
    px_assert_ok(px_statement_build(&st, &subj, 1, PX_RELEASE_PREDICATE, pred, &err), &err);
    px_assert_ok(px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, by, 1, &err), &err);
    json_decref(pred);
    px_buf_free(&st);
}

/* A PXV1 vector of n values base, base+1, ... */
static inline void fx_vector(px_buf *out, uint32_t n, double base) {
    double *v = calloc(n ? n : 1, sizeof *v);
    for (uint32_t i = 0; i < n; i++)
        v[i] = base + i;
    px_err err = {0};
    px_assert_ok(px_vector_encode(out, v, n, &err), &err);
    free(v);
}

/* Seal plain as a committed payload (PXC1) to `to`. */
static inline void fx_seal(px_buf *out, const px_buf *plain, const uint8_t to[32]) {
    px_err err = {0};
    uint8_t r[PX_COMMIT_RANDBYTES];
    fx_commit_r(r, plain->data, plain->len);
    px_assert_ok(px_seal_committed(out, r, plain->data, plain->len, to, &err), &err);
}

/* Open a sealed output (PXC1) of a step: the data alone. */
static inline void fx_open(px_buf *out, const px_buf *sealed, const px_box_keypair *kp) {
    px_err err = {0};
    uint8_t c[32];
    px_assert_ok(px_open_committed(out, c, sealed->data, sealed->len, kp, &err), &err);
}

#endif
