/* Fuzz target: the SDK's PXR1 reader (sdk/pixiu_task.h, compiled into every
 * task) against PIXIU's own reader. On any input both must accept the same
 * records with the same values, and refuse at the same record. */
#include <stdlib.h>
#include <string.h>

#include "../../sdk/pixiu_task.h"
#include "pixiu/records.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_records_reader a;
    px_task_records b;
    px_err err;
    int ra = px_records_open(&a, data, size, &err);
    int rb = px_task_records_open(&b, data, size);
    if (ra != rb)
        abort();
    if (ra)
        return 0;
    if (a.schema.nfields != b.nfields || a.schema.user_field != b.user_field ||
        a.count != b.count)
        abort();
    static px_value va[PX_RECORDS_MAX_FIELDS];
    static px_task_value vb[PX_TASK_MAX_FIELDS];
    for (;;) {
        uint8_t fa = 0, fb = 0;
        ra = px_records_next(&a, va, &fa, &err);
        rb = px_task_records_next(&b, vb, &fb);
        if (ra != rb)
            abort();
        if (ra != 1)
            return 0;
        if (fa != fb)
            abort();
        for (uint32_t i = 0; i < b.nfields; i++) {
            if ((int)va[i].type != vb[i].type)
                abort();
            if (vb[i].type == PX_TASK_INT && va[i].i != vb[i].i)
                abort();
            if (vb[i].type == PX_TASK_REAL && memcmp(&va[i].r, &vb[i].r, 8))
                abort();
            if (vb[i].type >= PX_TASK_TEXT &&
                (va[i].len != vb[i].len || (vb[i].len && memcmp(va[i].p, vb[i].p, vb[i].len))))
                abort();
        }
    }
}
