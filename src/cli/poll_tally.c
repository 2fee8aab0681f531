/* pixiu poll tally: the conductor's side after the close. The issuer
 * closes issuance and seals its count to the tally instance, each ballot
 * box seals what it received, the instance takes its one step (its
 * acceptance and proof in the log), the conductor opens the result,
 * publishes the spent tokens in the log and builds the receipt, which it
 * checks as any reader would before printing the results. */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli/poll.h"

#define MAX_ENTRIES 4096 /* up to about 400,000 ballots' spent parts */

static const char usage[] =
    "usage: pixiu poll tally DIR --node NODE.json [--wait] [--build HEX]... [--json]\n"
    "DIR is what `pixiu poll create` wrote. After the poll closes (--wait: wait for it), asks\n"
    "the issuer for its count and every ballot box for its ballots, sealed to the attested\n"
    "tally instance, runs the tally's step, opens the result with DIR/receiver.key, publishes\n"
    "the spent tokens in the log, and writes DIR/result.json and DIR/receipt.json after\n"
    "checking the receipt as `pixiu poll verify` would. Prints the results with their noise.\n"
    "Exit status: 0 tallied and verified, 1 the tally refused or a check failed, 2 error.\n";

typedef struct entries {
    px_poll_entry e[MAX_ENTRIES];
    px_buf bytes[MAX_ENTRIES], proofs[MAX_ENTRIES];
    size_t n;
} entries;

static int add(entries *es, const char *role, uint64_t index, const uint8_t *b, size_t len, px_err *err) {
    if (es->n == sizeof es->e / sizeof *es->e)
        return px_fail(err, PX_E_LIMIT, "too many receipt entries");
    size_t i = es->n++;
    es->bytes[i] = (px_buf)PX_BUF_INIT;
    es->proofs[i] = (px_buf)PX_BUF_INIT;
    es->e[i] = (px_poll_entry){role, index, NULL, 0, NULL, 0};
    return px_buf_append(&es->bytes[i], b, len, err);
}

static void entries_free(entries *es) {
    for (size_t i = 0; i < es->n; i++)
        px_buf_free(&es->bytes[i]), px_buf_free(&es->proofs[i]);
}

static int b64_add(entries *es, const char *role, const json_t *o, const char *key, const char *ikey, px_err *err) {
    px_buf b = PX_BUF_INIT;
    int64_t index;
    int rc = px_json_b64(o, key, &b, err) || px_json_int(o, ikey, &index, err) ||
             add(es, role, (uint64_t)index, b.data, b.len, err);
    px_buf_free(&b);
    return rc ? -1 : 0;
}

static int consistency(void *ctx, uint64_t a, uint64_t b, px_buf *out, px_err *err) {
    return px_log_remote_consistency(ctx, a, b, out, err);
}

/* The network's witnesses cosign only for members: each request is
 * signed by the conductor's node key (docs/reliability.md). */
typedef struct witness_to {
    const px_pollcli *c;
    const px_member *w;
} witness_to;

static int signed_post(void *ctx, const uint8_t *body, size_t len, int *status, px_buf *out, px_err *err) {
    const witness_to *t = ctx;
    return px_signed_call(&t->c->key, t->c->cfg.id, t->w->id, "POST", t->w->url, "/witness/add-checkpoint", body, len,
                          PX_NODE_CALL_TIMEOUT_MS, 1 << 20, status, out, err);
}

/* A checkpoint covering everything, cosigned by every witness, and each
 * entry's inclusion proof against it. */
