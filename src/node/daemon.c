/* pixiud's core: state under the node directory, the membership (reloaded
 * when its file changes), one HTTP server, and a router that checks every
 * request that asks the node to do something is signed by a member. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sqldb.h"
#include "node/node.h"

#define PX_NODE_THREADS 8

void px_node_reply_json(px_http_response *resp, json_t *o) {
    resp->status = 200;
    if (!o || px_json_dump(o, &resp->body, NULL))
        px_http_error(resp, 500, "out of memory building a reply");
    json_decref(o);
}

int px_node_wants_jb(const px_http_request *req) { return px_http_accepts(req, PX_JB_CONTENT_TYPE); }

void px_node_reply_jb(px_http_response *resp, px_jb *jb) {
    px_err err = {0};
    resp->status = 200;
    resp->content_type = jb->inline_b64 ? "application/json" : PX_JB_CONTENT_TYPE;
    if (px_jb_encode(jb, &resp->body, &err))
        px_http_error(resp, 500, "building a reply: %s", err.msg);
    px_jb_free(jb);
}

void px_node_reply_err(px_http_response *resp, const px_err *err) {
    int status = err->code == PX_E_INVALID ? 400
                 : err->code == PX_E_DENIED ? 403
                 : err->code == PX_E_VERIFY ? 422
                 : err->code == PX_E_STATE ? 409
                 : err->code == PX_E_NOTFOUND ? 404
                 : err->code == PX_E_LIMIT ? 413
                 : err->code == PX_E_UNAVAILABLE ? 504
                                                 : 500;
    px_http_error(resp, status, "%s", err->msg);
}

const px_member *px_node_find_role(const px_membership *m, unsigned role) {
    for (size_t i = 0; i < m->n; i++)
        if (m->nodes[i].roles & role)
            return &m->nodes[i];
    return NULL;
}

/* ---- membership ------------------------------------------------------------- */

int px_node_reload_members_locked(px_node *n, px_err *err) {
    struct stat st;
    if (stat(n->cfg.membership, &st))
        return px_fail(err, PX_E_IO, "membership %s: %s", n->cfg.membership, strerror(errno));
    if (n->members.n && st.st_mtim.tv_sec == n->members_st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == n->members_st.st_mtim.tv_nsec && st.st_size == n->members_st.st_size &&
        st.st_ino == n->members_st.st_ino)
        return 0;
    px_membership fresh;
    if (px_membership_load(&fresh, n->cfg.membership, err))
        return -1;
    const px_member *me = px_membership_find(&fresh, n->cfg.id);
    px_verifier v;
    px_signer_verifier(&n->key, &v);
    if (!me || memcmp(me->signing.pk, v.pk, sizeof v.pk)) {
        px_membership_free(&fresh);
        return px_fail(err, PX_E_INVALID, "membership does not list this node (%s) with its key", n->cfg.id);
    }
    px_membership_free(&n->members);
    n->members = fresh;
    n->members_st = st;
    return 0;
}

int px_node_members(px_node *n, px_membership *out, px_err *err) {
    pthread_mutex_lock(&n->mu);
    int rc = px_node_reload_members_locked(n, err);
    if (rc == 0) {
        out->n = n->members.n;
        out->nodes = malloc(out->n * sizeof *out->nodes);
        if (!out->nodes)
            rc = px_fail(err, PX_E_NOMEM, "out of memory");
        else
            memcpy(out->nodes, n->members.nodes, out->n * sizeof *out->nodes);
    }
    pthread_mutex_unlock(&n->mu);
    return rc;
}

