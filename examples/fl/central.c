/* pixiu-fl-central: the federated-learning example's baseline and model
 * tool, native, with no privacy at all: what the private model is compared
 * with. It uses the very model and SGD of train.c (softmax.h) and reads the
 * JSON lines of `pixiu pod gen-messages` (members "text" and "label"; the
 * others are ignored).
 *
 *   pixiu-fl-central init [--classes C] [--seed S] -o MODEL
 *       a zero model (dim = 1025 x C, default C = 4), round 0
 *   pixiu-fl-central train [--epochs E] [--classes C] [--seed S] [--eval TEST] -o MODEL DATA...
 *       E epochs (default 3) of the same minibatch SGD over all DATA files
 *       together, from a zero model; with --eval, one line per epoch:
 *       epoch=E accuracy=A loss=L n=N
 *   pixiu-fl-central eval MODEL TEST
 *       prints one line: accuracy=A loss=L n=N round=R
 *       (A: share of messages whose most probable class is their label;
 *       L: mean cross-entropy in nats; both to 6 decimals)
 *   pixiu-fl-central sum UPDATE... -o OUT
 *       OUT = the sum of the updates (PXFU, all of one dim): what secure
 *       aggregation reveals of a round, here computed in the clear
 *   pixiu-fl-central apply MODEL UPDATE [--scale X] [--seed S] -o OUT
 *       OUT = MODEL + X * UPDATE (a PXFU, e.g. the sum of a round's updates;
 *       X defaults to 1, 1/n averages a sum of n), round + 1, seed S or
 *       else splitmix64 of MODEL's seed
 *
 * Exit 0, 1 when an input is malformed, 2 on misuse. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>

#include "softmax.h"

static const char usage[] =
    "usage: pixiu-fl-central init [--classes C] [--seed S] -o MODEL\n"
    "       pixiu-fl-central train [--epochs E] [--classes C] [--seed S] [--eval TEST] -o MODEL DATA...\n"
    "       pixiu-fl-central eval MODEL TEST\n"
    "       pixiu-fl-central sum UPDATE... -o OUT\n"
    "       pixiu-fl-central apply MODEL UPDATE [--scale X] [--seed S] -o OUT\n";

static int misuse(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("pixiu-fl-central: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see pixiu-fl-central --help)\n", stderr);
    va_end(ap);
    return 2;
}

static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("pixiu-fl-central: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            uint8_t *b = (uint8_t *)realloc(buf, cap = cap ? cap * 2 : 65536);
            if (!b)
                break;
            buf = b;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f))
                break;
            fclose(f);
            *len = n;
            return buf;
        }
    }
    fclose(f);
    free(buf);
    return NULL;
}

static int spill(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f))
        return fail("writing %s: %s", path, strerror(errno));
    return 0;
}

/* The messages of a JSON-lines file, appended to d. 0, or 1 naming the line. */
static int load_messages(const char *path, uint32_t C, fl_data *d) {
    size_t len;
    uint8_t *buf = slurp(path, &len);
    if (!buf)
        return fail("reading %s: %s", path, strerror(errno));
    size_t line = 0;
    for (size_t off = 0; off < len;) {
        const uint8_t *nl = (const uint8_t *)memchr(buf + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - buf) : len;
        json_error_t je;
        line++;
        json_t *o = json_loadb((const char *)buf + off, end - off, JSON_REJECT_DUPLICATES, &je);
        json_t *text = json_object_get(o, "text"), *label = json_object_get(o, "label");
        const char *why = !o ? "not JSON" : !json_is_string(text) ? "no string \"text\""
                        : !json_is_integer(label) ? "no integer \"label\""
                        : json_integer_value(label) < 0 || json_integer_value(label) >= (json_int_t)C
                            ? "label outside the model's classes" : NULL;
        if (!why && fl_data_add(d, (const uint8_t *)json_string_value(text), json_string_length(text),
                                (int)json_integer_value(label)))
            why = "out of memory";
        json_decref(o);
        if (why) {
            free(buf);
            return fail("%s: line %zu: %s", path, line, why);
        }
        off = end + 1;
    }
    free(buf);
    if (d->n == 0)
        return fail("%s: no messages", path);
    return 0;
}

