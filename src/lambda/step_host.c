/* The node side of a λ instance: start the worker under the TEE backend,
 * check what it reports, have the backend attest it, run its one step.
 * The node never sees the instance's private keys or its plaintext. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lambda/pool.h"
#include "lambda/stage_map.h"
#include "lambda/step_wire.h"

#define KEYS_FIELDS 4
/* The platform's limits of a wasm worker, whatever the task's (which the
 * runner enforces itself, docs/manifest.md "Limits"): the runner reserves
 * wabt's 8 GiB guard region plus the task memory and sets its own CPU
 * limit, and limits are inherited as ceilings, so the worker's leave room
 * for any task the limits allow. */
#define WASM_WORKER_AS_BYTES (16ull << 30)
#define WASM_WORKER_CPU_SECONDS 3600
_Static_assert(WASM_WORKER_AS_BYTES >= (8ull << 30) + ((uint64_t)PX_SANDBOX_MEM_MB_MAX << 20) + (2ull << 30),
               "a wasm worker must hold the runner's reservation, the largest task memory and its input");
_Static_assert(WASM_WORKER_CPU_SECONDS * 1000ull > PX_MAP_TOTAL_CPU_MS_MAX + 60000 &&
                   WASM_WORKER_CPU_SECONDS * 1000ull > PX_LIMITS_CPU_MS_MAX + 60000,
               "a wasm worker's CPU ceiling must leave the runner its largest budget");

static int recv_error(const px_buf *payload, px_err *err) {
    px_bytes f[1];
    size_t n = 0;
    if (px_wire_split(payload->data, payload->len, f, 1, &n, NULL) || n != 1)
        return px_fail(err, PX_E_INTERNAL, "the λ worker failed and sent a malformed error");
    return px_fail(err, PX_E_INTERNAL, "the λ worker failed: %.*s", (int)(f[0].n > 200 ? 200 : f[0].n),
                   (const char *)f[0].p);
}

static int recv_expect(px_lambda_host *h, int want, px_buf *payload, px_err *err) {
    int type = 0;
    if (px_wire_recv(h->worker.fd, h->timeout_ms, &type, payload, err))
        return -1;
    if (type == PX_MSG_ERROR)
        return recv_error(payload, err);
    if (type != want)
        return px_fail(err, PX_E_INVALID, "the λ worker sent message %d, expected %d", type, want);
    return 0;
}

static int send_init(px_lambda_host *h, const px_lambda_host_req *req, const px_lambda_build *b, const uint8_t code[32],
                     px_err *err) {
    px_buf payload = PX_BUF_INIT;
    int rc = px_wire_init_encode(&payload, req->kind, code, req->config, req->config_len, b, err);
    if (rc == 0)
        rc = px_wire_send_payload(h->worker.fd, PX_MSG_INIT, &payload, err);
    px_buf_free(&payload);
    return rc;
}

/* Without a build from the caller, this process's own: computed once per
 * worker path (hashing the toolchain takes a while), then refreshed. */
static pthread_mutex_t own_mu = PTHREAD_MUTEX_INITIALIZER;
static px_lambda_build *own_build;

static int default_build(const char *worker_path, px_lambda_build *out, px_err *err) {
    pthread_mutex_lock(&own_mu);
    int rc = 0;
    const char *have = own_build ? px_lambda_build_path(own_build, "worker") : NULL;
    if (have && strcmp(have, worker_path)) {
        px_lambda_build_free(own_build);
        free(own_build);
        own_build = NULL;
    }
    if (!own_build) {
        own_build = malloc(sizeof *own_build);
        rc = own_build ? px_lambda_build_init(own_build, worker_path, err) : px_fail(err, PX_E_NOMEM, "out of memory");
        if (rc) {
            free(own_build);
            own_build = NULL;
        }
    } else {
        rc = px_lambda_build_refresh(own_build, NULL, err);
    }
    if (rc == 0)
        rc = px_lambda_build_copy(out, own_build, err);
    pthread_mutex_unlock(&own_mu);
    return rc;
}

/* A worker started for this instance says it is loaded before anything
 * else (a pooled one said so to the pool). */
static int read_ready(px_lambda_host *h, px_err *err) {
    px_buf payload = PX_BUF_INIT;
    px_bytes f[1];
    size_t n = 0;
    int rc = recv_expect(h, PX_MSG_READY, &payload, err);
    if (rc == 0 && (px_wire_split(payload.data, payload.len, f, 1, &n, err) || n != 0))
        rc = px_fail(err, PX_E_INVALID, "the λ worker sent a malformed READY message");
    px_buf_free(&payload);
    return rc;
}

/* The worker reports keys and a measurement; the measurement must be the
 * one the node computes from what it started, or nothing is attested. */
