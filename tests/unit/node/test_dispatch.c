/* The consumer's dispatcher (px_submit) against a whole network in this
 * process (dispatch_world.h), faults injected where they hurt:
 *
 * - recruitment runs back to front, the plan is published before any POD
 *   is asked, and a completed task's receipt verifies against the
 *   membership;
 * - admission: a POD that refuses leaves the task to the others (counted,
 *   its data never released, nothing charged there), and a task no POD
 *   admits ends with a failure receipt and every instance dropped;
 * - recruitment refused: an executor of another build is caught by its
 *   evidence before anything is published or charged, and the instances
 *   already recruited are dropped;
 * - partial failure: an executor that stops once the plan is published
 *   gives no proof; the task ends with a failure receipt naming it and the
 *   PODs' data stays released to the stages that ran;
 * - timeouts: a stage whose task outlasts its limits.timeout_ms is stopped
 *   by its executor, and after the deadline the log alone proves which
 *   instance went silent. */
#include <fcntl.h>

#include "dispatch_world.h"

static px_buf task, slow, fails;

#define SCHEMA "{\"fields\":[{\"name\":\"user\",\"type\":\"text\"},{\"name\":\"amount\",\"type\":\"int\"}],\"user\":\"user\"}"
#define PROVER "{\"kind\":\"prover\",\"params\":{\"require\":\"any\",\"sources\":[]}}"
#define DP                                                                                                         \
    "{\"kind\":\"dp\",\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"1\",\"delta\":\"0\"},\"params\":{\"mechanism\":" \
    "\"sum\",\"epsilon\":\"1\",\"dim\":2,\"lower\":[0,0],\"upper\":[4,200]}}"

/* A template over both PODs: prover -> per-user map (limits) -> dp. */
static void tmpl(char *out, size_t cap, const char *limits, int64_t deadline) {
    char dl[48] = "";
    if (deadline)
        snprintf(dl, sizeof dl, "\"deadline\":%lld,", (long long)deadline);
    snprintf(out, cap,
             "{\"name\":\"dispatch-test\",%s\"datasets\":[{\"name\":\"transactions\",\"schema\":" SCHEMA
             ",\"pods\":[\"pod-0\",\"pod-1\"]}],\"stages\":[" PROVER ",{\"kind\":\"wasm\",\"limits\":%s,"
             "\"params\":{\"map\":\"per-user\",\"dim\":2}}," DP "]}",
             dl, limits);
}

static const char task_c[] =
    "#include \"pixiu_task.h\"\n"
    "int main(void) {\n"
    "    size_t n; uint8_t *in = px_task_read_input(&n);\n"
    "    px_task_records r;\n"
    "    if (!in) px_task_fail(\"no input\");\n"
    "    if (px_task_records_open(&r, in, n)) px_task_fail(r.error);\n"
    "    int a = px_task_find(&r, \"amount\");\n"
    "    px_task_value v[PX_TASK_MAX_FIELDS]; uint8_t f; int rc; double out[2] = {0, 0};\n"
    "    while ((rc = px_task_records_next(&r, v, &f)) == 1) { out[0] += 1; out[1] += (double)v[a].i; }\n"
    "    if (rc < 0) px_task_fail(r.error);\n"
    "    SLOW\n"
    "    return px_task_write_vector(out, 2) ? 1 : 0;\n"
    "}\n";

static void build_task(const char *dir, const char *name, const char *slow_code, px_buf *out) {
    char src[128], wasm[128];
    snprintf(src, sizeof src, "%s/%s.c", dir, name);
    snprintf(wasm, sizeof wasm, "%s/%s.wasm", dir, name);
    px_buf text = PX_BUF_INIT;
    const char *at = strstr(task_c, "SLOW");
    px_buf_append(&text, task_c, (size_t)(at - task_c), NULL);
    px_buf_append_str(&text, slow_code, NULL);
    px_buf_append_str(&text, at + 4, NULL);
    px_err err = {0};
    px_assert_ok(px_file_write_atomic(src, text.data, text.len, 0644, &err), &err);
    px_assert_ok(px_wasm_build(src, wasm, PX_SOURCE_DIR "/sdk", &err), &err);
    px_assert_ok(px_file_read(wasm, 1 << 24, out, &err), &err);
    px_buf_free(&text);
}

