/* A λ instance's life: birth (keys, measurement), evidence, one step.
 *
 * The step is the only path from input to output: validator -> stage ->
 * proof generator. Whatever goes wrong after the evidence is in place ends
 * in a signed failure proof, never in silence. The step runs in three
 * phases (accept, run, release), and the instance moves from one to the
 * next only when shown its last statement in the log (release after log,
 * docs/lambda.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lambda/step_internal.h"
#include "pixiu/sandbox.h"

static const char *const statuses[] = {
    PX_STATUS_OK,     PX_STATUS_BAD_INPUT,     PX_STATUS_BAD_PROOF,         PX_STATUS_DIGEST_MISMATCH,
    PX_STATUS_TRAP,   PX_STATUS_CPU_LIMIT,     PX_STATUS_MEMORY_LIMIT,      PX_STATUS_FORBIDDEN_SYSCALL,
    PX_STATUS_TIMEOUT, PX_STATUS_INVALID_MODULE, PX_STATUS_CLAMPED,         PX_STATUS_INTERNAL,
};

int px_status_valid(const char *s) {
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (!strcmp(s, statuses[i]))
            return 1;
    return 0;
}

const px_stage_kind *px_lambda_kind_find(const px_stage_kind *const *table, const char *kind) {
    for (size_t i = 0; table && table[i]; i++)
        if (!strcmp(table[i]->kind, kind))
            return table[i];
    return NULL;
}

static int birth_checks(const px_stage_kind *k, const px_stage_config *c, const char *kind,
                        const uint8_t code[PX_SHA256_BYTES], px_err *err) {
    if (!k)
        return px_fail(err, PX_E_NOTFOUND, "this worker has no stage kind \"%.40s\"", kind);
    if (strcmp(c->kind, kind) != 0)
        return px_fail(err, PX_E_INVALID, "stage config is for kind \"%s\", not \"%s\"", c->kind, kind);
    int builtin_code = px_ct_equal(code, px_tee_builtin_code, PX_SHA256_BYTES);
    if (k->needs_code == builtin_code)
        return px_fail(err, PX_E_INVALID, k->needs_code ? "stage kind \"%s\" needs a code digest"
                                                        : "built-in stage kind \"%s\" takes no code digest",
                       kind);
    if (k->check && k->check(c->params, err))
        return px_err_prefix(err, "params of stage kind \"%s\": ", kind);
    /* A delivery goes to the inbox the config names, and only a stage
     * that delivers (params.deliver) has one. */
    if (c->has_inbox != (json_object_get(c->params, "deliver") != NULL))
        return px_fail(err, PX_E_INVALID, c->has_inbox ? "a stage config with an \"inbox\" needs params.deliver"
                                                       : "params.deliver needs an \"inbox\" in the stage config");
    if (c->has_inbox) {
        px_buf probe = PX_BUF_INIT;
        int bad = px_seal(&probe, "", 0, c->inbox, NULL);
        px_buf_free(&probe);
        if (bad)
            return px_fail(err, PX_E_INVALID, "the inbox is not a usable X25519 key");
    }
    /* A key nothing can be sealed to (a low-order point) would leave the
     * step unable to deliver: refuse it before any evidence exists. */
    for (size_t i = 0; i < c->nsuccessors; i++) {
        px_buf probe = PX_BUF_INIT;
        int bad = px_seal(&probe, "", 0, c->successors[i], NULL);
        px_buf_free(&probe);
        if (bad)
            return px_fail(err, PX_E_INVALID, "successor %zu is not a usable X25519 key", i);
    }
    return 0;
}

int px_lambda_new(px_lambda **out, const px_stage_kind *const *table, const uint8_t build_digest[PX_SHA256_BYTES],
                  const char *kind, const uint8_t code_digest[PX_SHA256_BYTES], const void *config,
                  size_t config_len, px_err *err) {
    px_lambda *l = calloc(1, sizeof *l);
    if (!l)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    l->kind = px_lambda_kind_find(table, kind);
    uint8_t config_digest[PX_SHA256_BYTES];
    px_sha256(config_digest, config, config_len);
    if (px_lambda_config_parse(&l->config, config, config_len, err) ||
        birth_checks(l->kind, &l->config, kind, code_digest, err) ||
        px_tee_measure(l->measurement, build_digest, kind, code_digest, config_digest, err) ||
        px_signer_generate(&l->signer, PX_LAMBDA_SIGNER_NAME, err)) {
        px_lambda_free(l);
        return -1;
    }
    px_box_keygen(&l->box);
    memcpy(l->code_digest, code_digest, PX_SHA256_BYTES);
    memcpy(l->build_digest, build_digest, PX_SHA256_BYTES);
    *out = l;
    return 0;
}

