/* pixiud's front door against hostile and careless clients, over real
 * sockets to nodes running pixiud's code in this process:
 *
 * - four unsigned 200 MiB POSTs are refused from their headers: the node's
 *   peak memory barely moves;
 * - a signed body over its route's limit is refused before it is read, and
 *   a body that is not the one the signature covers is refused;
 * - 1,100 slow connections from one address do not keep another client
 *   from the node, and a header that trickles in is cut at the deadline;
 * - a member over its quota of requests in flight is refused while others
 *   are served;
 * - the witness cosigns for the members that may ask, nobody else. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "node_world.h"

#define BIG_BODY (200u << 20)
#define HUGE_POSTS 4
#define SLOW_CONNS 1100
#define HEADER_MS 1500

static int setup(void **state) {
    static world w;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max; /* the slow clients and their server ends */
    setrlimit(RLIMIT_NOFILE, &rl);
    nw_limits = (px_node_limits){.member_requests = 2, .header_ms = HEADER_MS};
    nw_setup(&w, "10", PX_ROLE_LOG | PX_ROLE_WITNESS);
    *state = &w;
    return 0;
}

static int teardown(void **state) {
    nw_teardown(*state);
    return 0;
}

/* A TCP connection to port from the loopback address src (127.0.0.x). */
static int dial(const char *src, uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, src, &a.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_str(int fd, const char *s) {
    assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* The status of the response on fd (waits up to ms), or 0 when the
 * connection ended without one. */
static int read_status(int fd, int ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n <= 12)
        return 0;
    buf[n] = 0;
    return atoi(buf + 9);
}

static long peak_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    long v = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            v = atol(line + 6);
    if (f)
        fclose(f);
    return v;
}

/* ---- unsigned bodies ----------------------------------------------------------- */

typedef struct huge_job {
    uint16_t port;
    int status;
    size_t sent;
} huge_job;

static void *huge_post(void *arg) {
    huge_job *j = arg;
    int fd = dial("127.0.0.1", j->port);
    char head[160];
    snprintf(head, sizeof head, "POST /v1/admit HTTP/1.1\r\nHost: pod\r\nContent-Length: %u\r\n\r\n", BIG_BODY);
    send_str(fd, head);
    static char chunk[1 << 20];
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    while (j->sent < BIG_BODY) {
        ssize_t k = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);
        if (k <= 0)
            break; /* the node hung up: it will not read the body */
        j->sent += (size_t)k;
    }
    j->status = read_status(fd, 10000);
    close(fd);
    return NULL;
}

static void test_unsigned_bodies(void **state) {
    world *w = *state;
    FILE *f = fopen("/proc/self/clear_refs", "w");
    assert_non_null(f);
    fputs("5", f); /* resets VmHWM to the current RSS */
    fclose(f);
    long before = peak_rss_kib();
    huge_job jobs[HUGE_POSTS];
    pthread_t th[HUGE_POSTS];
    for (int i = 0; i < HUGE_POSTS; i++) {
        jobs[i] = (huge_job){.port = px_http_server_port(w->pod.srv)};
        assert_int_equal(pthread_create(&th[i], NULL, huge_post, &jobs[i]), 0);
    }
    for (int i = 0; i < HUGE_POSTS; i++)
        pthread_join(th[i], NULL);
    long grew = peak_rss_kib() - before;
    print_message("peak RSS grew by %ld KiB for %d unsigned %u MiB posts (%zu MiB sent before the refusal)\n", grew,
                  HUGE_POSTS, BIG_BODY >> 20, jobs[0].sent >> 20);
    for (int i = 0; i < HUGE_POSTS; i++) {
        assert_int_equal(jobs[i].status, 403);
        assert_true(jobs[i].sent < BIG_BODY);
    }
    assert_true(grew < 32 * 1024);
}

/* ---- signed bodies ------------------------------------------------------------------ */

static void test_signed_bodies(void **state) {
    world *w = *state;
    px_buf big = PX_BUF_INIT, out = PX_BUF_INIT;
    /* A plan route takes at most PX_PLAN_MAX_BYTES. */
    assert_int_equal(px_buf_reserve(&big, PX_PLAN_MAX_BYTES + 1, NULL), 0);
    memset(big.data, '{', PX_PLAN_MAX_BYTES + 1);
    big.len = PX_PLAN_MAX_BYTES + 1;
    assert_int_equal(nw_call(&w->pod, &w->f.consumer, "consumer-1", "POST", "/v1/admit", big.data, big.len, &out),
                     413);
    assert_non_null(strstr((char *)out.data, "POST /v1/admit"));
    px_buf_free(&big);
    /* Headers signed for one body, another body of the same length. */
    px_request_auth a;
    px_err err = {0};
    px_assert_ok(px_request_sign(&a, &w->f.consumer, "consumer-1", "pod-0", "POST", "/v1/admit", "", "{\"a\":1}", 7,
                                 px_now_ms(), &err), &err);
    int fd = dial("127.0.0.1", px_http_server_port(w->pod.srv));
    char req[1024];
    snprintf(req, sizeof req,
             "POST /v1/admit HTTP/1.1\r\nHost: pod\r\nContent-Length: 7\r\n" PX_REQ_HDR_NODE ": %s\r\n" PX_REQ_HDR_TIME
             ": %s\r\n" PX_REQ_HDR_NONCE ": %s\r\n" PX_REQ_HDR_SIG ": %s\r\n" PX_REQ_HDR_DIGEST ": %s\r\n\r\n{\"a\":2}",
             a.node, a.time, a.nonce, a.sig, a.digest);
    send_str(fd, req);
    assert_int_equal(read_status(fd, 10000), 401);
    close(fd);
    px_buf_free(&out);
}

