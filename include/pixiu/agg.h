/* PIXIU secure aggregation: the aggregator learns the sum of the users'
 * updates and nothing else about any one of them.
 *
 * Pairwise additive masks (Bonawitz et al., CCS 2017) over the sparse
 * neighbour graph of Bell et al. (CCS 2020): user u adds to its quantised
 * update q_u a self mask PRG(b_u) and, for each neighbour v, +PRG(s_uv) if
 * v > u and -PRG(s_uv) if v < u, all in Z_{2^32}. Over the survivors the
 * pairwise masks cancel; the aggregator removes the self masks from Shamir
 * shares of b_u and the pairwise masks shared with dropped users from seeds
 * their surviving neighbours reveal. See docs/secagg.md.
 *
 * The federated-learning stages built on it (docs/fl.md): fl-user, a
 * trust-λ at each POD that trains on the POD's own data, clips and masks
 * its update; fl-agg, the round's aggregator, which unmasks only the
 * survivors' sum, adds discrete Gaussian noise and moves the model.
 *
 * Definitions (ctx = manifest id[32] || round u32le; "||" concatenation):
 *   roster digest   SHA-256(key_0 || ... || key_{n-1}), the users' X25519
 *                   box keys, user index = position in the roster
 *   graph seed      SHA-256("PIXIU-secagg-graph-v1" || manifest || round u32le);
 *                   ring = [0, 1, ..., n-1]; for i = n-1 down to 1 swap
 *                   ring[i] and ring[j], j = w mod (i+1) for the next u32le
 *                   word w of ChaCha20-IETF(graph seed, nonce 0) that is
 *                   below 2^32 - (2^32 mod (i+1)); then, from the same
 *                   words, k/2 distinct offsets d = 1 + (w mod h) with
 *                   h = (n-1)/2 (rounded down; the same rejection, repeats
 *                   skipped); N(u) = the users d places either side of u
 *                   on the ring for each offset d (everyone else when
 *                   k >= n-1): deg = min(k, n-1), symmetric
 *   pairwise seed   s_uv = SHA-256("PIXIU-secagg-pair-v1" || ctx ||
 *                   X25519(sk_u, pk_v) || min(pk_u, pk_v) || max(pk_u, pk_v))
 *   self mask seed  b_u: 32 random bytes, fresh per round
 *   commitment      SHA-256("PIXIU-secagg-self-v1" || ctx || u u32le || b_u)
 *   PRG(seed)       crypto_stream_chacha20_ietf(key = seed, nonce = 0),
 *                   read as dim u32 little-endian words
 *   masked update   y_u = q_u + PRG(b_u) + sum_{v in N(u), v > u} PRG(s_uv)
 *                                        - sum_{v in N(u), v < u} PRG(s_uv)
 *   shares of b_u   Shamir over GF(2^8) (x^8+x^4+x^3+x+1), byte by byte,
 *                   threshold t; the share for neighbour v has
 *                   x = 1 + position of v in N(u) (N(u) ascending)
 *   survivors       bitmap of (n+7)/8 bytes, user i = bit (i % 8) of byte
 *                   i / 8, bits from n on zero; its digest is
 *                   SHA-256("PIXIU-secagg-survivors-v1" || ctx || n u32le || bitmap)
 *
 * Wire formats (integers little-endian; every length checked):
 *   MASKED  "PXSM" 01 00 00 00 | round u32 | index u32 | n u32 | dim u32 |
 *           roster digest[32] | commitment[32] | dim x u32      (88 + 4 dim)
 *   SHARES  "PXSS" 01 00 00 00 | round u32 | index u32 | n u32 |
 *           roster digest[32] | count u32 |
 *           count x { to u32 | sealed share[125] }              (56 + 129 count)
 *           sealed share = crypto_box_seal to roster key `to` of
 *           manifest[32] | round u32 | from u32 | to u32 | x u8 | y[32]
 *   REVEAL  "PXSR" 01 00 00 00 | round u32 | index u32 | n u32 |
 *           roster digest[32] | survivors digest[32] | count u32 |
 *           count x { about u32 | kind u8 | value[32] }         (88 + 37 count)
 *           kind 1: the share y[32] of b_about (about survived);
 *           kind 2: the pairwise seed s_{index,about} (about dropped)
 * Entries are in strictly ascending to/about order. A SHARES has one entry
 * per neighbour; a REVEAL one per neighbour of the revealer, kind 1 for
 * each surviving and kind 2 for each dropped one: never both for one
 * neighbour, and a user answers one survivor set per round.
 *
 * Quantisation: a real update x becomes q_i = round(x_i * scale) as int32
 * two's complement in a uint32; the clip bound is on the L2 norm of q as
 * integers, checked exactly.
 */