static void pending_free(struct px_step_pending *p);
static void drop_state(const px_lambda *l, struct px_step_pending *s);

void px_lambda_free(px_lambda *l) {
    if (!l)
        return;
    if (l->pending)
        drop_state(l, l->pending);
    if (l->serve_state && l->kind && l->kind->state_free)
        l->kind->state_free(l->serve_state);
    pending_free(l->pending);
    px_lambda_config_free(&l->config);
    if (l->sandbox)
        px_sandbox_warm_free(l->sandbox);
    free(l->sandbox);
    px_memzero(l, sizeof *l); /* the private keys */
    free(l);
}

void px_lambda_public(const px_lambda *l, uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES],
                      uint8_t box_pk[PX_BOX_PUBLICKEYBYTES], uint8_t measurement[PX_TEE_MEASUREMENT_BYTES]) {
    memcpy(sign_pk, l->signer.kp.pk, PX_SIGN_PUBLICKEYBYTES);
    memcpy(box_pk, l->box.pk, PX_BOX_PUBLICKEYBYTES);
    memcpy(measurement, l->measurement, PX_TEE_MEASUREMENT_BYTES);
}

int px_lambda_set_sandbox(px_lambda *l, const px_sandbox *sb, px_err *err) {
    px_sandbox *copy = malloc(sizeof *copy);
    if (!copy)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    *copy = *sb;
    free(l->sandbox);
    l->sandbox = copy;
    return 0;
}

int px_lambda_set_evidence(px_lambda *l, const void *ev, size_t len, px_err *err) {
    return px_lambda_set_evidence_for(l, ev, len, NULL, err);
}

int px_lambda_set_evidence_for(px_lambda *l, const void *ev, size_t len, const px_tee_build *expect, px_err *err) {
    px_evidence e;
    uint8_t build[PX_SHA256_BYTES];
    if (px_evidence_parse_for(&e, ev, len, expect, err) || px_tee_build_digest(build, &e.build, err))
        return -1;
    if (!px_ct_equal(e.sign_pk, l->signer.kp.pk, PX_SIGN_PUBLICKEYBYTES) ||
        !px_ct_equal(e.box_pk, l->box.pk, PX_BOX_PUBLICKEYBYTES))
        return px_fail(err, PX_E_VERIFY, "evidence names other keys than this instance's");
    if (!px_ct_equal(e.measurement, l->measurement, PX_TEE_MEASUREMENT_BYTES))
        return px_fail(err, PX_E_VERIFY, "evidence names another measurement than this instance's");
    /* A verifier reads the build from the evidence: it must be ours. */
    if (!px_ct_equal(build, l->build_digest, PX_SHA256_BYTES))
        return px_fail(err, PX_E_VERIFY, "evidence lists another build than this instance's");
    px_evidence_digest(l->evidence_digest, ev, len);
    l->have_evidence = 1;
    if (l->phase == PX_PHASE_BORN)
        l->phase = PX_PHASE_READY;
    return 0;
}

/* ---- the step ---------------------------------------------------------- */