static int read_keys(px_lambda_host *h, const uint8_t expected[32], unsigned *isolation, px_err *err) {
    px_buf payload = PX_BUF_INIT;
    px_bytes f[KEYS_FIELDS];
    size_t n = 0;
    int rc = recv_expect(h, PX_MSG_KEYS, &payload, err);
    if (rc == 0 && (px_wire_split(payload.data, payload.len, f, KEYS_FIELDS, &n, err) || n != KEYS_FIELDS ||
                    f[0].n != 32 || f[1].n != 32 || f[2].n != 32 || f[3].n != 4))
        rc = px_fail(err, PX_E_INVALID, "the λ worker sent a malformed KEYS message");
    if (rc == 0 && !px_ct_equal(f[2].p, expected, 32))
        rc = px_fail(err, PX_E_VERIFY, "the λ worker reports another measurement than the node computed");
    if (rc == 0) {
        memcpy(h->sign_pk, f[0].p, 32);
        memcpy(h->box_pk, f[1].p, 32);
        memcpy(h->measurement, f[2].p, 32);
        *isolation |= px_load_u32le(f[3].p);
    }
    px_buf_free(&payload);
    return rc;
}

static int attest(px_lambda_host *h, const px_lambda_host_req *req, const px_lambda_build *b, unsigned isolation,
                  px_err *err) {
    px_evidence *claims = calloc(1, sizeof *claims);
    if (!claims)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    size_t nl = strlen(req->node);
    int rc = nl > PX_TEE_NODE_ID_MAX ? px_fail(err, PX_E_INVALID, "node id is longer than %d bytes", PX_TEE_NODE_ID_MAX)
                                     : 0;
    if (rc == 0) {
        memcpy(claims->node, req->node, nl + 1);
        memcpy(claims->measurement, h->measurement, 32);
        claims->build = b->build;
        memcpy(claims->sign_pk, h->sign_pk, 32);
        memcpy(claims->box_pk, h->box_pk, 32);
        memcpy(claims->nonce, req->nonce, PX_TEE_NONCE_BYTES);
        claims->isolation = isolation;
        rc = req->backend->attest(claims, req->platform, &h->evidence, err);
    }
    free(claims);
    if (rc)
        return -1;
    px_bytes f = {h->evidence.data, h->evidence.len};
    return px_wire_send(h->worker.fd, PX_MSG_EVIDENCE, &f, 1, err);
}

void px_lambda_worker_limits(const char *kind, uint64_t mem_bytes, uint64_t cpu_seconds, uint64_t *mem_out,
                             uint64_t *cpu_out) {
    *mem_out = mem_bytes;
    *cpu_out = cpu_seconds;
    /* Kinds that run task code in the sandbox (wasm, and federated
     * learning's fl-user, src/agg) need the runner's address space. */
    if (!strcmp(kind, px_lambda_wasm_kind.kind) || !strcmp(kind, "fl-user")) {
        *mem_out = mem_bytes ? mem_bytes : WASM_WORKER_AS_BYTES;
        *cpu_out = cpu_seconds ? cpu_seconds : WASM_WORKER_CPU_SECONDS;
    }
}

/* The worker started is the build's: what was hashed is what runs. */
static int start(px_lambda_host *h, const px_lambda_host_req *req, const px_lambda_build *b, px_lambda_pool *pool,
                 px_err *err) {
    uint8_t config[32], expected[32];
    const uint8_t *code = req->code_digest ? req->code_digest : px_tee_builtin_code;
    const char *worker = px_lambda_build_path(b, "worker");
    if (!worker)
        return px_fail(err, PX_E_INVALID, "the build names no worker");
    px_stage_config parsed;
    if (px_lambda_config_parse(&parsed, req->config, req->config_len, err))
        return -1;
    h->nsuccessors = parsed.nsuccessors;
    h->has_inbox = parsed.has_inbox;
    px_lambda_config_free(&parsed);
    px_sha256(config, req->config, req->config_len);
    if (px_tee_measure(expected, b->digest, req->kind, code, config, err))
        return -1;
    px_tee_spawn_req sr = {worker, NULL, 0, 0};
    px_lambda_worker_limits(req->kind, req->mem_bytes, req->cpu_seconds, &sr.mem_bytes, &sr.cpu_seconds);
    /* A warm worker is one this spawn would have started: same backend,
     * executable and limits, and nothing since its exec but waiting. */
    const px_tee_component *wc = px_tee_build_find(&b->build, "worker");
    int warm = px_lambda_pool_take(pool, req->backend, &sr, wc ? &b->files[wc - b->build.c] : NULL, &h->worker);
    if (!warm && req->backend->spawn(&sr, &h->worker, err))
        return -1;
    unsigned isolation = h->worker.isolation;
    if (send_init(h, req, b, code, err) || (!warm && read_ready(h, err)) || read_keys(h, expected, &isolation, err) ||
        attest(h, req, b, isolation, err))
        return -1;
    return 0;
}

