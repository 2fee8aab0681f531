/* Polls on a node (docs/polls.md): the issuer's endpoints (a key for a
 * poll in preparation, opening the poll, issuing blind signatures, the
 * count at close), the ballot box's (opening, taking sealed ballots
 * unsigned, releasing them to the tally) and the tally instance's
 * recruitment on an executor. Its step is an ordinary /v1/step. */
#include <string.h>

#include "exec/util.h"
#include "node/node.h"

#define POLL_BITS_DEFAULT 2048

static json_t *body(const px_http_request *req, px_err *err) {
    json_t *o = px_json_parse(req->body, req->body_len, PX_NODE_BODY_MAX, err);
    if (o && !json_is_object(o)) {
        json_decref(o);
        px_fail(err, PX_E_INVALID, "request body must be a JSON object");
        return NULL;
    }
    return o;
}

/* The node's own build: what it judges a tally instance's evidence by. */
static int own_build(px_node *n, uint8_t out[PX_SHA256_BYTES], px_err *err) {
    int rc = 0;
    pthread_mutex_lock(&n->build_mu);
    if (!n->build)
        rc = px_fail(err, PX_E_UNAVAILABLE, "node %s has no build to judge the tally instance by", n->cfg.id);
    else
        memcpy(out, n->build->digest, PX_SHA256_BYTES);
    pthread_mutex_unlock(&n->build_mu);
    return rc;
}

static int check_plan(px_node *n, const px_buf *plan, px_poll_plan *p, px_poll_attested *att, px_err *err) {
    px_membership m;
    uint8_t build[PX_SHA256_BYTES];
    if (own_build(n, build, err) || px_node_members(n, &m, err))
        return -1;
    int rc = px_node_poll_check(&m, (const uint8_t(*)[PX_SHA256_BYTES])build, 1, plan->data, plan->len, p, att, err);
    px_membership_free(&m);
    return rc;
}

static int is_conductor(const px_member *sender, const px_poll_survey *s, px_err *err) {
    if (!sender || strcmp(sender->id, s->conductor.id) ||
        memcmp(sender->signing.pk, s->conductor.key.pk, PX_SIGN_PUBLICKEYBYTES))
        return px_fail(err, PX_E_DENIED, "only the poll's conductor %s may ask this", s->conductor.id);
    return 0;
}

/* Seal payload to the tally instance and sign its release; both the
 * release and, when given, a statement before it go to the log. */
static int release_to_tally(px_node *n, const px_poll_plan *p, const char *dataset, uint64_t records,
                            const px_buf *payload, json_t *reply, px_err *err) {
    px_evidence ev;
    uint8_t r[PX_COMMIT_RANDBYTES], c[PX_SHA256_BYTES];
    px_buf sealed = PX_BUF_INIT, rel = PX_BUF_INIT;
    uint64_t index = 0;
    int rc = px_evidence_parse(&ev, p->evidence.data, p->evidence.len, err);
    if (rc == 0) {
        px_commit_new(r, payload->data, payload->len, c);
        rc = px_seal_committed(&sealed, r, payload->data, payload->len, ev.box_pk, err) ||
             px_poll_release_sign(&rel, p->survey.id, n->cfg.id, dataset, c, records, ev.box_pk, &n->key, err) ||
             px_node_log_append(n, rel.data, rel.len, &index, err) ||
             px_x_set(reply, "release_index", json_integer((json_int_t)index), err) ||
             px_x_set_b64(reply, "sealed", sealed.data, sealed.len, err) ||
             px_x_set_b64(reply, "release", rel.data, rel.len, err);
    }
    px_memzero(r, sizeof r);
    px_buf_free(&sealed);
    px_buf_free(&rel);
    return rc ? -1 : 0;
}

/* ---- the issuer ------------------------------------------------------------------ */

static void issuer_key(px_node *n, const px_member *sender, const json_t *o, px_http_response *resp) {
    px_err err = {0};
    uint64_t bits = POLL_BITS_DEFAULT;
    px_buf spki = PX_BUF_INIT;
    json_t *r = json_object();
    if (px_x_opt_uint(o, "bits", PX_POLL_RSA_MAX_BITS, &bits, &err) ||
        px_poll_issuer_new_key(n->issuer, sender->id, (unsigned)bits, &spki, &err) ||
        px_x_set_b64(r, "key", spki.data, spki.len, &err)) {
        json_decref(r);
        px_node_reply_err(resp, &err);
    } else
        px_node_reply_json(resp, r);
    px_buf_free(&spki);
}

