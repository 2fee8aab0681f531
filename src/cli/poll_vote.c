/* pixiu poll issue | vote: a member's POD. `issue` gets the POD's blind
 * token (the request is kept before it is sent, so a lost answer is asked
 * for again with the same blinded message, never a second token);
 * `vote` fills the demographic bands the survey asks for from the POD's
 * own data, seals the ballot to the attested tally instance and hands it,
 * unsigned, to a ballot box on another node than the tally's. */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli/poll.h"

#define REQ_MAGIC "PXRQ"

static const char issue_usage[] =
    "usage: pixiu poll issue POLL --node NODE.json [--credential FILE] [--fresh] [--build HEX]... [--json]\n"
    "POLL is the poll statement (poll.json) or the poll id (read from the log). Checks the poll\n"
    "against the membership, then asks the survey's issuer for this POD's token: a blinded\n"
    "message signed by the POD's node key (and, for a credential poll, --credential). The token\n"
    "is kept in the node directory (polls/<id>.token). --fresh asks again even when a token is\n"
    "held (which is kept unless a new one comes): the issuer refuses a member's second token.\n"
    "Exit status: 0 the POD holds its token, 1 refused, 2 error.\n";

static const char vote_usage[] =
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

/* ---- the request kept across a lost answer --------------------------------------- */

static int request_save(const char *path, const px_poll_request *r, px_err *err) {
    px_buf b = PX_BUF_INIT;
    px_buf_append(&b, REQ_MAGIC, 4, NULL);
    px_buf_append(&b, r->token.poll, 32, NULL);
    px_buf_append(&b, r->token.key_id, 32, NULL);
    px_buf_append(&b, r->token.prefix, 32, NULL);
    px_buf_append(&b, r->token.nonce, 32, NULL);
    px_buf_append_u16le(&b, (uint16_t)r->k, NULL);
    px_buf_append(&b, r->blinded, r->k, NULL);
    int rc = px_buf_append(&b, r->inv, r->k, err) || px_file_write_atomic(path, b.data, b.len, 0600, err);
    px_buf_free(&b);
    return rc ? -1 : 0;
}

static int request_load(const char *path, px_poll_request *r, px_err *err) {
    px_buf b = PX_BUF_INIT;
    memset(r, 0, sizeof *r);
    int rc = px_file_read(path, 4096, &b, err);
    size_t k = b.len >= 134 ? px_load_u16le(b.data + 132) : 0;
    if (!rc && (memcmp(b.data, REQ_MAGIC, 4) || k > PX_POLL_RSA_MAX_BYTES || b.len != 134 + 2 * k))
        rc = px_fail(err, PX_E_INVALID, "%s: not a token request", path);
    if (!rc) {
        memcpy(r->token.poll, b.data + 4, 32);
        memcpy(r->token.key_id, b.data + 36, 32);
        memcpy(r->token.prefix, b.data + 68, 32);
        memcpy(r->token.nonce, b.data + 100, 32);
        r->k = k;
        memcpy(r->blinded, b.data + 134, k);
        memcpy(r->inv, b.data + 134 + k, k);
    }
    px_buf_free(&b);
    return rc;
}

static int read_b64_file(const char *path, json_t *body, const char *key, px_err *err) {
    px_buf b = PX_BUF_INIT;
    if (px_file_read(path, 1 << 20, &b, err))
        return -1;
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
        b.len--;
    char *s = malloc(px_b64_encoded_len(b.len) + 1);
    if (s) {
        px_b64_encode(s, b.data, b.len);
        json_object_set_new(body, key, json_string(s));
        free(s);
    }
    px_buf_free(&b);
    return s ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
}

/* The POD's token for the poll: held, or asked for now. *issued_now is 1
 * when it came from the issuer in this call. */
static int get_token(px_pollcli *c, const px_poll_survey *s, const char *credential, int fresh, px_poll_token *t,
                     int *issued_now, px_err *err) {
    char tpath[4096], rpath[4096];
    px_buf tb = PX_BUF_INIT;
    *issued_now = 0;
    if (px_pollcli_path(c, tpath, sizeof tpath, s->id, ".token", err) ||
        px_pollcli_path(c, rpath, sizeof rpath, s->id, ".request", err))
        return -1;
    if (fresh) /* a new request; a token held stays until another comes */
        unlink(rpath);
    if (!fresh && access(tpath, F_OK) == 0) {
        int rc = px_file_read(tpath, PX_POLL_TOKEN_MAX, &tb, err) || px_poll_token_parse(t, tb.data, tb.len, err) ||
                 px_poll_token_verify(t, s->key, s->id, err);
        px_buf_free(&tb);
        return rc ? px_err_prefix(err, "%s: ", tpath) : 0;
    }
    px_poll_request r;
    if (access(rpath, F_OK) == 0 ? request_load(rpath, &r, err)
                                 : (px_poll_request_new(&r, s->key, s->id, err) || request_save(rpath, &r, err)))
        return -1;
    json_t *body = json_object(), *reply = NULL;
    char hex[65];
    px_hex_encode(hex, s->id, 32);
    char *b64 = malloc(px_b64_encoded_len(r.k) + 1);
    px_b64_encode(b64, r.blinded, r.k);
    json_object_set_new(body, "poll", json_string(hex));
    json_object_set_new(body, "blinded", json_string(b64));
    free(b64);
    px_buf sig = PX_BUF_INIT;
    int rc = (credential && read_b64_file(credential, body, "credential", err)) ||
             px_pollcli_call(c, s->issuer.id, "/v1/poll/issue", body, 1, &reply, err) ||
             px_json_b64(reply, "blind_sig", &sig, err) || px_poll_request_finish(&r, s->key, sig.data, sig.len, err) ||
             px_poll_token_encode(&r.token, &tb, err) || px_file_write_atomic(tpath, tb.data, tb.len, 0600, err);
    if (!rc) {
        *t = r.token;
        *issued_now = 1;
        unlink(rpath);
    } else if (err && err->code == PX_E_STATE)
        unlink(rpath); /* refused for good: this request will never be answered */
    px_poll_request_wipe(&r);
    json_decref(reply);
    px_buf_free(&sig);
    px_buf_free(&tb);
    return rc ? -1 : 0;
}

