/* pixiu poll show | verify: print what a poll file says (a survey, a
 * poll statement, a result, a receipt), and check a poll receipt offline
 * against the membership: the log's checkpoint and its witnesses, every
 * entry in the log, the issuer's count, the tally's attested proof and
 * report, the spent list and the result (docs/polls.md). */
#include <getopt.h>
#include <string.h>

#include "cli/poll.h"
#include "pixiu/proof.h"

static const char show_usage[] =
    "usage: pixiu poll show FILE [--json]\n"
    "FILE is a signed survey, a poll statement (poll.json), a result (result.json) or a poll\n"
    "receipt. Prints what it says; nothing is verified here (see `pixiu poll verify`).\n";

static const char verify_usage[] =
    "usage: pixiu poll verify RECEIPT --membership FILE [--build HEX]... [--json]\n"
    "Checks a poll receipt offline against the membership (the log's key, every witness's\n"
    "cosignature, the survey's conductor, issuer and boxes, the tally instance's platform key)\n"
    "and the accepted builds (default: this machine's). Prints the counts and the results.\n"
    "Exit status: 0 verified, 1 it does not verify, 2 error.\n";

static void print_survey(const px_poll_survey *s) {
    static const char *const types[] = {"", "single choice", "multiple choice", "numeric"};
    char hex[65];
    px_hex_encode(hex, s->id, 32);
    printf("survey \"%s\": %s\n", s->name, s->title);
    if (s->envelope.len)
        printf("poll %s\n", hex);
    printf("conductor %s; issuer %s; ballot boxes:", s->conductor.id, s->issuer.id);
    for (size_t i = 0; i < s->nboxes; i++)
        printf(" %s", s->boxes[i].id);
    printf("\nopens %lld, closes %lld, tallied by %lld (ms since the epoch)\n", (long long)s->opens,
           (long long)s->closes, (long long)s->tally_by);
    if (s->elig == PX_POLL_ELIG_LIST)
        printf("eligible: the %llu members of a list (SHA-256 ", (unsigned long long)s->members),
            px_hex_encode(hex, s->list_digest, 32), printf("%.16s...)\n", hex);
    else
        printf("eligible: holders of a \"%s\" credential from %s\n", s->claim, s->source.name);
    printf("token key: RSA-%zu, RFC 9474 RSABSSA-SHA384-PSS-Randomized\n", 8 * px_poll_pub_bytes(s->key));
    for (size_t i = 0; i < s->nquestions; i++) {
        const px_poll_question *q = &s->questions[i];
        printf("  %s (%s): %s\n", q->id, types[q->type], q->text);
        if (q->type == PX_POLL_NUMERIC)
            printf("      %lld to %lld\n", (long long)q->min, (long long)q->max);
        for (uint32_t k = 0; k < q->noptions; k++)
            printf("      - %s\n", q->options[k]);
    }
    for (size_t i = 0; i < s->ndemographics; i++) {
        const px_poll_demographic *d = &s->demographics[i];
        printf("  demographic %s from the POD's field %s.%s:", d->id, s->dataset, d->field);
        for (uint32_t k = 0; k < d->n; k++)
            printf(" %s", d->labels[k]);
        printf("\n");
    }
    for (size_t i = 0; i < s->ncrosstabs; i++)
        printf("  crosstab: %s by %s\n", s->questions[s->crosstabs[i].question].id,
               s->demographics[s->crosstabs[i].demographic].id);
    printf("DP: epsilon %s, discrete Laplace; small cells: ", s->epsilon);
    if (s->cells == PX_POLL_CELLS_SUPPRESS)
        printf("withheld when the noisy count is below %llu\n", (unsigned long long)s->below);
    else
        printf("noised, none withheld\n");
}

