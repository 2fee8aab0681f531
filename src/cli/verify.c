/* pixiu verify RECEIPT: check a task receipt offline against a trust root,
 * the network the verifier knows on its own. Exit 0 only when the
 * checkpoint, the witness policy, every inclusion proof, the audit of the
 * receipt's entries and every key it names (pinned) all hold; 1 naming the
 * first thing that does not, or when there is no trust root. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "node/node.h"

#define PX_VERIFY_MAX_PINS 4096
#define PX_VERIFY_MAX_BUILDS 16

static const char usage[] =
    "usage: pixiu verify RECEIPT (--membership FILE | --log-key KEY) [--pod-key ID=KEY]...\n"
    "                    [--platform-key ID=KEY]... [--build HEX]... [--witness KEY]...\n"
    "                    [--min-witnesses N] [--json]\n"
    "Checks a receipt written by `pixiu task submit` without any network access, against a\n"
    "trust root naming the network it must come from: the membership file (its log key, the\n"
    "PODs' keys, the executors' platform keys, the witnesses) and/or keys pinned one by one.\n"
    "Every POD key, platform key and build the receipt names must be pinned (builds:\n"
    "--build, default the build of this machine, see `pixiu build`). The checkpoint needs\n"
    "cosignatures of --min-witnesses of the pinned witnesses (default: all of them).\n"
    "KEY is a verifier key or a file holding one. Without a trust root the receipt is\n"
    "only self-consistent: said, and exit 1.\n"
    "A training receipt (`pixiu task train --receipt`, docs/fl.md) is checked round by round,\n"
    "with the chain of models between rounds.\n"
    "A failure receipt (a task that failed after its plan was published) is checked the same\n"
    "way, and its stated failure must be exactly what the audit of its entries says.\n"
    "(--worker is the old name of --build.)\n"
    "Exit status: 0 a verified receipt of a task that succeeded; 1 a verified failure receipt\n"
    "(naming the failed stage), or a receipt that does not verify (naming why); 2 usage or I/O error.\n";

typedef struct pins {
    px_membership mem;
    int has_mem;
    px_verifier log_key;
    int has_log;
    px_node_key *pods;
    px_node_platform *platforms;
    px_cosigner *witnesses;
    size_t npods, nplatforms, nwitnesses;
    char *builds[PX_VERIFY_MAX_BUILDS];
    size_t nbuilds;
    long min_witnesses; /* -1: all pinned */
} pins;

static void pins_free(pins *p) {
    if (p->has_mem)
        px_membership_free(&p->mem);
    free(p->pods);
    free(p->platforms);
    free(p->witnesses);
}

/* "ID=KEY" (KEY: a verifier key or a file holding one). */
static int node_pin(const char *arg, char id[PX_NODE_ID_MAX + 1], px_verifier *v, px_err *err) {
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : 0;
    if (!eq || n == 0 || n > PX_NODE_ID_MAX)
        return px_fail(err, PX_E_INVALID, "\"%.80s\" is not ID=KEY", arg);
    memcpy(id, arg, n);
    id[n] = 0;
    if (!px_id_valid(id))
        return px_fail(err, PX_E_INVALID, "\"%s\" is not a node id", id);
    return px_verifier_load(v, eq + 1, err);
}

static int add_pod(pins *p, const char *id, const px_verifier *v, px_err *err) {
    if (p->npods == PX_VERIFY_MAX_PINS)
        return px_fail(err, PX_E_LIMIT, "at most %d POD keys", PX_VERIFY_MAX_PINS);
    snprintf(p->pods[p->npods].id, sizeof p->pods[p->npods].id, "%s", id);
    p->pods[p->npods++].key = *v;
    return 0;
}

static int add_platform(pins *p, const char *id, const px_verifier *v, px_err *err) {
    if (p->nplatforms == PX_VERIFY_MAX_PINS)
        return px_fail(err, PX_E_LIMIT, "at most %d platform keys", PX_VERIFY_MAX_PINS);
    snprintf(p->platforms[p->nplatforms].id, sizeof p->platforms[p->nplatforms].id, "%s", id);
    p->platforms[p->nplatforms++].platform = *v;
    return 0;
}

static int add_witness(pins *p, const px_cosigner *c, px_err *err) {
    if (p->nwitnesses == PX_VERIFY_MAX_PINS)
        return px_fail(err, PX_E_LIMIT, "at most %d witnesses", PX_VERIFY_MAX_PINS);
    p->witnesses[p->nwitnesses++] = *c;
    return 0;
}

