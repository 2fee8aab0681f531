/* POST /v1/pod-serve on a POD node (pixiud's code, in this process) over
 * real HTTP: the route and its body; only the task's consumer; a task
 * that is running or answering is told to retry; one that does not serve
 * says so; one past its deadline is dropped, by a request or by the reap.
 * The relay itself (a serving fl-user worker) runs in the training's end
 * to end test. */
#include "node_world.h"

static int setup(void **state) {
    static world w;
    nw_setup(&w, "10", PX_ROLE_LOG);
    /* Task slots this test fills by hand, as an admission and a run would. */
    pthread_mutex_lock(&w.pod.mu);
    w.pod.tasks = calloc(4, sizeof *w.pod.tasks);
    w.pod.ntasks = 4;
    pthread_mutex_unlock(&w.pod.mu);
    assert_non_null(w.pod.tasks);
    *state = &w;
    return 0;
}

static int teardown(void **state) {
    nw_teardown(*state);
    return 0;
}

/* A task slot as px_node_pod_run leaves it; no worker behind it. */
static px_pod_task *fake_task(world *w, size_t i, uint8_t id, int ran, int serving, int busy, int64_t deadline) {
    pthread_mutex_lock(&w->pod.mu);
    px_pod_task *t = &w->pod.tasks[i];
    px_node_pod_task_clear(t);
    t->used = 1;
    memset(t->manifest, id, sizeof t->manifest);
    snprintf(t->consumer, sizeof t->consumer, "consumer-1");
    t->deadline = deadline;
    t->k = 2;
    t->ran = ran;
    t->serving = serving;
    t->host[1].serving = serving;
    t->busy = busy;
    pthread_mutex_unlock(&w->pod.mu);
    return t;
}

static int serve(world *w, const px_signer *who, const char *id, uint8_t mid, const char *body, px_buf *out) {
    char b[256], hex[65];
    memset(hex, 0, sizeof hex);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mid);
    if (!body) {
        snprintf(b, sizeof b, "{\"manifest\":\"%s\",\"request\":\"AAEC\"}", hex);
        body = b;
    }
    return nw_call(&w->pod, who, id, "POST", "/v1/pod-serve", body, strlen(body), out);
}

static void expect(world *w, const px_signer *who, const char *id, uint8_t mid, const char *body, int status,
                   const char *why) {
    px_buf out = PX_BUF_INIT;
    int st = serve(w, who, id, mid, body, &out);
    if (st != status || !strstr((const char *)out.data, why))
        fail_msg("pod-serve: got %d %s, want %d ... %s", st, (const char *)out.data, status, why);
    px_buf_free(&out);
}

static void test_refusals(void **state) {
    world *w = *state;
    const px_signer *c = &w->f.consumer;
    int64_t later = px_now_ms() + 600000;
    /* The body: a manifest id and a base64 request, nothing else. */
    expect(w, c, "consumer-1", 1, "{\"manifest\":\"00\"}", 400, "pod-serve");
    expect(w, c, "consumer-1", 1, "[1]", 400, "request body must be");
    expect(w, c, "consumer-1", 1,
           "{\"manifest\":\"0101010101010101010101010101010101010101010101010101010101010101\",\"request\":\"AA==\","
           "\"more\":1}",
           400, "unknown field");
    /* No such task here. */
    expect(w, c, "consumer-1", 7, NULL, 404, "hosts no instance of that task");
    /* Admitted, not run yet: nothing serves. */
    fake_task(w, 0, 1, 0, 0, 0, later);
    expect(w, c, "consumer-1", 1, NULL, 409, "is not serving");
    /* Running (its run holds it): retry. */
    fake_task(w, 0, 1, 0, 0, 1, later);
    expect(w, c, "consumer-1", 1, NULL, 504, "running: retry");
    /* Ran, and its kind does not serve (or its step failed). */
    fake_task(w, 0, 1, 1, 0, 0, later);
    expect(w, c, "consumer-1", 1, NULL, 409, "is not serving");
    /* Serving, but answering another request: retry. */
    fake_task(w, 0, 1, 1, 1, 1, later);
    expect(w, c, "consumer-1", 1, NULL, 504, "answering another request: retry");
    /* Only the task's consumer, whoever else is a member. */
    expect(w, &w->f.pods[1], "pod-1", 1, NULL, 403, "another consumer");
    /* Past its deadline: refused, and the slot is free again. */
    fake_task(w, 0, 1, 1, 1, 0, px_now_ms() - 1);
    expect(w, c, "consumer-1", 1, NULL, 403, "deadline has passed");
    pthread_mutex_lock(&w->pod.mu);
    assert_false(w->pod.tasks[0].used);
    pthread_mutex_unlock(&w->pod.mu);
    expect(w, c, "consumer-1", 1, NULL, 404, "hosts no instance of that task");
}

/* The settler's reap drops serving tasks past their deadline, never one in
 * use or one still within it. */
static void test_reap(void **state) {
    world *w = *state;
    int64_t now = px_now_ms();
    fake_task(w, 0, 1, 1, 1, 0, now - 1);
    fake_task(w, 1, 2, 1, 1, 1, now - 1);
    fake_task(w, 2, 3, 1, 1, 0, now + 600000);
    px_node_pod_tasks_reap(&w->pod, now);
    pthread_mutex_lock(&w->pod.mu);
    assert_false(w->pod.tasks[0].used);
    assert_true(w->pod.tasks[1].used);
    assert_true(w->pod.tasks[2].used);
    w->pod.tasks[1].busy = 0;
    pthread_mutex_unlock(&w->pod.mu);
    px_node_pod_tasks_reap(&w->pod, now);
    pthread_mutex_lock(&w->pod.mu);
    assert_false(w->pod.tasks[1].used);
    assert_true(w->pod.tasks[2].used);
    px_node_pod_task_clear(&w->pod.tasks[2]);
    pthread_mutex_unlock(&w->pod.mu);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_reap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
