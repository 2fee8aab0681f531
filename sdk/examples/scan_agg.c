/* Scan and aggregate: per group (int field "group", folded into 64
 * buckets) the count, sum and maximum of the real field "amount", for
 * records with amount above a threshold. Output: PXV1 of 3 x 64 values. */
#include "pixiu_task.h"

#define GROUPS 64
#define THRESHOLD 10.0

int main(void) {
    size_t n;
    uint8_t *in = px_task_read_input(&n);
    px_task_records r;
    if (!in)
        px_task_fail("reading the input failed");
    if (px_task_records_open(&r, in, n))
        px_task_fail(r.error);
    int g = px_task_find(&r, "group"), a = px_task_find(&r, "amount");
    if (g < 0 || a < 0 || r.fields[g].type != PX_TASK_INT || r.fields[a].type != PX_TASK_REAL)
        px_task_fail("the input needs int group and real amount");
    static double out[3 * GROUPS];
    px_task_value v[PX_TASK_MAX_FIELDS];
    uint8_t flags;
    int rc;
    while ((rc = px_task_records_next(&r, v, &flags)) == 1) {
        if (v[a].r <= THRESHOLD)
            continue;
        uint64_t b = (uint64_t)v[g].i % GROUPS;
        out[b] += 1;
        out[GROUPS + b] += v[a].r;
        if (v[a].r > out[2 * GROUPS + b])
            out[2 * GROUPS + b] = v[a].r;
    }
    if (rc < 0)
        px_task_fail(r.error);
    free(in);
    return px_task_write_vector(out, 3 * GROUPS) ? 1 : 0;
}
