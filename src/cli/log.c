/* pixiu log: run, feed, query and check a public log.
 *
 *   serve               run the log service over HTTP until SIGTERM/SIGINT
 *   append              append one entry (file or stdin) to a log
 *   checkpoint          print (and check) a log's checkpoint
 *   get / find          fetch an entry; find entries by digest
 *   prove               an inclusion proof in the test-vector JSON form
 *   verify-inclusion    check a proof file: exit 0 valid, 1 invalid, 2 unreadable
 *   verify-consistency  the same for a consistency proof
 *   check-consistency   is a checkpoint seen before consistent with the current one?
 *   witness             cosign a log's checkpoint if consistent with the last one,
 *                       locally or through a witness's tlog-witness endpoint
 *   witness-serve       run a witness (C2SP tlog-witness add-checkpoint)
 *   mirror              copy a log into a directory as static tiles, verifying all of it
 *   cosigner-key        print the cosignature verifier key of a private key
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "pixiu/log.h"

#define URL_MAX 2048
#define RESP_MAX (64u << 20)
#define TIMEOUT_MS 60000
#define SERVE_BODY_MAX (16u << 20) /* one request, whatever the entry limit */

static const char usage[] =
    "usage: pixiu log serve --store STORE --key KEYFILE [--origin O] [--listen ADDR:PORT]\n"
    "                       [--max-entry BYTES] [--port-file FILE]\n"
    "       pixiu log append --url URL [--wait] [FILE|-]\n"
    "       pixiu log checkpoint --url URL [--key VKEY] [--witness-key COSIGNER_VKEY]\n"
    "       pixiu log get --url URL INDEX\n"
    "       pixiu log find --url URL (--subject|--input|--manifest) HEX\n"
    "       pixiu log prove --url URL --index I [--size S] [--key VKEY]\n"
    "       pixiu log verify-inclusion FILE.json\n"
    "       pixiu log verify-consistency FILE.json\n"
    "       pixiu log check-consistency --url URL --key VKEY OLD_CHECKPOINT\n"
    "       pixiu log witness --url URL --state DB --key KEYFILE --log-key VKEY\n"
    "       pixiu log witness --url URL --witness-url WURL [--log-key VKEY]\n"
    "       pixiu log witness-serve --state DB --key KEYFILE --log-key VKEY [--log-key ...]\n"
    "                               [--listen ADDR:PORT] [--port-file FILE]\n"
    "       pixiu log mirror --url URL --key VKEY --out DIR\n"
    "       pixiu log cosigner-key KEYFILE\n"
    "STORE is sqlite:PATH, postgres:CONNINFO or a path. Proof files use the JSON\n"
    "form of the transparency-dev/merkle test vectors.\n";

/* ---- shared option parsing -------------------------------------------------- */

#define LOG_KEYS_MAX 16
_Static_assert(PX_KEY_NAME_MAX < PX_LOG_ORIGIN_MAX, "a key name must fit an origin line");

typedef struct opts {
    const char *store, *key, *origin, *listen, *port_file, *url, *state, *log_key, *witness_url;
    const char *log_keys[LOG_KEYS_MAX];
    size_t nlog_keys;
    const char *witnesses[PX_LOG_WITNESSES_MAX]; /* COSIGNER_VKEY@URL */
    size_t nwitnesses;
    const char *witness_key, *out_dir;
    const char *subject, *input, *manifest;
    const char *index, *size, *max_entry;
    int wait;
} opts;

