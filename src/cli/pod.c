/* pixiu pod: a POD owner's command line. Every subcommand works on the POD
 * directory given by --pod (default: the current directory), which holds
 * pod.db and the POD's signing key pod.key / pod.vkey. */
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sqldb.h"
#include "cli/cli.h"
#include "pixiu/pod.h"

#define PATH_MAX_LEN 4096
#define INPUT_MAX PX_POD_IMPORT_MAX_BYTES
#define SMALL_FILE_MAX (4u << 20)
#define MAX_STAGES 16
#define DEMO_MAX_ROWS 20000000UL

static const char usage[] =
    "usage: pixiu pod <command> [--pod DIR] ...\n"
    "  init [--name KEYNAME]                   create DIR/pod.db and the POD key DIR/pod.key\n"
    "  dataset create NAME --schema FILE       declare a dataset (schema JSON, see docs/pod.md)\n"
    "  dataset list [--json]                   datasets with record counts\n"
    "  import DATASET FILE [--format csv|jsonl]  append rows, all or nothing\n"
    "  export DATASET [-o FILE]                the dataset as a PXR1 stream (prover input)\n"
    "  trust add KEY | remove NAME | list [--json] | config [--require authenticated|any]\n"
    "  policy set DATASET FILE | show DATASET\n"
    "  policy build add DIGEST | remove DIGEST | list [--json]\n"
    "                                          builds accepted besides this node's own (`pixiu build`)\n"
    "  admit MANIFEST DATASET --consumer ID --epsilon E --delta D [--stage KIND[:LEVEL[:CODEHEX]]]...\n"
    "  budget show [DATASET] [--consumer ID] [--json]   spent, limits and every charge with its state and why\n"
    "  budget history [DATASET] [--json] | refund MANIFEST DATASET\n"
    "  release MANIFEST DATASET --pod-id ID --stage-key HEX [-o STREAM]   prints the signed statement\n"
    "  releases [--json] | releases show ID\n"
    "  prove --config FILE [IN] [-o OUT] [--json]   run the data-prover stage on a stream\n"
    "  gen-demo --out DIR [--users N] [--txns N] [--seed S] [--bank-key FILE] [--signed-permille P]\n"
    "  inbox list [--all] [--json] | show ID [--json] | delete ID   what stages at the POD delivered\n"
    "Exit status: 0 ok, 1 refused (bad rows, denied admission, bad signatures), 2 usage or I/O error.\n";

typedef struct opts {
    const char *pod, *name, *schema, *format, *consumer, *epsilon, *delta, *stage_key, *pod_id, *out;
    const char *require, *config, *bank_key;
    const char *stages[MAX_STAGES];
    int nstages, json;
    unsigned long users, txns, seed, permille;
    char **args;
    int nargs;
} opts;

static int parse_ulong(const char *s, unsigned long *v) {
    char *end;
    *v = strtoul(s, &end, 10);
    return *s && !*end && *s != '-' ? 0 : -1;
}

static int parse_opts(int argc, char **argv, opts *o) {
    static const struct option lo[] = {
        {"pod", 1, 0, 'P'},       {"name", 1, 0, 'n'},     {"schema", 1, 0, 's'},    {"format", 1, 0, 'f'},
        {"consumer", 1, 0, 'c'},  {"epsilon", 1, 0, 'e'},  {"delta", 1, 0, 'd'},     {"stage", 1, 0, 'S'},
        {"stage-key", 1, 0, 'K'}, {"pod-id", 1, 0, 'I'},   {"out", 1, 0, 'o'},       {"require", 1, 0, 'r'},
        {"config", 1, 0, 'C'},    {"bank-key", 1, 0, 'B'}, {"users", 1, 0, 'u'},     {"txns", 1, 0, 't'},
        {"seed", 1, 0, 'x'},      {"signed-permille", 1, 0, 'p'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'},
        {0}};
    memset(o, 0, sizeof *o);
    o->pod = ".";
    o->users = 50, o->txns = 40, o->seed = 1, o->permille = 700;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        unsigned long *num = c == 'u'   ? &o->users
                             : c == 't' ? &o->txns
                             : c == 'x' ? &o->seed
                             : c == 'p' ? &o->permille
                                        : NULL;
        if (num && parse_ulong(optarg, num))
            return px_cli_errorf(PX_EXIT_USAGE, "pod: \"%s\" is not a non-negative integer", optarg), -1;
        switch (c) {
        case 'P': o->pod = optarg; break;
        case 'n': o->name = optarg; break;
        case 's': o->schema = optarg; break;
        case 'f': o->format = optarg; break;
        case 'c': o->consumer = optarg; break;
        case 'e': o->epsilon = optarg; break;
        case 'd': o->delta = optarg; break;
        case 'K': o->stage_key = optarg; break;
        case 'I': o->pod_id = optarg; break;
        case 'o': o->out = optarg; break;
        case 'r': o->require = optarg; break;
        case 'C': o->config = optarg; break;
        case 'B': o->bank_key = optarg; break;
        case 'j': o->json = 1; break;
        case 'S':
            if (o->nstages == MAX_STAGES)
                return px_cli_errorf(PX_EXIT_USAGE, "pod: at most %d --stage options", MAX_STAGES), -1;
            o->stages[o->nstages++] = optarg;
            break;
        case 'h': fputs(usage, stdout); return 1;
        case 'u': case 't': case 'x': case 'p': break;
        default: fputs(usage, stderr); return -1;
        }
    }
    o->args = argv + optind;
    o->nargs = argc - optind;
    return 0;
}

