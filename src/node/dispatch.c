/* The consumer's dispatcher: from a manifest template to a verified
 * receipt. It recruits one instance per stage back to front (so each
 * config can name its successor's attested key), publishes the signed plan,
 * asks each POD to admit it, drives the stages in order, and proves the
 * outcome from the log. Sealed payloads pass through it; it can open only
 * what the last stage sealed to its own receiver key. */
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "node/dispatch.h"

#define PX_SUBMIT_DEADLINE_MS (10 * 60 * 1000)

double px_dispatch_ms_since(uint64_t t0) {
    return (double)(px_mono_ns() - t0) / 1e6;
}

void px_dispatch_progress(const px_job *j, const char *fmt, ...) {
    if (!j->o->progress)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(j->o->progress, fmt, ap);
    va_end(ap);
    fputc('\n', j->o->progress);
    fflush(j->o->progress);
}

void px_dispatch_reply_free(px_dispatch_reply *r) {
    json_decref(r->doc);
    px_jb_view_free(&r->view);
    px_buf_free(&r->body);
    memset(r, 0, sizeof *r);
}

/* One signed call. With jb, the request says what its body is (PXJB or
 * JSON, by its magic) and asks for a PXJB reply; the reply is read in
 * either form, since any node may still answer JSON. */
static int call(const px_job *j, const px_member *to, const char *path, int jb, const void *body, size_t len,
                long timeout_ms, px_dispatch_reply *out, px_err *err) {
    px_dispatch_reply r = {0};
    int status = 0;
    px_http_header h[] = {{"Content-Type", px_jb_is(body, len) ? PX_JB_CONTENT_TYPE : "application/json"},
                          {"Accept", PX_JB_CONTENT_TYPE ", application/json"}};
    int rc = px_signed_call_with(j->o->key, j->o->id, to->id, "POST", to->url, path, h, jb ? 2 : 0, body, len,
                                 timeout_ms, PX_NODE_BODY_MAX, &status, &r.body, err);
    if (rc) {
        px_buf_free(&r.body);
        return px_err_prefix(err, "%s: ", to->id);
    }
    if (status != 200) {
        json_t *o = px_json_parse(r.body.data, r.body.len, PX_NODE_BODY_MAX, NULL);
        const char *e = json_string_value(json_object_get(o, "error"));
        rc = px_fail(err, status == 504 || status == 503 || status == 429 ? PX_E_UNAVAILABLE : PX_E_DENIED,
                     "%s %s: HTTP %d: %s", to->id, path, status, e ? e : "no reason given");
        json_decref(o);
    } else if (jb) {
        px_err perr = {0};
        if (px_jb_parse(r.body.data, r.body.len, PX_NODE_BODY_MAX, &r.doc, &r.view, &perr))
            rc = px_fail(err, PX_E_INVALID, "%s %s: the reply is not JSON: %s", to->id, path, perr.msg);
    } else if (!(r.doc = px_json_parse(r.body.data, r.body.len, PX_NODE_BODY_MAX, NULL))) {
        rc = px_fail(err, PX_E_INVALID, "%s %s: the reply is not JSON", to->id, path);
    }
    if (rc) {
        px_dispatch_reply_free(&r);
        return -1;
    }
    *out = r;
    return 0;
}

int px_dispatch_call_jb(const px_job *j, const px_member *to, const char *path, const void *body, size_t len,
                        long timeout_ms, px_dispatch_reply *out, px_err *err) {
    return call(j, to, path, 1, body, len, timeout_ms, out, err);
}

int px_dispatch_call(const px_job *j, const px_member *to, const char *path, const void *body, size_t len, json_t **out,
                     px_err *err) {
    return px_dispatch_call_within(j, to, path, body, len, PX_NODE_CALL_TIMEOUT_MS, out, err);
}

int px_dispatch_call_within(const px_job *j, const px_member *to, const char *path, const void *body, size_t len,
                            long timeout_ms, json_t **out, px_err *err) {
    px_dispatch_reply r;
    if (call(j, to, path, 0, body, len, timeout_ms, &r, err))
        return -1;
    *out = r.doc;
    r.doc = NULL;
    px_dispatch_reply_free(&r);
    return 0;
}

