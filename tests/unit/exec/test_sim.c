/* The scale simulation (bench/sim/) on a few PODs: every POD admitted and
 * released once, every record proven with the exact authenticated and
 * alleged counts, and the log holding every statement appended. The tasks
 * are small here so that one run has several tasks, a task with several
 * prover partitions, and a last task that is not full. */
#include "px_test.h"

#include "sim/sim.h"

static void check_counts(const px_sim_result *r, uint64_t pods, uint32_t records, uint32_t unsig) {
    assert_int_equal(r->admitted, pods);
    assert_int_equal(r->released, pods);
    assert_int_equal(r->inputs, pods);
    assert_int_equal(r->records, pods * records);
    assert_int_equal(r->authenticated, pods * (records - unsig));
    assert_int_equal(r->alleged, pods * unsig);
    assert_int_equal(r->dropped, 0);
    assert_int_equal(r->log_size, r->appended);
}

static void test_sim_small(void **state) {
    (void)state;
    px_err err = {0};
    px_sim_result r;
    /* 200 PODs in tasks of 90: 90, 90 and 20 PODs. */
    px_sim_opts o = {.pods = 200, .per_task = 90, .records = 5, .unsigned_records = 1, .threads = 2};
    px_assert_ok(px_sim_run(&o, &r, &err), &err);
    check_counts(&r, 200, 5, 1);
    assert_int_equal(r.tasks, 3);
    /* One prover partition a task (at most 256 PODs each): 3 instances a
     * task, one step each; each task's plan in one log entry. */
    assert_int_equal(r.instances, 9);
    assert_int_equal(r.prover_steps, 3);
    /* Plans, releases, and an accepted-input statement and a proof per step. */
    assert_int_equal(r.appended, 3 + 200 + 2 * 3);
}

static void test_sim_partitions(void **state) {
    (void)state;
    px_err err = {0};
    px_sim_result r;
    /* One task of 300 PODs needs two prover partitions (256 inputs a
     * step at most); its plan still fits one log entry. */
    px_sim_opts o = {.pods = 300, .per_task = 300, .records = 3, .unsigned_records = 2, .threads = 2};
    px_assert_ok(px_sim_run(&o, &r, &err), &err);
    check_counts(&r, 300, 3, 2);
    assert_int_equal(r.tasks, 1);
    assert_int_equal(r.instances, 5);
    assert_int_equal(r.prover_steps, 2);
    assert_true(r.appended >= 1 + 300 + 2 * 2);
}

static void test_sim_refuses_bad_options(void **state) {
    (void)state;
    px_err err = {0};
    px_sim_result r;
    px_sim_opts o = {.pods = 10, .per_task = PX_MANIFEST_MAX_PODS + 1};
    px_assert_fails(px_sim_run(&o, &r, &err), &err, PX_E_INVALID);
    px_sim_opts all_unsigned = {.pods = 10, .records = 2, .unsigned_records = 2};
    px_assert_fails(px_sim_run(&all_unsigned, &r, &err), &err, PX_E_INVALID);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_small),
        cmocka_unit_test(test_sim_partitions),
        cmocka_unit_test(test_sim_refuses_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
