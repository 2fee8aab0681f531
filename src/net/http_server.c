/* PIXIU HTTP server: libmicrohttpd behind the small contract of http.h.
 *
 * Each request is collected whole (bounded by its body limit) and handed
 * to the caller's handler once; the handler fills a px_http_response. By
 * default every connection gets its own thread, so a handler may block
 * (for instance until an append is durable) without stalling other clients.
 *
 * The front door, before any handler runs: a gate decides on each request
 * from its headers alone (who signed it, which route) and sets its body
 * limit, so nothing unauthenticated is ever buffered beyond what the gate
 * allows; connections are bounded in total and per client address; and a
 * connection must deliver its whole request header within a deadline, so
 * clients that trickle a header line now and then cannot hold slots: a
 * watchdog thread shuts such connections down (libmicrohttpd's own timeout
 * is reset by every byte that arrives).
 *
 * Answering later: with a pool of polling threads a handler must not block
 * them, so one that waits for something (an append to become durable)
 * calls px_http_later_begin and returns; its connection is suspended,
 * taken out of the poll set, until px_http_answer (from any thread) queues
 * the response and resumes it. Hundreds of waiting requests then cost no
 * thread each, and their wake-ups come once per poll rather than once per
 * request. A server with a thread per connection never does this: there a
 * handler may simply block.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "pixiu/http.h"

#define PX_HTTP_CONN_TIMEOUT_S 60
#define PX_HTTP_URI_MAX 8192
#define PX_HTTP_WATCH_MS 250

/* One open connection, as the watchdog sees it. */
typedef struct px_http_conn {
    struct px_http_conn *prev, *next;
    int fd;
    /* Written by the connection's thread without mu (twice a request:
     * poll threads would contend for it), read by the watchdog: since_ns
     * is stored before in_request and read after it, so a request seen
     * ending is never judged by the start of the one before. */
    _Atomic uint64_t since_ns; /* connection start, or the end of its last request */
    _Atomic int in_request;    /* headers complete: the deadline no longer applies */
    int cut;           /* shut down by the watchdog */
} px_http_conn;

struct px_http_server {
    struct MHD_Daemon *mhd;
    px_http_server_opts opts;
    uint16_t port;
    pthread_mutex_t mu; /* conns, stopping */
    pthread_cond_t cv;
    px_http_conn *conns;
    int stopping, watching;
    pthread_t watchdog;
    unsigned long cut; /* connections shut for a late header, for tests and logs */
    /* Answering later (px_http_later): later_mu orders px_http_later_begin
     * against stopping; answers themselves take no lock (see answer()). */
    pthread_mutex_t later_mu;
    pthread_cond_t later_cv;
    _Atomic unsigned long later; /* requests taken off their thread and not yet answered */
    int no_later;                /* stopping: handlers answer at once (under later_mu) */
};

enum { LATER_NO, LATER_WAITING, LATER_SUSPENDED, LATER_ANSWERED };

/* Per-request state, created by the URI callback before any header is read
 * (so the raw query string is kept exactly as sent). */
typedef struct px_http_ctx {
    px_http_server *srv;
    struct MHD_Connection *conn;
    char *uri;      /* raw request target, as sent */
    px_buf body;
    size_t limit;   /* this request's body limit (the gate's) */
    size_t declared; /* Content-Length, if sent and within the limit; else 0 */
    void *token;    /* the gate's, for the handler and done */
    int has_token;
    int too_large;  /* body exceeded the limit: answer 413, drop the rest */
    int answered;   /* a response is already queued */
    int started;    /* the headers-only first call has been seen */
    _Atomic int later; /* LATER_* */
    int deferred;   /* px_http_later_begin took it (set and read on its own thread) */
    int sent;       /* the later answer is queued */
    px_http_response resp; /* the later answer */
    px_http_fill_fn fill;  /* or what makes it, on the connection's own thread */
    void *fill_ctx;
} px_http_ctx;

/* ---- the header deadline ---------------------------------------------------- */

static px_http_conn *conn_of(struct MHD_Connection *conn) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void conn_mark(px_http_server *s, struct MHD_Connection *conn, int in_request) {
    px_http_conn *c = conn_of(conn);
    if (!c)
        return;
    (void)s;
    atomic_store(&c->since_ns, px_mono_ns());
    atomic_store(&c->in_request, in_request);
}