int px_dispatch_append_log(const px_job *j, const px_buf *entry, px_err *err) {
    px_buf resp = PX_BUF_INIT;
    int status = 0;
    int rc = px_signed_call(j->o->key, j->o->id, j->log->id, "POST", j->log->url, "/log/add", entry->data, entry->len,
                            PX_NODE_CALL_TIMEOUT_MS, 1 << 20, &status, &resp, err);
    if (rc == 0 && status != 200)
        rc = px_fail(err, PX_E_UNAVAILABLE, "log refused an entry: HTTP %d %.*s", status,
                     (int)(resp.len > 160 ? 160 : resp.len), (const char *)resp.data);
    px_buf_free(&resp);
    return rc;
}

/* ---- the manifest ------------------------------------------------------------ */

/* A map stage's params commit to the task's pseudonym key, which only the
 * map instances receive (sealed with the code): every partition then tags a
 * user alike, and no one else can link a tag to a user id. */
static int map_pseudonym(px_job *j, json_t *stage, px_err *err) {
    json_t *params = json_object_get(stage, "params");
    if (!json_is_object(params) || !json_object_get(params, "map") || json_object_get(params, "pseudonym"))
        return 0;
    uint8_t c[PX_SHA256_BYTES];
    px_task_key_commit(c, j->task_key);
    return px_x_set_hex(params, "pseudonym", c, sizeof c, err);
}

/* A delivering stage names what it delivers by its digest (signed in the
 * manifest); the content itself is sealed with the code. */
static int deliver_content(px_job *j, json_t *stage, size_t i, px_err *err) {
    json_t *d = json_object_get(json_object_get(stage, "params"), "deliver");
    if (!json_is_object(d) || json_object_get(d, "content"))
        return 0;
    if (!j->o->content)
        return px_fail(err, PX_E_INVALID, "stage %zu delivers content and none was given", i);
    uint8_t c[PX_SHA256_BYTES];
    px_sha256(c, j->o->content, j->o->content_len);
    return px_x_set_hex(d, "content", c, sizeof c, err);
}

static int complete_manifest(px_job *j, const void *tmpl, size_t len, px_err *err) {
    json_t *doc = px_json_parse(tmpl, len, PX_MANIFEST_MAX_BYTES, err);
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        return doc ? px_fail(err, PX_E_INVALID, "manifest template must be a JSON object") : -1;
    }
    px_verifier v;
    px_buf vk = PX_BUF_INIT, body = PX_BUF_INIT;
    px_signer_verifier(j->o->key, &v);
    uint8_t nonce[PX_NONCE_BYTES];
    px_random(nonce, sizeof nonce);
    int64_t now = px_now_ms();
    px_box_keygen(&j->receiver);
    px_random(j->task_key, sizeof j->task_key);
    int rc = px_verifier_format(&v, &vk, err) ||
             px_x_set(doc, "consumer", json_pack("{s:s,s:s%}", "id", j->o->id, "key", (char *)vk.data, vk.len), err);
    if (!rc && !json_object_get(doc, "schema"))
        rc = px_x_set(doc, "schema", json_string(PX_MANIFEST_SCHEMA), err);
    if (!rc)
        rc = px_x_set_hex(doc, "nonce", nonce, sizeof nonce, err) || px_x_set(doc, "created", json_integer(now), err);
    if (!rc && !json_object_get(doc, "deadline"))
        rc = px_x_set(doc, "deadline", json_integer(now + PX_SUBMIT_DEADLINE_MS), err);
    if (!rc && !json_object_get(doc, "receivers")) {
        char hex[2 * PX_BOX_PUBLICKEYBYTES + 1];
        px_hex_encode(hex, j->receiver.pk, sizeof j->receiver.pk);
        rc = px_x_set(doc, "receivers", json_pack("[{s:s,s:s}]", "id", j->o->id, "key", hex), err);
    }
    /* The task's code digest, when the template leaves it to us. */
    json_t *stages = json_object_get(doc, "stages"), *st;
    size_t i;
    json_array_foreach(stages, i, st) {
        json_t *kind = json_object_get(st, "kind");
        if (!rc && json_is_string(kind) && !json_object_get(st, "code"))
            rc = px_dispatch_fl_code(j, st, json_string_value(kind), i, err);
        if (!rc && json_is_string(kind) && !strcmp(json_string_value(kind), "wasm"))
            rc = map_pseudonym(j, st, err) || deliver_content(j, st, i, err);
        if (!rc && json_is_string(kind) && !strcmp(json_string_value(kind), "wasm") && !json_object_get(st, "code")) {
            uint8_t d[PX_SHA256_BYTES];
            if (!j->o->code)
                rc = px_fail(err, PX_E_INVALID, "stage %zu is a wasm stage and no task code was given", i);
            else {
                px_sha256(d, j->o->code, j->o->code_len);
                rc = px_x_set_hex(st, "code", d, sizeof d, err);
            }
        }
    }
    if (!rc)
        rc = px_json_dump(doc, &body, err) ||
             px_manifest_sign(&j->r->manifest_env, body.data, body.len, j->o->key, err) ||
             px_manifest_parse(&j->m, j->r->manifest_env.data, j->r->manifest_env.len, err);
    json_decref(doc);
    px_buf_free(&vk);
    px_buf_free(&body);
    if (rc == 0)
        memcpy(j->r->manifest, j->m.id, PX_SHA256_BYTES);
    return rc;
}

