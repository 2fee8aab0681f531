/* What the prover's tests check the same way: counts equal field by field,
 * and a run that gives the single-threaded run's output and counts on any
 * thread count. */
#ifndef PX_TEST_PROVER_H
#define PX_TEST_PROVER_H

#include "pod_test.h"
#include "pod/prover_int.h"

static inline void assert_counts_equal(const px_prover_counts *a, const px_prover_counts *b) {
    assert_int_equal(a->records, b->records);
    assert_int_equal(a->authenticated, b->authenticated);
    assert_int_equal(a->alleged, b->alleged);
    assert_int_equal(a->dropped, b->dropped);
    assert_int_equal(a->unsigned_records, b->unsigned_records);
    assert_int_equal(a->unknown_source, b->unknown_source);
    assert_int_equal(a->bad_signature, b->bad_signature);
    assert_int_equal(a->has_users, b->has_users);
    assert_int_equal(a->users, b->users);
}

/* ref and n1 are the single-threaded run's output and counts. */
static inline void assert_same_on_threads(const px_prover_config *c, const uint8_t *const *in, const size_t *lens,
                                          size_t ninputs, const px_buf *ref, const px_prover_counts *n1,
                                          int require) {
    const unsigned threads[] = {0, 2, 3, 5, PX_PROVER_MAX_THREADS};
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        px_err err = {0};
        px_buf out = PX_BUF_INIT;
        px_prover_counts nt;
        px_assert_ok(px_prover_run_many_threads(c, in, lens, ninputs, threads[t], &out, &nt, &err), &err);
        assert_counts_equal(&nt, n1);
        assert_int_equal(out.len, ref->len);
        if (memcmp(out.data, ref->data, ref->len))
            fail_msg("%u threads, %zu inputs, require %d: output differs", threads[t], ninputs, require);
        px_buf_free(&out);
    }
}

#endif
