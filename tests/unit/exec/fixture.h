/* A small world for executor tests: a consumer, PODs, one instance per
 * stage with its own keys, a signed manifest and plan, and functions that
 * sign release statements and execution proofs the way the stages do.
 *
 * Evidence is the TEE module's format, signed by a platform key the way the
 * process backend signs it, and checked by px_exec_evidence_check. */
#ifndef PX_EXEC_FIXTURE_H
#define PX_EXEC_FIXTURE_H

#include "px_test.h"
#include "px_testlog.h"
#include "pixiu/exec.h"

#define FX_STAGES 3
#define FX_PODS 3

typedef struct fx_instance {
    px_box_keypair box;
    px_signer sign;
    uint32_t level;
    int bad_measurement;
    uint8_t evidence_digest[32]; /* of its evidence in the last plan */
} fx_instance;

typedef struct fx {
    px_signer consumer, platform;
    px_box_keypair receiver;
    px_signer pods[FX_PODS];
    px_pod_key pod_keys[FX_PODS];
    fx_instance inst[FX_STAGES];
    px_buf manifest_env;
    px_manifest m;
    px_buf plan_env;
    px_tee_build build; /* the accepted build: worker, runner, compilers */
    uint8_t build_digest[32];
    px_node_platform nodes[FX_STAGES];
    px_exec_trust trust;
    unsigned serial; /* makes each manifest of one fixture distinct */
    int64_t lifetime_ms; /* the next manifest's deadline after its creation; 0: 10 minutes */
    const px_verifier *other_log; /* configs answer to this log instead of the test log */
} fx;

/* Evidence as the TEE module's process backend signs it, for instance i
 * on node exec-<i>; a bad_measurement instance is measured under a build
 * whose sandbox runner nobody accepts. */
static inline void fx_evidence(fx *f, const fx_instance *in, const px_stage_spec *s, const px_buf *cfg,
                               const uint8_t nonce[32], px_buf *out) {
    px_err err = {0};
    px_evidence ev;
    memset(&ev, 0, sizeof ev);
    strcpy(ev.backend, "process");
    ev.level = (int)in->level;
    snprintf(ev.node, sizeof ev.node, "exec-%d", (int)(in - f->inst));
    uint8_t cd[32], build[32];
    ev.build = f->build;
    if (in->bad_measurement)
        ev.build.c[1].sha256[0] ^= 1; /* "runner" */
    px_assert_ok(px_tee_build_digest(build, &ev.build, &err), &err);
    px_sha256(cd, cfg->data, cfg->len);
    px_assert_ok(px_tee_measure(ev.measurement, build, px_manifest_kind_name(s->kind),
                                s->has_code ? s->code : px_tee_builtin_code, cd, &err), &err);
    memcpy(ev.sign_pk, in->sign.kp.pk, 32);
    memcpy(ev.box_pk, in->box.pk, 32);
    memcpy(ev.nonce, nonce, 32);
    ev.isolation = PX_ISO_SECCOMP | PX_ISO_NODUMP;
    ev.issued = px_now_ms();
    px_assert_ok(px_evidence_sign(out, &ev, &f->platform, &err), &err);
}

static inline int fx_check(void *ctx, const char *node, const uint8_t *ev, size_t n, const uint8_t nonce[32],
                           const px_stage_spec *spec, const uint8_t *cfg, size_t cfg_len, px_attested *out,
                           px_err *err) {
    fx *f = ctx;
    return px_exec_evidence_check(&f->trust, node, ev, n, nonce, spec, cfg, cfg_len, out, err);
}

