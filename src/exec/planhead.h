/* The plan head and its instance tree (planhead.c), shared by the whole
 * plan (plan.c) and one POD's path through it (planpath.c). Not a public
 * contract. */
#ifndef PX_EXEC_PLANHEAD_H
#define PX_EXEC_PLANHEAD_H

#include "exec/util.h"

/* The RFC 6962 leaf hash of one instance. */
void px_x_plan_leaf(uint8_t out[PX_SHA256_BYTES], const px_plan_instance *in);
/* The n instances' leaf hashes, 32 bytes each; *out is malloc'd. */
int px_x_plan_leaves(uint8_t **out, const px_plan_instance *ins, size_t n, px_err *err);
/* Appends the inclusion proof of leaf `index` among the n leaf hashes. */
int px_x_plan_prove(px_buf *out, const uint8_t *hashes, size_t n, size_t index, px_err *err);
/* The leaf a (stage, partition) of the manifest's executor stages takes,
 * and how many leaves the manifest's stages need. */
size_t px_x_plan_slot(const px_manifest *m, uint32_t stage, uint32_t partition);
size_t px_x_plan_slots(const px_manifest *m);

/* An instance's members into o, and back (plan.c). */
int px_x_plan_instance_json(json_t *o, const px_plan_instance *in, px_err *err);
int px_x_plan_instance_read(px_plan_instance *in, const json_t *o, px_err *err);

/* Sign a head (DSSE, in-toto statement PX_PLAN_HEAD_PREDICATE); appends. */
int px_x_plan_head_sign(px_buf *out, const px_manifest *m, const uint8_t nonce[PX_NONCE_BYTES], int64_t created,
                        const uint8_t root[PX_SHA256_BYTES], size_t n, const px_signer *consumer, px_err *err);
/* Read and verify a head for p->manifest (already parsed): its signature
 * by the manifest's consumer, its manifest and count; fills p's id,
 * nonce, created, root, total and head. */
int px_x_plan_head_read(px_plan *p, const void *env, size_t len, px_err *err);

#endif
