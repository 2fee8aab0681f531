/* A task that computes for several seconds before it answers, so a test
 * can stop its executor in the middle. */
#include "pixiu_task.h"

int main(void) {
    size_t n;
    uint8_t *in = px_task_read_input(&n);
    if (!in)
        px_task_fail("reading the input failed");
    volatile uint64_t x = 0;
    for (uint64_t i = 0; i < 6000000000ull; i++)
        x += i ^ (x >> 3);
    double out[2] = {(double)(x & 1), 1};
    return px_task_write_vector(out, 2) ? 1 : 0;
}
