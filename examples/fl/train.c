/* One round of local training at a POD (federated learning, docs/sdk.md,
 * "Training code (federated learning)").
 *
 * Input: the round's model block (PXFM) followed by this person's records
 * of the dataset "messages" (PXR1, text field "text", int field "label").
 * Output: one update (PXFU), the locally trained weights minus the ones
 * received, after FL_LOCAL_EPOCHS epochs of minibatch SGD whose order comes
 * from the block's seed (softmax.h). Nothing else leaves: the update goes
 * to the aggregation, which only ever reveals the sum over people.
 *
 *   pixiu task build examples/fl/train.c -o train.wasm
 *   gcc -O2 -std=c11 -Isdk examples/fl/train.c -o train -lm   (same code, native) */
#include "softmax.h"

#ifndef FL_LOCAL_EPOCHS
#define FL_LOCAL_EPOCHS 5
#endif
/* The L2 clip bound the training's manifest states (fl-user and fl-agg
 * params.clip): the stage refuses to send an update over it, so the
 * update is clipped just under it here. */
#ifndef FL_CLIP
#define FL_CLIP 4.0
#endif

int main(void) {
    size_t n;
    uint8_t *in = px_task_read_input(&n);
    px_task_model m;
    px_task_records r;
    if (!in)
        px_task_fail("reading the input failed");
    if (px_task_model_input(&m, &r, in, n))
        px_task_fail(m.error);
    uint32_t C = fl_classes(m.dim);
    if (!C)
        px_task_fail("the model's dim is not (1024 + 1) x classes, 2 to 16 classes");
    int tf = px_task_find(&r, "text"), lf = px_task_find(&r, "label");
    if (tf < 0 || r.fields[tf].type != PX_TASK_TEXT)
        px_task_fail("the input needs a text field \"text\"");
    if (lf < 0 || r.fields[lf].type != PX_TASK_INT)
        px_task_fail("the input needs an int field \"label\"");
    fl_data d = {0};
    px_task_value v[PX_TASK_MAX_FIELDS];
    uint8_t flags;
    int rc;
    while ((rc = px_task_records_next(&r, v, &flags)) == 1) {
        /* A label the model has no class for is a mistake in the data or
         * the model: fail rather than train on something else. */
        if (v[lf].i < 0 || v[lf].i >= (int64_t)C)
            px_task_fail("a label is outside the model's classes");
        if (fl_data_add(&d, v[tf].p, v[tf].len, (int)v[lf].i))
            px_task_fail("out of memory");
    }
    if (rc < 0)
        px_task_fail(r.error);
    float *w = (float *)malloc(m.dim * sizeof *w), *old = (float *)malloc(m.dim * sizeof *old);
    if (!w || !old)
        px_task_fail("out of memory");
    px_task_model_weights(&m, w);
    memcpy(old, w, m.dim * sizeof *w);
    px_task_prg g;
    px_task_prg_seed(&g, m.seed);
    if (fl_train(w, C, &d, FL_LOCAL_EPOCHS, &g))
        px_task_fail("out of memory");
    for (uint32_t k = 0; k < m.dim; k++)
        w[k] -= old[k];
    px_task_clip_l2(w, m.dim, FL_CLIP * 0.999);
    if (px_task_write_update(w, m.dim))
        px_task_fail("the update is not finite or could not be written");
    fl_data_free(&d);
    free(w);
    free(old);
    free(in);
    return 0;
}
