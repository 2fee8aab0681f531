/* A POD's own views: its datasets, releases and privacy-budget ledger, shown
 * only to its owner.
 *
 * The owner is whoever holds the node's key: the same key the node signs
 * its requests and releases with. `pixiu ui login` signs a request from the
 * node to itself, GET /ui/pod/login, in the format of every signed request
 * (docs/network.md), and prints it as a link whose query carries the time,
 * nonce and signature. Opening it checks the signature under the node's
 * own key from the membership, the time window and that the nonce was not
 * used, then sets an HttpOnly, SameSite=Strict session cookie (only its
 * hash is kept) and redirects to /ui/pod. Every POD view answers 401
 * without a live session. */
#include <string.h>

#include "explorer/ex.h"

#define EX_COOKIE "pixiu_ui"
#define EX_LOGIN_WINDOW_MS PX_REQ_WINDOW_MS_DEFAULT

static const char *const login_headers[] = {
    "Location: /ui/pod", "Cache-Control: no-store", "X-Content-Type-Options: nosniff", "Referrer-Policy: no-referrer",
    NULL};

/* A sign-in link opens one session: its nonce is remembered (with the time
 * it was signed at) for twice the window; links signed before the explorer
 * started are refused, so a restart does not open a window again. */
static int nonce_take(px_explorer *x, const uint8_t *nonce, int64_t t, int64_t now, px_err *err) {
    pthread_mutex_lock(&x->mu);
    int rc = 0;
    size_t free_slot = EX_NONCES;
    if (t < x->started)
        rc = px_fail(err, PX_E_STATE, "the sign-in link was signed before this node started: sign in again");
    for (size_t i = 0; rc == 0 && i < EX_NONCES; i++) {
        if (x->nonce_time[i] && x->nonce_time[i] < now - 2 * EX_LOGIN_WINDOW_MS)
            x->nonce_time[i] = 0;
        if (!x->nonce_time[i]) {
            free_slot = free_slot < i ? free_slot : i;
            continue;
        }
        if (!memcmp(x->nonces[i], nonce, PX_REQ_NONCE_BYTES))
            rc = px_fail(err, PX_E_STATE, "the sign-in link was used already: sign in again");
    }
    if (rc == 0 && free_slot == EX_NONCES)
        rc = px_fail(err, PX_E_LIMIT, "too many sign-ins at once: retry in a few minutes");
    if (rc == 0) {
        memcpy(x->nonces[free_slot], nonce, PX_REQ_NONCE_BYTES);
        x->nonce_time[free_slot] = t;
    }
    pthread_mutex_unlock(&x->mu);
    return rc;
}

static int login_message(px_buf *msg, const char *node, int64_t t, const uint8_t *nonce, px_err *err) {
    uint8_t empty[PX_SHA256_BYTES];
    px_sha256(empty, "", 0);
    return px_request_message(msg, node, node, "GET", "/ui/pod/login", "", empty, t, nonce, err);
}

int px_explorer_login_path(px_buf *out, const px_signer *key, const char *node_id, int64_t now, px_err *err) {
    uint8_t nonce[PX_REQ_NONCE_BYTES], sig[PX_SIGN_BYTES];
    char nh[2 * PX_REQ_NONCE_BYTES + 1], sh[2 * PX_SIGN_BYTES + 1];
    px_buf msg = PX_BUF_INIT;
    px_random(nonce, sizeof nonce);
    if (login_message(&msg, node_id, now, nonce, err)) {
        px_buf_free(&msg);
        return -1;
    }
    px_sign_detached(sig, msg.data, msg.len, &key->kp);
    px_buf_free(&msg);
    px_hex_encode(nh, nonce, sizeof nonce);
    px_hex_encode(sh, sig, sizeof sig);
    return px_buf_printf(out, err, "/ui/pod/login?node=%s&time=%lld&nonce=%s&sig=%s", node_id, (long long)now, nh, sh);
}

