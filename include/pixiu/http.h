/* PIXIU HTTP transport: a small server (libmicrohttpd) and client (libcurl)
 * carrying JSON and binary bodies between nodes. The transport is untrusted:
 * authentication is added above it (signed requests, sealed payloads).
 */
#ifndef PIXIU_HTTP_H
#define PIXIU_HTTP_H

#include "pixiu/core.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

#define PX_HTTP_BODY_MAX_DEFAULT (8u << 20)

typedef struct px_http_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* without the query string */
    const char *query;  /* raw query string without '?', or "" */
    const uint8_t *body;
    size_t body_len;
    void *conn; /* opaque: used by px_http_request_header */
    void *auth; /* what the gate decided for this request (px_http_gate.token), or NULL */
    void *later; /* opaque: set when the handler may answer later (px_http_later_begin) */
} px_http_request;

/* Value of a request header (case-insensitive name), or NULL. Borrowed. */
const char *px_http_request_header(const px_http_request *req, const char *name);

/* 1 if the request's Accept header lists the media type (exactly, any
 * case) and not with q=0. */
int px_http_accepts(const px_http_request *req, const char *type);

typedef struct px_http_response {
    int status;
    const char *content_type; /* static string; default "application/json" */
    px_buf body;              /* filled by the handler; freed by the server */
    char extra_header[128];   /* optional "Name: value" line, or "" */
    const char *const *headers; /* more "Name: value" lines, NULL-ended, static; or NULL */
} px_http_response;

/* Handlers run on server threads and must be thread-safe. */
typedef void (*px_http_handler)(void *ctx, const px_http_request *req, px_http_response *resp);

/* The gate's verdict on a request, from its request line and headers
 * alone: nothing of the body has been read yet. */
typedef struct px_http_gate {
    int status;             /* 0: read the body and call the handler; else answer this now */
    char msg[PX_ERR_MSG_MAX];
    size_t max_body;        /* this request's body limit (set to the server's before the call) */
    void *token;            /* handed to the handler as req->auth, then to done */
} px_http_gate;

/* Called once per request before its body is read (req->body is empty).
 * Must be thread-safe. */
typedef void (*px_http_gate_fn)(void *ctx, const px_http_request *req, px_http_gate *g);
/* Called once for every token a gate set, when its request is over
 * (answered, refused or dropped). */
typedef void (*px_http_done_fn)(void *ctx, void *token);

#define PX_HTTP_MAX_CONNECTIONS_DEFAULT 1024
#define PX_HTTP_HEADER_TIMEOUT_MS_DEFAULT 10000

typedef struct px_http_server_opts {
    const char *bind_addr; /* e.g. "127.0.0.1"; NULL means 127.0.0.1 */
    uint16_t port;         /* 0 picks a free port: see px_http_server_port */
    size_t max_body;       /* larger bodies get 413; 0 = default */
    unsigned threads;      /* 0: one thread per connection, so a handler may
                            * block; N: a pool of N polling threads */
    px_http_handler handler;
    void *ctx;
    px_http_gate_fn gate;  /* NULL: every request may send max_body */
    px_http_done_fn done;
    unsigned max_connections;   /* at once; 0 = PX_HTTP_MAX_CONNECTIONS_DEFAULT */
    unsigned per_address;       /* connections at once from one address; 0 = no limit */
    /* A connection's request line and headers must all arrive within this
     * many ms of its start (or of its previous request's end), however
     * slowly they trickle in; 0 = PX_HTTP_HEADER_TIMEOUT_MS_DEFAULT. */
    unsigned header_timeout_ms;
} px_http_server_opts;

typedef struct px_http_server px_http_server;

int px_http_server_start(px_http_server **out, const px_http_server_opts *opts, px_err *err);
uint16_t px_http_server_port(const px_http_server *s);
/* How many connections were shut for not delivering their header in time. */
unsigned long px_http_server_cut(px_http_server *s);
/* Stops accepting, finishes in-flight requests, frees the server. */
void px_http_server_stop(px_http_server *s);

/* Answering later, for a handler that would otherwise wait (for an append
 * to become durable) on a server with a pool of polling threads, which a
 * waiting handler would stall. px_http_later_begin takes the request off
 * its thread and returns a handle; the handler then returns without
 * filling its response, and the connection sleeps until px_http_answer,
 * called exactly once from any thread, sends the answer (resp's body
 * passes to the server). NULL: answer now as usual (a server with a
 * thread per connection, where waiting is fine, or one that is stopping).
 * The request (its body included) stays valid until the answer. */
typedef struct px_http_later px_http_later;
px_http_later *px_http_later_begin(const px_http_request *req);
void px_http_answer(px_http_later *l, px_http_response *resp);
/* Instead of px_http_answer, for an answer that costs work (reading a
 * store) the answering thread should not do: fill runs on the request's
 * own polling thread, as a handler would, with resp to fill; or with resp
 * NULL, only to free ctx, if the connection is dropped first. */
typedef void (*px_http_fill_fn)(void *ctx, px_http_response *resp);
void px_http_answer_fill(px_http_later *l, px_http_fill_fn fill, void *ctx);

/* Fill resp with {"error":"<msg>"} and the given status. */
void px_http_error(px_http_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct px_http_header {
    const char *name;
    const char *value;
} px_http_header;

/* One blocking request. Appends the response body (at most max_resp bytes)
 * to resp and sets *status. A transport failure is -1 with
 * PX_E_UNAVAILABLE; any HTTP status is a success of the call. */
int px_http_call(const char *method, const char *url, const px_http_header *headers, size_t nheaders,
                 const void *body, size_t body_len, long timeout_ms, size_t max_resp, int *status,
                 px_buf *resp, px_err *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
