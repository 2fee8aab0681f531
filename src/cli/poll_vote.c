/* pixiu poll vote: a member's POD votes. It fills the demographic bands the
 * survey asks for from the POD's own data, seals the ballot to the attested
 * tally instance and hands it, unsigned, to a ballot box on another node
 * than the tally's (getting the POD's token first when it holds none). */
#include <string.h>
#include <unistd.h>

#include "cli/poll.h"

static const char usage[] =
    "usage: pixiu poll vote POLL --node NODE.json --answers FILE [--box ID] [--pod-db FILE]\n"
    "                       [--credential FILE] [--again] [--save FILE] [--build HEX]... [--json]\n"
    "Votes as the POD NODE.json describes: gets its token if it has none, fills the survey's\n"
    "demographic bands from the POD's dataset (--pod-db, default pod.db in the node directory;\n"
    "only the band or category of each field the survey asks for goes into the ballot), reads\n"
    "the answers ({\"question id\": \"option\" | [\"option\", ...] | number}), seals the ballot\n"
    "to the attested tally instance and hands it, unsigned, to a ballot box (--box, default a\n"
    "random one not on the tally's node). Keeps the box's signed receipt (polls/<id>.receipt).\n"
    "A POD that voted refuses to vote again unless --again (the tally would refuse it anyway).\n"
    "--save FILE also writes the sealed ballot as handed over (to test a replay).\n"
    "Exit status: 0 the box took the ballot, 1 refused, 2 error.\n";

typedef struct vote_opts {
    const char *node, *answers, *box, *pod_db, *credential, *save;
    char **builds;
    size_t nbuilds;
    int again, json;
} vote_opts;

/* ---- vote ---------------------------------------------------------------------- */

static int fill(const px_pollcli *c, const px_poll_survey *s, const char *db, px_poll_ballot *b, px_err *err) {
    char path[4096];
    if (!s->ndemographics) {
        b->ndemo = 0;
        return 0;
    }
    snprintf(path, sizeof path, "%s", db ? db : "");
    if (!db)
        snprintf(path, sizeof path, "%s/pod.db", c->cfg.dir);
    px_pod *pod = NULL;
    px_buf recs = PX_BUF_INIT;
    px_pod_export_info info;
    int rc = px_pod_open(&pod, path, err) || px_pod_export(pod, s->dataset, &recs, &info, err) ||
             px_poll_fill(s, recs.data, recs.len, b->demo, &b->ndemo, err);
    if (pod)
        px_pod_close(pod);
    px_buf_free(&recs);
    return rc ? px_err_prefix(err, "demographics from %s: ", path) : 0;
}

static const char *pick_box(const px_poll_plan *p, const char *want) {
    const px_poll_survey *s = &p->survey;
    if (want)
        return want;
    const char *ok[PX_POLL_MAX_BOXES];
    size_t n = 0;
    for (size_t i = 0; i < s->nboxes; i++)
        if (strcmp(s->boxes[i].id, p->node))
            ok[n++] = s->boxes[i].id;
    if (!n) /* only the tally's node collects: it then sees who votes */
        return s->boxes[px_random_uniform((uint32_t)s->nboxes)].id;
    return ok[px_random_uniform((uint32_t)n)];
}

static int submit(px_pollcli *c, const px_poll_plan *p, const char *box, const px_buf *sealed, int64_t *at,
                  px_err *err) {
    const px_poll_party *bp = NULL;
    for (size_t i = 0; i < p->survey.nboxes; i++)
        if (!strcmp(p->survey.boxes[i].id, box))
            bp = &p->survey.boxes[i];
    if (!bp)
        return px_fail(err, PX_E_INVALID, "%s is not a ballot box of this poll", box);
    char hex[65];
    px_hex_encode(hex, p->survey.id, 32);
    char *b64 = malloc(px_b64_encoded_len(sealed->len) + 1);
    if (!b64)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_b64_encode(b64, sealed->data, sealed->len);
    json_t *reply = NULL;
    px_buf rec = PX_BUF_INIT;
    uint8_t d[32];
    char path[4096];
    px_sha256(d, sealed->data, sealed->len);
    int rc = px_pollcli_call(c, box, "/v1/poll/ballot", json_pack("{s:s,s:s}", "poll", hex, "ballot", b64), 0,
                             &reply, err) ||
             px_json_b64(reply, "receipt", &rec, err) ||
             px_poll_ballot_receipt_verify(rec.data, rec.len, &bp->key, p->survey.id, d, at, err) ||
             px_pollcli_path(c, path, sizeof path, p->survey.id, ".receipt", err) ||
             px_file_write_atomic(path, rec.data, rec.len, 0600, err);
    free(b64);
    json_decref(reply);
    px_buf_free(&rec);
    return rc ? -1 : 0;
}