#ifndef PIXIU_AGG_H
#define PIXIU_AGG_H

#include <jansson.h>

#include "pixiu/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

#define PX_AGG_N_MAX (1u << 16)   /* users in a roster */
#define PX_AGG_K_MAX 64u          /* neighbours per user */
#define PX_AGG_DIM_MAX (1u << 24) /* words per update */
#define PX_AGG_KEYBYTES 32
#define PX_AGG_SHARE_SEALED 125 /* 77-byte share sealed (+ PX_SEAL_OVERHEAD) */
#define PX_AGG_MASKED_HEADER 88
#define PX_AGG_SHARES_HEADER 56
#define PX_AGG_SHARES_ENTRY (4 + PX_AGG_SHARE_SEALED)
#define PX_AGG_REVEAL_HEADER 88
#define PX_AGG_REVEAL_ENTRY 37
#define PX_AGG_REVEAL_SHARE 1 /* kind: a share of a surviving neighbour's b */
#define PX_AGG_REVEAL_SEED 2  /* kind: the pairwise seed with a dropped neighbour */

/* What every party of one round agrees on (from the manifest). */
typedef struct px_agg_params {
    uint32_t n;             /* users in the roster, 2..PX_AGG_N_MAX */
    uint32_t k;             /* neighbours per user, even, 2..PX_AGG_K_MAX */
    uint32_t t;             /* Shamir threshold: deg/2 < t <= deg, deg = min(k, n-1) */
    uint32_t dim;           /* words per update, 1..PX_AGG_DIM_MAX */
    uint32_t round;
    uint32_t min_survivors; /* fewest survivors unmasked (at least t) */
    uint64_t clip;          /* bound on ||q||_2 in quantised units, n x clip < 2^31 so
                             * the sum cannot wrap as int32; 0: none */
    uint8_t manifest[32];   /* the manifest id */
} px_agg_params;

/* One message of a list handed over (bytes as received; not owned). */
typedef struct px_agg_msg {
    const uint8_t *data;
    size_t len;
} px_agg_msg;

/* ---- parameters, roster, graph --------------------------------------------- */

/* Refuses parameters out of range, naming the field. */
int px_agg_params_check(const px_agg_params *p, px_err *err);
/* deg = min(k, n-1) for checked parameters. */
uint32_t px_agg_params_degree(const px_agg_params *p);
/* SHA-256 of the n keys (roster: n x 32 bytes). Refuses a roster with two
 * equal keys. */
int px_agg_roster_digest(const uint8_t *roster, uint32_t n, uint8_t out[32], px_err *err);
/* N(i) ascending into nbrs (room for PX_AGG_K_MAX), *count = deg. */
int px_agg_neighbours_get(const px_agg_params *p, uint32_t i, uint32_t *nbrs, uint32_t *count,
                          px_err *err);
/* Refuses a bitmap with bits set from n on; *count = survivors. */
int px_agg_survivors_count(const px_agg_params *p, const uint8_t *bitmap, size_t len, uint32_t *count,
                           px_err *err);
int px_agg_survivors_digest(const px_agg_params *p, const uint8_t *bitmap, size_t len, uint8_t out[32],
                            px_err *err);
/* What the aggregator does before asking for reveals: removes from the
 * bitmap, until none is left, each survivor with fewer than t surviving
 * neighbours (its self mask could not be recovered, and it would refuse to
 * reveal); their updates are left out of the sum as if they had dropped.
 * *removed = how many. The bitmap is unchanged on failure. */
int px_agg_survivors_prune(const px_agg_params *p, uint8_t *bitmap, size_t len, uint32_t *removed, px_err *err);

/* ---- quantisation and clipping --------------------------------------------- */

/* q_i = round-half-away(x_i * scale) as int32 in uint32; refuses a scale
 * that is not finite and positive, a non-finite x_i or one out of int32
 * range after scaling, naming the index. */
int px_agg_quantise(const float *x, size_t dim, double scale, uint32_t *q, px_err *err);
/* x_i = (int32)q_i / scale, e.g. of a sum (the caller divides by the
 * number of users for a mean). */
