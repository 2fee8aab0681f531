/* Fuzz the federated-learning blocks (src/agg/fl_wire.c): the model
 * (PXFM), the update (PXFU), the broadcast (PXFB) and the reveals (PXFR).
 * Whatever parses must rebuild to exactly the bytes it came from (model,
 * broadcast, reveals) or hold only finite values (update), with every view
 * inside the input; whatever fails must say why. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg/fl_int.h"

static void check_model(const uint8_t *data, size_t size) {
    px_err err = {0};
    px_fl_model m;
    if (px_fl_model_parse(&m, data, size, &err)) {
        if (!err.msg[0])
            abort();
        return;
    }
    px_buf b = PX_BUF_INIT;
    if (px_fl_model_write(&b, m.w, m.dim, m.round, m.seed, NULL) || b.len != size || memcmp(b.data, data, size))
        abort();
    px_buf_free(&b);
    px_fl_model_free(&m);
}

static void check_update(const uint8_t *data, size_t size) {
    px_err err = {0};
    if (size < PX_FL_UPDATE_HEADER)
        return;
    uint32_t dim = (uint32_t)data[8] | (uint32_t)data[9] << 8 | (uint32_t)data[10] << 16 | (uint32_t)data[11] << 24;
    if (dim == 0 || dim > 4096)
        return;
    float *x = malloc(sizeof *x * dim);
    if (!x)
        return;
    if (px_fl_update_parse(x, dim, data, size, &err) == 0) {
        for (uint32_t i = 0; i < dim; i++)
            if (!isfinite(x[i]))
                abort();
    } else if (!err.msg[0]) {
        abort();
    }
    free(x);
}

static void check_broadcast(const uint8_t *data, size_t size) {
    px_err err = {0};
    px_fl_broadcast b;
    if (px_fl_broadcast_parse(&b, data, size, &err)) {
        if (!err.msg[0])
            abort();
        return;
    }
    if (b.index >= b.n || b.roster != data + 20 || b.model + b.model_len != data + size)
        abort();
    px_buf re = PX_BUF_INIT;
    if (px_fl_broadcast_write(&re, b.round, b.roster, b.n, b.index, b.model, b.model_len, NULL) || re.len != size ||
        memcmp(re.data, data, size))
        abort();
    px_buf_free(&re);
}

static void check_reveals(const uint8_t *data, size_t size) {
    px_err err = {0};
    px_fl_reveals r;
    if (px_fl_reveals_parse(&r, data, size, &err)) {
        if (!err.msg[0])
            abort();
        return;
    }
    px_buf re = PX_BUF_INIT;
    if (px_fl_reveals_begin(&re, r.roster, r.n, r.count, NULL))
        abort();
    const uint8_t *e = r.entries;
    for (uint32_t i = 0; i < r.count; i++) {
        px_fl_reveal one;
        e += px_fl_reveals_next(e, &one);
        if (e > data + size || px_fl_reveals_add(&re, one.sign_pk, one.req_hash, one.resp, one.resp_len, one.sig, NULL))
            abort();
    }
    if (re.len != size || memcmp(re.data, data, size))
        abort();
    px_buf_free(&re);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_model(data, size);
    check_update(data, size);
    check_broadcast(data, size);
    check_reveals(data, size);
    return 0;
}
