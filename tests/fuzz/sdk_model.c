/* Fuzz target: the SDK's model-block (PXFM) and update (PXFU) readers
 * (sdk/pixiu_task.h, compiled into every training task). What either
 * accepts must re-encode to exactly the bytes it read (so nothing is
 * guessed or skipped), stay within the input, and hand the rest of a stage
 * input to the PXR1 reader intact. */
#include <stdlib.h>
#include <string.h>

#include "../../sdk/pixiu_task.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_task_model m;
    px_task_records r;
    if (px_task_model_input(&m, &r, data, size) == 0) {
        size_t n = px_task_model_size(m.dim);
        if (m.dim < 1 || m.dim > PX_TASK_MODEL_DIM_MAX || n > size || m.rest != data + n ||
            m.rest_len != size - n)
            abort();
        float *w = (float *)malloc(m.dim * sizeof *w);
        uint8_t *again = (uint8_t *)malloc(n);
        if (!w || !again)
            abort();
        px_task_model_weights(&m, w);
        if (px_task_model_encode(again, m.dim, m.round, m.seed, w) || memcmp(again, data, n))
            abort();
        px_task_records r2;
        if (px_task_records_open(&r2, data + n, size - n) || r2.count != r.count)
            abort();
        free(w);
        free(again);
    }
    px_task_update u;
    if (px_task_update_open(&u, data, size) == 0) {
        if (px_task_update_size(u.dim) != size)
            abort();
        float *d = (float *)malloc(u.dim * sizeof *d);
        uint8_t *again = (uint8_t *)malloc(size);
        if (!d || !again)
            abort();
        px_task_update_values(&u, d);
        if (px_task_update_encode(again, d, u.dim) || memcmp(again, data, size))
            abort();
        free(d);
        free(again);
    }
    return 0;
}
