/* Fuzz the explorer's reading of a request: the view a path names, its
 * segments (digests, entry indices, node ids), the query (search, pages,
 * formats, sign-in links), against a real log and a real POD database.
 * Input: the path after "/ui", a newline, the raw query string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pixiu/explorer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static px_explorer *X[2];
static px_signer K;
static char M[1024];

static int members(void *ctx, px_membership *out, px_err *err) {
    return px_membership_parse(out, M, strlen(M), err);
}

static int trust_get(void *ctx, px_explorer_trust *t, px_err *err) {
    static const uint8_t builds[1][PX_SHA256_BYTES];
    *t = (px_explorer_trust){.exec = {NULL, 0, builds, 1, NULL}};
    return 0;
}

static void trust_put(void *ctx, px_explorer_trust *t) {
}

static char dir[] = "/tmp/px-fuzz-explorer-XXXXXX";

static void cleanup(void) {
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static void init(void) {
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    px_err err = {0};
    char path[128];
    px_log *log;
    px_pod *pod;
    px_buf vk = PX_BUF_INIT;
    px_verifier v;
    if (px_crypto_init(&err) || !mkdtemp(dir) || px_signer_generate(&K, "node-1", &err))
        abort();
    atexit(cleanup);
    px_signer_verifier(&K, &v);
    if (px_verifier_format(&v, &vk, &err))
        abort();
    snprintf(M, sizeof M, "{\"schema\":\"urn:pixiu:membership:v1\",\"nodes\":[{\"id\":\"node-1\",\"url\":"
             "\"http://127.0.0.1:1\",\"signing_key\":\"%.*s\",\"roles\":[\"log\",\"pod\"]}]}", (int)vk.len,
             (char *)vk.data);
    px_buf_free(&vk);
    snprintf(path, sizeof path, "%s/log.db", dir);
    px_log_opts lo = {.store = path, .key = &K};
    if (px_log_open(&log, &lo, &err))
        abort();
    const uint8_t *e[1] = {(const uint8_t *)"entry"};
    size_t len[1] = {5};
    uint64_t first;
    if (px_log_append(log, e, len, 1, &first, NULL, &err))
        abort();
    snprintf(path, sizeof path, "%s/pod.db", dir);
    if (px_pod_open(&pod, path, &err))
        abort();
    px_explorer_opts o = {.node_id = "node-1", .roles = PX_ROLE_LOG | PX_ROLE_POD, .log = log, .pod = pod,
                          .pod_mu = &mu, .members = members, .trust_get = trust_get, .trust_put = trust_put};
    if (px_explorer_new(&X[0], &o, &err))
        abort();
    o.log = NULL;
    if (px_explorer_new(&X[1], &o, &err))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!X[0])
        init();
    if (size > 4096)
        return 0;
    char path[4200], query[4200];
    const uint8_t *nl = memchr(data, '\n', size);
    size_t pl = nl ? (size_t)(nl - data) : size;
    if (memchr(data, 0, size))
        return 0; /* HTTP paths and queries hold no NUL */
    snprintf(path, sizeof path, "/ui%.*s", (int)pl, (const char *)data);
    snprintf(query, sizeof query, "%.*s", nl ? (int)(size - pl - 1) : 0, nl ? (const char *)nl + 1 : "");
    for (int i = 0; i < 2; i++) {
        px_http_request req = {.method = "GET", .path = path, .query = query};
        px_http_response resp = {0};
        px_explorer_handle(X[i], &req, &resp);
        if (resp.status < 200 || resp.status > 599)
            abort();
        px_buf_free(&resp.body);
    }
    return 0;
}
