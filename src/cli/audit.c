/* pixiu audit TASK: read a task's entries from the public log and name the
 * first step that failed or is missing. Every party running this over the
 * same log prefix gets the same answer. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "node/node.h"

#define PX_AUDIT_MAX_BUILDS 16

static const char usage[] =
    "usage: pixiu audit TASK --log URL --membership FILE [--build HEX]... [--json]\n"
    "TASK is a manifest id (hex) or a signed manifest file. Reads the task's entries from the log,\n"
    "checks them against the membership's keys and the accepted builds (default: the build this\n"
    "machine runs, see `pixiu build`), and prints the walk, the verdict and the party the log\n"
    "itself blames (an instance that accepted its input and gave no proof by the manifest's\n"
    "deadline blames its executor; a consumer's report alone blames nobody).\n"
    "Exit status: 0 the task completed and every step is proven, 1 a step failed or is missing, 2 error.\n";

static int task_id(const char *arg, uint8_t id[PX_SHA256_BYTES], px_err *err) {
    if (strlen(arg) == 2 * PX_SHA256_BYTES && px_hex_decode_exact(id, PX_SHA256_BYTES, arg, strlen(arg), NULL) == 0)
        return 0;
    px_buf b = PX_BUF_INIT;
    px_manifest m;
    int rc = px_file_read(arg, PX_MANIFEST_MAX_BYTES, &b, err) || px_manifest_parse(&m, b.data, b.len, err);
    px_buf_free(&b);
    if (rc)
        return -1;
    memcpy(id, m.id, PX_SHA256_BYTES);
    px_manifest_free(&m);
    return 0;
}

static int print_json(const px_audit *a) {
    json_t *o = px_audit_json(a);
    px_buf b = PX_BUF_INIT;
    int rc = !o || px_json_dump(o, &b, NULL);
    if (!rc)
        printf("%.*s\n", (int)b.len, (const char *)b.data);
    json_decref(o);
    px_buf_free(&b);
    return rc;
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"log", required_argument, 0, 'l'}, {"membership", required_argument, 0, 'm'},
                                         {"build", required_argument, 0, 'b'}, {"worker", required_argument, 0, 'b'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'}, {0}};
    const char *log = NULL, *mpath = NULL;
    char *builds[PX_AUDIT_MAX_BUILDS];
    size_t nbuilds = 0;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:m:b:jh", opts, NULL)) != -1) {
        if (c == 'l')
            log = optarg;
        else if (c == 'm')
            mpath = optarg;
        else if (c == 'b' && nbuilds < PX_AUDIT_MAX_BUILDS)
            builds[nbuilds++] = optarg;
        else if (c == 'j')
            json = 1;
        else if (c == 'h')
            return fputs(usage, stdout), PX_EXIT_OK;
        else
            return fputs(usage, stderr), PX_EXIT_USAGE;
    }
    if (optind != argc - 1 || !log || !mpath)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    uint8_t id[PX_SHA256_BYTES];
    px_membership m;
    if (task_id(argv[optind], id, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "audit");
    if (px_membership_load(&m, mpath, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "audit");
    px_node_trust t;
    px_entry *e = NULL;
    size_t n = 0;
    int status = PX_EXIT_USAGE;
    uint8_t accepted[PX_AUDIT_MAX_BUILDS][PX_SHA256_BYTES];
    px_lambda_build *own = NULL;
    if (px_node_builds_parse(accepted, builds, nbuilds, &err) || (!nbuilds && px_node_build(&own, NULL, &err)) ||
        px_node_trust_init(&t, &m, nbuilds ? (const uint8_t(*)[PX_SHA256_BYTES])accepted
                                           : (const uint8_t(*)[PX_SHA256_BYTES])&own->digest,
                           nbuilds ? nbuilds : 1, own ? &own->build : NULL, &err)) {
        if (own)
            px_node_build_free(own);
        px_membership_free(&m);
        return px_cli_error(PX_EXIT_USAGE, &err, "audit");
    }
    px_audit a;
    if (px_logread_entries(log, "manifest", id, &e, &n, &err) ||
        px_audit_run_at(&a, id, e, n, t.pods, t.npods, px_exec_evidence_check, &t.exec, px_now_ms(), &err)) {
        status = px_cli_error(PX_EXIT_USAGE, &err, "audit");
    } else {
        if (json)
            print_json(&a);
        else
            fputs((const char *)a.report.data, stdout);
        status = a.verdict == PX_AUDIT_OK ? PX_EXIT_OK : PX_EXIT_INVALID;
        px_audit_free(&a);
    }
    for (size_t i = 0; i < n; i++)
        px_entry_free(&e[i]);
    free(e);
    px_node_trust_free(&t);
    if (own)
        px_node_build_free(own);
    px_membership_free(&m);
    return status;
}

const px_cli_cmd px_cli_audit = {"audit", "name the first step of a task that failed or is missing", run};
