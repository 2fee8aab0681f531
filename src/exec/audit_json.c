/* The audit's verdict as JSON: what `pixiu audit --json` prints and the
 * explorer serves, one function so the two never differ. */
#include "exec/util.h"

json_t *px_audit_json(const px_audit *a) {
    char hex[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(hex, a->result, sizeof a->result);
    return json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:o,s:s?,s:I,s:s}", "verdict", px_verdict_name(a->verdict), "stage",
                     (json_int_t)a->stage, "partition", (json_int_t)a->partition, "node", a->node, "status", a->status,
                     "why", a->why, "blamed",
                     a->verdict != PX_AUDIT_OK && a->blamed[0] ? json_string(a->blamed) : json_null(), "result",
                     a->verdict == PX_AUDIT_OK ? hex : NULL, "releases", (json_int_t)a->releases, "report",
                     a->report.data ? (const char *)a->report.data : "");
}