/* Everything an instance holds between the phases of its step. */
typedef struct px_step_pending {
    px_stage_input *in;
    px_buf *plain;
    size_t n;
    size_t nreport; /* inputs named in the proof */
    const char *status;
    char reason[PX_LAMBDA_REASON_MAX + 1];
    uint8_t subject[PX_SHA256_BYTES];
    px_stage_out out;
    px_buf code;
    int has_task_key;
    uint8_t task_key[PX_TASK_KEY_BYTES];
    int has_content;      /* the content to deliver came with the code */
    px_buf content;
    uint8_t commit_r[PX_COMMIT_RANDBYTES];
    uint8_t delivery_r[PX_COMMIT_RANDBYTES];
    uint8_t delivery[PX_SHA256_BYTES]; /* its commitment */
    px_buf sealed_delivery;
    int64_t started;
    int64_t pad_end; /* a padded run: when its pad ends (0: none) */
    int64_t finished; /* a padded run: the time its proof states */
    px_buf accepted; /* the accepted-input statement */
    px_buf proof;    /* the execution proof */
    px_buf *sealed;  /* one per successor, held until the proof is shown */
    size_t nsealed;
    int ok;
} step_state;

static void drop_inputs(step_state *s) {
    for (size_t i = 0; s->plain && i < s->n; i++)
        px_buf_free(&s->plain[i]);
    free(s->plain);
    s->plain = NULL;
    px_buf_free(&s->out.output);
    px_buf_free(&s->out.delivery);
    json_decref(s->out.report);
    s->out.report = NULL;
    px_buf_free(&s->code);
    px_buf_free(&s->content);
    px_memzero(s->task_key, sizeof s->task_key);
    px_memzero(s->commit_r, sizeof s->commit_r);
    px_memzero(s->delivery_r, sizeof s->delivery_r);
}

/* A serving kind's state lives on only with a released ok step. */
static void drop_state(const px_lambda *l, step_state *s) {
    if (s->out.state && l->kind && l->kind->state_free)
        l->kind->state_free(s->out.state);
    s->out.state = NULL;
}

static void drop_sealed(step_state *s) {
    for (size_t i = 0; s->sealed && i < s->nsealed; i++)
        px_buf_free(&s->sealed[i]);
    free(s->sealed);
    s->sealed = NULL;
    s->nsealed = 0;
    px_buf_free(&s->sealed_delivery);
}

static void pending_free(struct px_step_pending *s) {
    if (!s)
        return;
    drop_inputs(s);
    drop_sealed(s);
    free(s->in);
    px_buf_free(&s->accepted);
    px_buf_free(&s->proof);
    px_memzero(s, sizeof *s);
    free(s);
}

static void set_failure(step_state *s, const char *status, const px_err *e, const uint8_t subject[32]) {
    s->status = status;
    size_t n = strnlen(e->msg, PX_LAMBDA_REASON_MAX);
    memcpy(s->reason, e->msg, n);
    s->reason[n] = 0;
    for (char *p = s->reason; *p; p++) /* one line, printable */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    memcpy(s->subject, subject, PX_SHA256_BYTES);
}

/* After the task key, "PXAD" || u32le n || content: what a delivering
 * stage delivers. Taken off the code, which then must be the module. */
static int take_content(step_state *s, px_err *e) {
    const uint8_t *content;
    uint32_t n;
    size_t used;
    if (px_content_split(s->code.data, s->code.len, &s->has_content, &content, &n, &used, e) ||
        (s->has_content && px_buf_append(&s->content, content, n, e)))
        return -1;
    if (used) {
        memmove(s->code.data, s->code.data + used, s->code.len - used);
        s->code.len -= used;
    }
    return 0;
}

static int open_code(px_lambda *l, step_state *s, const uint8_t *sealed, size_t len) {
    px_err e = {0};
    uint8_t d[PX_SHA256_BYTES];
    px_sha256(d, sealed, len);
    if (!l->kind->needs_code) {
        if (len == 0)
            return 0;
        px_fail(&e, PX_E_INVALID, "built-in stage \"%s\" was sent code", l->kind->kind);
        set_failure(s, PX_STATUS_BAD_INPUT, &e, d);
        return -1;
    }
    if (px_seal_open(&s->code, sealed, len, &l->box, &e)) {
        px_err_prefix(&e, "code: ");
        set_failure(s, PX_STATUS_BAD_INPUT, &e, d);
        return -1;
    }
    /* "PXTK" || key || module: the task's pseudonym key travels with the
     * code (a module itself starts with "\0asm"). */
    if (s->code.len >= 4 + PX_TASK_KEY_BYTES && memcmp(s->code.data, PX_TASK_KEY_MAGIC, 4) == 0) {
        memcpy(s->task_key, s->code.data + 4, PX_TASK_KEY_BYTES);
        s->has_task_key = 1;
        size_t skip = 4 + PX_TASK_KEY_BYTES;
        memmove(s->code.data, s->code.data + skip, s->code.len - skip);
        s->code.len -= skip;
        if (take_content(s, &e)) {
            px_err_prefix(&e, "code: ");
            set_failure(s, PX_STATUS_BAD_INPUT, &e, d);
            return -1;
        }
    }
    px_sha256(d, s->code.data, s->code.len);
    if (!px_ct_equal(d, l->code_digest, PX_SHA256_BYTES)) {
        px_fail(&e, PX_E_VERIFY, "code digest does not match the attested code digest");
        set_failure(s, PX_STATUS_INVALID_MODULE, &e, d);
        return -1;
    }
    return 0;
}

