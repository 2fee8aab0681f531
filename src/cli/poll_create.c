/* pixiu poll create: the conductor's side of opening a poll. The survey
 * template is completed (conductor, nonce, times, issuer, ballot boxes,
 * eligibility, the token key the issuer makes), signed, and its tally
 * instance recruited on an executor; the poll statement goes to the log
 * and to the issuer and every box. */
#include <getopt.h>
#include <string.h>

#include "cli/poll.h"

static const char usage[] =
    "usage: pixiu poll create SURVEY.json --node NODE.json --out DIR [--members LIST.json]\n"
    "                         [--tally-node ID] [--bits N] [--build HEX]... [--json]\n"
    "SURVEY.json is a survey (docs/polls.md) without conductor, nonce, token_key or, when\n"
    "--members is given, eligibility: those are filled in. \"opens\", \"closes\" and \"tally_by\"\n"
    "may be \"+30s\", \"+5m\" or \"+2h\" from now; \"issuer\" and \"boxes\" may name node ids (default:\n"
    "the membership's issuer; every executor but the tally's). --members is the member list\n"
    "({\"schema\":\"urn:pixiu:poll-members:v1\",\"members\":[verifier keys]}), which only the issuer\n"
    "receives; the survey names its SHA-256 and size. The tally instance is recruited on\n"
    "--tally-node (default: the membership's last executor) and checked like any voter would.\n"
    "DIR receives survey.json, poll.json (the poll statement), tally.json and receiver.key\n"
    "(the key the results are sealed to; keep it for `pixiu poll tally`).\n"
    "Exit status: 0 the poll is open, 1 a check failed, 2 error.\n";

/* "+90s", "+5m", "+2h" from now, or an integer. */
static int time_of(json_t *doc, const char *key, int64_t now, px_err *err) {
    json_t *v = json_object_get(doc, key);
    if (!json_is_string(v))
        return 0;
    const char *s = json_string_value(v);
    char *end;
    long long n = s[0] == '+' ? strtoll(s + 1, &end, 10) : -1;
    int64_t unit = n < 0 ? 0 : *end == 's' ? 1000 : *end == 'm' ? 60000 : *end == 'h' ? 3600000 : 0;
    if (!unit || end[1] || n > 100000000)
        return px_fail(err, PX_E_INVALID, "\"%s\": \"%.20s\" is not a time (ms, or +Ns, +Nm, +Nh)", key, s);
    json_object_set_new(doc, key, json_integer(now + n * unit));
    return 0;
}

static json_t *party(const px_membership *m, const char *id, unsigned role, px_err *err) {
    const px_member *x = px_membership_find(m, id);
    px_buf v = PX_BUF_INIT;
    json_t *o = NULL;
    if (!x || !(x->roles & role))
        px_fail(err, PX_E_NOTFOUND, "%s is not a %s of the membership", id, px_role_name(role));
    else if (px_verifier_format(&x->signing, &v, err) == 0 && px_buf_cstr(&v, err))
        o = json_pack("{s:s,s:s}", "id", x->id, "key", (const char *)v.data);
    px_buf_free(&v);
    return o;
}

static const char *default_tally(const px_membership *m) {
    const char *last = NULL;
    for (size_t i = 0; i < m->n; i++)
        if ((m->nodes[i].roles & PX_ROLE_EXECUTOR) && m->nodes[i].has_platform)
            last = m->nodes[i].id;
    return last;
}

