/* PIXIU differential privacy: exact samplers, mechanisms with enforced
 * sensitivity, privacy accounting, and the DP stage of a trust-λ chain.
 *
 * Noise is drawn by exact integer algorithms (Canonne, Kamath, Steinke 2020,
 * "The Discrete Gaussian for Differential Privacy", Algorithms 1-3) from a
 * CSPRNG: no floating-point Laplace or Gaussian is ever sampled, so the
 * Mironov 2012 floating-point attack does not apply. Real-valued task
 * outputs are clamped and rounded to a power-of-two grid first; all
 * arithmetic on the grid is saturating int64.
 *
 * Privacy parameters (ε, δ, ρ) are exact non-negative rationals px_dp_q,
 * parsed from and printed as decimal strings; a spend that is not exactly
 * representable is rounded up, never down. See docs/dp.md.
 *
 * Layout: this header is the generic interface; one source file per
 * sampler (bernoulli.c, laplace.c, gaussian.c) and per mechanism family
 * (mech_sum.c, mech_histogram.c, mech_topk.c) sits behind it.
 */
#ifndef PIXIU_DP_H
#define PIXIU_DP_H

#include "pixiu/crypto.h"

#ifdef __cplusplus
extern "C" {
#endif
/* Everything declared here is libpixiu's API; the rest is hidden. */
#pragma GCC visibility push(default)

/* ---- exact rationals for privacy parameters ------------------------------ */

#define PX_DP_DEC_DIGITS 18 /* most fractional digits parsed or printed */
#define PX_DP_DEC_STR_MAX 48 /* room for any formatted px_dp_q plus NUL */

/* num/den, reduced, den >= 1. */
typedef struct px_dp_q {
    uint64_t num;
    uint64_t den;
} px_dp_q;

/* Build a reduced rational (den must not be 0). */
px_dp_q px_dp_q_make(uint64_t num, uint64_t den);
/* Parse "<digits>[.<digits>]" (at most 18 fractional digits). */
int px_dp_q_parse(px_dp_q *q, const char *s, size_t len, px_err *err);
/* Print as a decimal; exact when the expansion ends within 18 digits,
 * otherwise rounded up at the 18th (so a spend is never understated). */
void px_dp_q_format(px_dp_q q, char out[PX_DP_DEC_STR_MAX]);
int px_dp_q_add(px_dp_q *out, px_dp_q a, px_dp_q b, px_err *err);
int px_dp_q_cmp(px_dp_q a, px_dp_q b); /* -1, 0, 1 */
int px_dp_q_is_zero(px_dp_q q);

/* ---- randomness ----------------------------------------------------------- */

#define PX_DP_RNG_POOL 4096

/* Fills buf with n random bytes. Production code never supplies one: it is
 * the hook through which tests install a seeded generator. */
typedef void (*px_dp_fill_fn)(void *ctx, uint8_t *buf, size_t n);

typedef struct px_dp_rng {
    uint8_t pool[PX_DP_RNG_POOL];
    size_t pos;
    px_dp_fill_fn fill;
    void *ctx;
    uint64_t bits;       /* unused random bits, low first */
    unsigned nbits;
    uint64_t bytes_used; /* random bytes consumed, for accounting in benches */
} px_dp_rng;

/* The CSPRNG (libsodium randombytes) behind a refilled pool. */
void px_dp_rng_init(px_dp_rng *r);
/* Any other byte source; for tests that need reproducible samples. */
void px_dp_rng_init_with(px_dp_rng *r, px_dp_fill_fn fill, void *ctx);
/* Wipe the unused pool. */
void px_dp_rng_wipe(px_dp_rng *r);
uint64_t px_dp_rng_u64(px_dp_rng *r);
/* k (1..32) random bits from the bit reservoir. */
uint32_t px_dp_rng_bits(px_dp_rng *r, unsigned k);
/* Uniform in [0, n), n >= 1, unbiased: rejection on the fewest bits for
 * n <= 2^32, Lemire's multiply-and-reject on 64-bit words above. */
uint64_t px_dp_rng_below(px_dp_rng *r, uint64_t n);

/* ---- exact samplers (CKS20) ---------------------------------------------- */

#define PX_DP_LAPLACE_T_MAX (UINT64_C(1) << 40)  /* scale numerator bound */
#define PX_DP_GAUSS_SIGMA2_MAX (UINT64_C(1) << 62) /* sigma^2 numerator bound */
#define PX_DP_GAUSS_DEN_MAX (UINT64_C(1) << 32)

/* Bernoulli(num/den), num <= den, den >= 1. */
int px_dp_bernoulli(px_dp_rng *r, uint64_t num, uint64_t den);
/* Bernoulli(exp(-num/den)) for any rational num/den >= 0 (Algorithm 1). */
int px_dp_bernoulli_exp(px_dp_rng *r, uint64_t num, uint64_t den);
/* Discrete Laplace with scale t/s: P(x) proportional to exp(-|x| s/t)
 * (Algorithm 2). 1 <= t <= PX_DP_LAPLACE_T_MAX, s >= 1. */
int px_dp_laplace(px_dp_rng *r, uint64_t t, uint64_t s, int64_t *out,
                  px_err *err);
/* Discrete Gaussian with sigma^2 = n/d: P(x) proportional to
 * exp(-x^2 / (2 sigma^2)) (Algorithm 3). 1 <= n <= PX_DP_GAUSS_SIGMA2_MAX,
 * 1 <= d <= PX_DP_GAUSS_DEN_MAX. */
int px_dp_gaussian(px_dp_rng *r, uint64_t n, uint64_t d, int64_t *out,
                   px_err *err);

/* ---- accounting ---------------------------------------------------------- */

typedef enum px_dp_guarantee {
    PX_DP_PURE = 1,   /* ε-DP (δ = 0); also (ε²/2)-zCDP */
    PX_DP_ZCDP = 2,   /* ρ-zCDP, stated with its (ε, δ) conversion */
    PX_DP_APPROX = 3  /* (ε, δ)-DP only (e.g. thresholded histograms) */
} px_dp_guarantee;

/* What one release costs. epsilon/delta are always filled; rho is the zCDP
 * bound for PURE and ZCDP and 0 for APPROX. Every field is an upper bound. */
typedef struct px_dp_spend {
    px_dp_guarantee kind;
    px_dp_q epsilon;
    px_dp_q delta;
    px_dp_q rho;
} px_dp_spend;

/* Bun-Steinke 2016, Proposition 1.3: ρ-zCDP implies (ρ + 2 sqrt(ρ ln(1/δ)),
 * δ)-DP. Result rounded up to 12 decimals and checked in exact arithmetic. */
int px_dp_zcdp_to_eps(px_dp_q rho, px_dp_q delta, px_dp_q *eps, px_err *err);
/* The largest ρ (15 decimals) whose conversion at δ is at most ε. */
int px_dp_eps_to_zcdp(px_dp_q eps, px_dp_q delta, px_dp_q *rho, px_err *err);
/* Compose releases on the same data: the better of basic composition
 * (Σε, Σδ) and zCDP composition (Σρ converted at delta_target, plus the
 * APPROX releases added basically), among those whose total δ does not
 * exceed delta_max. */
int px_dp_compose(const px_dp_spend *s, size_t n, px_dp_q delta_target,
                  px_dp_q delta_max, px_dp_spend *total, px_err *err);

/* ---- noise: the generic mechanism interface ------------------------------ */

typedef enum px_dp_noise_kind {
    PX_DP_NOISE_LAPLACE = 1, /* pure ε-DP, calibrated to L1 sensitivity */
    PX_DP_NOISE_GAUSSIAN = 2 /* ρ-zCDP, calibrated to L2 sensitivity */
} px_dp_noise_kind;

typedef struct px_dp_noise {
    px_dp_noise_kind kind;
    uint64_t a, b; /* Laplace: scale a/b. Gaussian: sigma^2 = a/b. */
} px_dp_noise;

/* Calibrate noise for an integer-valued query with L1 sensitivity l1 (for
 * Laplace) or squared L2 sensitivity l2sq (for Gaussian), spending at most
 * (eps, delta); Gaussian needs delta > 0. Fills *spend with the guarantee
 * the chosen noise really gives. */
int px_dp_noise_calibrate(px_dp_noise *n, px_dp_noise_kind kind, uint64_t l1,
                          uint64_t l2sq, px_dp_q eps, px_dp_q delta,
                          px_dp_spend *spend, px_err *err);
/* Gaussian noise for an explicit ρ (no (ε, δ) target). */
int px_dp_noise_calibrate_rho(px_dp_noise *n, uint64_t l2sq, px_dp_q rho,
                              px_dp_q delta, px_dp_spend *spend, px_err *err);
int px_dp_noise_sample(const px_dp_noise *n, px_dp_rng *r, int64_t *out,
                       px_err *err);
/* x + noise, saturating at the int64 range. */
int px_dp_noise_add(const px_dp_noise *n, px_dp_rng *r, int64_t x,
                    int64_t *out, px_err *err);
const char *px_dp_noise_name(px_dp_noise_kind kind);

/* ---- mechanisms and enforced sensitivity --------------------------------- */

#define PX_DP_MAX_DIM 4096          /* values per user or block vector */
#define PX_DP_MAX_INPUTS (1u << 24) /* users or blocks per release */
#define PX_DP_GRID_MIN (-60)        /* grid step 2^grid */
#define PX_DP_GRID_MAX 60
#define PX_DP_GRID_BOUND (INT64_C(1) << 40) /* |bound| on the grid */
#define PX_DP_AUTO_GRID_BITS 20 /* auto grid: bounds span about 2^20 steps */
#define PX_DP_BLOCKS_MIN 2
#define PX_DP_KEY_MAX 9007199254740992.0 /* 2^53: integer keys held exactly */
#define PX_DP_BLOCK_KEYBYTES 32

typedef enum px_dp_mechanism {
    PX_DP_MECH_COUNT = 1,     /* number of users whose indicator is 1 */
    PX_DP_MECH_SUM = 2,       /* per-coordinate bounded sum */
    PX_DP_MECH_MEAN = 3,      /* per-coordinate bounded mean */
    PX_DP_MECH_HISTOGRAM = 4, /* counts over declared categories */
    PX_DP_MECH_KEYS = 5,      /* counts over undeclared keys, thresholded */
    PX_DP_MECH_TOPK = 6       /* report-noisy-max, k rounds of peeling */
} px_dp_mechanism;

typedef enum px_dp_mode {
    PX_DP_PER_USER = 1,  /* one vector per user, each clamped */
    PX_DP_SAMPLE_AGG = 2 /* one vector per disjoint block of users */
} px_dp_mode;

typedef struct px_dp_config {
    px_dp_mechanism mechanism;
    px_dp_mode mode;
    px_dp_noise_kind noise;
    uint32_t dim;          /* declared values per vector */
    double *lower, *upper; /* dim bounds each; owned */
    int grid;              /* step 2^grid */
    uint32_t max_contrib;  /* L0 limit: nonzero coordinates (or keys) kept */
    uint32_t blocks;       /* sample-and-aggregate: declared block count */
    uint32_t k;            /* top-k */
    px_dp_q epsilon, delta;
    px_dp_q rho;           /* explicit ρ for Gaussian noise, or 0 */
} px_dp_config;

/* Parse the DP stage configuration (JSON, see docs/dp.md); strict: unknown
 * members, wrong types and inconsistent values are refused. */
int px_dp_config_parse(px_dp_config *c, const void *json, size_t len,
                       px_err *err);
void px_dp_config_free(px_dp_config *c);
/* What a release under this config will state as its spend, known before
 * any data is seen: a POD can charge exactly this at admission. */
int px_dp_config_spend(const px_dp_config *c, px_dp_spend *s, px_err *err);
const char *px_dp_mechanism_name(px_dp_mechanism m);

/* What enforcement did to the inputs: the stage's proof states it. */
typedef struct px_dp_enforced {
    uint64_t inputs;           /* vectors received */
    uint64_t used;             /* vectors that contributed */
    uint64_t rejected_decode;  /* not a well-formed PXV1 vector: dropped */
    uint64_t rejected_length;  /* more or fewer values than declared: dropped */
    uint64_t rejected_nan;     /* contained NaN: dropped */
    uint64_t rejected_values;  /* keys: single values refused (non-integer) */
    uint64_t clamped;          /* values moved to a bound (incl. ±inf) */
    uint64_t infinite;         /* of which were ±inf */
    uint64_t negative_zero;    /* -0.0 read as 0 */
    uint64_t limited;          /* vectors cut to max_contrib */
    uint64_t blocks_missing;   /* sample-and-aggregate: replaced by default */
    uint64_t saturated;        /* sums that hit the int64 range */
} px_dp_enforced;

typedef struct px_dp_result {
    double *values; /* released vector; owned (free()) */
    uint32_t n;
    px_dp_spend spend;
    px_dp_enforced enforced;
    px_dp_noise noise; /* noise used for the main query */
} px_dp_result;

/* One input vector (borrowed): already decoded values. n ==
 * PX_DP_VEC_UNDECODABLE marks an input that was not a well-formed vector
 * (counted and dropped, or replaced for a block). */
#define PX_DP_VEC_UNDECODABLE UINT32_MAX
typedef struct px_dp_vec {
    const double *v;
    uint32_t n;
} px_dp_vec;

/* Run the configured mechanism over n vectors (per user, or per block in
 * block order). rng is the noise source (px_dp_rng_init for releases). */
int px_dp_release(const px_dp_config *c, const px_dp_vec *in, size_t n,
                  px_dp_rng *rng, px_dp_result *res, px_err *err);
void px_dp_result_free(px_dp_result *res);

/* Sample-and-aggregate: the block (0..nblocks-1) of a user, by BLAKE2b keyed
 * with a per-task key, so nobody can steer chosen users into one block. */
int px_dp_block_of(const uint8_t key[PX_DP_BLOCK_KEYBYTES], const void *user,
                   size_t len, uint32_t nblocks, uint32_t *block, px_err *err);

/* ---- the DP stage -------------------------------------------------------- */

/* The trusted built-in DP stage: config JSON plus the PXV1 vectors of the
 * users (or blocks, in order) in; the noised PXV1 vector appended to out and
 * the proof's "dp" predicate object (new reference) out. Malformed vectors
 * are dropped and counted, never fatal; a bad config is. */
int px_dp_stage(const void *config, size_t config_len,
                const px_buf *vectors, size_t n, px_buf *out,
                json_t **predicate, px_err *err);
/* The same over a parsed config and decoded vectors (an entry with n ==
 * PX_DP_VEC_UNDECODABLE counts as unusable). */
int px_dp_stage_vecs(const px_dp_config *c, const px_dp_vec *in, size_t n,
                     px_buf *out, json_t **predicate, px_err *err);
/* The "dp" predicate member for a result: mechanism, ε, δ, ρ as decimal
 * strings, and the enforcement counts. */
json_t *px_dp_predicate(const px_dp_config *c, const px_dp_result *res,
                        px_err *err);

/* The same stage as a trust-λ stage kind "dp" (pixiu/lambda.h): params are
 * the config above; each input is the tagged-vector stream (PXT1) of a
 * per-user map stage. Registered in the worker's stage table. */
struct px_stage_kind;
extern const struct px_stage_kind px_dp_stage_kind;

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
