/* A stage's limits: what the task may use, as the manifest states it and
 * the stage config carries it (attested, since the config is measured).
 * The platform's own needs are not in here: the worker, the runner's
 * address-space reservation and the compiler get their limits from the
 * platform, sized for any task these limits allow (docs/manifest.md,
 * "Limits"). */
#include <string.h>

#include "pixiu/lambda.h"
#include "pixiu/sandbox.h"

static const char *const names[] = {"cpu_ms", "wall_ms", "mem_mb", "max_output", "timeout_ms", NULL};

int px_limits_name(const char *key) {
    for (size_t i = 0; names[i]; i++)
        if (!strcmp(key, names[i]))
            return 1;
    return 0;
}

static int read_one(const json_t *o, const char *key, uint64_t max, uint64_t *out, px_err *err) {
    const json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || (uint64_t)json_integer_value(v) > max)
        return px_fail(err, PX_E_INVALID, "limits: %s must be an integer from 1 to %llu", key,
                       (unsigned long long)max);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int px_limits_parse(px_limits *l, const json_t *o, const char *kind, px_err *err) {
    px_limits n;
    memset(&n, 0, sizeof n);
    if (!o) {
        *l = n;
        return 0;
    }
    uint64_t cpu = 0, wall = 0, mem = 0, out = 0;
    if (px_json_only(o, "limits", names, err) || read_one(o, "cpu_ms", PX_LIMITS_CPU_MS_MAX, &cpu, err) ||
        read_one(o, "wall_ms", PX_LIMITS_WALL_MS_MAX, &wall, err) ||
        read_one(o, "mem_mb", PX_SANDBOX_MEM_MB_MAX, &mem, err) ||
        read_one(o, "max_output", PX_LIMITS_OUTPUT_MAX, &out, err) ||
        read_one(o, "timeout_ms", PX_LIMITS_TIMEOUT_MS_MAX, &n.timeout_ms, err))
        return -1;
    n.cpu_ms = (uint32_t)cpu, n.wall_ms = (uint32_t)wall, n.mem_mb = (uint32_t)mem, n.max_output = out;
    /* Only a task has runs to bound; a built-in stage is the platform's. */
    int task = kind && (!strcmp(kind, "wasm") || !strcmp(kind, "fl-user")); /* kinds that run task code */
    const char *which = n.cpu_ms ? "cpu_ms" : n.wall_ms ? "wall_ms" : n.mem_mb ? "mem_mb" : n.max_output ? "max_output"
                                                                                                      : NULL;
    if (!task && which)
        return px_fail(err, PX_E_INVALID,
                       "limits: %s bounds a task's runs, and a %s stage runs no task (it takes only timeout_ms)",
                       which, kind ? kind : "built-in");
    /* A stage that could never finish in its own time is refused now,
     * before any POD is asked for data. */
    uint64_t cpu_eff = n.cpu_ms ? n.cpu_ms : PX_SANDBOX_CPU_MS_DEFAULT;
    if (task && n.wall_ms && n.cpu_ms && n.wall_ms < n.cpu_ms)
        return px_fail(err, PX_E_INVALID, "limits: wall_ms %u is below cpu_ms %u: a run could never use its CPU time",
                       n.wall_ms, n.cpu_ms);
    if (task && n.timeout_ms && n.timeout_ms < cpu_eff)
        return px_fail(err, PX_E_INVALID,
                       "limits: timeout_ms %llu is below the %llu ms of CPU one run may take (cpu_ms%s)",
                       (unsigned long long)n.timeout_ms, (unsigned long long)cpu_eff, n.cpu_ms ? "" : ", default");
    *l = n;
    return 0;
}

int px_limits_empty(const px_limits *l) {
    return !l->cpu_ms && !l->wall_ms && !l->mem_mb && !l->max_output && !l->timeout_ms;
}

int px_limits_equal(const px_limits *a, const px_limits *b) {
    return a->cpu_ms == b->cpu_ms && a->wall_ms == b->wall_ms && a->mem_mb == b->mem_mb &&
           a->max_output == b->max_output && a->timeout_ms == b->timeout_ms;
}

json_t *px_limits_json(const px_limits *l) {
    json_t *o = json_object();
    int bad = !o;
    if (!bad && l->cpu_ms)
        bad |= json_object_set_new(o, "cpu_ms", json_integer(l->cpu_ms));
    if (!bad && l->wall_ms)
        bad |= json_object_set_new(o, "wall_ms", json_integer(l->wall_ms));
    if (!bad && l->mem_mb)
        bad |= json_object_set_new(o, "mem_mb", json_integer(l->mem_mb));
    if (!bad && l->max_output)
        bad |= json_object_set_new(o, "max_output", json_integer((json_int_t)l->max_output));
    if (!bad && l->timeout_ms)
        bad |= json_object_set_new(o, "timeout_ms", json_integer((json_int_t)l->timeout_ms));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void px_limits_sandbox(const px_limits *l, px_sandbox_limits *out) {
    px_sandbox_limits_default(out);
    if (l->cpu_ms)
        out->cpu_ms = l->cpu_ms;
    if (l->wall_ms)
        out->wall_ms = l->wall_ms;
    if (l->mem_mb)
        out->mem_mb = l->mem_mb;
    if (l->max_output)
        out->max_output = (size_t)l->max_output;
}

int px_limits_check_module(const px_limits *l, const uint8_t *m, size_t n, px_err *err) {
    px_sandbox_limits lim;
    px_limits_sandbox(l, &lim);
    px_wasm_policy pol = {PX_WASM_MODULE_MAX_DEFAULT, (uint32_t)((uint64_t)lim.mem_mb * 1048576 / PX_WASM_PAGE_BYTES)};
    if (px_wasm_validate(m, n, &pol, NULL, NULL, err))
        return px_err_prefix(err, "with limits.mem_mb %u%s: ", lim.mem_mb, l->mem_mb ? "" : " (the default)");
    return 0;
}
