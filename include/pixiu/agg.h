/* PIXIU secure aggregation and federated learning (src/agg/).
 *
 * The federated-learning stages (docs/fl.md): fl-user, a trust-λ at each
 * POD that runs the consumer's training code on the POD's own data, clips
 * its update and masks it pairwise with the other users of the round; and
 * fl-agg, the round's aggregator, which removes the masks from the sum of
 * the survivors' updates only, adds discrete Gaussian noise and moves the
 * model. The masking protocol is in docs/secagg.md.
 */
#ifndef PIXIU_AGG_H
#define PIXIU_AGG_H

#include <jansson.h>
#include <stdint.h>

#include "pixiu/core.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default)

/* ---- the federated-learning stages' config ------------------------------ */

#define PX_AGG_FL_MAX_DIM (1u << 20)
#define PX_AGG_FL_MAX_SCALE (1u << 24)

/* What fl-user and fl-agg read from their params (docs/fl.md, "Params"):
 * the model's dimension, the fixed-point scale of updates, the L2 clip
 * bound (as a decimal, and as an integer bound on the quantised update),
 * the mask graph's degree and the share threshold; fl-agg also the fewest
 * survivors it unmasks, the training's rounds and its (epsilon, delta). */
typedef struct px_agg_fl_config {
    uint32_t dim, scale, neighbors, threshold;
    uint64_t clip_q; /* floor(clip * scale): the bound on ||q||_2 */
    char clip[PX_DECIMAL_MAX + 1];
    int agg; /* the fl-agg form: the members below are set */
    uint32_t min_survivors, rounds;
    char epsilon[PX_DECIMAL_MAX + 1], delta[PX_DECIMAL_MAX + 1];
} px_agg_fl_config;

/* Parse params strictly (agg = 1 for fl-agg's form); every member names
 * its bound in the error. */
int px_agg_fl_config_parse(px_agg_fl_config *c, const json_t *params, int agg, px_err *err);
/* 1 if both read the same dim, scale, clip, neighbors and threshold. */
int px_agg_fl_config_same(const px_agg_fl_config *a, const px_agg_fl_config *b);

/* The stage kinds (registered in the worker's table). */
struct px_stage_kind;
extern const struct px_stage_kind px_agg_fl_user_kind;
extern const struct px_stage_kind px_agg_fl_agg_kind;

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