static int open_pod(const opts *o, px_pod **p) {
    char path[PATH_MAX_LEN];
    struct stat st;
    snprintf(path, sizeof path, "%s/pod.db", o->pod);
    if (stat(path, &st) != 0)
        return px_cli_errorf(PX_EXIT_USAGE, "pod: no POD at %s (run 'pixiu pod init --pod %s')", o->pod, o->pod), -1;
    px_err err = {0};
    if (px_private_dir(o->pod, 0, &err) || px_pod_open(p, path, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod"), -1;
    return 0;
}

/* 1 for refusals the input caused (bad rows, policy, budget, signatures), 2 for the rest. */
static int fail_status(const px_err *err) {
    return err->code == PX_E_INVALID || err->code == PX_E_VERIFY || err->code == PX_E_DENIED ||
                   err->code == PX_E_STATE || err->code == PX_E_LIMIT
               ? PX_EXIT_INVALID
               : PX_EXIT_USAGE;
}

static int write_out(const char *path, const px_buf *b) {
    if (!path || !strcmp(path, "-"))
        return fwrite(b->data, 1, b->len, stdout) == b->len ? 0 : -1;
    px_err err = {0};
    if (px_file_write_atomic(path, b->data, b->len, 0644, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod"), -1;
    return 0;
}

static int print_json(json_t *v) {
    int rc = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? PX_EXIT_OK : PX_EXIT_USAGE;
    fputc('\n', stdout);
    json_decref(v);
    return rc;
}

/* ---- init, datasets, import, export ---------------------------------------- */

static int cmd_init(const opts *o) {
    char path[PATH_MAX_LEN], kpath[PATH_MAX_LEN], vpath[PATH_MAX_LEN];
    snprintf(path, sizeof path, "%s/pod.db", o->pod);
    snprintf(kpath, sizeof kpath, "%s/pod.key", o->pod);
    snprintf(vpath, sizeof vpath, "%s/pod.vkey", o->pod);
    px_err err = {0};
    px_pod *p;
    /* The POD's records are plaintext: its directory and files are the
     * owner's alone (0700, 0600). */
    if (px_private_dir(o->pod, 1, &err) || px_pod_open(&p, path, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod init");
    px_pod_close(p);
    struct stat st;
    if (stat(kpath, &st) == 0)
        return printf("POD at %s (key kept)\n", o->pod), PX_EXIT_OK;
    px_signer s;
    px_verifier v;
    px_buf kb = PX_BUF_INIT, vb = PX_BUF_INIT;
    int rc = PX_EXIT_OK;
    if (px_signer_generate(&s, o->name ? o->name : "pod", &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod init");
    px_signer_verifier(&s, &v);
    if (px_signer_format(&s, &kb, &err) || px_buf_append_u8(&kb, '\n', &err) || px_verifier_format(&v, &vb, &err) ||
        px_buf_append_u8(&vb, '\n', &err) || px_file_write_atomic(kpath, kb.data, kb.len, 0600, &err) ||
        px_file_write_atomic(vpath, vb.data, vb.len, 0644, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "pod init");
    else
        printf("POD at %s, key %.*s", o->pod, (int)vb.len, (const char *)vb.data);
    px_signer_wipe(&s);
    px_buf_free(&kb);
    px_buf_free(&vb);
    return rc;
}

static int cmd_dataset(px_pod *p, const opts *o) {
    px_err err = {0};
    const char *sub = o->nargs ? o->args[0] : "";
    if (!strcmp(sub, "create") && o->nargs == 2 && o->schema) {
        px_buf b = PX_BUF_INIT;
        px_pod_schema s;
        int rc = px_file_read(o->schema, SMALL_FILE_MAX, &b, &err) ? PX_EXIT_USAGE
                 : px_pod_schema_parse(&s, b.data, b.len, &err) || px_pod_dataset_create(p, o->args[1], &s, &err)
                     ? fail_status(&err)
                     : PX_EXIT_OK;
        px_buf_free(&b);
        return rc ? px_cli_error(rc, &err, "pod dataset create") : PX_EXIT_OK;
    }
    if (!strcmp(sub, "list") && o->nargs == 1) {
        px_pod_dataset_info *v;
        size_t n;
        if (px_pod_dataset_list(p, &v, &n, &err))
            return px_cli_error(PX_EXIT_USAGE, &err, "pod dataset list");
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++) {
            if (o->json)
                json_array_append_new(a, json_pack("{s:s,s:I,s:I,s:I}", "name", v[i].name, "records",
                                                   (json_int_t)v[i].records, "signed", (json_int_t)v[i].signed_records,
                                                   "created", (json_int_t)v[i].created_ms));
            else
                printf("%s\t%llu records\t%llu signed\n", v[i].name, (unsigned long long)v[i].records,
                       (unsigned long long)v[i].signed_records);
        }
        free(v);
        return o->json ? print_json(a) : (json_decref(a), PX_EXIT_OK);
    }
    if (!strcmp(sub, "schema") && o->nargs == 2) {
        px_pod_schema s;
        px_buf b = PX_BUF_INIT;
        if (px_pod_dataset_schema(p, o->args[1], &s, &err) || px_pod_schema_format(&s, &b, &err))
            return px_buf_free(&b), px_cli_error(PX_EXIT_USAGE, &err, "pod dataset schema");
        printf("%.*s\n", (int)b.len, (const char *)b.data);
        px_buf_free(&b);
        return PX_EXIT_OK;
    }
    return fputs(usage, stderr), PX_EXIT_USAGE;
}

static int cmd_import(px_pod *p, const opts *o) {
    if (o->nargs != 2)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    const char *file = o->args[1], *fmt = o->format;
    if (!fmt) {
        size_t n = strlen(file);
        if (n > 6 && !strcmp(file + n - 6, ".jsonl"))
            fmt = "jsonl";
        else if (n > 4 && !strcmp(file + n - 4, ".csv"))
            fmt = "csv";
    }
    if (!fmt || (strcmp(fmt, "csv") && strcmp(fmt, "jsonl")))
        return px_cli_errorf(PX_EXIT_USAGE, "pod import: say --format csv or --format jsonl");
    px_err err = {0};
    px_buf in = PX_BUF_INIT;
    if (px_cli_read_input(file, INPUT_MAX, &in, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod import");
    px_pod_report rep;
    memset(&rep, 0, sizeof rep);
    uint64_t added = 0;
    int rc = PX_EXIT_OK;
    if (px_pod_import(p, o->args[0], !strcmp(fmt, "csv") ? PX_POD_CSV : PX_POD_JSONL, in.data, in.len, &added, &rep,
                      &err)) {
        /* every bad line the report kept, then the one-line verdict */
        if (rep.errors > 1)
            fprintf(stderr, "%.*s", (int)rep.text.len, (const char *)rep.text.data);
        rc = px_cli_error(fail_status(&err), &err, "pod import");
    } else {
        printf("imported %llu records into %s\n", (unsigned long long)added, o->args[0]);
    }
    px_pod_report_free(&rep);
    px_buf_free(&in);
    return rc;
}

static int cmd_export(px_pod *p, const opts *o) {
    if (o->nargs != 1)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    px_buf out = PX_BUF_INIT;
    px_pod_export_info info;
    int rc = PX_EXIT_OK;
    if (px_pod_export(p, o->args[0], &out, &info, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "pod export");
    else if (write_out(o->out, &out))
        rc = PX_EXIT_USAGE;
    else {
        char hex[65];
        px_hex_encode(hex, info.digest, 32);
        fprintf(stderr, "%llu records (%llu signed), sha256 %s\n", (unsigned long long)info.records,
                (unsigned long long)info.signed_records, hex);
    }
    px_buf_free(&out);
    return rc;
}

/* ---- trust store and policy ---------------------------------------------- */

static int cmd_trust(px_pod *p, const opts *o) {
    px_err err = {0};
    const char *sub = o->nargs ? o->args[0] : "";
    if (!strcmp(sub, "add") && o->nargs == 2) {
        px_buf b = PX_BUF_INIT;
        struct stat st;
        const char *text = o->args[1];
        if (stat(text, &st) == 0) { /* a file holding the key */
            if (px_file_read(text, SMALL_FILE_MAX, &b, &err) || !px_buf_cstr(&b, &err))
                return px_buf_free(&b), px_cli_error(PX_EXIT_USAGE, &err, "pod trust add");
            text = (const char *)b.data;
        }
        int rc = px_pod_trust_add(p, text, &err) ? px_cli_error(fail_status(&err), &err, "pod trust add") : PX_EXIT_OK;
        px_buf_free(&b);
        return rc;
    }
    if (!strcmp(sub, "remove") && o->nargs == 2)
        return px_pod_trust_remove(p, o->args[1], &err) ? px_cli_error(PX_EXIT_USAGE, &err, "pod trust remove")
                                                         : PX_EXIT_OK;
    if ((!strcmp(sub, "list") || !strcmp(sub, "config")) && o->nargs == 1) {
        px_source_key *keys;
        size_t n;
        if (px_pod_trust_list(p, &keys, &n, &err))
            return px_cli_error(fail_status(&err), &err, "pod trust");
        px_buf b = PX_BUF_INIT;
        int rc = PX_EXIT_OK;
        if (!strcmp(sub, "config")) {
            int req = !o->require || !strcmp(o->require, "authenticated");
            if (o->require && strcmp(o->require, "authenticated") && strcmp(o->require, "any"))
                rc = px_cli_errorf(PX_EXIT_USAGE, "pod trust config: --require authenticated or any");
            else if (px_prover_config_format(&b, keys, n, req, &err))
                rc = px_cli_error(PX_EXIT_USAGE, &err, "pod trust config");
            else
                printf("%.*s\n", (int)b.len, (const char *)b.data);
        } else {
            json_t *a = json_array();
            for (size_t i = 0; i < n; i++) {
                b.len = 0;
                px_source_key_format(&keys[i], &b, &err);
                const char *alg = keys[i].alg == PX_SRC_P256 ? "ecdsa-p256" : "ed25519";
                if (o->json)
                    json_array_append_new(a, json_pack("{s:s,s:s,s:s%}", "name", keys[i].name, "alg", alg, "key",
                                                       (const char *)b.data, b.len));
                else
                    printf("%s\t%s\t%.*s\n", keys[i].name, alg, (int)b.len, (const char *)b.data);
            }
            rc = o->json ? print_json(a) : (json_decref(a), PX_EXIT_OK);
        }
        px_buf_free(&b);
        px_source_keys_free(keys, n);
        return rc;
    }
    return fputs(usage, stderr), PX_EXIT_USAGE;
}

/* `policy build add|remove|list`: the accepted builds, for every dataset. */
static int cmd_policy_build(px_pod *p, const opts *o) {
    px_err err = {0};
    const char *sub = o->nargs > 1 ? o->args[1] : "";
    uint8_t d[PX_SHA256_BYTES];
    if ((!strcmp(sub, "add") || !strcmp(sub, "remove")) && o->nargs == 3) {
        const char *hex = o->args[2];
        if (strlen(hex) != 2 * PX_SHA256_BYTES || px_hex_decode_exact(d, sizeof d, hex, strlen(hex), NULL))
            return px_cli_errorf(PX_EXIT_USAGE, "pod policy build %s: \"%.70s\" is not a hex build digest", sub, hex);
        int rc = !strcmp(sub, "add") ? px_pod_build_add(p, d, &err) : px_pod_build_remove(p, d, &err);
        return rc ? px_cli_error(PX_EXIT_USAGE, &err, "pod policy build") : PX_EXIT_OK;
    }
    if (strcmp(sub, "list") || o->nargs != 2)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    uint8_t(*builds)[PX_SHA256_BYTES];
    size_t n;
    if (px_pod_build_list(p, &builds, &n, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod policy build list");
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char hex[2 * PX_SHA256_BYTES + 1];
        px_hex_encode(hex, builds[i], PX_SHA256_BYTES);
        if (o->json)
            json_array_append_new(a, json_string(hex));
        else
            printf("%s\n", hex);
    }
    free(builds);
    return o->json ? print_json(a) : (json_decref(a), PX_EXIT_OK);
}

static int cmd_policy(px_pod *p, const opts *o) {
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    int rc;
    const char *sub = o->nargs ? o->args[0] : "";
    if (!strcmp(sub, "build"))
        return cmd_policy_build(p, o);
    if (!strcmp(sub, "set") && o->nargs == 3) {
        if (px_file_read(o->args[2], SMALL_FILE_MAX, &b, &err))
            rc = px_cli_error(PX_EXIT_USAGE, &err, "pod policy set");
        else if (px_pod_policy_set(p, o->args[1], b.data, b.len, &err))
            rc = px_cli_error(fail_status(&err), &err, "pod policy set");
        else
            rc = PX_EXIT_OK;
    } else if (!strcmp(sub, "show") && o->nargs == 2) {
        if (px_pod_policy_get(p, o->args[1], &b, &err))
            rc = px_cli_error(PX_EXIT_USAGE, &err, "pod policy show");
        else
            rc = (printf("%.*s\n", (int)b.len, (const char *)b.data), PX_EXIT_OK);
    } else
        rc = (fputs(usage, stderr), PX_EXIT_USAGE);
    px_buf_free(&b);
    return rc;
}

/* ---- admission, budget, releases ------------------------------------------ */

/* "KIND[:LEVEL[:CODEHEX]]" into a stage request; code is the digest storage. */
static int parse_stage(const char *spec, px_pod_stage_req *s, char *kind, uint8_t code[32]) {
    char buf[160];
    snprintf(buf, sizeof buf, "%s", spec);
    char *lvl = strchr(buf, ':'), *hex = NULL;
    if (lvl) {
        *lvl++ = 0;
        if ((hex = strchr(lvl, ':')))
            *hex++ = 0;
    }
    unsigned long l = 1;
    if (!*buf || strlen(buf) > PX_STAGE_KIND_MAX || (lvl && parse_ulong(lvl, &l)) || l > 1000)
        return -1;
    strcpy(kind, buf);
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->level = (int)l;
    if (hex) {
        if (px_hex_decode_exact(code, 32, hex, strlen(hex), NULL))
            return -1;
        s->code_digest = code;
    }
    return 0;
}

static int cmd_admit(px_pod *p, const opts *o) {
    if (o->nargs != 2 || !o->consumer || !o->epsilon || !o->delta)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_pod_stage_req st[MAX_STAGES];
    char kinds[MAX_STAGES][PX_STAGE_KIND_MAX + 1];
    uint8_t codes[MAX_STAGES][32];
    for (int i = 0; i < o->nstages; i++)
        if (parse_stage(o->stages[i], &st[i], kinds[i], codes[i]))
            return px_cli_errorf(PX_EXIT_USAGE, "pod admit: bad --stage \"%s\" (KIND[:LEVEL[:CODEHEX]])", o->stages[i]);
    px_pod_request req = {o->consumer, o->args[1], st, (size_t)o->nstages, NULL, 0};
    px_err err = {0};
    if (px_pod_admit(p, o->args[0], &req, o->epsilon, o->delta, &err))
        return px_cli_error(fail_status(&err), &err, "pod admit");
    printf("admitted %s on %s: epsilon %s, delta %s\n", o->args[0], o->args[1], o->epsilon, o->delta);
    return PX_EXIT_OK;
}

static json_t *charge_json(const px_pod_charge *c) {
    char e[PX_AMOUNT_TEXT_MAX], d[PX_AMOUNT_TEXT_MAX];
    px_eps_format(e, c->eps);
    px_delta_format(d, c->delta);
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s?}", "id", (json_int_t)c->id, "manifest", c->manifest,
                     "dataset", c->dataset, "consumer", c->consumer, "epsilon", e, "delta", d, "state",
                     px_charge_state_name(c->state), "created", (json_int_t)c->created_ms, "updated",
                     (json_int_t)c->updated_ms, "reason", c->reason[0] ? c->reason : NULL);
}

/* One dataset: what is spent of what is allowed, then each charge (of the
 * consumer, if one is named) with its state and why it is in it. */
static int show_dataset(px_pod *p, const char *dataset, const char *consumer, int json, json_t *arr, px_err *err) {
    px_pod_budget_status st;
    px_pod_charge *h = NULL;
    size_t n = 0;
    if (px_pod_budget_status_get(p, dataset, consumer, &st, err) || px_pod_budget_history(p, dataset, &h, &n, err))
        return -1;
    char es[PX_AMOUNT_TEXT_MAX], el[PX_AMOUNT_TEXT_MAX], ds[PX_AMOUNT_TEXT_MAX], dl[PX_AMOUNT_TEXT_MAX];
    px_eps_format(es, st.eps_spent), px_eps_format(el, st.eps_limit);
    px_delta_format(ds, st.delta_spent), px_delta_format(dl, st.delta_limit);
    json_t *charges = json_array();
    if (json)
        json_array_append_new(arr, json_pack("{s:s,s:s?,s:s,s:s,s:s,s:s,s:o}", "dataset", dataset, "consumer",
                                             consumer, "epsilon_spent", es, "epsilon_limit", el, "delta_spent", ds,
                                             "delta_limit", dl, "charges", charges));
    else
        printf("%s%s%s: epsilon %s of %s, delta %s of %s\n", dataset, consumer ? " for " : "", consumer ? consumer : "",
               es, el, ds, dl);
    for (size_t i = 0; i < n; i++) {
        if (consumer && strcmp(consumer, h[i].consumer))
            continue;
        json_t *j = charge_json(&h[i]);
        if (!json)
            printf("  charge %lld task %.16s... by %s: epsilon %s, delta %s: %s%s%s\n", (long long)h[i].id,
                   h[i].manifest, h[i].consumer, json_string_value(json_object_get(j, "epsilon")),
                   json_string_value(json_object_get(j, "delta")), px_charge_state_name(h[i].state),
                   h[i].reason[0] ? ": " : "", h[i].reason);
        if (json)
            json_array_append(charges, j);
        json_decref(j);
    }
    if (!json)
        json_decref(charges);
    free(h);
    return 0;
}

static int cmd_budget_show(px_pod *p, const opts *o) {
    px_err err = {0};
    json_t *arr = json_array();
    int rc = 0;
    if (o->nargs == 2) {
        rc = show_dataset(p, o->args[1], o->consumer, o->json, arr, &err);
    } else {
        char(*names)[PX_KEY_NAME_MAX + 1] = NULL;
        size_t n = 0;
        rc = px_pod_budget_datasets(p, &names, &n, &err);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = show_dataset(p, names[i], o->consumer, o->json, arr, &err);
        free(names);
    }
    if (rc) {
        json_decref(arr);
        return px_cli_error(PX_EXIT_USAGE, &err, "pod budget show");
    }
    /* One dataset: its object, as before; all of them: an array. */
    if (o->json && o->nargs == 2) {
        json_t *one = json_incref(json_array_get(arr, 0));
        json_decref(arr);
        return print_json(one);
    }
    return o->json ? print_json(arr) : (json_decref(arr), PX_EXIT_OK);
}

static int cmd_budget(px_pod *p, const opts *o) {
    px_err err = {0};
    const char *sub = o->nargs ? o->args[0] : "";
    if (!strcmp(sub, "show") && o->nargs <= 2)
        return cmd_budget_show(p, o);
    if (!strcmp(sub, "history") && o->nargs <= 2) {
        px_pod_charge *h;
        size_t n;
        if (px_pod_budget_history(p, o->nargs == 2 ? o->args[1] : NULL, &h, &n, &err))
            return px_cli_error(PX_EXIT_USAGE, &err, "pod budget history");
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *j = charge_json(&h[i]);
            if (o->json)
                json_array_append(a, j);
            else
                printf("%lld\t%s\t%s\t%s\tepsilon %s\tdelta %s\t%s%s%s\n", (long long)h[i].id, h[i].manifest,
                       h[i].dataset, h[i].consumer, json_string_value(json_object_get(j, "epsilon")),
                       json_string_value(json_object_get(j, "delta")), px_charge_state_name(h[i].state),
                       h[i].reason[0] ? "\t" : "", h[i].reason);
            json_decref(j);
        }
        free(h);
        return o->json ? print_json(a) : (json_decref(a), PX_EXIT_OK);
    }
    if (!strcmp(sub, "refund") && o->nargs == 3)
        return px_pod_budget_refund(p, o->args[1], o->args[2], &err)
                   ? px_cli_error(fail_status(&err), &err, "pod budget refund")
                   : PX_EXIT_OK;
    return fputs(usage, stderr), PX_EXIT_USAGE;
}

static int cmd_release(px_pod *p, const opts *o) {
    if (o->nargs != 2 || !o->pod_id || !o->stage_key)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    uint8_t key[PX_BOX_PUBLICKEYBYTES];
    if (px_hex_decode_exact(key, sizeof key, o->stage_key, strlen(o->stage_key), &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod release: --stage-key");
    char kpath[PATH_MAX_LEN];
    snprintf(kpath, sizeof kpath, "%s/pod.key", o->pod);
    px_signer s;
    if (px_signer_load(&s, kpath, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod release");
    px_buf stream = PX_BUF_INIT, env = PX_BUF_INIT;
    int rc = PX_EXIT_OK;
    if (px_pod_release(p, &s, o->pod_id, o->args[0], o->args[1], key, &stream, &env, &err))
        rc = px_cli_error(fail_status(&err), &err, "pod release");
    else if (o->out && write_out(o->out, &stream))
        rc = PX_EXIT_USAGE;
    else
        printf("%.*s\n", (int)env.len, (const char *)env.data);
    px_signer_wipe(&s);
    px_buf_free(&stream);
    px_buf_free(&env);
    return rc;
}

static int cmd_releases(px_pod *p, const opts *o) {
    px_err err = {0};
    if (o->nargs == 2 && !strcmp(o->args[0], "show")) {
        px_buf env = PX_BUF_INIT;
        int rc = PX_EXIT_OK;
        if (px_pod_release_get(p, o->args[1], &env, &err))
            rc = px_cli_error(PX_EXIT_USAGE, &err, "pod releases show");
        else
            printf("%.*s\n", (int)env.len, (const char *)env.data);
        px_buf_free(&env);
        return rc;
    }
    if (o->nargs)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_pod_release_row *v;
    size_t n;
    if (px_pod_release_list(p, &v, &n, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod releases");
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const px_release_info *r = &v[i].info;
        char d[65], e[PX_AMOUNT_TEXT_MAX], dl[PX_AMOUNT_TEXT_MAX];
        px_hex_encode(d, r->dataset_digest, 32);
        px_eps_format(e, r->eps);
        px_delta_format(dl, r->delta);
        if (o->json)
            json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:I}", "id", v[i].id, "manifest",
                                               r->manifest, "dataset", r->dataset, "dataset_digest", d, "records",
                                               (json_int_t)r->records, "signed", (json_int_t)r->signed_records,
                                               "unsigned", (json_int_t)r->unsigned_records, "epsilon", e, "delta", dl,
                                               "released", (json_int_t)r->released_ms));
        else
            printf("%s\t%s\t%s\t%llu records (%llu signed)\tepsilon %s\n", v[i].id, r->manifest, r->dataset,
                   (unsigned long long)r->records, (unsigned long long)r->signed_records, e);
    }
    free(v);
    return o->json ? print_json(a) : (json_decref(a), PX_EXIT_OK);
}

/* ---- the prover and demo data (no POD needed) --------------------------------- */

static int cmd_prove(const opts *o) {
    if (!o->config || o->nargs > 1)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    px_buf cfg = PX_BUF_INIT, in = PX_BUF_INIT, out = PX_BUF_INIT;
    px_prover_config c;
    px_prover_counts n;
    int rc = PX_EXIT_OK;
    if (px_file_read(o->config, SMALL_FILE_MAX, &cfg, &err) || px_prover_config_parse(&c, cfg.data, cfg.len, &err)) {
        px_buf_free(&cfg);
        return px_cli_error(PX_EXIT_USAGE, &err, "pod prove");
    }
    if (px_cli_read_input(o->nargs ? o->args[0] : "-", INPUT_MAX, &in, &err) ||
        px_prover_run(&c, in.data, in.len, &out, &n, &err))
        rc = px_cli_error(fail_status(&err), &err, "pod prove");
    else if (write_out(o->out ? o->out : "-", &out))
        rc = PX_EXIT_USAGE;
    else {
        FILE *f = o->out ? stdout : stderr; /* keep stdout for the stream */
        if (o->json)
            fprintf(f, "{\"records\":%llu,\"authenticated\":%llu,\"alleged\":%llu,\"dropped\":%llu,\"unsigned\":%llu,"
                       "\"unknown_source\":%llu,\"bad_signature\":%llu}\n",
                    (unsigned long long)n.records, (unsigned long long)n.authenticated, (unsigned long long)n.alleged,
                    (unsigned long long)n.dropped, (unsigned long long)n.unsigned_records,
                    (unsigned long long)n.unknown_source, (unsigned long long)n.bad_signature);
        else
            fprintf(f, "%llu records: %llu authenticated, %llu alleged, %llu dropped\n", (unsigned long long)n.records,
                    (unsigned long long)n.authenticated, (unsigned long long)n.alleged, (unsigned long long)n.dropped);
    }
    px_prover_config_free(&c);
    px_buf_free(&cfg);
    px_buf_free(&in);
    px_buf_free(&out);
    return rc;
}

static int cmd_gen_demo(const opts *o) {
    if (!o->out || o->nargs || o->permille > 1000 || o->users == 0 || o->users > 10000000 || o->txns > 100000 ||
        o->users * o->txns > DEMO_MAX_ROWS)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    px_err err = {0};
    px_source_signer bank;
    int have_bank = 0;
    if (o->bank_key) {
        if (px_source_signer_load(&bank, o->bank_key, &err))
            return px_cli_error(PX_EXIT_USAGE, &err, "pod gen-demo");
        have_bank = 1;
    }
    mkdir(o->out, 0755);
    char cpath[PATH_MAX_LEN], spath[PATH_MAX_LEN];
    snprintf(cpath, sizeof cpath, "%s/transactions.csv", o->out);
    snprintf(spath, sizeof spath, "%s/schema.json", o->out);
    px_buf csv = PX_BUF_INIT, schema = PX_BUF_INIT;
    int rc = PX_EXIT_OK;
    if (px_pod_demo_generate(&csv, &schema, (uint32_t)o->users, (uint32_t)o->txns, o->seed, have_bank ? &bank : NULL,
                             (unsigned)o->permille, &err) ||
        px_buf_append_u8(&schema, '\n', &err) || px_file_write_atomic(cpath, csv.data, csv.len, 0644, &err) ||
        px_file_write_atomic(spath, schema.data, schema.len, 0644, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "pod gen-demo");
    else
        printf("%s (%lu users x %lu transactions), %s\n", cpath, o->users, o->txns, spath);
    if (have_bank)
        px_source_signer_free(&bank);
    px_buf_free(&csv);
    px_buf_free(&schema);
    return rc;
}

static int run(int argc, char **argv) {
    if (argc < 2)
        return fputs(usage, stderr), PX_EXIT_USAGE;
    const char *cmd = argv[1];
    /* Forms in their own file (src/cli/pod_<form>.c) parse their own options. */
    extern const px_cli_form px_cli_pod_inbox;
    if (!strcmp(cmd, px_cli_pod_inbox.name))
        return px_cli_pod_inbox.run(argc - 1, argv + 1);
    opts o;
    int pr = parse_opts(argc - 1, argv + 1, &o);
    if (pr)
        return pr > 0 ? PX_EXIT_OK : PX_EXIT_USAGE;
    if (!strcmp(cmd, "init"))
        return o.nargs ? (fputs(usage, stderr), PX_EXIT_USAGE) : cmd_init(&o);
    if (!strcmp(cmd, "prove"))
        return cmd_prove(&o);
    if (!strcmp(cmd, "gen-demo"))
        return cmd_gen_demo(&o);
    static const struct {
        const char *name;
        int (*fn)(px_pod *, const opts *);
    } table[] = {{"dataset", cmd_dataset}, {"import", cmd_import},   {"export", cmd_export},
                 {"trust", cmd_trust},     {"policy", cmd_policy},   {"admit", cmd_admit},
                 {"budget", cmd_budget},   {"release", cmd_release}, {"releases", cmd_releases}};
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        if (strcmp(cmd, table[i].name))
            continue;
        px_pod *p;
        if (open_pod(&o, &p))
            return PX_EXIT_USAGE;
        int rc = table[i].fn(p, &o);
        px_pod_close(p);
        return rc;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help"))
        return fputs(usage, stdout), PX_EXIT_OK;
    return px_cli_errorf(PX_EXIT_USAGE, "pod: unknown command '%s' (see 'pixiu pod --help')", cmd);
}

const px_cli_cmd px_cli_pod = {"pod", "a POD: datasets, trust store, policy, budget, releases, prover", run};
