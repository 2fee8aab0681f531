/* The explorer's front: which view a path names, the page or the JSON
 * behind it, the embedded assets, and the headers every answer carries.
 *
 * Every view is one URL. A browser navigating to it gets the application
 * page (one static HTML file that loads the embedded script), which asks
 * the same URL for JSON; `?format=json` or `Accept: application/json`
 * (without text/html) gets the JSON. Pages are static and carry no data,
 * so nothing the log holds is ever interpreted as markup by the server;
 * the script renders it as text. */
#include <string.h>

#include "explorer/assets.h"
#include "explorer/ex.h"

/* No inline script or style, nothing from elsewhere, no framing. */
#define PX_UI_CSP                                                                                             \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "       \
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

static const char *const page_headers[] = {PX_UI_CSP,
                                           "X-Content-Type-Options: nosniff",
                                           "Referrer-Policy: no-referrer",
                                           "X-Frame-Options: DENY",
                                           "Cross-Origin-Opener-Policy: same-origin",
                                           "Cross-Origin-Resource-Policy: same-origin",
                                           "Cache-Control: no-store",
                                           NULL};

static const char *const data_headers[] = {"Content-Security-Policy: default-src 'none'; frame-ancestors 'none'",
                                           "X-Content-Type-Options: nosniff",
                                           "Referrer-Policy: no-referrer",
                                           "Cross-Origin-Resource-Policy: same-origin",
                                           "Cache-Control: no-store",
                                           NULL};

static const char *const asset_headers[] = {PX_UI_CSP,
                                            "X-Content-Type-Options: nosniff",
                                            "Cross-Origin-Resource-Policy: same-origin",
                                            "Cache-Control: no-cache",
                                            NULL};

/* ---- helpers ---------------------------------------------------------------------- */

void ex_hex(char out[2 * PX_SHA256_BYTES + 1], const uint8_t d[PX_SHA256_BYTES]) {
    px_hex_encode(out, d, PX_SHA256_BYTES);
}

int ex_parse_digest(const char *s, uint8_t out[PX_SHA256_BYTES], const char **after) {
    size_t n = 0;
    while (s[n] && s[n] != '/')
        n++;
    if (n != 2 * PX_SHA256_BYTES)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return -1;
    if (px_hex_decode_exact(out, PX_SHA256_BYTES, s, n, NULL))
        return -1;
    if (after)
        *after = s + n;
    return 0;
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

const char *ex_query(const px_http_request *req, const char *name, char *out, size_t cap) {
    size_t nl = strlen(name);
    const char *q = req->query ? req->query : "";
    while (*q) {
        const char *end = strchr(q, '&');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        if (len > nl && !strncmp(q, name, nl) && q[nl] == '=') {
            size_t o = 0;
            for (size_t i = nl + 1; i < len; i++) {
                char c = q[i];
                if (c == '+')
                    c = ' ';
                else if (c == '%' && i + 2 < len && hexval(q[i + 1]) >= 0 && hexval(q[i + 2]) >= 0) {
                    c = (char)(hexval(q[i + 1]) << 4 | hexval(q[i + 2]));
                    i += 2;
                }
                if (o + 1 >= cap || c == 0)
                    return NULL; /* too long, or a NUL: refused rather than cut */
                out[o++] = c;
            }
            out[o] = 0;
            return out;
        }
        if (len == nl && !strncmp(q, name, nl)) {
            out[0] = 0;
            return out;
        }
        q = end ? end + 1 : q + len;
    }
    return NULL;
}

void ex_json(ex_req *r, json_t *o) {
    r->resp->status = 200;
    r->resp->content_type = "application/json";
    r->resp->headers = data_headers;
    px_buf_reset(&r->resp->body);
    if (!o || px_json_dump(o, &r->resp->body, NULL) || px_buf_append_str(&r->resp->body, "\n", NULL))
        px_http_error(r->resp, 500, "out of memory building a reply");
    json_decref(o);
}

void ex_reply(ex_req *r, const char *type, px_buf *body) {
    r->resp->status = 200;
    r->resp->content_type = type;
    r->resp->headers = data_headers;
    px_buf_free(&r->resp->body);
    r->resp->body = *body;
    *body = (px_buf)PX_BUF_INIT;
}

static int status_of(px_code c) {
    switch (c) {
    case PX_E_INVALID: return 400;
    case PX_E_DENIED: return 403;
    case PX_E_NOTFOUND: return 404;
    case PX_E_LIMIT: return 413;
    case PX_E_UNAVAILABLE: return 503;
    default: return 500;
    }
}

void ex_fail(ex_req *r, const px_err *err) {
    px_http_error(r->resp, status_of(err->code), "%s", err->msg[0] ? err->msg : "internal error");
    r->resp->headers = data_headers;
}

/* ---- JSON or page ----------------------------------------------------------------- */

/* JSON when asked by ?format=json, or by an Accept header that names JSON
 * and not HTML (a browser's navigation names HTML; fetch() names JSON). */
static int wants_json(const px_http_request *req) {
    char f[16];
    if (ex_query(req, "format", f, sizeof f))
        return strcmp(f, "html") != 0;
    const char *a = px_http_request_header(req, "Accept");
    return a && strstr(a, "application/json") && !strstr(a, "text/html");
}

static const px_ui_asset *asset(const char *name) {
    for (const px_ui_asset *a = px_ui_assets; a->name; a++)
        if (!strcmp(a->name, name))
            return a;
    return NULL;
}

static void send_asset(px_http_response *resp, const px_ui_asset *a, int status, const char *const *headers) {
    resp->status = status;
    resp->content_type = a->type;
    resp->headers = headers;
    px_buf_reset(&resp->body);
    if (px_buf_append(&resp->body, a->data, a->len, NULL))
        px_http_error(resp, 500, "out of memory");
    snprintf(resp->extra_header, sizeof resp->extra_header, "ETag: \"%.32s\"", a->sha256);
}

/* The application page: the same static file for every view. */
static void send_page(px_http_response *resp, int status) {
    const px_ui_asset *a = asset("index.html");
    if (!a) {
        px_http_error(resp, 500, "the explorer was built without its pages");
        return;
    }
    send_asset(resp, a, status, page_headers);
}

/* ---- routing ---------------------------------------------------------------------- */

typedef struct view {
    const char *prefix; /* the path, or with '*' at its end a prefix */
    void (*fn)(ex_req *r);
    int log;            /* needs the log role */
    int pod;            /* needs the POD role and a signed-in owner */
} view;

static const view views[] = {
    {"/ui/", ex_view_overview, 0, 0},     {"/ui/log", ex_view_log, 1, 0},
    {"/ui/tasks", ex_view_tasks, 1, 0},   {"/ui/task/*", ex_view_task, 1, 0},
    {"/ui/entry/*", ex_view_entry, 1, 0}, {"/ui/digest/*", ex_view_digest, 1, 0},
    {"/ui/search", ex_view_search, 1, 0}, {"/ui/node/*", ex_view_node, 0, 0},
    {"/ui/verify", ex_view_verify, 0, 0}, {"/ui/pod", ex_view_pod, 0, 1},
    {"/ui/pod/*", ex_view_pod, 0, 1},
};

static const view *find_view(const char *path, const char **rest) {
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
        const char *p = views[i].prefix;
        size_t n = strlen(p);
        if (p[n - 1] == '*' && !strncmp(path, p, n - 1) && path[n - 1]) {
            *rest = path + n - 1;
            return &views[i];
        }
        if (p[n - 1] != '*' && !strcmp(path, p)) {
            *rest = path + n;
            return &views[i];
        }
    }
    return NULL;
}

