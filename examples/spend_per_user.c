/* A task for a per-user map stage (docs/dp.md): the platform runs it once
 * per account holder, with only that person's records on standard input,
 * and it writes one PXV1 vector [number of transactions, total spent],
 * where "spent" is the absolute value of negative amounts. The DP stage
 * clamps each person's vector to the manifest's bounds before it sums them.
 *
 * Nothing here decides who a user is: writing more than one vector, or
 * none, only makes this person's entry absent. */
#include "pixiu_task.h"

int main(void) {
    size_t len;
    uint8_t *in = px_task_read_input(&len);
    px_task_records r;
    if (!in)
        px_task_fail("reading the input failed");
    if (px_task_records_open(&r, in, len))
        px_task_fail(r.error);
    int af = px_task_find(&r, "amount");
    if (af < 0 || r.fields[af].type != PX_TASK_REAL)
        px_task_fail("the input needs a real amount");
    px_task_value v[PX_TASK_MAX_FIELDS];
    uint8_t flags;
    double out[2] = {0, 0};
    int rc;
    while ((rc = px_task_records_next(&r, v, &flags)) == 1) {
        out[0] += 1;
        if (v[af].r < 0)
            out[1] -= v[af].r;
    }
    if (rc < 0)
        px_task_fail(r.error);
    return px_task_write_vector(out, 2) ? 1 : 0;
}
