/* pixiu verify RECEIPT: check a task receipt offline. Exit 0 only when the
 * checkpoint, every cosignature, every inclusion proof and the audit of the
 * receipt's entries all hold; 1 naming the first thing that does not. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "pixiu/exec.h"

#define PX_VERIFY_MAX_WITNESSES 16

static const char usage[] =
    "usage: pixiu verify RECEIPT [--log-key KEY] [--witness KEY]... [--json]\n"
    "Checks a receipt written by `pixiu task submit` without any network access.\n"
    "KEY is a verifier key or a file holding one; without --log-key the receipt's own log key\n"
    "is used and the result only shows the receipt is self-consistent (said in the output).\n"
    "A failure receipt (a task that failed after its plan was published) is checked the same\n"
    "way, and its stated failure must be exactly what the audit of its entries says.\n"
    "Exit status: 0 a verified receipt of a task that succeeded; 1 a verified failure receipt\n"
    "(naming the failed stage), or a receipt that does not verify (naming why); 2 usage or I/O error.\n";

static void print_ok(const px_receipt_summary *s, int json) {
    char m[2 * PX_SHA256_BYTES + 1], r[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(m, s->manifest, sizeof s->manifest);
    px_hex_encode(r, s->result, sizeof s->result);
    if (json) {
        printf("{\"ok\":true,\"valid\":true,\"outcome\":\"ok\",\"manifest\":\"%s\",\"result\":\"%s\",\"tree_size\":%llu,\"entries\":%zu,"
               "\"cosignatures\":%zu,\"log_key_pinned\":%s,\"releases\":%llu}\n",
               m, r, (unsigned long long)s->tree_size, s->nentries, s->ncosigs, s->pinned ? "true" : "false",
               (unsigned long long)s->audit.releases);
        return;
    }
    fputs((const char *)s->audit.report.data, stdout);
    printf("receipt ok: result %s of task %s\n", r, m);
    printf("  %zu log entries proven in a checkpoint of %llu entries, %zu witness cosignature(s)\n", s->nentries,
           (unsigned long long)s->tree_size, s->ncosigs);
    if (!s->pinned)
        printf("  note: checked against the log key the receipt names; pass --log-key to pin it\n");
}

/* A receipt that holds, of a task that failed: what the log proves. */
static int print_failed(const px_receipt_summary *s, int json) {
    const px_audit *a = &s->audit;
    char m[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(m, s->manifest, sizeof s->manifest);
    if (json) {
        json_t *o = json_pack("{s:b,s:b,s:s,s:s,s:{s:s,s:I,s:I,s:s,s:s,s:s,s:o},s:I,s:I,s:I,s:b}", "ok", 0, "valid",
                              1, "outcome", "failed", "manifest", m, "failure", "verdict", px_verdict_name(a->verdict),
                              "stage", (json_int_t)a->stage, "partition", (json_int_t)a->partition, "node", a->node,
                              "status", a->status, "reason", a->why, "blamed",
                              a->blamed[0] ? json_string(a->blamed) : json_null(), "tree_size",
                              (json_int_t)s->tree_size, "entries", (json_int_t)s->nentries, "cosignatures",
                              (json_int_t)s->ncosigs, "log_key_pinned", s->pinned);
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
    printf("  %zu log entries proven in a checkpoint of %llu entries, %zu witness cosignature(s)\n", s->nentries,
           (unsigned long long)s->tree_size, s->ncosigs);
    if (!s->pinned)
        printf("  note: checked against the log key the receipt names; pass --log-key to pin it\n");
    return PX_EXIT_INVALID;
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"log-key", required_argument, 0, 'l'},
                                         {"witness", required_argument, 0, 'w'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0}};
    px_err err = {0};
    px_verifier logk;
    px_cosigner wit[PX_VERIFY_MAX_WITNESSES];
    px_receipt_pins pins = {0};
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:w:jh", opts, NULL)) != -1) {
        if (c == 'l') {
            if (px_verifier_load(&logk, optarg, &err))
                return px_cli_error(PX_EXIT_USAGE, &err, "verify: --log-key");
            pins.log_key = &logk;
        } else if (c == 'w') {
            if (pins.nwitnesses == PX_VERIFY_MAX_WITNESSES)
                return px_cli_errorf(PX_EXIT_USAGE, "verify: at most %d witnesses", PX_VERIFY_MAX_WITNESSES);
            if (px_cosigner_load(&wit[pins.nwitnesses], optarg, &err))
                return px_cli_error(PX_EXIT_USAGE, &err, "verify: --witness");
            pins.nwitnesses++;
        } else if (c == 'j') {
            json = 1;
        } else if (c == 'h') {
            return fputs(usage, stdout), PX_EXIT_OK;
        } else {
            return fputs(usage, stderr), PX_EXIT_USAGE;
        }
    }
    if (optind != argc - 1)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    pins.witnesses = wit;
    px_buf b = PX_BUF_INIT;
    if (px_cli_read_input(argv[optind], PX_RECEIPT_MAX_BYTES, &b, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "verify");
    px_receipt_summary s;
    int rc = px_receipt_check(b.data, b.len, &pins, &s, &err);
    px_buf_free(&b);
    if (rc) {
        if (err.code == PX_E_NOMEM || err.code == PX_E_IO)
            return px_cli_error(PX_EXIT_USAGE, &err, "verify");
        if (json) {
            json_t *o = json_pack("{s:b,s:b,s:s}", "ok", 0, "valid", 0, "error", err.msg);
            char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
            if (t)
                printf("%s\n", t);
            free(t);
            json_decref(o);
        }
        return px_cli_error(PX_EXIT_INVALID, &err, "verify: the receipt does not verify");
    }
    int status = PX_EXIT_OK;
    if (s.failed)
        status = print_failed(&s, json);
    else
        print_ok(&s, json);
    px_receipt_summary_free(&s);
    return status;
}

const px_cli_cmd px_cli_verify = {"verify", "check a task receipt offline", run};