int px_agg_dequantise(const uint32_t *q, size_t dim, double scale, float *x, px_err *err);
/* The bound in quantised units for an L2 clip norm on the reals:
 * floor(clip * scale), so a quantised update within it is within clip up
 * to rounding (at most sqrt(dim)/2 units). */
int px_agg_clip_bound(double clip, double scale, uint64_t *bound, px_err *err);
/* Refuses q (as int32) whose L2 norm exceeds bound: sum of q_i^2 > bound^2,
 * computed exactly in 128-bit integers. */
int px_agg_clip_check(const uint32_t *q, size_t dim, uint64_t bound, px_err *err);

/* ---- the user ---------------------------------------------------------------- */

/* A user's state for one round: its key (wiped on free) and whether it has
 * masked and answered a survivor set. A user λ that cannot keep this object
 * between its steps must keep the same once-only record itself. */
typedef struct px_agg_user px_agg_user;

/* roster: n x 32 bytes, me: this user's index, sk: its X25519 secret key
 * (must match roster key me). Copies what it needs. */
px_agg_user *px_agg_user_new(const px_agg_params *p, const uint8_t *roster, uint32_t me,
                             const uint8_t sk[32], px_err *err);
void px_agg_user_free(px_agg_user *u);
/* Masks q (dim words; checked against p->clip first) with a fresh b_u:
 * appends MASKED to masked and SHARES to shares. Once per user object. */
int px_agg_user_mask(px_agg_user *u, const uint32_t *q, px_buf *masked, px_buf *shares, px_err *err);
/* Answers the aggregator's survivor set: opens the shares addressed to
 * this user among the SHARES messages given (any others' entries are
 * skipped) and appends REVEAL. Refuses (PX_E_STATE) a second request, and
 * (PX_E_DENIED) a set without this user, with too few survivors, or with
 * fewer than t of its neighbours (revealing would expose its masks). */
int px_agg_user_reveal(px_agg_user *u, const uint8_t *survivors, size_t survivors_len,
                       const px_agg_msg *shares, size_t nshares, px_buf *reveal, px_err *err);

/* ---- the aggregator ------------------------------------------------------- */

/* The sum mod 2^32 of the survivors' q into sum[dim]: masked holds one
 * MASKED per survivor, reveals the survivors' REVEALs (one each at most;
 * a missing one is refused only when needed). Refuses too few survivors,
 * a message of another round, roster or survivor set, a missing or
 * inconsistent message, or self-mask shares that do not open the
 * commitment, naming the user. sum is untouched on failure. */
int px_agg_unmask(const px_agg_params *p, const uint8_t *roster, const uint8_t *survivors,
                  size_t survivors_len, const px_agg_msg *masked, size_t nmasked, const px_agg_msg *reveals,
                  size_t nreveals, uint32_t *sum, px_err *err);

/* ---- parsers (structure only; the functions above check the context) ---- */

typedef struct px_agg_masked_view {
    uint32_t round, index, n, dim;
    uint8_t roster[32]; /* roster digest */
    uint8_t commit[32];
    const uint8_t *words; /* dim x u32le, inside the parsed bytes */
} px_agg_masked_view;

typedef struct px_agg_shares_view {
    uint32_t round, index, n, count;
    uint8_t roster[32];
    const uint8_t *entries; /* count x PX_AGG_SHARES_ENTRY */
} px_agg_shares_view;

typedef struct px_agg_reveal_view {
    uint32_t round, index, n, count;
    uint8_t roster[32];
    uint8_t survivors[32]; /* survivors digest */
    const uint8_t *entries; /* count x PX_AGG_REVEAL_ENTRY */
} px_agg_reveal_view;

int px_agg_masked_parse(px_agg_masked_view *v, const uint8_t *data, size_t len, px_err *err);
int px_agg_shares_parse(px_agg_shares_view *v, const uint8_t *data, size_t len, px_err *err);
int px_agg_reveal_parse(px_agg_reveal_view *v, const uint8_t *data, size_t len, px_err *err);
/* Entry i (< count) of a parsed message. */
void px_agg_shares_entry(const px_agg_shares_view *v, uint32_t i, uint32_t *to, const uint8_t **sealed);
void px_agg_reveal_entry(const px_agg_reveal_view *v, uint32_t i, uint32_t *about, uint8_t *kind,
                         const uint8_t **value);

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
