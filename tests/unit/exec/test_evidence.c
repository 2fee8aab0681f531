/* The plan checked against the TEE module's evidence format: platform key
 * of the claimed node, recruiter's nonce, an accepted build, and the
 * measurement recomputed from the build the evidence lists, the stage
 * kind, the code and the config. A build that is not accepted is refused
 * naming the first component that differs from the checker's own. */
#include "fixture.h"

typedef struct world {
    fx f;
    px_node_platform nodes[FX_STAGES];
    px_exec_trust trust;
} world;

typedef struct twist {
    int instance;          /* which instance gets the twist, -1 none */
    const char *component; /* this component of its build has another digest */
    const char *drop;      /* this component is left out of its build */
    const char *extra;     /* this component is added to its build */
    const char *version;   /* its build has this version */
    int lie;               /* lists the accepted build, measured under another */
    int other_platform;    /* signed by a platform key not the node's */
    int wrong_nonce;
    int claims_other_node; /* evidence names another node */
} twist;

static void twisted_build(const world *w, twist t, px_tee_build *out, px_tee_build *measured) {
    px_err err = {0};
    const px_tee_build *b = &w->f.build;
    px_assert_ok(px_tee_build_init(out, t.version ? t.version : b->version, &err), &err);
    for (size_t k = 0; k < b->n; k++) {
        uint8_t d[32];
        memcpy(d, b->c[k].sha256, 32);
        if (t.component && !strcmp(t.component, b->c[k].name))
            d[31] ^= 0x80;
        if (!t.drop || strcmp(t.drop, b->c[k].name))
            px_assert_ok(px_tee_build_add(out, b->c[k].name, d, &err), &err);
    }
    if (t.extra) {
        uint8_t d[32] = {7};
        px_assert_ok(px_tee_build_add(out, t.extra, d, &err), &err);
    }
    *measured = *out;
    if (t.lie) /* measured under a build whose runner differs */
        measured->c[1].sha256[0] ^= 1;
}

/* Evidence as the process backend signs it, for instance i of the plan. */
static void tee_evidence(world *w, uint32_t i, twist t, const char *node, const px_buf *cfg,
                         const uint8_t nonce[32], px_buf *out) {
    px_err err = {0};
    const px_stage_spec *s = &w->f.m.stages[i];
    static px_evidence ev;
    static px_tee_build measured;
    memset(&ev, 0, sizeof ev);
    strcpy(ev.backend, "process");
    ev.level = 1;
    snprintf(ev.node, sizeof ev.node, "%s", node);
    twisted_build(w, t, &ev.build, &measured);
    uint8_t cd[32], bd[32];
    px_sha256(cd, cfg->data, cfg->len);
    px_assert_ok(px_tee_build_digest(bd, &measured, &err), &err);
    px_assert_ok(px_tee_measure(ev.measurement, bd, px_manifest_kind_name(s->kind),
                                s->has_code ? s->code : px_tee_builtin_code, cd, &err), &err);
    memcpy(ev.sign_pk, w->f.inst[i].sign.kp.pk, 32);
    memcpy(ev.box_pk, w->f.inst[i].box.pk, 32);
    memcpy(ev.nonce, nonce, 32);
    ev.isolation = PX_ISO_SECCOMP | PX_ISO_NODUMP;
    ev.issued = px_now_ms();
    px_assert_ok(px_evidence_sign(out, &ev, &w->f.platform, &err), &err);
}

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
        twist none = {.instance = -1};
        uint8_t nonce[32];
        memcpy(nonce, ins[i].nonce, 32);
        if (tw && t.wrong_nonce)
            nonce[0] ^= 1;
        px_signer saved = w->f.platform;
        if (tw && t.other_platform)
            px_assert_ok(px_signer_generate(&w->f.platform, "platform", &err), &err);
        tee_evidence(w, i, tw ? t : none, tw && t.claims_other_node ? "exec-9" : ins[i].node, &ins[i].config, nonce,
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
    for (int i = 0; i < FX_STAGES; i++) {
        snprintf(w->nodes[i].id, sizeof w->nodes[i].id, "exec-%d", i);
        px_signer_verifier(&w->f.platform, &w->nodes[i].platform);
    }
    w->trust = (px_exec_trust){w->nodes, FX_STAGES, (const uint8_t(*)[32])w->f.build_digest, 1, &w->f.build};
}

