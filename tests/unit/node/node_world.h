/* A POD node and a log node (pixiud's code, in this process) over real
 * HTTP on loopback, with the executor fixture's consumer, instances and
 * plans. The log node can also be a witness. Shared by the node tests. */
#ifndef PX_NODE_WORLD_H
#define PX_NODE_WORLD_H

#include <sys/stat.h>

#include "../exec/fixture.h"
#include "node/node.h"

typedef struct world {
    fx f;
    char dir[40];
    px_signer log_key, stranger, exec_key;
    px_node pod, log, exec; /* exec runs only when a test starts it */
} world;

/* Limits for the nodes a test starts next (zero fields: the defaults). */
static px_node_limits nw_limits;

static inline void nw_write_key(const char *path, const px_signer *s) {
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    px_assert_ok(px_signer_format(s, &b, &err), &err);
    px_assert_ok(px_file_write_atomic(path, b.data, b.len, 0600, &err), &err);
    px_buf_free(&b);
}

static inline void nw_add_member(px_buf *b, const char *id, const char *url, const px_signer *s,
                                 const px_signer *platform, const char *roles) {
    px_err err = {0};
    px_verifier v;
    px_signer_verifier(s, &v);
    px_buf_printf(b, &err, "%s{\"id\":\"%s\",\"url\":\"%s\",\"signing_key\":\"", b->len > 60 ? "," : "", id, url);
    px_assert_ok(px_verifier_format(&v, b, &err), &err);
    if (platform) {
        px_signer_verifier(platform, &v);
        px_buf_append_str(b, "\",\"platform_key\":\"", &err);
        px_assert_ok(px_verifier_format(&v, b, &err), &err);
        px_buf_append_str(b, "\",\"tee\":\"process\",\"level\":1", &err);
    } else {
        px_buf_append_str(b, "\"", &err);
    }
    px_buf_printf(b, &err, ",\"roles\":[%s]}", roles);
}

/* The log node's roles in the membership: "log", or "log","witness". */
static const char *nw_log_roles = "\"log\"";

static inline uint16_t nw_port(const px_node *n) { return n->srv ? px_http_server_port(n->srv) : 1; }

