/* The per-user map: how a `wasm` stage that feeds a DP stage bounds what one
 * person contributes. The platform, not the task, decides what a user is:
 * records are grouped by the stream's user field, the task runs once per
 * user (or per block of users) with fresh memory, and each run yields at
 * most one vector, tagged with a keyed pseudonym. Internal to the lambda
 * module; the formats are in docs/formats.md, the reasoning in docs/dp.md. */
#ifndef PX_LAMBDA_STAGE_MAP_H
#define PX_LAMBDA_STAGE_MAP_H

#include "pixiu/lambda.h"
#include "pixiu/records.h"
#include "pixiu/sandbox.h"

typedef enum px_map_mode {
    PX_MAP_NONE = 0,   /* the task runs once over its whole input */
    PX_MAP_PER_USER,   /* once per user */
    PX_MAP_SAMPLE_AGG  /* once per block of users */
} px_map_mode;

/* A map's runs together: at most this much CPU, whatever the user count
 * (each run's limit shrinks to fit). */
#define PX_MAP_TOTAL_CPU_MS_MAX 3000000u

#define PX_MAP_BLOCKS_MIN 2
#define PX_MAP_BLOCKS_MAX 65536

typedef struct px_map_params {
    px_map_mode mode;
    uint32_t dim;    /* values per vector */
    uint32_t blocks; /* sample-and-aggregate */
    uint8_t pseudonym[PX_SHA256_BYTES]; /* commitment to the task key */
    /* A delivering map (params "deliver", docs/lambda.md): the content's
     * SHA-256 and the fixed size of the delivery's content area. */
    int deliver;
    uint8_t content[PX_SHA256_BYTES];
    uint32_t content_bytes;
} px_map_params;

/* Read "map", "dim", "blocks" and "pseudonym" from a wasm stage's params
 * (mode PX_MAP_NONE when "map" is absent, and then none of the others may
 * be there). */
int px_map_params_read(const json_t *params, px_map_params *mp, px_err *err);

/* Every group's PXR1 stream back to back, and where each starts. */
typedef struct px_map_groups {
    px_buf streams;
    size_t *off, *len;
    uint8_t (*tag)[PX_TAG_BYTES];
    int *empty; /* sample-and-aggregate: a block no user fell into */
    size_t n;
    uint64_t records;
} px_map_groups;

/* Group the records of the inputs (PXR1 streams of one schema with a user
 * field) by user or block under the task key. */
int px_map_group(const px_stage_input *in, size_t nin, const px_map_params *mp,
                 const uint8_t key[PX_TASK_KEY_BYTES], px_map_groups *g, px_err *err);
void px_map_groups_free(px_map_groups *g);

/* The tagged-vector output: entry i is present when run i ended ok with
 * exactly one PXV1 vector of dim values on its standard output. */
int px_map_collect(const px_map_groups *g, const px_map_params *mp, const px_buf *out,
                   const px_sandbox_run_out *runs, px_buf *tagged, px_err *err);

/* A delivering map's output: entry i is present with the value 1 when run
 * i wrote exactly the vector [1] (the user matches), else 0; the platform,
 * not the task, writes the values, so the count is of matches. *matched
 * says whether any user matched. */
int px_map_collect_matches(const px_map_groups *g, const px_buf *out, const px_sandbox_run_out *runs,
                           px_buf *tagged, int *matched, px_err *err);

/* The delivery payload (docs/formats.md): "PXD1" || u8 delivered || u32le
 * length || content || zeros, 9 + content_bytes bytes either way. */
int px_map_delivery(px_buf *out, const px_map_params *mp, const uint8_t *content, size_t len, int delivered,
                    px_err *err);

#endif
