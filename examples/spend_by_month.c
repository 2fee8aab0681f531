/* A task for a per-user map stage (docs/dp.md) that makes a DP table: the
 * platform runs it once per account holder, and it writes one PXV1 vector
 * of 27 values, one per (month, category) cell of the first quarter of
 * 2025 (3 months x 9 spending categories, month-major): the amount the
 * person spent there. The DP stage clamps each cell to the manifest's
 * bounds and adds noise; the noised vector is the table a PIR λ then
 * serves (docs/pir.md, scripts/demos/pir.sh). */
#include "pixiu_task.h"

#define MONTHS 3
#define CATS 9
static const char *const cats[CATS] = {"groceries", "dining",  "transport",     "utilities", "rent",
                                       "shopping",  "health", "entertainment", "travel"};
/* Month starts, ms since the epoch: 2025-01-01, 02-01, 03-01, 04-01 (UTC). */
static const int64_t starts[MONTHS + 1] = {1735689600000LL, 1738368000000LL, 1740787200000LL, 1743465600000LL};

static int cat_index(const px_task_value *v) {
    for (int c = 0; c < CATS; c++)
        if (strlen(cats[c]) == v->len && !memcmp(cats[c], v->p, v->len))
            return c;
    return -1;
}

int main(void) {
    size_t len;
    uint8_t *in = px_task_read_input(&len);
    px_task_records r;
    if (!in)
        px_task_fail("reading the input failed");
    if (px_task_records_open(&r, in, len))
        px_task_fail(r.error);
    int af = px_task_find(&r, "amount"), tf = px_task_find(&r, "timestamp"), cf = px_task_find(&r, "category");
    if (af < 0 || tf < 0 || cf < 0)
        px_task_fail("the input needs amount, timestamp and category");
    px_task_value v[PX_TASK_MAX_FIELDS];
    uint8_t flags;
    double out[MONTHS * CATS] = {0};
    int rc;
    while ((rc = px_task_records_next(&r, v, &flags)) == 1) {
        int c = cat_index(&v[cf]), m = -1;
        for (int k = 0; k < MONTHS; k++)
            if (v[tf].i >= starts[k] && v[tf].i < starts[k + 1])
                m = k;
        if (c < 0 || m < 0 || v[af].r >= 0)
            continue; /* income, or outside the quarter */
        out[m * CATS + c] -= v[af].r;
    }
    if (rc < 0)
        px_task_fail(r.error);
    return px_task_write_vector(out, MONTHS * CATS) ? 1 : 0;
}