static int parse_opts(int argc, char **argv, opts *o) {
    static const struct option lo[] = {
        {"store", required_argument, 0, 's'},   {"key", required_argument, 0, 'k'},
        {"origin", required_argument, 0, 'o'},  {"listen", required_argument, 0, 'l'},
        {"port-file", required_argument, 0, 'P'}, {"url", required_argument, 0, 'u'},
        {"state", required_argument, 0, 'S'},   {"log-key", required_argument, 0, 'L'},
        {"subject", required_argument, 0, 'j'}, {"input", required_argument, 0, 'i'},
        {"manifest", required_argument, 0, 'm'}, {"index", required_argument, 0, 'x'},
        {"size", required_argument, 0, 'z'},    {"max-entry", required_argument, 0, 'M'},
        {"wait", no_argument, 0, 'w'},          {"witness-url", required_argument, 0, 'W'},
        {"witness", required_argument, 0, 'V'},  {"witness-key", required_argument, 0, 'K'},
        {"out", required_argument, 0, 'O'}, {0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 's': o->store = optarg; break;
        case 'k': o->key = optarg; break;
        case 'o': o->origin = optarg; break;
        case 'l': o->listen = optarg; break;
        case 'P': o->port_file = optarg; break;
        case 'u': o->url = optarg; break;
        case 'S': o->state = optarg; break;
        case 'L':
            o->log_key = optarg;
            if (o->nlog_keys == LOG_KEYS_MAX)
                return -1;
            o->log_keys[o->nlog_keys++] = optarg;
            break;
        case 'W': o->witness_url = optarg; break;
        case 'V':
            if (o->nwitnesses == PX_LOG_WITNESSES_MAX)
                return -1;
            o->witnesses[o->nwitnesses++] = optarg;
            break;
        case 'K': o->witness_key = optarg; break;
        case 'O': o->out_dir = optarg; break;
        case 'j': o->subject = optarg; break;
        case 'i': o->input = optarg; break;
        case 'm': o->manifest = optarg; break;
        case 'x': o->index = optarg; break;
        case 'z': o->size = optarg; break;
        case 'M': o->max_entry = optarg; break;
        case 'w': o->wait = 1; break;
        default: return -1;
        }
    }
    return 0;
}

static int need(const char *v, const char *name) {
    if (v)
        return 0;
    fprintf(stderr, "pixiu: log: %s is required\n%s", name, usage);
    return -1;
}

static int to_u64(const char *s, uint64_t *out) {
    char *end;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end)
        return -1;
    *out = v;
    return 0;
}

/* GET or POST url+path; 2xx is success, anything else an error naming the
 * server's message. */
static int call(const char *method, const char *url, const char *path, const void *body, size_t len,
                px_buf *out, px_err *err) {
    char full[URL_MAX];
    int n = snprintf(full, sizeof full, "%s%s", url, path);
    if (n < 0 || (size_t)n >= sizeof full)
        return px_fail(err, PX_E_INVALID, "URL too long");
    int status = 0;
    size_t mark = out->len;
    if (px_http_call(method, full, NULL, 0, body, len, TIMEOUT_MS, RESP_MAX, &status, out, err))
        return -1;
    if (status / 100 != 2) {
        const char *msg = px_buf_cstr(out, NULL);
        json_t *j = msg ? px_json_parse(out->data + mark, out->len - mark, RESP_MAX, NULL) : NULL;
        const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
        px_fail(err, status == 404 ? PX_E_NOTFOUND : PX_E_UNAVAILABLE, "%s: HTTP %d: %s", full, status,
                e ? e : "no error message");
        json_decref(j);
        out->len = mark;
        return -1;
    }
    return 0;
}

/* ---- serve ---------------------------------------------------------------- */

static int split_listen(const char *listen, char *addr, size_t cap, uint16_t *port) {
    const char *colon = strrchr(listen, ':');
    uint64_t p;
    if (!colon || (size_t)(colon - listen) >= cap || to_u64(colon + 1, &p) || p > 65535)
        return -1;
    memcpy(addr, listen, (size_t)(colon - listen));
    addr[colon - listen] = '\0';
    *port = (uint16_t)p;
    return 0;
}

/* Block the stop signals (before any thread starts) so sigwait can take
 * them. */
static void block_stop_signals(sigset_t *stop) {
    sigemptyset(stop);
    sigaddset(stop, SIGTERM);
    sigaddset(stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, stop, NULL);
}

static int announce(const char *what, const char *addr, px_http_server *srv, const char *port_file, px_err *err) {
    char line[64];
    int n = snprintf(line, sizeof line, "%u\n", px_http_server_port(srv));
    if (port_file && px_file_write_atomic(port_file, line, (size_t)n, 0644, err))
        return -1;
    printf("pixiu log: %s on http://%s:%u\n", what, addr, px_http_server_port(srv));
    fflush(stdout);
    return 0;
}