int px_node_log_append(px_node *n, const uint8_t *entry, size_t len, uint64_t *index, px_err *err) {
    px_membership m;
    if (px_node_members(n, &m, err))
        return -1;
    const px_member *log = px_node_find_role(&m, PX_ROLE_LOG);
    int rc = -1, status = 0;
    px_buf resp = PX_BUF_INIT;
    char url[PX_MEMBER_URL_MAX + 8], to[PX_MEMBER_ID_MAX + 1];
    if (!log) {
        px_fail(err, PX_E_UNAVAILABLE, "the membership has no log");
        goto out;
    }
    snprintf(url, sizeof url, "%s", log->url);
    snprintf(to, sizeof to, "%s", log->id);
    if (px_signed_call(&n->key, n->cfg.id, to, "POST", url, "/log/add", entry, len, PX_NODE_CALL_TIMEOUT_MS, 1 << 20,
                       &status, &resp, err))
        goto out;
    json_t *o = status == 200 ? px_json_parse(resp.data, resp.len, 1 << 20, NULL) : NULL;
    json_t *ix = json_object_get(o, "index");
    if (!json_is_integer(ix))
        px_fail(err, PX_E_UNAVAILABLE, "log %s refused the entry: HTTP %d %.*s", to, status,
                (int)(resp.len > 160 ? 160 : resp.len), (const char *)resp.data);
    else {
        if (index)
            *index = (uint64_t)json_integer_value(ix);
        rc = 0;
    }
    json_decref(o);
out:
    px_buf_free(&resp);
    px_membership_free(&m);
    return rc;
}

/* ---- routing ------------------------------------------------------------------ */

/* The same request with a path prefix removed, for the log and witness
 * handlers that expect their own root. */
static void forward(px_http_handler h, void *ctx, const px_http_request *req, size_t strip, px_http_response *resp) {
    px_http_request r = *req;
    r.path = req->path + strip;
    h(ctx, &r, resp);
}

static void health(px_node *n, px_http_response *resp) {
    json_t *roles = json_array();
    for (unsigned b = 1; b <= PX_ROLE_LAST; b <<= 1)
        if (n->cfg.roles & b)
            json_array_append_new(roles, json_string(px_role_name(b)));
    px_node_reply_json(resp, json_pack("{s:s,s:o}", "id", n->cfg.id, "roles", roles));
}

static void route(void *ctx, const px_http_request *req, px_http_response *resp) {
    px_node *n = ctx;
    const char *p = req->path;
    int get = !strcmp(req->method, "GET") || !strcmp(req->method, "HEAD");
    px_err err = {0};
    const px_node_auth *a = req->auth;
    /* Public reads (the gate let them through unsigned, without a body). */
    if (!a) {
        if (get && !strcmp(p, "/v1/health"))
            return health(n, resp);
        if (n->log && get && !strncmp(p, "/log/", 5))
            return forward(px_log_http_handler, n->log, req, 4, resp);
        /* Ballots come unsigned: the box must not learn which node votes. */
        if (!strcmp(p, "/v1/poll/ballot"))
            return px_node_poll(n, NULL, req, resp);
        if (n->explorer && px_explorer_path(p))
            return px_explorer_handle(n->explorer, req, resp);
        px_http_error(resp, 403, "unsigned request");
        return;
    }
    /* The gate checked the signature over the declared body digest. */
    if (px_request_body_check(req, a->digest, &err)) {
        px_http_error(resp, px_request_refusal_status(err.code), "%s", err.msg);
        return;
    }
    const px_member *sender = &a->sender;
    if (n->witness && !strncmp(p, "/witness/", 9))
        return forward(px_witness_http_handler, &n->wsvc, req, 8, resp);
    if (n->log && !strncmp(p, "/log/", 5))
        return forward(px_log_http_handler, n->log, req, 4, resp);
    if (!strncmp(p, "/v1/poll/", 9))
        return px_node_poll(n, sender, req, resp);
    if ((n->cfg.roles & PX_ROLE_EXECUTOR) && !strcmp(p, "/v1/recruit"))
        return px_node_recruit(n, sender, req, resp);
    if ((n->cfg.roles & PX_ROLE_EXECUTOR) && !strcmp(p, "/v1/step"))
        return px_node_step(n, sender, req, resp);
    if ((n->cfg.roles & PX_ROLE_EXECUTOR) && !strcmp(p, "/v1/drop"))
        return px_node_drop(n, sender, req, resp);
    if ((n->cfg.roles & PX_ROLE_EXECUTOR) && !strcmp(p, "/v1/serve"))
        return px_node_serve(n, sender, req, resp);
    if ((n->cfg.roles & PX_ROLE_POD) && !strcmp(p, "/v1/admit"))
        return px_node_admit(n, sender, req, resp);
    if ((n->cfg.roles & PX_ROLE_POD) && !strcmp(p, "/v1/pod-run"))
        return px_node_pod_run(n, sender, req, resp);
    if ((n->cfg.roles & PX_ROLE_POD) && !strcmp(p, "/v1/pod-serve"))
        return px_node_pod_serve(n, sender, req, resp);
    px_http_error(resp, 404, "no such resource on node %s: %s %s", n->cfg.id, req->method, p);
}

