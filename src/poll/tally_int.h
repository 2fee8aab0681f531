/* Inside the poll module: the tally's accumulator, shared by the counting
 * (tally.c) and the DP release (tally_release.c). */
#ifndef PX_POLL_TALLY_INT_H
#define PX_POLL_TALLY_INT_H

#include "pixiu/poll.h"

/* A set of 32-byte keys (nonces, digests): open addressing, keyed hash. */
typedef struct px_poll_set {
    uint8_t (*keys)[32];
    uint8_t *used;
    size_t cap, n;
    uint8_t seed[16];
} px_poll_set;

/* Counts of one table: single/multiple choice per option; numeric as a
 * sum and a count. A crosstab has one such row per category, plus one for
 * "unknown". */
typedef struct px_poll_row {
    uint64_t *counts; /* noptions entries (choice) */
    int64_t sum;      /* numeric */
    uint64_t n;       /* numeric: answers counted */
} px_poll_row;

struct px_poll_tally {
    const px_poll_survey *s;
    px_box_keypair kp;
    px_poll_set spent, seen;
    uint64_t counts[PX_POLL_NREASONS];
    uint64_t received;
    px_buf tokens;       /* accepted tokens, encoded, back to back */
    size_t *token_off;   /* offsets into tokens */
    size_t ntokens, cap_tokens;
    px_poll_row *q;      /* one per question */
    px_poll_row **x;     /* per crosstab: ncat + 1 rows */
    px_buf plain;        /* scratch */
};

#endif