/* An update file: one PXFU. d is malloc'd. */
static int load_update(const char *path, uint32_t *dim, float **d) {
    size_t len;
    px_task_update u;
    uint8_t *buf = slurp(path, &len);
    if (!buf)
        return fail("reading %s: %s", path, strerror(errno));
    int rc = 0;
    if (px_task_update_open(&u, buf, len))
        rc = fail("%s: %s", path, u.error);
    else if (*dim && u.dim != *dim)
        rc = fail("%s: the update has dim %u, not %u", path, u.dim, *dim);
    else if (!(*d = (float *)malloc(u.dim * sizeof **d)))
        rc = fail("out of memory");
    else {
        px_task_update_values(&u, *d);
        *dim = u.dim;
    }
    free(buf);
    return rc;
}

/* A model file: one PXFM block and nothing after it. w is malloc'd. */
static int load_model(const char *path, px_task_model *m, float **w, uint32_t *C) {
    size_t len;
    uint8_t *buf = slurp(path, &len);
    if (!buf)
        return fail("reading %s: %s", path, strerror(errno));
    int rc = 0;
    if (px_task_model_open(m, buf, len))
        rc = fail("%s: %s", path, m->error);
    else if (m->rest_len)
        rc = fail("%s: PXFM: bytes after the weights", path);
    else if (!(*C = fl_classes(m->dim)))
        rc = fail("%s: dim %u is not (1024 + 1) x classes, 2 to 16 classes", path, m->dim);
    else if (!(*w = (float *)malloc(m->dim * sizeof **w)))
        rc = fail("out of memory");
    else
        px_task_model_weights(m, *w);
    free(buf);
    m->weights = m->rest = NULL; /* they pointed into buf */
    return rc;
}

static int save_model(const char *path, const float *w, uint32_t dim, uint32_t round, uint64_t seed) {
    uint8_t *out = (uint8_t *)malloc(px_task_model_size(dim));
    int rc = !out ? fail("out of memory")
             : px_task_model_encode(out, dim, round, seed, w) ? fail("%s: a weight is not finite", path)
                                                               : spill(path, out, px_task_model_size(dim));
    free(out);
    return rc;
}

/* 0, or 2 after saying what is wrong. */
static int number(const char *opt, const char *s, double lo, double hi, int whole, double *out) {
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    if (errno || end == s || *end || !(*out >= lo && *out <= hi) || (whole && *out != (double)(uint32_t)*out))
        return misuse("%s needs a%s number from %g to %g", opt, whole ? " whole" : "", lo, hi);
    return 0;
}

static int seed_of(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s < '0' || *s > '9')
        return misuse("--seed needs a decimal number");
    *out = v;
    return 0;
}

