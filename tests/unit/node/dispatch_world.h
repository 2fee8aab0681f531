/* A whole network in this process for the dispatcher's tests: a log node
 * that is also the witness, two POD nodes with data, three executor nodes
 * (pixiud's code, real worker processes, real HTTP on loopback), and the
 * consumer, whose px_submit runs in the test. Faults are injected where
 * the dispatcher is: an executor stopped when a given progress line is
 * written, an executor of another build, a POD whose policy refuses. */
#ifndef PX_DISPATCH_WORLD_H
#define PX_DISPATCH_WORLD_H

#include <stdio.h>
#include <sys/stat.h>

#include "node/node.h"
#include "pixiu/node.h"
#include "pixiu/pod.h"
#include "pixiu/sandbox.h"
#include "px_test.h"

#define DW_PODS 2
#define DW_EXECS 3

typedef struct dworld dworld;
/* Called with every progress line the dispatcher writes. */
typedef void (*dw_hook)(dworld *w, const char *line);

struct dworld {
    char dir[40];
    px_signer consumer, log_key, platform, pod_key[DW_PODS], exec_key[DW_EXECS];
    px_node log, pod[DW_PODS], exec[DW_EXECS];
    int exec_up[DW_EXECS];
    char membership[96];
    px_buf progress; /* every line the dispatcher wrote */
    dw_hook hook;
    void *hook_ctx;
};

static inline void dw_key(const char *path, const px_signer *s) {
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    px_assert_ok(px_signer_format(s, &b, &err), &err);
    px_assert_ok(px_file_write_atomic(path, b.data, b.len, 0600, &err), &err);
    px_buf_free(&b);
}

static inline void dw_member(px_buf *b, const char *id, uint16_t port, const px_signer *s, const px_signer *platform,
                             const char *roles) {
    px_err err = {0};
    px_verifier v;
    px_signer_verifier(s, &v);
    px_buf_printf(b, &err, "%s{\"id\":\"%s\",\"url\":\"http://127.0.0.1:%u\",\"signing_key\":\"", b->len > 60 ? "," : "",
                  id, port ? port : 1);
    px_assert_ok(px_verifier_format(&v, b, &err), &err);
    px_buf_append_str(b, "\"", &err);
    if (platform) {
        px_signer_verifier(platform, &v);
        px_buf_append_str(b, ",\"platform_key\":\"", &err);
        px_assert_ok(px_verifier_format(&v, b, &err), &err);
        px_buf_append_str(b, "\",\"tee\":\"process\",\"level\":1", &err);
    }
    px_buf_printf(b, &err, ",\"roles\":[%s]}", roles);
}

static inline uint16_t dw_port(const px_node *n) { return n->srv ? px_http_server_port(n->srv) : 0; }

static inline void dw_write_membership(dworld *w) {
    px_buf b = PX_BUF_INIT;
    px_buf_append_str(&b, "{\"schema\":\"urn:pixiu:membership:v1\",\"nodes\":[", NULL);
    dw_member(&b, "log-1", dw_port(&w->log), &w->log_key, NULL, "\"log\",\"witness\"");
    for (int i = 0; i < DW_EXECS; i++) {
        char id[16];
        snprintf(id, sizeof id, "exec-%d", i);
        dw_member(&b, id, w->exec_up[i] ? dw_port(&w->exec[i]) : 0, &w->exec_key[i], &w->platform, "\"executor\"");
    }
    for (int i = 0; i < DW_PODS; i++) {
        char id[16];
        snprintf(id, sizeof id, "pod-%d", i);
        dw_member(&b, id, dw_port(&w->pod[i]), &w->pod_key[i], NULL, "\"pod\"");
    }
    dw_member(&b, "consumer-1", 0, &w->consumer, NULL, "\"consumer\"");
    px_buf_append_str(&b, "]}", NULL);
    px_err err = {0};
    px_assert_ok(px_file_write_atomic(w->membership, b.data, b.len, 0644, &err), &err);
    px_buf_free(&b);
}

/* When set (hex SHA-256), the PODs accept this code alone and no DP stage
 * is required; else any code behind DP. */
static const char *dw_code_only;

/* POD i's dataset "transactions": users u<i>-0.. with one or two records
 * each (amounts 10, 20, ...), a policy for consumer. */
