/* Logistic regression by stochastic gradient descent: real features
 * x0..x7 and an int label y (0 or 1). Several epochs over the records with
 * a decaying learning rate; output: PXV1 of the 8 weights and the bias. */
#include <math.h>

#include "pixiu_task.h"

#define DIM 8
#define EPOCHS 5
#define RATE0 0.1

int main(void) {
    size_t n;
    uint8_t *in = px_task_read_input(&n);
    px_task_records r;
    if (!in)
        px_task_fail("reading the input failed");
    if (px_task_records_open(&r, in, n))
        px_task_fail(r.error);
    int xf[DIM], yf = px_task_find(&r, "y");
    char name[4] = "x0";
    for (int k = 0; k < DIM; k++) {
        name[1] = (char)('0' + k);
        xf[k] = px_task_find(&r, name);
        if (xf[k] < 0 || r.fields[xf[k]].type != PX_TASK_REAL)
            px_task_fail("the input needs real fields x0..x7");
    }
    if (yf < 0 || r.fields[yf].type != PX_TASK_INT)
        px_task_fail("the input needs an int field y");
    double w[DIM + 1] = {0};
    px_task_value v[PX_TASK_MAX_FIELDS];
    uint8_t flags;
    for (int e = 0; e < EPOCHS; e++) {
        px_task_records pass = r; /* re-read from the first record */
        double rate = RATE0 / (1.0 + e);
        int rc;
        while ((rc = px_task_records_next(&pass, v, &flags)) == 1) {
            double z = w[DIM];
            for (int k = 0; k < DIM; k++)
                z += w[k] * v[xf[k]].r;
            double err = 1.0 / (1.0 + exp(-z)) - (double)v[yf].i;
            for (int k = 0; k < DIM; k++)
                w[k] -= rate * err * v[xf[k]].r;
            w[DIM] -= rate * err;
        }
        if (rc < 0)
            px_task_fail(pass.error);
    }
    free(in);
    return px_task_write_vector(w, DIM + 1) ? 1 : 0;
}