/* The membership names the network: its log, PODs, platforms, witnesses. */
static int from_membership(pins *p, const char *path, px_err *err) {
    if (px_membership_load(&p->mem, path, err))
        return -1;
    p->has_mem = 1;
    const px_member *log = px_node_find_role(&p->mem, PX_ROLE_LOG);
    if (!log && !p->has_log)
        return px_fail(err, PX_E_INVALID, "membership %s has no log (pin one with --log-key)", path);
    if (!p->has_log) {
        p->log_key = log->signing;
        p->has_log = 1;
    }
    for (size_t i = 0; i < p->mem.n; i++) {
        const px_member *x = &p->mem.nodes[i];
        if ((x->roles & PX_ROLE_POD) && add_pod(p, x->id, &x->signing, err))
            return -1;
        if (x->has_platform && add_platform(p, x->id, &x->platform, err))
            return -1;
        if (x->roles & PX_ROLE_WITNESS) {
            px_cosigner c;
            memcpy(c.name, x->signing.name, sizeof c.name);
            memcpy(c.pk, x->signing.pk, sizeof c.pk);
            c.id = px_cosig_key_id(c.name, c.pk);
            if (add_witness(p, &c, err))
                return -1;
        }
    }
    return 0;
}

static void print_ok(const px_receipt_summary *s, size_t npinned, int json) {
    char m[2 * PX_SHA256_BYTES + 1], r[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(m, s->manifest, sizeof s->manifest);
    px_hex_encode(r, s->result, sizeof s->result);
    if (json) {
        printf("{\"ok\":true,\"valid\":true,\"outcome\":\"ok\",\"pinned\":true,\"manifest\":\"%s\",\"result\":\"%s\",\"tree_size\":%llu,\"entries\":%zu,"
               "\"cosignatures\":%zu,\"releases\":%llu}\n",
               m, r, (unsigned long long)s->tree_size, s->nentries, s->ncosigs,
               (unsigned long long)s->audit.releases);
        return;
    }
    fputs((const char *)s->audit.report.data, stdout);
    printf("receipt ok: result %s of task %s\n", r, m);
    printf("  %zu log entries proven in a checkpoint of %llu entries, cosigned by %zu of %zu pinned witness(es)\n",
           s->nentries, (unsigned long long)s->tree_size, s->ncosigs, npinned);
    printf("  every POD key, platform key and build of the receipt is pinned by the trust root\n");
    if (npinned == 0)
        printf("  note: no witness is pinned: a log showing different histories to different parties would not be "
               "caught\n");
}

/* A receipt that holds, of a task that failed: what the log proves. */
static int print_failed(const px_receipt_summary *s, size_t npinned, int json) {
    const px_audit *a = &s->audit;
    char m[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(m, s->manifest, sizeof s->manifest);
    if (json) {
        json_t *o = json_pack("{s:b,s:b,s:s,s:b,s:s,s:{s:s,s:I,s:I,s:s,s:s,s:s,s:o},s:I,s:I,s:I}", "ok", 0, "valid",
                              1, "outcome", "failed", "pinned", 1, "manifest", m, "failure", "verdict",
                              px_verdict_name(a->verdict),
                              "stage", (json_int_t)a->stage, "partition", (json_int_t)a->partition, "node", a->node,
                              "status", a->status, "reason", a->why, "blamed",
                              a->blamed[0] ? json_string(a->blamed) : json_null(), "tree_size",
                              (json_int_t)s->tree_size, "entries", (json_int_t)s->nentries, "cosignatures",
                              (json_int_t)s->ncosigs);
        char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (t)
            printf("%s\n", t);
        free(t);
        json_decref(o);
        return PX_EXIT_INVALID;
    }
    fputs((const char *)a->report.data, stdout);
    printf("receipt verified: task %s FAILED at stage %lld partition %u on %s: %s\n", m, (long long)a->stage,
           a->partition, a->node, a->status);
    printf("  %s\n", a->why);
    printf("  blamed: %s\n", a->blamed[0] ? a->blamed : "nobody (the log proves no party at fault)");
    printf("  %zu log entries proven in a checkpoint of %llu entries, cosigned by %zu of %zu pinned witness(es)\n",
           s->nentries, (unsigned long long)s->tree_size, s->ncosigs, npinned);
    printf("  every POD key, platform key and build of the receipt is pinned by the trust root\n");
    return PX_EXIT_INVALID;
}

static void print_json_error(const char *msg, int pinned) {
    json_t *o = json_pack("{s:b,s:b,s:b,s:s}", "ok", 0, "valid", 0, "pinned", pinned, "error", msg);
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (t)
        printf("%s\n", t);
    free(t);
    json_decref(o);
}

/* No trust root: say what the receipt is (self-consistent or not) and that
 * this does not tie it to any network. */
static int unpinned(const px_buf *b, int json) {
    px_err err = {0};
    px_receipt_summary s;
    int rc = px_receipt_check(b->data, b->len, NULL, &s, &err);
    if (rc == 0)
        px_receipt_summary_free(&s);
    const char *why = rc ? err.msg : "receipt is self-consistent";
    if (json)
        print_json_error("unpinned: no trust root (--membership or --log-key)", 0);
    else
        printf("%s\n", why);
    return px_cli_errorf(PX_EXIT_INVALID, "verify: receipt unpinned: its keys are its own; pass --membership FILE "
                         "or --log-key with --pod-key/--platform-key to name the network it must come from");
}

/* Parse the options into pins; 1: help was printed; -1: a usage error was
 * printed (*status says which exit). */
static int parse_args(pins *p, int argc, char **argv, int *json, const char **receipt, px_err *err, int *status) {
    const char *mpath = NULL, *log_key = NULL, *min_w = NULL;
    const char *wv[PX_VERIFY_MAX_PINS], *pv[PX_VERIFY_MAX_PINS], *qv[PX_VERIFY_MAX_PINS];
    px_cli_list witnesses = {wv, 0, PX_VERIFY_MAX_PINS}, pods = {pv, 0, PX_VERIFY_MAX_PINS},
                platforms = {qv, 0, PX_VERIFY_MAX_PINS};
    px_cli_list builds = {(const char **)p->builds, 0, PX_VERIFY_MAX_BUILDS},
                old_builds = {(const char **)p->builds, 0, PX_VERIFY_MAX_BUILDS};
    const px_cli_opt opts[] = {{"log-key", 'l', PX_CLI_VALUE, &log_key, 0},
                               {"witness", 'w', PX_CLI_LIST, &witnesses, 0},
                               {"membership", 'm', PX_CLI_VALUE, &mpath, 0},
                               {"pod-key", 'p', PX_CLI_LIST, &pods, 0},
                               {"platform-key", 'P', PX_CLI_LIST, &platforms, 0},
                               {"build", 'b', PX_CLI_LIST, &builds, 0},
                               {"worker", 0, PX_CLI_LIST, &old_builds, 0}, /* the old name of --build */
                               {"min-witnesses", 'n', PX_CLI_VALUE, &min_w, 0},
                               {"json", 'j', PX_CLI_FLAG, json, 0},
                               {0}};
    px_cli_args a = {.cmd = "verify", .usage = usage, .opts = opts, .operands = "RECEIPT", .min = 1, .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return *status = a.status, -1;
    if (builds.n && old_builds.n)
        return *status = px_cli_usage_error(&a, "--worker is the old name of --build: give one of them"), -1;
    p->nbuilds = builds.n + old_builds.n;
    uint64_t n;
    if (min_w) {
        if (px_cli_number(&a, "--min-witnesses", min_w, 0, PX_VERIFY_MAX_PINS, &n))
            return *status = PX_EXIT_USAGE, -1;
        p->min_witnesses = (long)n;
    }
    *receipt = a.argv[0];
    *status = PX_EXIT_USAGE;
    char id[PX_NODE_ID_MAX + 1];
    px_verifier v;
    px_cosigner c;
    if (log_key) {
        if (px_verifier_load(&p->log_key, log_key, err))
            return px_err_prefix(err, "--log-key: ");
        p->has_log = 1;
    }
    for (size_t i = 0; i < witnesses.n; i++)
        if (px_cosig_load(&c, witnesses.v[i], err) || add_witness(p, &c, err))
            return px_err_prefix(err, "--witness: ");
    for (size_t i = 0; i < pods.n; i++)
        if (node_pin(pods.v[i], id, &v, err) || add_pod(p, id, &v, err))
            return px_err_prefix(err, "--pod-key: ");
    for (size_t i = 0; i < platforms.n; i++)
        if (node_pin(platforms.v[i], id, &v, err) || add_platform(p, id, &v, err))
            return px_err_prefix(err, "--platform-key: ");
    if (mpath && from_membership(p, mpath, err))
        return px_err_prefix(err, "--membership: ");
    return 0;
}

/* A training receipt (docs/fl.md) names its schema; a task's does not. */
static int is_training(const px_buf *b) {
    json_t *doc = px_json_parse(b->data, b->len, PX_RECEIPT_MAX_BYTES, NULL);
    const char *s = json_string_value(json_object_get(doc, "schema"));
    int yes = s && !strcmp(s, PX_TRAINING_RECEIPT_SCHEMA);
    json_decref(doc);
    return yes;
}

static int verify_training(const px_buf *b, const px_receipt_root *root, size_t npinned, int json) {
    px_err err = {0};
    px_training_summary t;
    if (px_training_receipt_verify(b->data, b->len, root, &t, &err)) {
        int status = err.code == PX_E_NOMEM || err.code == PX_E_IO ? PX_EXIT_USAGE : PX_EXIT_INVALID;
        if (json && status == PX_EXIT_INVALID)
            print_json_error(err.msg, 1);
        return px_cli_error(status, &err,
                            status == PX_EXIT_INVALID ? "verify: the training receipt does not verify" : "verify");
    }
    char first[2 * PX_SHA256_BYTES + 1], model[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(first, t.first, sizeof t.first);
    px_hex_encode(model, t.model, sizeof t.model);
    if (json)
        printf("{\"ok\":%s,\"training\":\"%s\",\"rounds\":%u,\"failed\":%s,\"model\":\"%s\",\"witnesses\":%zu}\n",
               t.failed ? "false" : "true", first, t.rounds, t.failed ? "true" : "false", model, npinned);
    else
        printf("training %s: %u round%s verified%s; the last model %s\n", first, t.rounds, t.rounds == 1 ? "" : "s",
               t.failed ? ", the last one a verified failure" : "", model);
    return t.failed ? PX_EXIT_INVALID : PX_EXIT_OK;
}

static int run(int argc, char **argv) {
    px_err err = {0};
    pins p = {.min_witnesses = -1};
    int json = 0, status;
    p.pods = calloc(PX_VERIFY_MAX_PINS, sizeof *p.pods);
    p.platforms = calloc(PX_VERIFY_MAX_PINS, sizeof *p.platforms);
    p.witnesses = calloc(PX_VERIFY_MAX_PINS, sizeof *p.witnesses);
    if (!p.pods || !p.platforms || !p.witnesses) {
        pins_free(&p);
        return px_cli_errorf(PX_EXIT_USAGE, "verify: out of memory");
    }
    const char *receipt = NULL;
    int a = parse_args(&p, argc, argv, &json, &receipt, &err, &status);
    if (a) {
        pins_free(&p);
        if (err.msg[0])
            px_cli_error(status, &err, "verify");
        return status;
    }
    px_buf b = PX_BUF_INIT;
    if (px_cli_read_input(receipt, PX_RECEIPT_MAX_BYTES, &b, &err)) {
        pins_free(&p);
        return px_cli_error(PX_EXIT_USAGE, &err, "verify");
    }
    if (!p.has_log) {
        status = unpinned(&b, json);
        px_buf_free(&b);
        pins_free(&p);
        return status;
    }
    if (p.min_witnesses > (long)p.nwitnesses) {
        px_buf_free(&b);
        pins_free(&p);
        return px_cli_errorf(PX_EXIT_USAGE, "verify: --min-witnesses %ld but only %zu witness(es) pinned",
                             p.min_witnesses, p.nwitnesses);
    }
    /* Builds: the pinned digests, or this machine's own build. */
    uint8_t accepted[PX_VERIFY_MAX_BUILDS][PX_SHA256_BYTES];
    px_lambda_build *own = NULL;
    if (px_node_builds_parse(accepted, p.builds, p.nbuilds, &err) || (!p.nbuilds && px_node_build(&own, NULL, &err))) {
        px_buf_free(&b);
        pins_free(&p);
        return px_cli_error(PX_EXIT_USAGE, &err, "verify");
    }
    px_receipt_root root = {.log_key = &p.log_key, .pods = p.pods, .npods = p.npods, .platforms = p.platforms,
                            .nplatforms = p.nplatforms,
                            .builds = p.nbuilds ? (const uint8_t(*)[PX_SHA256_BYTES])accepted
                                                : (const uint8_t(*)[PX_SHA256_BYTES])&own->digest,
                            .nbuilds = p.nbuilds ? p.nbuilds : 1, .witnesses = p.witnesses, .nwitnesses = p.nwitnesses,
                            .min_witnesses = p.min_witnesses < 0 ? p.nwitnesses : (size_t)p.min_witnesses};
    if (is_training(&b)) {
        status = verify_training(&b, &root, p.nwitnesses, json);
        px_buf_free(&b);
        if (own)
            px_node_build_free(own);
        pins_free(&p);
        return status;
    }
    px_receipt_summary s;
    int rc = px_receipt_verify(b.data, b.len, &root, &s, &err);
    px_buf_free(&b);
    if (own)
        px_node_build_free(own);
    if (rc) {
        status = err.code == PX_E_NOMEM || err.code == PX_E_IO ? PX_EXIT_USAGE : PX_EXIT_INVALID;
        if (json && status == PX_EXIT_INVALID)
            print_json_error(err.msg, 1);
        status = px_cli_error(status, &err, status == PX_EXIT_INVALID ? "verify: the receipt does not verify" : "verify");
    } else {
        status = PX_EXIT_OK;
        if (s.failed)
            status = print_failed(&s, p.nwitnesses, json);
        else
            print_ok(&s, p.nwitnesses, json);
        px_receipt_summary_free(&s);
    }
    pins_free(&p);
    return status;
}

const px_cli_cmd px_cli_verify = {"verify", "check a task receipt offline against a trust root", run};