static inline void fx_manifest_json(fx *f, px_buf *out, const char *stages_json) {
    px_buf vk = PX_BUF_INIT;
    px_err err = {0};
    px_verifier v;
    px_signer_verifier(&f->consumer, &v);
    px_assert_ok(px_verifier_format(&v, &vk, &err), &err);
    px_buf_cstr(&vk, &err);
    char rk[65];
    px_hex_encode(rk, f->receiver.pk, 32);
    int64_t now = px_now_ms();
    px_assert_ok(px_buf_printf(out, &err,
        "{\"schema\":\"urn:pixiu:manifest:v1\",\"name\":\"spend\",\"consumer\":{\"id\":\"consumer-1\",\"key\":\"%s\"},"
        "\"nonce\":\"%032x\",\"created\":%lld,\"deadline\":%lld,"
        "\"datasets\":[{\"name\":\"transactions\",\"schema\":{\"fields\":[{\"name\":\"user\",\"type\":\"text\"},"
        "{\"name\":\"amount\",\"type\":\"int\"}],\"user\":\"user\"},\"pods\":[\"pod-0\",\"pod-1\",\"pod-2\"]}],"
        "\"stages\":%s,\"receivers\":[{\"id\":\"consumer-1\",\"key\":\"%s\"}]}",
        (char *)vk.data, f->serial++, (long long)now, (long long)now + (f->lifetime_ms ? f->lifetime_ms : 600000),
        stages_json, rk), &err);
    px_buf_free(&vk);
}

#define FX_STAGES_JSON                                                                                           \
    "[{\"kind\":\"prover\",\"min_level\":1,\"params\":{\"require\":\"any\",\"sources\":[]}},"                                                                   \
    "{\"kind\":\"wasm\",\"code\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"min_level\":1," \
    "\"limits\":{\"cpu_ms\":5000,\"mem_mb\":64},\"params\":{\"map\":\"per-user\",\"dim\":1}},"                \
    "{\"kind\":\"dp\",\"min_level\":1,\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"0.5\",\"delta\":\"0\"},"   \
    "\"params\":{\"mechanism\":\"sum\",\"epsilon\":\"0.5\",\"dim\":1,\"lower\":0,\"upper\":1000}}]"

/* The config of stage i: trusts the platform key, or the PODs at stage 0. */
static inline void fx_config(fx *f, px_buf *out, uint32_t i, uint8_t succ[1][32]) {
    px_err err = {0};
    px_verifier plat, pods[FX_PODS];
    px_signer_verifier(&f->platform, &plat);
    for (int k = 0; k < FX_PODS; k++)
        px_signer_verifier(&f->pods[k], &pods[k]);
    px_assert_ok(px_plan_config_build(out, &f->m, i, 0, (const uint8_t(*)[32])succ, 1, i ? &plat : NULL,
                                       i ? 1 : 0, i ? NULL : pods, i ? 0 : FX_PODS,
                                       f->other_log ? f->other_log : &px_testlog_keyed()->vkey, &err),
                 &err);
}

/* successor keys for stage i under a given wiring: the next stage's key,
 * or the receiver's key for the last stage (or, when skip_to, stage skip_to). */
static inline void fx_plan(fx *f, px_buf *out, int skip_stage) {
    px_err err = {0};
    px_plan_instance ins[FX_STAGES];
    memset(ins, 0, sizeof ins);
    for (uint32_t i = 0; i < f->m.nstages; i++) {
        uint8_t succ[1][32];
        if (i + 1 == f->m.nstages || (skip_stage >= 0 && (int)i + 1 == skip_stage))
            memcpy(succ[0], f->receiver.pk, 32);
        else
            memcpy(succ[0], f->inst[i + 1].box.pk, 32);
        ins[i].stage = i;
        snprintf(ins[i].node, sizeof ins[i].node, "exec-%u", i);
        px_random(ins[i].nonce, sizeof ins[i].nonce);
        fx_config(f, &ins[i].config, i, succ);
        fx_evidence(f, &f->inst[i], &f->m.stages[i], &ins[i].config, ins[i].nonce, &ins[i].evidence);
        px_evidence_digest(f->inst[i].evidence_digest, ins[i].evidence.data, ins[i].evidence.len);
    }
    px_assert_ok(px_plan_sign(out, &f->m, ins, f->m.nstages, &f->consumer, &err), &err);
    for (uint32_t i = 0; i < f->m.nstages; i++) {
        px_buf_free(&ins[i].config);
        px_buf_free(&ins[i].evidence);
    }
}