static int prove(px_pollcli *c, entries *es, px_buf *note, px_err *err) {
    char url[PX_MEMBER_URL_MAX + 16];
    px_checkpoint cp;
    snprintf(url, sizeof url, "%s/log", c->log->url);
    if (px_log_remote_checkpoint(url, &c->log->signing, note, &cp, err))
        return -1;
    size_t base = note->len;
    int rc = 0;
    for (size_t i = 0; !rc && i < c->mem.n; i++) {
        if (!(c->mem.nodes[i].roles & PX_ROLE_WITNESS))
            continue;
        witness_to t = {c, &c->mem.nodes[i]};
        uint64_t old = 0;
        if (px_witness_request_via(signed_post, &t, (const char *)note->data, base, consistency, url, &old, note, err))
            rc = px_err_prefix(err, "witness %s: ", c->mem.nodes[i].id);
    }
    for (size_t i = 0; !rc && i < es->n; i++) {
        rc = px_log_remote_inclusion(url, es->e[i].index, cp.size, &es->proofs[i], err);
        es->e[i].entry = es->bytes[i].data, es->e[i].len = es->bytes[i].len;
        es->e[i].proof = es->proofs[i].data, es->e[i].nproof = es->proofs[i].len / 32;
    }
    px_checkpoint_free(&cp);
    return rc;
}

static int read_dir(const char *dir, px_buf *plan, char node[PX_NODE_ID_MAX + 1], char instance[65],
                    uint64_t *plan_index, px_box_keypair *rk, px_err *err) {
    char path[4096];
    px_buf t = PX_BUF_INIT, k = PX_BUF_INIT;
    json_t *o = NULL;
    const char *n, *in;
    int64_t pi;
    uint8_t raw[PX_BOX_SECRETKEYBYTES + PX_BOX_PUBLICKEYBYTES];
    int rc = (snprintf(path, sizeof path, "%s/poll.json", dir), px_file_read(path, PX_POLL_PLAN_MAX_BYTES, plan, err)) ||
             (snprintf(path, sizeof path, "%s/tally.json", dir), px_file_read(path, 4096, &t, err)) ||
             !(o = px_json_parse(t.data, t.len, 4096, err)) || px_json_str(o, "node", &n, err) ||
             px_json_str(o, "instance", &in, err) || px_json_int(o, "plan_index", &pi, err) ||
             (snprintf(path, sizeof path, "%s/receiver.key", dir), px_file_read(path, 4096, &k, err));
    if (!rc) {
        while (k.len && k.data[k.len - 1] == '\n')
            k.len--;
        rc = px_hex_decode_exact(raw, sizeof raw, (const char *)k.data, k.len, err);
    }
    if (!rc && (strlen(n) > PX_NODE_ID_MAX || strlen(in) != 64))
        rc = px_fail(err, PX_E_INVALID, "%s/tally.json is malformed", dir);
    if (!rc) {
        memcpy(rk->sk, raw, PX_BOX_SECRETKEYBYTES);
        memcpy(rk->pk, raw + PX_BOX_SECRETKEYBYTES, PX_BOX_PUBLICKEYBYTES);
        snprintf(node, PX_NODE_ID_MAX + 1, "%s", n);
        memcpy(instance, in, 65);
        *plan_index = (uint64_t)pi;
    }
    px_memzero(raw, sizeof raw);
    json_decref(o);
    px_buf_free(&t);
    px_buf_free(&k);
    return rc ? -1 : 0;
}

/* Close the issuer and the boxes: inputs of the step, releases of the receipt. */
static int gather(px_pollcli *c, const px_poll_survey *s, json_t *inputs, entries *es, FILE *progress, px_err *err) {
    char hex[65];
    px_hex_encode(hex, s->id, 32);
    json_t *r = NULL;
    if (px_pollcli_call(c, s->issuer.id, "/v1/poll/issuer/close", json_pack("{s:s}", "poll", hex), 1, &r, err) ||
        b64_add(es, "issued", r, "issued", "issued_index", err) || b64_add(es, "release", r, "release", "release_index", err)) {
        json_decref(r);
        return -1;
    }
    json_array_append_new(inputs, json_pack("{s:O,s:O}", "sealed", json_object_get(r, "sealed"), "proof",
                                            json_object_get(r, "release")));
    px_poll_issued iss;
    if (px_poll_issued_verify(&iss, es->bytes[es->n - 2].data, es->bytes[es->n - 2].len, &s->issuer.key, err)) {
        json_decref(r);
        return -1;
    }
    json_decref(r);
    if (progress)
        fprintf(progress, "issuer %s: %llu tokens issued; refused %llu not eligible, %llu second requests, "
                "%llu malformed\n", s->issuer.id, (unsigned long long)iss.issued,
                (unsigned long long)iss.not_eligible, (unsigned long long)iss.again, (unsigned long long)iss.invalid);
    for (size_t i = 0; i < s->nboxes; i++) {
        px_err e = {0};
        if (px_pollcli_call(c, s->boxes[i].id, "/v1/poll/box/release", json_pack("{s:s}", "poll", hex), 1, &r, &e) ||
            b64_add(es, "release", r, "release", "release_index", &e)) {
            if (progress) /* a box that does not answer loses its ballots; the receipt shows which released */
                fprintf(progress, "ballot box %s: no release: %s\n", s->boxes[i].id, e.msg);
            json_decref(r);
            continue;
        }
        if (progress)
            fprintf(progress, "ballot box %s: %" JSON_INTEGER_FORMAT " ballots sealed to the tally\n", s->boxes[i].id,
                    json_integer_value(json_object_get(r, "ballots")));
        json_array_append_new(inputs, json_pack("{s:O,s:O}", "sealed", json_object_get(r, "sealed"), "proof",
                                                json_object_get(r, "release")));
        json_decref(r);
    }
    return 0;
}