static inline void dw_make_pod(dworld *w, int i, const char *consumer) {
    px_err err = {0};
    char path[128], policy[256];
    snprintf(path, sizeof path, "%s/pod-%d", w->dir, i);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/pod-%d/pod.db", w->dir, i);
    px_pod *p;
    px_pod_schema s;
    const char *schema = "{\"fields\":[{\"name\":\"user\",\"type\":\"text\"},{\"name\":\"amount\",\"type\":\"int\"}],"
                         "\"user\":\"user\"}";
    char csv[256];
    snprintf(csv, sizeof csv, "user,amount\nu%d-a,10\nu%d-a,20\nu%d-b,30\nu%d-c,40\n", i, i, i, i);
    if (dw_code_only)
        snprintf(policy, sizeof policy,
                 "{\"consumers\":[\"%s\"],\"code\":[\"%s\"],\"require_dp\":false,"
                 "\"budget\":{\"epsilon\":\"10\",\"delta\":\"0\"}}",
                 consumer, dw_code_only);
    else
        snprintf(policy, sizeof policy,
                 "{\"consumers\":[\"%s\"],\"code\":\"any-behind-dp\",\"require_dp\":true,"
                 "\"budget\":{\"epsilon\":\"10\",\"delta\":\"0\"}}",
                 consumer);
    px_assert_ok(px_pod_open(&p, path, &err), &err);
    px_assert_ok(px_pod_schema_parse(&s, schema, strlen(schema), &err), &err);
    px_assert_ok(px_pod_dataset_create(p, "transactions", &s, &err), &err);
    px_assert_ok(px_pod_import(p, "transactions", PX_POD_CSV, (const uint8_t *)csv, strlen(csv), NULL, NULL, &err),
                 &err);
    px_assert_ok(px_pod_policy_set(p, "transactions", policy, strlen(policy), &err), &err);
    px_pod_close(p);
}

/* Start node n as id with key and roles; worker (NULL: the build's own) is
 * the worker binary an executor runs. */
static inline void dw_start(dworld *w, px_node *n, const char *id, const px_signer *key, unsigned roles,
                            const char *worker) {
    px_err err = {0};
    px_node_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.dir, sizeof c.dir, "%s/%s", w->dir, id);
    mkdir(c.dir, 0700);
    snprintf(c.membership, sizeof c.membership, "%s", w->membership);
    snprintf(c.key, sizeof c.key, "%s/%s.key", w->dir, id);
    snprintf(c.listen, sizeof c.listen, "127.0.0.1");
    if (worker)
        snprintf(c.worker, sizeof c.worker, "%s", worker);
    c.roles = roles;
    px_node_limits_default(&c.limits);
    dw_key(c.key, key);
    if (roles & PX_ROLE_EXECUTOR) {
        snprintf(c.platform_key, sizeof c.platform_key, "%s/platform.key", w->dir);
        dw_key(c.platform_key, &w->platform);
    }
    px_assert_ok(px_node_start(n, &c, &err), &err);
}

/* pods_for: the consumer each POD's policy names (NULL: consumer-1 for
 * all); other_worker: executor i runs this worker binary instead. */