static int login_check(px_explorer *x, const px_http_request *req, px_err *err) {
    char node[PX_MEMBER_ID_MAX + 2], ts[24], nh[2 * PX_REQ_NONCE_BYTES + 2], sh[2 * PX_SIGN_BYTES + 2], *end;
    uint8_t nonce[PX_REQ_NONCE_BYTES], sig[PX_SIGN_BYTES];
    if (!ex_query(req, "node", node, sizeof node) || !ex_query(req, "time", ts, sizeof ts) ||
        !ex_query(req, "nonce", nh, sizeof nh) || !ex_query(req, "sig", sh, sizeof sh))
        return px_fail(err, PX_E_INVALID, "a sign-in link has node, time, nonce and sig: make one with `pixiu ui "
                       "login --node NODE.json`");
    long long t = strtoll(ts, &end, 10);
    if (*end || !ts[0] || t <= 0 || px_hex_decode_exact(nonce, sizeof nonce, nh, strlen(nh), NULL) ||
        px_hex_decode_exact(sig, sizeof sig, sh, strlen(sh), NULL))
        return px_fail(err, PX_E_INVALID, "the sign-in link's time, nonce or signature is malformed");
    if (strcmp(node, x->node_id))
        return px_fail(err, PX_E_DENIED, "the sign-in link is for node %.64s, this is %s", node, x->node_id);
    px_membership m;
    if (x->o.members(x->o.ctx, &m, err))
        return -1;
    const px_member *self = px_membership_find(&m, x->node_id);
    px_buf msg = PX_BUF_INIT;
    int rc = !self ? px_fail(err, PX_E_DENIED, "the membership does not list this node") : 0;
    if (rc == 0)
        rc = login_message(&msg, x->node_id, t, nonce, err);
    if (rc == 0 && px_sign_verify(sig, msg.data, msg.len, self->signing.pk))
        rc = px_fail(err, PX_E_DENIED, "the sign-in link is not signed by this node's key");
    px_buf_free(&msg);
    px_membership_free(&m);
    int64_t now = px_now_ms();
    if (rc == 0 && (t > now + EX_LOGIN_WINDOW_MS || t < now - EX_LOGIN_WINDOW_MS))
        rc = px_fail(err, PX_E_DENIED, "the sign-in link has expired (it lasts %d s): sign in again",
                     EX_LOGIN_WINDOW_MS / 1000);
    if (rc == 0)
        rc = nonce_take(x, nonce, t, now, err);
    return rc;
}

void ex_pod_login(ex_req *r) {
    px_explorer *x = r->x;
    px_err err = {0};
    if (!x->o.pod) {
        px_fail(&err, PX_E_NOTFOUND, "node %s is not a POD", x->node_id);
        return ex_fail(r, &err);
    }
    if (login_check(x, r->req, &err)) {
        px_http_error(r->resp, err.code == PX_E_INVALID ? 400 : 403, "%s", err.msg);
        return;
    }
    uint8_t token[32], h[PX_SHA256_BYTES];
    char hex[2 * sizeof token + 1];
    px_random(token, sizeof token);
    px_sha256(h, token, sizeof token);
    px_hex_encode(hex, token, sizeof token);
    int64_t now = px_now_ms();
    pthread_mutex_lock(&x->mu);
    size_t slot = 0;
    for (size_t i = 0; i < PX_EXPLORER_SESSIONS_MAX; i++) {
        if (x->sessions[i].expires < now)
            x->sessions[i].expires = 0;
        if (x->sessions[i].expires < x->sessions[slot].expires)
            slot = i; /* a free one, else the one closest to its end */
    }
    memcpy(x->sessions[slot].token_hash, h, sizeof h);
    x->sessions[slot].expires = now + PX_EXPLORER_SESSION_MS;
    pthread_mutex_unlock(&x->mu);
    r->resp->status = 303;
    r->resp->content_type = "text/plain; charset=utf-8";
    r->resp->headers = login_headers;
    snprintf(r->resp->extra_header, sizeof r->resp->extra_header,
             "Set-Cookie: " EX_COOKIE "=%s; Path=/ui/; HttpOnly; SameSite=Strict", hex);
    px_memzero(token, sizeof token);
    px_memzero(hex, sizeof hex);
}

int ex_pod_authorized(px_explorer *x, const px_http_request *req) {
    const char *c = px_http_request_header(req, "Cookie");
    uint8_t token[32], h[PX_SHA256_BYTES];
    const char *p = c ? strstr(c, EX_COOKIE "=") : NULL;
    while (p && p != c && p[-1] != ' ' && p[-1] != ';')
        p = strstr(p + 1, EX_COOKIE "=");
    if (!p)
        return 0;
    p += strlen(EX_COOKIE "=");
    size_t n = strcspn(p, "; ");
    if (n != 2 * sizeof token || px_hex_decode_exact(token, sizeof token, p, n, NULL))
        return 0;
    px_sha256(h, token, sizeof token);
    int64_t now = px_now_ms();
    int ok = 0;
    pthread_mutex_lock(&x->mu);
    for (size_t i = 0; i < PX_EXPLORER_SESSIONS_MAX; i++)
        ok |= x->sessions[i].expires > now && px_ct_equal(x->sessions[i].token_hash, h, sizeof h);
    pthread_mutex_unlock(&x->mu);
    return ok;
}

/* ---- the views: JSON as `pixiu pod ... --json` prints it -------------------------------- */

static json_t *charge_json(const px_pod_charge *c) {
    char e[PX_AMOUNT_TEXT_MAX], d[PX_AMOUNT_TEXT_MAX];
    px_eps_format(e, c->eps);
    px_delta_format(d, c->delta);
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s?}", "id", (json_int_t)c->id, "manifest", c->manifest,
                     "dataset", c->dataset, "consumer", c->consumer, "epsilon", e, "delta", d, "state",
                     px_charge_state_name(c->state), "created", (json_int_t)c->created_ms, "updated",
                     (json_int_t)c->updated_ms, "reason", c->reason[0] ? c->reason : NULL);
}

