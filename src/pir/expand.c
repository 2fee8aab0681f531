/* The public matrix A (m × n over Z_q) and the work split among threads.
 *
 * A is never sent: both sides expand it from the 32-byte seed. Column k of
 * A is the ChaCha20 keystream under the seed with nonce
 * "PXPIR-A1" || u32le(k), read as little-endian uint32: A[j][k] is bytes
 * 4j..4j+3 of it. A column can be read from any multiple of 16 entries on
 * (one 64-byte block), so the server expands A a block of rows at a time
 * and the client a column at a time, neither holding it whole. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pir/pir_int.h"

#define A_NONCE_TAG "PXPIR-A1"
#define AS_CHUNK 4096 /* entries of a column expanded at once by the client */

void px_pir_a_column(const uint8_t seed[PX_PIR_SEED_BYTES], uint32_t k, uint32_t j0, uint32_t len, uint32_t *out) {
    uint8_t nonce[PX_STREAM_NONCEBYTES];
    memcpy(nonce, A_NONCE_TAG, 8);
    nonce[8] = (uint8_t)k;
    nonce[9] = (uint8_t)(k >> 8);
    nonce[10] = (uint8_t)(k >> 16);
    nonce[11] = (uint8_t)(k >> 24);
    /* 16 entries per 64-byte block; the caller starts on a block. */
    px_stream_chacha20((uint8_t *)out, (size_t)len * 4, nonce, j0 / 16, seed);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (uint32_t j = 0; j < len; j++)
        out[j] = __builtin_bswap32(out[j]);
#endif
}

int px_pir_expand_as(const px_pir_params *pp, const uint32_t *s, uint32_t *out, px_err *err) {
    uint32_t *col = malloc(AS_CHUNK * sizeof *col);
    if (!col)
        return px_fail(err, PX_E_NOMEM, "out of memory expanding A");
    memset(out, 0, (size_t)pp->cols * sizeof *out);
    for (uint32_t j0 = 0; j0 < pp->cols; j0 += AS_CHUNK) {
        uint32_t len = pp->cols - j0 < AS_CHUNK ? pp->cols - j0 : AS_CHUNK;
        uint32_t *o = out + j0;
        for (uint32_t k = 0; k < PX_PIR_N; k++) {
            px_pir_a_column(pp->seed, k, j0, len, col);
            uint32_t sk = s[k];
            for (uint32_t j = 0; j < len; j++)
                o[j] += col[j] * sk;
        }
    }
    free(col);
    return 0;
}

unsigned px_pir_threads(unsigned asked, size_t db_bytes) {
    if (asked)
        return asked;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1 || db_bytes < (64u << 20))
        return 1;
    return cpus > 64 ? 64 : (unsigned)cpus;
}

typedef struct part {
    void (*fn)(void *ctx, uint32_t r0, uint32_t r1);
    void *ctx;
    uint32_t r0, r1;
} part;

static void *part_main(void *arg) {
    part *p = arg;
    p->fn(p->ctx, p->r0, p->r1);
    return NULL;
}

/* Rows are split in runs of multiples of 4 (the kernels take 4 rows at a
 * time); the caller's thread does the first run itself. A thread that
 * cannot be started leaves its run to the caller. */
int px_pir_parallel(unsigned threads, uint32_t rows, void (*fn)(void *ctx, uint32_t r0, uint32_t r1), void *ctx,
                    px_err *err) {
    uint32_t groups = (rows + 3) / 4;
    if (threads > groups)
        threads = groups ? groups : 1;
    if (threads <= 1) {
        fn(ctx, 0, rows);
        return 0;
    }
    part *parts = calloc(threads, sizeof *parts);
    pthread_t *th = calloc(threads, sizeof *th);
    int *started = calloc(threads, sizeof *started);
    if (!parts || !th || !started) {
        free(parts);
        free(th);
        free(started);
        return px_fail(err, PX_E_NOMEM, "out of memory starting threads");
    }
    for (unsigned t = 0; t < threads; t++) {
        uint32_t g0 = (uint32_t)((uint64_t)groups * t / threads), g1 = (uint32_t)((uint64_t)groups * (t + 1) / threads);
        parts[t] = (part){fn, ctx, g0 * 4, g1 * 4 < rows ? g1 * 4 : rows};
    }
    for (unsigned t = 1; t < threads; t++)
        started[t] = pthread_create(&th[t], NULL, part_main, &parts[t]) == 0;
    part_main(&parts[0]);
    for (unsigned t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(th[t], NULL);
        else
            part_main(&parts[t]);
    }
    free(parts);
    free(th);
    free(started);
    return 0;
}
