/* Warm workers: an instance taken from a node's pool is born, attested and
 * steps exactly as one started for it, with keys of its own; the pool
 * hands a worker out once, and skips one that died or that runs another
 * executable than the build's worker. */
#include <signal.h>
#include <sys/wait.h>

#include "step_fixture.h"
#include "pixiu/exec.h"

#define WORKER PX_BUILD_DIR "/pixiu_worker"

typedef struct world {
    fixture f;
    px_lambda_build *b;
    px_lambda_pool *pool;
    px_buf cfg;
    uint8_t nonce[32];
} world;

static void world_init(world *w, unsigned per_profile) {
    px_err err = {0};
    fx_init(&w->f);
    w->b = calloc(1, sizeof *w->b);
    assert_non_null(w->b);
    px_assert_ok(px_lambda_build_init(w->b, WORKER, &err), &err);
    px_assert_ok(px_lambda_pool_new(&w->pool, &px_tee_process, px_lambda_build_path(w->b, "worker"), per_profile,
                                    &err),
                 &err);
    px_assert_ok(px_lambda_pool_wait_full(w->pool, 60000, &err), &err);
    w->cfg = (px_buf)PX_BUF_INIT;
    fx_config(&w->f, &w->cfg, 1, w->f.successor.pk, 1);
    px_random(w->nonce, 32);
}

static void world_free(world *w) {
    px_lambda_pool_free(w->pool);
    px_lambda_build_free(w->b);
    free(w->b);
    px_buf_free(&w->cfg);
}

/* Start an instance the way a node does, from the pool (or cold: NULL). */
static void start(world *w, px_lambda_pool *pool, const px_lambda_build *b, px_lambda_host *h) {
    px_err err = {0};
    px_lambda_host_req req = {.backend = &px_tee_process, .build = b ? b : w->b, .platform = &w->f.platform,
                              .node = "node-a", .kind = "aggregate", .config = w->cfg.data,
                              .config_len = w->cfg.len, .nonce = w->nonce, .start_timeout_ms = 20000};
    px_assert_ok(px_lambda_host_start_from(h, &req, pool, &err), &err);
}

static void verify(world *w, const px_lambda_host *h, px_evidence *ev) {
    uint8_t m[32], c[32];
    px_err err = {0};
    px_sha256(c, w->cfg.data, w->cfg.len);
    px_assert_ok(px_tee_measure(m, w->b->digest, "aggregate", px_tee_builtin_code, c, &err), &err);
    px_evidence_policy pol = {&w->f.platform_v, 1, 1, m, w->nonce, "node-a", NULL, 0, NULL};
    px_assert_ok(px_evidence_verify(h->evidence.data, h->evidence.len, &pol, ev, NULL, &err), &err);
    assert_memory_equal(h->measurement, m, 32);
}

/* One step through the instance, and its proof under the instance key. */
static void step(world *w, px_lambda_host *h) {
    px_err err = {0};
    px_buf vec = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT;
    fx_vector(&vec, 127, 3.0);
    fx_release(&w->f, &rel, &w->f.pod, vec.data, vec.len, h->box_pk);
    fx_seal(&sealed, &vec, h->box_pk);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result r;
    px_assert_ok(px_lambda_host_step(h, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &r, &err), &err);
    assert_true(r.ok);
    px_exec_proof p;
    px_assert_ok(px_lambda_proof_verify(&p, r.proof.data, r.proof.len, h->sign_pk, &err), &err);
    assert_memory_equal(p.measurement, h->measurement, 32);
    px_step_result_free(&r);
    px_buf_free(&vec);
    px_buf_free(&rel);
    px_buf_free(&sealed);
}

static int in_pool(px_lambda_pool *p, pid_t pid) {
    pid_t pids[64];
    size_t n = px_lambda_pool_pids(p, pids, 64);
    for (size_t i = 0; i < n; i++)
        if (pids[i] == pid)
            return 1;
    return 0;
}

/* Warm and cold instances of the same request: evidence that verifies the
 * same way (same measurement, build, isolation), keys of their own. */
static void test_pool_same_evidence(void **state) {
    (void)state;
    world w;
    world_init(&w, 2);
    px_lambda_host warm1, warm2, cold;
    start(&w, w.pool, NULL, &warm1);
    start(&w, w.pool, NULL, &warm2);
    start(&w, NULL, NULL, &cold);
    px_lambda_pool_stats st;
    px_lambda_pool_stats_get(w.pool, &st);
    assert_int_equal(st.taken, 2);
    assert_int_equal(st.missed, 0);
    px_evidence e1, e2, ec;
    verify(&w, &warm1, &e1);
    verify(&w, &warm2, &e2);
    verify(&w, &cold, &ec);
    assert_memory_equal(e1.measurement, ec.measurement, 32);
    assert_int_equal(e1.isolation, ec.isolation);
    assert_int_equal(e1.build.n, ec.build.n);
    assert_memory_equal(e1.build.c, ec.build.c, ec.build.n * sizeof ec.build.c[0]);
    /* Every instance generated its keys after it was taken. */
    assert_memory_not_equal(warm1.sign_pk, warm2.sign_pk, 32);
    assert_memory_not_equal(warm1.box_pk, warm2.box_pk, 32);
    assert_memory_not_equal(warm1.sign_pk, cold.sign_pk, 32);
    assert_memory_not_equal(warm2.box_pk, cold.box_pk, 32);
    step(&w, &warm1);
    step(&w, &cold);
    px_lambda_host_free(&warm1);
    px_lambda_host_free(&warm2);
    px_lambda_host_free(&cold);
    world_free(&w);
}