static void notify_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe) {
    px_http_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        px_http_conn *c = calloc(1, sizeof *c);
        if (!c || !ci) {
            free(c);
            return;
        }
        c->fd = ci->connect_fd;
        c->since_ns = px_mono_ns();
        pthread_mutex_lock(&s->mu);
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        else
            pthread_cond_signal(&s->cv); /* the watchdog sleeps while there is none */
        s->conns = c;
        pthread_mutex_unlock(&s->mu);
        *socket_context = c;
        return;
    }
    /* Closed: libmicrohttpd closes the socket after this returns, so the
     * watchdog (which shuts sockets down under mu) never touches a
     * descriptor that was already reused. */
    px_http_conn *c = *socket_context;
    if (!c)
        return;
    pthread_mutex_lock(&s->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&s->mu);
    free(c);
    *socket_context = NULL;
}

static void *watchdog(void *arg) {
    px_http_server *s = arg;
    uint64_t limit = (uint64_t)s->opts.header_timeout_ms * 1000000u;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        uint64_t now = px_mono_ns();
        for (px_http_conn *c = s->conns; c; c = c->next) {
            if (atomic_load(&c->in_request) || c->cut)
                continue;
            /* A request may have ended since now was read: since_ns > now. */
            uint64_t since = atomic_load(&c->since_ns);
            if (since < now && now - since > limit) {
                /* libmicrohttpd sees the connection end and cleans it up. */
                shutdown(c->fd, SHUT_RDWR);
                c->cut = 1;
                s->cut++;
            }
        }
        /* With no connection there is nothing to watch: a server that
         * waits for requests costs no wake-ups (a machine may run many). */
        if (!s->conns) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += PX_HTTP_WATCH_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *conn) {
    px_http_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = cls;
    c->conn = conn;
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
    px_http_server *s = cls;
    px_http_ctx *c = *con_cls;
    conn_mark(s, conn, 0); /* the next request on this connection starts its own deadline */
    if (!c)
        return;
    if (c->has_token && s->opts.done)
        s->opts.done(s->opts.ctx, c->token);
    if (c->fill && !c->sent)
        c->fill(c->fill_ctx, NULL); /* dropped before it was filled: free its context */
    free(c->uri);
    px_buf_free(&c->body);
    px_buf_free(&c->resp.body);
    free(c);
    *con_cls = NULL;
}