/* ---- start and stop ---------------------------------------------------------- */

static int state_path(char *out, const px_node *n, const char *name, px_err *err) {
    if (snprintf(out, PX_NODE_PATH_MAX, "%s/%s", n->cfg.dir, name) >= PX_NODE_PATH_MAX)
        return px_fail(err, PX_E_LIMIT, "node directory path too long");
    return 0;
}

static int open_witness(px_node *n, px_err *err) {
    char path[PX_NODE_PATH_MAX];
    if (state_path(path, n, "witness.db", err) || px_witness_open(&n->witness, path, &n->key, err))
        return -1;
    /* Trusted logs: every log member; origin = its key name (docs/log.md). */
    n->wlogs = calloc(n->members.n + 1, sizeof *n->wlogs);
    if (!n->wlogs)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n->members.n; i++)
        if (n->members.nodes[i].roles & PX_ROLE_LOG) {
            snprintf(n->wlogs[k].origin, sizeof n->wlogs[k].origin, "%s", n->members.nodes[i].signing.name);
            n->wlogs[k++].key = n->members.nodes[i].signing;
        }
    n->wsvc = (px_witness_service){n->witness, n->wlogs, k};
    return 0;
}

static int open_roles(px_node *n, px_err *err) {
    char path[PX_NODE_PATH_MAX];
    if (n->cfg.roles & PX_ROLE_LOG) {
        px_log_opts o = {.store = path, .key = &n->key};
        if (state_path(path, n, "log.db", err) || px_log_open(&n->log, &o, err))
            return -1;
    }
    if ((n->cfg.roles & PX_ROLE_WITNESS) && open_witness(n, err))
        return -1;
    if (n->cfg.roles & PX_ROLE_POD) {
        if (state_path(path, n, "pod.db", err) || px_pod_open(&n->pod, path, err))
            return -1;
        if (state_path(path, n, "node.db", err) || px_admissions_open(&n->admissions, path, err))
            return -1;
    }
    /* The build its instances run, computed once (and re-checked per
     * recruitment); a POD accepts it by default. A POD-only node without
     * the toolchain accepts only the builds its owner added. */
    if (n->cfg.roles & PX_ROLE_ISSUER) {
        if (state_path(path, n, "issuer.db", err) || px_poll_issuer_open(&n->issuer, path, err))
            return -1;
    }
    if (n->cfg.roles & PX_ROLE_EXECUTOR) {
        if (state_path(path, n, "box.db", err) || px_poll_box_open(&n->box, path, err))
            return -1;
    }
    if (n->cfg.roles & (PX_ROLE_EXECUTOR | PX_ROLE_POD | PX_ROLE_ISSUER)) {
        px_err e = {0};
        if (px_node_build(&n->build, n->cfg.worker, &e)) {
            n->build = NULL;
            if (n->cfg.roles & PX_ROLE_EXECUTOR) {
                if (err)
                    *err = e;
                return -1;
            }
            fprintf(stderr, "pixiud: node %s: %s; only builds added with `pixiu pod policy build add` are "
                            "accepted\n", n->cfg.id, e.msg);
        }
    }
    /* A POD with a platform key hosts stages placed at the POD: its own
     * instances, attested by its own platform key (podhost.c). */
    if ((n->cfg.roles & PX_ROLE_POD) && !(n->cfg.roles & PX_ROLE_EXECUTOR) && n->cfg.platform_key[0]) {
        if (px_signer_load(&n->platform, n->cfg.platform_key, err))
            return px_err_prefix(err, "platform key: ");
        n->hosts = n->build != NULL;
    }
    if (n->cfg.roles & PX_ROLE_EXECUTOR) {
        n->hosts = (n->cfg.roles & PX_ROLE_POD) != 0;
        if (px_signer_load(&n->platform, n->cfg.platform_key, err))
            return px_err_prefix(err, "platform key: ");
        if (!(n->inst = calloc(PX_NODE_MAX_INSTANCES, sizeof *n->inst)))
            return px_fail(err, PX_E_NOMEM, "out of memory");
        n->ninst = PX_NODE_MAX_INSTANCES;
    }
    return 0;
}