static int run(int argc, char **argv, const char **ops) {
    const char *out = NULL, *eval = NULL;
    double classes = 4, epochs = 3, scale = 1;
    uint64_t seed = 1;
    int nops = 0, have_seed = 0;
    if (argc < 2)
        return misuse("say init, train, eval, sum or apply");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
        return fputs(usage, stdout), 0;
    const char *cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r = 0;
        if (!strcmp(o, "-h") || !strcmp(o, "--help"))
            return fputs(usage, stdout), 0;
        if (o[0] != '-') {
            ops[nops++] = o; /* ops has room for all of argv */
            continue;
        }
        if (!v)
            return misuse("%s needs a value", o);
        if (!strcmp(o, "-o") || !strcmp(o, "--out"))
            out = v;
        else if (!strcmp(o, "--eval"))
            eval = v;
        else if (!strcmp(o, "--classes"))
            r = number(o, v, 2, FL_MAX_CLASSES, 1, &classes);
        else if (!strcmp(o, "--epochs"))
            r = number(o, v, 1, 1000, 1, &epochs);
        else if (!strcmp(o, "--scale"))
            r = number(o, v, -1e9, 1e9, 0, &scale);
        else if (!strcmp(o, "--seed"))
            r = seed_of(v, &seed), have_seed = 1;
        else
            return misuse("unknown option %s", o);
        if (r)
            return 2;
        i++;
    }
    uint32_t C = (uint32_t)classes, dim = C * (FL_BUCKETS + 1);
    if (!strcmp(cmd, "init")) {
        if (!out || nops)
            return misuse("init takes -o MODEL and no files");
        float *w = (float *)calloc(dim, sizeof *w);
        int rc = w ? save_model(out, w, dim, 0, seed) : fail("out of memory");
        free(w);
        return rc;
    }
    if (!strcmp(cmd, "train")) {
        if (!out || nops < 1)
            return misuse("train takes -o MODEL and at least one DATA file");
        fl_data d = {0}, t = {0};
        float *w = (float *)calloc(dim, sizeof *w);
        int rc = w ? 0 : fail("out of memory");
        for (int i = 0; i < nops && !rc; i++)
            rc = load_messages(ops[i], C, &d);
        if (!rc && eval)
            rc = load_messages(eval, C, &t);
        px_task_prg g;
        px_task_prg_seed(&g, seed);
        for (uint32_t e = 1; e <= (uint32_t)epochs && !rc; e++) {
            if (fl_train(w, C, &d, 1, &g))
                rc = fail("out of memory");
            else if (eval) {
                double acc, loss;
                fl_score(w, C, &t, &acc, &loss);
                printf("epoch=%u accuracy=%.6f loss=%.6f n=%u\n", e, acc, loss, t.n);
            }
        }
        if (!rc)
            rc = save_model(out, w, dim, 0, seed);
        fl_data_free(&d);
        fl_data_free(&t);
        free(w);
        return rc;
    }
    if (!strcmp(cmd, "eval")) {
        if (nops != 2 || out)
            return misuse("eval takes MODEL TEST");
        px_task_model m;
        float *w = NULL;
        fl_data t = {0};
        int rc = load_model(ops[0], &m, &w, &C) || load_messages(ops[1], C, &t);
        if (!rc) {
            double acc, loss;
            fl_score(w, C, &t, &acc, &loss);
            printf("accuracy=%.6f loss=%.6f n=%u round=%u\n", acc, loss, t.n, m.round);
        }
        fl_data_free(&t);
        free(w);
        return rc;
    }
    if (!strcmp(cmd, "sum")) {
        if (nops < 1 || !out)
            return misuse("sum takes UPDATE... -o OUT");
        uint32_t n = 0;
        float *total = NULL, *d = NULL;
        int rc = load_update(ops[0], &n, &total);
        for (int i = 1; i < nops && !rc; i++) {
            if (!(rc = load_update(ops[i], &n, &d)))
                for (uint32_t k = 0; k < n; k++)
                    total[k] += d[k];
            free(d);
            d = NULL;
        }
        uint8_t *b = rc ? NULL : (uint8_t *)malloc(px_task_update_size(n));
        if (!rc)
            rc = !b ? fail("out of memory")
                 : px_task_update_encode(b, total, n) ? fail("%s: the sum is not finite", out)
                                                      : spill(out, b, px_task_update_size(n));
        free(b);
        free(total);
        return rc;
    }
    if (!strcmp(cmd, "apply")) {
        if (nops != 2 || !out)
            return misuse("apply takes MODEL UPDATE -o OUT");
        px_task_model m;
        float *w = NULL, *d = NULL;
        int rc = load_model(ops[0], &m, &w, &C);
        uint32_t n = rc ? 0 : m.dim;
        if (!rc)
            rc = load_update(ops[1], &n, &d);
        if (!rc) {
            for (uint32_t k = 0; k < m.dim; k++)
                w[k] += (float)(scale * d[k]);
            uint64_t next = m.seed;
            rc = save_model(out, w, m.dim, m.round + 1, have_seed ? seed : px_task_splitmix64(&next));
        }
        free(w);
        free(d);
        return rc;
    }
    return misuse("unknown command %s (say init, train, eval, sum or apply)", cmd);
}

int main(int argc, char **argv) {
    const char **ops = (const char **)calloc((size_t)argc + 1, sizeof *ops);
    if (!ops)
        return fail("out of memory");
    int rc = run(argc, argv, ops);
    free(ops);
    return rc;
}
