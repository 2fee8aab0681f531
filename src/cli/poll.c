/* pixiu poll: surveys with anonymous, one-per-member ballots (docs/polls.md).
 * A conductor creates a poll and tallies it; a member's POD asks for its
 * token and votes; anyone shows and verifies. One file per form:
 * src/cli/poll_<form>.c. */
#include "cli/poll.h"

static const px_cli_form forms[] = {
    {"create", px_poll_create_main, "sign a survey, have the issuer make its key, recruit the tally, open the poll"},
    {"issue", px_poll_issue_main, "as a member's POD: get this POD's blind token for a poll"},
    {"vote", px_poll_vote_main, "as a member's POD: fill demographics, seal the ballot, hand it to a ballot box"},
    {"tally", px_poll_tally_main, "as the conductor, after the close: run the tally, publish the spent tokens"},
    {"show", px_poll_show_main, "print a survey, poll statement, result or receipt"},
    {"verify", px_poll_verify_main, "check a poll receipt offline against the membership"},
};

static int run(int argc, char **argv) {
    return px_cli_forms("poll", forms, sizeof forms / sizeof *forms, argc, argv);
}

const px_cli_cmd px_cli_poll = {"poll", "polls and surveys: blind tokens, sealed ballots, a DP tally", run};