static void issuer_open(px_node *n, const px_member *sender, const json_t *o, px_http_response *resp) {
    px_err err = {0};
    px_buf plan = PX_BUF_INIT, members = PX_BUF_INIT;
    px_poll_plan p;
    px_poll_attested att;
    px_verifier self;
    px_signer_verifier(&n->key, &self);
    int checked = 0;
    int rc = px_json_b64(o, "plan", &plan, &err) ||
             (json_object_get(o, "members") && px_json_b64(o, "members", &members, &err)) ||
             !(checked = !check_plan(n, &plan, &p, &att, &err)) || is_conductor(sender, &p.survey, &err) ||
             px_poll_issuer_open_poll(n->issuer, sender->id, &self, plan.data, plan.len, members.data, members.len,
                                      &err);
    if (rc)
        px_node_reply_err(resp, &err);
    else {
        json_t *r = json_object();
        px_x_set_hex(r, "poll", p.survey.id, PX_POLL_ID_BYTES, NULL);
        px_node_reply_json(resp, r);
    }
    if (checked)
        px_poll_plan_free(&p);
    px_buf_free(&plan);
    px_buf_free(&members);
}

static void issue(px_node *n, const px_member *sender, const json_t *o, px_http_response *resp) {
    px_err err = {0};
    uint8_t poll[PX_POLL_ID_BYTES];
    px_buf blinded = PX_BUF_INIT, cred = PX_BUF_INIT, sig = PX_BUF_INIT, st = PX_BUF_INIT;
    int64_t at = 0;
    int fresh = 0;
    int rc = px_json_hex(o, "poll", poll, sizeof poll, &err) || px_json_b64(o, "blinded", &blinded, &err) ||
             (json_object_get(o, "credential") && px_json_b64(o, "credential", &cred, &err));
    if (rc == 0) {
        px_poll_issue_req r = {poll, sender->signing.pk, blinded.data, blinded.len, cred.data, cred.len,
                               px_now_ms()};
        rc = px_poll_issuer_issue(n->issuer, &r, &sig, &at, &fresh, &err);
    }
    /* Every answer is in the log first: a member can find its issuance
     * there, and anyone can count them. (A repeated answer appends the
     * same statement again; readers count distinct entries.) */
    uint64_t index = 0;
    if (rc == 0)
        rc = px_poll_issue_sign(&st, poll, sender->signing.pk, blinded.data, blinded.len, at, &n->key, &err) ||
             px_node_log_append(n, st.data, st.len, &index, &err);
    if (rc)
        px_node_reply_err(resp, &err);
    else {
        json_t *r = json_object();
        px_x_set_b64(r, "blind_sig", sig.data, sig.len, NULL);
        json_object_set_new(r, "issued", json_integer(at));
        json_object_set_new(r, "repeated", json_boolean(!fresh));
        json_object_set_new(r, "log_index", json_integer((json_int_t)index));
        px_node_reply_json(resp, r);
    }
    px_buf_free(&blinded);
    px_buf_free(&cred);
    px_buf_free(&sig);
    px_buf_free(&st);
}

static int stored_plan(px_node *n, const uint8_t poll[PX_POLL_ID_BYTES], int box, px_poll_plan *p, px_err *err) {
    px_buf b = PX_BUF_INIT;
    int rc = (box ? px_poll_box_plan(n->box, poll, &b, err) : px_poll_issuer_plan(n->issuer, poll, &b, err)) ||
             px_poll_plan_parse(p, b.data, b.len, err);
    px_buf_free(&b);
    return rc ? -1 : 0;
}

