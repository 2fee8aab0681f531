/* Per-group runs: one runner process, one instance per group. */
#include <stdio.h>
#include <string.h>

#include "lambda/sandbox_int.h"

int px_sandbox_run_groups(const px_sandbox *sb, const uint8_t *m, size_t n,
                          const uint8_t *in, const size_t *off,
                          const size_t *len, size_t ngroups,
                          const px_sandbox_limits *lim, uint64_t total_cpu_ms,
                          px_buf *out, px_sandbox_run_out *runs,
                          px_sandbox_result *res, px_err *err) {
    memset(res, 0, sizeof *res);
    res->status = PX_SB_INTERNAL;
    snprintf(res->reason, sizeof res->reason,
             "internal: per-group runs are not built yet");
    return px_fail(err, PX_E_INTERNAL, "%s", res->reason);
}