/* The step; its proof and acceptance go to the receipt, its output is opened. */
static int step(px_pollcli *c, const char *node, const char *instance, json_t *inputs, const px_poll_attested *att,
                const px_box_keypair *rk, entries *es, px_buf *result, uint8_t r[PX_COMMIT_RANDBYTES],
                px_err *err) {
    json_t *reply = NULL;
    px_buf proof = PX_BUF_INIT, out = PX_BUF_INIT, plain = PX_BUF_INIT;
    px_exec_proof ep;
    int rc = px_pollcli_call(c, node, "/v1/step", json_pack("{s:s,s:O}", "instance", instance, "inputs", inputs), 1,
                             &reply, err);
    if (rc)
        return -1;
    const char *status = json_string_value(json_object_get(reply, "status"));
    rc = px_json_b64(reply, "proof", &proof, err) ||
         px_exec_proof_verify(&ep, proof.data, proof.len, att->sign_pk, err);
    if (!rc && !json_is_true(json_object_get(reply, "ok"))) {
        px_dsse d;
        json_t *st = NULL;
        const char *why = NULL;
        if (px_dsse_parse(&d, proof.data, proof.len, NULL) == 0) {
            st = px_json_parse(d.payload.data, d.payload.len, 1 << 20, NULL);
            why = json_string_value(json_object_get(json_object_get(st, "predicate"), "reason"));
            px_dsse_free(&d);
        }
        rc = px_fail(err, PX_E_VERIFY, "the tally refused (%s): %s", status ? status : "?", why ? why : "");
        json_decref(st);
    }
    rc = rc || b64_add(es, "accepted", reply, "accepted", "accepted_index", err) ||
         b64_add(es, "proof", reply, "proof", "log_index", err);
    json_t *outs = json_object_get(reply, "outputs");
    if (!rc && json_array_size(outs) != 1)
        rc = px_fail(err, PX_E_VERIFY, "the tally gave %zu outputs, not 1", json_array_size(outs));
    if (!rc) {
        const char *o64 = json_string_value(json_array_get(outs, 0));
        uint8_t cm[32];
        rc = !o64 || px_b64_decode(&out, o64, strlen(o64), err) || px_seal_open(&plain, out.data, out.len, rk, err);
        if (!rc && (plain.len < PX_COMMIT_HEADERBYTES || memcmp(plain.data, PX_COMMIT_MAGIC, 4)))
            rc = px_fail(err, PX_E_VERIFY, "the tally's output has no commitment header");
        if (!rc) {
            memcpy(r, plain.data + 4, PX_COMMIT_RANDBYTES);
            px_commit_digest(cm, r, plain.data + PX_COMMIT_HEADERBYTES, plain.len - PX_COMMIT_HEADERBYTES);
            rc = !px_ct_equal(cm, ep.subject, 32)
                     ? px_fail(err, PX_E_VERIFY, "the output is not what the tally's proof names")
                     : px_buf_append(result, plain.data + PX_COMMIT_HEADERBYTES, plain.len - PX_COMMIT_HEADERBYTES,
                                     err);
        }
    }
    json_decref(reply);
    px_buf_free(&proof);
    px_buf_free(&out);
    px_buf_free(&plain);
    return rc ? -1 : 0;
}