static int show(const char *path, int json) {
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    if (px_cli_read_input(path, 512u << 20, &b, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "poll show");
    int status = PX_EXIT_OK;
    json_t *doc = px_json_parse(b.data, b.len, 512u << 20, NULL);
    const char *schema = json_string_value(json_object_get(doc, "schema")),
               *type = json_string_value(json_object_get(doc, "type"));
    px_poll_survey s;
    px_poll_plan p;
    if (schema && !strcmp(schema, PX_POLL_RESULT_SCHEMA)) {
        if (json) {
            fwrite(b.data, 1, b.len, stdout);
            printf("\n");
        } else
            px_pollcli_print_result(stdout, doc);
    } else if (type && !strcmp(type, PX_POLL_RECEIPT_TYPE)) {
        px_buf r = PX_BUF_INIT;
        json_t *rd = px_json_b64(doc, "result", &r, &err) ? NULL : px_json_parse(r.data, r.len, 512u << 20, &err);
        if (!rd)
            status = px_cli_error(PX_EXIT_INVALID, &err, "poll show");
        else if (json) {
            fwrite(r.data, 1, r.len, stdout);
            printf("\n");
        } else {
            printf("poll receipt with %zu log entries (not verified here: `pixiu poll verify`)\n",
                   json_array_size(json_object_get(doc, "entries")));
            px_pollcli_print_result(stdout, rd);
        }
        json_decref(rd);
        px_buf_free(&r);
    } else if (px_poll_plan_parse(&p, b.data, b.len, NULL) == 0) {
        if (json) {
            char hex[65];
            px_hex_encode(hex, p.survey.id, 32);
            printf("{\"poll\":\"%s\",\"tally\":\"%s\",\"created\":%lld}\n", hex, p.node, (long long)p.created);
        } else {
            print_survey(&p.survey);
            printf("tally: instance on %s (the statement names its evidence; `pixiu poll vote` checks it)\n", p.node);
        }
        px_poll_plan_free(&p);
    } else if (px_poll_survey_parse(&s, b.data, b.len, &err) == 0) {
        if (json) {
            px_dsse d;
            if (px_dsse_parse(&d, b.data, b.len, NULL) == 0) {
                fwrite(d.payload.data, 1, d.payload.len, stdout);
                printf("\n");
                px_dsse_free(&d);
            }
        } else
            print_survey(&s);
        px_poll_survey_free(&s);
    } else
        status = px_cli_error(PX_EXIT_INVALID, &err, "poll show: not a survey, poll statement, result or receipt");
    json_decref(doc);
    px_buf_free(&b);
    return status;
}

int px_poll_show_main(int argc, char **argv) {
    int json = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return fputs(show_usage, stdout), PX_EXIT_OK;
        else if (!path && (argv[i][0] != '-' || !strcmp(argv[i], "-")))
            path = argv[i];
        else
            return fputs(show_usage, stderr), PX_EXIT_USAGE;
    }
    if (!path)
        return fputs(show_usage, stderr), PX_EXIT_USAGE;
    return show(path, json);
}

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

int px_poll_verify_main(int argc, char **argv) {
    static const struct option opts[] = {{"membership", required_argument, 0, 'm'},
                                         {"build", required_argument, 0, 'w'}, {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'}, {0}};
    const char *mpath = NULL;
    char *builds[PX_POLLCLI_MAX_BUILDS];
    size_t nbuilds = 0;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:w:jh", opts, NULL)) != -1) {
        if (c == 'm')
            mpath = optarg;
        else if (c == 'w' && nbuilds < PX_POLLCLI_MAX_BUILDS)
            builds[nbuilds++] = optarg;
        else if (c == 'j')
            json = 1;
        else if (c == 'h')
            return fputs(verify_usage, stdout), PX_EXIT_OK;
        else
            return fputs(verify_usage, stderr), PX_EXIT_USAGE;
    }
    if (optind != argc - 1 || !mpath)
        return fputs(verify_usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    px_membership m = {0};
    px_buf rec = PX_BUF_INIT;
    uint8_t accepted[PX_POLLCLI_MAX_BUILDS][PX_SHA256_BYTES];
    px_lambda_build *own = NULL;
    if (px_cli_read_input(argv[optind], 512u << 20, &rec, &err) || px_membership_load(&m, mpath, &err) ||
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
