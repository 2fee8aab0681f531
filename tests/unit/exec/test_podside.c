/* Stages at the PODs, from the log alone (docs/executor.md, "Stages at
 * PODs"): the POD instance statements each POD signs, checked as anyone
 * can (its key, its position, a POD-side config of this manifest, evidence
 * measuring the manifest's code with that config); the plan holding only
 * the executors' instances, the stage after the PODs taking one input per
 * POD node; the audit's delivery report naming the POD that went silent;
 * and each POD's charge settled by whether its own output reached the DP
 * stage. Statements are signed with real keys; evidence in the TEE
 * module's format. */
#include "fixture.h"

#define CODE "\"code\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
#define POD_STAGES                                                                                               \
    "[{\"kind\":\"wasm\",\"at\":\"pod\"," CODE ",\"pad_ms\":300,\"params\":{\"map\":\"per-user\",\"dim\":1}},"       \
    "{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"1\",\"delta\":\"0\"},"                      \
    "\"params\":{\"mechanism\":\"count\",\"epsilon\":\"1\"}}]"

/* The world: the fixture's consumer and PODs, each POD with a platform key
 * (its node hosts its instance), an instance per POD and one for the DP
 * stage on exec-1. */
typedef struct world {
    fx f;
    px_signer plat[FX_PODS];
    px_node_platform nodes[FX_PODS + 1];
    px_exec_trust trust;
    fx_instance pod_inst[FX_PODS], dp;
    px_buf plan, dp_config;
    px_buf stmt[FX_PODS], config[FX_PODS];
} world;

static int check(void *ctx, const char *node, const uint8_t *ev, size_t n, const uint8_t nonce[32],
                 const px_stage_spec *spec, const uint8_t *cfg, size_t cfg_len, px_attested *out, px_err *err) {
    world *w = ctx;
    return px_exec_evidence_check(&w->trust, node, ev, n, nonce, spec, cfg, cfg_len, out, err);
}

static void evidence(world *w, const fx_instance *in, const char *node, const px_signer *plat,
                     const px_stage_spec *s, const px_buf *cfg, const uint8_t nonce[32], px_buf *out) {
    px_err err = {0};
    px_evidence ev;
    memset(&ev, 0, sizeof ev);
    strcpy(ev.backend, "process");
    ev.level = 1;
    snprintf(ev.node, sizeof ev.node, "%s", node);
    uint8_t cd[32], build[32];
    ev.build = w->f.build;
    px_assert_ok(px_tee_build_digest(build, &ev.build, &err), &err);
    px_sha256(cd, cfg->data, cfg->len);
    px_assert_ok(px_tee_measure(ev.measurement, build, px_manifest_kind_name(s->kind),
                                s->has_code ? s->code : px_tee_builtin_code, cd, &err), &err);
    memcpy(ev.sign_pk, in->sign.kp.pk, 32);
    memcpy(ev.box_pk, in->box.pk, 32);
    memcpy(ev.nonce, nonce, 32);
    ev.isolation = PX_ISO_SECCOMP | PX_ISO_NODUMP;
    ev.issued = px_now_ms();
    px_assert_ok(px_evidence_sign(out, &ev, plat, &err), &err);
}

/* The plan: the DP stage's instance alone, taking one input per POD node. */
static void plan(world *w) {
    px_err err = {0};
    px_verifier plats[FX_PODS];
    for (int i = 0; i < FX_PODS; i++)
        px_signer_verifier(&w->plat[i], &plats[i]);
    uint8_t succ[1][32];
    memcpy(succ[0], w->f.receiver.pk, 32);
    px_assert_ok(px_plan_config_build(&w->dp_config, &w->f.m, 1, 0, (const uint8_t(*)[32])succ, 1, plats, FX_PODS,
                                       NULL, 0, &px_testlog_keyed()->vkey, &err),
                 &err);
    px_plan_instance in = {.stage = 1, .partition = 0, .config = w->dp_config};
    snprintf(in.node, sizeof in.node, "exec-1");
    px_random(in.nonce, sizeof in.nonce);
    evidence(w, &w->dp, "exec-1", &w->f.platform, &w->f.m.stages[1], &w->dp_config, in.nonce, &in.evidence);
    px_evidence_digest(w->dp.evidence_digest, in.evidence.data, in.evidence.len);
    px_assert_ok(px_plan_sign(&w->plan, &w->f.m, &in, 1, &w->f.consumer, &err), &err);
    px_buf_free(&in.evidence);
}

/* POD k's instance statement at a partition, with a config it builds as a
 * POD does for partition cfg_partition. */