static int publish_spent(px_pollcli *c, const px_poll_survey *s, const px_buf *result, entries *es, px_err *err) {
    json_t *doc = px_json_parse(result->data, result->len, 512u << 20, err), *v;
    px_buf all = PX_BUF_INIT, *parts = NULL;
    size_t i, nparts = 0;
    int rc = doc ? 0 : -1;
    json_array_foreach(json_object_get(doc, "spent"), i, v) {
        if (rc || !json_is_string(v) || px_b64_decode(&all, json_string_value(v), json_string_length(v), err))
            rc = -1;
    }
    if (!rc)
        rc = px_poll_spent_parts(&parts, &nparts, s->id, all.data, all.len, &c->key, err);
    for (i = 0; i < nparts; i++) {
        uint64_t index;
        if (!rc)
            rc = px_pollcli_log_append(c, parts[i].data, parts[i].len, &index, err) ||
                 add(es, "spent", index, parts[i].data, parts[i].len, err);
        px_buf_free(&parts[i]);
    }
    free(parts);
    json_decref(doc);
    px_buf_free(&all);
    return rc ? -1 : 0;
}

static int write_file(const char *dir, const char *name, const px_buf *b, px_err *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return px_file_write_atomic(path, b->data, b->len, 0644, err);
}

static int tally(const char *dir, const char *node_json, int wait, char **builds, size_t nbuilds, int json) {
    px_err err = {0};
    px_pollcli c;
    px_buf plan = PX_BUF_INIT, result = PX_BUF_INIT, note = PX_BUF_INIT, receipt = PX_BUF_INIT;
    px_poll_plan p;
    px_poll_attested att;
    px_box_keypair rk;
    char node[PX_NODE_ID_MAX + 1], instance[65];
    uint64_t plan_index = 0;
    uint8_t r[PX_COMMIT_RANDBYTES];
    entries *esp = calloc(1, sizeof *esp);
    if (!esp)
        return px_cli_errorf(PX_EXIT_USAGE, "poll tally: out of memory");
    json_t *inputs = json_array();
    px_poll_summary sum;
    int have_p = 0, have_sum = 0, status = PX_EXIT_USAGE;
    FILE *progress = json ? NULL : stderr;
    memset(&sum, 0, sizeof sum);
    if (px_pollcli_open(&c, node_json, builds, nbuilds, 1, &err)) {
        free(esp);
        return px_cli_error(PX_EXIT_USAGE, &err, "poll tally");
    }
    px_pollcli_trust tr = {&c.mem, (const uint8_t(*)[PX_SHA256_BYTES])c.builds, c.nbuilds};
    if (read_dir(dir, &plan, node, instance, &plan_index, &rk, &err) ||
        px_pollcli_check_plan(&tr, plan.data, plan.len, &p, &att, &err))
        goto out;
    have_p = 1;
    int64_t now = px_now_ms();
    if (now <= p.survey.closes && !wait) {
        px_fail(&err, PX_E_DENIED, "the poll closes in %lld s (--wait waits for it)",
                (long long)((p.survey.closes - now) / 1000 + 1));
        status = PX_EXIT_INVALID;
        goto out;
    }
    if (now <= p.survey.closes) {
        if (progress)
            fprintf(progress, "waiting %lld ms for the poll to close\n", (long long)(p.survey.closes - now + 1));
        usleep((useconds_t)((p.survey.closes - now + 50) * 1000));
    }
    if (add(esp, "poll", plan_index, plan.data, plan.len, &err) || gather(&c, &p.survey, inputs, esp, progress, &err))
        goto out;
    if (step(&c, node, instance, inputs, &att, &rk, esp, &result, r, &err)) {
        status = err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    if (progress)
        fprintf(progress, "tally on %s: done, proof in the log; publishing the spent tokens\n", node);
    if (publish_spent(&c, &p.survey, &result, esp, &err) || prove(&c, esp, &note, &err) ||
        px_poll_receipt_build(&receipt, p.survey.id, (const char *)note.data, note.len, esp->e, esp->n, result.data,
                              result.len, r, &err))
        goto out;
    /* Check it exactly as a reader with the membership would. */
    px_cosigner wit[16];
    size_t nwit = px_pollcli_witnesses(&c.mem, wit, 16);
    px_poll_trust t = {&c.log->signing, wit, nwit, px_pollcli_check_plan, &tr};
    if (px_poll_receipt_verify(receipt.data, receipt.len, &t, &sum, &err)) {
        status = PX_EXIT_INVALID;
        goto out;
    }
    have_sum = 1;
    if (write_file(dir, "result.json", &result, &err) || write_file(dir, "receipt.json", &receipt, &err))
        goto out;
    json_t *doc = px_json_parse(result.data, result.len, 512u << 20, &err);
    if (json) {
        char hex[65];
        px_hex_encode(hex, p.survey.id, 32);
        json_t *o = json_object(), *ref = json_object();
        json_object_set_new(o, "poll", json_string(hex));
        json_object_set_new(o, "issued", json_integer((json_int_t)sum.issuer.issued));
        json_object_set_new(o, "received", json_integer((json_int_t)sum.received));
        json_object_set_new(o, "accepted", json_integer((json_int_t)sum.accepted));
        for (int k = 1; k < PX_POLL_NREASONS; k++)
            json_object_set_new(ref, px_poll_reason_name((px_poll_reason)k), json_integer((json_int_t)sum.refused[k]));
        json_object_set_new(o, "refused", ref);
        json_object_set(o, "result", doc);
        json_object_set_new(o, "receipt", json_string("verified"));
        char *text = json_dumps(o, JSON_COMPACT);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(o);
    } else {
        printf("tokens issued: %llu of %llu members\n", (unsigned long long)sum.issuer.issued,
               (unsigned long long)sum.members);
        printf("ballots received: %llu; accepted: %llu; refused:", (unsigned long long)sum.received,
               (unsigned long long)sum.accepted);
        for (int k = 1; k < PX_POLL_NREASONS; k++)
            if (sum.refused[k])
                printf(" %llu %s", (unsigned long long)sum.refused[k], px_poll_reason_name((px_poll_reason)k));
        printf("\n");
        px_pollcli_print_result(stdout, doc);
        printf("receipt: verified (%zu ballot box releases, %llu spent tokens in the log, %zu witness%s), written "
               "to %s/receipt.json\n", sum.releases - 1, (unsigned long long)sum.spent, sum.witnesses,
               sum.witnesses == 1 ? "" : "es", dir);
    }
    json_decref(doc);
    status = PX_EXIT_OK;
out:
    if (status != PX_EXIT_OK)
        px_cli_error(status, &err, "poll tally");
    if (have_p)
        px_poll_plan_free(&p);
    if (have_sum)
        px_poll_summary_free(&sum);
    px_pollcli_close(&c);
    px_memzero(&rk, sizeof rk);
    json_decref(inputs);
    entries_free(esp);
    free(esp);
    px_buf_free(&plan), px_buf_free(&result), px_buf_free(&note), px_buf_free(&receipt);
    return status;
}

int px_poll_tally_main(int argc, char **argv) {
    static const struct option opts[] = {{"node", required_argument, 0, 'n'}, {"wait", no_argument, 0, 'W'},
                                         {"build", required_argument, 0, 'w'}, {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'}, {0}};
    const char *node = NULL;
    char *builds[PX_POLLCLI_MAX_BUILDS];
    size_t nbuilds = 0;
    int json = 0, wait = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:Ww:jh", opts, NULL)) != -1) {
        if (c == 'n')
            node = optarg;
        else if (c == 'W')
            wait = 1;
        else if (c == 'w' && nbuilds < PX_POLLCLI_MAX_BUILDS)
            builds[nbuilds++] = optarg;
        else if (c == 'j')
            json = 1;
        else if (c == 'h')
            return fputs(usage, stdout), PX_EXIT_OK;
        else
            return fputs(usage, stderr), PX_EXIT_USAGE;
    }
    if (optind != argc - 1 || !node)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    return tally(argv[optind], node, wait, builds, nbuilds, json);
}
