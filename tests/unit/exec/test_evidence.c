/* The plan checked against the TEE module's evidence format: platform key
 * of the claimed node, recruiter's nonce, and the measurement recomputed
 * from an accepted worker build, the stage kind, the code and the config. */
#include "fixture.h"

typedef struct world {
    fx f;
    uint8_t worker[32];
    px_node_platform nodes[FX_STAGES];
    px_exec_trust trust;
} world;

/* Evidence as the process backend signs it, for instance i of the plan. */
static void tee_evidence(world *w, uint32_t i, const char *node, const px_buf *cfg, const uint8_t nonce[32],
                         const uint8_t worker[32], px_buf *out) {
    px_err err = {0};
    const px_stage_spec *s = &w->f.m.stages[i];
    px_evidence ev;
    memset(&ev, 0, sizeof ev);
    strcpy(ev.backend, "process");
    ev.level = 1;
    snprintf(ev.node, sizeof ev.node, "%s", node);
    uint8_t cd[32];
    px_sha256(cd, cfg->data, cfg->len);
    px_assert_ok(px_tee_measure(ev.measurement, worker, px_stage_type_name(s->kind),
                                s->has_code ? s->code : px_tee_builtin_code, cd, &err), &err);
    memcpy(ev.sign_pk, w->f.inst[i].sign.kp.pk, 32);
    memcpy(ev.box_pk, w->f.inst[i].box.pk, 32);
    memcpy(ev.nonce, nonce, 32);
    ev.isolation = PX_ISO_SECCOMP | PX_ISO_NODUMP;
    ev.issued = px_now_ms();
    px_assert_ok(px_evidence_sign(out, &ev, &w->f.platform, &err), &err);
}

typedef struct twist {
    int instance;          /* which instance gets the twist, -1 none */
    int other_worker;      /* measured under a worker build nobody accepts */
    int other_platform;    /* signed by a platform key not the node's */
    int wrong_nonce;
    int claims_other_node; /* evidence names another node */
} twist;

static void make_plan(world *w, twist t, px_buf *out) {
    px_err err = {0};
    px_plan_instance ins[FX_STAGES];
    memset(ins, 0, sizeof ins);
    for (uint32_t i = 0; i < FX_STAGES; i++) {
        uint8_t succ[1][32];
        memcpy(succ[0], i + 1 == FX_STAGES ? w->f.receiver.pk : w->f.inst[i + 1].box.pk, 32);
        ins[i].stage = i;
        snprintf(ins[i].node, sizeof ins[i].node, "exec-%u", i);
        px_random(ins[i].nonce, 32);
        fx_config(&w->f, &ins[i].config, i, succ);
        int tw = (int)i == t.instance;
        uint8_t worker[32], nonce[32];
        memcpy(worker, w->worker, 32);
        memcpy(nonce, ins[i].nonce, 32);
        if (tw && t.other_worker)
            worker[0] ^= 1;
        if (tw && t.wrong_nonce)
            nonce[0] ^= 1;
        px_signer saved = w->f.platform;
        if (tw && t.other_platform)
            px_assert_ok(px_signer_generate(&w->f.platform, "platform", &err), &err);
        tee_evidence(w, i, tw && t.claims_other_node ? "exec-9" : ins[i].node, &ins[i].config, nonce, worker,
                     &ins[i].evidence);
        w->f.platform = saved;
    }
    px_assert_ok(px_plan_sign(out, &w->f.m, ins, FX_STAGES, &w->f.consumer, &err), &err);
    for (uint32_t i = 0; i < FX_STAGES; i++) {
        px_buf_free(&ins[i].config);
        px_buf_free(&ins[i].evidence);
    }
}

static void world_init(world *w) {
    fx_init(&w->f);
    px_sha256(w->worker, "pixiu_worker build", 18);
    for (int i = 0; i < FX_STAGES; i++) {
        snprintf(w->nodes[i].id, sizeof w->nodes[i].id, "exec-%d", i);
        px_signer_verifier(&w->f.platform, &w->nodes[i].platform);
    }
    w->trust = (px_exec_trust){w->nodes, FX_STAGES, (const uint8_t(*)[32])w->worker, 1};
}

static int check(world *w, twist t, px_err *err) {
    px_buf env = PX_BUF_INIT;
    make_plan(w, t, &env);
    px_plan p;
    int rc = px_plan_parse(&p, env.data, env.len, err);
    if (rc == 0) {
        px_attested att[FX_STAGES];
        rc = px_plan_check(&p, px_exec_evidence_check, &w->trust, 1, px_now_ms(), att, err);
        if (rc == 0)
            assert_memory_equal(att[1].sign_pk, w->f.inst[1].sign.kp.pk, 32);
        px_plan_free(&p);
    }
    px_buf_free(&env);
    return rc;
}

static void test_real_evidence(void **state) {
    (void)state;
    world w;
    px_err err = {0};
    world_init(&w);
    twist none = {.instance = -1};
    px_assert_ok(check(&w, none, &err), &err);
    static const struct {
        twist t;
        const char *why;
    } bad[] = {
        {{.instance = 1, .other_worker = 1}, "measurement is not that of a wasm stage"},
        {{.instance = 2, .other_platform = 1}, "not signed by any trusted platform key"},
        {{.instance = 0, .wrong_nonce = 1}, "nonce"},
        {{.instance = 1, .claims_other_node = 1}, "exec-9"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        px_assert_fails(check(&w, bad[i].t, &err), &err, PX_E_VERIFY);
        if (!strstr(err.msg, bad[i].why))
            fail_msg("case %zu: \"%s\" does not mention \"%s\"", i, err.msg, bad[i].why);
    }
    /* A node missing from the membership. */
    w.trust.nnodes = 2;
    px_assert_fails(check(&w, none, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "\"exec-2\" is not a member"));
    fx_free(&w.f);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_real_evidence)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
