/* The dispatcher's stages: each instance's step, in stage order, the
 * partitions of a stage at once. A step's body carries the sealed inputs
 * (the PODs' releases or the previous stage's outputs), their proofs and
 * the sealed code as PXJB attachments, and its reply (proof and sealed
 * outputs) comes back the same way (docs/network.md). */
#include <pthread.h>
#include <string.h>

#include "node/dispatch.h"

int px_dispatch_add_input(px_jb *jb, json_t *arr, const px_buf *sealed, const px_buf *proof, const px_buf *ev,
                          px_err *err) {
    json_t *o = json_object();
    return px_x_append(arr, o, err) || px_jb_set_bytes(jb, o, "sealed", sealed->data, sealed->len, err) ||
                   px_jb_set_bytes(jb, o, "proof", proof->data, proof->len, err) ||
                   (ev && px_jb_set_bytes(jb, o, "evidence", ev->data, ev->len, err))
               ? -1
               : 0;
}

/* The releases sealed to this first-stage instance. */
static int release_inputs(const px_job *j, const px_slot *sl, px_jb *jb, json_t *arr, px_err *err) {
    for (size_t i = 0; i < j->nrel; i++)
        if (px_ct_equal(j->rel_key[i], sl->att.box_pk, PX_BOX_PUBLICKEYBYTES) &&
            px_dispatch_add_input(jb, arr, &j->rel_sealed[i], &j->rel_env[i], NULL, err))
            return -1;
    return 0;
}

/* The step's inputs, their bytes attachments of jb borrowed from j (the
 * releases, or the previous stage's outputs and proofs). */
static int step_inputs(const px_job *j, const px_slot *sl, px_jb *jb, json_t *arr, px_err *err) {
    if (j->kpod && sl->stage == j->kpod)
        return px_dispatch_pod_inputs(j, sl, jb, arr, err);
    if (sl->stage == 0)
        return release_inputs(j, sl, jb, arr, err);
    for (size_t k = 0; k < j->ns; k++) {
        const px_slot *p = &j->s[k];
        int o = p->stage + 1 == sl->stage ? px_dispatch_output_for(j, p, sl) : -1;
        if (o < 0)
            continue;
        if ((size_t)o >= p->noutputs)
            return px_fail(err, PX_E_INVALID, "stage %u produced no output for partition %u", p->stage, sl->partition);
        if (px_dispatch_add_input(jb, arr, &p->outputs[o], &p->proof, &p->evidence, err))
            return -1;
    }
    return 0;
}

/* The dispatcher's signed word that an instance never answered. */
static void report_silence(const px_job *j, const px_slot *sl, const px_err *why) {
    json_t *p = json_pack("{s:s%,s:{s:i,s:i},s:s,s:s,s:s}", "manifest", "", (size_t)0, "stage", "index",
                          (int)sl->stage, "partition", (int)sl->partition, "node", sl->node->id, "status", "timeout",
                          "reason", why->msg);
    px_buf st = PX_BUF_INIT, env = PX_BUF_INIT;
    px_subject subj = {.name = (char *)"manifest"};
    memcpy(subj.sha256, j->m.id, PX_SHA256_BYTES);
    px_x_set_hex(p, "manifest", j->m.id, PX_SHA256_BYTES, NULL);
    if (px_statement_build(&st, &subj, 1, PX_REPORT_PREDICATE, p, NULL) == 0 &&
        px_dsse_sign(&env, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, j->o->key, 1, NULL) == 0)
        px_dispatch_append_log(j, &env, NULL);
    json_decref(p);
    px_buf_free(&st);
    px_buf_free(&env);
}

/* The executor's reply, PXJB or JSON: its proof and sealed outputs are
 * public bytes, attachments or base64. */
