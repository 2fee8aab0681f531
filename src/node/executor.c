/* The executor role: recruit a trust-λ instance for one stage of a task
 * (spawned under the node's TEE backend, which signs its evidence), then
 * run its one step on sealed inputs: its accepted-input statement and its
 * proof each go to the log, and the worker is shown them there before it
 * runs and before it releases its output (docs/lambda.md).
 * Only the task's consumer may recruit for it or drive its instances. */
#include <string.h>
#include <time.h>

#include "exec/util.h"
#include "node/node.h"

#define PX_NODE_MS_PER_S 1000

static json_t *body_json(const px_http_request *req, px_err *err) {
    json_t *o = px_json_parse(req->body, req->body_len, PX_NODE_BODY_MAX, err);
    if (o && !json_is_object(o)) {
        json_decref(o);
        px_fail(err, PX_E_INVALID, "request body must be a JSON object");
        return NULL;
    }
    return o;
}

/* The manifest must be the sender's, and the config must be for its stage. */
static int recruit_checks(const px_member *sender, const px_manifest *m, uint32_t stage, uint32_t part,
                          const px_buf *config, px_err *err) {
    if (strcmp(sender->id, m->consumer_id) ||
        !px_ct_equal(sender->signing.pk, m->consumer.pk, PX_SIGN_PUBLICKEYBYTES))
        return px_fail(err, PX_E_DENIED, "only the manifest's consumer %s may recruit for it", m->consumer_id);
    if (stage >= m->nstages || part >= m->stages[stage].partitions)
        return px_fail(err, PX_E_INVALID, "stage %u partition %u is not in the manifest", stage, part);
    px_stage_config c;
    if (px_lambda_config_parse(&c, config->data, config->len, err))
        return -1;
    int rc = px_plan_config_matches(&c, m, stage, part, err) ? px_err_prefix(err, "stage config: ") : 0;
    px_lambda_config_free(&c);
    return rc;
}

/* Drop every instance that has not started its step and whose time is
 * up (n->mu held): a consumer that recruits and walks away holds a worker
 * process only until its manifest's deadline or the node's idle limit,
 * whichever comes first. Returns how many were dropped. */
static size_t reap_locked(px_node *n, int64_t now) {
    size_t k = 0;
    for (size_t i = 0; i < n->ninst; i++)
        if (n->inst[i].used && !n->inst[i].busy && n->inst[i].expires <= now) {
            px_lambda_host_free(&n->inst[i].host);
            memset(&n->inst[i], 0, sizeof n->inst[i]);
            k++;
        }
    return k;
}

static unsigned count_of(const px_node *n, const char *consumer) {
    unsigned c = 0;
    for (size_t i = 0; i < n->ninst; i++)
        c += n->inst[i].used && !strcmp(n->inst[i].consumer, consumer);
    return c;
}

/* A free slot for the consumer's next instance (n->mu held), within its
 * quota; NULL with err when there is none. */
static px_node_instance *slot_take(px_node *n, const char *consumer, px_err *err) {
    reap_locked(n, px_now_ms());
    if (count_of(n, consumer) >= n->cfg.limits.member_instances) {
        px_fail(err, PX_E_LIMIT, "consumer %s already has %u instances on node %s, its quota", consumer,
                n->cfg.limits.member_instances, n->cfg.id);
        return NULL;
    }
    for (size_t i = 0; i < n->ninst; i++)
        if (!n->inst[i].used) {
            n->inst[i].used = 1;
            return &n->inst[i];
        }
    px_fail(err, PX_E_LIMIT, "node %s hosts too many instances", n->cfg.id);
    return NULL;
}

/* The task's deadline must be within the node's reach: an instance is a
 * worker process, and nobody may book one for years. */
static int deadline_check(const px_node *n, int64_t deadline, int64_t now, px_err *err) {
    if (deadline > now + n->cfg.limits.deadline_max_ms)
        return px_fail(err, PX_E_LIMIT,
                       "the task's deadline is %lld s away; node %s hosts instances only for tasks due within %lld s",
                       (long long)((deadline - now) / PX_NODE_MS_PER_S), n->cfg.id,
                       (long long)(n->cfg.limits.deadline_max_ms / PX_NODE_MS_PER_S));
    return 0;
}

