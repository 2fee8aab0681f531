/* The federated-learning example's model, shared by the training task
 * (train.c, run at each POD) and the central baseline (central.c), so that
 * both train and score exactly the same thing.
 *
 * Softmax regression over hashed bag-of-words: a message's words go into
 * FL_BUCKETS buckets (px_task_feature); each occurrence counts
 * 1/sqrt(words), so long and short messages weigh alike. The weights are
 * one flat float vector of dim = FL_BUCKETS * C + C: class c's bucket
 * weights at c * FL_BUCKETS, then the C biases. C is read off dim, so the
 * same code trains any number of classes from 2 to FL_MAX_CLASSES.
 *
 * Training is minibatch SGD: per epoch a permutation of the examples from
 * the PRG, then one step per batch of FL_BATCH examples (the last may be
 * shorter) along the sum of their gradients times FL_RATE / FL_BATCH. */
#ifndef PIXIU_FL_SOFTMAX_H
#define PIXIU_FL_SOFTMAX_H

#include <math.h>

#include "pixiu_task.h"

#define FL_BUCKETS 1024
#define FL_MAX_CLASSES 16
#define FL_BATCH 16
#ifndef FL_RATE
#define FL_RATE 4.0
#endif

/* Examples as concatenated feature lists: example i has the buckets
 * feat[start[i] .. start[i+1]-1] and the label label[i]. */
typedef struct fl_data {
    uint32_t *feat, *start;
    int *label;
    uint32_t n, cap, nfeat, featcap;
} fl_data;

/* 1/sqrt(n) by Newton's iteration, not sqrt(): the sandbox's compiled
 * module has no libm to call for wasm's sqrt instruction, and basic IEEE
 * arithmetic gives the same bits natively and in wasm. From y = 1/n the
 * iteration rises monotonically to the root; it stops when y stops moving. */
static inline double fl_inv_sqrt(uint32_t n) {
    double y = 1.0 / n, prev = 0;
    for (int i = 0; i < 200 && y != prev; i++) {
        prev = y;
        y = y * (1.5 - 0.5 * n * y * y);
    }
    return y;
}

/* The number of classes dim holds, or 0 when dim is not a model's. */
static inline uint32_t fl_classes(uint32_t dim) {
    uint32_t c = dim / (FL_BUCKETS + 1);
    return dim % (FL_BUCKETS + 1) == 0 && c >= 2 && c <= FL_MAX_CLASSES ? c : 0;
}

static inline void fl_data_free(fl_data *d) {
    free(d->feat);
    free(d->start);
    free(d->label);
    memset(d, 0, sizeof *d);
}

/* Append one message. 0, or -1 when memory runs out. */
static inline int fl_data_add(fl_data *d, const uint8_t *text, size_t len, int label) {
    if (d->n + 2 > d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 256;
        uint32_t *s = (uint32_t *)realloc(d->start, cap * sizeof *s);
        if (s)
            d->start = s;
        int *l = (int *)realloc(d->label, cap * sizeof *l);
        if (l)
            d->label = l;
        if (!s || !l)
            return -1;
        d->cap = cap;
    }
    if (d->n == 0)
        d->start[0] = 0;
    px_task_tokens t;
    const uint8_t *w;
    size_t wn;
    px_task_tokens_init(&t, text, len);
    while (px_task_tokens_next(&t, &w, &wn)) {
        if (d->nfeat == d->featcap) {
            uint32_t cap = d->featcap ? d->featcap * 2 : 4096;
            uint32_t *f = (uint32_t *)realloc(d->feat, cap * sizeof *f);
            if (!f)
                return -1;
            d->feat = f;
            d->featcap = cap;
        }
        d->feat[d->nfeat++] = px_task_feature(w, wn, FL_BUCKETS);
    }
    d->label[d->n] = label;
    d->start[++d->n] = d->nfeat;
    return 0;
}

/* The class probabilities p[0..C-1] of example i under weights w. */
static inline void fl_predict(const float *w, uint32_t C, const fl_data *d, uint32_t i, double *p) {
    uint32_t a = d->start[i], b = d->start[i + 1];
    double x = b > a ? fl_inv_sqrt(b - a) : 0.0, top = -INFINITY, sum = 0;
    for (uint32_t c = 0; c < C; c++) {
        double z = w[FL_BUCKETS * C + c];
        for (uint32_t k = a; k < b; k++)
            z += w[c * FL_BUCKETS + d->feat[k]] * x;
        p[c] = z;
        if (z > top)
            top = z;
    }
    for (uint32_t c = 0; c < C; c++)
        sum += (p[c] = exp(p[c] - top)); /* shifted: exp never overflows */
    for (uint32_t c = 0; c < C; c++)
        p[c] /= sum;
}

/* epochs of minibatch SGD over d, in place on w; order comes from g. The
 * gradient is kept dense (dim floats): a batch touches few buckets, but
 * the models here are small enough that clearing it is cheap.
 * 0, or -1 when memory runs out. */
static inline int fl_train(float *w, uint32_t C, const fl_data *d, uint32_t epochs, px_task_prg *g) {
    uint32_t dim = (FL_BUCKETS + 1) * C;
    uint32_t *order = (uint32_t *)malloc((d->n ? d->n : 1) * sizeof *order);
    double *grad = (double *)calloc(dim, sizeof *grad);
    if (!order || !grad) {
        free(order);
        free(grad);
        return -1;
    }
    double p[FL_MAX_CLASSES];
    for (uint32_t i = 0; i < d->n; i++)
        order[i] = i;
    for (uint32_t e = 0; e < epochs; e++) {
        px_task_prg_shuffle(g, order, d->n);
        for (uint32_t b0 = 0; b0 < d->n; b0 += FL_BATCH) {
            uint32_t b1 = b0 + FL_BATCH < d->n ? b0 + FL_BATCH : d->n;
            for (uint32_t j = b0; j < b1; j++) {
                uint32_t i = order[j], a = d->start[i], b = d->start[i + 1];
                double x = b > a ? fl_inv_sqrt(b - a) : 0.0;
                fl_predict(w, C, d, i, p);
                for (uint32_t c = 0; c < C; c++) {
                    double err = p[c] - (d->label[i] == (int)c); /* d loss / d logit */
                    grad[FL_BUCKETS * C + c] += err;
                    for (uint32_t k = a; k < b; k++)
                        grad[c * FL_BUCKETS + d->feat[k]] += err * x;
                }
            }
            /* Divided by the full batch size even for the last, short
             * batch: one or two examples must not take a whole step. */
            double step = (double)FL_RATE / FL_BATCH;
            for (uint32_t k = 0; k < dim; k++) {
                w[k] -= (float)(step * grad[k]);
                grad[k] = 0;
            }
        }
    }
    free(order);
    free(grad);
    return 0;
}

/* Accuracy and mean cross-entropy (natural log) of w over d. */
static inline void fl_score(const float *w, uint32_t C, const fl_data *d, double *accuracy, double *loss) {
    double p[FL_MAX_CLASSES], right = 0, ce = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        fl_predict(w, C, d, i, p);
        uint32_t best = 0;
        for (uint32_t c = 1; c < C; c++)
            if (p[c] > p[best])
                best = c;
        right += (int)best == d->label[i];
        ce -= log(p[d->label[i]] > 1e-300 ? p[d->label[i]] : 1e-300);
    }
    *accuracy = d->n ? right / d->n : 0;
    *loss = d->n ? ce / d->n : 0;
}

#endif