/* One input per producer node and instance (config "one_per_node"): the
 * stage after POD-side instances takes each POD's output once. */
static int one_per_node(const step_state *s, size_t i, px_err *e) {
    const px_stage_input *x = &s->in[i];
    if (x->from_release)
        return px_fail(e, PX_E_INVALID, "a POD release where one input per predecessor node is due");
    for (size_t k = 0; k < i; k++)
        if (!strcmp(s->in[k].producer_node, x->producer_node) ||
            px_ct_equal(s->in[k].producer_key, x->producer_key, PX_SIGN_PUBLICKEYBYTES))
            return px_fail(e, PX_E_INVALID, "a second input from node %s (input %zu): one input per node",
                           x->producer_node, k);
    return 0;
}

static int validate_all(px_lambda *l, step_state *s, const px_step_input *inputs) {
    for (size_t i = 0; i < s->n; i++) {
        px_err e = {0};
        const char *st = PX_STATUS_INTERNAL;
        int rc = px_validate_input(l, &inputs[i], &s->plain[i], &s->in[i], &st, &e);
        if (rc == 0 && l->config.one_per_node && one_per_node(s, i, &e)) {
            st = PX_STATUS_BAD_INPUT;
            rc = -1;
        }
        if (rc) {
            px_err_prefix(&e, "input %zu: ", i);
            set_failure(s, st, &e, s->in[i].digest);
            s->nreport = i + 1;
            return -1;
        }
    }
    return 0;
}

static px_stage_ctx stage_ctx(const px_lambda *l, const step_state *s) {
    px_stage_ctx ctx = {&l->config, l->config.params, s->code.data, s->code.len, s->in, s->n,
                        s->has_task_key ? s->task_key : NULL, l->sandbox, &l->box,
                        s->has_content ? s->content.data : NULL, s->content.len};
    if (!l->kind->needs_code)
        ctx.code = NULL;
    return ctx;
}

/* What depends on the code alone happens before the pad starts. */
static void warm(const px_lambda *l, const step_state *s) {
    px_stage_ctx ctx = stage_ctx(l, s);
    if (l->kind->warm)
        l->kind->warm(&ctx, NULL);
}

static void run_stage(px_lambda *l, step_state *s) {
    px_stage_ctx ctx = stage_ctx(l, s);
    px_err e = {0};
    if (l->kind->run(&ctx, &s->out, &e) != 0) {
        const char *st = s->out.status && px_status_valid(s->out.status) && strcmp(s->out.status, PX_STATUS_OK)
                             ? s->out.status
                             : PX_STATUS_INTERNAL;
        uint8_t d[PX_SHA256_BYTES];
        px_sha256(d, NULL, 0);
        set_failure(s, st, &e, s->n ? s->in[0].digest : d);
        return;
    }
    if (l->config.has_inbox && s->out.delivery.len == 0) {
        uint8_t d[PX_SHA256_BYTES];
        px_sha256(d, NULL, 0);
        px_fail(&e, PX_E_INTERNAL, "the stage produced no delivery for its inbox");
        set_failure(s, PX_STATUS_INTERNAL, &e, s->n ? s->in[0].digest : d);
        return;
    }
    s->status = PX_STATUS_OK;
    /* The output is named by a hiding commitment: one r for every
     * successor, so they all check the same subject. */
    px_commit_new(s->commit_r, s->out.output.data, s->out.output.len, s->subject);
    if (l->config.has_inbox)
        px_commit_new(s->delivery_r, s->out.delivery.data, s->out.delivery.len, s->delivery);
}

