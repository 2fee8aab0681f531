/* pixiu poll verify: check a poll receipt offline against the membership:
 * the log's checkpoint and its witnesses, every entry in the log, the
 * issuer's count, the tally's attested proof and report, the spent list and
 * the result (docs/polls.md). */
#include <stdlib.h>
#include <string.h>

#include "cli/poll.h"
#include "pixiu/proof.h"

static const char usage[] =
    "usage: pixiu poll verify RECEIPT --membership FILE [--build HEX]... [--json]\n"
    "Checks a poll receipt offline against the membership (the log's key, every witness's\n"
    "cosignature, the survey's conductor, issuer and boxes, the tally instance's platform key)\n"
    "and the accepted builds (default: this machine's). Prints the counts and the results.\n"
    "Exit status: 0 verified, 1 it does not verify, 2 error.\n";

static void print_summary(const px_poll_summary *s, int json) {
    char hex[65];
    px_hex_encode(hex, s->poll, 32);
    json_t *doc = px_json_parse(s->result.data, s->result.len, 512u << 20, NULL);
    if (json) {
        json_t *o = json_object(), *ref = json_object();
        json_object_set_new(o, "poll", json_string(hex));
        json_object_set_new(o, "verified", json_true());
        json_object_set_new(o, "members", json_integer((json_int_t)s->members));
        json_object_set_new(o, "issued", json_integer((json_int_t)s->issuer.issued));
        json_object_set_new(o, "issuer_refused", json_pack("{s:I,s:I,s:I}", "not-eligible",
                                                           (json_int_t)s->issuer.not_eligible, "again",
                                                           (json_int_t)s->issuer.again, "invalid",
                                                           (json_int_t)s->issuer.invalid));
        json_object_set_new(o, "received", json_integer((json_int_t)s->received));
        json_object_set_new(o, "accepted", json_integer((json_int_t)s->accepted));
        for (int k = 1; k < PX_POLL_NREASONS; k++)
            json_object_set_new(ref, px_poll_reason_name((px_poll_reason)k), json_integer((json_int_t)s->refused[k]));
        json_object_set_new(o, "refused", ref);
        json_object_set_new(o, "spent", json_integer((json_int_t)s->spent));
        json_object_set_new(o, "log_size", json_integer((json_int_t)s->log_size));
        json_object_set_new(o, "witnesses", json_integer((json_int_t)s->witnesses));
        json_object_set(o, "result", doc);
        char *t = json_dumps(o, JSON_COMPACT);
        printf("%s\n", t ? t : "{}");
        free(t);
        json_decref(o);
    } else {
        printf("poll %s (\"%s\")\n", hex, s->name);
        printf("issuer: %llu tokens issued%s", (unsigned long long)s->issuer.issued, s->members ? " to " : "");
        if (s->members)
            printf("%llu eligible members", (unsigned long long)s->members);
        printf("; refused %llu not eligible, %llu second requests, %llu malformed\n",
               (unsigned long long)s->issuer.not_eligible, (unsigned long long)s->issuer.again,
               (unsigned long long)s->issuer.invalid);
        printf("tally: %llu ballots received from %zu ballot box%s, %llu accepted, refused:",
               (unsigned long long)s->received, s->releases > 0 ? s->releases - 1 : 0,
               s->releases == 2 ? "" : "es", (unsigned long long)s->accepted);
        for (int k = 1; k < PX_POLL_NREASONS; k++)
            printf(" %s %llu", px_poll_reason_name((px_poll_reason)k), (unsigned long long)s->refused[k]);
        printf("\nspent tokens: %llu in the log, each the poll key's, none twice\n", (unsigned long long)s->spent);
        if (doc)
            px_pollcli_print_result(stdout, doc);
        printf("receipt: verified against the membership (log size %llu, %zu witness cosignature%s)\n",
               (unsigned long long)s->log_size, s->witnesses, s->witnesses == 1 ? "" : "s");
    }
    json_decref(doc);
}

static int run(int argc, char **argv) {
    const char *mpath = NULL;
    const char *bv[PX_POLLCLI_MAX_BUILDS];
    px_cli_list blist = {bv, 0, PX_POLLCLI_MAX_BUILDS};
    int json = 0;
    const px_cli_opt opts[] = {{"membership", 0, PX_CLI_VALUE, &mpath, 1}, {"build", 0, PX_CLI_LIST, &blist, 0},
                               {"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    px_cli_args a = {.cmd = "poll verify", .usage = usage, .opts = opts, .operands = "RECEIPT", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    char **builds = (char **)bv;
    size_t nbuilds = blist.n;
    px_err err = {0};
    px_membership m = {0};
    px_buf rec = PX_BUF_INIT;
    uint8_t accepted[PX_POLLCLI_MAX_BUILDS][PX_SHA256_BYTES];
    px_lambda_build *own = NULL;
    if (px_cli_read_input(a.argv[0], 512u << 20, &rec, &err) || px_membership_load(&m, mpath, &err) ||
        px_node_builds_parse(accepted, builds, nbuilds, &err) || (!nbuilds && px_node_build(&own, NULL, &err))) {
        px_buf_free(&rec);
        px_membership_free(&m);
        return px_cli_error(PX_EXIT_USAGE, &err, "poll verify");
    }
    if (own) {
        memcpy(accepted[0], own->digest, PX_SHA256_BYTES);
        px_node_build_free(own);
        nbuilds = 1;
    }
    const px_member *log = px_node_find_role(&m, PX_ROLE_LOG);
    px_cosigner wit[16];
    size_t nwit = px_pollcli_witnesses(&m, wit, 16);
    px_pollcli_trust tr = {&m, (const uint8_t(*)[PX_SHA256_BYTES])accepted, nbuilds};
    px_poll_summary s;
    int status;
    if (!log)
        status = px_cli_errorf(PX_EXIT_USAGE, "poll verify: the membership has no log");
    else {
        px_poll_trust t = {&log->signing, wit, nwit, px_pollcli_check_plan, &tr};
        if (px_poll_receipt_verify(rec.data, rec.len, &t, &s, &err))
            status = px_cli_error(PX_EXIT_INVALID, &err, "poll verify");
        else {
            print_summary(&s, json);
            px_poll_summary_free(&s);
            status = PX_EXIT_OK;
        }
    }
    px_buf_free(&rec);
    px_membership_free(&m);
    return status;
}

const px_cli_form px_cli_poll_verify = {"verify", run, "check a poll receipt offline against the membership"};