static void issuer_close(px_node *n, const px_member *sender, const json_t *o, px_http_response *resp) {
    px_err err = {0};
    uint8_t poll[PX_POLL_ID_BYTES];
    px_poll_plan p;
    px_poll_issued c;
    px_buf st = PX_BUF_INIT, payload = PX_BUF_INIT;
    json_t *r = json_object();
    int have = 0;
    uint64_t index = 0;
    int rc = px_json_hex(o, "poll", poll, sizeof poll, &err) || !(have = !stored_plan(n, poll, 0, &p, &err)) ||
             is_conductor(sender, &p.survey, &err) || px_poll_issuer_close_poll(n->issuer, poll, px_now_ms(), &c, &err) ||
             px_poll_issued_sign(&st, &c, &n->key, &err) || px_node_log_append(n, st.data, st.len, &index, &err) ||
             px_x_set(r, "issued_index", json_integer((json_int_t)index), &err) ||
             px_buf_append(&payload, PX_POLL_ISSUER_MAGIC, 4, &err) ||
             px_buf_append(&payload, st.data, st.len, &err) ||
             release_to_tally(n, &p, "issuance", 1, &payload, r, &err) ||
             px_x_set_b64(r, "issued", st.data, st.len, &err);
    if (rc) {
        json_decref(r);
        px_node_reply_err(resp, &err);
    } else
        px_node_reply_json(resp, r);
    if (have)
        px_poll_plan_free(&p);
    px_buf_free(&st);
    px_buf_free(&payload);
}

/* ---- the ballot box --------------------------------------------------------------- */

static void box_open(px_node *n, const px_member *sender, const json_t *o, px_http_response *resp) {
    px_err err = {0};
    px_buf plan = PX_BUF_INIT;
    px_poll_plan p;
    px_poll_attested att;
    int checked = 0, mine = 0;
    int rc = px_json_b64(o, "plan", &plan, &err) || !(checked = !check_plan(n, &plan, &p, &att, &err)) ||
             is_conductor(sender, &p.survey, &err);
    for (size_t i = 0; !rc && i < p.survey.nboxes; i++)
        mine |= !strcmp(p.survey.boxes[i].id, n->cfg.id);
    if (!rc && !mine)
        rc = px_fail(&err, PX_E_DENIED, "the survey does not name %s as a ballot box", n->cfg.id);
    if (!rc)
        rc = px_poll_box_open_poll(n->box, plan.data, plan.len, &err);
    if (rc)
        px_node_reply_err(resp, &err);
    else
        px_node_reply_json(resp, json_pack("{s:b}", "open", 1));
    if (checked)
        px_poll_plan_free(&p);
    px_buf_free(&plan);
}

static void box_ballot(px_node *n, const json_t *o, px_http_response *resp) {
    px_err err = {0};
    uint8_t poll[PX_POLL_ID_BYTES], d[PX_SHA256_BYTES];
    px_buf ballot = PX_BUF_INIT, receipt = PX_BUF_INIT;
    int64_t at = 0;
    int rc = px_json_hex(o, "poll", poll, sizeof poll, &err) || px_json_b64(o, "ballot", &ballot, &err);
    if (rc == 0) {
        rc = px_poll_box_accept(n->box, poll, ballot.data, ballot.len, px_now_ms(), &at, &err);
        px_sha256(d, ballot.data, ballot.len);
    }
    if (rc == 0 && px_poll_ballot_receipt_sign(&receipt, poll, d, at, &n->key, &err))
        rc = -1;
    if (rc)
        px_node_reply_err(resp, &err);
    else {
        json_t *r = json_object();
        px_x_set_b64(r, "receipt", receipt.data, receipt.len, NULL);
        json_object_set_new(r, "received", json_integer(at));
        px_node_reply_json(resp, r);
    }
    px_buf_free(&ballot);
    px_buf_free(&receipt);
}

static void box_release(px_node *n, const px_member *sender, const json_t *o, px_http_response *resp) {
    px_err err = {0};
    uint8_t poll[PX_POLL_ID_BYTES];
    px_poll_plan p;
    px_buf payload = PX_BUF_INIT;
    uint64_t count = 0;
    json_t *r = json_object();
    int have = 0;
    int rc = px_json_hex(o, "poll", poll, sizeof poll, &err) || !(have = !stored_plan(n, poll, 1, &p, &err)) ||
             is_conductor(sender, &p.survey, &err) ||
             px_poll_box_release(n->box, poll, px_now_ms(), &payload, &count, &err) ||
             release_to_tally(n, &p, "ballots", count, &payload, r, &err);
    if (rc) {
        json_decref(r);
        px_node_reply_err(resp, &err);
    } else {
        json_object_set_new(r, "ballots", json_integer((json_int_t)count));
        px_node_reply_json(resp, r);
    }
    if (have)
        px_poll_plan_free(&p);
    px_buf_free(&payload);
}

/* ---- the tally instance ----------------------------------------------------------- */

