/* The `wasm` stage: the consumer's task code, run in the sandbox.
 *
 * The code arrives sealed to the instance and has already been checked
 * against the attested code digest when this runs. Without "map" the stage
 * takes exactly one input (the records or vector the task reads on stdin)
 * and its output is whatever the task writes on stdout. With "map" it is a
 * per-user map (stage_map.h): the task runs once per user or block and the
 * output is one tagged entry per run. Params: map, dim, blocks, pseudonym,
 * deliver;
 * each run's limits are the config's "limits" (px_limits).
 * The sandbox's outcome becomes the proof's status; the two outcomes the
 * proof format has no name for are mapped, and the reason keeps the
 * sandbox's own name: "exit" (the task exited non-zero) -> trap,
 * "output-limit" -> memory-limit. */
#include <string.h>

#include "lambda/stage_map.h"

/* A map's runs together: at most this much CPU, whatever the user count. */
#define MAP_TOTAL_CPU_MS_MAX PX_MAP_TOTAL_CPU_MS_MAX
/* CPU a run may take beyond its task's limit: instance reset and output. */
#define MAP_RUN_MARGIN_MS 50u

/* Params say what the stage computes ("map", "dim", "blocks", "pseudonym");
 * what the task may use is the stage's "limits", never a param. */
static int wasm_check(const json_t *params, px_err *err) {
    static const char *const names[] = {"map", "dim", "blocks", "pseudonym", "deliver", NULL};
    const char *key;
    json_t *v;
    px_map_params mp;
    json_object_foreach((json_t *)params, key, v) {
        if (px_limits_name(key))
            return px_fail(err, PX_E_INVALID,
                           "params: %s is a limit: it goes in the stage's \"limits\" (docs/manifest.md, \"Limits\")",
                           key);
    }
    if (px_json_only(params, "params", names, err) || px_map_params_read(params, &mp, err))
        return -1;
    return 0;
}


static int fail(px_stage_out *out, const char *status) {
    out->status = status;
    return -1;
}

/* The task key must be the one the attested params commit to: otherwise
 * a consumer could give each partition its own key and one user two tags. */
static int map_key(const px_stage_ctx *ctx, const px_map_params *mp, px_err *err) {
    uint8_t c[PX_SHA256_BYTES];
    if (!ctx->task_key)
        return px_fail(err, PX_E_INVALID, "a map stage needs the task key sealed with its code");
    px_task_key_commit(c, ctx->task_key);
    if (!px_ct_equal(c, mp->pseudonym, sizeof c))
        return px_fail(err, PX_E_VERIFY, "the task key does not match the attested \"pseudonym\" commitment");
    return 0;
}

/* Never more users than the producers attested (when they all did). */
static int map_users_check(const px_stage_ctx *ctx, const px_map_groups *g, const px_map_params *mp, px_err *err) {
    uint64_t attested = 0;
    for (size_t i = 0; i < ctx->ninputs; i++) {
        if (!ctx->inputs[i].producer_has_users)
            return 0;
        attested += ctx->inputs[i].producer_users;
    }
    if (mp->mode == PX_MAP_PER_USER && g->n > attested)
        return px_fail(err, PX_E_INVALID, "%zu users in the input, but its producers attested %llu", g->n,
                       (unsigned long long)attested);
    return 0;
}

/* The content a delivering map delivers must be the one its attested
 * params name (the consumer signed its digest in the manifest). */
static int content_check(const px_stage_ctx *ctx, const px_map_params *mp, px_err *err) {
    uint8_t d[PX_SHA256_BYTES];
    if (!ctx->content)
        return px_fail(err, PX_E_INVALID, "a delivering map stage needs the content sealed with its code");
    px_sha256(d, ctx->content, ctx->content_len);
    if (!px_ct_equal(d, mp->content, sizeof d))
        return px_fail(err, PX_E_VERIFY, "the content does not match the attested params.deliver.content");
    if (ctx->content_len > mp->content_bytes)
        return px_fail(err, PX_E_INVALID, "content of %zu bytes exceeds params.deliver.bytes %u", ctx->content_len,
                       mp->content_bytes);
    return 0;
}

/* What a map's runs leave: its tagged stream and, when it delivers, the
 * delivery, the same size matched or not. */
static int map_outputs(const px_stage_ctx *ctx, const px_map_groups *g, const px_map_params *mp, const px_buf *raw,
                       const px_sandbox_run_out *runs, px_stage_out *out, px_err *err) {
    if (!mp->deliver)
        return px_map_collect(g, mp, raw, runs, &out->output, err);
    int matched = 0;
    return px_map_collect_matches(g, raw, runs, &out->output, &matched, err) ||
                   px_map_delivery(&out->delivery, mp, ctx->content, ctx->content_len, matched, err)
               ? -1
               : 0;
}