/* A padded instance (POD-side) signs its outcome no earlier than pad_ms
 * after it began to run, so when its proof reaches the log, and the times
 * it states, say nothing about what the stage computed. The wait is in the
 * instance, not in its host: the proof's times are its signed word. */
static int64_t pad_until(int64_t t) {
    for (;;) {
        int64_t now = px_now_ms();
        if (now >= t)
            return now;
        int64_t left = t - now;
        struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
        if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
            return px_now_ms();
    }
}

static int seal_outputs(px_lambda *l, step_state *s, px_err *err) {
    s->sealed = calloc(l->config.nsuccessors, sizeof *s->sealed);
    if (!s->sealed)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    s->nsealed = l->config.nsuccessors;
    for (size_t i = 0; i < s->nsealed; i++)
        if (px_seal_committed(&s->sealed[i], s->commit_r, s->out.output.data, s->out.output.len,
                              l->config.successors[i], err))
            return -1;
    if (l->config.has_inbox && px_seal_committed(&s->sealed_delivery, s->delivery_r, s->out.delivery.data,
                                                 s->out.delivery.len, l->config.inbox, err))
        return -1;
    return 0;
}

/* After the deadline nothing may leave: a late step ends in a failure. */
static int past_deadline(const px_lambda *l, px_err *e) {
    if (!l->config.deadline || px_now_ms() <= l->config.deadline)
        return 0;
    px_fail(e, PX_E_UNAVAILABLE, "the manifest's deadline (%lld) has passed", (long long)l->config.deadline);
    return 1;
}

/* Seal (on success) and sign the proof; the instance then waits to be
 * shown it in the log. */
static int decide(px_lambda *l, step_state *s, px_err *err) {
    int ok = !strcmp(s->status, PX_STATUS_OK);
    px_err why = {0};
    if (ok && past_deadline(l, &why)) {
        uint8_t none[PX_SHA256_BYTES];
        px_sha256(none, NULL, 0);
        set_failure(s, PX_STATUS_TIMEOUT, &why, s->n ? s->in[0].digest : none);
        ok = 0;
    }
    if (ok && seal_outputs(l, s, &why)) {
        /* Keys were checked at birth, so this is a bug or no memory; the
         * step still ends in a signed proof. */
        drop_sealed(s);
        px_err_prefix(&why, "sealing the output: ");
        set_failure(s, PX_STATUS_INTERNAL, &why, s->subject);
        ok = 0;
    }
    if (!ok)
        drop_state(l, s);
    int64_t finished = s->finished ? s->finished : px_now_ms();
    px_proof_draft d = {l, s->in, s->nreport, &s->out, s->status, ok ? NULL : s->reason, s->subject, s->started,
                        finished, ok && l->config.has_inbox ? s->delivery : NULL};
    if (px_proofgen_sign(&s->proof, &d, err)) {
        drop_sealed(s);
        return -1;
    }
    s->ok = ok;
    drop_inputs(s);
    l->phase = PX_PHASE_DECIDED;
    return 0;
}

void px_lambda_warm_run(px_lambda *l) {
    if (!l->sandbox || !l->sandbox->warm || l->phase != PX_PHASE_ACCEPTED || !l->pending || !l->pending->code.len)
        return;
    /* The limits a code stage runs under (stage_wasm.c); a stage that runs
     * with others only finds the object not made for it. */
    px_sandbox_limits lim;
    px_limits_sandbox(&l->config.limits, &lim);
    px_sandbox_warm_object(l->sandbox, l->pending->code.data, l->pending->code.len, &lim);
}

static step_state *pending_new(px_lambda *l, size_t ninputs, px_err *err) {
    step_state *s = calloc(1, sizeof *s);
    if (s) {
        s->n = s->nreport = ninputs;
        s->in = calloc(ninputs ? ninputs : 1, sizeof *s->in);
        s->plain = calloc(ninputs ? ninputs : 1, sizeof *s->plain);
        s->started = px_now_ms();
    }
    if (!s || !s->in || !s->plain) {
        pending_free(s);
        px_fail(err, PX_E_NOMEM, "out of memory");
        return NULL;
    }
    l->pending = s;
    return s;
}

