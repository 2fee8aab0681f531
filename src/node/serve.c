/* Serving instances: a λ of a serving kind (pir) whose step succeeded
 * stays on the node that hosts it and answers its consumer's requests
 * until the manifest's deadline (docs/pir.md). The node relays bytes: each
 * response comes back signed by the instance key, over the request, the
 * manifest and the output the instance's logged proof names, and the node
 * checks that signature before passing it on. One request at a time per
 * instance (its worker has one channel); a second one meanwhile is told to
 * retry. Requests are not logged (see src/lambda/serve.c). */
#include <string.h>

#include "exec/util.h"
#include "node/node.h"

int px_node_serving_keep(px_node *n, px_node_instance *in, const px_step_result *res) {
    px_exec_proof p;
    if (!res->ok || px_exec_proof_verify(&p, res->proof.data, res->proof.len, in->host.sign_pk, NULL))
        return 0;
    pthread_mutex_lock(&n->mu);
    memcpy(in->output, p.subject, PX_SHA256_BYTES);
    in->stepped = 1;
    in->expires = in->deadline; /* no longer idle: it serves until the deadline */
    in->busy = 0;
    pthread_mutex_unlock(&n->mu);
    return 1;
}

/* The serving instance `id` of sender, claimed for one request. */
static px_node_instance *claim_serving(px_node *n, const px_member *sender, const uint8_t *id, px_err *err) {
    px_node_instance *found = NULL;
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->ninst && !found; i++)
        if (n->inst[i].used && !memcmp(n->inst[i].id, id, sizeof n->inst[i].id))
            found = &n->inst[i];
    if (!found)
        px_fail(err, PX_E_NOTFOUND, "no such instance on node %s", n->cfg.id);
    else if (strcmp(found->consumer, sender->id))
        found = NULL, px_fail(err, PX_E_DENIED, "the instance serves only the consumer that recruited it");
    else if (!found->serves || !found->stepped || !found->host.serving)
        found = NULL, px_fail(err, PX_E_STATE, "the instance is not serving (no ok step of a serving kind)");
    else if (found->deadline < px_now_ms())
        found = NULL, px_fail(err, PX_E_DENIED, "the manifest's deadline has passed: the instance serves no more");
    else if (found->busy)
        found = NULL, px_fail(err, PX_E_UNAVAILABLE, "the instance is answering another request: retry");
    else
        found->busy = 1;
    pthread_mutex_unlock(&n->mu);
    return found;
}

void px_node_serve(px_node *n, const px_member *sender, const px_http_request *req, px_http_response *resp) {
    px_err err = {0};
    json_t *o = px_json_parse(req->body, req->body_len, PX_NODE_BODY_MAX, &err);
    px_buf request = PX_BUF_INIT, response = PX_BUF_INIT;
    uint8_t id[PX_SIGN_PUBLICKEYBYTES], sig[PX_SIGN_BYTES];
    px_node_instance *in = NULL;
    if (!o || !json_is_object(o) || px_json_hex(o, "instance", id, sizeof id, &err) ||
        px_json_b64(o, "request", &request, &err) || !(in = claim_serving(n, sender, id, &err))) {
        if (o && !err.msg[0])
            px_fail(&err, PX_E_INVALID, "request body must be {\"instance\", \"request\"}");
        px_node_reply_err(resp, &err);
        goto out;
    }
    int rc = px_lambda_host_serve(&in->host, in->manifest, in->output, request.data, request.len, &response, sig, &err);
    pthread_mutex_lock(&n->mu);
    in->busy = 0;
    int dead = !in->host.serving;
    if (dead) { /* the worker broke the protocol or died: drop it */
        px_lambda_host_free(&in->host);
        memset(in, 0, sizeof *in);
    }
    pthread_mutex_unlock(&n->mu);
    if (rc) {
        px_node_reply_err(resp, &err);
        goto out;
    }
    json_t *r = json_object();
    px_x_set_b64(r, "response", response.data, response.len, NULL);
    px_x_set_b64(r, "signature", sig, sizeof sig, NULL);
    px_node_reply_json(resp, r);
out:
    px_buf_free(&request);
    px_buf_free(&response);
    json_decref(o);
}