int px_node_instance_add(px_node *n, const px_node_instance_spec *s, const px_lambda_host *h, px_err *err) {
    int64_t now = px_now_ms();
    if (deadline_check(n, s->deadline, now, err))
        return -1;
    pthread_mutex_lock(&n->mu);
    px_node_instance *in = slot_take(n, s->consumer, err);
    if (in) {
        memcpy(in->id, h->sign_pk, sizeof in->id);
        if (s->manifest)
            memcpy(in->manifest, s->manifest, sizeof in->manifest);
        snprintf(in->consumer, sizeof in->consumer, "%s", s->consumer);
        int64_t idle_end = now + n->cfg.limits.idle_ms;
        in->expires = s->waits || s->deadline < idle_end ? s->deadline : idle_end;
        in->deadline = s->deadline;
        in->busy = 0;
        in->host = *h;
        in->serves = s->serves;
        in->stepped = 0;
    }
    pthread_mutex_unlock(&n->mu);
    return in ? 0 : -1;
}

/* The instance runs the node's build, with every file's identity checked
 * first (a file changed since it was hashed is hashed again, so the
 * evidence names what will really run). */
static int start_instance(px_node *n, const px_manifest *m, uint32_t stage, const px_buf *config,
                          const uint8_t *nonce, px_lambda_host *h, px_err *err) {
    const px_stage_spec *s = &m->stages[stage];
    px_lambda_build *b = calloc(1, sizeof *b);
    if (!b)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    pthread_mutex_lock(&n->build_mu);
    int rc = px_lambda_build_refresh(n->build, NULL, err) || px_lambda_build_copy(b, n->build, err);
    pthread_mutex_unlock(&n->build_mu);
    if (rc == 0) {
        px_lambda_host_req r = {
            .backend = &px_tee_process, .build = b, .platform = &n->platform, .node = n->cfg.id,
            .kind = px_manifest_kind_name(s->kind), .code_digest = s->has_code ? s->code : NULL,
            .config = config->data, .config_len = config->len, .nonce = nonce,
            /* The worker's own limits are the platform's; the task's are
             * in the config, and its runner enforces them. */
            .timeout_ms = (int)s->limits.timeout_ms};
        rc = px_lambda_host_start_from(h, &r, n->pool, err);
        h->serve = s->kind == PX_STAGE_PIR; /* a PIR λ stays to answer queries */
    }
    px_lambda_build_free(b);
    free(b);
    return rc;
}

void px_node_recruit(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp) {
    px_err err = {0};
    json_t *o = body_json(req, &err);
    px_buf env = PX_BUF_INIT, config = PX_BUF_INIT;
    px_manifest m = {0};
    int64_t stage, part;
    uint8_t nonce[PX_TEE_NONCE_BYTES];
    px_lambda_host h;
    int rc = !o || px_json_b64(o, "manifest", &env, &err) || px_json_int(o, "stage", &stage, &err) ||
             px_json_int(o, "partition", &part, &err) || px_json_b64(o, "config", &config, &err) ||
             px_json_hex(o, "nonce", nonce, sizeof nonce, &err) || px_manifest_parse(&m, env.data, env.len, &err);
    if (!rc && (stage < 0 || part < 0 || stage >= PX_MANIFEST_MAX_STAGES || part >= PX_PLAN_MAX_INSTANCES))
        rc = px_fail(&err, PX_E_INVALID, "stage or partition out of range");
    int64_t now = px_now_ms();
    if (!rc)
        rc = recruit_checks(sender, &m, (uint32_t)stage, (uint32_t)part, &config, &err) ||
             deadline_check(n, m.deadline, now, &err);
    /* The quota is checked before a worker is started (so a consumer over
     * it costs nothing) and again when the slot is taken. */
    if (!rc) {
        pthread_mutex_lock(&n->mu);
        reap_locked(n, now);
        unsigned held = count_of(n, sender->id);
        pthread_mutex_unlock(&n->mu);
        if (held >= n->cfg.limits.member_instances) {
            px_http_error(resp, 429, "consumer %s already has %u instances on node %s, its quota", sender->id, held,
                          n->cfg.id);
            goto out;
        }
    }
    if (!rc)
        rc = start_instance(n, &m, (uint32_t)stage, &config, nonce, &h, &err);
    if (rc) {
        px_node_reply_err(resp, &err);
        goto out;
    }
    {
        px_node_instance_spec spec = {.consumer = sender->id, .manifest = m.id, .deadline = m.deadline,
                                      .serves = m.stages[stage].kind == PX_STAGE_PIR};
        if (px_node_instance_add(n, &spec, &h, &err)) {
            px_lambda_host_free(&h);
            px_http_error(resp, 429, "%s", err.msg);
            goto out;
        }
    }
    json_t *r = json_object();
    px_x_set_hex(r, "instance", h.sign_pk, sizeof h.sign_pk, NULL);
    px_x_set_b64(r, "evidence", h.evidence.data, h.evidence.len, NULL);
    px_node_reply_json(resp, r);
out:
    px_manifest_free(&m);
    px_buf_free(&env);
    px_buf_free(&config);
    json_decref(o);
}