static int fill_parties(px_pollcli *c, json_t *doc, const char *tally, px_err *err) {
    json_t *iss = json_object_get(doc, "issuer"), *boxes = json_object_get(doc, "boxes"), *v;
    const px_member *fi = px_node_find_role(&c->mem, PX_ROLE_ISSUER);
    if (!iss || json_is_string(iss)) {
        const char *id = iss ? json_string_value(iss) : fi ? fi->id : NULL;
        if (!id)
            return px_fail(err, PX_E_NOTFOUND, "the membership has no issuer");
        if (!(iss = party(&c->mem, id, PX_ROLE_ISSUER, err)))
            return -1;
        json_object_set_new(doc, "issuer", iss);
    }
    json_t *out = json_array();
    size_t i;
    if (!boxes) {
        for (size_t k = 0; k < c->mem.n; k++)
            if ((c->mem.nodes[k].roles & PX_ROLE_EXECUTOR) && strcmp(c->mem.nodes[k].id, tally))
                json_array_append_new(out, party(&c->mem, c->mem.nodes[k].id, PX_ROLE_EXECUTOR, NULL));
        if (!json_array_size(out))
            json_array_append_new(out, party(&c->mem, tally, PX_ROLE_EXECUTOR, NULL));
    } else
        json_array_foreach(boxes, i, v) {
            json_t *p = json_is_string(v) ? party(&c->mem, json_string_value(v), PX_ROLE_EXECUTOR, err)
                                          : json_incref(v);
            if (!p) {
                json_decref(out);
                return -1;
            }
            json_array_append_new(out, p);
        }
    json_object_set_new(doc, "boxes", out);
    return 0;
}

/* Complete the template into the survey document. */
static int complete(px_pollcli *c, json_t *doc, const px_buf *members, unsigned bits, const char *tally,
                    px_err *err) {
    int64_t now = px_now_ms();
    px_buf vk = PX_BUF_INIT;
    px_verifier me;
    px_signer_verifier(&c->key, &me);
    uint8_t nonce[16];
    char hex[65];
    px_random(nonce, sizeof nonce);
    px_hex_encode(hex, nonce, sizeof nonce);
    if (!json_object_get(doc, "schema"))
        json_object_set_new(doc, "schema", json_string(PX_POLL_SURVEY_SCHEMA));
    if (px_verifier_format(&me, &vk, err) || !px_buf_cstr(&vk, err))
        return -1;
    json_object_set_new(doc, "conductor", json_pack("{s:s,s:s}", "id", c->cfg.id, "key", (const char *)vk.data));
    px_buf_free(&vk);
    if (!json_object_get(doc, "nonce"))
        json_object_set_new(doc, "nonce", json_string(hex));
    if (time_of(doc, "opens", now, err) || time_of(doc, "closes", now, err) || time_of(doc, "tally_by", now, err) ||
        fill_parties(c, doc, tally, err))
        return -1;
    if (members->len) {
        px_poll_members m;
        uint8_t d[32];
        if (px_poll_members_parse(&m, members->data, members->len, err))
            return -1;
        px_sha256(d, members->data, members->len);
        px_hex_encode(hex, d, 32);
        json_object_set_new(doc, "eligibility", json_pack("{s:s,s:I}", "list", hex, "members", (json_int_t)m.n));
        px_poll_members_free(&m);
    }
    json_t *reply = NULL;
    const char *issuer = json_string_value(json_object_get(json_object_get(doc, "issuer"), "id"));
    if (px_pollcli_call(c, issuer, "/v1/poll/issuer/key", json_pack("{s:I}", "bits", (json_int_t)bits), 1, &reply,
                        err))
        return -1;
    json_object_set(doc, "token_key", json_object_get(reply, "key"));
    json_decref(reply);
    return 0;
}

static int write_outputs(const char *dir, const px_buf *survey, const px_buf *plan, const char *node,
                         const uint8_t instance[32], uint64_t index, const px_box_keypair *rk, px_err *err) {
    char path[4096], hex[65], khex[2 * (PX_BOX_SECRETKEYBYTES + PX_BOX_PUBLICKEYBYTES) + 2];
    px_buf t = PX_BUF_INIT;
    px_hex_encode(hex, instance, 32);
    px_hex_encode(khex, rk->sk, PX_BOX_SECRETKEYBYTES);
    px_hex_encode(khex + 2 * PX_BOX_SECRETKEYBYTES, rk->pk, PX_BOX_PUBLICKEYBYTES);
    strcat(khex, "\n");
    px_buf_printf(&t, NULL, "{\"node\":\"%s\",\"instance\":\"%s\",\"plan_index\":%llu}\n", node, hex,
                  (unsigned long long)index);
    int rc = (snprintf(path, sizeof path, "%s/survey.json", dir),
              px_file_write_atomic(path, survey->data, survey->len, 0644, err)) ||
             (snprintf(path, sizeof path, "%s/poll.json", dir),
              px_file_write_atomic(path, plan->data, plan->len, 0644, err)) ||
             (snprintf(path, sizeof path, "%s/tally.json", dir), px_file_write_atomic(path, t.data, t.len, 0644, err)) ||
             (snprintf(path, sizeof path, "%s/receiver.key", dir),
              px_file_write_atomic(path, khex, strlen(khex), 0600, err));
    px_memzero(khex, sizeof khex);
    px_buf_free(&t);
    return rc ? -1 : 0;
}