/* A task that cannot run is refused before any POD is asked: the module
 * must pass the sandbox's checks under each of its stages' limits. */
static int code_fits(const px_job *j, px_err *err) {
    uint8_t d[PX_SHA256_BYTES];
    if (!j->o->code)
        return 0;
    px_sha256(d, j->o->code, j->o->code_len);
    for (size_t i = 0; i < j->m.nstages; i++) {
        const px_stage_spec *s = &j->m.stages[i];
        if ((s->kind == PX_STAGE_WASM || s->kind == PX_STAGE_FL_USER) && s->has_code &&
            px_ct_equal(s->code, d, sizeof d) && px_limits_check_module(&s->limits, j->o->code, j->o->code_len, err))
            return px_err_prefix(err, "stage %zu (%s): the task cannot run: ", i, px_manifest_kind_name(s->kind));
    }
    return 0;
}

/* ---- recruitment, back to front ------------------------------------------------ */

/* Every POD a dataset names must be a POD of the membership: a POD the
 * dispatcher cannot ask would silently drop out of the task. */
static int pods_known(const px_job *j, px_err *err) {
    for (size_t d = 0; d < j->m.ndatasets; d++)
        for (size_t k = 0; k < j->m.datasets[d].npods; k++) {
            const char *id = j->m.datasets[d].pods[k];
            const px_member *x = px_membership_find(j->o->members, id);
            if (!x)
                return px_fail(err, PX_E_INVALID, "dataset \"%s\": POD \"%s\" is not in the membership",
                               j->m.datasets[d].name, id);
            if (!(x->roles & PX_ROLE_POD))
                return px_fail(err, PX_E_INVALID, "dataset \"%s\": node \"%s\" is in the membership but not a POD",
                               j->m.datasets[d].name, id);
            if (j->kpod && !x->has_platform)
                return px_fail(err, PX_E_INVALID, "dataset \"%s\": POD \"%s\" cannot host the stages at the PODs "
                               "(the membership gives it no platform key)", j->m.datasets[d].name, id);
        }
    return 0;
}

/* The n-th executor (in membership order) whose TEE level, as the
 * membership states it, meets min_level; NULL past the last. */
static const px_member *eligible(const px_membership *mem, uint32_t min_level, size_t n) {
    for (size_t i = 0; i < mem->n; i++) {
        const px_member *x = &mem->nodes[i];
        if ((x->roles & PX_ROLE_EXECUTOR) && x->level >= 0 && (uint32_t)x->level >= min_level && n-- == 0)
            return x;
    }
    return NULL;
}

/* No executor of the stage's level: say which level the network has. */
static int no_executor(const px_job *j, uint32_t s, px_err *err) {
    const px_membership *mem = j->o->members;
    const px_member *best = NULL;
    for (size_t i = 0; i < mem->n; i++)
        if ((mem->nodes[i].roles & PX_ROLE_EXECUTOR) && (!best || mem->nodes[i].level > best->level))
            best = &mem->nodes[i];
    if (!best)
        return px_fail(err, PX_E_UNAVAILABLE, "the membership has no executor");
    return px_fail(err, PX_E_UNAVAILABLE, "stage %u (%s) needs TEE level %u: no executor in the membership has it "
                   "(the highest is level %d, on %s)", s, px_manifest_kind_name(j->m.stages[s].kind),
                   j->m.stages[s].min_level, best->level, best->id);
}

