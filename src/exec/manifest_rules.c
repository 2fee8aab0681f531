/* The rules that tie a manifest's stages together, checked when the
 * manifest is parsed (and so before it is signed, admitted or run). Each
 * one closes a way for a consumer to get more out of the data than the DP
 * stage's ε says (docs/manifest.md, "Rules between stages"). Every
 * refusal names the rule and the stage. */
#include <string.h>

#include "exec/util.h"

#define PX_ZERO_DIGEST_HEX "0000000000000000000000000000000000000000000000000000000000000000"
#include "pixiu/agg.h"
#include "pixiu/dp.h"
#include "pixiu/lambda.h"
#include "pixiu/pir.h"

#define MAP_PER_USER "per-user"
#define MAP_SAMPLE_AGG "sample-and-aggregate"

/* What the DP stage's own config says: dim, mode and blocks. Parsed with
 * the DP stage's parser, so the manifest and the stage read one config. */
typedef struct dp_shape {
    uint32_t dim, blocks;
    px_dp_mode mode;
} dp_shape;

static int dp_shape_read(const px_stage_spec *s, size_t i, dp_shape *out, px_err *err) {
    px_buf b = PX_BUF_INIT;
    px_dp_config c;
    if (!s->params)
        return px_fail(err, PX_E_INVALID, "stage %zu (dp): needs \"params\" (the DP stage's config)", i);
    if (px_json_dump(s->params, &b, err))
        return -1;
    int rc = px_dp_config_parse(&c, b.data, b.len, err);
    px_buf_free(&b);
    if (rc)
        return px_err_prefix(err, "stage %zu (dp): params: ", i);
    *out = (dp_shape){c.dim, c.blocks, c.mode};
    px_dp_config_free(&c);
    return 0;
}

/* A dp stage runs as one instance: each partition would release its own
 * noisy answer about the same users, spending ε once per partition while
 * every POD was charged ε once. */
static int dp_one_partition(const px_stage_spec *s, size_t i, px_err *err) {
    if (s->partitions != 1)
        return px_fail(err, PX_E_INVALID,
                       "stage %zu (dp): a dp stage has exactly one partition, not %u: its partitions would each "
                       "spend epsilon on the same users", i, s->partitions);
    return 0;
}

/* An optional positive integer param of a wasm stage. */
static int param_u32(const json_t *p, const char *key, size_t i, uint32_t max, uint32_t *out, px_err *err) {
    json_t *v = p ? json_object_get(p, key) : NULL;
    *out = 0;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > (json_int_t)max)
        return px_fail(err, PX_E_INVALID, "stage %zu (wasm): params.%s must be an integer from 1 to %u", i, key, max);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* The wasm stage right before a dp stage is the map that gives the DP
 * stage one bounded vector per user (or per block): the host runs the
 * task per user, so no task code decides how many vectors a user gets. A
 * gather stage may stand between POD-side maps and the dp stage: it only
 * joins their streams (stage_gather.c). */