static void pod_statement_cfg(world *w, int k, uint32_t partition, uint32_t cfg_partition, const px_signer *signer) {
    px_err err = {0};
    px_verifier pod_v, plat_v;
    px_signer_verifier(&w->f.pods[k], &pod_v);
    px_signer_verifier(&w->plat[k], &plat_v);
    uint8_t succ[1][32], nonce[32];
    memcpy(succ[0], w->dp.box.pk, 32);
    px_buf_reset(&w->config[k]);
    px_buf_reset(&w->stmt[k]);
    px_assert_ok(px_podinst_config_build(&w->config[k], &w->f.m, 0, cfg_partition, (const uint8_t(*)[32])succ, 1,
                                           &pod_v, &plat_v, &px_testlog_keyed()->vkey, NULL, &err),
                 &err);
    px_random(nonce, 32);
    px_buf ev = PX_BUF_INIT;
    char node[16];
    snprintf(node, sizeof node, "pod-%d", k);
    evidence(w, &w->pod_inst[k], node, &w->plat[k], &w->f.m.stages[0], &w->config[k], nonce, &ev);
    px_evidence_digest(w->pod_inst[k].evidence_digest, ev.data, ev.len);
    px_podinst pi = {node, 0, partition, "wasm", nonce, w->config[k].data, w->config[k].len, ev.data, ev.len};
    px_assert_ok(px_podinst_sign(&w->stmt[k], w->f.m.id, &pi, signer, &err), &err);
    px_buf_free(&ev);
}

static void pod_statement(world *w, int k, uint32_t partition, const px_signer *signer) {
    pod_statement_cfg(w, k, partition, partition, signer);
}

static void world_init(world *w) {
    px_err err = {0};
    memset(w, 0, sizeof *w);
    fx_init_with(&w->f, POD_STAGES);
    for (int i = 0; i < FX_PODS; i++) {
        char name[32];
        snprintf(name, sizeof name, "pod-%d-platform", i);
        px_assert_ok(px_signer_generate(&w->plat[i], name, &err), &err);
        snprintf(w->nodes[i].id, sizeof w->nodes[i].id, "pod-%d", i);
        px_signer_verifier(&w->plat[i], &w->nodes[i].platform);
        px_box_keygen(&w->pod_inst[i].box);
        px_assert_ok(px_signer_generate(&w->pod_inst[i].sign, "instance", &err), &err);
    }
    snprintf(w->nodes[FX_PODS].id, sizeof w->nodes[FX_PODS].id, "exec-1");
    px_signer_verifier(&w->f.platform, &w->nodes[FX_PODS].platform);
    w->trust = (px_exec_trust){w->nodes, FX_PODS + 1, (const uint8_t(*)[32])w->f.build_digest, 1, &w->f.build};
    px_box_keygen(&w->dp.box);
    px_assert_ok(px_signer_generate(&w->dp.sign, "instance", &err), &err);
    plan(w);
    for (int i = 0; i < FX_PODS; i++)
        pod_statement(w, i, (uint32_t)i, &w->f.pods[i]);
}

static void world_free(world *w) {
    for (int i = 0; i < FX_PODS; i++) {
        px_buf_free(&w->stmt[i]);
        px_buf_free(&w->config[i]);
    }
    px_buf_free(&w->plan);
    px_buf_free(&w->dp_config);
    fx_free(&w->f);
}

static int podinst_check(world *w, int k, px_err *err) {
    px_entry e;
    px_attested att;
    if (px_entry_parse(&e, 0, w->stmt[k].data, w->stmt[k].len, err))
        return -1;
    int rc = px_podinst_check(&e, &w->f.m, w->f.pods[k].kp.pk, check, w, &att, NULL, err);
    if (rc == 0 && !px_ct_equal(att.sign_pk, w->pod_inst[k].sign.kp.pk, 32))
        rc = px_fail(err, PX_E_VERIFY, "attested another key");
    px_entry_free(&e);
    return rc;
}