static int map_run(const px_stage_ctx *ctx, const px_map_params *mp, const px_sandbox *sb,
                   const px_sandbox_limits *lim, px_stage_out *out, px_err *err) {
    px_map_groups g;
    if (map_key(ctx, mp, err))
        return fail(out, PX_STATUS_BAD_INPUT);
    if (mp->deliver && content_check(ctx, mp, err))
        return fail(out, PX_STATUS_BAD_INPUT);
    if (px_map_group(ctx->inputs, ctx->ninputs, mp, ctx->task_key, &g, err) || map_users_check(ctx, &g, mp, err))
        return fail(out, err && err->code == PX_E_NOMEM ? PX_STATUS_INTERNAL : PX_STATUS_BAD_INPUT);
    /* A run's output counts only as one vector of dim values: stop a run
     * the moment it writes more (output-limit ends that run alone). */
    px_sandbox_limits run_lim = *lim;
    run_lim.max_output = 8 + 8 * (size_t)mp->dim;
    lim = &run_lim;
    /* The batch's CPU bound must never be what ends it: a task could then
     * fail the whole step, in public, by how long it computes for chosen
     * users. So each run's limit shrinks to fit the bound (a choice made
     * from the number of users alone), and the batch's bound leaves every
     * run its full limit plus a margin for the runner's own work. */
    uint64_t n = g.n ? g.n : 1;
    if ((uint64_t)run_lim.cpu_ms * n > MAP_TOTAL_CPU_MS_MAX)
        run_lim.cpu_ms = (uint32_t)(MAP_TOTAL_CPU_MS_MAX / n);
    /* A padded (POD-side) instance: the runs together fit in half its pad,
     * so a task computing longer for chosen users still ends within it. */
    if (ctx->config->pad_ms && (uint64_t)run_lim.cpu_ms * n > ctx->config->pad_ms / 2)
        run_lim.cpu_ms = (uint32_t)(ctx->config->pad_ms / 2 / n);
    if (run_lim.cpu_ms == 0) {
        px_fail(err, PX_E_LIMIT, "%zu users leave less than 1 ms of CPU per run", g.n);
        px_map_groups_free(&g);
        return fail(out, PX_STATUS_CPU_LIMIT);
    }
    uint64_t total = ((uint64_t)run_lim.cpu_ms + MAP_RUN_MARGIN_MS) * n;
    px_sandbox_run_out *runs = calloc(g.n ? g.n : 1, sizeof *runs);
    px_buf raw = PX_BUF_INIT;
    px_sandbox_result res;
    int rc = -1;
    if (!runs) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        fail(out, PX_STATUS_INTERNAL);
    } else if (g.n && px_sandbox_run_groups(sb, ctx->code, ctx->code_len, g.streams.data, g.off, g.len, g.n, lim,
                                            total, &raw, runs, &res, err)) {
        fail(out, px_sandbox_proof_status(res.status));
        px_fail(err, PX_E_INVALID, "%s", res.reason); /* it names the outcome */
    } else if (map_outputs(ctx, &g, mp, &raw, runs, out, err) == 0) {
        out->has_counts = 1;
        out->counts.records = g.records;
        out->counts.has_users = 1;
        out->counts.users = g.n;
        rc = 0;
    } else {
        fail(out, PX_STATUS_INTERNAL);
    }
    px_buf_free(&raw);
    free(runs);
    px_map_groups_free(&g);
    return rc;
}

/* The sandbox a run uses: in a worker, exactly the tools the node
 * measured; in-process (tests) the sandbox finds its own. */
static int stage_sandbox(const px_stage_ctx *ctx, px_sandbox *sb, px_err *err) {
    if (ctx->sandbox) {
        *sb = *ctx->sandbox;
        return 0;
    }
    return px_sandbox_init(sb, NULL, err);
}

/* Compile the module (or find it in the object cache) ahead of the run. */
static int wasm_warm(const px_stage_ctx *ctx, px_err *err) {
    px_sandbox sb;
    px_sandbox_limits lim;
    px_sandbox_object obj = {-1};
    px_sandbox_result res;
    if (!ctx->code || stage_sandbox(ctx, &sb, err))
        return -1;
    px_limits_sandbox(&ctx->config->limits, &lim);
    int rc = px_sandbox_compile(&sb, ctx->code, ctx->code_len, &lim, &obj, &res, err);
    px_sandbox_object_free(&obj);
    return rc;
}

static int wasm_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    px_map_params mp;
    if (px_map_params_read(ctx->params, &mp, err))
        return fail(out, PX_STATUS_INTERNAL); /* checked at birth */
    if (mp.mode == PX_MAP_NONE && ctx->ninputs != 1) {
        out->status = PX_STATUS_BAD_INPUT;
        return px_fail(err, PX_E_INVALID, "a wasm stage takes exactly one input, not %zu", ctx->ninputs);
    }
    /* In a worker, exactly the tools the node measured; in-process (tests)
     * the sandbox finds its own. */
    px_sandbox sb;
    if (ctx->sandbox)
        sb = *ctx->sandbox;
    else if (px_sandbox_init(&sb, NULL, err)) {
        out->status = PX_STATUS_INTERNAL;
        return px_err_prefix(err, "sandbox: ");
    }
    px_sandbox_limits lim;
    px_limits_sandbox(&ctx->config->limits, &lim);
    if (mp.mode != PX_MAP_NONE)
        return map_run(ctx, &mp, &sb, &lim, out, err);
    px_sandbox_result res;
    if (px_sandbox_run(&sb, ctx->code, ctx->code_len, ctx->inputs[0].data, ctx->inputs[0].len, &lim, &out->output,
                       NULL, &res, err)) {
        out->status = px_sandbox_proof_status(res.status);
        return px_fail(err, PX_E_INVALID, "%s", res.reason); /* it names the outcome */
    }
    return 0;
}

const px_stage_kind px_lambda_wasm_kind = {
    .kind = "wasm",
    .needs_code = 1,
    .check = wasm_check,
    .run = wasm_run,
    .warm = wasm_warm,
};