static int map_feeds_dp(const px_manifest *m, size_t d, const dp_shape *dp, px_err *err) {
    size_t w = d - 1;
    if (d >= 2 && m->stages[w].kind == PX_STAGE_GATHER)
        w = d - 2;
    const px_stage_spec *s = d ? &m->stages[w] : NULL;
    const char *map = NULL;
    if (s && s->kind == PX_STAGE_WASM && s->params)
        map = json_string_value(json_object_get(s->params, "map"));
    if (!map)
        return px_fail(err, PX_E_INVALID,
                       "stage %zu (dp): the stage before a dp stage must be a wasm map stage with params.map \""
                       MAP_PER_USER "\" or \"" MAP_SAMPLE_AGG "\" (or a gather stage after one)", d);
    uint32_t dim, blocks;
    if (param_u32(s->params, "dim", w, PX_DP_MAX_DIM, &dim, err) ||
        param_u32(s->params, "blocks", w, PX_DP_MAX_INPUTS, &blocks, err))
        return -1;
    if (dim == 0)
        return px_fail(err, PX_E_INVALID, "stage %zu (wasm): a map stage needs params.dim (values per vector, the "
                       "dp stage's dim %u)", w, dp->dim);
    if (dim != dp->dim)
        return px_fail(err, PX_E_INVALID, "stage %zu (wasm): params.dim %u is not the dim %u of the dp stage %zu",
                       w, dim, dp->dim, d);
    int sa = !strcmp(map, MAP_SAMPLE_AGG);
    if (!sa && strcmp(map, MAP_PER_USER))
        return px_fail(err, PX_E_INVALID, "stage %zu (wasm): params.map \"%.40s\" is not \"" MAP_PER_USER
                       "\" or \"" MAP_SAMPLE_AGG "\"", w, map);
    if (sa != (dp->mode == PX_DP_SAMPLE_AGG))
        return px_fail(err, PX_E_INVALID, "stage %zu (wasm): params.map \"%s\" does not match the mode of the dp "
                       "stage %zu", w, map, d);
    if (!sa) {
        if (blocks)
            return px_fail(err, PX_E_INVALID, "stage %zu (wasm): params.blocks is only for a \"" MAP_SAMPLE_AGG
                           "\" map", w);
        return 0;
    }
    if (blocks < PX_DP_BLOCKS_MIN)
        return px_fail(err, PX_E_INVALID, "stage %zu (wasm): a \"" MAP_SAMPLE_AGG "\" map needs params.blocks >= %d",
                       w, PX_DP_BLOCKS_MIN);
    if (blocks != dp->blocks)
        return px_fail(err, PX_E_INVALID, "stage %zu (wasm): params.blocks %u is not the blocks %u of the dp stage "
                       "%zu", w, blocks, dp->blocks, d);
    /* A block is one run over all its users: a stage split into
     * partitions would split blocks, and one block would give the DP
     * stage several vectors. */
    for (size_t k = 0; k < d; k++)
        if (m->stages[k].partitions != 1)
            return px_fail(err, PX_E_INVALID, "stage %zu (%s): " MAP_SAMPLE_AGG " needs one partition in every "
                           "stage before the dp stage, not %u (a split block would give the dp stage several "
                           "vectors)", k, px_manifest_kind_name(m->stages[k].kind), m->stages[k].partitions);
    return 0;
}

/* Per-user sensitivity needs to know who a record is about. */
static int datasets_name_users(const px_manifest *m, px_err *err) {
    for (size_t i = 0; i < m->ndatasets; i++)
        if (m->datasets[i].schema.user_field == PX_NO_USER_FIELD)
            return px_fail(err, PX_E_INVALID, "dataset \"%s\": a task with a dp stage needs the schema's \"user\" "
                           "field (the map groups records by user)", m->datasets[i].name);
    return 0;
}

/* A pir stage serves one table one POD releases (docs/pir.md): it is the
 * task's only stage, in one partition, over one dataset at one POD, and its
 * params name the DP result it must serve (checked by the stage's own
 * check, as the worker will at birth). */
static int pir_rules(const px_manifest *m, px_err *err) {
    const px_stage_spec *s = &m->stages[0];
    if (m->nstages != 1)
        return px_fail(err, PX_E_INVALID, "a pir stage is the only stage of its task (it serves a table a POD "
                       "releases), not one of %zu", m->nstages);
    if (s->partitions != 1)
        return px_fail(err, PX_E_INVALID, "stage 0 (pir): a pir stage has exactly one partition, not %u",
                       s->partitions);
    if (m->ndatasets != 1 || m->datasets[0].npods != 1)
        return px_fail(err, PX_E_INVALID, "stage 0 (pir): a pir task reads one table dataset at one POD");
    if (px_pir_stage_kind.check(s->params, err))
        return px_err_prefix(err, "stage 0 (pir): ");
    return 0;
}

/* A gather joins the tagged streams of POD-side maps for one dp stage. */
static int gather_rules(const px_manifest *m, size_t i, px_err *err) {
    const px_stage_spec *s = &m->stages[i];
    if (s->params && json_object_size(s->params))
        return px_fail(err, PX_E_INVALID, "stage %zu (gather): takes no params", i);
    if (i == 0 || !m->stages[i - 1].at_pod || m->stages[i - 1].kind != PX_STAGE_WASM)
        return px_fail(err, PX_E_INVALID, "stage %zu (gather): the stage before a gather must be a wasm map "
                       "at the PODs (\"at\": \"pod\")", i);
    if (i + 1 >= m->nstages || m->stages[i + 1].kind != PX_STAGE_DP)
        return px_fail(err, PX_E_INVALID, "stage %zu (gather): the stage after a gather must be a dp stage", i);
    return 0;
}