static int read_step(px_slot *sl, const px_dispatch_reply *rep, int *ok, char *status, size_t cap, px_err *err) {
    json_t *outs, *v;
    size_t i;
    if (px_jb_bytes(&rep->view, rep->doc, "proof", &sl->proof, err) ||
        px_x_arr(rep->doc, "outputs", 0, PX_LAMBDA_MAX_SUCCESSORS, &outs, err))
        return -1;
    *ok = json_is_true(json_object_get(rep->doc, "ok"));
    const json_t *st = json_object_get(rep->doc, "status");
    snprintf(status, cap, "%s", json_is_string(st) ? json_string_value(st) : "unknown");
    if (!(sl->outputs = calloc(json_array_size(outs) + 1, sizeof *sl->outputs)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    json_array_foreach(outs, i, v) {
        char what[32];
        snprintf(what, sizeof what, "output %zu", i);
        if (px_jb_value(&rep->view, v, what, &sl->outputs[i], err))
            return -1;
        sl->noutputs = i + 1;
    }
    return 0;
}

/* The code, preceded for a map stage by the pseudonym key (PXTK) and, for
 * a delivering stage, the content (PXAD). */
int px_dispatch_seal_code(const px_job *j, const px_stage_spec *spec, const uint8_t box_pk[PX_BOX_PUBLICKEYBYTES],
                          px_buf *out, px_err *err) {
    if (!spec->params || !json_object_get(spec->params, "map"))
        return px_seal(out, j->o->code, j->o->code_len, box_pk, err);
    int deliver = json_object_get(spec->params, "deliver") != NULL;
    uint8_t n4[4] = {(uint8_t)j->o->content_len, (uint8_t)(j->o->content_len >> 8),
                     (uint8_t)(j->o->content_len >> 16), (uint8_t)(j->o->content_len >> 24)};
    px_buf m = PX_BUF_INIT;
    int rc = px_buf_append(&m, PX_TASK_KEY_MAGIC, 4, err) || px_buf_append(&m, j->task_key, PX_TASK_KEY_BYTES, err) ||
                     (deliver && (px_buf_append(&m, PX_CONTENT_MAGIC, 4, err) || px_buf_append(&m, n4, 4, err) ||
                                  px_buf_append(&m, j->o->content, j->o->content_len, err))) ||
                     px_buf_append(&m, j->o->code, j->o->code_len, err) || px_seal(out, m.data, m.len, box_pk, err)
                 ? -1
                 : 0;
    px_buf_free(&m);
    return rc;
}

/* The reason the instance signed into its failure proof (the same words
 * the log holds), when the proof verifies under its attested key. */
static void signed_reason(const px_slot *sl, char *out, size_t cap) {
    px_entry e;
    out[0] = 0;
    if (px_entry_parse(&e, 0, sl->proof.data, sl->proof.len, NULL))
        return;
    if (e.kind == PX_ENTRY_EXEC && !px_dsse_verify_pk(&e.env, sl->att.sign_pk, NULL) && e.reason[0]) {
        snprintf(out, cap, "%s", e.reason);
        px_x_printable(out);
    }
    px_entry_free(&e);
}

/* Run one instance's step. 1 = the task stops here (failure proven or
 * reported), 0 = go on, -1 = the dispatcher itself failed. */
static int run_one(px_job *j, px_slot *sl, px_err *err) {
    const px_stage_spec *spec = &j->m.stages[sl->stage];
    json_t *inputs = NULL;
    px_dispatch_reply rep = {0};
    px_buf body = PX_BUF_INIT, code = PX_BUF_INIT;
    px_jb jb;
    /* The body is PXJB: the sealed inputs, proofs and code as attachments
     * (the executor reads JSON too). */
    int rc = px_jb_init(&jb, 0, err) || px_x_set_hex(jb.doc, "instance", sl->instance, sizeof sl->instance, err) ||
             px_x_set(jb.doc, "inputs", inputs = json_array(), err) || step_inputs(j, sl, &jb, inputs, err);
    if (!rc && json_array_size(inputs) == 0) {
        snprintf(sl->failure, sizeof sl->failure, "stage %u (%s) partition %u on %s has no input", sl->stage,
                 px_manifest_kind_name(spec->kind), sl->partition, sl->node->id);
        px_dispatch_progress(j, "  %s", sl->failure);
        px_jb_free(&jb);
        return 1;
    }
    /* The task code, sealed to the instance whose evidence was checked. */
    if (!rc && spec->has_code)
        rc = (spec->kind == PX_STAGE_FL_AGG ? px_dispatch_fl_seal_agg(j, sl->att.box_pk, &code, err)
                                            : px_dispatch_seal_code(j, spec, sl->att.box_pk, &code, err)) ||
             px_jb_set_bytes(&jb, jb.doc, "code", code.data, code.len, err);
    if (!rc)
        rc = px_jb_encode(&jb, &body, err);
    px_jb_free(&jb);
    px_buf_free(&code);
    if (rc) {
        px_buf_free(&body);
        return -1;
    }
    px_err cerr = {0};
    int ok = 0;
    char status[32];
    uint64_t t0 = px_mono_ns();
    /* A step takes as long as its stage's limits let it (the executor
     * stops the worker then), plus the platform's own time around it:
     * the consumer waits that long, never less. */
    long wait = (long)(spec->limits.timeout_ms ? spec->limits.timeout_ms : PX_LAMBDA_TIMEOUT_MS) +
                PX_NODE_CALL_TIMEOUT_MS;
    int called = px_dispatch_call_jb(j, sl->node, "/v1/step", body.data, body.len, wait, &rep, &cerr);
    double ms = px_dispatch_ms_since(t0);
    sl->ms = ms;
    if (called) {
        px_buf_free(&body);
        report_silence(j, sl, &cerr);
        snprintf(sl->failure, sizeof sl->failure, "stage %u (%s) on %s gave no proof: %.150s", sl->stage,
                 px_manifest_kind_name(spec->kind), sl->node->id, cerr.msg);
        px_dispatch_progress(j, "  stage %u (%s) on %s: no answer: %s", sl->stage, px_manifest_kind_name(spec->kind), sl->node->id,
                 cerr.msg);
        return 1;
    }
    px_buf_free(&body);
    rc = read_step(sl, &rep, &ok, status, sizeof status, err);
    px_dispatch_reply_free(&rep);
    if (rc)
        return -1;
    if (!ok) {
        char why[PX_REASON_MAX + 1];
        signed_reason(sl, why, sizeof why);
        size_t n = strlen(status);
        int named = !strncmp(why, status, n) && why[n] == ':'; /* the reason names the status */
        snprintf(sl->failure, sizeof sl->failure, "stage %u (%s) on %s failed: %s%s%s", sl->stage,
                 px_manifest_kind_name(spec->kind), sl->node->id, named ? "" : status, why[0] && !named ? ": " : "",
                 why);
        px_dispatch_progress(j, "  %s (%.0f ms)", sl->failure, ms);
        return 1;
    }
    px_dispatch_progress(j, "  stage %u (%s) on %s: %s (%.0f ms)", sl->stage, px_manifest_kind_name(spec->kind),
                         sl->node->id, status, ms);
    return 0;
}

typedef struct step_thread {
    px_job *j;
    px_slot *sl;
    int rc;
    px_err err;
    pthread_t th;
    int started;
} step_thread;

static void *step_main(void *p) {
    step_thread *t = p;
    t->rc = run_one(t->j, t->sl, &t->err);
    return NULL;
}

/* The partitions of one stage run at the same time, each on its node; the
 * outcome is that of the lowest partition that failed, so it does not
 * depend on which finished first. */
static int run_stage(px_job *j, size_t first, size_t n, px_err *err) {
    step_thread *t = calloc(n, sizeof *t);
    if (!t)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        t[i] = (step_thread){.j = j, .sl = &j->s[first + i]};
        t[i].started = n > 1 && pthread_create(&t[i].th, NULL, step_main, &t[i]) == 0;
        if (!t[i].started)
            step_main(&t[i]);
    }
    int rc = 0;
    double ms = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i].started)
            pthread_join(t[i].th, NULL);
        ms = t[i].sl->ms > ms ? t[i].sl->ms : ms;
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (t[i].rc < 0) {
            *err = t[i].err;
            rc = -1;
        }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (t[i].rc > 0) {
            memcpy(j->r->failure, t[i].sl->failure, sizeof j->r->failure);
            rc = 1;
        }
    j->r->stage_ms[j->s[first].stage] = ms;
    free(t);
    return rc;
}

int px_dispatch_run_stages(px_job *j, px_err *err) {
    for (size_t k = 0; k < j->ns;) {
        size_t n = 1;
        while (k + n < j->ns && j->s[k + n].stage == j->s[k].stage)
            n++;
        int r = run_stage(j, k, n, err);
        if (r)
            return r;
        k += n;
    }
    /* The last stage sealed the result to our receiver key. */
    px_slot *last = &j->s[j->ns - 1];
    if (last->noutputs == 0)
        return px_fail(err, PX_E_INVALID, "the last stage returned no output");
    /* result_digest is the commitment the last proof names; the receipt
     * check compares the two. */
    if (px_open_committed(&j->r->result, j->r->result_digest, last->outputs[0].data, last->outputs[0].len,
                          &j->receiver, err) ||
        px_seal_open(&j->r->opening, last->outputs[0].data, last->outputs[0].len, &j->receiver, err))
        return px_err_prefix(err, "opening the result: ");
    return 0;
}