static void test_instance_statements(void **state) {
    (void)state;
    world w;
    px_err err = {0};
    world_init(&w);
    assert_int_equal(px_manifest_pod_stages(&w.f.m), 1);
    assert_int_equal(px_manifest_pod_position(&w.f.m, "pod-2"), 2);
    for (int k = 0; k < FX_PODS; k++)
        px_assert_ok(podinst_check(&w, k, &err), &err);
    /* Signed by another POD's key. */
    pod_statement(&w, 1, 1, &w.f.pods[0]);
    px_assert_fails(podinst_check(&w, 1, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "not signed by pod-1's key"));
    /* Not at its own position: it would be dealt to another partition. */
    pod_statement(&w, 1, 2, &w.f.pods[1]);
    px_assert_fails(podinst_check(&w, 1, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "is not pod-1's position"));
    /* At its position, with the config of another POD's instance. */
    pod_statement_cfg(&w, 1, 1, 0, &w.f.pods[1]);
    px_assert_fails(podinst_check(&w, 1, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "its config is not for stage 0 partition 1"));
    /* Evidence under a platform key that is not this POD's. */
    px_signer saved = w.plat[1];
    px_assert_ok(px_signer_generate(&w.plat[1], "impostor", &err), &err);
    pod_statement(&w, 1, 1, &w.f.pods[1]);
    w.plat[1] = saved;
    px_assert_fails(podinst_check(&w, 1, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "evidence"));
    world_free(&w);
}

/* The plan has no instance for the stage at the PODs, and its stage after
 * the PODs must take one input per POD node. */
static void test_plan(void **state) {
    (void)state;
    world w;
    px_err err = {0};
    world_init(&w);
    px_plan p;
    px_attested att[1];
    px_assert_ok(px_plan_parse(&p, w.plan.data, w.plan.len, &err), &err);
    assert_int_equal(p.ninstances, 1);
    px_assert_ok(px_plan_check(&p, check, &w, 1, px_now_ms(), att, &err), &err);
    px_plan_free(&p);
    /* The same config without "one_per_node". */
    px_buf_cstr(&w.dp_config, &err);
    char *one = strstr((char *)w.dp_config.data, ",\"one_per_node\":true");
    assert_non_null(one);
    memmove(one, one + 20, strlen(one + 20) + 1);
    w.dp_config.len -= 20;
    px_plan_instance in = {.stage = 1, .partition = 0, .config = w.dp_config};
    snprintf(in.node, sizeof in.node, "exec-1");
    px_random(in.nonce, sizeof in.nonce);
    evidence(&w, &w.dp, "exec-1", &w.f.platform, &w.f.m.stages[1], &w.dp_config, in.nonce, &in.evidence);
    px_buf bad = PX_BUF_INIT;
    px_assert_ok(px_plan_sign(&bad, &w.f.m, &in, 1, &w.f.consumer, &err), &err);
    px_assert_ok(px_plan_parse(&p, bad.data, bad.len, &err), &err);
    px_assert_fails(px_plan_check(&p, check, &w, 1, px_now_ms(), att, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "one input per POD node"));
    px_plan_free(&p);
    px_buf_free(&bad);
    px_buf_free(&in.evidence);
    world_free(&w);
}

/* The log of a campaign: pods 0 and 1 ran and the DP stage used both;
 * pod-2 accepted its input and went silent. */
typedef struct camp {
    px_buf raw[32];
    size_t n;
    uint8_t pod_proof[FX_PODS][32];
} camp;

static void add(camp *c, const px_buf *b) {
    px_err err = {0};
    px_assert_ok(px_buf_append(&c->raw[c->n++], b->data, b->len, &err), &err);
}

static void campaign(world *w, camp *c, int dp_uses_pod1) {
    memset(c, 0, sizeof *c);
    px_err err = {0};
    add(c, &w->plan);
    px_input_ref dp_in[FX_PODS];
    size_t ndp = 0;
    for (int k = 0; k < FX_PODS; k++) {
        px_buf rel = PX_BUF_INIT, acc = PX_BUF_INIT, proof = PX_BUF_INIT;
        uint8_t data[32], out[32];
        px_random(data, 32);
        px_random(out, 32);
        add(c, &w->stmt[k]);
        fx_release(&w->f, &rel, k, data, w->pod_inst[k].box.pk);
        add(c, &rel);
        px_input_ref in;
        memcpy(in.digest, data, 32);
        px_sha256(in.proof, rel.data, rel.len);
        fx_accepted(&w->f, &acc, &w->pod_inst[k].sign, 0, &in, 1, w->pod_inst[k].evidence_digest);
        add(c, &acc);
        if (k < 2) {
            fx_proof(&w->f, &proof, &w->pod_inst[k].sign, 0, "ok", &in, 1, out);
            add(c, &proof);
            px_sha256(c->pod_proof[k], proof.data, proof.len);
            if (k == 0 || dp_uses_pod1) {
                memcpy(dp_in[ndp].digest, out, 32);
                memcpy(dp_in[ndp++].proof, c->pod_proof[k], 32);
            }
        }
        px_buf_free(&rel), px_buf_free(&acc), px_buf_free(&proof);
    }
    px_buf acc = PX_BUF_INIT, proof = PX_BUF_INIT;
    uint8_t result[32];
    px_random(result, 32);
    fx_accepted(&w->f, &acc, &w->dp.sign, 1, dp_in, ndp, w->dp.evidence_digest);
    add(c, &acc);
    fx_proof(&w->f, &proof, &w->dp.sign, 1, "ok", dp_in, ndp, result);
    add(c, &proof);
    (void)err;
    px_buf_free(&acc), px_buf_free(&proof);
}

