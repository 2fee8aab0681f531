/* The dispatcher's side of a training round (docs/fl.md). The round runs
 * as any task with stages at the PODs; what is particular to it:
 *
 * - the roster: once the PODs admitted the plan, the box keys of their
 *   fl-user instances (each checked against its evidence) in position
 *   order; a POD's index is its place there;
 * - the broadcast: the model and the roster, sealed with the training code
 *   to each fl-user instance;
 * - the unmasking: after the run, each POD that ran is asked for its
 *   shares (each sealed to one of its neighbours); the survivors are those
 *   that ran and shared; each survivor is sent the survivor set and its
 *   neighbours' shares and answers once with its reveal, sealed to the
 *   aggregator and signed by its instance; the reveals go to the
 *   aggregator with the model, sealed to it.
 *
 * The consumer relays only sealed or signed bytes: it learns who survived,
 * never an update. */
#include <string.h>

#include "agg/fl_int.h"
#include "node/dispatch.h"

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int app32(px_buf *b, uint32_t v, px_err *err) {
    uint8_t p[4];
    put32(p, v);
    return px_buf_append(b, p, 4, err);
}

/* A training round's stages name their code by digest: the training
 * module for fl-user, the model the round starts from for fl-agg. */
int px_dispatch_fl_code(const px_job *j, json_t *stage, const char *kind, size_t i, px_err *err) {
    int user = !strcmp(kind, "fl-user"), agg = !strcmp(kind, "fl-agg");
    if (!user && !agg)
        return 0;
    const uint8_t *b = user ? j->o->code : j->o->model;
    size_t n = user ? j->o->code_len : j->o->model_len;
    if (!b)
        return px_fail(err, PX_E_INVALID, "stage %zu is an %s stage and no %s was given", i, kind,
                       user ? "training code" : "model");
    uint8_t d[PX_SHA256_BYTES];
    px_sha256(d, b, n);
    return px_x_set_hex(stage, "code", d, sizeof d, err);
}

/* The round the secure aggregation runs under: the training's round,
 * which is one more than the round of the model it starts from. */
static int round_of(const px_job *j, uint32_t *round, px_err *err) {
    px_fl_model m;
    if (!j->o->model)
        return px_fail(err, PX_E_INVALID, "a training round needs the model it starts from");
    if (px_fl_model_parse(&m, j->o->model, j->o->model_len, err))
        return -1;
    int rc = m.round + 1 == j->m.training.round
                 ? 0
                 : px_fail(err, PX_E_INVALID, "round %u cannot start from a model of round %u", j->m.training.round,
                           m.round);
    px_fl_model_free(&m);
    *round = j->m.training.round;
    return rc;
}

int px_dispatch_fl_roster(px_job *j, px_err *err) {
    if (round_of(j, &j->fl_round, err))
        return -1;
    px_buf_reset(&j->fl_roster);
    j->fl_n = 0;
    for (size_t i = 0; i < j->npods; i++) {
        px_podside *ps = &j->pods[i];
        if (!ps->admitted)
            continue;
        ps->fl_index = j->fl_n++;
        if (px_buf_append(&j->fl_roster, ps->att[j->kpod - 1].box_pk, PX_BOX_PUBLICKEYBYTES, err))
            return -1;
    }
    j->r->fl_users = j->fl_n;
    if (j->fl_n < 2)
        return px_fail(err, PX_E_DENIED, "%u POD%s admitted the round: secure aggregation needs at least 2", j->fl_n,
                       j->fl_n == 1 ? "" : "s");
    return 0;
}

/* "PXTK" || task key || "PXAD" || u32 n || content || code, sealed. */
static int seal_with(const px_job *j, const px_buf *content, const uint8_t *code, size_t code_len,
                     const uint8_t box_pk[PX_BOX_PUBLICKEYBYTES], px_buf *out, px_err *err) {
    px_buf m = PX_BUF_INIT;
    int rc = px_buf_append(&m, PX_TASK_KEY_MAGIC, 4, err) || px_buf_append(&m, j->task_key, PX_TASK_KEY_BYTES, err) ||
             px_buf_append(&m, PX_CONTENT_MAGIC, 4, err) || app32(&m, (uint32_t)content->len, err) ||
             px_buf_append(&m, content->data, content->len, err) || px_buf_append(&m, code, code_len, err) ||
             px_seal(out, m.data, m.len, box_pk, err);
    px_buf_free(&m);
    return rc;
}