/* A worker leaves the pool when it is taken: never handed out twice, and
 * the pool refills behind it. */
static void test_pool_hands_once(void **state) {
    (void)state;
    world w;
    world_init(&w, 2);
    px_lambda_host a, b;
    start(&w, w.pool, NULL, &a);
    assert_false(in_pool(w.pool, a.worker.pid));
    start(&w, w.pool, NULL, &b);
    assert_int_not_equal(a.worker.pid, b.worker.pid);
    assert_false(in_pool(w.pool, b.worker.pid));
    px_err err = {0};
    px_assert_ok(px_lambda_pool_wait_full(w.pool, 60000, &err), &err);
    assert_false(in_pool(w.pool, a.worker.pid));
    assert_false(in_pool(w.pool, b.worker.pid));
    px_lambda_pool_stats st;
    px_lambda_pool_stats_get(w.pool, &st);
    assert_int_equal(st.taken, 2);
    assert_int_equal(st.ready, 4);
    assert_true(st.spawned >= 6);
    step(&w, &b);
    step(&w, &a);
    px_lambda_host_free(&a);
    px_lambda_host_free(&b);
    world_free(&w);
}

/* Waiting workers that died are killed off and skipped; the instance is
 * started cold and steps as usual. */
static void test_pool_skips_dead(void **state) {
    (void)state;
    world w;
    world_init(&w, 1);
    pid_t pids[8];
    size_t n = px_lambda_pool_pids(w.pool, pids, 8);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(kill(pids[i], SIGKILL), 0);
        /* Dead, not reaped: the pool is to find out. */
        siginfo_t si;
        assert_int_equal(waitid(P_PID, (id_t)pids[i], &si, WEXITED | WNOWAIT), 0);
    }
    px_lambda_host h;
    start(&w, w.pool, NULL, &h);
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(h.worker.pid, pids[i]);
    px_lambda_pool_stats st;
    px_lambda_pool_stats_get(w.pool, &st);
    assert_int_equal(st.discarded, 1);
    if (st.taken == 0) /* else the refill was quicker than this take */
        assert_int_equal(st.missed, 1);
    px_evidence ev;
    verify(&w, &h, &ev);
    step(&w, &h);
    px_lambda_host_free(&h);
    world_free(&w);
}

/* A build whose worker file is not the one the waiting workers run (the
 * binary was replaced after they started) gets no warm worker, and those
 * workers are not handed out under it. */
static void test_pool_other_executable(void **state) {
    (void)state;
    world w;
    world_init(&w, 1);
    px_err err = {0};
    px_lambda_build other;
    px_assert_ok(px_lambda_build_copy(&other, w.b, &err), &err);
    const px_tee_component *c = px_tee_build_find(&other.build, "worker");
    assert_non_null(c);
    other.files[c - other.build.c].mtime_ns += 1;
    pid_t before[8];
    size_t n = px_lambda_pool_pids(w.pool, before, 8);
    px_lambda_host h;
    start(&w, w.pool, &other, &h);
    for (size_t i = 0; i < n; i++)
        assert_int_not_equal(h.worker.pid, before[i]);
    px_lambda_pool_stats st;
    px_lambda_pool_stats_get(w.pool, &st);
    assert_int_equal(st.discarded, 1);
    px_lambda_host_free(&h);
    /* Refilled, the pool's workers run the build's own worker again. */
    px_assert_ok(px_lambda_pool_wait_full(w.pool, 60000, &err), &err);
    px_lambda_host g;
    start(&w, w.pool, NULL, &g);
    px_lambda_pool_stats_get(w.pool, &st);
    assert_int_equal(st.taken, 1);
    step(&w, &g);
    px_lambda_host_free(&g);
    px_lambda_build_free(&other);
    world_free(&w);
}

static void test_pool_refuses_bad_size(void **state) {
    (void)state;
    px_err err = {0};
    px_lambda_pool *p = NULL;
    px_assert_fails(px_lambda_pool_new(&p, &px_tee_process, WORKER, 0, &err), &err, PX_E_INVALID);
    assert_null(p);
    px_lambda_pool_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_same_evidence),
        cmocka_unit_test(test_pool_hands_once),
        cmocka_unit_test(test_pool_skips_dead),
        cmocka_unit_test(test_pool_other_executable),
        cmocka_unit_test(test_pool_refuses_bad_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
