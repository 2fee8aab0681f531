/* PIXIU HTTP client: one blocking libcurl request per call.
 *
 * Only http and https are allowed, redirects are not followed, and the
 * response is cut off (and the call fails) past max_resp bytes, so a
 * hostile peer cannot make the caller buffer without bound.
 */
#include <pthread.h>
#include <string.h>

#include <curl/curl.h>

#include "pixiu/http.h"

#define PX_HTTP_HEADER_LINE_MAX 1024

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct sink {
    px_buf *out;
    size_t start, max;
    int over;
} sink;

static size_t write_cb(char *p, size_t size, size_t n, void *ud) {
    sink *s = ud;
    size_t len = size * n;
    if (s->out->len - s->start + len > s->max) {
        s->over = 1;
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    }
    return px_buf_append(s->out, p, len, NULL) ? 0 : len;
}

static int add_headers(struct curl_slist **list, const px_http_header *h, size_t n,
                       px_err *err) {
    char line[PX_HTTP_HEADER_LINE_MAX];
    /* No "Expect: 100-continue" round trip before bodies. */
    struct curl_slist *l = curl_slist_append(*list, "Expect:");
    if (!l)
        return px_fail(err, PX_E_NOMEM, "http: out of memory");
    *list = l;
    for (size_t i = 0; i < n; i++) {
        if (strpbrk(h[i].name, "\r\n:") || strpbrk(h[i].value, "\r\n"))
            return px_fail(err, PX_E_INVALID, "http: header '%s' contains a forbidden character",
                           h[i].name);
        int w = snprintf(line, sizeof line, "%s: %s", h[i].name, h[i].value);
        if (w < 0 || (size_t)w >= sizeof line)
            return px_fail(err, PX_E_LIMIT, "http: header '%s' is too long", h[i].name);
        if (!(l = curl_slist_append(*list, line)))
            return px_fail(err, PX_E_NOMEM, "http: out of memory");
        *list = l;
    }
    return 0;
}

static int setup(CURL *c, const char *method, const char *url, struct curl_slist *hdrs,
                 const void *body, size_t body_len, long timeout_ms, sink *s) {
    int bad = 0;
    bad |= curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, s) != CURLE_OK;
    if (strcmp(method, "GET") != 0 || body_len) {
        bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "") != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len) != CURLE_OK;
        if (strcmp(method, "POST") != 0)
            bad |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    }
    if (!strcmp(method, "HEAD"))
        bad |= curl_easy_setopt(c, CURLOPT_NOBODY, 1L) != CURLE_OK;
    return bad ? -1 : 0;
}

int px_http_call(const char *method, const char *url, const px_http_header *headers,
                 size_t nheaders, const void *body, size_t body_len, long timeout_ms,
                 size_t max_resp, int *status, px_buf *resp, px_err *err) {
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return px_fail(err, PX_E_INTERNAL, "http: libcurl failed to initialise");
    if (!method || !*method || strpbrk(method, " \r\n"))
        return px_fail(err, PX_E_INVALID, "http: invalid method");
    CURL *c = curl_easy_init();
    if (!c)
        return px_fail(err, PX_E_NOMEM, "http: out of memory");
    struct curl_slist *hdrs = NULL;
    sink s = {resp, resp->len, max_resp ? max_resp : PX_HTTP_BODY_MAX_DEFAULT, 0};
    int rc = -1;
    if (add_headers(&hdrs, headers, nheaders, err))
        goto out;
    if (setup(c, method, url, hdrs, body, body_len, timeout_ms, &s)) {
        px_fail(err, PX_E_INTERNAL, "http: libcurl rejected an option for %s", url);
        goto out;
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        resp->len = s.start;
        if (s.over)
            px_fail(err, PX_E_LIMIT, "http: response from %s larger than %zu bytes", url, s.max);
        else
            px_fail(err, PX_E_UNAVAILABLE, "http: %s %s: %s", method, url, curl_easy_strerror(cc));
        goto out;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    *status = (int)code;
    rc = 0;
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    return rc;
}