/* ---- slow clients -------------------------------------------------------------------- */

static void test_slow_clients(void **state) {
    world *w = *state;
    uint16_t port = px_http_server_port(w->pod.srv);
    static int fds[SLOW_CONNS];
    for (int i = 0; i < SLOW_CONNS; i++) {
        fds[i] = dial("127.0.0.2", port);
        send(fds[i], "GET /v1/health HTTP/1.1\r\n", 25, MSG_NOSIGNAL); /* and then, slowly, nothing */
    }
    /* Another client is served at once. */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/v1/health", port);
    px_buf out = PX_BUF_INIT;
    px_err err = {0};
    int status = 0;
    uint64_t t0 = px_mono_ns();
    px_assert_ok(px_http_call("GET", url, NULL, 0, NULL, 0, 3000, 1 << 16, &status, &out, &err), &err);
    assert_int_equal(status, 200);
    print_message("health answered in %.1f ms beside %d slow connections\n", (px_mono_ns() - t0) / 1e6, SLOW_CONNS);
    /* A header that trickles in, one line now and then, is cut at the
     * deadline however recent its last line. */
    int slow = dial("127.0.0.3", port);
    send_str(slow, "GET /v1/health HTTP/1.1\r\n");
    t0 = px_mono_ns();
    int closed = 0;
    for (int k = 0; k < 40 && !closed; k++) {
        usleep(250000);
        if (send(slow, "X-Slow: y\r\n", 11, MSG_NOSIGNAL) < 0)
            closed = 1;
        else {
            char c;
            closed = recv(slow, &c, 1, MSG_DONTWAIT) == 0;
        }
    }
    double s = (px_mono_ns() - t0) / 1e9;
    print_message("a trickling header was cut after %.1f s (deadline %.1f s)\n", s, HEADER_MS / 1e3);
    assert_true(closed);
    assert_true(s < HEADER_MS / 1e3 + 2);
    close(slow);
    for (int i = 0; i < SLOW_CONNS; i++)
        close(fds[i]);
    px_buf_free(&out);
}

/* ---- quotas ------------------------------------------------------------------------------ */

/* A signed /log/add whose body never comes: it holds a request in flight. */
static int hold(world *w, const px_signer *who, const char *id) {
    px_request_auth a;
    px_err err = {0};
    px_assert_ok(px_request_sign(&a, who, id, "log-1", "POST", "/log/add", "", "x", 1, px_now_ms(), &err), &err);
    int fd = dial("127.0.0.1", px_http_server_port(w->log.srv));
    char req[1024];
    snprintf(req, sizeof req,
             "POST /log/add HTTP/1.1\r\nHost: log\r\nContent-Length: 1\r\n" PX_REQ_HDR_NODE ": %s\r\n" PX_REQ_HDR_TIME
             ": %s\r\n" PX_REQ_HDR_NONCE ": %s\r\n" PX_REQ_HDR_SIG ": %s\r\n" PX_REQ_HDR_DIGEST ": %s\r\n\r\n",
             a.node, a.time, a.nonce, a.sig, a.digest);
    send_str(fd, req);
    return fd;
}

static void test_member_quota(void **state) {
    world *w = *state;
    px_buf out = PX_BUF_INIT;
    int held[2] = {hold(w, &w->f.consumer, "consumer-1"), hold(w, &w->f.consumer, "consumer-1")};
    usleep(200000); /* both are past the gate */
    assert_int_equal(nw_call(&w->log, &w->f.consumer, "consumer-1", "POST", "/log/add", "entry-1", 7, &out), 429);
    assert_non_null(strstr((char *)out.data, "requests in flight"));
    /* Another member is served meanwhile. */
    assert_int_equal(nw_call(&w->log, &w->f.pods[0], "pod-0", "POST", "/log/add", "entry-2", 7, &out), 200);
    close(held[0]);
    close(held[1]);
    usleep(300000); /* the node sees them end */
    assert_int_equal(nw_call(&w->log, &w->f.consumer, "consumer-1", "POST", "/log/add", "entry-3", 7, &out), 200);
    px_buf_free(&out);
}

/* ---- the witness ----------------------------------------------------------------------- */

static void test_witness_members_only(void **state) {
    world *w = *state;
    px_buf out = PX_BUF_INIT, note = PX_BUF_INIT, body = PX_BUF_INIT;
    px_err err = {0};
    uint64_t size;
    px_assert_ok(px_log_checkpoint(w->log.log, &note, &size, &err), &err);
    px_buf_printf(&body, &err, "old 0\n\n%.*s", (int)note.len, (char *)note.data);
    char url[96];
    int status = 0;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/witness/add-checkpoint", px_http_server_port(w->log.srv));
    px_assert_ok(px_http_call("POST", url, NULL, 0, body.data, body.len, 10000, 1 << 16, &status, &out, &err), &err);
    assert_int_equal(status, 403);
    /* A POD has nothing to ask a witness for. */
    assert_int_equal(nw_call(&w->log, &w->f.pods[0], "pod-0", "POST", "/witness/add-checkpoint", body.data, body.len,
                             &out),
                     403);
    assert_non_null(strstr((char *)out.data, "may not ask"));
    assert_int_equal(nw_call(&w->log, &w->f.consumer, "consumer-1", "POST", "/witness/add-checkpoint", body.data,
                             body.len, &out),
                     200);
    px_buf_free(&out);
    px_buf_free(&note);
    px_buf_free(&body);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unsigned_bodies), cmocka_unit_test(test_signed_bodies),
        cmocka_unit_test(test_slow_clients),    cmocka_unit_test(test_member_quota),
        cmocka_unit_test(test_witness_members_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
