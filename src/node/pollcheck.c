/* A poll statement judged against the membership: every party the survey
 * names is the member it claims to be, and the tally instance is attested
 * on its node under an accepted build and answers to the network's log. */
#include <string.h>

#include "node/node.h"

static int party(const px_membership *m, const px_poll_party *p, unsigned role, const char *what, px_err *err) {
    const px_member *x = px_membership_find(m, p->id);
    if (!x || memcmp(x->signing.pk, p->key.pk, sizeof p->key.pk))
        return px_fail(err, PX_E_VERIFY, "the survey's %s %s is not a member with that key", what, p->id);
    if (role && !(x->roles & role))
        return px_fail(err, PX_E_VERIFY, "the survey's %s %s is not a %s", what, p->id, px_role_name(role));
    return 0;
}

int px_node_poll_check(const px_membership *m, const uint8_t (*builds)[PX_SHA256_BYTES], size_t nbuilds,
                       const void *plan, size_t len, px_poll_plan *out, px_poll_attested *att, px_err *err) {
    if (px_poll_plan_parse(out, plan, len, err))
        return -1;
    const px_poll_survey *s = &out->survey;
    const px_member *node = px_membership_find(m, out->node), *log = px_node_find_role(m, PX_ROLE_LOG);
    int rc = party(m, &s->conductor, 0, "conductor", err) || party(m, &s->issuer, PX_ROLE_ISSUER, "issuer", err);
    for (size_t i = 0; !rc && i < s->nboxes; i++)
        rc = party(m, &s->boxes[i], PX_ROLE_EXECUTOR, "ballot box", err);
    if (!rc && (!node || !node->has_platform || !(node->roles & PX_ROLE_EXECUTOR)))
        rc = px_fail(err, PX_E_VERIFY, "the tally's node %s is not an executor of the membership", out->node);
    if (!rc && !log)
        rc = px_fail(err, PX_E_UNAVAILABLE, "the membership has no log");
    if (!rc)
        rc = px_poll_plan_check(out, &node->platform, builds, nbuilds, &log->signing, att, err);
    if (rc) {
        px_poll_plan_free(out);
        return -1;
    }
    return 0;
}