static inline void fx_init_with(fx *f, const char *stages_json) {
    px_err err = {0};
    memset(f, 0, sizeof *f);
    px_assert_ok(px_crypto_init(&err), &err);
    px_assert_ok(px_signer_generate(&f->consumer, "consumer-1", &err), &err);
    px_assert_ok(px_signer_generate(&f->platform, "platform", &err), &err);
    px_box_keygen(&f->receiver);
    for (int i = 0; i < FX_PODS; i++) {
        char name[16];
        snprintf(name, sizeof name, "pod-%d", i);
        px_assert_ok(px_signer_generate(&f->pods[i], name, &err), &err);
        strcpy(f->pod_keys[i].id, name);
        memcpy(f->pod_keys[i].sign_pk, f->pods[i].kp.pk, 32);
    }
    static const char *const names[] = {"worker", "runner", "wasm2c", "cc", "cc1", "as", "ld", "wasm-rt.h"};
    px_assert_ok(px_tee_build_init(&f->build, NULL, &err), &err);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint8_t d[32];
        px_sha256(d, names[i], strlen(names[i]));
        px_assert_ok(px_tee_build_add(&f->build, names[i], d, &err), &err);
    }
    px_assert_ok(px_tee_build_digest(f->build_digest, &f->build, &err), &err);
    for (int i = 0; i < FX_STAGES; i++) {
        snprintf(f->nodes[i].id, sizeof f->nodes[i].id, "exec-%d", i);
        px_signer_verifier(&f->platform, &f->nodes[i].platform);
    }
    f->trust = (px_exec_trust){f->nodes, FX_STAGES, (const uint8_t(*)[32])f->build_digest, 1, &f->build};
    for (int i = 0; i < FX_STAGES; i++) {
        px_box_keygen(&f->inst[i].box);
        px_assert_ok(px_signer_generate(&f->inst[i].sign, "instance", &err), &err);
        f->inst[i].level = 1;
    }
    px_buf doc = PX_BUF_INIT;
    fx_manifest_json(f, &doc, stages_json);
    px_assert_ok(px_manifest_sign(&f->manifest_env, doc.data, doc.len, &f->consumer, &err), &err);
    px_assert_ok(px_manifest_parse(&f->m, f->manifest_env.data, f->manifest_env.len, &err), &err);
    px_buf_free(&doc);
}

/* Replace the fixture's manifest by a new one (a new task) with the same
 * parties. */
static inline void fx_new_manifest(fx *f, const char *stages_json) {
    px_err err = {0};
    px_buf doc = PX_BUF_INIT;
    px_manifest_free(&f->m);
    px_buf_reset(&f->manifest_env);
    fx_manifest_json(f, &doc, stages_json);
    px_assert_ok(px_manifest_sign(&f->manifest_env, doc.data, doc.len, &f->consumer, &err), &err);
    px_assert_ok(px_manifest_parse(&f->m, f->manifest_env.data, f->manifest_env.len, &err), &err);
    px_buf_free(&doc);
}

static inline void fx_init(fx *f) {
    fx_init_with(f, FX_STAGES_JSON);
}

static inline void fx_free(fx *f) {
    px_manifest_free(&f->m);
    px_buf_free(&f->manifest_env);
    px_buf_free(&f->plan_env);
}

/* Sign an in-toto statement with one subject and the given predicate. */
static inline void fx_statement(px_buf *out, const px_signer *s, const char *ptype, const char *label,
                                const uint8_t digest[32], json_t *pred) {
    px_err err = {0};
    px_buf st = PX_BUF_INIT;
    px_subject subj = {.name = (char *)label};
    memcpy(subj.sha256, digest, 32);
    px_assert_ok(px_statement_build(&st, &subj, 1, ptype, pred, &err), &err);
    px_assert_ok(px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, s, 1, &err), &err);
    json_decref(pred);
    px_buf_free(&st);
}

static inline json_t *fx_hexstr(const uint8_t *p, size_t n) {
    char hex[129];
    px_hex_encode(hex, p, n);
    return json_string(hex);
}