static int write_port(const px_node *n, px_err *err) {
    if (!n->cfg.port_file[0])
        return 0;
    char s[16];
    int len = snprintf(s, sizeof s, "%u\n", px_http_server_port(n->srv));
    return px_file_write_atomic(n->cfg.port_file, s, (size_t)len, 0644, err);
}

int px_node_start(px_node *n, const px_node_config *cfg, px_err *err) {
    memset(n, 0, sizeof *n);
    n->cfg = *cfg;
    pthread_mutex_init(&n->mu, NULL);
    pthread_mutex_init(&n->build_mu, NULL);
    pthread_mutex_init(&n->pod_mu, NULL);
    pthread_mutex_init(&n->quota_mu, NULL);
    pthread_cond_init(&n->settler_cv, NULL);
    pthread_cond_init(&n->reaper_cv, NULL);
    px_node_limits_default(&n->cfg.limits);
    /* The node's directory and what it holds are its own: a directory
     * others may enter, or a key others may read, is narrowed (with a
     * warning) before anything is opened. */
    if (px_private_dir(cfg->dir, 1, err) || px_private_file(cfg->key, err) ||
        (cfg->platform_key[0] && px_private_file(cfg->platform_key, err)))
        goto fail;
    if (px_signer_load(&n->key, cfg->key, err) || px_node_reload_members_locked(n, err) ||
        px_replay_new(&n->replay, 0, px_now_ms(), 0, err) || open_roles(n, err) || px_node_ui_start(n, err))
        goto fail;
    /* An executor keeps workers warm for the instances it is recruited
     * for. A POD starts its few instances cold: idle workers at every one
     * of thousands of PODs would cost more memory than they save time. */
    if (n->build && (cfg->roles & PX_ROLE_EXECUTOR) &&
        px_lambda_pool_new(&n->pool, &px_tee_process, px_lambda_build_path(n->build, "worker"), PX_NODE_WARM_WORKERS,
                           err))
        goto fail;
    px_http_server_opts o = {.bind_addr = cfg->listen, .port = cfg->port, .max_body = PX_NODE_BODY_MAX,
                             .threads = PX_NODE_THREADS, .handler = route, .ctx = n, .gate = px_node_gate,
                             .done = px_node_gate_done, .per_address = n->cfg.limits.per_address,
                             .header_timeout_ms = n->cfg.limits.header_ms};
    if (px_http_server_start(&n->srv, &o, err) || write_port(n, err))
        goto fail;
    if ((cfg->roles & PX_ROLE_POD) && px_node_settler_start(n, err))
        goto fail;
    if ((cfg->roles & PX_ROLE_EXECUTOR) && px_node_reaper_start(n, err))
        goto fail;
    return 0;
fail:
    px_err_prefix(err, "node %s: ", cfg->id);
    px_node_stop(n);
    return -1;
}

void px_node_stop(px_node *n) {
    px_node_settler_stop(n);
    px_node_reaper_stop(n);
    if (n->srv)
        px_http_server_stop(n->srv);
    px_node_ui_stop(n);
    for (size_t i = 0; i < n->ninst; i++)
        if (n->inst[i].used)
            px_lambda_host_free(&n->inst[i].host);
    free(n->inst);
    px_node_pod_tasks_free(n);
    px_lambda_pool_free(n->pool);
    px_log_close(n->log);
    px_witness_close(n->witness);
    free(n->wlogs);
    px_admissions_close(n->admissions);
    px_poll_issuer_close(n->issuer);
    px_poll_box_close(n->box);
    if (n->pod)
        px_pod_close(n->pod);
    px_replay_free(n->replay);
    px_membership_free(&n->members);
    px_signer_wipe(&n->key);
    px_signer_wipe(&n->platform);
    if (n->build)
        px_node_build_free(n->build);
    pthread_mutex_destroy(&n->build_mu);
    pthread_mutex_destroy(&n->mu);
    pthread_mutex_destroy(&n->pod_mu);
    pthread_mutex_destroy(&n->quota_mu);
    pthread_cond_destroy(&n->settler_cv);
    pthread_cond_destroy(&n->reaper_cv);
    memset(n, 0, sizeof *n);
}
