/* The plan of a task as the log publishes it: the first entry (lowest
 * index) that parses as a plan for the manifest signed by its consumer,
 * whole or assembled from its parts (counted at the part that completed
 * it). The same rule the audit applies, for readers that need the attested
 * instances of a task found in the log (the trace). */
#include <string.h>

#include "exec/util.h"

static int take(const uint8_t *raw, size_t len, const uint8_t *mid, px_plan *out) {
    px_plan p;
    if (px_plan_parse(&p, raw, len, NULL))
        return 0;
    if (!px_ct_equal(p.manifest.id, mid, PX_SHA256_BYTES)) {
        px_plan_free(&p);
        return 0;
    }
    *out = p;
    return 1;
}

int px_plan_first(const px_entry *e, size_t n, const uint8_t mid[PX_SHA256_BYTES], px_plan *out, px_err *err) {
    px_assembled_plan *a = NULL;
    size_t na = 0, k = 0;
    if (px_plan_assemble(e, n, mid, &a, &na, err))
        return -1;
    int found = 0;
    for (size_t i = 0; !found && (i < n || k < na); i++) {
        while (!found && k < na && (i >= n || a[k].index < e[i].index)) {
            found = take(a[k].plan.data, a[k].plan.len, mid, out);
            k++;
        }
        if (!found && i < n && e[i].kind == PX_ENTRY_PLAN && px_ct_equal(e[i].manifest, mid, PX_SHA256_BYTES))
            found = take(e[i].raw.data, e[i].raw.len, mid, out);
    }
    px_plan_assembled_free(a, na);
    return found;
}