/* Stages at PODs (docs/executor.md): a prefix of the chain, of kinds a POD
 * can host, one instance per POD (no partitions), the data never leaving
 * them but through the stage after them, which collects one input per POD
 * in each of its partitions. */
static int pod_rules(const px_manifest *m, px_err *err) {
    uint32_t k = px_manifest_pod_stages(m);
    for (size_t i = k; i < m->nstages; i++)
        if (m->stages[i].at_pod)
            return px_fail(err, PX_E_INVALID, "stage %zu (%s) is at the PODs after stage %u, which is not: stages at "
                           "PODs come first (data that left a POD does not go back)", i,
                           px_manifest_kind_name(m->stages[i].kind), k ? k - 1 : 0);
    if (k == 0)
        return 0;
    for (size_t i = 0; i < k; i++) {
        const px_stage_spec *s = &m->stages[i];
        if (s->kind != PX_STAGE_PROVER && s->kind != PX_STAGE_WASM && s->kind != PX_STAGE_FL_USER)
            return px_fail(err, PX_E_INVALID, "stage %zu: kind \"%s\" cannot run at a POD (prover, wasm and fl-user "
                           "can)", i, px_manifest_kind_name(s->kind));
        if (s->partitions != 1)
            return px_fail(err, PX_E_INVALID, "stage %zu (%s) is at the PODs: it has one instance per POD, not "
                           "\"partitions\"", i, px_manifest_kind_name(s->kind));
        const char *map = s->params ? json_string_value(json_object_get(s->params, "map")) : NULL;
        if (map && strcmp(map, MAP_PER_USER))
            return px_fail(err, PX_E_INVALID, "stage %zu (wasm) is at the PODs: its map must be \"" MAP_PER_USER
                           "\" (each POD's blocks would each reach the dp stage)", i);
        if (s->params && json_object_get(s->params, "deliver") && i + 1 != k)
            return px_fail(err, PX_E_INVALID, "stage %zu (wasm): only the last stage at the PODs delivers", i);
    }
    if (k == m->nstages)
        return px_fail(err, PX_E_INVALID, "every stage is at the PODs: a stage on an executor must collect what "
                       "they send");
    /* A step names at most PX_LAMBDA_MAX_INPUTS inputs in its statements. */
    const px_stage_spec *c = &m->stages[k];
    size_t npods = px_manifest_pod_count(m), each = (npods + c->partitions - 1) / c->partitions;
    if (each > PX_LAMBDA_MAX_INPUTS)
        return px_fail(err, PX_E_INVALID, "stage %u (%s) would collect %zu POD-side outputs in one step; a step takes "
                       "at most %d: give it (or a gather stage before the dp stage) at least %zu partitions", k,
                       px_manifest_kind_name(c->kind), each, PX_LAMBDA_MAX_INPUTS,
                       (npods + PX_LAMBDA_MAX_INPUTS - 1) / PX_LAMBDA_MAX_INPUTS);
    return 0;
}

/* A wasm stage's params are checked here as its worker will at birth, so
 * a manifest that cannot run is refused before anything is recruited or
 * charged. A map's "pseudonym" is the dispatcher's to add (the commitment
 * to the task key); a placeholder stands for it here. */
static int wasm_params_rules(const px_stage_spec *s, size_t i, px_err *err) {
    if (!s->params)
        return 0;
    json_t *p = json_deep_copy(s->params);
    if (!p)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    int rc = 0;
    if (json_object_get(p, "map") && !json_object_get(p, "pseudonym"))
        rc = json_object_set_new(p, "pseudonym", json_string(PX_ZERO_DIGEST_HEX));
    if (rc)
        px_fail(err, PX_E_NOMEM, "out of memory");
    else if (px_lambda_wasm_kind.check(p, err))
        rc = px_err_prefix(err, "stage %zu (wasm): ", i);
    json_decref(p);
    return rc;
}

/* Rule 10 (docs/fl.md): a round of a training is [prover at the PODs...]
 * fl-user at the PODs, then fl-agg on an executor, last, in one partition;
 * the two read one secure-aggregation config, and the aggregator spends the
 * training's (epsilon, delta) over exactly the training's rounds. */