static int take_step(px_lambda *l, px_err *err) {
    if (l->phase == PX_PHASE_BORN)
        return px_fail(err, PX_E_STATE, "the instance has no evidence yet");
    if (l->phase != PX_PHASE_READY)
        return px_fail(err, PX_E_STATE, "the instance has already taken its step");
    return 0;
}

int px_lambda_accept(px_lambda *l, const uint8_t *sealed_code, size_t code_len, const px_step_input *inputs,
                     size_t ninputs, px_buf *out, int *accepted, px_err *err) {
    *accepted = 0;
    if (take_step(l, err))
        return -1;
    step_state *s = pending_new(l, ninputs, err);
    if (!s)
        return -1;
    l->phase = PX_PHASE_DONE; /* until a statement is signed: no second try */
    px_err e = {0};
    uint8_t none[PX_SHA256_BYTES];
    px_sha256(none, NULL, 0);
    if (ninputs == 0 || ninputs > PX_LAMBDA_MAX_INPUTS) {
        px_fail(&e, PX_E_INVALID, "a step takes 1..%d inputs, not %zu", PX_LAMBDA_MAX_INPUTS, ninputs);
        s->n = s->nreport = 0;
        set_failure(s, PX_STATUS_BAD_INPUT, &e, none);
    } else if (past_deadline(l, &e)) {
        s->n = s->nreport = 0;
        set_failure(s, PX_STATUS_TIMEOUT, &e, none);
    } else if (open_code(l, s, sealed_code, code_len) != 0) {
        s->nreport = 0;
    } else if (validate_all(l, s, inputs) == 0) {
        if (px_accepted_sign(&s->accepted, l, s->in, s->n, px_now_ms(), err) ||
            px_buf_append(out, s->accepted.data, s->accepted.len, err))
            return -1;
        *accepted = 1;
        l->phase = PX_PHASE_ACCEPTED;
        return 0;
    }
    if (decide(l, s, err))
        return -1;
    return px_buf_append(out, s->proof.data, s->proof.len, err);
}

int px_lambda_run(px_lambda *l, const px_lambda_logged *shown, px_buf *out, px_err *err) {
    step_state *s = l->pending;
    if (l->phase != PX_PHASE_ACCEPTED)
        return px_fail(err, PX_E_STATE, "the instance has no accepted input waiting to run");
    /* Not shown in the log: stay put; the host may show it again. */
    if (px_lambda_shown_check(l, s->accepted.data, s->accepted.len, shown, err))
        return px_err_prefix(err, "not running: ");
    l->phase = PX_PHASE_DONE;
    if (l->config.pad_ms) {
        warm(l, s);
        s->started = px_now_ms();
        s->pad_end = s->started + l->config.pad_ms;
    }
    run_stage(l, s);
    if (s->pad_end) {
        /* Finished within the pad: it waits, and states the pad's end. */
        int64_t done = px_now_ms();
        s->finished = done <= s->pad_end ? s->pad_end : done;
        pad_until(s->pad_end);
    }
    if (decide(l, s, err))
        return -1;
    return px_buf_append(out, s->proof.data, s->proof.len, err);
}

