/* The `wasm` stage: the consumer's task code, run in the sandbox.
 *
 * The code arrives sealed to the instance and has already been checked
 * against the attested code digest when this runs. The stage takes exactly
 * one input (the records or vector the task reads on stdin) and its output
 * is whatever the task writes on stdout. Params (all optional, unsigned):
 *   cpu_ms, wall_ms, mem_mb, max_output
 * The sandbox's outcome becomes the proof's status; the two outcomes the
 * proof format has no name for are mapped, and the reason keeps the
 * sandbox's own name: "exit" (the task exited non-zero) -> trap,
 * "output-limit" -> memory-limit. */
#include <string.h>

#include "pixiu/lambda.h"
#include "pixiu/sandbox.h"

static const char *const param_names[] = {"cpu_ms", "wall_ms", "mem_mb", "max_output", NULL};

static int wasm_check(const json_t *params, px_err *err) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)params, key, v) {
        int known = 0;
        for (size_t i = 0; param_names[i]; i++)
            known |= !strcmp(key, param_names[i]);
        if (!known)
            return px_fail(err, PX_E_INVALID, "unknown param \"%.40s\"", key);
        if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > UINT32_MAX)
            return px_fail(err, PX_E_INVALID, "param \"%s\" must be a positive 32-bit integer", key);
    }
    json_t *mem = json_object_get(params, "mem_mb");
    if (mem && json_integer_value(mem) > PX_SANDBOX_MEM_MB_MAX)
        return px_fail(err, PX_E_INVALID, "param \"mem_mb\" exceeds %u", PX_SANDBOX_MEM_MB_MAX);
    return 0;
}

static void apply_params(const json_t *p, px_sandbox_limits *l) {
    json_t *v;
    if ((v = json_object_get(p, "cpu_ms")))
        l->cpu_ms = (uint32_t)json_integer_value(v);
    if ((v = json_object_get(p, "wall_ms")))
        l->wall_ms = (uint32_t)json_integer_value(v);
    if ((v = json_object_get(p, "mem_mb")))
        l->mem_mb = (uint32_t)json_integer_value(v);
    if ((v = json_object_get(p, "max_output")))
        l->max_output = (size_t)json_integer_value(v);
}

static const char *proof_status(px_sandbox_status s) {
    switch (s) {
    case PX_SB_INVALID_MODULE: return PX_STATUS_INVALID_MODULE;
    case PX_SB_TRAP:
    case PX_SB_EXIT: return PX_STATUS_TRAP;
    case PX_SB_CPU_LIMIT: return PX_STATUS_CPU_LIMIT;
    case PX_SB_MEMORY_LIMIT:
    case PX_SB_OUTPUT_LIMIT: return PX_STATUS_MEMORY_LIMIT;
    case PX_SB_FORBIDDEN_SYSCALL: return PX_STATUS_FORBIDDEN_SYSCALL;
    case PX_SB_TIMEOUT: return PX_STATUS_TIMEOUT;
    case PX_SB_OK:
    case PX_SB_INTERNAL: break;
    }
    return PX_STATUS_INTERNAL;
}

static int wasm_run(const px_stage_ctx *ctx, px_stage_out *out, px_err *err) {
    if (ctx->ninputs != 1) {
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
    px_sandbox_limits_default(&lim);
    apply_params(ctx->params, &lim);
    px_sandbox_result res;
    if (px_sandbox_run(&sb, ctx->code, ctx->code_len, ctx->inputs[0].data, ctx->inputs[0].len, &lim, &out->output,
                       NULL, &res, err)) {
        out->status = proof_status(res.status);
        return px_fail(err, PX_E_INVALID, "%s: %s", px_sandbox_status_name(res.status), res.reason);
    }
    return 0;
}

const px_stage_kind px_stage_wasm = {
    .kind = "wasm",
    .needs_code = 1,
    .check = wasm_check,
    .run = wasm_run,
};
