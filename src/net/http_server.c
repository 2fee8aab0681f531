/* PIXIU HTTP server: libmicrohttpd behind the small contract of http.h.
 *
 * Each request is collected whole (bounded by max_body) and handed to the
 * caller's handler once; the handler fills a px_http_response. By default
 * every connection gets its own thread, so a handler may block (for
 * instance until an append is durable) without stalling other clients.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "pixiu/http.h"

#define PX_HTTP_MAX_CONNECTIONS 1024
#define PX_HTTP_CONN_TIMEOUT_S 60
#define PX_HTTP_URI_MAX 8192

struct px_http_server {
    struct MHD_Daemon *mhd;
    px_http_server_opts opts;
    uint16_t port;
};

/* Per-request state, created by the URI callback before any header is read
 * (so the raw query string is kept exactly as sent). */
typedef struct px_http_ctx {
    char *uri;      /* raw request target, as sent */
    px_buf body;
    int too_large;  /* body exceeded max_body: answer 413, drop the rest */
    int answered;   /* a response is already queued */
    int started;    /* the headers-only first call has been seen */
} px_http_ctx;

static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *conn) {
    px_http_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    size_t n = strnlen(uri, PX_HTTP_URI_MAX + 1);
    c->uri = strndup(uri, n);
    if (!c->uri) {
        free(c);
        return NULL;
    }
    return c;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    px_http_ctx *c = *con_cls;
    if (!c)
        return;
    free(c->uri);
    px_buf_free(&c->body);
    free(c);
    *con_cls = NULL;
}

const char *px_http_request_header(const px_http_request *req, const char *name) {
    if (!req || !req->conn || !name)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void px_http_error(px_http_response *resp, int status, const char *fmt, ...) {
    char msg[PX_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    resp->status = status;
    resp->content_type = "application/json";
    px_buf_reset(&resp->body);
    json_t *o = json_pack("{s:s}", "error", msg);
    if (!o || px_json_dump(o, &resp->body, NULL))
        px_buf_append_str(&resp->body, "{\"error\":\"out of memory\"}", NULL);
    json_decref(o);
}

/* Queue resp on conn; the response body's memory passes to libmicrohttpd. */
static enum MHD_Result send_response(struct MHD_Connection *conn, px_http_response *resp) {
    size_t len = resp->body.len;
    void *data = resp->body.data;
    struct MHD_Response *r;
    if (data) {
        r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (r)
            resp->body = (px_buf)PX_BUF_INIT;
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!r) {
        px_buf_free(&resp->body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type ? resp->content_type : "application/json");
    const char *colon = strchr(resp->extra_header, ':');
    if (colon && colon > resp->extra_header) {
        char name[sizeof resp->extra_header];
        size_t n = (size_t)(colon - resp->extra_header);
        memcpy(name, resp->extra_header, n);
        name[n] = '\0';
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        MHD_add_response_header(r, name, value);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *fmt, ...) {
    char msg[PX_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    px_http_response resp = {.status = status};
    px_http_error(&resp, status, "%s", msg);
    return send_response(conn, &resp);
}

static enum MHD_Result run_handler(px_http_server *s, struct MHD_Connection *conn,
                                   const char *method, px_http_ctx *c) {
    char *q = strchr(c->uri, '?');
    if (q)
        *q++ = '\0';
    px_http_request req = {
        .method = method,
        .path = c->uri,
        .query = q ? q : "",
        .body = c->body.data ? c->body.data : (const uint8_t *)"",
        .body_len = c->body.len,
        .conn = conn,
    };
    px_http_response resp = {.status = 200};
    s->opts.handler(s->opts.ctx, &req, &resp);
    if (resp.status < 100 || resp.status > 599)
        px_http_error(&resp, 500, "handler returned no valid status");
    return send_response(conn, &resp);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
    px_http_server *s = cls;
    px_http_ctx *c = *con_cls;
    if (!c)
        return MHD_NO; /* the URI callback could not allocate */
    if (c->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strlen(c->uri) > PX_HTTP_URI_MAX) {
        c->answered = 1;
        return send_error(conn, 414, "request target longer than %d bytes", PX_HTTP_URI_MAX);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (c->too_large || c->body.len + n > s->opts.max_body) {
            c->too_large = 1;
            px_buf_free(&c->body);
            return MHD_YES;
        }
        return px_buf_append(&c->body, upload_data, n, NULL) ? MHD_NO : MHD_YES;
    }
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > s->opts.max_body)
        c->too_large = 1;
    if (c->too_large) {
        c->answered = 1;
        return send_error(conn, 413, "request body larger than the limit of %zu bytes",
                          s->opts.max_body);
    }
    /* The first call (headers only) has no data; wait for the body. */
    if (!c->started) {
        c->started = 1;
        return MHD_YES;
    }
    c->answered = 1;
    return run_handler(s, conn, method, c);
}

int px_http_server_start(px_http_server **out, const px_http_server_opts *opts, px_err *err) {
    if (!opts || !opts->handler)
        return px_fail(err, PX_E_INVALID, "http server: no handler given");
    px_http_server *s = calloc(1, sizeof *s);
    if (!s)
        return px_fail(err, PX_E_NOMEM, "http server: out of memory");
    s->opts = *opts;
    if (!s->opts.max_body)
        s->opts.max_body = PX_HTTP_BODY_MAX_DEFAULT;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(opts->port)};
    const char *addr = opts->bind_addr ? opts->bind_addr : "127.0.0.1";
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        free(s);
        return px_fail(err, PX_E_INVALID, "http server: bind address '%s' is not IPv4", addr);
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
    flags |= opts->threads ? MHD_USE_EPOLL : MHD_USE_THREAD_PER_CONNECTION;
    if (opts->threads)
        s->mhd = MHD_start_daemon(
            flags, 0, NULL, NULL, access_cb, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)opts->threads,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)PX_HTTP_MAX_CONNECTIONS,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)PX_HTTP_CONN_TIMEOUT_S,
            MHD_OPTION_URI_LOG_CALLBACK, uri_cb, s, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
            MHD_OPTION_END);
    else
        s->mhd = MHD_start_daemon(
            flags, 0, NULL, NULL, access_cb, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)PX_HTTP_MAX_CONNECTIONS,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)PX_HTTP_CONN_TIMEOUT_S,
            MHD_OPTION_URI_LOG_CALLBACK, uri_cb, s, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
            MHD_OPTION_END);
    if (!s->mhd) {
        free(s);
        return px_fail(err, PX_E_IO, "http server: cannot listen on %s:%u", addr,
                       (unsigned)opts->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : opts->port;
    *out = s;
    return 0;
}

uint16_t px_http_server_port(const px_http_server *s) { return s ? s->port : 0; }

void px_http_server_stop(px_http_server *s) {
    if (!s)
        return;
    MHD_stop_daemon(s->mhd);
    free(s);
}
