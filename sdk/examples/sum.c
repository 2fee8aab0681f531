/* PXR1 in, PXV1 out: the record count and the sum of the numeric field
 * "value" (int or real). Before a DP stage it runs as a per-user map
 * ("params": {"map": "per-user", "dim": 2}): the platform runs it once per
 * user on that user's records, and this one vector is the user's
 * contribution (docs/sdk.md, "The contract with a DP stage"). */
#include "pixiu_task.h"

int main(void) {
    size_t n;
    uint8_t *in = px_task_read_input(&n);
    px_task_records r;
    if (!in)
        px_task_fail("reading the input failed");
    if (px_task_records_open(&r, in, n))
        px_task_fail(r.error);
    int f = px_task_find(&r, "value");
    if (f < 0 || (r.fields[f].type != PX_TASK_INT && r.fields[f].type != PX_TASK_REAL))
        px_task_fail("the input has no numeric field named value");
    px_task_value v[PX_TASK_MAX_FIELDS];
    uint8_t flags;
    double out[2] = {0, 0};
    int rc;
    while ((rc = px_task_records_next(&r, v, &flags)) == 1) {
        out[0] += 1;
        out[1] += v[f].type == PX_TASK_INT ? (double)v[f].i : v[f].r;
    }
    if (rc < 0)
        px_task_fail(r.error);
    free(in);
    return px_task_write_vector(out, 2) ? 1 : 0;
}