int px_lambda_host_start(px_lambda_host *h, const px_lambda_host_req *req, px_err *err) {
    return px_lambda_host_start_from(h, req, NULL, err);
}

int px_lambda_host_start_from(px_lambda_host *h, const px_lambda_host_req *req, px_lambda_pool *pool, px_err *err) {
    memset(h, 0, sizeof *h);
    h->worker.fd = -1;
    h->worker.pid = -1;
    /* Starting is the platform's business, whatever the task's limits. */
    h->timeout_ms = req->start_timeout_ms > 0 ? req->start_timeout_ms : PX_LAMBDA_START_TIMEOUT_MS;
    px_lambda_build *own = NULL;
    int rc = 0;
    if (!req->build) {
        own = calloc(1, sizeof *own);
        rc = own ? default_build(req->worker_path, own, err) : px_fail(err, PX_E_NOMEM, "out of memory");
    }
    if (rc == 0)
        rc = start(h, req, req->build ? req->build : own, pool, err);
    if (own)
        px_lambda_build_free(own);
    free(own);
    if (rc) {
        px_lambda_host_free(h);
        return px_err_prefix(err, "starting a λ instance: ");
    }
    h->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : PX_LAMBDA_TIMEOUT_MS;
    return 0;
}

/* The result is passed on only if its proof is the one the log took. */
static int read_result(px_lambda_host *h, const px_buf *logged_proof, int ok, px_step_result *res, px_err *err) {
    px_buf payload = PX_BUF_INIT;
    px_bytes f[2 + PX_LAMBDA_MAX_SUCCESSORS];
    size_t n = 0, want = ok ? 1 + h->nsuccessors + (size_t)h->has_inbox : 1;
    int rc = recv_expect(h, PX_MSG_RESULT, &payload, err);
    if (rc == 0)
        rc = px_wire_split(payload.data, payload.len, f, 2 + PX_LAMBDA_MAX_SUCCESSORS, &n, err);
    if (rc == 0 && (n == 0 || f[0].n != logged_proof->len || memcmp(f[0].p, logged_proof->data, f[0].n)))
        rc = px_fail(err, PX_E_INVALID, "the λ worker's RESULT is not for the proof in the log");
    if (rc == 0 && n != want)
        rc = px_fail(err, PX_E_INVALID, "the λ worker sent %zu outputs with status %s", n - 1, res->status);
    if (rc == 0 && !(res->outputs = calloc(n, sizeof *res->outputs)))
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    if (rc == 0) {
        size_t nout = ok ? h->nsuccessors : 0;
        res->noutputs = nout;
        rc = px_buf_append(&res->proof, f[0].p, f[0].n, err);
        for (size_t i = 0; rc == 0 && i < nout; i++)
            rc = px_buf_append(&res->outputs[i], f[1 + i].p, f[1 + i].n, err);
        if (rc == 0 && ok && h->has_inbox)
            rc = px_buf_append(&res->delivery, f[1 + nout].p, f[1 + nout].n, err);
        res->ok = ok;
    }
    px_buf_free(&payload);
    return rc;
}

/* One statement from the worker: ACCEPTED or OUTCOME (or either, want 0). */
static int read_statement(px_lambda_host *h, int want, int *type, px_buf *out, px_err *err) {
    px_buf payload = PX_BUF_INIT;
    px_bytes f[1];
    size_t n = 0;
    int rc = px_wire_recv(h->worker.fd, h->timeout_ms, type, &payload, err);
    if (rc == 0 && *type == PX_MSG_ERROR)
        rc = recv_error(&payload, err);
    else if (rc == 0 && (want ? *type != want : *type != PX_MSG_ACCEPTED && *type != PX_MSG_OUTCOME))
        rc = px_fail(err, PX_E_INVALID, "the λ worker sent message %d where a statement was due", *type);
    if (rc == 0 && (px_wire_split(payload.data, payload.len, f, 1, &n, err) || n != 1))
        rc = px_fail(err, PX_E_INVALID, "the λ worker sent a malformed statement");
    if (rc == 0)
        rc = px_buf_append(out, f[0].p, f[0].n, err);
    px_buf_free(&payload);
    return rc;
}

/* Put a statement in the log and show the worker where. */
static int log_and_show(px_lambda_host *h, const px_lambda_log *log, const px_buf *statement, uint64_t *index,
                        px_err *err) {
    px_log_receipt r;
    memset(&r, 0, sizeof r);
    if (!log || !log->append)
        return px_fail(err, PX_E_STATE, "no log to put the λ worker's statements in");
    if (log->append(log->ctx, statement->data, statement->len, &r, err))
        return px_err_prefix(err, "the log did not take the λ worker's statement: ");
    px_buf payload = PX_BUF_INIT;
    int rc = px_wire_logged_encode(&payload, &r, err);
    if (rc == 0)
        rc = px_wire_send_payload(h->worker.fd, PX_MSG_LOGGED, &payload, err);
    *index = r.index;
    px_buf_free(&payload);
    px_log_receipt_free(&r);
    return rc;
}

