/* Internal to src/pod: the data-prover's signature checks on several
 * threads, and the thread count the tests choose. */
#ifndef PIXIU_POD_PROVER_INT_H
#define PIXIU_POD_PROVER_INT_H

#include "pixiu/pod.h"

/* Threads a prover uses at most by default, and at most when asked. */
#define PX_PROVER_DEFAULT_THREADS 2
#define PX_PROVER_MAX_THREADS 16

/* What the prover found for one record. */
typedef enum px_prover_verdict {
    PX_PROVER_OK,       /* signed by a trusted source, signature verified */
    PX_PROVER_UNSIGNED, /* no px_source, no px_sig */
    PX_PROVER_UNKNOWN,  /* names a source that is not trusted */
    PX_PROVER_BAD       /* a trusted source, but not its signature */
} px_prover_verdict;

/* Records to check: every input's reader just past its header (each input
 * was read through once already, so it is known to be well formed), their
 * records numbered across inputs in input order. */
typedef struct px_prover_batch {
    const px_prover_config *config;
    px_schema data;                  /* the input fields but px_source, px_sig */
    const px_records_reader *inputs; /* [ninputs] */
    size_t ninputs;
    const uint64_t *first;           /* [ninputs + 1]: number of each input's first record; last: total */
    const size_t *offs;              /* [total]: each record's offset in its input */
} px_prover_batch;

/* min(PX_PROVER_DEFAULT_THREADS, CPUs this process may run on), 1 when the
 * kernel does not say. */
unsigned px_prover_threads(void);

/* Set verdicts[i] (a px_prover_verdict) for every record i of the batch on
 * up to `threads` threads, the calling one included. A verdict depends on
 * its record and the config only, never on the thread count or on which
 * thread checked it. */
int px_prover_check(const px_prover_batch *b, unsigned threads, uint8_t *verdicts, px_err *err);

/* px_prover_run_many on `threads` threads (1..PX_PROVER_MAX_THREADS; 0 for
 * px_prover_threads()). The output and counts are the same whatever the
 * thread count. */
int px_prover_run_many_threads(const px_prover_config *c, const uint8_t *const *in, const size_t *lens, size_t n,
                               unsigned threads, px_buf *out, px_prover_counts *counts, px_err *err);

#endif
