/* pixiud's internals shared with the pixiu command (not a public contract):
 * turning the membership into the trust the executor checks against. */
#ifndef PX_NODE_NODE_H
#define PX_NODE_NODE_H

#include "pixiu/exec.h"
#include "pixiu/net.h"

/* What an auditor or a POD trusts, derived from the membership: the
 * platform key of every node that has one, the signing key of every POD,
 * and the accepted worker builds. Owns its arrays. */
typedef struct px_node_trust {
    px_node_platform *platforms;
    size_t nplatforms;
    px_pod_key *pods;
    size_t npods;
    uint8_t (*workers)[PX_SHA256_BYTES];
    size_t nworkers;
    px_exec_trust exec; /* points into the arrays above */
} px_node_trust;

/* workers: worker binary paths or hex digests; none means the pixiu_worker
 * next to the running executable. */
int px_node_trust_init(px_node_trust *t, const px_membership *m, char *const *workers, size_t nworkers,
                       px_err *err);
void px_node_trust_free(px_node_trust *t);

/* The path of a program installed next to the running executable. */
int px_node_sibling_path(char *out, size_t cap, const char *name, px_err *err);

#endif