/* The exchange after STEP: each statement checked against the instance key
 * before the log gets it. */
static int drive(px_lambda_host *h, const px_lambda_log *log, px_step_result *res, px_err *err) {
    px_buf proof = PX_BUF_INIT;
    px_accepted a;
    px_exec_proof p;
    int type = 0, rc = read_statement(h, 0, &type, &proof, err);
    if (rc == 0 && type == PX_MSG_ACCEPTED) {
        if (px_accepted_verify(&a, proof.data, proof.len, h->sign_pk, err))
            rc = px_err_prefix(err, "the λ worker's accepted-input statement: ");
        else
            rc = px_buf_append(&res->accepted, proof.data, proof.len, err) ||
                 log_and_show(h, log, &proof, &res->accepted_index, err);
        px_buf_reset(&proof);
        if (rc == 0)
            rc = read_statement(h, PX_MSG_OUTCOME, &type, &proof, err);
    }
    if (rc == 0 && px_lambda_proof_verify(&p, proof.data, proof.len, h->sign_pk, err))
        rc = px_err_prefix(err, "the λ worker's proof: ");
    if (rc == 0) {
        memcpy(res->status, p.status, sizeof res->status);
        rc = log_and_show(h, log, &proof, &res->proof_index, err) ||
             read_result(h, &proof, !strcmp(p.status, PX_STATUS_OK), res, err);
    }
    px_buf_free(&proof);
    return rc ? -1 : 0;
}

int px_lambda_host_step(px_lambda_host *h, const uint8_t *sealed_code, size_t code_len, const px_step_input *inputs,
                        size_t ninputs, const px_lambda_log *log, px_step_result *res, px_err *err) {
    memset(res, 0, sizeof *res);
    int rc = px_wire_step_send(h->worker.fd, sealed_code, code_len, inputs, ninputs, err);
    if (rc == 0)
        rc = drive(h, log, res, err);
    if (rc == 0 && res->ok && h->serve)
        h->serving = 1; /* the worker stays, answering requests */
    else
        px_tee_worker_release(&h->worker);
    if (rc)
        px_step_result_free(res);
    return rc;
}

int px_lambda_host_serve(px_lambda_host *h, const uint8_t manifest[PX_SHA256_BYTES],
                         const uint8_t output_commit[PX_SHA256_BYTES], const uint8_t *req, size_t len,
                         px_buf *resp, uint8_t sig[PX_SIGN_BYTES], px_err *err) {
    if (!h->serving)
        return px_fail(err, PX_E_STATE, "the λ instance is not serving");
    px_bytes f[2];
    size_t n = 0;
    px_buf payload = PX_BUF_INIT;
    px_bytes q = {req, len};
    int type = 0, broken = 1;
    int rc = px_wire_send(h->worker.fd, PX_MSG_SERVE, &q, 1, err) ||
             px_wire_recv(h->worker.fd, h->timeout_ms, &type, &payload, err);
    if (rc == 0 && type == PX_MSG_ERROR) {
        broken = 0; /* the worker refused this request and goes on */
        if (px_wire_split(payload.data, payload.len, f, 1, &n, NULL) || n != 1)
            rc = px_fail(err, PX_E_INVALID, "the λ instance refused the request (malformed reason)");
        else
            rc = px_fail(err, PX_E_INVALID, "the λ instance refused the request: %.*s",
                         (int)(f[0].n > 200 ? 200 : f[0].n), (const char *)f[0].p);
    } else if (rc == 0 && (type != PX_MSG_SERVED || px_wire_split(payload.data, payload.len, f, 2, &n, err) ||
                           n != 2 || f[1].n != PX_SIGN_BYTES)) {
        rc = px_fail(err, PX_E_INVALID, "the λ worker sent a malformed SERVED message");
    } else if (rc == 0 &&
               px_serve_verify(f[1].p, manifest, output_commit, req, len, f[0].p, f[0].n, h->sign_pk, err)) {
        rc = -1;
    } else if (rc == 0) {
        rc = px_buf_append(resp, f[0].p, f[0].n, err);
        if (rc == 0)
            memcpy(sig, f[1].p, PX_SIGN_BYTES);
        broken = rc != 0;
    }
    px_buf_free(&payload);
    if (rc && broken) {
        h->serving = 0;
        px_tee_worker_finish(&h->worker, 1, NULL, NULL);
    }
    return rc ? -1 : 0;
}

void px_lambda_host_free(px_lambda_host *h) {
    px_tee_worker_release(&h->worker);
    px_buf_free(&h->evidence);
}