static int exit_for(const px_err *e) {
    return e->code == PX_E_DENIED || e->code == PX_E_STATE || e->code == PX_E_VERIFY || e->code == PX_E_INVALID
               ? PX_EXIT_INVALID
               : PX_EXIT_USAGE;
}

typedef struct vote_opts {
    const char *node, *answers, *box, *pod_db, *credential, *save;
    char *builds[PX_POLLCLI_MAX_BUILDS];
    size_t nbuilds;
    int fresh, again, json;
} vote_opts;

static int parse_opts(int argc, char **argv, vote_opts *o, const char *usage, const char **poll) {
    static const struct option opts[] = {
        {"node", required_argument, 0, 'n'},   {"answers", required_argument, 0, 'a'},
        {"box", required_argument, 0, 'x'},    {"pod-db", required_argument, 0, 'd'},
        {"credential", required_argument, 0, 'c'}, {"build", required_argument, 0, 'w'},
        {"fresh", no_argument, 0, 'f'},        {"again", no_argument, 0, 'g'},
        {"save", required_argument, 0, 's'},
        {"json", no_argument, 0, 'j'},         {"help", no_argument, 0, 'h'},
        {0}};
    int c;
    memset(o, 0, sizeof *o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:a:x:d:c:w:s:fgjh", opts, NULL)) != -1) {
        if (c == 'n')
            o->node = optarg;
        else if (c == 'a')
            o->answers = optarg;
        else if (c == 'x')
            o->box = optarg;
        else if (c == 'd')
            o->pod_db = optarg;
        else if (c == 'c')
            o->credential = optarg;
        else if (c == 'w' && o->nbuilds < PX_POLLCLI_MAX_BUILDS)
            o->builds[o->nbuilds++] = optarg;
        else if (c == 's')
            o->save = optarg;
        else if (c == 'f')
            o->fresh = 1;
        else if (c == 'g')
            o->again = 1;
        else if (c == 'j')
            o->json = 1;
        else if (c == 'h')
            return fputs(usage, stdout), 1;
        else
            return fputs(usage, stderr), -1;
    }
    if (optind != argc - 1 || !o->node)
        return fputs(usage, stderr), -1;
    *poll = argv[optind];
    return 0;
}

int px_poll_issue_main(int argc, char **argv) {
    vote_opts o;
    const char *poll;
    int p = parse_opts(argc, argv, &o, issue_usage, &poll);
    if (p)
        return p > 0 ? PX_EXIT_OK : PX_EXIT_USAGE;
    px_err err = {0};
    px_pollcli c;
    px_poll_plan plan;
    px_poll_attested att;
    px_poll_token t;
    int now = 0;
    if (px_pollcli_open(&c, o.node, o.builds, o.nbuilds, 1, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "poll issue");
    int rc = px_pollcli_plan(&c, poll, &plan, &att, &err);
    if (rc == 0) {
        rc = get_token(&c, &plan.survey, o.credential, o.fresh, &t, &now, &err);
        if (rc == 0) {
            char hex[65];
            px_hex_encode(hex, plan.survey.id, 32);
            if (o.json)
                printf("{\"poll\":\"%s\",\"token\":\"%s\"}\n", hex, now ? "issued" : "held");
            else
                printf("token for poll %s: %s %s\n", hex, now ? "issued by" : "already held, from",
                       plan.survey.issuer.id);
        }
        px_poll_plan_free(&plan);
    }
    px_pollcli_close(&c);
    return rc ? px_cli_error(exit_for(&err), &err, "poll issue") : PX_EXIT_OK;
}

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
             get_token(c, s, o->credential, 0, &b.token, &issued_now, err) ||
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

int px_poll_vote_main(int argc, char **argv) {
    vote_opts o;
    const char *poll;
    int p = parse_opts(argc, argv, &o, vote_usage, &poll);
    if (p)
        return p > 0 ? PX_EXIT_OK : PX_EXIT_USAGE;
    if (!o.answers)
        return fputs(vote_usage, stderr), PX_EXIT_USAGE;
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
    return rc ? px_cli_error(exit_for(&err), &err, "poll vote") : PX_EXIT_OK;
}