static int vote(px_pollcli *c, const px_poll_plan *p, const px_poll_attested *att, const vote_opts *o,
                px_err *err) {
    const px_poll_survey *s = &p->survey;
    char rpath[4096];
    px_poll_ballot b;
    px_buf answers = PX_BUF_INIT, plain = PX_BUF_INIT, sealed = PX_BUF_INIT;
    int issued_now = 0;
    if (px_pollcli_path(c, rpath, sizeof rpath, s->id, ".receipt", err))
        return -1;
    if (!o->again && access(rpath, F_OK) == 0)
        return px_fail(err, PX_E_STATE, "this POD already voted in this poll (its box's receipt is kept): its "
                       "token is spent");
    memset(&b, 0, sizeof b);
    memcpy(b.poll, s->id, 32);
    uint8_t r[PX_COMMIT_RANDBYTES], commit[32];
    int64_t at = 0;
    const char *box = pick_box(p, o->box);
    int rc = px_file_read(o->answers, 1 << 20, &answers, err) ||
             px_poll_answers_parse(&b, s, answers.data, answers.len, err) || fill(c, s, o->pod_db, &b, err) ||
             px_pollcli_token(c, s, o->credential, 0, &b.token, &issued_now, err) ||
             px_poll_ballot_encode(&b, &plain, err);
    if (rc == 0) {
        px_commit_new(r, plain.data, plain.len, commit);
        rc = px_seal_committed(&sealed, r, plain.data, plain.len, att->box_pk, err) ||
             (o->save && px_file_write_atomic(o->save, sealed.data, sealed.len, 0600, err)) ||
             submit(c, p, box, &sealed, &at, err);
    }
    if (rc == 0) {
        char hex[65];
        px_hex_encode(hex, s->id, 32);
        if (o->json) {
            printf("{\"poll\":\"%s\",\"box\":\"%s\",\"received\":%lld,\"demographics\":[", hex, box, (long long)at);
            for (size_t i = 0; i < b.ndemo; i++)
                printf("%s%d", i ? "," : "", b.demo[i] == PX_POLL_UNKNOWN ? -1 : b.demo[i]);
            printf("]}\n");
        } else {
            printf("ballot for poll %s taken by %s at %lld; receipt kept\n", hex, box, (long long)at);
            printf("demographics sent:");
            for (size_t i = 0; i < b.ndemo; i++)
                printf(" %s=%s", s->demographics[i].id,
                       b.demo[i] == PX_POLL_UNKNOWN ? "unknown" : s->demographics[i].labels[b.demo[i]]);
            printf("%s\n", b.ndemo ? "" : " none asked");
        }
    }
    px_memzero(&b, sizeof b);
    px_memzero(r, sizeof r);
    px_buf_free(&answers);
    px_buf_free(&plain);
    px_buf_free(&sealed);
    return rc ? -1 : 0;
}

static int run(int argc, char **argv) {
    vote_opts o;
    memset(&o, 0, sizeof o);
    const char *bv[PX_POLLCLI_MAX_BUILDS];
    px_cli_list builds = {bv, 0, PX_POLLCLI_MAX_BUILDS};
    const px_cli_opt opts[] = {{"node", 0, PX_CLI_VALUE, &o.node, 1},     {"answers", 0, PX_CLI_VALUE, &o.answers, 1},
                               {"box", 0, PX_CLI_VALUE, &o.box, 0},       {"pod-db", 0, PX_CLI_VALUE, &o.pod_db, 0},
                               {"credential", 0, PX_CLI_VALUE, &o.credential, 0},
                               {"again", 0, PX_CLI_FLAG, &o.again, 0},    {"save", 0, PX_CLI_VALUE, &o.save, 0},
                               {"build", 0, PX_CLI_LIST, &builds, 0},     {"json", 0, PX_CLI_FLAG, &o.json, 0},
                               {0}};
    px_cli_args a = {.cmd = "poll vote", .usage = usage, .opts = opts, .operands = "POLL", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    o.builds = (char **)bv;
    o.nbuilds = builds.n;
    const char *poll = a.argv[0];
    px_err err = {0};
    px_pollcli c;
    px_poll_plan plan;
    px_poll_attested att;
    if (px_pollcli_open(&c, o.node, o.builds, o.nbuilds, 1, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "poll vote");
    int rc = px_pollcli_plan(&c, poll, &plan, &att, &err);
    if (rc == 0) {
        rc = vote(&c, &plan, &att, &o, &err);
        px_poll_plan_free(&plan);
    }
    px_pollcli_close(&c);
    return rc ? px_cli_error(px_pollcli_exit_for(&err), &err, "poll vote") : PX_EXIT_OK;
}

const px_cli_form px_cli_poll_vote = {"vote", run,
                                      "as a member's POD: fill demographics, seal the ballot, hand it to a ballot box"};
