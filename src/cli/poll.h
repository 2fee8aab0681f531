/* What the forms of `pixiu poll` share (src/cli/poll*.c; not a public
 * contract): a node's keys and membership, calls to its peers, the log,
 * and the poll statement judged against the membership. */
#ifndef PX_CLI_POLL_H
#define PX_CLI_POLL_H

#include "cli/cli.h"
#include "node/node.h"

#define PX_POLLCLI_MAX_BUILDS 16

typedef struct px_pollcli {
    px_node_config cfg;
    px_signer key;
    px_membership mem;
    const px_member *log;
    uint8_t builds[PX_POLLCLI_MAX_BUILDS][PX_SHA256_BYTES];
    size_t nbuilds;
} px_pollcli;

/* The node NODE.json describes; builds (hex, or none: this machine's own
 * build, computed only when need_builds) judge tally instances. */
int px_pollcli_open(px_pollcli *c, const char *node_json, char **builds, size_t nbuilds, int need_builds,
                    px_err *err);
void px_pollcli_close(px_pollcli *c);
/* POST a JSON body (stolen) to member `to`, signed by the node (or not,
 * when sign is 0); *reply gets the JSON answer of a 200. Another status
 * fails with the peer's message and a code from the status. */
int px_pollcli_call(px_pollcli *c, const char *to, const char *path, json_t *body, int sign, json_t **reply,
                    px_err *err);
int px_pollcli_log_append(px_pollcli *c, const uint8_t *entry, size_t len, uint64_t *index, px_err *err);
/* The poll statement named by arg: a file holding it, or the poll id in
 * hex (then read from the log); checked against the membership. */
int px_pollcli_plan(px_pollcli *c, const char *arg, px_poll_plan *p, px_poll_attested *att, px_err *err);
/* <node dir>/polls/<poll id hex><suffix> (the directory is made). */
int px_pollcli_path(const px_pollcli *c, char *out, size_t cap, const uint8_t poll[PX_POLL_ID_BYTES],
                    const char *suffix, px_err *err);
/* The trust a receipt reader needs, from a membership and builds. */
typedef struct px_pollcli_trust {
    const px_membership *mem;
    const uint8_t (*builds)[PX_SHA256_BYTES];
    size_t nbuilds;
} px_pollcli_trust;
int px_pollcli_check_plan(void *ctx, const uint8_t *plan, size_t len, px_poll_plan *out, px_poll_attested *att,
                          px_err *err);
/* Witness cosigner keys from the membership (at most max). */
size_t px_pollcli_witnesses(const px_membership *m, px_cosigner *out, size_t max);
/* Print the results of a result document, with noise scales. */
void px_pollcli_print_result(FILE *f, const json_t *doc);

/* The forms. */
int px_poll_create_main(int argc, char **argv);
int px_poll_issue_main(int argc, char **argv);
int px_poll_vote_main(int argc, char **argv);
int px_poll_tally_main(int argc, char **argv);
int px_poll_show_main(int argc, char **argv);
int px_poll_verify_main(int argc, char **argv);

#endif
