/* Inside the poll module: a poll receipt's entries once read and placed
 * in the log (receipt.c), for the checks of receipt_check.c. */
#ifndef PX_POLL_RECEIPT_INT_H
#define PX_POLL_RECEIPT_INT_H

#include "pixiu/poll.h"

enum { PX_PR_POLL, PX_PR_ISSUED, PX_PR_RELEASE, PX_PR_ACCEPTED, PX_PR_PROOF, PX_PR_SPENT };

typedef struct px_poll_rentry {
    size_t role; /* PX_PR_* */
    uint64_t index;
    px_buf entry;
} px_poll_rentry;

typedef struct px_poll_rentries {
    uint8_t poll[PX_POLL_ID_BYTES];
    px_poll_rentry *e;
    size_t n;
    px_buf result;
    uint8_t r[PX_COMMIT_RANDBYTES];
    uint64_t log_size;
    size_t witnesses;
} px_poll_rentries;

/* Parse the receipt, check the checkpoint (log key, every witness) and
 * each entry's inclusion proof. */
int px_poll_receipt_read(px_poll_rentries *out, const void *json, size_t len, const px_poll_trust *t, px_err *err);
void px_poll_rentries_free(px_poll_rentries *e);

#endif
