/* Serving at the POD: the last POD-side instance of a task, when its kind
 * serves (fl-user: the user λ of a training round; pir), stays after its
 * ok step and answers its consumer's requests until the manifest's
 * deadline, as an executor's serving instance does (serve.c, docs/pir.md).
 * The POD relays bytes: each response comes back signed by the instance
 * key over the request, the manifest and the output its logged proof
 * names, checked here before it is passed on. One request at a time per
 * instance (its worker has one channel); a second one meanwhile is told to
 * retry. Requests are not logged (src/lambda/serve.c). The instance is
 * dropped at the deadline (the settler's reap, a request after it) or when
 * its task slot is reclaimed. */
#include <string.h>

#include "exec/util.h"
#include "node/node.h"

int px_node_kind_serves(px_stage_type k) {
    return k == PX_STAGE_PIR || k == PX_STAGE_FL_USER;
}

void px_node_pod_serving_keep(px_pod_task *t, const px_step_result *res) {
    px_lambda_host *h = &t->host[t->k - 1];
    px_exec_proof p;
    if (!res->ok || !h->serving || px_lambda_proof_verify(&p, res->proof.data, res->proof.len, h->sign_pk, NULL))
        return;
    memcpy(t->output, p.subject, PX_SHA256_BYTES);
    t->serving = 1;
}

/* The serving task of this manifest, for its consumer, claimed for one
 * request. A task past its deadline is dropped here. */
static px_pod_task *claim_serving(px_node *n, const px_member *sender, const uint8_t *mid, px_err *err) {
    int64_t now = px_now_ms();
    pthread_mutex_lock(&n->mu);
    px_pod_task *t = px_node_pod_task_find(n, mid, sender, err);
    if (!t) {
        /* err names why */
    } else if (!t->ran && t->busy)
        t = NULL, px_fail(err, PX_E_UNAVAILABLE, "the task's instances are running: retry");
    else if (!t->serving || !t->host[t->k - 1].serving)
        t = NULL, px_fail(err, PX_E_STATE, "the task's instance at this POD is not serving (it has not run, or its "
                          "kind does not serve, or its step failed)");
    else if (t->busy)
        t = NULL, px_fail(err, PX_E_UNAVAILABLE, "the instance is answering another request: retry");
    else if (t->deadline < now) {
        px_node_pod_task_clear(t);
        t = NULL, px_fail(err, PX_E_DENIED, "the manifest's deadline has passed: the instance serves no more");
    } else
        t->busy = 1;
    pthread_mutex_unlock(&n->mu);
    return t;
}

/* {"manifest": "<hex>", "request": "<base64>"} */
static int read_request(const px_http_request *req, uint8_t mid[PX_SHA256_BYTES], px_buf *request, px_err *err) {
    static const char *const keys[] = {"manifest", "request", NULL};
    json_t *o = px_json_parse(req->body, req->body_len, PX_NODE_BODY_MAX, err);
    int rc = !o || !json_is_object(o) || px_json_only(o, "pod-serve request", keys, err) ||
                     px_json_hex(o, "manifest", mid, PX_SHA256_BYTES, err) || px_json_b64(o, "request", request, err)
                 ? -1
                 : 0;
    if (rc && o && !json_is_object(o))
        px_fail(err, PX_E_INVALID, "request body must be {\"manifest\", \"request\"}");
    json_decref(o);
    return rc ? px_err_prefix(err, "pod-serve: ") : 0;
}

void px_node_pod_serve(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp) {
    px_err err = {0};
    px_buf request = PX_BUF_INIT, response = PX_BUF_INIT;
    uint8_t mid[PX_SHA256_BYTES], sig[PX_SIGN_BYTES];
    px_pod_task *t = NULL;
    if (read_request(req, mid, &request, &err) || !(t = claim_serving(n, sender, mid, &err))) {
        px_node_reply_err(resp, &err);
        goto out;
    }
    /* The worker is used outside the lock: busy keeps everyone else off
     * it, and the slot is not reclaimed while busy. */
    px_lambda_host *h = &t->host[t->k - 1];
    int rc = px_lambda_host_serve(h, t->manifest, t->output, request.data, request.len, &response, sig, &err);
    pthread_mutex_lock(&n->mu);
    t->busy = 0;
    if (!h->serving) /* the worker broke the protocol or died: drop the task */
        px_node_pod_task_clear(t);
    pthread_mutex_unlock(&n->mu);
    if (rc) {
        px_node_reply_err(resp, &err);
        goto out;
    }
    json_t *r = json_object();
    if (!r || px_x_set_b64(r, "response", response.data, response.len, &err) ||
        px_x_set_b64(r, "signature", sig, sizeof sig, &err)) {
        json_decref(r);
        if (!err.msg[0])
            px_fail(&err, PX_E_NOMEM, "out of memory");
        px_node_reply_err(resp, &err);
        goto out;
    }
    px_node_reply_json(resp, r);
out:
    px_buf_free(&request);
    px_buf_free(&response);
}