int px_explorer_path(const char *path) {
    return !strcmp(path, "/ui") || !strncmp(path, "/ui/", 4);
}

void px_explorer_handle(px_explorer *x, const px_http_request *req, px_http_response *resp) {
    const char *p = req->path;
    px_err err = {0};
    if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD")) {
        px_http_error(resp, 405, "the explorer is read-only: GET only");
        return;
    }
    if (!strcmp(p, "/ui")) {
        resp->status = 301;
        resp->content_type = "text/plain; charset=utf-8";
        snprintf(resp->extra_header, sizeof resp->extra_header, "Location: /ui/");
        return;
    }
    if (!strncmp(p, "/ui/assets/", 11)) {
        const px_ui_asset *a = asset(p + 11);
        if (a && strcmp(a->name, "index.html"))
            return send_asset(resp, a, 200, asset_headers);
        px_http_error(resp, 404, "no such asset: %.100s", p + 11);
        return;
    }
    ex_req r = {.x = x, .req = req, .resp = resp};
    if (!strcmp(p, "/ui/pod/login"))
        return ex_pod_login(&r);
    const view *v = find_view(p, &r.rest);
    size_t pl = strlen(p);
    /* Sub-resources are data only: a task's audit as `pixiu audit --json`,
     * a POD's budget and releases as `pixiu pod ... --json`. */
    int json = wants_json(req) || (pl > 6 && !strcmp(p + pl - 6, "/audit")) || !strcmp(p, "/ui/pod/budget") ||
               !strcmp(p, "/ui/pod/releases") || !strcmp(p, "/ui/pod/logout");
    if (!v) {
        px_fail(&err, PX_E_NOTFOUND, "no such view on node %s: %.200s", x->node_id, p);
    } else if (v->log && !x->o.log) {
        px_fail(&err, PX_E_NOTFOUND, "node %s is not the log: its explorer shows %s", x->node_id,
                x->o.pod ? "the POD's own views under /ui/pod" : "nothing of the log");
    } else if (v->pod && !x->o.pod) {
        px_fail(&err, PX_E_NOTFOUND, "node %s is not a POD", x->node_id);
    } else if (v->pod && !ex_pod_authorized(x, req)) {
        if (!json)
            return send_page(resp, 401);
        px_http_error(resp, 401, "the POD's views are its owner's: sign in with the link `pixiu ui login --node "
                                 "NODE.json` prints");
        resp->headers = data_headers;
        return;
    } else if (json) {
        return v->fn(&r);
    } else {
        return send_page(resp, 200);
    }
    if (json)
        return ex_fail(&r, &err);
    send_page(resp, err.code == PX_E_NOTFOUND ? 404 : 400);
}

/* ---- life --------------------------------------------------------------------------- */

int px_explorer_new(px_explorer **out, const px_explorer_opts *o, px_err *err) {
    px_explorer *x = calloc(1, sizeof *x);
    if (!x)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    x->o = *o;
    snprintf(x->node_id, sizeof x->node_id, "%s", o->node_id ? o->node_id : "");
    x->o.node_id = x->node_id;
    pthread_mutex_init(&x->mu, NULL);
    x->started = px_now_ms();
    *out = x;
    return 0;
}

void px_explorer_free(px_explorer *x) {
    if (!x)
        return;
    ex_index_free(x);
    px_buf_free(&x->cosigned);
    pthread_mutex_destroy(&x->mu);
    px_memzero(x->sessions, sizeof x->sessions);
    free(x);
}