int px_lambda_release(px_lambda *l, const px_lambda_logged *shown, px_step_result *res, px_err *err) {
    memset(res, 0, sizeof *res);
    step_state *s = l->pending;
    if (l->phase != PX_PHASE_DECIDED)
        return px_fail(err, PX_E_STATE, "the instance has no proof waiting to be released");
    if (px_lambda_shown_check(l, s->proof.data, s->proof.len, shown, err))
        return px_err_prefix(err, "releasing nothing: ");
    px_err why = {0};
    if (s->ok && past_deadline(l, &why)) {
        /* The proof reached the log too late: the output stays here. */
        l->phase = PX_PHASE_DONE;
        drop_sealed(s);
        drop_state(l, s);
        return px_fail(err, PX_E_DENIED, "releasing nothing: %s", why.msg);
    }
    if (px_buf_append(&res->proof, s->proof.data, s->proof.len, err) ||
        px_buf_append(&res->accepted, s->accepted.data, s->accepted.len, err)) {
        px_step_result_free(res);
        return -1;
    }
    res->outputs = s->sealed;
    res->noutputs = s->nsealed;
    s->sealed = NULL;
    s->nsealed = 0;
    res->delivery = s->sealed_delivery;
    s->sealed_delivery = (px_buf)PX_BUF_INIT;
    res->ok = s->ok;
    snprintf(res->status, sizeof res->status, "%s", s->status);
    res->proof_index = shown->index;
    l->phase = PX_PHASE_DONE;
    if (s->ok && s->out.state && l->kind->serve) {
        l->serve_state = s->out.state;
        s->out.state = NULL;
        memcpy(l->serve_commit, s->subject, PX_SHA256_BYTES);
    }
    drop_state(l, s);
    return 0;
}

int px_lambda_step_refuse(px_lambda *l, const char *status, const px_err *why, const uint8_t subject[32], px_buf *out,
                          px_err *err) {
    if (l->phase != PX_PHASE_READY)
        return px_fail(err, PX_E_STATE, "the instance cannot take a step now");
    step_state *s = pending_new(l, 0, err);
    if (!s)
        return -1;
    l->phase = PX_PHASE_DONE;
    set_failure(s, status, why, subject);
    if (decide(l, s, err))
        return -1;
    return px_buf_append(out, s->proof.data, s->proof.len, err);
}

/* Put one statement in the log and return what shows it there. */
static int log_one(const px_lambda_log *log, const px_buf *entry, px_log_receipt *r, px_err *err) {
    memset(r, 0, sizeof *r);
    if (!log || !log->append)
        return px_fail(err, PX_E_STATE, "no log to put the instance's statements in");
    if (log->append(log->ctx, entry->data, entry->len, r, err))
        return px_err_prefix(err, "the log did not take the statement: ");
    return 0;
}

int px_lambda_step(px_lambda *l, const uint8_t *sealed_code, size_t code_len, const px_step_input *inputs,
                   size_t ninputs, const px_lambda_log *log, px_step_result *res, px_err *err) {
    memset(res, 0, sizeof *res);
    px_buf st = PX_BUF_INIT, proof = PX_BUF_INIT;
    px_log_receipt ra, rp;
    memset(&ra, 0, sizeof ra);
    memset(&rp, 0, sizeof rp);
    int accepted = 0;
    int rc = px_lambda_accept(l, sealed_code, code_len, inputs, ninputs, &st, &accepted, err);
    if (rc == 0 && accepted) {
        px_lambda_logged shown;
        rc = log_one(log, &st, &ra, err);
        if (rc == 0) {
            shown = px_lambda_logged_of(&ra);
            rc = px_lambda_run(l, &shown, &proof, err);
        }
    } else if (rc == 0) {
        rc = px_buf_append(&proof, st.data, st.len, err);
    }
    if (rc == 0)
        rc = log_one(log, &proof, &rp, err);
    if (rc == 0) {
        px_lambda_logged shown = px_lambda_logged_of(&rp);
        rc = px_lambda_release(l, &shown, res, err);
    }
    if (rc == 0)
        res->accepted_index = ra.index;
    px_log_receipt_free(&ra);
    px_log_receipt_free(&rp);
    px_buf_free(&st);
    px_buf_free(&proof);
    return rc;
}

void px_step_result_free(px_step_result *r) {
    px_buf_free(&r->proof);
    px_buf_free(&r->accepted);
    for (size_t i = 0; r->outputs && i < r->noutputs; i++)
        px_buf_free(&r->outputs[i]);
    free(r->outputs);
    px_buf_free(&r->delivery);
    memset(r, 0, sizeof *r);
}

void px_task_key_commit(uint8_t out[PX_SHA256_BYTES], const uint8_t key[PX_TASK_KEY_BYTES]) {
    static const char tag[] = "PIXIU-pseudonym-v1\n";
    const void *parts[2] = {tag, key};
    size_t lens[2] = {sizeof tag - 1, PX_TASK_KEY_BYTES};
    px_sha256_parts(out, 2, parts, lens);
}
