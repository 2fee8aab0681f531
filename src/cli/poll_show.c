/* pixiu poll show: print what a poll file says (a survey, a poll
 * statement, a result, a receipt); nothing is verified here. */
#include <string.h>

#include "cli/poll.h"
#include "pixiu/proof.h"

static const char usage[] =
    "usage: pixiu poll show FILE [--json]\n"
    "FILE is a signed survey, a poll statement (poll.json), a result (result.json) or a poll\n"
    "receipt. Prints what it says; nothing is verified here (see `pixiu poll verify`).\n";

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

static int run(int argc, char **argv) {
    int json = 0;
    const px_cli_opt opts[] = {{"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    px_cli_args a = {.cmd = "poll show", .usage = usage, .opts = opts, .operands = "FILE", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    return show(a.argv[0], json);
}

const px_cli_form px_cli_poll_show = {"show", run, "print a survey, poll statement, result or receipt"};