static int fl_rules(const px_manifest *m, px_err *err) {
    size_t nuser = 0, nagg = 0, u = 0, a = 0;
    for (size_t i = 0; i < m->nstages; i++) {
        if (m->stages[i].kind == PX_STAGE_FL_USER)
            nuser++, u = i;
        if (m->stages[i].kind == PX_STAGE_FL_AGG)
            nagg++, a = i;
    }
    if (!m->has_training)
        return nuser || nagg ? px_fail(err, PX_E_INVALID, "stage %zu (%s): fl-user and fl-agg stages run only in a "
                                       "round of a training (the manifest's \"training\")", nuser ? u : a,
                                       nuser ? "fl-user" : "fl-agg")
                             : 0;
    if (nuser != 1 || nagg != 1)
        return px_fail(err, PX_E_INVALID, "a training round has one fl-user and one fl-agg stage, not %zu and %zu",
                       nuser, nagg);
    if (!m->stages[u].at_pod || u + 1 != px_manifest_pod_stages(m))
        return px_fail(err, PX_E_INVALID, "stage %zu (fl-user) runs at the PODs, as their last stage", u);
    for (size_t i = 0; i < u; i++)
        if (m->stages[i].kind != PX_STAGE_PROVER)
            return px_fail(err, PX_E_INVALID, "stage %zu (%s): before fl-user a round has only prover stages", i,
                           px_manifest_kind_name(m->stages[i].kind));
    if (a != u + 1 || a + 1 != m->nstages)
        return px_fail(err, PX_E_INVALID, "stage %zu (fl-agg) comes right after fl-user and is the last stage", a);
    const px_stage_spec *sa = &m->stages[a];
    if (sa->partitions != 1)
        return px_fail(err, PX_E_INVALID, "stage %zu (fl-agg) has exactly one partition, not %u: it alone sees the "
                       "round's sum", a, sa->partitions);
    if (strcmp(sa->mechanism, "gaussian"))
        return px_fail(err, PX_E_INVALID, "stage %zu (fl-agg): dp mechanism \"%s\" is not \"gaussian\"", a,
                       sa->mechanism);
    px_agg_fl_config cu, ca;
    if (px_agg_fl_config_parse(&cu, m->stages[u].params, 0, err))
        return px_err_prefix(err, "stage %zu (fl-user): ", u);
    if (px_agg_fl_config_parse(&ca, sa->params, 1, err))
        return px_err_prefix(err, "stage %zu (fl-agg): ", a);
    if (!px_agg_fl_config_same(&cu, &ca))
        return px_fail(err, PX_E_INVALID, "stages %zu and %zu: fl-user and fl-agg params differ in dim, scale, clip, "
                       "neighbors or threshold", u, a);
    if (ca.rounds != m->training.rounds)
        return px_fail(err, PX_E_INVALID, "stage %zu (fl-agg): params.rounds %u is not the training's %u rounds", a,
                       ca.rounds, m->training.rounds);
    size_t npods = px_manifest_pod_count(m);
    if (npods < ca.min_survivors)
        return px_fail(err, PX_E_INVALID, "stage %zu (fl-agg): min_survivors %u is more than the %zu PODs", a,
                       ca.min_survivors, npods);
    return 0;
}

int px_manifest_rules(const px_manifest *m, px_err *err) {
    int has_dp = 0;
    for (size_t i = 0; i < m->nstages; i++)
        if ((m->stages[i].kind == PX_STAGE_GATHER && gather_rules(m, i, err)) ||
            (m->stages[i].kind == PX_STAGE_PIR && (i ? px_fail(err, PX_E_INVALID, "stage %zu: a pir stage is the "
                                                               "only stage of its task", i)
                                                     : pir_rules(m, err))))
            return -1;
    if (pod_rules(m, err) || fl_rules(m, err))
        return -1;
    for (size_t d = 0; d < m->nstages; d++) {
        const px_stage_spec *s = &m->stages[d];
        if (s->kind != PX_STAGE_DP)
            continue;
        dp_shape shape = {0};
        has_dp = 1;
        if (dp_one_partition(s, d, err) || dp_shape_read(s, d, &shape, err) || map_feeds_dp(m, d, &shape, err))
            return -1;
    }
    for (size_t i = 0; i < m->nstages; i++)
        if (m->stages[i].kind == PX_STAGE_WASM && wasm_params_rules(&m->stages[i], i, err))
            return -1;
    return has_dp ? datasets_name_users(m, err) : 0;
}