/* Each stage's instances go round robin over the executors whose level
 * meets the stage's minimum (one counter over all stages, so consecutive
 * stages land on different nodes when they can). */
static int assign(px_job *j, px_err *err) {
    const px_membership *mem = j->o->members;
    size_t k = 0;
    j->kpod = px_manifest_pod_stages(&j->m);
    if (pods_known(j, err))
        return -1;
    /* Stages at the PODs get no slot: each POD starts its own instances. */
    for (size_t s = j->kpod; s < j->m.nstages; s++)
        j->ns += j->m.stages[s].partitions;
    for (size_t s = j->kpod; s + 1 < j->m.nstages; s++) {
        uint32_t a = j->m.stages[s].partitions, b = j->m.stages[s + 1].partitions;
        if (a != b && b != 1 && a != 1)
            return px_fail(err, PX_E_INVALID, "stage %zu has %u partitions and stage %zu has %u: a stage must have "
                           "as many partitions as the one before it, or one, or follow a single one", s, a, s + 1, b);
    }
    for (uint32_t s = j->kpod; s < j->m.nstages; s++)
        if (!eligible(mem, j->m.stages[s].min_level, 0))
            return no_executor(j, s, err);
    if (!(j->s = calloc(j->ns, sizeof *j->s)))
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (uint32_t s = j->kpod; s < j->m.nstages; s++) {
        size_t n = 0;
        while (eligible(mem, j->m.stages[s].min_level, n))
            n++;
        for (uint32_t q = 0; q < j->m.stages[s].partitions; q++, k++) {
            j->s[k].node = eligible(mem, j->m.stages[s].min_level, k % n);
            j->s[k].stage = s;
            j->s[k].partition = q;
        }
    }
    return 0;
}

/* 1 if the POD is dealt to this first-stage partition (see podrole.c). */
static int pod_feeds(const px_manifest *m, const char *pod, uint32_t partition) {
    for (size_t d = 0; d < m->ndatasets; d++)
        for (size_t k = 0; k < m->datasets[d].npods; k++)
            if (!strcmp(m->datasets[d].pods[k], pod) && k % m->stages[0].partitions == partition)
                return 1;
    return 0;
}

/* Verifier keys the instance of stage s, partition q, accepts input from:
 * the PODs dealt to it, or the platforms of the previous stage's nodes. */
static int predecessors(const px_job *j, uint32_t s, uint32_t q, px_verifier **out, size_t *n, int *pods,
                        px_err *err) {
    const px_membership *mem = j->o->members;
    *out = calloc(mem->n + 1, sizeof **out);
    *n = 0;
    if (!*out)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    *pods = s == 0;
    for (size_t i = 0; i < mem->n; i++) {
        const px_member *x = &mem->nodes[i];
        int want = 0;
        if (s == 0)
            want = (x->roles & PX_ROLE_POD) && pod_feeds(&j->m, x->id, q);
        else if (s == j->kpod) /* after the PODs: the POD nodes dealt to it */
            want = (x->roles & PX_ROLE_POD) && px_manifest_has_pod(&j->m, x->id) &&
                   px_manifest_collector_partition(&j->m, (uint64_t)px_manifest_pod_position(&j->m, x->id)) == q;
        else
            for (size_t k = 0; k < j->ns; k++)
                want |= j->s[k].stage == s - 1 && j->s[k].node == x;
        if (want && s == 0)
            (*out)[(*n)++] = x->signing;
        else if (want && x->has_platform)
            (*out)[(*n)++] = x->platform;
    }
    return 0;
}

/* Which output of instance a (stage s) goes to instance b (stage s+1): with
 * equal partition counts partition q feeds partition q; into a single
 * instance every partition feeds it; out of a single instance, output k
 * goes to partition k. -1 when a does not feed b. */
int px_dispatch_output_for(const px_job *j, const px_slot *a, const px_slot *b) {
    uint32_t pa = j->m.stages[a->stage].partitions, pb = j->m.stages[b->stage].partitions;
    if (!px_manifest_feeds(&j->m, a->stage, a->partition, b->partition))
        return -1;
    return pb == 1 || pa == pb ? 0 : (int)b->partition;
}