/* ---- step ----------------------------------------------------------------------- */

typedef struct step_in {
    px_buf *bufs; /* 3 per input: sealed, proof, evidence */
    px_step_input *in;
    size_t n;
    px_buf code;
} step_in;

static void step_in_free(step_in *s) {
    for (size_t i = 0; s->bufs && i < 3 * s->n; i++)
        px_buf_free(&s->bufs[i]);
    free(s->bufs);
    free(s->in);
    px_buf_free(&s->code);
}

/* The byte fields may be attachments of a PXJB body or base64 strings
 * (docs/network.md): view holds the attachments, if any. */
static int read_inputs(step_in *s, const json_t *o, const px_jb_view *view, px_err *err) {
    json_t *arr, *v;
    size_t i;
    if (px_x_arr(o, "inputs", 1, PX_LAMBDA_MAX_INPUTS, &arr, err))
        return -1;
    s->bufs = calloc(3 * json_array_size(arr), sizeof *s->bufs);
    s->in = calloc(json_array_size(arr), sizeof *s->in);
    if (!s->bufs || !s->in)
        return px_fail(err, PX_E_NOMEM, "out of memory reading inputs");
    s->n = json_array_size(arr);
    json_array_foreach(arr, i, v) {
        px_buf *b = &s->bufs[3 * i];
        if (px_jb_bytes(view, v, "sealed", &b[0], err) || px_jb_bytes(view, v, "proof", &b[1], err) ||
            (json_object_get(v, "evidence") && px_jb_bytes(view, v, "evidence", &b[2], err)))
            return px_err_prefix(err, "input %zu: ", i);
        s->in[i] = (px_step_input){b[0].data, b[0].len, b[1].data, b[1].len, b[2].data, b[2].len};
    }
    /* The code is sealed to the instance: public bytes. */
    if (json_object_get(o, "code") && px_jb_bytes(view, o, "code", &s->code, err))
        return -1;
    return 0;
}

/* Take the instance for its one step: it must be the sender's and idle. */
static px_node_instance *claim(px_node *n, const px_member *sender, const uint8_t *id, px_err *err) {
    px_node_instance *found = NULL;
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->ninst && !found; i++)
        if (n->inst[i].used && !memcmp(n->inst[i].id, id, sizeof n->inst[i].id))
            found = &n->inst[i];
    if (!found)
        px_fail(err, PX_E_NOTFOUND, "no such instance on node %s", n->cfg.id);
    else if (strcmp(found->consumer, sender->id))
        found = NULL, px_fail(err, PX_E_DENIED, "the instance belongs to another consumer");
    else if (found->busy || found->stepped)
        found = NULL, px_fail(err, PX_E_STATE, "the instance already took its step");
    else
        found->busy = 1;
    pthread_mutex_unlock(&n->mu);
    return found;
}

