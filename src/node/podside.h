/* The POD role's two files: podrole.c (admission, releases to executors)
 * and podhost.c (stages at the POD: the POD's own instances). Not a public
 * contract. */
#ifndef PX_NODE_PODSIDE_H
#define PX_NODE_PODSIDE_H

#include "exec/util.h"

/* node/node.h is included before this header (its second half has no guard). */

/* The security level of the instances a POD hosts: its backend's. */
#define PX_NODE_POD_LEVEL (px_tee_process.level)

/* The topics of each stage, as pointers the policy request borrows. */
typedef struct px_node_topics {
    const char *v[PX_MANIFEST_MAX_STAGES][PX_MANIFEST_MAX_TOPICS];
} px_node_topics;

/* What the POD policy judges for a plan (st: one per manifest stage, in:
 * one per plan instance). */
int px_node_policy_request(const px_plan *p, const px_attested *att, px_pod_stage_req *st, px_pod_instance_req *in,
                           px_node_topics *topics);
/* What the task spends (the sum over its dp stages, rounded up). */
int px_node_dp_amount(const px_manifest *m, char eps[PX_AMOUNT_TEXT_MAX], char delta[PX_AMOUNT_TEXT_MAX],
                      px_err *err);
/* Admit a plan with stages at the POD (checked by the caller): start this
 * POD's instances, record the admission and charge every dataset, publish
 * the instance statements; instances gets one {"stage", "partition",
 * "statement"} per instance. */
int px_node_pod_admit(px_node *n, const px_plan *p, const px_attested *att, json_t *instances, px_err *err);

#endif