static inline void fx_release(fx *f, px_buf *out, int pod, const uint8_t digest[32], const uint8_t *stage_key) {
    json_t *p = json_object();
    json_object_set_new(p, "manifest", fx_hexstr(f->m.id, 32));
    json_object_set_new(p, "pod", json_string(f->pod_keys[pod].id));
    json_object_set_new(p, "dataset", json_string("transactions"));
    json_object_set_new(p, "dataset_digest", fx_hexstr(digest, 32));
    json_object_set_new(p, "records", json_integer(100));
    json_object_set_new(p, "signed", json_integer(60));
    json_object_set_new(p, "unsigned", json_integer(40));
    json_object_set_new(p, "epsilon", json_string("0.5"));
    json_object_set_new(p, "delta", json_string("0"));
    json_object_set_new(p, "stage_key", fx_hexstr(stage_key, 32));
    json_object_set_new(p, "released", json_integer(px_now_ms()));
    fx_statement(out, &f->pods[pod], PX_RELEASE_PREDICATE, "release", digest, p);
}

/* An execution proof of stage i with the given inputs (digest, producing
 * proof id pairs) and output; status "ok" or a failure code. */
static inline void fx_proof(fx *f, px_buf *out, const px_signer *by, uint32_t stage, const char *status,
                            const px_input_ref *inputs, size_t n, const uint8_t output[32]) {
    json_t *p = json_object(), *st = json_object(), *in = json_array(), *c = json_object();
    json_object_set_new(p, "manifest", fx_hexstr(f->m.id, 32));
    json_object_set_new(st, "index", json_integer(stage));
    json_object_set_new(st, "kind", json_string(px_manifest_kind_name(f->m.stages[stage].kind)));
    json_object_set_new(st, "partition", json_integer(0));
    json_object_set_new(p, "stage", st);
    json_object_set_new(p, "measurement", fx_hexstr(output, 32));
    json_object_set_new(p, "evidence", fx_hexstr(output, 32));
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_object(), *e = json_object();
        json_object_set_new(d, "sha256", fx_hexstr(inputs[i].digest, 32));
        json_object_set_new(e, "digest", d);
        json_object_set_new(e, "proof", fx_hexstr(inputs[i].proof, 32));
        json_array_append_new(in, e);
    }
    json_object_set_new(p, "inputs", in);
    json_object_set_new(c, "records", json_integer(300));
    json_object_set_new(c, "authenticated", json_integer(180));
    json_object_set_new(c, "alleged", json_integer(120));
    json_object_set_new(c, "dropped", json_integer(0));
    json_object_set_new(p, "counts", c);
    json_object_set_new(p, "status", json_string(status));
    if (strcmp(status, "ok"))
        json_object_set_new(p, "reason", json_string("test failure"));
    json_object_set_new(p, "started", json_integer(px_now_ms()));
    json_object_set_new(p, "finished", json_integer(px_now_ms()));
    fx_statement(out, by, PX_EXEC_PREDICATE, strcmp(status, "ok") ? "failed-input" : "output", output, p);
}

/* An accepted-input statement of stage i by `by`, naming the instance's
 * evidence digest and the inputs its proof will name. */
static inline void fx_accepted(fx *f, px_buf *out, const px_signer *by, uint32_t stage, const px_input_ref *inputs,
                               size_t n, const uint8_t evidence[32]) {
    json_t *p = json_object(), *st = json_object(), *in = json_array();
    json_object_set_new(p, "manifest", fx_hexstr(f->m.id, 32));
    json_object_set_new(st, "index", json_integer(stage));
    json_object_set_new(st, "kind", json_string(px_manifest_kind_name(f->m.stages[stage].kind)));
    json_object_set_new(st, "partition", json_integer(0));
    json_object_set_new(p, "stage", st);
    json_object_set_new(p, "measurement", fx_hexstr(evidence, 32));
    json_object_set_new(p, "evidence", fx_hexstr(evidence, 32));
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_object(), *e = json_object();
        json_object_set_new(d, "sha256", fx_hexstr(inputs[i].digest, 32));
        json_object_set_new(e, "digest", d);
        json_object_set_new(e, "proof", fx_hexstr(inputs[i].proof, 32));
        json_array_append_new(in, e);
    }
    json_object_set_new(p, "inputs", in);
    json_object_set_new(p, "accepted", json_integer(px_now_ms()));
    fx_statement(out, by, PX_ACCEPTED_PREDICATE, "instance", evidence, p);
}

#endif