static int cmd_serve(opts *o) {
    if (need(o->store, "--store") || need(o->key, "--key"))
        return PX_EXIT_USAGE;
    char addr[64] = "127.0.0.1";
    uint16_t port = 0;
    uint64_t max_entry = 0;
    if (o->listen && split_listen(o->listen, addr, sizeof addr, &port))
        return px_cli_errorf(PX_EXIT_USAGE, "log serve: --listen must be ADDR:PORT");
    if (o->max_entry && (to_u64(o->max_entry, &max_entry) || max_entry == 0 || max_entry > PX_LOG_ENTRY_MAX))
        return px_cli_errorf(PX_EXIT_USAGE, "log serve: --max-entry must be 1..%d", PX_LOG_ENTRY_MAX);
    px_err err = {0};
    px_log_witness wit[PX_LOG_WITNESSES_MAX];
    for (size_t i = 0; i < o->nwitnesses; i++) {
        const char *at = strchr(o->witnesses[i], '@');
        if (!at || (size_t)(strlen(at + 1)) >= sizeof wit[i].url ||
            px_cosigner_parse(&wit[i].key, o->witnesses[i], (size_t)(at - o->witnesses[i]), &err))
            return px_cli_errorf(PX_EXIT_USAGE, "log serve: --witness must be COSIGNER_VKEY@URL (%s)",
                                 at ? err.msg : "no '@'");
        snprintf(wit[i].url, sizeof wit[i].url, "%s", at + 1);
    }
    px_signer key;
    if (px_signer_load(&key, o->key, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log serve");
    sigset_t stop;
    block_stop_signals(&stop);
    px_log *log = NULL;
    px_log_opts lo = {.store = o->store, .key = &key, .origin = o->origin, .max_entry = (size_t)max_entry,
                      .witnesses = wit, .nwitnesses = o->nwitnesses};
    int rc = px_log_open(&log, &lo, &err);
    px_signer_wipe(&key);
    if (rc)
        return px_cli_error(PX_EXIT_USAGE, &err, "log serve");
    size_t limit = max_entry ? (size_t)max_entry : PX_LOG_ENTRY_MAX_DEFAULT;
    px_http_server *srv = NULL;
    size_t body = 20000 * (limit + 2) < SERVE_BODY_MAX ? 20000 * (limit + 2) : SERVE_BODY_MAX;
    px_http_server_opts so = {.bind_addr = addr, .port = port, .handler = px_log_http_handler, .ctx = log,
                              .max_body = body};
    if (px_http_server_start(&srv, &so, &err)) {
        px_log_close(log);
        return px_cli_error(PX_EXIT_USAGE, &err, "log serve");
    }
    if (announce("serving", addr, srv, o->port_file, &err)) {
        px_http_server_stop(srv);
        px_log_close(log);
        return px_cli_error(PX_EXIT_USAGE, &err, "log serve");
    }
    int sig;
    sigwait(&stop, &sig);
    px_http_server_stop(srv); /* finishes in-flight requests */
    px_log_close(log);
    return PX_EXIT_OK;
}

/* ---- client commands ---------------------------------------------------------- */

static int cmd_append(opts *o, int argc, char **argv) {
    if (need(o->url, "--url"))
        return PX_EXIT_USAGE;
    const char *path = optind < argc ? argv[optind] : "-";
    px_buf in = PX_BUF_INIT, out = PX_BUF_INIT;
    px_err err = {0};
    int rc = PX_EXIT_OK;
    if (px_cli_read_input(path, PX_LOG_ENTRY_MAX, &in, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "log append");
    else if (call("POST", o->url, o->wait ? "/add?wait=1" : "/add", in.data, in.len, &out, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "log append");
    else
        printf("%.*s\n", (int)out.len, (const char *)out.data);
    px_buf_free(&in);
    px_buf_free(&out);
    return rc;
}

static int fetch_checkpoint(const char *url, const char *vkey, px_buf *note, px_checkpoint *cp, px_err *err) {
    if (call("GET", url, "/checkpoint", NULL, 0, note, err))
        return -1;
    if (vkey) {
        px_verifier v;
        if (px_verifier_load(&v, vkey, err))
            return -1;
        return px_checkpoint_open(cp, (const char *)note->data, note->len, &v, NULL, err);
    }
    px_note n = {0};
    int rc = px_note_parse(&n, (const char *)note->data, note->len, err) ||
             px_checkpoint_parse(cp, n.text, n.text_len, err);
    px_note_free(&n);
    return rc ? -1 : 0;
}

static int check_cosigned(const char *cosigner, const px_buf *note, px_err *err) {
    px_cosigner c;
    px_note n = {0};
    if (px_cosigner_load(&c, cosigner, err))
        return -1;
    int rc = px_note_parse(&n, (const char *)note->data, note->len, err) || px_cosig_verify(&n, &c, NULL, err) ? -1 : 0;
    px_note_free(&n);
    return rc;
}

static int cmd_checkpoint(opts *o) {
    if (need(o->url, "--url"))
        return PX_EXIT_USAGE;
    px_buf note = PX_BUF_INIT;
    px_checkpoint cp = {0};
    px_err err = {0};
    int rc = PX_EXIT_OK;
    if (fetch_checkpoint(o->url, o->key, &note, &cp, &err) || (o->witness_key && check_cosigned(o->witness_key, &note, &err)))
        rc = px_cli_error(err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE, &err, "log checkpoint");
    else
        fwrite(note.data, 1, note.len, stdout);
    px_checkpoint_free(&cp);
    px_buf_free(&note);
    return rc;
}

static int cmd_get(opts *o, int argc, char **argv) {
    uint64_t idx;
    if (need(o->url, "--url"))
        return PX_EXIT_USAGE;
    if (optind != argc - 1 || to_u64(argv[optind], &idx))
        return px_cli_errorf(PX_EXIT_USAGE, "log get: give one entry index");
    char path[64];
    snprintf(path, sizeof path, "/entry/%llu", (unsigned long long)idx);
    px_buf out = PX_BUF_INIT;
    px_err err = {0};
    int rc = PX_EXIT_OK;
    if (call("GET", o->url, path, NULL, 0, &out, &err))
        rc = px_cli_error(PX_EXIT_USAGE, &err, "log get");
    else
        fwrite(out.data, 1, out.len, stdout);
    px_buf_free(&out);
    return rc;
}

#define LOOKUP_PAGE 1000 /* what the server returns at most per request */

/* Print every index under the digest, following the server's pages. */
static int cmd_find(opts *o) {
    const char *kind = o->subject ? "subject" : o->input ? "input" : o->manifest ? "manifest" : NULL;
    const char *hex = o->subject ? o->subject : o->input ? o->input : o->manifest;
    if (need(o->url, "--url") || need(kind, "--subject, --input or --manifest"))
        return PX_EXIT_USAGE;
    px_err err = {0};
    uint64_t from = 0;
    for (;;) {
        char path[240];
        snprintf(path, sizeof path, "/lookup?%s=%.128s&from=%llu", kind, hex, (unsigned long long)from);
        px_buf out = PX_BUF_INIT;
        json_t *j = NULL;
        if (call("GET", o->url, path, NULL, 0, &out, &err) || !(j = px_json_parse(out.data, out.len, RESP_MAX, &err))) {
            px_buf_free(&out);
            return px_cli_error(PX_EXIT_USAGE, &err, "log find");
        }
        json_t *a = json_object_get(j, "entries");
        size_t n = json_array_size(a);
        for (size_t i = 0; i < n; i++) {
            json_int_t v = json_integer_value(json_array_get(a, i));
            printf("%lld\n", (long long)v);
            from = (uint64_t)v + 1;
        }
        json_decref(j);
        px_buf_free(&out);
        if (n < LOOKUP_PAGE)
            return PX_EXIT_OK;
    }
}

static char *b64(const uint8_t *p, size_t n, char *buf) {
    px_b64_encode(buf, p, n);
    return buf;
}

/* An inclusion proof of entry I in the vector JSON form, from the log's
 * entry, checkpoint and proof endpoints. */
static int cmd_prove(opts *o) {
    uint64_t idx = 0, size = 0;
    if (need(o->url, "--url") || need(o->index, "--index"))
        return PX_EXIT_USAGE;
    if (to_u64(o->index, &idx) || (o->size && to_u64(o->size, &size)))
        return px_cli_errorf(PX_EXIT_USAGE, "log prove: --index and --size are decimal numbers");
    px_buf note = PX_BUF_INIT, entry = PX_BUF_INIT, resp = PX_BUF_INIT;
    px_checkpoint cp = {0};
    px_err err = {0};
    json_t *j = NULL, *out = NULL;
    int rc = PX_EXIT_USAGE;
    char path[96];
    snprintf(path, sizeof path, "/entry/%llu", (unsigned long long)idx);
    if (fetch_checkpoint(o->url, o->key, &note, &cp, &err) || call("GET", o->url, path, NULL, 0, &entry, &err))
        goto out;
    if (!o->size)
        size = cp.size;
    if (size != cp.size) {
        px_fail(&err, PX_E_INVALID, "only the checkpoint's size (%llu) has a root to prove against",
                (unsigned long long)cp.size);
        goto out;
    }
    snprintf(path, sizeof path, "/proof/inclusion?index=%llu&size=%llu", (unsigned long long)idx,
             (unsigned long long)size);
    if (call("GET", o->url, path, NULL, 0, &resp, &err) || !(j = px_json_parse(resp.data, resp.len, RESP_MAX, &err)))
        goto out;
    uint8_t leaf[PX_LOG_HASH_BYTES];
    char lb[48], rb[48];
    px_log_leaf_hash(leaf, entry.data, entry.len);
    out = json_pack("{s:I,s:I,s:s,s:s,s:O}", "leafIdx", (json_int_t)idx, "treeSize", (json_int_t)size, "root",
                    b64(cp.root, 32, rb), "leafHash", b64(leaf, 32, lb), "proof", json_object_get(j, "proof"));
    px_buf text = PX_BUF_INIT;
    if (out && !px_json_dump(out, &text, &err)) {
        printf("%.*s\n", (int)text.len, (const char *)text.data);
        rc = PX_EXIT_OK;
    }
    px_buf_free(&text);
out:
    if (rc)
        px_cli_error(rc, &err, "log prove");
    json_decref(j);
    json_decref(out);
    px_checkpoint_free(&cp);
    px_buf_free(&note);
    px_buf_free(&entry);
    px_buf_free(&resp);
    return rc;
}

static int cmd_verify(int consistency, int argc, char **argv) {
    if (optind != argc - 1)
        return px_cli_errorf(PX_EXIT_USAGE, "log verify: give one proof file");
    px_buf in = PX_BUF_INIT;
    px_err err = {0};
    int rc;
    if (px_cli_read_input(argv[optind], 1u << 20, &in, &err)) {
        rc = px_cli_error(PX_EXIT_USAGE, &err, argv[optind]);
    } else if ((consistency ? px_log_check_consistency_json : px_log_check_inclusion_json)(in.data, in.len, &err)) {
        rc = px_cli_error(err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE, &err, argv[optind]);
    } else {
        puts("valid");
        rc = PX_EXIT_OK;
    }
    px_buf_free(&in);
    return rc;
}

/* Is a checkpoint seen before consistent with the log's current one? */
static int cmd_check_consistency(opts *o, int argc, char **argv) {
    if (need(o->url, "--url") || need(o->key, "--key"))
        return PX_EXIT_USAGE;
    if (optind != argc - 1)
        return px_cli_errorf(PX_EXIT_USAGE, "log check-consistency: give one old checkpoint file");
    px_err err = {0};
    px_verifier v;
    px_buf old = PX_BUF_INIT, note = PX_BUF_INIT, resp = PX_BUF_INIT, proof = PX_BUF_INIT;
    px_checkpoint a = {0}, b = {0};
    int rc = PX_EXIT_USAGE;
    if (px_verifier_load(&v, o->key, &err) || px_cli_read_input(argv[optind], 1u << 20, &old, &err))
        goto out;
    if (px_checkpoint_open(&a, (const char *)old.data, old.len, &v, NULL, &err) ||
        fetch_checkpoint(o->url, o->key, &note, &b, &err)) {
        rc = err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    if (strcmp(a.origin, b.origin) != 0) {
        px_fail(&err, PX_E_VERIFY, "origins differ: '%s' and '%s'", a.origin, b.origin);
        rc = PX_EXIT_INVALID;
        goto out;
    }
    if (a.size > 0 && a.size < b.size && px_log_remote_consistency(o->url, a.size, b.size, &proof, &err)) {
        rc = err.code == PX_E_INVALID ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    if (a.size > 0 && px_log_verify_consistency(a.size, b.size, a.root, b.root, proof.data,
                                                proof.len / PX_LOG_HASH_BYTES, &err)) {
        rc = PX_EXIT_INVALID;
        goto out;
    }
    printf("consistent: size %llu -> %llu\n", (unsigned long long)a.size, (unsigned long long)b.size);
    rc = PX_EXIT_OK;
out:
    if (rc)
        px_cli_error(rc, &err, "log check-consistency");
    px_checkpoint_free(&a);
    px_checkpoint_free(&b);
    px_buf_free(&old);
    px_buf_free(&note);
    px_buf_free(&resp);
    px_buf_free(&proof);
    return rc;
}

/* Fetch the log's checkpoint and the consistency proof from the witness's
 * last cosigned size, and ask the witness to cosign. */
/* Consistency proofs fetched from the log at ctx (its URL). */
static int http_proof(void *ctx, uint64_t from, uint64_t to, px_buf *out, px_err *err) {
    return px_log_remote_consistency(ctx, from, to, out, err);
}

/* Ask a remote witness (tlog-witness) to cosign the log's checkpoint;
 * print the checkpoint with the witness's cosignature lines added. */
static int cmd_witness_remote(opts *o) {
    px_buf note = PX_BUF_INIT, lines = PX_BUF_INIT;
    px_checkpoint cp = {0};
    px_err err = {0};
    int rc = PX_EXIT_OK;
    uint64_t old = 0;
    if (fetch_checkpoint(o->url, o->log_key, &note, &cp, &err) ||
        px_witness_request(o->witness_url, (const char *)note.data, note.len, http_proof, (void *)o->url, &old,
                           &lines, &err)) {
        rc = px_cli_error(err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE, &err, "log witness");
    } else {
        fwrite(note.data, 1, note.len, stdout);
        fwrite(lines.data, 1, lines.len, stdout);
    }
    px_checkpoint_free(&cp);
    px_buf_free(&note);
    px_buf_free(&lines);
    return rc;
}

static int cmd_witness_serve(opts *o) {
    if (need(o->state, "--state") || need(o->key, "--key") || need(o->log_key, "--log-key"))
        return PX_EXIT_USAGE;
    char addr[64] = "127.0.0.1";
    uint16_t port = 0;
    if (o->listen && split_listen(o->listen, addr, sizeof addr, &port))
        return px_cli_errorf(PX_EXIT_USAGE, "log witness-serve: --listen must be ADDR:PORT");
    px_err err = {0};
    px_signer key;
    px_witness_log logs[LOG_KEYS_MAX];
    if (px_signer_load(&key, o->key, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log witness-serve");
    /* A log is known by its key, and its origin is the key's name. */
    for (size_t i = 0; i < o->nlog_keys; i++) {
        if (px_verifier_load(&logs[i].key, o->log_keys[i], &err)) {
            px_signer_wipe(&key);
            return px_cli_error(PX_EXIT_USAGE, &err, "log witness-serve");
        }
        memcpy(logs[i].origin, logs[i].key.name, strlen(logs[i].key.name) + 1); /* name is shorter */
    }
    sigset_t stop;
    block_stop_signals(&stop);
    px_witness *w = NULL;
    int rc = px_witness_open(&w, o->state, &key, &err);
    px_signer_wipe(&key);
    if (rc)
        return px_cli_error(PX_EXIT_USAGE, &err, "log witness-serve");
    px_witness_service svc = {.witness = w, .logs = logs, .nlogs = o->nlog_keys};
    px_http_server *srv = NULL;
    px_http_server_opts so = {.bind_addr = addr, .port = port, .handler = px_witness_http_handler, .ctx = &svc,
                              .max_body = 1u << 16};
    if (px_http_server_start(&srv, &so, &err) || announce("witnessing", addr, srv, o->port_file, &err)) {
        px_http_server_stop(srv);
        px_witness_close(w);
        return px_cli_error(PX_EXIT_USAGE, &err, "log witness-serve");
    }
    int sig;
    sigwait(&stop, &sig);
    px_http_server_stop(srv);
    px_witness_close(w);
    return PX_EXIT_OK;
}

static int cmd_witness(opts *o) {
    if (o->witness_url && !need(o->url, "--url"))
        return cmd_witness_remote(o);
    if (need(o->url, "--url") || need(o->state, "--state") || need(o->key, "--key") || need(o->log_key, "--log-key"))
        return PX_EXIT_USAGE;
    px_err err = {0};
    px_signer key;
    px_verifier lv;
    if (px_signer_load(&key, o->key, &err) || px_verifier_load(&lv, o->log_key, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log witness");
    px_witness *w = NULL;
    px_buf note = PX_BUF_INIT, resp = PX_BUF_INIT, proof = PX_BUF_INIT, out = PX_BUF_INIT;
    px_checkpoint cp = {0};
    uint64_t old = 0;
    int rc = PX_EXIT_USAGE;
    if (px_witness_open(&w, o->state, &key, &err) || fetch_checkpoint(o->url, o->log_key, &note, &cp, &err) ||
        px_witness_size(w, cp.origin, &old, &err))
        goto out;
    if (old > 0 && old < cp.size && px_log_remote_consistency(o->url, old, cp.size, &proof, &err)) {
        rc = err.code == PX_E_INVALID ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    if (px_witness_add(w, &lv, (const char *)note.data, note.len, old, proof.data, proof.len / PX_LOG_HASH_BYTES,
                       &out, &err)) {
        rc = err.code == PX_E_STATE || err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE;
        goto out;
    }
    fwrite(out.data, 1, out.len, stdout);
    rc = PX_EXIT_OK;
out:
    if (rc)
        px_cli_error(rc, &err, "log witness");
    px_signer_wipe(&key);
    px_witness_close(w);
    px_checkpoint_free(&cp);
    px_buf_free(&note);
    px_buf_free(&resp);
    px_buf_free(&proof);
    px_buf_free(&out);
    return rc;
}

static int cmd_mirror(opts *o) {
    if (need(o->url, "--url") || need(o->key, "--key") || need(o->out_dir, "--out"))
        return PX_EXIT_USAGE;
    px_err err = {0};
    px_verifier v;
    uint64_t size;
    size_t fetched;
    if (px_verifier_load(&v, o->key, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log mirror");
    if (px_log_mirror(o->url, &v, o->out_dir, &size, &fetched, &err))
        return px_cli_error(err.code == PX_E_VERIFY ? PX_EXIT_INVALID : PX_EXIT_USAGE, &err, "log mirror");
    printf("mirrored and verified %llu entries (%zu resources fetched)\n", (unsigned long long)size, fetched);
    return PX_EXIT_OK;
}

static int cmd_cosigner_key(int argc, char **argv) {
    if (optind != argc - 1)
        return px_cli_errorf(PX_EXIT_USAGE, "log cosigner-key: give one private key file");
    px_err err = {0};
    px_signer s;
    if (px_signer_load(&s, argv[optind], &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log cosigner-key");
    px_cosigner c;
    px_cosigner_from_signer(&s, &c);
    px_signer_wipe(&s);
    px_buf b = PX_BUF_INIT;
    if (px_cosigner_format(&c, &b, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "log cosigner-key");
    printf("%.*s\n", (int)b.len, (const char *)b.data);
    px_buf_free(&b);
    return PX_EXIT_OK;
}

static int run(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? PX_EXIT_USAGE : PX_EXIT_OK;
    }
    const char *sub = argv[1];
    opts o = {0};
    if (parse_opts(argc - 1, argv + 1, &o)) {
        fputs(usage, stderr);
        return PX_EXIT_USAGE;
    }
    argc--;
    argv++; /* optind now indexes this shifted argv */
    if (!strcmp(sub, "serve"))
        return cmd_serve(&o);
    if (!strcmp(sub, "append"))
        return cmd_append(&o, argc, argv);
    if (!strcmp(sub, "checkpoint"))
        return cmd_checkpoint(&o);
    if (!strcmp(sub, "get"))
        return cmd_get(&o, argc, argv);
    if (!strcmp(sub, "find"))
        return cmd_find(&o);
    if (!strcmp(sub, "prove"))
        return cmd_prove(&o);
    if (!strcmp(sub, "verify-inclusion"))
        return cmd_verify(0, argc, argv);
    if (!strcmp(sub, "verify-consistency"))
        return cmd_verify(1, argc, argv);
    if (!strcmp(sub, "check-consistency"))
        return cmd_check_consistency(&o, argc, argv);
    if (!strcmp(sub, "witness"))
        return cmd_witness(&o);
    if (!strcmp(sub, "witness-serve"))
        return cmd_witness_serve(&o);
    if (!strcmp(sub, "mirror"))
        return cmd_mirror(&o);
    if (!strcmp(sub, "cosigner-key"))
        return cmd_cosigner_key(argc, argv);
    fprintf(stderr, "pixiu: log: unknown subcommand '%s'\n%s", sub, usage);
    return PX_EXIT_USAGE;
}

const px_cli_cmd px_cli_log = {"log", "public log: serve, append, checkpoint, proofs, witness", run};