static int check(world *w, twist t, px_attested att[FX_STAGES], px_err *err) {
    px_buf env = PX_BUF_INIT;
    make_plan(w, t, &env);
    px_plan p;
    int rc = px_plan_parse(&p, env.data, env.len, err);
    if (rc == 0) {
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
    static world w;
    px_err err = {0};
    px_attested att[FX_STAGES];
    world_init(&w);
    twist none = {.instance = -1};
    px_assert_ok(check(&w, none, att, &err), &err);
    for (int i = 0; i < FX_STAGES; i++)
        assert_memory_equal(att[i].build, w.f.build_digest, 32);
    static const struct {
        twist t;
        const char *why;
    } bad[] = {
        {{.instance = 1, .component = "runner"},
         "stage 1 (wasm) partition 0 on exec-1: evidence: build not accepted: component \"runner\" differs (sha256 "},
        {{.instance = 1, .component = "cc"}, "build not accepted: component \"cc\" differs"},
        {{.instance = 0, .component = "worker"}, "build not accepted: component \"worker\" differs"},
        {{.instance = 2, .drop = "cc1"}, "build not accepted: component \"cc1\" is missing"},
        {{.instance = 2, .extra = "lib libevil.so"},
         "build not accepted: component \"lib libevil.so\" is not in the reference build"},
        {{.instance = 1, .version = "0.2.0"}, "build not accepted: version 0.2.0 differs (expected 0.1.0)"},
        {{.instance = 1, .lie = 1}, "measurement is not that of a wasm stage with the manifest's code and this "
                                    "config under the build the evidence lists"},
        {{.instance = 2, .other_platform = 1}, "not signed by any trusted platform key"},
        {{.instance = 0, .wrong_nonce = 1}, "nonce"},
        {{.instance = 1, .claims_other_node = 1}, "exec-9"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        px_assert_fails(check(&w, bad[i].t, att, &err), &err, PX_E_VERIFY);
        if (!strstr(err.msg, bad[i].why))
            fail_msg("case %zu: \"%s\" does not mention \"%s\"", i, err.msg, bad[i].why);
    }
    /* Without a reference build, the refusal names the build's digest. */
    w.trust.reference = NULL;
    twist runner = {.instance = 1, .component = "runner"};
    px_assert_fails(check(&w, runner, att, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "build not accepted: build "));
    assert_non_null(strstr(err.msg, "is none of the 1 accepted builds"));
    /* A second accepted build (one a POD owner added) is admitted, and the
     * attested instance says which build it ran. */
    static px_tee_build other, measured;
    twisted_build(&w, runner, &other, &measured);
    uint8_t builds[2][32];
    memcpy(builds[0], w.f.build_digest, 32);
    px_assert_ok(px_tee_build_digest(builds[1], &other, &err), &err);
    w.trust.builds = (const uint8_t(*)[32])builds;
    w.trust.nbuilds = 2;
    w.trust.reference = &w.f.build;
    px_assert_ok(check(&w, runner, att, &err), &err);
    assert_memory_equal(att[0].build, builds[0], 32);
    assert_memory_equal(att[1].build, builds[1], 32);
    /* No accepted build at all: nothing is attested. */
    w.trust.nbuilds = 0;
    px_assert_fails(check(&w, none, att, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "no build is accepted"));
    w.trust.nbuilds = 1;
    /* A node missing from the membership. */
    w.trust.nnodes = 2;
    px_assert_fails(check(&w, none, att, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "\"exec-2\" is not a member"));
    fx_free(&w.f);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_real_evidence)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
