/* pixiu poll issue: a member's POD gets its blind token (the request is
 * kept before it is sent, so a lost answer is asked for again with the
 * same blinded message, never a second token). */
#include <string.h>

#include "cli/poll.h"

static const char usage[] =
    "usage: pixiu poll issue POLL --node NODE.json [--credential FILE] [--fresh] [--build HEX]... [--json]\n"
    "POLL is the poll statement (poll.json) or the poll id (read from the log). Checks the poll\n"
    "against the membership, then asks the survey's issuer for this POD's token: a blinded\n"
    "message signed by the POD's node key (and, for a credential poll, --credential). The token\n"
    "is kept in the node directory (polls/<id>.token). --fresh asks again even when a token is\n"
    "held (which is kept unless a new one comes): the issuer refuses a member's second token.\n"
    "Exit status: 0 the POD holds its token, 1 refused, 2 error.\n";

static int run(int argc, char **argv) {
    const char *node = NULL, *credential = NULL;
    const char *bv[PX_POLLCLI_MAX_BUILDS];
    px_cli_list builds = {bv, 0, PX_POLLCLI_MAX_BUILDS};
    int fresh = 0, json = 0;
    const px_cli_opt opts[] = {{"node", 0, PX_CLI_VALUE, &node, 1}, {"credential", 0, PX_CLI_VALUE, &credential, 0},
                               {"fresh", 0, PX_CLI_FLAG, &fresh, 0}, {"build", 0, PX_CLI_LIST, &builds, 0},
                               {"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    px_cli_args a = {.cmd = "poll issue", .usage = usage, .opts = opts, .operands = "POLL", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    const char *poll = a.argv[0];
    px_err err = {0};
    px_pollcli c;
    px_poll_plan plan;
    px_poll_attested att;
    px_poll_token t;
    int now = 0;
    if (px_pollcli_open(&c, node, (char **)bv, builds.n, 1, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "poll issue");
    int rc = px_pollcli_plan(&c, poll, &plan, &att, &err);
    if (rc == 0) {
        rc = px_pollcli_token(&c, &plan.survey, credential, fresh, &t, &now, &err);
        if (rc == 0) {
            char hex[65];
            px_hex_encode(hex, plan.survey.id, 32);
            if (json)
                printf("{\"poll\":\"%s\",\"token\":\"%s\"}\n", hex, now ? "issued" : "held");
            else
                printf("token for poll %s: %s %s\n", hex, now ? "issued by" : "already held, from",
                       plan.survey.issuer.id);
        }
        px_poll_plan_free(&plan);
    }
    px_pollcli_close(&c);
    return rc ? px_cli_error(px_pollcli_exit_for(&err), &err, "poll issue") : PX_EXIT_OK;
}


const px_cli_form px_cli_poll_issue = {"issue", run, "as a member's POD: get this POD's blind token for a poll"};