static char scratch[] = "/tmp/px-dispatch-tasks-XXXXXX";

static int group_setup(void **state) {
    (void)state;
    assert_non_null(mkdtemp(scratch));
    char cache[96];
    snprintf(cache, sizeof cache, "%s/cache", scratch);
    setenv("PIXIU_CACHE_DIR", cache, 1); /* the workers' compiled modules */
    build_task(scratch, "task", "", &task);
    /* Computes long enough (several seconds a user) to outlast 1 s. */
    build_task(scratch, "slow", "volatile uint64_t x = 0; for (uint64_t i = 0; i < 4000000000ull; i++) x += i ^ (x >> 3);"
               " out[0] += (double)(x & 1);", &slow);
    /* Fails on purpose, in its own words. */
    build_task(scratch, "fails", "px_task_fail(\"the amounts do not add up\");", &fails);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    px_buf_free(&task);
    px_buf_free(&slow);
    px_buf_free(&fails);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", scratch);
    return system(cmd);
}

static void in_order(const dworld *w, const char *const *lines, size_t n) {
    long last = -1;
    for (size_t i = 0; i < n; i++) {
        long at = dw_at(w, lines[i]);
        if (at < 0 || at < last)
            fail_msg("progress line \"%s\" missing or out of order:\n%s", lines[i], (const char *)w->progress.data);
        last = at;
    }
}

static void test_complete_back_to_front(void **state) {
    (void)state;
    dworld w;
    dw_setup(&w, NULL, -1, NULL);
    char t[2048];
    tmpl(t, sizeof t, "{\"cpu_ms\":5000,\"mem_mb\":64}", 0);
    px_submit_result r;
    px_err err = {0};
    px_assert_ok(dw_submit(&w, t, &task, &r, &err), &err);
    if (!r.ok)
        fail_msg("task failed: %s\n%s", r.failure, (const char *)w.progress.data);
    /* Last stage first, so each config names its successor's key; the
     * plan is in the log before any POD is asked. */
    static const char *const order[] = {"recruited stage 2 (dp)", "recruited stage 1 (wasm)", "recruited stage 0 (prover)",
                                        "plan published", "2 releases admitted, 0 PODs refused",
                                        "stage 0 (prover) on", "stage 1 (wasm) on", "stage 2 (dp) on", "receipt: "};
    in_order(&w, order, sizeof order / sizeof *order);
    /* Round robin over the executors: each stage on its own node. */
    assert_true(dw_at(&w, "stage 2 (dp) partition 0 on exec-2") >= 0);
    assert_true(dw_at(&w, "stage 0 (prover) partition 0 on exec-0") >= 0);
    assert_int_equal(r.releases, 2);
    assert_int_equal(r.refusals, 0);
    assert_int_equal(r.records, 8); /* both PODs' records, all alleged */
    assert_int_equal(r.alleged, 8);
    /* Each POD charged once and released (started). */
    for (int i = 0; i < DW_PODS; i++)
        assert_int_equal(dw_charge(&w, i, r.manifest), PX_CHARGE_STARTED);
    px_receipt_summary s;
    px_assert_ok(px_node_receipt_verify(w.membership, r.receipt.data, r.receipt.len, &s, &err), &err);
    assert_false(s.failed);
    px_receipt_summary_free(&s);
    px_submit_result_free(&r);
    dw_teardown(&w);
}