const char *px_http_request_header(const px_http_request *req, const char *name) {
    if (!req || !req->conn || !name)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* 1 if the parameters of one media range (from ';' to before ',' or the
 * end, len bytes) say q=0: "not acceptable" (RFC 9110, 12.4.2). */
static int q_zero(const char *p, size_t len) {
    for (size_t i = 0; i + 2 < len; i++)
        if ((p[i] == 'q' || p[i] == 'Q') && p[i + 1] == '=' && (i == 0 || p[i - 1] == ';' || p[i - 1] == ' ')) {
            size_t k = i + 2;
            if (p[k] != '0')
                return 0;
            for (k++; k < len && (p[k] == '0' || p[k] == '.'); k++)
                ;
            return k == len || p[k] == ';' || p[k] == ' ';
        }
    return 0;
}

/* The Accept header is a comma-separated list of media ranges, each
 * maybe with parameters (";q=0.5"); only an exact type names it here, so a
 * wildcard never asks for a form the client may not read. */
int px_http_accepts(const px_http_request *req, const char *type) {
    const char *a = px_http_request_header(req, "Accept");
    size_t tn = strlen(type);
    while (a && *a) {
        while (*a == ' ' || *a == '\t' || *a == ',')
            a++;
        size_t n = strcspn(a, ",;");
        size_t m = n;
        while (m && (a[m - 1] == ' ' || a[m - 1] == '\t'))
            m--;
        size_t params = strcspn(a + n, ","); /* ";q=..." or nothing */
        if (m == tn && strncasecmp(a, type, tn) == 0 && !q_zero(a + n, params))
            return 1;
        a += n + params;
    }
    return 0;
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

/* One "Name: value" line, if it is one. */
static void add_header(struct MHD_Response *r, const char *line) {
    const char *colon = strchr(line, ':');
    char name[128];
    size_t n = colon ? (size_t)(colon - line) : 0;
    if (n == 0 || n >= sizeof name)
        return;
    memcpy(name, line, n);
    name[n] = '\0';
    const char *value = colon + 1;
    while (*value == ' ')
        value++;
    MHD_add_response_header(r, name, value);
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
    add_header(r, resp->extra_header);
    for (size_t i = 0; resp->headers && resp->headers[i]; i++)
        add_header(r, resp->headers[i]);
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

/* Queue the answer px_http_answer stored, or have px_http_answer_fill's
 * function make it. */
static enum MHD_Result send_later(struct MHD_Connection *conn, px_http_ctx *c) {
    c->sent = 1;
    if (c->fill) {
        c->resp = (px_http_response){.status = 200};
        c->fill(c->fill_ctx, &c->resp);
        if (c->resp.status < 100 || c->resp.status > 599)
            px_http_error(&c->resp, 500, "handler returned no valid status");
    }
    return send_response(conn, &c->resp);
}

px_http_later *px_http_later_begin(const px_http_request *req) {
    px_http_ctx *c = req ? req->later : NULL;
    if (!c)
        return NULL;
    px_http_server *s = c->srv;
    pthread_mutex_lock(&s->later_mu);
    int ok = !s->no_later && atomic_load(&c->later) == LATER_NO;
    if (ok) {
        atomic_store(&c->later, LATER_WAITING);
        c->deferred = 1;
        s->later++;
    }
    pthread_mutex_unlock(&s->later_mu);
    return ok ? (px_http_later *)c : NULL;
}

/* No lock: the committer of a log answers a whole batch in a row while
 * the poll threads take the first answers, and a shared lock held over
 * each resume had them queue for each other. The state's exchange
 * publishes the answer; who saw whom decides who resumes. */
static void answer(px_http_ctx *c, px_http_response *resp, px_http_fill_fn fill, void *fill_ctx) {
    px_http_server *s = c->srv;
    struct MHD_Connection *conn = c->conn;
    if (resp && (resp->status < 100 || resp->status > 599))
        px_http_error(resp, 500, "handler returned no valid status");
    if (resp) {
        c->resp = *resp;
        resp->body = (px_buf)PX_BUF_INIT;
    }
    c->fill = fill;
    c->fill_ctx = fill_ctx;
    /* From the exchange on, c is its thread's to send and free, unless it
     * was suspended: then it stays until this resume. */
    if (atomic_exchange(&c->later, LATER_ANSWERED) == LATER_SUSPENDED)
        MHD_resume_connection(conn);
    /* The last answer outstanding lets px_http_server_stop go on (it
     * waits under later_mu, so the broadcast cannot slip in before it). */
    if (atomic_fetch_sub(&s->later, 1) == 1) {
        pthread_mutex_lock(&s->later_mu);
        pthread_cond_broadcast(&s->later_cv);
        pthread_mutex_unlock(&s->later_mu);
    }
}

void px_http_answer(px_http_later *l, px_http_response *resp) { answer((px_http_ctx *)l, resp, NULL, NULL); }

void px_http_answer_fill(px_http_later *l, px_http_fill_fn fill, void *ctx) {
    answer((px_http_ctx *)l, NULL, fill, ctx);
}

/* After the handler returned, a request it took off the thread is either
 * answered already (send it) or suspended until px_http_answer resumes it;
 * if the answer lands between the suspend and the state change, this
 * thread resumes it itself and sends it on the next call. */
static enum MHD_Result after_handler(struct MHD_Connection *conn, px_http_ctx *c) {
    if (atomic_load(&c->later) == LATER_ANSWERED)
        return send_later(conn, c);
    MHD_suspend_connection(conn);
    int waiting = LATER_WAITING;
    if (!atomic_compare_exchange_strong(&c->later, &waiting, LATER_SUSPENDED))
        MHD_resume_connection(conn);
    return MHD_YES;
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
        .auth = c->token,
        .later = s->opts.threads ? c : NULL,
    };
    px_http_response resp = {.status = 200};
    s->opts.handler(s->opts.ctx, &req, &resp);
    if (c->deferred) {
        px_buf_free(&resp.body);
        return after_handler(conn, c);
    }
    if (resp.status < 100 || resp.status > 599)
        px_http_error(&resp, 500, "handler returned no valid status");
    return send_response(conn, &resp);
}

/* The first call, with the headers only: the gate decides before any of
 * the body is read (a refusal is answered at once and the connection
 * closed by libmicrohttpd without reading the body). */
static enum MHD_Result first_call(px_http_server *s, struct MHD_Connection *conn, const char *method,
                                  px_http_ctx *c) {
    c->started = 1;
    conn_mark(s, conn, 1);
    if (strlen(c->uri) > PX_HTTP_URI_MAX) {
        c->answered = 1;
        return send_error(conn, 414, "request target longer than %d bytes", PX_HTTP_URI_MAX);
    }
    px_http_gate g = {.max_body = s->opts.max_body};
    if (s->opts.gate) {
        char *q = strchr(c->uri, '?');
        if (q)
            *q = '\0';
        px_http_request req = {.method = method, .path = c->uri, .query = q ? q + 1 : "",
                               .body = (const uint8_t *)"", .conn = conn};
        s->opts.gate(s->opts.ctx, &req, &g);
        if (q)
            *q = '?';
        c->token = g.token;
        c->has_token = 1;
    }
    c->limit = g.max_body < s->opts.max_body ? g.max_body : s->opts.max_body;
    if (g.status) {
        c->answered = 1;
        return send_error(conn, g.status, "%s", g.msg[0] ? g.msg : "refused");
    }
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
    if (declared > c->limit) {
        c->answered = 1;
        return send_error(conn, 413, "request body larger than the limit of %zu bytes for %s %s", c->limit, method,
                          c->uri);
    }
    c->declared = (size_t)declared;
    return MHD_YES;
}

/* Room for n more bytes of the body. A body of megabytes (a partition's
 * releases) grown by doubling from nothing would be copied and its fresh
 * pages faulted in and wiped a dozen times over; the declared length
 * lets the buffer grow in few steps. It only guides: what was received
 * decides, and the buffer grows at most fourfold ahead of what arrived,
 * so a client that declares much and sends little makes the node reserve
 * little. */
static int body_room(px_http_ctx *c, size_t n) {
    size_t need = c->body.len + n;
    if (need < c->body.cap)
        return 0;
    size_t want = need < (SIZE_MAX >> 2) ? need * 4 : need;
    if (c->declared > need && want > c->declared)
        want = c->declared;
    if (want < need || c->declared <= need)
        want = need;
    return px_buf_reserve(&c->body, want - c->body.len, NULL);
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
        if (c->deferred && !c->sent) {
            /* Called again after a resume: the answer is there. */
            if (atomic_load(&c->later) == LATER_ANSWERED)
                return send_later(conn, c);
        }
        return MHD_YES;
    }
    if (!c->started)
        return first_call(s, conn, method, c);
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (c->too_large || c->body.len + n > c->limit) {
            c->too_large = 1;
            px_buf_free(&c->body);
            return MHD_YES;
        }
        return body_room(c, n) || px_buf_append(&c->body, upload_data, n, NULL) ? MHD_NO : MHD_YES;
    }
    c->answered = 1;
    if (c->too_large)
        return send_error(conn, 413, "request body larger than the limit of %zu bytes", c->limit);
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
    if (!s->opts.max_connections)
        s->opts.max_connections = PX_HTTP_MAX_CONNECTIONS_DEFAULT;
    if (!s->opts.header_timeout_ms)
        s->opts.header_timeout_ms = PX_HTTP_HEADER_TIMEOUT_MS_DEFAULT;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(opts->port)};
    const char *addr = opts->bind_addr ? opts->bind_addr : "127.0.0.1";
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        free(s);
        return px_fail(err, PX_E_INVALID, "http server: bind address '%s' is not IPv4", addr);
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->later_mu, NULL);
    pthread_cond_init(&s->later_cv, NULL);
    if (pthread_create(&s->watchdog, NULL, watchdog, s)) {
        px_http_server_stop(s);
        return px_fail(err, PX_E_NOMEM, "http server: cannot start its watchdog thread");
    }
    s->watching = 1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC;
    flags |= opts->threads ? MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME : MHD_USE_THREAD_PER_CONNECTION;
    /* Options common to both modes; the pool size is added for a pool. */
    struct MHD_OptionItem common[] = {
        {MHD_OPTION_SOCK_ADDR, 0, &sa},
        {MHD_OPTION_CONNECTION_LIMIT, s->opts.max_connections, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->opts.per_address, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, PX_HTTP_CONN_TIMEOUT_S, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_cb, s},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed_cb, s},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify_cb, s},
        {opts->threads ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, opts->threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, s, MHD_OPTION_ARRAY, common, MHD_OPTION_END);
    if (!s->mhd) {
        px_http_server_stop(s);
        return px_fail(err, PX_E_IO, "http server: cannot listen on %s:%u", addr,
                       (unsigned)opts->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : opts->port;
    *out = s;
    return 0;
}

uint16_t px_http_server_port(const px_http_server *s) { return s ? s->port : 0; }

unsigned long px_http_server_cut(px_http_server *s) {
    pthread_mutex_lock(&s->mu);
    unsigned long n = s->cut;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void px_http_server_stop(px_http_server *s) {
    if (!s)
        return;
    /* libmicrohttpd must not be stopped with a connection suspended: let
     * the requests answered later be answered (their handlers' work is
     * already under way), and have any new ones answered at once. */
    pthread_mutex_lock(&s->later_mu);
    s->no_later = 1;
    while (atomic_load(&s->later))
        pthread_cond_wait(&s->later_cv, &s->later_mu);
    pthread_mutex_unlock(&s->later_mu);
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->watching)
        pthread_join(s->watchdog, NULL);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->later_mu);
    pthread_cond_destroy(&s->later_cv);
    free(s);
}
