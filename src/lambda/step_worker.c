/* The worker side of a λ instance: lock down, be born, receive evidence,
 * take one step, answer, exit. It reads only its channel and writes only
 * its channel (and stderr for diagnostics). */
#include <stdlib.h>
#include <string.h>

#include "lambda/step_internal.h"
#include "lambda/step_wire.h"
#include "pixiu/sandbox.h"

/* What INIT says: the stage, and the build the node measured. */
typedef struct init_msg {
    char kind[PX_TEE_KIND_MAX + 1];
    const uint8_t *code; /* digest, into the payload */
    px_bytes config;     /* into the payload */
    px_lambda_build build;
} init_msg;

static int send_error(int fd, const px_err *e) {
    px_bytes f = {(const uint8_t *)e->msg, strlen(e->msg)};
    px_wire_send(fd, PX_MSG_ERROR, &f, 1, NULL);
    return 1;
}

static int expect(int fd, int want, px_buf *payload, px_err *err) {
    int type = 0;
    if (px_wire_recv(fd, -1, &type, payload, err))
        return -1;
    if (type != want)
        return px_fail(err, PX_E_INVALID, "expected λ message %d, got %d", want, type);
    return 0;
}

/* Stages that run task code start a sandbox child and need the wider
 * profile; everything else gets the strict one. A malformed INIT gets the
 * strict one too, and fails at birth. */
static int lock_for_kind(const px_stage_kind *const *table, const px_tee_backend *backend, const init_msg *m,
                         int init_ok, unsigned *isolation, px_err *err) {
    const px_stage_kind *k = init_ok ? px_lambda_kind_find(table, m->kind) : NULL;
    px_tee_profile profile = k && k->needs_code ? PX_TEE_PROFILE_SPAWN : PX_TEE_PROFILE_COMPUTE;
    if (k && k->prepare && k->prepare(err))
        return px_err_prefix(err, "preparing stage kind \"%s\": ", m->kind);
    return backend->lockdown(profile, isolation, err);
}

/* The instance is measured under the build it was given, and a stage that
 * runs task code uses exactly that build's tools. */