static void test_admission_partial_and_none(void **state) {
    (void)state;
    dworld w;
    static const char *const one[] = {"consumer-1", "someone-else"};
    dw_setup(&w, one, -1, NULL);
    char t[2048];
    tmpl(t, sizeof t, "{\"cpu_ms\":5000}", 0);
    px_submit_result r;
    px_err err = {0};
    px_assert_ok(dw_submit(&w, t, &task, &r, &err), &err);
    if (!r.ok)
        fail_msg("task failed: %s\n%s", r.failure, (const char *)w.progress.data);
    /* pod-1 refused: counted, named, its records not in the result, and
     * nothing charged there. */
    assert_int_equal(r.releases, 1);
    assert_int_equal(r.refusals, 1);
    assert_int_equal(r.records, 4);
    assert_true(dw_at(&w, "pod-1 refused: ") >= 0);
    assert_int_equal(dw_charge(&w, 0, r.manifest), PX_CHARGE_STARTED);
    assert_int_equal(dw_charge(&w, 1, r.manifest), -1);
    px_submit_result_free(&r);
    dw_teardown(&w);

    /* No POD admits: the plan was published, so the task still ends with
     * a failure receipt, and every executor drops the instances it holds. */
    static const char *const none[] = {"someone-else", "someone-else"};
    dw_setup(&w, none, -1, NULL);
    px_assert_ok(dw_submit(&w, t, &task, &r, &err), &err);
    assert_false(r.ok);
    if (!strstr(r.failure, "no POD admitted the plan"))
        fail_msg("failure: %s\n%s", r.failure, (const char *)w.progress.data);
    assert_int_equal(r.refusals, 2);
    assert_true(r.receipt.len > 0);
    px_receipt_summary s;
    px_assert_ok(px_node_receipt_verify(w.membership, r.receipt.data, r.receipt.len, &s, &err), &err);
    assert_true(s.failed);
    px_receipt_summary_free(&s);
    for (int i = 0; i < DW_EXECS; i++)
        assert_int_equal(dw_instances(&w, i), 0);
    for (int i = 0; i < DW_PODS; i++)
        assert_int_equal(dw_charge(&w, i, r.manifest), -1);
    px_submit_result_free(&r);
    dw_teardown(&w);
}

static void test_recruit_other_build(void **state) {
    (void)state;
    /* exec-1 runs a worker one byte longer than this machine's: another
     * build, which its evidence states. */
    char worker[128], cmd[800];
    snprintf(worker, sizeof worker, "%s/other_worker", scratch);
    snprintf(cmd, sizeof cmd, "cp '%s/pixiu_worker' '%s' && printf x >>'%s'", PX_BUILD_DIR, worker, worker);
    assert_int_equal(system(cmd), 0);
    dworld w;
    dw_setup(&w, NULL, 1, worker);
    char t[2048];
    tmpl(t, sizeof t, "{\"cpu_ms\":5000}", 0);
    px_submit_result r;
    px_err err = {0};
    px_assert_fails(dw_submit(&w, t, &task, &r, &err), &err, PX_E_VERIFY);
    if (!strstr(err.msg, "recruiting stage 1 (wasm) on exec-1: ") || !strstr(err.msg, "component \"worker\" differs"))
        fail_msg("refusal: %s", err.msg);
    /* Refused before anything was published or charged; stage 2's instance,
     * recruited first, was dropped. */
    assert_true(dw_at(&w, "plan published") < 0);
    assert_true(r.receipt.len == 0);
    for (int i = 0; i < DW_PODS; i++)
        assert_int_equal(dw_charge(&w, i, r.manifest), -1);
    assert_int_equal(dw_instances(&w, 2), 0);
    px_submit_result_free(&r);
    dw_teardown(&w);
}

/* exec-1 (stage 1) stops as soon as the plan is published. */
static void stop_exec1_on_publish(dworld *w, const char *line) {
    if (strstr(line, "plan published"))
        dw_stop_exec(w, 1);
}

static void test_executor_gone(void **state) {
    (void)state;
    dworld w;
    dw_setup(&w, NULL, -1, NULL);
    w.hook = stop_exec1_on_publish;
    char t[2048];
    tmpl(t, sizeof t, "{\"cpu_ms\":5000}", 0);
    px_submit_result r;
    px_err err = {0};
    px_assert_ok(dw_submit(&w, t, &task, &r, &err), &err);
    assert_false(r.ok);
    if (!strstr(r.failure, "stage 1 (wasm) on exec-1 gave no proof"))
        fail_msg("failure: %s\n%s", r.failure, (const char *)w.progress.data);
    /* The stages before it ran on the PODs' releases; the failure receipt
     * proves where the task stopped and verifies like any receipt. */
    assert_true(dw_at(&w, "stage 0 (prover) on exec-0: ok") >= 0);
    assert_true(r.receipt_failed);
    assert_int_equal(r.failed_stage, 1);
    assert_string_equal(r.failed_node, "exec-1");
    px_receipt_summary s;
    px_assert_ok(px_node_receipt_verify(w.membership, r.receipt.data, r.receipt.len, &s, &err), &err);
    assert_true(s.failed);
    px_receipt_summary_free(&s);
    for (int i = 0; i < DW_PODS; i++)
        assert_int_equal(dw_charge(&w, i, r.manifest), PX_CHARGE_STARTED);
    px_submit_result_free(&r);
    dw_teardown(&w);
}