static void camp_free(camp *c) {
    for (size_t i = 0; i < c->n; i++)
        px_buf_free(&c->raw[i]);
}

static void test_audit_names_the_silent_pod(void **state) {
    (void)state;
    world w;
    camp c;
    px_err err = {0};
    world_init(&w);
    campaign(&w, &c, 1);
    px_entry e[32];
    for (size_t i = 0; i < c.n; i++)
        px_assert_ok(px_entry_parse(&e[i], i, c.raw[i].data, c.raw[i].len, &err), &err);
    px_audit a;
    px_assert_ok(px_audit_run_at(&a, w.f.m.id, e, c.n, w.f.pod_keys, FX_PODS, check, &w, w.f.m.deadline + 1, &err),
                 &err);
    if (a.verdict != PX_AUDIT_OK)
        fail_msg("verdict %s: %s\n%s", px_verdict_name(a.verdict), a.why, (char *)a.report.data);
    assert_int_equal(a.pods, 3);
    assert_int_equal(a.pods_ran, 2);
    assert_int_equal(a.pods_used, 2);
    assert_non_null(strstr((char *)a.report.data, "stage 0 (wasm) at pod-2: accepted its input"));
    assert_non_null(strstr((char *)a.report.data, "pod-2 is silent (blamed: pod-2)"));
    assert_non_null(strstr((char *)a.report.data, "2 of 3 PODs ran stage 0 (wasm) with code aaaa"));
    px_audit_free(&a);
    /* Before the deadline it is still running: nobody blamed. */
    px_assert_ok(px_audit_run_at(&a, w.f.m.id, e, c.n, w.f.pod_keys, FX_PODS, check, &w, w.f.m.created, &err), &err);
    assert_null(strstr((char *)a.report.data, "is silent"));
    assert_non_null(strstr((char *)a.report.data, "has logged no proof yet"));
    px_audit_free(&a);
    for (size_t i = 0; i < c.n; i++)
        px_entry_free(&e[i]);
    camp_free(&c);
    world_free(&w);
}

/* Each POD's charge: spent only if its own output reached the DP stage. */
static void judge_pod(world *w, camp *c, int k, px_settlement *s) {
    px_err err = {0};
    px_plan p;
    px_attested att[1];
    px_settle_watch watch;
    px_assert_ok(px_plan_parse(&p, w->plan.data, w->plan.len, &err), &err);
    px_assert_ok(px_plan_check(&p, check, w, 0, w->f.m.created, att, &err), &err);
    px_assert_ok(px_settle_watch_from_plan(&watch, &p, att, &err), &err);
    watch.pod_side = 1;
    memcpy(watch.pod_key, w->pod_inst[k].sign.kp.pk, 32);
    px_entry e[32];
    for (size_t i = 0; i < c->n; i++)
        px_assert_ok(px_entry_parse(&e[i], i, c->raw[i].data, c->raw[i].len, &err), &err);
    px_assert_ok(px_settle_judge(&watch, e, c->n, c->n, s, &err), &err);
    for (size_t i = 0; i < c->n; i++)
        px_entry_free(&e[i]);
    px_settle_watch_free(&watch);
    px_plan_free(&p);
}

static void test_settle_by_pod(void **state) {
    (void)state;
    world w;
    camp c;
    px_settlement s;
    world_init(&w);
    campaign(&w, &c, 0); /* the DP stage used pod-0's output only */
    judge_pod(&w, &c, 0, &s);
    assert_false(s.refund);
    assert_non_null(strstr(s.reason, "logged its ok proof"));
    judge_pod(&w, &c, 1, &s); /* ran, but its output was left out */
    assert_true(s.refund);
    assert_non_null(strstr(s.reason, "without this POD's output"));
    judge_pod(&w, &c, 2, &s); /* never finished its stage */
    assert_true(s.refund);
    camp_free(&c);
    world_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instance_statements),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_audit_names_the_silent_pod),
        cmocka_unit_test(test_settle_by_pod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