static int open_everywhere(px_pollcli *c, const px_poll_survey *s, const px_buf *plan, const px_buf *members,
                           px_err *err) {
    json_t *reply = NULL, *b = json_object();
    char *p64 = malloc(px_b64_encoded_len(plan->len) + 1);
    if (!p64 || !b)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_b64_encode(p64, plan->data, plan->len);
    json_object_set_new(b, "plan", json_string(p64));
    if (members->len) {
        char *m64 = malloc(px_b64_encoded_len(members->len) + 1);
        px_b64_encode(m64, members->data, members->len);
        json_object_set_new(b, "members", json_string(m64));
        free(m64);
    }
    int rc = px_pollcli_call(c, s->issuer.id, "/v1/poll/issuer/open", b, 1, &reply, err);
    json_decref(reply);
    for (size_t i = 0; !rc && i < s->nboxes; i++) {
        rc = px_pollcli_call(c, s->boxes[i].id, "/v1/poll/box/open", json_pack("{s:s}", "plan", p64), 1, &reply,
                             err);
        json_decref(reply);
    }
    free(p64);
    return rc;
}

static int create(const char *tmpl_path, const char *node, const char *out, const char *members_path,
                  const char *tally, unsigned bits, char **builds, size_t nbuilds, int json) {
    px_err err = {0};
    px_pollcli c;
    px_buf tmpl = PX_BUF_INIT, members = PX_BUF_INIT, doc = PX_BUF_INIT, env = PX_BUF_INIT, config = PX_BUF_INIT,
           evidence = PX_BUF_INIT, plan = PX_BUF_INIT;
    json_t *t = NULL, *reply = NULL;
    px_poll_survey s;
    px_poll_plan p;
    px_poll_attested att;
    px_box_keypair rk;
    uint8_t nonce[PX_TEE_NONCE_BYTES], instance[32];
    int have_s = 0, have_p = 0, status = PX_EXIT_USAGE;
    if (px_pollcli_open(&c, node, builds, nbuilds, 1, &err))
        goto out_nocli;
    if (!tally && !(tally = default_tally(&c.mem))) {
        px_fail(&err, PX_E_NOTFOUND, "the membership has no executor for the tally");
        goto out;
    }
    if (px_cli_read_input(tmpl_path, PX_POLL_SURVEY_MAX_BYTES, &tmpl, &err) ||
        (members_path && px_file_read(members_path, 256u << 20, &members, &err)) ||
        !(t = px_json_parse(tmpl.data, tmpl.len, PX_POLL_SURVEY_MAX_BYTES, &err)))
        goto out;
    if (!json_is_object(t)) {
        px_fail(&err, PX_E_INVALID, "%s: a survey is a JSON object", tmpl_path);
        goto out;
    }
    if (complete(&c, t, &members, bits, tally, &err) || px_json_dump(t, &doc, &err) ||
        px_poll_survey_sign(&env, doc.data, doc.len, &c.key, &err) ||
        px_poll_survey_parse(&s, env.data, env.len, &err))
        goto out;
    have_s = 1;
    px_box_keygen(&rk);
    px_random(nonce, sizeof nonce);
    if (px_poll_config_build(&config, &s, rk.pk, &c.log->signing, &err))
        goto out;
    char nhex[2 * PX_TEE_NONCE_BYTES + 1];
    px_hex_encode(nhex, nonce, sizeof nonce);
    char *e64 = malloc(px_b64_encoded_len(env.len) + 1), *c64 = malloc(px_b64_encoded_len(config.len) + 1);
    px_b64_encode(e64, env.data, env.len);
    px_b64_encode(c64, config.data, config.len);
    int rc = px_pollcli_call(&c, tally, "/v1/poll/recruit",
                             json_pack("{s:s,s:s,s:s}", "survey", e64, "config", c64, "nonce", nhex), 1, &reply, &err);
    free(e64), free(c64);
    if (rc || px_json_b64(reply, "evidence", &evidence, &err) ||
        px_json_hex(reply, "instance", instance, sizeof instance, &err) ||
        px_poll_plan_sign(&plan, &env, tally, nonce, &config, &evidence, &c.key, &err))
        goto out;
    /* Judge the instance as every voter will, before anyone relies on it. */
    px_pollcli_trust tr = {&c.mem, (const uint8_t(*)[PX_SHA256_BYTES])c.builds, c.nbuilds};
    if (px_pollcli_check_plan(&tr, plan.data, plan.len, &p, &att, &err)) {
        status = PX_EXIT_INVALID;
        goto out;
    }
    have_p = 1;
    uint64_t index;
    if (px_pollcli_log_append(&c, plan.data, plan.len, &index, &err) ||
        open_everywhere(&c, &s, &plan, &members, &err) ||
        write_outputs(out, &env, &plan, tally, instance, index, &rk, &err))
        goto out;
    char id[65];
    px_hex_encode(id, s.id, 32);
    if (json)
        printf("{\"poll\":\"%s\",\"name\":\"%s\",\"opens\":%lld,\"closes\":%lld,\"tally\":\"%s\",\"log_index\":%llu}\n",
               id, s.name, (long long)s.opens, (long long)s.closes, tally, (unsigned long long)index);
    else {
        printf("poll %s\n", id);
        printf("survey \"%s\": %zu questions, %zu demographics, %zu crosstabs, epsilon %s\n", s.name, s.nquestions,
               s.ndemographics, s.ncrosstabs, s.epsilon);
        printf("eligible: %llu members (%s); issuer %s; ballot boxes:", (unsigned long long)s.members,
               s.elig == PX_POLL_ELIG_LIST ? "member list" : "credential", s.issuer.id);
        for (size_t i = 0; i < s.nboxes; i++)
            printf(" %s", s.boxes[i].id);
        printf("\ntally: attested instance on %s (level %u), statement at log index %llu\n", tally, att.level,
               (unsigned long long)index);
    }
    status = PX_EXIT_OK;
out:
    px_pollcli_close(&c);
out_nocli:
    if (status != PX_EXIT_OK)
        px_cli_error(status, &err, "poll create");
    px_memzero(&rk, sizeof rk);
    if (have_s)
        px_poll_survey_free(&s);
    if (have_p)
        px_poll_plan_free(&p);
    json_decref(t);
    json_decref(reply);
    px_buf *bufs[] = {&tmpl, &members, &doc, &env, &config, &evidence, &plan};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        px_buf_free(bufs[i]);
    return status;
}