static void test_stage_timeout(void **state) {
    (void)state;
    dworld w;
    dw_setup(&w, NULL, -1, NULL);
    char t[2048];
    /* The slow task computes for seconds per user; its stage may take one
     * second of waiting in all. The deadline is close, so that the log can
     * prove the silence soon after. */
    tmpl(t, sizeof t, "{\"cpu_ms\":1000,\"timeout_ms\":1000}", px_now_ms() + 25000);
    px_submit_result r;
    px_err err = {0};
    px_assert_ok(dw_submit(&w, t, &slow, &r, &err), &err);
    assert_false(r.ok);
    if (!strstr(r.failure, "stage 1 (wasm) on exec-1"))
        fail_msg("failure: %s\n%s", r.failure, (const char *)w.progress.data);
    /* The instance accepted its input and gave no proof by the deadline:
     * the log alone blames its executor. */
    assert_true(r.receipt_failed);
    assert_int_equal(r.failed_stage, 1);
    assert_string_equal(r.blamed, "exec-1");
    px_receipt_summary s;
    px_assert_ok(px_node_receipt_verify(w.membership, r.receipt.data, r.receipt.len, &s, &err), &err);
    assert_true(s.failed);
    px_receipt_summary_free(&s);
    px_submit_result_free(&r);
    dw_teardown(&w);
}

/* A stage that fails signs why; task submit says it, the outcome once
 * (it used to print "failed: internal" and nothing else). */
static void test_signed_reason(void **state) {
    (void)state;
    uint8_t d[32];
    char hex[65];
    px_sha256(d, fails.data, fails.len);
    px_hex_encode(hex, d, 32);
    dw_code_only = hex; /* the PODs release to this code, no DP stage needed */
    dworld w;
    dw_setup(&w, NULL, -1, NULL);
    dw_code_only = NULL;
    char t[1024];
    snprintf(t, sizeof t,
             "{\"name\":\"no-dp\",\"datasets\":[{\"name\":\"transactions\",\"schema\":" SCHEMA
             ",\"pods\":[\"pod-0\",\"pod-1\"]}],\"stages\":[" PROVER ",{\"kind\":\"wasm\",\"limits\":{\"cpu_ms\":5000}}]}");
    px_submit_result r;
    px_err err = {0};
    /* The nodes run in this process: their log lines (pixiud.log) go to
     * our standard error, kept in a file meanwhile. */
    char logpath[96];
    snprintf(logpath, sizeof logpath, "%s/nodes.log", w.dir);
    fflush(stderr);
    int saved = dup(2), fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    int rc = dw_submit(&w, t, &fails, &r, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    px_assert_ok(rc, &err);
    assert_false(r.ok);
    /* The executor's operator sees it in the node's own log too. */
    px_buf nl = PX_BUF_INIT;
    px_assert_ok(px_file_read(logpath, 1 << 20, &nl, &err), &err);
    px_buf_cstr(&nl, NULL);
    if (!strstr((const char *)nl.data, "pixiud: node exec-1: task ") ||
        !strstr((const char *)nl.data, "stage 1 (wasm) partition 0: trap: exit: task exited with status 1"))
        fail_msg("the executor's log: %s", (const char *)nl.data);
    px_buf_free(&nl);
    const char *why = strstr(r.failure, "stage 1 (wasm) on exec-1 failed: trap");
    /* The outcome and the sandbox's words; never the task's own stderr,
     * which could carry data into the public log. */
    if (!why || !strstr(why, "exit: task exited with status 1") || strstr(why, "trap: trap") ||
        strstr(why, "the amounts do not add up"))
        fail_msg("failure: %s\n%s", r.failure, (const char *)w.progress.data);
    assert_true(r.receipt_failed);
    assert_string_equal(r.failed_status, "trap");
    px_submit_result_free(&r);
    dw_teardown(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_back_to_front), cmocka_unit_test(test_admission_partial_and_none),
        cmocka_unit_test(test_recruit_other_build),    cmocka_unit_test(test_executor_gone),
        cmocka_unit_test(test_stage_timeout),          cmocka_unit_test(test_signed_reason),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
