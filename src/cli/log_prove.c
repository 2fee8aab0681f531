/* pixiu log prove: an inclusion proof in the test-vector JSON form, from the
 * log's entry, checkpoint and proof endpoints. */
#include "cli/log.h"

static const char usage[] =
    "usage: pixiu log prove --url URL --index I [--size S] [--key VKEY]\n"
    "Prints an inclusion proof of entry I in the tree of the log's current checkpoint\n"
    "(checked against VKEY when given), in the JSON form of the transparency-dev/merkle\n"
    "test vectors that `pixiu log verify-inclusion` reads. S, when given, must be the\n"
    "checkpoint's size.\n";

static char *b64(const uint8_t *p, size_t n, char *buf) {
    px_b64_encode(buf, p, n);
    return buf;
}

static int run(int argc, char **argv) {
    const char *url = NULL, *index = NULL, *size_s = NULL, *key = NULL;
    const px_cli_opt opts[] = {{"url", 0, PX_CLI_VALUE, &url, 1},
                               {"index", 0, PX_CLI_VALUE, &index, 1},
                               {"size", 0, PX_CLI_VALUE, &size_s, 0},
                               {"key", 0, PX_CLI_VALUE, &key, 0},
                               {0}};
    px_cli_args a = {.cmd = "log prove", .usage = usage, .opts = opts, .max = 0};
    uint64_t idx = 0, size = 0;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (px_cli_number(&a, "--index", index, 0, INT64_MAX, &idx) ||
        (size_s && px_cli_number(&a, "--size", size_s, 0, INT64_MAX, &size)))
        return PX_EXIT_USAGE;
    px_buf note = PX_BUF_INIT, entry = PX_BUF_INIT, resp = PX_BUF_INIT;
    px_checkpoint cp = {0};
    px_err err = {0};
    json_t *j = NULL, *out = NULL;
    int rc = PX_EXIT_USAGE;
    char path[96];
    snprintf(path, sizeof path, "/entry/%llu", (unsigned long long)idx);
    if (px_cli_log_fetch_checkpoint(url, key, &note, &cp, &err) ||
        px_cli_log_call("GET", url, path, NULL, 0, &entry, &err))
        goto out;
    if (!size_s)
        size = cp.size;
    if (size != cp.size) {
        px_fail(&err, PX_E_INVALID, "only the checkpoint's size (%llu) has a root to prove against",
                (unsigned long long)cp.size);
        goto out;
    }
    snprintf(path, sizeof path, "/proof/inclusion?index=%llu&size=%llu", (unsigned long long)idx,
             (unsigned long long)size);
    if (px_cli_log_call("GET", url, path, NULL, 0, &resp, &err) ||
        !(j = px_json_parse(resp.data, resp.len, PX_CLI_LOG_RESP_MAX, &err)))
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

const px_cli_form px_cli_log_prove = {"prove", run, "an inclusion proof in the test-vector JSON form"};
