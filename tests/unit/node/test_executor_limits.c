/* An executor node (pixiud's code in this process, real pixiu_worker
 * processes) against a consumer that recruits and walks away:
 *
 * - a task due ten years ahead is refused before any worker starts;
 * - instances that never take their step are dropped at the node's idle
 *   limit, their worker processes gone;
 * - a consumer holds at most its quota of instances, others still recruit;
 * - a consumer whose plan was refused drops its instances at once. */
#include <signal.h>

#include "exec/util.h"
#include "node_world.h"

#define IDLE_MS 1500
#define QUOTA 2

static int setup(void **state) {
    static world w;
    nw_limits = (px_node_limits){.idle_ms = IDLE_MS, .member_instances = QUOTA};
    nw_setup(&w, "10", PX_ROLE_LOG);
    nw_start_exec(&w);
    *state = &w;
    return 0;
}

static int teardown(void **state) {
    nw_teardown(*state);
    return 0;
}

/* The recruitment request for stage 0 (the prover) of the fixture's
 * current manifest. */
static void recruit_body(world *w, px_buf *out) {
    px_err err = {0};
    px_buf cfg = PX_BUF_INIT;
    uint8_t succ[1][32], nonce[32];
    memcpy(succ[0], w->f.inst[1].box.pk, 32);
    fx_config(&w->f, &cfg, 0, succ);
    px_random(nonce, sizeof nonce);
    json_t *o = json_object();
    px_assert_ok(px_x_set_b64(o, "manifest", w->f.manifest_env.data, w->f.manifest_env.len, &err) ||
                     px_x_set(o, "stage", json_integer(0), &err) || px_x_set(o, "partition", json_integer(0), &err) ||
                     px_x_set_b64(o, "config", cfg.data, cfg.len, &err) ||
                     px_x_set_hex(o, "nonce", nonce, sizeof nonce, &err) || px_json_dump(o, out, &err),
                 &err);
    json_decref(o);
    px_buf_free(&cfg);
}

static int recruit(world *w, const px_signer *who, const char *id, px_buf *out) {
    px_buf body = PX_BUF_INIT;
    recruit_body(w, &body);
    int st = nw_call(&w->exec, who, id, "POST", "/v1/recruit", body.data, body.len, out);
    px_buf_free(&body);
    return st;
}

/* Instances the node holds, and of them those whose worker still runs. */
static size_t hosted(world *w, size_t *alive) {
    size_t k = 0, a = 0;
    pthread_mutex_lock(&w->exec.mu);
    for (size_t i = 0; i < w->exec.ninst; i++)
        if (w->exec.inst[i].used) {
            k++;
            a += w->exec.inst[i].host.worker.pid > 0 && kill(w->exec.inst[i].host.worker.pid, 0) == 0;
        }
    pthread_mutex_unlock(&w->exec.mu);
    if (alive)
        *alive = a;
    return k;
}

static void test_far_deadline(void **state) {
    world *w = *state;
    px_buf out = PX_BUF_INIT;
    w->f.lifetime_ms = 10LL * 365 * 24 * 3600 * 1000;
    for (int i = 0; i < 20; i++) {
        fx_new_manifest(&w->f, FX_STAGES_JSON);
        assert_int_equal(recruit(w, &w->f.consumer, "consumer-1", &out), 413);
    }
    assert_non_null(strstr((char *)out.data, "hosts instances only for tasks due within"));
    assert_int_equal(hosted(w, NULL), 0);
    w->f.lifetime_ms = 0;
    px_buf_free(&out);
}

static void test_idle_instances_reaped(void **state) {
    world *w = *state;
    px_buf out = PX_BUF_INIT;
    size_t alive;
    pid_t pids[QUOTA];
    px_err err = {0};
    assert_non_null(w->exec.pool);
    px_assert_ok(px_lambda_pool_wait_full(w->exec.pool, 60000, &err), &err);
    for (int i = 0; i < QUOTA; i++) {
        fx_new_manifest(&w->f, FX_STAGES_JSON);
        int st = recruit(w, &w->f.consumer, "consumer-1", &out);
        if (st != 200)
            fail_msg("recruit: %d %s", st, (char *)out.data);
    }
    /* The node's instances start from its warm workers. */
    px_lambda_pool_stats ps;
    px_lambda_pool_stats_get(w->exec.pool, &ps);
    assert_true(ps.taken >= 1);
    assert_int_equal(ps.discarded, 0);
    assert_int_equal(hosted(w, &alive), QUOTA);
    assert_int_equal(alive, QUOTA);
    pthread_mutex_lock(&w->exec.mu);
    for (size_t i = 0, k = 0; i < w->exec.ninst; i++)
        if (w->exec.inst[i].used)
            pids[k++] = w->exec.inst[i].host.worker.pid;
    pthread_mutex_unlock(&w->exec.mu);
    /* Nobody takes a step: the idle limit (not the task's deadline, ten
     * minutes away) ends them, with their worker processes. */
    usleep((IDLE_MS + 2500) * 1000);
    assert_int_equal(hosted(w, NULL), 0);
    for (int i = 0; i < QUOTA; i++)
        assert_int_equal(kill(pids[i], 0), -1);
    px_buf_free(&out);
}

static void test_quota_and_drop(void **state) {
    world *w = *state;
    px_buf out = PX_BUF_INIT;
    fx_new_manifest(&w->f, FX_STAGES_JSON);
    for (int i = 0; i < QUOTA; i++)
        assert_int_equal(recruit(w, &w->f.consumer, "consumer-1", &out), 200);
    assert_int_equal(recruit(w, &w->f.consumer, "consumer-1", &out), 429);
    assert_non_null(strstr((char *)out.data, "its quota"));
    assert_int_equal(hosted(w, NULL), QUOTA);
    /* Its plan refused, the consumer gives the instances back. */
    char body[128], hex[65];
    px_hex_encode(hex, w->f.m.id, 32);
    snprintf(body, sizeof body, "{\"manifest\":\"%s\"}", hex);
    assert_int_equal(nw_call(&w->exec, &w->f.consumer, "consumer-1", "POST", "/v1/drop", body, strlen(body), &out),
                     200);
    assert_non_null(strstr((char *)out.data, "\"dropped\":2"));
    assert_int_equal(hosted(w, NULL), 0);
    /* Someone else's instances are not another's to drop. */
    assert_int_equal(recruit(w, &w->f.consumer, "consumer-1", &out), 200);
    assert_int_equal(nw_call(&w->exec, &w->f.pods[0], "pod-0", "POST", "/v1/drop", body, strlen(body), &out), 200);
    assert_non_null(strstr((char *)out.data, "\"dropped\":0"));
    assert_int_equal(hosted(w, NULL), 1);
    px_buf_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_far_deadline), cmocka_unit_test(test_idle_instances_reaped),
                                       cmocka_unit_test(test_quota_and_drop)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