static int birth(const px_stage_kind *const *table, const init_msg *m, px_lambda **l, px_err *err) {
    if (px_lambda_new(l, table, m->build.digest, m->kind, m->code, m->config.p, m->config.n, err))
        return -1;
    const px_stage_kind *k = px_lambda_kind_find(table, m->kind);
    if (!k || !k->needs_code)
        return 0;
    px_sandbox *sb = malloc(sizeof *sb);
    int rc = sb ? px_lambda_build_sandbox(&m->build, sb, err) : px_fail(err, PX_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = px_lambda_set_sandbox(*l, sb, err);
    free(sb);
    return rc;
}

static int send_keys(int fd, const px_lambda *l, unsigned isolation, px_err *err) {
    uint8_t spk[PX_SIGN_PUBLICKEYBYTES], bpk[PX_BOX_PUBLICKEYBYTES], m[PX_TEE_MEASUREMENT_BYTES];
    uint8_t iso[4] = {(uint8_t)isolation, (uint8_t)(isolation >> 8), (uint8_t)(isolation >> 16),
                      (uint8_t)(isolation >> 24)};
    px_lambda_public(l, spk, bpk, m);
    px_bytes f[4] = {{spk, sizeof spk}, {bpk, sizeof bpk}, {m, sizeof m}, {iso, sizeof iso}};
    return px_wire_send(fd, PX_MSG_KEYS, f, 4, err);
}

/* A stage with task code starts its runner once its keys are out, so
 * that the spawn, exec and loading (over a millisecond of CPU) happen
 * while the node attests the instance, not on its step's path
 * (sandbox_warm.c); without one the run forks its own. The runner is the
 * build's, exec'd under this worker's filter and limits, and holds nothing
 * of any task until the run hands it one: an instance whose recruitment
 * is refused gets no STEP, hands it nothing, and it dies with the
 * instance. Then the sweeps of what dead compiles left, which birth left
 * for this moment too (px_lambda_build_sandbox). Never fails the
 * instance. */
static int after_keys(px_lambda *l) {
    if (l->sandbox) {
        px_sandbox_warm(l->sandbox, NULL);
        px_sandbox_sweep(l->sandbox);
    }
    return 0;
}

static int take_evidence(int fd, px_lambda *l, const px_tee_build *build, px_buf *payload, px_err *err) {
    px_bytes f[1];
    size_t n = 0;
    if (expect(fd, PX_MSG_EVIDENCE, payload, err) || px_wire_split(payload->data, payload->len, f, 1, &n, err))
        return -1;
    if (n != 1)
        return px_fail(err, PX_E_INVALID, "EVIDENCE message is malformed");
    return px_lambda_set_evidence_for(l, f[0].p, f[0].n, build, err);
}

/* Send one statement and wait to be shown it in the log; the LOGGED view
 * points into payload. An instance that accepted its inputs (warm set)
 * and will run task code makes its module's object ready meanwhile, while
 * the node logs the acceptance (px_lambda_warm_run). */
static int logged(int fd, int type, const px_buf *statement, px_lambda *warm, px_buf *payload,
                  px_lambda_logged *shown, px_err *err) {
    px_bytes f = {statement->data, statement->len};
    if (px_wire_send(fd, type, &f, 1, err))
        return -1;
    if (warm)
        px_lambda_warm_run(warm);
    if (expect(fd, PX_MSG_LOGGED, payload, err))
        return -1;
    return px_wire_logged_decode(payload->data, payload->len, shown, err);
}

/* STEP, then accepted statement and proof each shown in the log before the
 * instance goes on. Any failure after STEP ends the worker with nothing
 * released. */
static int step(int fd, px_lambda *l, px_buf *payload, px_step_result *res, px_err *err) {
    if (expect(fd, PX_MSG_STEP, payload, err))
        return -1;
    px_bytes code;
    px_step_input *in = NULL;
    size_t n = 0;
    px_err why = {0};
    px_buf statement = PX_BUF_INIT, proof = PX_BUF_INIT;
    int accepted = 0, rc;
    if (px_wire_step_decode(payload->data, payload->len, &code, &in, &n, &why) == 0) {
        rc = px_lambda_accept(l, code.p, code.n, in, n, &statement, &accepted, err);
    } else {
        /* A malformed step is still a step: refuse it with a signed proof. */
        uint8_t d[PX_SHA256_BYTES];
        px_sha256(d, payload->data, payload->len);
        px_err_prefix(&why, "step message: ");
        rc = px_lambda_step_refuse(l, PX_STATUS_BAD_INPUT, &why, d, &statement, err);
    }
    free(in); /* points into payload, which is reused below */
    px_lambda_logged shown;
    if (rc == 0 && accepted)
        rc = logged(fd, PX_MSG_ACCEPTED, &statement, l, payload, &shown, err) ||
             px_lambda_run(l, &shown, &proof, err);
    else if (rc == 0)
        rc = px_buf_append(&proof, statement.data, statement.len, err);
    /* Past the run: a runner it did not take goes before the node may
     * kill this worker (it would outlive it, orphaned, until it noticed). */
    if (l->sandbox)
        px_sandbox_warm_free(l->sandbox);
    if (rc == 0)
        rc = logged(fd, PX_MSG_OUTCOME, &proof, NULL, payload, &shown, err) || px_lambda_release(l, &shown, res, err);
    px_buf_free(&statement);
    px_buf_free(&proof);
    return rc ? -1 : 0;
}

/* The proof, one output per successor, then (a delivering instance that
 * succeeded) the delivery sealed to its inbox. */
static int send_result(int fd, const px_step_result *res, px_err *err) {
    px_bytes f[2 + PX_LAMBDA_MAX_SUCCESSORS];
    size_t n = 0;
    f[n++] = (px_bytes){res->proof.data, res->proof.len};
    for (size_t i = 0; i < res->noutputs; i++)
        f[n++] = (px_bytes){res->outputs[i].data, res->outputs[i].len};
    if (res->delivery.len)
        f[n++] = (px_bytes){res->delivery.data, res->delivery.len};
    return px_wire_send(fd, PX_MSG_RESULT, f, n, err);
}

/* After a released ok step, a serving kind answers SERVE requests until
 * its deadline; a refused request gets an ERROR and the next one is read.
 * The read blocks (the worker's filter has no poll): the worker ends when
 * the node closes the channel, or at the first request after the deadline
 * (the node drops instances past their deadline anyway). */
static void serve_loop(int fd, px_lambda *l) {
    px_buf payload = PX_BUF_INIT, resp = PX_BUF_INIT;
    while (px_lambda_serving(l)) {
        int type = 0;
        px_err err = {0};
        if (px_wire_recv(fd, -1, &type, &payload, &err))
            break;
        px_bytes f[1] = {{NULL, 0}};
        size_t n = 0;
        uint8_t sig[PX_SIGN_BYTES];
        px_buf_reset(&resp);
        if (type != PX_MSG_SERVE)
            px_fail(&err, PX_E_INVALID, "expected a SERVE message, got %d", type);
        else if (px_wire_split(payload.data, payload.len, f, 1, &n, &err) == 0 && n != 1)
            px_fail(&err, PX_E_INVALID, "SERVE message is malformed");
        if (err.code == PX_OK && px_lambda_serve(l, f[0].p, f[0].n, &resp, sig, &err) == 0) {
            px_bytes out[2] = {{resp.data, resp.len}, {sig, sizeof sig}};
            if (px_wire_send(fd, PX_MSG_SERVED, out, 2, &err))
                break;
        } else {
            send_error(fd, &err);
        }
    }
    px_buf_free(&resp);
    px_buf_free(&payload);
}

int px_lambda_worker_main(int fd, const px_stage_kind *const *table, const px_tee_backend *backend) {
    px_err err = {0};
    unsigned isolation = 0;
    /* jansson seeds its hash tables from /dev/urandom on first use; after
     * lockdown there may be no open(), so seed now. */
    json_object_seed(0);
    if (backend->prepare)
        backend->prepare(NULL);
    /* Loaded and waiting: a node's warm pool hands out only workers that
     * said so, so no instance waits for a worker still being loaded. */
    if (px_wire_send(fd, PX_MSG_READY, NULL, 0, &err))
        return 1;
    px_buf payload = PX_BUF_INIT;
    px_lambda *l = NULL;
    px_step_result res;
    memset(&res, 0, sizeof res);
    int status = 1;
    init_msg *m = calloc(1, sizeof *m);
    px_err init_err = {0};
    int init_ok = 0;
    /* INIT comes from the node, before anything from outside is read; the
     * kind it names decides how tight the lockdown can be. */
    int rc = m ? expect(fd, PX_MSG_INIT, &payload, &err) : px_fail(&err, PX_E_NOMEM, "out of memory");
    if (rc == 0)
        init_ok = px_wire_init_decode(payload.data, payload.len, m->kind, &m->code, &m->config, &m->build,
                                      &init_err) == 0;
    if (rc == 0)
        rc = lock_for_kind(table, backend, m, init_ok, &isolation, &err);
    if (rc == 0 && !init_ok) {
        err = init_err;
        rc = -1;
    }
    if (rc == 0)
        rc = birth(table, m, &l, &err) || send_keys(fd, l, isolation, &err) || after_keys(l) ||
             take_evidence(fd, l, &m->build.build, &payload, &err) || step(fd, l, &payload, &res, &err);
    if (rc)
        send_error(fd, &err);
    else if (send_result(fd, &res, &err) == 0)
        status = 0;
    if (status == 0 && res.ok && px_lambda_serving(l))
        serve_loop(fd, l);
    px_step_result_free(&res);
    px_lambda_free(l);
    if (m)
        px_lambda_build_free(&m->build);
    free(m);
    px_buf_free(&payload);
    return status;
}