static inline void nw_write_membership(world *w, uint16_t pod_port, uint16_t log_port) {
    px_buf b = PX_BUF_INIT;
    char url[64], path[96];
    px_buf_append_str(&b, "{\"schema\":\"urn:pixiu:membership:v1\",\"nodes\":[", NULL);
    nw_add_member(&b, "consumer-1", "http://127.0.0.1:1", &w->f.consumer, NULL, "\"consumer\"");
    for (int i = 0; i < FX_PODS; i++) {
        char id[16];
        snprintf(id, sizeof id, "pod-%d", i);
        snprintf(url, sizeof url, "http://127.0.0.1:%u", i == 0 ? pod_port : 1);
        nw_add_member(&b, id, url, &w->f.pods[i], NULL, "\"pod\"");
    }
    for (int i = 0; i < FX_STAGES; i++) {
        char id[16];
        snprintf(id, sizeof id, "exec-%d", i);
        px_signer node;
        px_err err = {0};
        px_assert_ok(px_signer_generate(&node, id, &err), &err);
        snprintf(url, sizeof url, "http://127.0.0.1:%u", i == 0 ? nw_port(&w->exec) : 1);
        nw_add_member(&b, id, url, i == 0 ? &w->exec_key : &node, &w->f.platform, "\"executor\"");
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u", log_port);
    nw_add_member(&b, "log-1", url, &w->log_key, NULL, nw_log_roles);
    px_buf_append_str(&b, "]}", NULL);
    snprintf(path, sizeof path, "%s/membership.json", w->dir);
    px_err err = {0};
    px_assert_ok(px_file_write_atomic(path, b.data, b.len, 0644, &err), &err);
    px_buf_free(&b);
}

/* The POD's dataset, the same schema as the fixture's manifest, with a
 * policy allowing the consumer any code behind DP, budget eps in total. */
static inline void nw_make_pod_db(world *w, const char *eps) {
    px_err err = {0};
    char path[96], policy[256];
    snprintf(path, sizeof path, "%s/pod-0", w->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/pod-0/pod.db", w->dir);
    px_pod *p;
    px_pod_schema s;
    const char *schema = "{\"fields\":[{\"name\":\"user\",\"type\":\"text\"},{\"name\":\"amount\",\"type\":\"int\"}],"
                         "\"user\":\"user\"}";
    const char *csv = "user,amount\nalice,10\nbob,20\ncarol,30\n";
    snprintf(policy, sizeof policy,
             "{\"consumers\":[\"consumer-1\"],\"code\":\"any-behind-dp\",\"require_dp\":true,"
             "\"budget\":{\"epsilon\":\"%s\",\"delta\":\"0\"}}",
             eps);
    px_assert_ok(px_pod_open(&p, path, &err), &err);
    px_assert_ok(px_pod_schema_parse(&s, schema, strlen(schema), &err), &err);
    px_assert_ok(px_pod_dataset_create(p, "transactions", &s, &err), &err);
    px_assert_ok(px_pod_import(p, "transactions", PX_POD_CSV, (const uint8_t *)csv, strlen(csv), NULL, NULL, &err),
                 &err);
    px_assert_ok(px_pod_policy_set(p, "transactions", policy, strlen(policy), &err), &err);
    px_pod_close(p);
}

static inline void nw_start_node(world *w, px_node *n, const char *id, const px_signer *key, unsigned roles) {
    px_err err = {0};
    px_node_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.dir, sizeof c.dir, "%s/%s", w->dir, id);
    snprintf(c.membership, sizeof c.membership, "%s/membership.json", w->dir);
    snprintf(c.key, sizeof c.key, "%s/%s.key", w->dir, id);
    snprintf(c.listen, sizeof c.listen, "127.0.0.1");
    c.roles = roles;
    c.limits = nw_limits;
    nw_write_key(c.key, key);
    if (roles & PX_ROLE_EXECUTOR) {
        snprintf(c.platform_key, sizeof c.platform_key, "%s/platform.key", w->dir);
        nw_write_key(c.platform_key, &w->f.platform);
    }
    px_assert_ok(px_node_start(n, &c, &err), &err);
}

/* The world with a POD whose dataset's budget is eps; log_roles are the
 * log node's (PX_ROLE_LOG, maybe | PX_ROLE_WITNESS). */
static inline void nw_setup(world *w, const char *eps, unsigned log_roles) {
    px_err err = {0};
    memset(w, 0, sizeof *w);
    fx_init(&w->f);
    strcpy(w->dir, "/tmp/px-node-world-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    nw_log_roles = (log_roles & PX_ROLE_WITNESS) ? "\"log\",\"witness\"" : "\"log\"";
    w->log_key = px_testlog_keyed()->key; /* the log the fixture's instances answer to */
    px_assert_ok(px_signer_generate(&w->stranger, "consumer-1", &err), &err);
    px_assert_ok(px_signer_generate(&w->exec_key, "exec-0", &err), &err);
    /* The instances run this machine's build, which the POD node (started
     * from the same directory) runs too and so accepts by default. */
    static px_lambda_build own;
    px_assert_ok(px_lambda_build_init(&own, PX_BUILD_DIR "/pixiu_worker", &err), &err);
    w->f.build = own.build;
    memcpy(w->f.build_digest, own.digest, 32);
    px_lambda_build_free(&own);
    nw_make_pod_db(w, eps);
    nw_write_membership(w, 1, 1);
    nw_start_node(w, &w->log, "log-1", &w->log_key, log_roles);
    nw_start_node(w, &w->pod, "pod-0", &w->f.pods[0], PX_ROLE_POD);
    /* Now the ports are known; the nodes reload the membership. */
    usleep(20000); /* a new mtime */
    nw_write_membership(w, px_http_server_port(w->pod.srv), px_http_server_port(w->log.srv));
}

/* Start exec-0 (an executor of this machine's build) and list its port. */
static inline void nw_start_exec(world *w) {
    nw_start_node(w, &w->exec, "exec-0", &w->exec_key, PX_ROLE_EXECUTOR);
    usleep(20000);
    nw_write_membership(w, nw_port(&w->pod), nw_port(&w->log));
}

/* A signed call as `who` (member id `id`) to node n. */
static inline int nw_call(const px_node *n, const px_signer *who, const char *id, const char *method,
                          const char *path, const void *body, size_t len, px_buf *out) {
    px_err err = {0};
    char base[64];
    int status = 0;
    snprintf(base, sizeof base, "http://127.0.0.1:%u", px_http_server_port(n->srv));
    px_buf_reset(out);
    px_assert_ok(px_signed_call(who, id, n->cfg.id, method, base, path, body, len, 30000, 1 << 24, &status, out,
                                &err), &err);
    px_buf_cstr(out, &err);
    return status;
}

static inline void nw_teardown(world *w) {
    if (w->exec.srv)
        px_node_stop(&w->exec);
    px_node_stop(&w->pod);
    px_node_stop(&w->log);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", w->dir);
    assert_int_equal(system(cmd), 0);
    fx_free(&w->f);
}

/* POST bytes to the POD's /v1/admit as `who`; the status, and the reply
 * in out. */
static inline int nw_admit_raw(world *w, const px_signer *who, const px_buf *body, px_buf *out) {
    px_err err = {0};
    char base[64];
    int status = 0;
    snprintf(base, sizeof base, "http://127.0.0.1:%u", px_http_server_port(w->pod.srv));
    px_buf_reset(out);
    px_assert_ok(px_signed_call(who, "consumer-1", "pod-0", "POST", base, "/v1/admit", body->data, body->len, 30000,
                                1 << 24, &status, out, &err), &err);
    px_buf_cstr(out, &err);
    return status;
}

/* Ask the POD to admit its path through the plan, as the dispatcher does. */
static inline int nw_admit(world *w, const px_signer *who, const px_buf *plan, px_buf *out) {
    px_err err = {0};
    px_plan p;
    px_buf path = PX_BUF_INIT;
    px_assert_ok(px_plan_parse(&p, plan->data, plan->len, &err), &err);
    px_assert_ok(px_plan_path(&path, &p, "pod-0", &err), &err);
    px_plan_free(&p);
    int status = nw_admit_raw(w, who, &path, out);
    px_buf_free(&path);
    return status;
}

#endif