int px_dispatch_fl_seal_user(const px_job *j, const px_podside *ps, const uint8_t box_pk[PX_BOX_PUBLICKEYBYTES],
                             px_buf *out, px_err *err) {
    px_buf b = PX_BUF_INIT;
    int rc = px_fl_broadcast_write(&b, j->fl_round, j->fl_roster.data, j->fl_n, ps->fl_index, j->o->model,
                                   j->o->model_len, err) ||
             seal_with(j, &b, j->o->code, j->o->code_len, box_pk, out, err);
    px_buf_free(&b);
    return rc;
}

int px_dispatch_fl_seal_agg(const px_job *j, const uint8_t box_pk[PX_BOX_PUBLICKEYBYTES], px_buf *out, px_err *err) {
    return seal_with(j, &j->fl_reveals, j->o->model, j->o->model_len, box_pk, out, err);
}

/* One request to a POD's fl-user instance, its answer checked as signed
 * by that instance over this manifest and its logged output. */
static int ask(const px_job *j, const px_podside *ps, const px_buf *req, px_buf *resp, uint8_t sig[PX_SIGN_BYTES],
               px_err *err) {
    char mid[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(mid, j->m.id, PX_SHA256_BYTES);
    const uint8_t *sign_pk = ps->att[j->kpod - 1].sign_pk;
    json_t *o = json_pack("{s:s}", "manifest", mid), *rep = NULL;
    px_buf body = PX_BUF_INIT, s = PX_BUF_INIT;
    px_exec_proof p;
    int rc = !o ? px_fail(err, PX_E_NOMEM, "out of memory")
                : px_x_set_b64(o, "request", req->data, req->len, err) || px_json_dump(o, &body, err) ||
                      px_dispatch_call(j, ps->node, "/v1/pod-serve", body.data, body.len, &rep, err) ||
                      px_json_b64(rep, "response", resp, err) || px_json_b64(rep, "signature", &s, err);
    if (rc == 0 && s.len != PX_SIGN_BYTES)
        rc = px_fail(err, PX_E_INVALID, "a signature of %zu bytes", s.len);
    if (rc == 0)
        rc = px_lambda_proof_verify(&p, ps->proof.data, ps->proof.len, sign_pk, err) ||
             px_serve_verify(s.data, j->m.id, p.subject, req->data, req->len, resp->data, resp->len, sign_pk, err);
    if (rc == 0)
        memcpy(sig, s.data, PX_SIGN_BYTES);
    json_decref(o);
    json_decref(rep);
    px_buf_free(&body);
    px_buf_free(&s);
    return rc;
}

static int params_of(const px_job *j, px_agg_params *ap, px_err *err) {
    px_agg_fl_config c;
    uint32_t round = j->fl_round;
    if (px_agg_fl_config_parse(&c, j->m.stages[j->kpod].params, 1, err))
        return -1;
    *ap = (px_agg_params){.n = j->fl_n, .k = c.neighbors, .t = c.threshold, .dim = c.dim, .round = round,
                          .min_survivors = c.min_survivors, .clip = c.clip_q};
    memcpy(ap->manifest, j->m.id, sizeof ap->manifest);
    return 0;
}

static const px_podside *by_index(const px_job *j, uint32_t index) {
    for (size_t i = 0; i < j->npods; i++)
        if (j->pods[i].admitted && j->pods[i].fl_index == index)
            return &j->pods[i];
    return NULL;
}

/* "PXFQ" 2 | bitmap | the SHARES of this survivor's surviving neighbours. */
static int reveal_request(const px_job *j, const px_agg_params *ap, const px_podside *ps, const uint8_t *bitmap,
                          size_t blen, px_buf *req, px_err *err) {
    uint32_t nb[PX_AGG_K_MAX], deg, count = 0;
    const px_podside *with[PX_AGG_K_MAX];
    if (px_agg_neighbours_get(ap, ps->fl_index, nb, &deg, err))
        return -1;
    for (uint32_t i = 0; i < deg; i++) {
        const px_podside *q = by_index(j, nb[i]);
        if (q && q->fl_survivor)
            with[count++] = q;
    }
    uint8_t op = PX_FL_OP_REVEAL;
    int rc = px_buf_append(req, PX_FL_REQUEST_MAGIC, 4, err) || px_buf_append(req, &op, 1, err) ||
             app32(req, (uint32_t)blen, err) || px_buf_append(req, bitmap, blen, err) || app32(req, count, err);
    for (uint32_t i = 0; rc == 0 && i < count; i++)
        rc = app32(req, (uint32_t)with[i]->fl_shares.len, err) ||
             px_buf_append(req, with[i]->fl_shares.data, with[i]->fl_shares.len, err);
    return rc;
}

static void shares_phase(px_job *j) {
    static const uint8_t op[5] = {'P', 'X', 'F', 'Q', PX_FL_OP_SHARES};
    px_buf req = PX_BUF_INIT;
    if (px_buf_append(&req, op, sizeof op, NULL))
        return;
    for (size_t i = 0; i < j->npods; i++) {
        px_podside *ps = &j->pods[i];
        uint8_t sig[PX_SIGN_BYTES];
        px_err e = {0};
        if (!ps->ran)
            continue;
        if (ask(j, ps, &req, &ps->fl_shares, sig, &e)) {
            px_dispatch_progress(j, "  %s: dropped: its shares did not come: %s", ps->node->id, e.msg);
            continue;
        }
        ps->fl_survivor = 1;
        j->r->fl_survivors++;
    }
    px_buf_free(&req);
}

int px_dispatch_fl_unmask(px_job *j, px_err *err) {
    px_agg_params ap;
    if (params_of(j, &ap, err))
        return -1;
    shares_phase(j);
    size_t blen = (j->fl_n + 7) / 8;
    uint8_t *bitmap = calloc(blen, 1);
    if (!bitmap)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < j->npods; i++)
        if (j->pods[i].fl_survivor)
            bitmap[j->pods[i].fl_index / 8] |= (uint8_t)(1u << (j->pods[i].fl_index % 8));
    /* A survivor with fewer than t surviving neighbours could not have its
     * self mask rebuilt (and would refuse to reveal): it drops out too. */
    uint32_t removed = 0;
    if (px_agg_survivors_prune(&ap, bitmap, blen, &removed, err)) {
        free(bitmap);
        return -1;
    }
    for (size_t i = 0; i < j->npods; i++) {
        px_podside *ps = &j->pods[i];
        if (ps->fl_survivor && !(bitmap[ps->fl_index / 8] >> (ps->fl_index % 8) & 1)) {
            ps->fl_survivor = 0;
            j->r->fl_survivors--;
            px_dispatch_progress(j, "  %s: dropped: too few of its neighbours survived", ps->node->id);
        }
    }
    px_dispatch_progress(j, "  round %u: %zu of %u users survived to unmasking", ap.round, j->r->fl_survivors, j->fl_n);
    /* Nobody left: the aggregator would get no input at all, and the
     * failure would say only that. Fewer than needed but some: the
     * aggregator is asked all the same and refuses in the log. */
    if (j->r->fl_survivors == 0) {
        free(bitmap);
        return px_fail(err, PX_E_DENIED, "too few survivors: 0 of %u users are left to unmask, need %u", j->fl_n,
                       ap.min_survivors > ap.t ? ap.min_survivors : ap.t);
    }
    px_buf_reset(&j->fl_reveals);
    int rc = px_fl_reveals_begin(&j->fl_reveals, j->fl_roster.data, j->fl_n, 0, err);
    uint32_t count = 0;
    for (size_t i = 0; rc == 0 && i < j->npods; i++) {
        px_podside *ps = &j->pods[i];
        if (!ps->fl_survivor)
            continue;
        px_buf req = PX_BUF_INIT, resp = PX_BUF_INIT;
        uint8_t sig[PX_SIGN_BYTES], h[PX_SHA256_BYTES];
        px_err e = {0};
        if (reveal_request(j, &ap, ps, bitmap, blen, &req, err))
            rc = -1;
        else if (ask(j, ps, &req, &resp, sig, &e))
            px_dispatch_progress(j, "  %s: no reveal: %s", ps->node->id, e.msg);
        else {
            px_sha256(h, req.data, req.len);
            rc = px_fl_reveals_add(&j->fl_reveals, ps->att[j->kpod - 1].sign_pk, h, resp.data, resp.len, sig, err);
            count++;
        }
        px_buf_free(&req);
        px_buf_free(&resp);
    }
    free(bitmap);
    if (rc)
        return -1;
    /* The count sits after the roster: patch it now that it is known. */
    put32(j->fl_reveals.data + 12 + 32 * (size_t)j->fl_n, count);
    /* Only survivors' masked updates go to the aggregator: a POD that ran
     * but did not share has masks nobody can remove. */
    for (size_t i = 0; i < j->npods; i++)
        if (!j->pods[i].fl_survivor)
            j->pods[i].ran = 0;
    return 0;
}
