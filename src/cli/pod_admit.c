/* pixiu pod admit: would the POD admit a task, and charge its budget. */
#include <stdlib.h>
#include <string.h>

#include "cli/pod.h"

#define MAX_STAGES 16

static const char usage[] =
    "usage: pixiu pod admit MANIFEST DATASET --consumer ID --epsilon E --delta D\n"
    "                       [--stage KIND[:LEVEL[:CODEHEX]]]... [--pod DIR]\n"
    "Checks a task (its manifest id MANIFEST) against DATASET's policy as the node does\n"
    "for a plan, and charges (E, D) to the consumer's budget in one transaction. Each\n"
    "--stage names a stage of the task: its kind, minimum level and code digest.\n"
    "Exit 1 when the policy or the budget refuses.\n";

/* "KIND[:LEVEL[:CODEHEX]]" into a stage request; code is the digest storage. */
static int parse_stage(const char *spec, px_pod_stage_req *s, char *kind, uint8_t code[32]) {
    char buf[160];
    if (strlen(spec) >= sizeof buf)
        return -1;
    snprintf(buf, sizeof buf, "%s", spec);
    char *lvl = strchr(buf, ':'), *hex = NULL;
    if (lvl) {
        *lvl++ = 0;
        if ((hex = strchr(lvl, ':')))
            *hex++ = 0;
    }
    char *end = NULL;
    unsigned long l = lvl ? strtoul(lvl, &end, 10) : 1;
    if (!*buf || strlen(buf) > PX_STAGE_KIND_MAX || (lvl && (*lvl < '0' || *lvl > '9' || *end)) || l > 1000)
        return -1;
    strcpy(kind, buf);
    memset(s, 0, sizeof *s); /* every field a request has, the at_pod ones too */
    s->kind = kind;
    s->level = (int)l;
    if (hex) {
        if (px_hex_decode_exact(code, 32, hex, strlen(hex), NULL))
            return -1;
        s->code_digest = code;
    }
    return 0;
}

static int run(int argc, char **argv) {
    const char *dir = NULL, *consumer = NULL, *epsilon = NULL, *delta = NULL;
    const char *sv[MAX_STAGES];
    px_cli_list stages = {sv, 0, MAX_STAGES};
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir),
                               {"consumer", 0, PX_CLI_VALUE, &consumer, 1},
                               {"epsilon", 0, PX_CLI_VALUE, &epsilon, 1},
                               {"delta", 0, PX_CLI_VALUE, &delta, 1},
                               {"stage", 0, PX_CLI_LIST, &stages, 0},
                               {0}};
    px_cli_args a = {.cmd = "pod admit", .usage = usage, .opts = opts, .operands = "MANIFEST DATASET", .min = 2,
                     .max = 2};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_pod_stage_req st[MAX_STAGES];
    char kinds[MAX_STAGES][PX_STAGE_KIND_MAX + 1];
    uint8_t codes[MAX_STAGES][32];
    for (size_t i = 0; i < stages.n; i++)
        if (parse_stage(stages.v[i], &st[i], kinds[i], codes[i]))
            return px_cli_usage_error(&a, "bad --stage '%s' (KIND[:LEVEL[:CODEHEX]])", stages.v[i]);
    px_pod *p;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_pod_request req = {consumer, a.argv[1], st, stages.n, NULL, 0};
    px_err err = {0};
    int rc = PX_EXIT_OK;
    if (px_pod_admit(p, a.argv[0], &req, epsilon, delta, &err))
        rc = px_cli_error(px_cli_pod_status(&err), &err, "pod admit");
    else
        printf("admitted %s on %s: epsilon %s, delta %s\n", a.argv[0], a.argv[1], epsilon, delta);
    px_pod_close(p);
    return rc;
}

const px_cli_form px_cli_pod_admit = {"admit", run, "check a task against a dataset's policy and charge its budget"};