static void release_slot(px_node *n, px_node_instance *in) {
    pthread_mutex_lock(&n->mu);
    px_lambda_host_free(&in->host);
    memset(in, 0, sizeof *in);
    pthread_mutex_unlock(&n->mu);
}

/* The instance's log, reached over HTTP: each statement appended (signed
 * by this node), waited for until durable, and its checkpoint and
 * inclusion proof checked against the membership's log key before the
 * worker is shown them (the worker checks them again itself). */
typedef struct step_log {
    px_node *n;
} step_log;

static int log_statement(void *ctx, const uint8_t *entry, size_t len, px_log_receipt *out, px_err *err) {
    step_log *sl = ctx;
    px_membership m;
    if (px_node_members(sl->n, &m, err))
        return -1;
    const px_member *log = px_node_find_role(&m, PX_ROLE_LOG);
    px_buf resp = PX_BUF_INIT;
    int status = 0, rc = -1;
    if (!log)
        px_fail(err, PX_E_UNAVAILABLE, "the membership has no log");
    else if (px_signed_call(&sl->n->key, sl->n->cfg.id, log->id, "POST", log->url, "/log/add?wait=1", entry, len,
                            PX_NODE_CALL_TIMEOUT_MS, 1 << 20, &status, &resp, err) == 0) {
        if (status != 200)
            px_fail(err, PX_E_UNAVAILABLE, "log %s refused the entry: HTTP %d %.*s", log->id, status,
                    (int)(resp.len > 160 ? 160 : resp.len), (const char *)resp.data);
        else
            rc = px_log_append_answer(resp.data, resp.len, entry, len, &log->signing, out, err);
    }
    px_buf_free(&resp);
    px_membership_free(&m);
    return rc;
}

/* The instance's statements are in the log already (the worker went on only
 * once shown them there); the reply says where. Its proof and outputs are
 * attachments for a client that asked for PXJB. */
static void step_reply(const px_http_request *req, px_step_result *res, px_http_response *resp) {
    px_jb jb;
    px_err err = {0};
    json_t *outs = NULL;
    int rc = px_jb_init(&jb, !px_node_wants_jb(req), &err) ||
             px_x_set(jb.doc, "ok", json_boolean(res->ok), &err) ||
             px_x_set(jb.doc, "status", json_string(res->status), &err) ||
             px_jb_set_bytes(&jb, jb.doc, "proof", res->proof.data, res->proof.len, &err) ||
             px_x_set(jb.doc, "outputs", outs = json_array(), &err);
    for (size_t i = 0; rc == 0 && i < res->noutputs; i++)
        rc = px_jb_append_bytes(&jb, outs, res->outputs[i].data, res->outputs[i].len, &err);
    if (rc == 0)
        rc = px_x_set(jb.doc, "log_index", json_integer((json_int_t)res->proof_index), &err);
    if (rc == 0 && res->accepted.len)
        rc = px_jb_set_bytes(&jb, jb.doc, "accepted", res->accepted.data, res->accepted.len, &err) ||
             px_x_set(jb.doc, "accepted_index", json_integer((json_int_t)res->accepted_index), &err);
    if (rc) {
        px_jb_free(&jb);
        px_http_error(resp, 500, "building the step's reply: %s", err.msg);
        return;
    }
    px_node_reply_jb(resp, &jb);
}

/* A step that did not end ok is worth a line in the node's own log (its
 * operator's first place to look): what the instance signed, or why there
 * is no proof. The reason is already public (it is in the log). */
