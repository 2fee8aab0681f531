/* Routines shared by the executor's parsers (not a public contract). */
#ifndef PX_EXEC_UTIL_H
#define PX_EXEC_UTIL_H

#include "pixiu/exec.h"

/* Optional members: absent leaves *out untouched. */
int px_x_opt_uint(const json_t *obj, const char *key, uint64_t max, uint64_t *out, px_err *err);
int px_x_opt_str(const json_t *obj, const char *key, const char **out, px_err *err);
/* A required object / array member (borrowed). */
int px_x_obj(const json_t *obj, const char *key, json_t **out, px_err *err);
int px_x_arr(const json_t *obj, const char *key, size_t min, size_t max, json_t **out, px_err *err);
/* Copy a string member into a fixed buffer of size cap (incl. NUL),
 * refusing empty or longer values. */
int px_x_strcpy(const json_t *obj, const char *key, char *dst, size_t cap, px_err *err);
/* Replace bytes that are not printable ASCII with '?' (text from the log
 * reaches terminals). */
void px_x_printable(char *s);
/* Append {"sha256":"<hex>"} style and plain hex strings to JSON objects. */
int px_x_set_hex(json_t *obj, const char *key, const uint8_t *p, size_t n, px_err *err);
int px_x_set_b64(json_t *obj, const char *key, const uint8_t *p, size_t n, px_err *err);
/* The same for public bytes (sealed boxes, envelopes, evidence), coded by
 * table (px_b64_encode_public): the bulk of what nodes send each other. */
int px_x_set_b64_public(json_t *obj, const char *key, const uint8_t *p, size_t n, px_err *err);
int px_x_hex_value(const json_t *v, const char *what, uint8_t *out, size_t n, px_err *err);
/* Take a reference-stealing set that reports allocation failure. */
int px_x_set(json_t *obj, const char *key, json_t *v, px_err *err);
int px_x_append(json_t *arr, json_t *v, px_err *err);

/* A stage config's members (plan.c), params and the POD-side members
 * included, into c. */
int px_x_config_fill(json_t *c, const px_manifest *m, uint32_t stage, uint32_t partition,
                     const uint8_t (*succ)[PX_BOX_PUBLICKEYBYTES], size_t nsucc, const px_verifier *plat, size_t nplat,
                     const px_verifier *pods, size_t npods, const px_verifier *log_key, px_err *err);

/* The rules between a manifest's stages (manifest_rules.c): dp stages in
 * one partition behind a wasm map of the same dim, sample-and-aggregate
 * unsplit, unsupported placements and kinds refused, datasets naming their
 * user field. -1 naming the rule and the stage. */
int px_manifest_rules(const px_manifest *m, px_err *err);

/* Plans published in parts (planparts.c): every chain of plan-part entries
 * of the manifest that assembles, with the index of the entry that
 * completed it. Free with px_plan_assembled_free. */
typedef struct px_assembled_plan {
    uint64_t index;
    px_buf plan;
} px_assembled_plan;

int px_plan_assemble(const px_entry *entries, size_t n, const uint8_t manifest[PX_SHA256_BYTES],
                     px_assembled_plan **out, size_t *nout, px_err *err);
void px_plan_assembled_free(px_assembled_plan *a, size_t n);

/* The first plan of the manifest in the entries (log order), whole or
 * assembled from parts, signed by its consumer (planfind.c). 1 and *out
 * filled, 0 when there is none, -1 on error. */
int px_plan_first(const px_entry *e, size_t n, const uint8_t manifest[PX_SHA256_BYTES], px_plan *out, px_err *err);

/* What a receipt states about its task's outcome (receipt_outcome.c):
 * "outcome" and "result" (success) or "failure" (the audit's verdict).
 * The check reads them from doc, judges the audit over the receipt's
 * entries at the newest cosignature's time (from pinned witnesses when
 * there are any) and requires the audit to say exactly that. */
int px_receipt_outcome_build(json_t *r, const px_receipt_parts *p, px_err *err);
int px_receipt_outcome_check(const json_t *doc, const px_receipt_pins *pins, const px_cosigner *witnesses,
                             size_t nwitnesses, const px_verifier *log_key, const px_entry *entries, size_t n,
                             const px_pod_key *pods, size_t npods, px_evidence_check_fn check, void *ctx,
                             px_receipt_summary *s, px_err *err);

#endif