static inline void dw_setup(dworld *w, const char *const *pods_for, int other_exec, const char *other_worker) {
    px_err err = {0};
    memset(w, 0, sizeof *w);
    strcpy(w->dir, "/tmp/px-dispatch-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    snprintf(w->membership, sizeof w->membership, "%s/membership.json", w->dir);
    px_assert_ok(px_signer_generate(&w->consumer, "consumer-1", &err), &err);
    px_assert_ok(px_signer_generate(&w->log_key, "log-1", &err), &err);
    px_assert_ok(px_signer_generate(&w->platform, "platform", &err), &err);
    for (int i = 0; i < DW_PODS; i++) {
        char id[16];
        snprintf(id, sizeof id, "pod-%d", i);
        px_assert_ok(px_signer_generate(&w->pod_key[i], id, &err), &err);
        dw_make_pod(w, i, pods_for ? pods_for[i] : "consumer-1");
    }
    for (int i = 0; i < DW_EXECS; i++) {
        char id[16];
        snprintf(id, sizeof id, "exec-%d", i);
        px_assert_ok(px_signer_generate(&w->exec_key[i], id, &err), &err);
    }
    dw_write_membership(w);
    dw_start(w, &w->log, "log-1", &w->log_key, PX_ROLE_LOG | PX_ROLE_WITNESS, NULL);
    for (int i = 0; i < DW_PODS; i++) {
        char id[16];
        snprintf(id, sizeof id, "pod-%d", i);
        dw_start(w, &w->pod[i], id, &w->pod_key[i], PX_ROLE_POD, NULL);
    }
    for (int i = 0; i < DW_EXECS; i++) {
        char id[16];
        snprintf(id, sizeof id, "exec-%d", i);
        dw_start(w, &w->exec[i], id, &w->exec_key[i], PX_ROLE_EXECUTOR, i == other_exec ? other_worker : NULL);
        w->exec_up[i] = 1;
    }
    /* The ports are known now; the nodes reload the membership when its
     * modification time changes. */
    usleep(20000);
    dw_write_membership(w);
}

static inline void dw_stop_exec(dworld *w, int i) {
    if (w->exec_up[i])
        px_node_stop(&w->exec[i]);
    w->exec_up[i] = 0;
}

static inline void dw_teardown(dworld *w) {
    for (int i = 0; i < DW_EXECS; i++)
        dw_stop_exec(w, i);
    for (int i = 0; i < DW_PODS; i++)
        px_node_stop(&w->pod[i]);
    px_node_stop(&w->log);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
    assert_int_equal(system(cmd), 0);
    px_buf_free(&w->progress);
}

/* The progress stream: lines into w->progress, each shown to the hook. */
static ssize_t dw_progress_write(void *c, const char *buf, size_t n) {
    dworld *w = c;
    size_t start = w->progress.len;
    px_buf_append(&w->progress, buf, n, NULL);
    if (w->hook) {
        px_buf line = PX_BUF_INIT;
        px_buf_append(&line, w->progress.data + start, w->progress.len - start, NULL);
        px_buf_cstr(&line, NULL);
        w->hook(w, (const char *)line.data);
        px_buf_free(&line);
    }
    return (ssize_t)n;
}

/* Run the task template tmpl with code as consumer-1; returns px_submit's
 * value, the outcome in r. */
static inline int dw_submit(dworld *w, const char *tmpl, const px_buf *code, px_submit_result *r, px_err *err) {
    px_membership m;
    px_err e = {0};
    px_assert_ok(px_membership_load(&m, w->membership, &e), &e);
    cookie_io_functions_t io = {.write = dw_progress_write};
    FILE *progress = fopencookie(w, "w", io);
    assert_non_null(progress);
    setvbuf(progress, NULL, _IOLBF, 0);
    px_submit_opts o = {"consumer-1", &w->consumer, &m, code->data, code->len, NULL, 0, progress, NULL, 0, NULL, 0};
    int rc = px_submit(&o, tmpl, strlen(tmpl), r, err);
    fclose(progress);
    px_buf_cstr(&w->progress, NULL);
    px_membership_free(&m);
    return rc;
}

/* Where line `what` first appears in the progress (-1: nowhere). */
static inline long dw_at(const dworld *w, const char *what) {
    const char *p = w->progress.len ? strstr((const char *)w->progress.data, what) : NULL;
    return p ? (long)(p - (const char *)w->progress.data) : -1;
}

/* The charges of POD i for the manifest (its state, or -1 when none). */
static inline int dw_charge(dworld *w, int i, const uint8_t manifest[PX_SHA256_BYTES]) {
    char hex[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(hex, manifest, PX_SHA256_BYTES);
    px_pod_charge *c = NULL;
    size_t n = 0;
    px_err err = {0};
    pthread_mutex_lock(&w->pod[i].pod_mu);
    int rc = px_pod_budget_history(w->pod[i].pod, "transactions", &c, &n, &err);
    pthread_mutex_unlock(&w->pod[i].pod_mu);
    px_assert_ok(rc, &err);
    int state = -1;
    for (size_t k = 0; k < n; k++)
        if (!strcmp(c[k].manifest, hex))
            state = (int)c[k].state;
    free(c);
    return state;
}

/* Instances executor i holds now. */
static inline size_t dw_instances(dworld *w, int i) {
    size_t used = 0;
    pthread_mutex_lock(&w->exec[i].mu);
    for (size_t k = 0; k < w->exec[i].ninst; k++)
        used += w->exec[i].inst[k].used != 0;
    pthread_mutex_unlock(&w->exec[i].mu);
    return used;
}

#endif