int px_poll_create_main(int argc, char **argv) {
    static const struct option opts[] = {{"node", required_argument, 0, 'n'}, {"out", required_argument, 0, 'o'},
                                         {"members", required_argument, 0, 'm'},
                                         {"tally-node", required_argument, 0, 't'},
                                         {"bits", required_argument, 0, 'b'}, {"build", required_argument, 0, 'w'},
                                         {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0}};
    const char *node = NULL, *out = NULL, *members = NULL, *tally = NULL;
    char *builds[PX_POLLCLI_MAX_BUILDS];
    size_t nbuilds = 0;
    unsigned bits = 2048;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:o:m:t:b:w:jh", opts, NULL)) != -1) {
        if (c == 'n')
            node = optarg;
        else if (c == 'o')
            out = optarg;
        else if (c == 'm')
            members = optarg;
        else if (c == 't')
            tally = optarg;
        else if (c == 'b')
            bits = (unsigned)strtoul(optarg, NULL, 10);
        else if (c == 'w' && nbuilds < PX_POLLCLI_MAX_BUILDS)
            builds[nbuilds++] = optarg;
        else if (c == 'j')
            json = 1;
        else if (c == 'h')
            return fputs(usage, stdout), PX_EXIT_OK;
        else
            return fputs(usage, stderr), PX_EXIT_USAGE;
    }
    if (optind != argc - 1 || !node || !out)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    return create(argv[optind], node, out, members, tally, bits, builds, nbuilds, json);
}
