/* Internals of the federated-learning stages (src/agg): the blocks they
 * read and write (fl_wire.c). Layouts in docs/formats.md. */
#ifndef PX_AGG_FL_INT_H
#define PX_AGG_FL_INT_H

#include <stdlib.h>

#include "pixiu/agg.h"
#include "pixiu/crypto.h"

#define PX_FL_MODEL_MAGIC "PXFM"
#define PX_FL_UPDATE_MAGIC "PXFU"
#define PX_FL_BROADCAST_MAGIC "PXFB"
#define PX_FL_REVEALS_MAGIC "PXFR"
#define PX_FL_REQUEST_MAGIC "PXFQ"
#define PX_FL_MODEL_HEADER 24u  /* magic, version, dim, round, seed u64 */
#define PX_FL_UPDATE_HEADER 12u /* magic, version, dim */
#define PX_FL_REVEAL_MAX (1u << 16)
#define PX_FL_OP_SHARES 1
#define PX_FL_OP_REVEAL 2

typedef struct px_fl_model {
    uint32_t dim, round;
    uint64_t seed;
    float *w; /* owned */
} px_fl_model;

int px_fl_model_parse(px_fl_model *m, const uint8_t *p, size_t len, px_err *err);
int px_fl_model_write(px_buf *out, const float *w, uint32_t dim, uint32_t round, uint64_t seed, px_err *err);
void px_fl_model_free(px_fl_model *m);
/* x: room for dim floats. */
int px_fl_update_parse(float *x, uint32_t dim, const uint8_t *p, size_t len, px_err *err);

/* Views into the parsed bytes (borrowed). */
typedef struct px_fl_broadcast {
    uint32_t round, n, index;
    const uint8_t *roster; /* n x 32 */
    const uint8_t *model;  /* a PXFM block */
    size_t model_len;
} px_fl_broadcast;

int px_fl_broadcast_write(px_buf *out, uint32_t round, const uint8_t *roster, uint32_t n, uint32_t index,
                          const uint8_t *model, size_t model_len, px_err *err);
int px_fl_broadcast_parse(px_fl_broadcast *b, const uint8_t *p, size_t len, px_err *err);

typedef struct px_fl_reveals {
    uint32_t n, count;
    const uint8_t *roster;  /* n x 32 */
    const uint8_t *entries; /* walk with px_fl_reveals_next */
} px_fl_reveals;

typedef struct px_fl_reveal {
    const uint8_t *sign_pk, *req_hash, *resp, *sig;
    size_t resp_len;
} px_fl_reveal;

int px_fl_reveals_begin(px_buf *out, const uint8_t *roster, uint32_t n, uint32_t count, px_err *err);
int px_fl_reveals_add(px_buf *out, const uint8_t sign_pk[32], const uint8_t req_hash[32], const uint8_t *resp,
                      size_t resp_len, const uint8_t sig[64], px_err *err);
int px_fl_reveals_parse(px_fl_reveals *r, const uint8_t *p, size_t len, px_err *err);
/* One entry at `entry` (inside a parsed PXFR); returns its size. */
size_t px_fl_reveals_next(const uint8_t *entry, px_fl_reveal *out);

#endif