/* An executor that is restarting or cut off for a moment is asked again
 * for a while (nothing is published yet, so waiting costs nobody but this
 * consumer); an instance a lost answer left behind is dropped by its node
 * at its idle limit. */
#define PX_DISPATCH_RECRUIT_WAIT_MS 30000

static int recruit_call(px_job *j, const px_slot *sl, const px_buf *body, json_t **rep, px_err *err) {
    uint64_t t0 = px_mono_ns();
    long pause = 500;
    for (;;) {
        if (px_dispatch_call(j, sl->node, "/v1/recruit", body->data, body->len, rep, err) == 0)
            return 0;
        long spent = (long)((px_mono_ns() - t0) / 1000000);
        if (!err || err->code != PX_E_UNAVAILABLE || spent + pause > PX_DISPATCH_RECRUIT_WAIT_MS)
            return -1;
        px_dispatch_progress(j, "  %s: trying again in %.1f s", err->msg, (double)pause / 1000);
        struct timespec ts = {pause / 1000, (pause % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        pause *= 2;
    }
}

static int recruit_one(px_job *j, px_slot *sl, px_err *err) {
    const px_manifest *m = &j->m;
    uint8_t succ[PX_LAMBDA_MAX_SUCCESSORS][PX_BOX_PUBLICKEYBYTES];
    size_t nsucc = 0;
    if (sl->stage + 1 == m->nstages)
        for (size_t i = 0; i < m->nreceivers && nsucc < PX_LAMBDA_MAX_SUCCESSORS; i++)
            memcpy(succ[nsucc++], m->receivers[i].box_pk, PX_BOX_PUBLICKEYBYTES);
    else
        for (size_t k = 0; k < j->ns && nsucc < PX_LAMBDA_MAX_SUCCESSORS; k++)
            if (j->s[k].stage == sl->stage + 1 && px_dispatch_output_for(j, sl, &j->s[k]) >= 0)
                memcpy(succ[nsucc++], j->s[k].att.box_pk, PX_BOX_PUBLICKEYBYTES);
    px_verifier *pre;
    size_t npre;
    int pods = 0;
    if (predecessors(j, sl->stage, sl->partition, &pre, &npre, &pods, err))
        return -1;
    int rc = px_plan_config_build(&sl->config, m, sl->stage, sl->partition, (const uint8_t(*)[32])succ, nsucc,
                                   pods ? NULL : pre, pods ? 0 : npre, pods ? pre : NULL, pods ? npre : 0,
                                   &j->log->signing, err);
    free(pre);
    if (rc)
        return -1;
    px_random(sl->nonce, sizeof sl->nonce);
    json_t *req = json_object(), *rep = NULL;
    px_buf body = PX_BUF_INIT;
    rc = px_x_set_b64(req, "manifest", m->envelope.data, m->envelope.len, err) ||
         px_x_set(req, "stage", json_integer(sl->stage), err) ||
         px_x_set(req, "partition", json_integer(sl->partition), err) ||
         px_x_set_b64(req, "config", sl->config.data, sl->config.len, err) ||
         px_x_set_hex(req, "nonce", sl->nonce, sizeof sl->nonce, err) || px_json_dump(req, &body, err) ||
         recruit_call(j, sl, &body, &rep, err) ||
         px_json_hex(rep, "instance", sl->instance, sizeof sl->instance, err) ||
         px_json_b64(rep, "evidence", &sl->evidence, err);
    /* Trust nothing the executor said until its evidence checks out. */
    if (!rc)
        rc = px_exec_evidence_check(&j->trust.exec, sl->node->id, sl->evidence.data, sl->evidence.len, sl->nonce,
                                    &m->stages[sl->stage], sl->config.data, sl->config.len, &sl->att, err);
    if (!rc && sl->att.level < m->stages[sl->stage].min_level)
        rc = px_fail(err, PX_E_DENIED, "level %u is below the manifest's minimum", sl->att.level);
    if (!rc && !px_ct_equal(sl->att.sign_pk, sl->instance, PX_SIGN_PUBLICKEYBYTES))
        rc = px_fail(err, PX_E_VERIFY, "the evidence is for another instance");
    json_decref(req);
    json_decref(rep);
    px_buf_free(&body);
    if (rc)
        return px_err_prefix(err, "recruiting stage %u (%s) on %s: ", sl->stage,
                             px_manifest_kind_name(m->stages[sl->stage].kind), sl->node->id);
    px_dispatch_progress(j, "  recruited stage %u (%s) partition %u on %s: %s level %u", sl->stage,
             px_manifest_kind_name(m->stages[sl->stage].kind), sl->partition, sl->node->id, sl->att.backend,
             sl->att.level);
    return 0;
}

/* The plan goes into the log whole, or in parts when it is larger than
 * one log entry (docs/executor.md, "The plan in the log"). */
static int publish_plan(px_job *j, px_err *err) {
    px_buf *e = NULL;
    size_t n = 0;
    int rc = px_plan_publish(&e, &n, j->plan.data, j->plan.len, 0, &j->m, j->o->key, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = px_dispatch_append_log(j, &e[i], err);
    for (size_t i = 0; i < n; i++)
        px_buf_free(&e[i]);
    free(e);
    if (rc == 0) {
        j->published = 1;
        px_dispatch_progress(j, "  plan published (%zu instances, %zu bytes in %zu log entr%s)", j->ns, j->plan.len,
                             n, n == 1 ? "y" : "ies");
    }
    return rc;
}

static int recruit(px_job *j, px_err *err) {
    for (size_t k = j->ns; k-- > 0;)
        if (recruit_one(j, &j->s[k], err))
            return -1;
    px_plan_instance *ins = calloc(j->ns, sizeof *ins);
    if (!ins)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t k = 0; k < j->ns; k++) {
        ins[k] = (px_plan_instance){.stage = j->s[k].stage, .partition = j->s[k].partition,
                                    .config = j->s[k].config, .evidence = j->s[k].evidence};
        memcpy(ins[k].node, j->s[k].node->id, strlen(j->s[k].node->id) + 1);
        memcpy(ins[k].nonce, j->s[k].nonce, sizeof ins[k].nonce);
    }
    /* Read back once: each POD is sent its path, cut from it. */
    int rc = px_plan_sign(&j->plan, &j->m, ins, j->ns, j->o->key, err) ||
             px_plan_parse(&j->parsed, j->plan.data, j->plan.len, err) || publish_plan(j, err);
    free(ins);
    return rc;
}

/* ---- the whole task ------------------------------------------------------------- */

/* The builds the consumer accepts: those it was given, else the one this
 * machine runs. Its own build also explains refusals (which component of
 * an executor's build differs), so it is computed either way. */
static int trust_init(px_job *j, px_err *err) {
    px_err own_err = {0};
    if (px_node_build(&j->own, NULL, &own_err)) {
        j->own = NULL;
        if (!j->o->nbuilds) {
            if (err)
                *err = own_err;
            return px_err_prefix(err, "no accepted build was given and this machine's cannot be computed: ");
        }
    }
    const uint8_t(*builds)[PX_SHA256_BYTES] = j->o->nbuilds ? j->o->builds : (const uint8_t(*)[PX_SHA256_BYTES])&j->own->digest;
    return px_node_trust_init(&j->trust, j->o->members, builds, j->o->nbuilds ? j->o->nbuilds : 1,
                              j->own ? &j->own->build : NULL, err);
}

static void job_free(px_job *j) {
    px_memzero(j->task_key, sizeof j->task_key);
    for (size_t k = 0; j->s && k < j->ns; k++) {
        px_buf_free(&j->s[k].config);
        px_buf_free(&j->s[k].evidence);
        px_buf_free(&j->s[k].proof);
        for (size_t i = 0; i < j->s[k].noutputs; i++)
            px_buf_free(&j->s[k].outputs[i]);
        free(j->s[k].outputs);
    }
    free(j->s);
    for (size_t i = 0; i < j->nrel; i++) {
        px_buf_free(&j->rel_sealed[i]);
        px_buf_free(&j->rel_env[i]);
    }
    free(j->rel_sealed);
    free(j->rel_env);
    free(j->rel_key);
    px_buf_free(&j->plan);
    px_plan_free(&j->parsed);
    px_dispatch_pods_free(j);
    px_buf_free(&j->fl_roster);
    px_buf_free(&j->fl_reveals);
    px_manifest_free(&j->m);
    px_node_trust_free(&j->trust);
    if (j->own)
        px_node_build_free(j->own);
    px_memzero(&j->receiver, sizeof j->receiver);
}

/* A task that stopped after its plan was published: build the failure
 * receipt. The dispatcher's own error (rc -1) becomes the task's failure
 * when the receipt can be built; otherwise it stands. */
static int prove_failure(px_job *j, int rc, px_err *err) {
    if (rc < 0)
        snprintf(j->r->failure, sizeof j->r->failure, "%s", err->msg);
    px_err ferr = {0};
    uint64_t t0 = px_mono_ns();
    if (px_dispatch_failure_receipt(j, &ferr) || px_dispatch_check_receipt(j, &ferr)) {
        px_dispatch_progress(j, "  no failure receipt: %s", ferr.msg);
        px_buf_free(&j->r->receipt);
        if (rc < 0)
            return rc;
        *err = ferr;
        return -1;
    }
    j->r->receipt_ms = px_dispatch_ms_since(t0);
    return 0;
}

/* A task that did not complete gives back what it holds: each executor
 * hosting one of its instances drops those that have not started their
 * step (a refused plan leaves them all idle). Best effort: an executor that
 * does not answer drops them at their expiry. */
static void drop_instances(px_job *j) {
    char hex[2 * PX_SHA256_BYTES + 1];
    px_buf body = PX_BUF_INIT;
    px_hex_encode(hex, j->m.id, sizeof j->m.id);
    if (px_buf_printf(&body, NULL, "{\"manifest\":\"%s\"}", hex))
        return;
    for (size_t k = 0; k < j->ns; k++) {
        const px_member *node = j->s[k].node;
        int seen = !j->s[k].evidence.len;
        for (size_t i = 0; i < k && !seen; i++)
            seen = j->s[i].node == node && j->s[i].evidence.len;
        json_t *rep = NULL;
        px_err e = {0};
        if (!seen && px_dispatch_call(j, node, "/v1/drop", body.data, body.len, &rep, &e) == 0)
            json_decref(rep);
    }
    px_buf_free(&body);
}

int px_submit(const px_submit_opts *o, const void *tmpl, size_t len, px_submit_result *r, px_err *err) {
    memset(r, 0, sizeof *r);
    px_job j = {.o = o, .r = r};
    int rc = -1;
    if (!(j.log = px_node_find_role(o->members, PX_ROLE_LOG))) {
        px_fail(err, PX_E_UNAVAILABLE, "the membership has no log");
        goto out;
    }
    if (trust_init(&j, err) || complete_manifest(&j, tmpl, len, err) || code_fits(&j, err) ||
        assign(&j, err))
        goto out;
    char hex[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(hex, j.m.id, sizeof j.m.id);
    px_dispatch_progress(&j, "task %s", hex);
    r->nstages = j.m.nstages;
    uint64_t t0 = px_mono_ns();
    if (recruit(&j, err))
        goto out;
    r->recruit_ms = px_dispatch_ms_since(t0);
    t0 = px_mono_ns();
    if (j.kpod ? px_dispatch_pods(&j, err) : px_dispatch_admit(&j, err))
        goto out;
    if (j.m.has_training && px_dispatch_fl_unmask(&j, err))
        goto out;
    r->admit_ms = px_dispatch_ms_since(t0);
    int stopped = px_dispatch_run_stages(&j, err);
    if (stopped < 0)
        goto out;
    rc = 0;
    if (stopped)
        goto out;
    t0 = px_mono_ns();
    if (px_dispatch_receipt(&j, NULL, err) || px_dispatch_check_receipt(&j, err)) {
        rc = -1;
        goto out;
    }
    r->receipt_ms = px_dispatch_ms_since(t0);
    r->ok = 1;
out:
    if (!r->ok && j.s)
        drop_instances(&j);
    /* Once the plan is in the log, every end gets a receipt: a failure is
     * proven from the log like a success. */
    if (!r->ok && j.published)
        rc = prove_failure(&j, rc, err);
    job_free(&j);
    return rc;
}

void px_submit_result_free(px_submit_result *r) {
    px_buf_free(&r->opening);
    px_buf_free(&r->manifest_env);
    px_buf_free(&r->result);
    px_buf_free(&r->receipt);
    memset(r, 0, sizeof *r);
}