static void log_failed_step(const px_node *n, const px_node_instance *in, const px_step_result *res,
                            const px_err *err) {
    char mid[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(mid, in->manifest, PX_SHA256_BYTES);
    px_entry e;
    if (!res) {
        fprintf(stderr, "pixiud: node %s: task %.16s... of %s: a step gave no proof: %s\n", n->cfg.id, mid,
                in->consumer, err->msg);
    } else if (px_entry_parse(&e, 0, res->proof.data, res->proof.len, NULL) == 0) {
        fprintf(stderr, "pixiud: node %s: task %.16s... of %s: stage %lld (%s) partition %u: %s%s%s\n", n->cfg.id,
                mid, in->consumer, (long long)e.stage, e.stage_kind, e.partition, res->status, e.reason[0] ? ": " : "",
                e.reason);
        px_entry_free(&e);
    }
}

void px_node_step(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp) {
    px_err err = {0};
    json_t *o = NULL;
    px_jb_view view = {0};
    step_in s = {0};
    uint8_t id[PX_SIGN_PUBLICKEYBYTES];
    px_node_instance *in = NULL;
    if (px_jb_parse(req->body, req->body_len, PX_NODE_BODY_MAX, &o, &view, &err) == 0 && !json_is_object(o))
        px_fail(&err, PX_E_INVALID, "request body must be a JSON object");
    if (!json_is_object(o) || px_json_hex(o, "instance", id, sizeof id, &err) || read_inputs(&s, o, &view, &err) ||
        !(in = claim(n, sender, id, &err))) {
        px_node_reply_err(resp, &err);
        goto out;
    }
    px_step_result res;
    memset(&res, 0, sizeof res);
    step_log sl = {n};
    px_lambda_log log = {log_statement, &sl};
    int keep = 0;
    if (px_lambda_host_step(&in->host, s.code.len ? s.code.data : NULL, s.code.len, s.in, s.n, &log, &res, &err)) {
        log_failed_step(n, in, NULL, &err);
        px_node_reply_err(resp, &err); /* nothing released: the audit reads the log */
    } else {
        if (!res.ok)
            log_failed_step(n, in, &res, &err);
        keep = in->host.serving && px_node_serving_keep(n, in, &res);
        step_reply(req, &res, resp);
    }
    px_step_result_free(&res);
    if (!keep)
        release_slot(n, in);
out:
    step_in_free(&s);
    px_jb_view_free(&view);
    json_decref(o);
}

/* ---- drop ----------------------------------------------------------------------- */

/* {"manifest": hex}: the consumer's instances for that task that have not
 * started their step are stopped now (its plan was refused, or it gave up),
 * instead of at their expiry. */
void px_node_drop(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp) {
    px_err err = {0};
    json_t *o = body_json(req, &err);
    uint8_t mid[PX_SHA256_BYTES];
    if (!o || px_json_hex(o, "manifest", mid, sizeof mid, &err)) {
        json_decref(o);
        px_node_reply_err(resp, &err);
        return;
    }
    json_decref(o);
    size_t dropped = 0;
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->ninst; i++) {
        px_node_instance *in = &n->inst[i];
        if (in->used && !in->busy && !strcmp(in->consumer, sender->id) && !memcmp(in->manifest, mid, sizeof mid)) {
            px_lambda_host_free(&in->host);
            memset(in, 0, sizeof *in);
            dropped++;
        }
    }
    pthread_mutex_unlock(&n->mu);
    px_node_reply_json(resp, json_pack("{s:I}", "dropped", (json_int_t)dropped));
}

/* ---- the reaper ----------------------------------------------------------------- */

static void *reaper(void *arg) {
    px_node *n = arg;
    pthread_mutex_lock(&n->mu);
    while (!n->reaper_stop) {
        reap_locked(n, px_now_ms());
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += PX_NODE_REAP_EVERY_S;
        pthread_cond_timedwait(&n->reaper_cv, &n->mu, &ts);
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

int px_node_reaper_start(px_node *n, px_err *err) {
    if (pthread_create(&n->reaper, NULL, reaper, n))
        return px_fail(err, PX_E_NOMEM, "cannot start the instance reaper");
    n->reaper_started = 1;
    return 0;
}

void px_node_reaper_stop(px_node *n) {
    if (!n->reaper_started)
        return;
    pthread_mutex_lock(&n->mu);
    n->reaper_stop = 1;
    pthread_cond_signal(&n->reaper_cv);
    pthread_mutex_unlock(&n->mu);
    pthread_join(n->reaper, NULL);
    n->reaper_started = 0;
}