/* `pixiu pod budget show --json`: every dataset with a policy. */
static json_t *budget_json(px_pod *p, px_err *err) {
    char(*names)[PX_KEY_NAME_MAX + 1] = NULL;
    size_t n = 0;
    json_t *arr = json_array();
    int rc = !arr || px_pod_budget_datasets(p, &names, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        px_pod_budget_status st;
        px_pod_charge *h = NULL;
        size_t nh = 0;
        rc = px_pod_budget_status_get(p, names[i], NULL, &st, err) || px_pod_budget_history(p, names[i], &h, &nh, err);
        if (rc) {
            free(h);
            break;
        }
        char es[PX_AMOUNT_TEXT_MAX], el[PX_AMOUNT_TEXT_MAX], ds[PX_AMOUNT_TEXT_MAX], dl[PX_AMOUNT_TEXT_MAX];
        px_eps_format(es, st.eps_spent), px_eps_format(el, st.eps_limit);
        px_delta_format(ds, st.delta_spent), px_delta_format(dl, st.delta_limit);
        json_t *charges = json_array();
        for (size_t k = 0; charges && k < nh; k++)
            json_array_append_new(charges, charge_json(&h[k]));
        free(h);
        rc = px_x_append(arr, json_pack("{s:s,s:s?,s:s,s:s,s:s,s:s,s:o}", "dataset", names[i], "consumer", NULL,
                                        "epsilon_spent", es, "epsilon_limit", el, "delta_spent", ds, "delta_limit", dl,
                                        "charges", charges),
                         err);
    }
    free(names);
    if (rc) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* `pixiu pod releases --json`. */
static json_t *releases_json(px_pod *p, px_err *err) {
    px_pod_release_row *v;
    size_t n;
    if (px_pod_release_list(p, &v, &n, err))
        return NULL;
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        const px_release_info *r = &v[i].info;
        char d[2 * PX_SHA256_BYTES + 1], e[PX_AMOUNT_TEXT_MAX], dl[PX_AMOUNT_TEXT_MAX];
        px_hex_encode(d, r->dataset_digest, 32);
        px_eps_format(e, r->eps);
        px_delta_format(dl, r->delta);
        json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:I}", "id", v[i].id, "manifest",
                                           r->manifest, "dataset", r->dataset, "dataset_digest", d, "records",
                                           (json_int_t)r->records, "signed", (json_int_t)r->signed_records, "unsigned",
                                           (json_int_t)r->unsigned_records, "epsilon", e, "delta", dl, "released",
                                           (json_int_t)r->released_ms));
    }
    free(v);
    return a;
}

/* `pixiu pod dataset list --json`. */
static json_t *datasets_json(px_pod *p, px_err *err) {
    px_pod_dataset_info *v;
    size_t n;
    if (px_pod_dataset_list(p, &v, &n, err))
        return NULL;
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I}", "name", v[i].name, "records", (json_int_t)v[i].records,
                                           "signed", (json_int_t)v[i].signed_records, "created",
                                           (json_int_t)v[i].created_ms));
    free(v);
    return a;
}

void ex_view_pod(ex_req *r) {
    px_explorer *x = r->x;
    px_err err = {0};
    const char *what = r->rest[0] == '/' ? r->rest + 1 : r->rest;
    if (!strcmp(what, "logout")) {
        ex_json(r, json_pack("{s:b}", "signed_in", 0));
        snprintf(r->resp->extra_header, sizeof r->resp->extra_header,
                 "Set-Cookie: " EX_COOKIE "=; Path=/ui/; HttpOnly; SameSite=Strict; Max-Age=0");
        return;
    }
    if (what[0] && strcmp(what, "budget") && strcmp(what, "releases")) {
        px_fail(&err, PX_E_NOTFOUND, "no such POD view: %.64s (budget, releases)", what);
        return ex_fail(r, &err);
    }
    json_t *o = NULL;
    pthread_mutex_lock(x->o.pod_mu);
    if (!strcmp(what, "budget"))
        o = budget_json(x->o.pod, &err);
    else if (!strcmp(what, "releases"))
        o = releases_json(x->o.pod, &err);
    else {
        json_t *d = datasets_json(x->o.pod, &err), *b = d ? budget_json(x->o.pod, &err) : NULL,
               *rl = b ? releases_json(x->o.pod, &err) : NULL;
        if (rl)
            o = json_pack("{s:s,s:o,s:o,s:o,s:n}", "pod", x->node_id, "datasets", d, "budget", b, "releases", rl,
                          "inbox");
        else {
            json_decref(d);
            json_decref(b);
        }
    }
    pthread_mutex_unlock(x->o.pod_mu);
    if (!o)
        return ex_fail(r, err.msg[0] ? &err : &(px_err){PX_E_NOMEM, "out of memory"});
    ex_json(r, o);
}