static int start_tally(px_node *n, const px_buf *config, const uint8_t *nonce, px_lambda_host *h, px_err *err) {
    px_lambda_build *b = calloc(1, sizeof *b);
    if (!b)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    pthread_mutex_lock(&n->build_mu);
    int rc = px_lambda_build_refresh(n->build, NULL, err) || px_lambda_build_copy(b, n->build, err);
    pthread_mutex_unlock(&n->build_mu);
    if (rc == 0) {
        px_lambda_host_req r = {.backend = &px_tee_process, .build = b, .platform = &n->platform, .node = n->cfg.id,
                                .kind = PX_POLL_TALLY_KIND, .config = config->data, .config_len = config->len,
                                .nonce = nonce};
        rc = px_lambda_host_start(h, &r, err);
    }
    px_lambda_build_free(b);
    free(b);
    return rc;
}

static void recruit(px_node *n, const px_member *sender, const json_t *o, px_http_response *resp) {
    px_err err = {0};
    px_buf env = PX_BUF_INIT, config = PX_BUF_INIT;
    uint8_t nonce[PX_TEE_NONCE_BYTES];
    px_poll_survey s;
    px_membership m = {0};
    px_lambda_host h;
    int have = 0;
    int rc = px_json_b64(o, "survey", &env, &err) || px_json_b64(o, "config", &config, &err) ||
             px_json_hex(o, "nonce", nonce, sizeof nonce, &err) ||
             !(have = !px_poll_survey_parse(&s, env.data, env.len, &err)) || is_conductor(sender, &s, &err) ||
             px_node_members(n, &m, &err);
    const px_member *log = rc ? NULL : px_node_find_role(&m, PX_ROLE_LOG);
    if (!rc && !log)
        rc = px_fail(&err, PX_E_UNAVAILABLE, "the membership has no log");
    if (!rc)
        rc = px_poll_config_check(&s, config.data, config.len, &log->signing, &err) ||
             start_tally(n, &config, nonce, &h, &err);
    if (!rc) {
        px_node_instance_spec spec = {.consumer = sender->id, .deadline = s.tally_by, .waits = 1};
        if ((rc = px_node_instance_add(n, &spec, &h, &err)))
            px_lambda_host_free(&h);
    }
    if (rc)
        px_node_reply_err(resp, &err);
    else {
        json_t *r = json_object();
        px_x_set_hex(r, "instance", h.sign_pk, sizeof h.sign_pk, NULL);
        px_x_set_b64(r, "evidence", h.evidence.data, h.evidence.len, NULL);
        px_node_reply_json(resp, r);
    }
    if (have)
        px_poll_survey_free(&s);
    px_membership_free(&m);
    px_buf_free(&env);
    px_buf_free(&config);
}

void px_node_poll(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp) {
    const char *p = req->path;
    px_err err = {0};
    unsigned roles = n->cfg.roles;
    if (strcmp(req->method, "POST")) {
        px_http_error(resp, 405, "poll requests are POSTs");
        return;
    }
    json_t *o = body(req, &err);
    if (!o) {
        px_node_reply_err(resp, &err);
        return;
    }
    if ((roles & PX_ROLE_EXECUTOR) && !strcmp(p, "/v1/poll/ballot"))
        box_ballot(n, o, resp);
    else if (!sender)
        px_http_error(resp, 401, "this request must be signed by a member");
    else if ((roles & PX_ROLE_ISSUER) && !strcmp(p, "/v1/poll/issuer/key"))
        issuer_key(n, sender, o, resp);
    else if ((roles & PX_ROLE_ISSUER) && !strcmp(p, "/v1/poll/issuer/open"))
        issuer_open(n, sender, o, resp);
    else if ((roles & PX_ROLE_ISSUER) && !strcmp(p, "/v1/poll/issue"))
        issue(n, sender, o, resp);
    else if ((roles & PX_ROLE_ISSUER) && !strcmp(p, "/v1/poll/issuer/close"))
        issuer_close(n, sender, o, resp);
    else if ((roles & PX_ROLE_EXECUTOR) && !strcmp(p, "/v1/poll/box/open"))
        box_open(n, sender, o, resp);
    else if ((roles & PX_ROLE_EXECUTOR) && !strcmp(p, "/v1/poll/box/release"))
        box_release(n, sender, o, resp);
    else if ((roles & PX_ROLE_EXECUTOR) && !strcmp(p, "/v1/poll/recruit"))
        recruit(n, sender, o, resp);
    else
        px_http_error(resp, 404, "no such resource on node %s: %s %s", n->cfg.id, req->method, p);
    json_decref(o);
}
