/* pixiu log: run, feed, query and check a public log. Each form is a file
 * src/cli/log_<form>.c; this file dispatches and holds what they share. */
#include <stdlib.h>
#include <string.h>

#include "cli/log.h"
#include "cli_forms_log.h"

#define URL_MAX 2048
#define TIMEOUT_MS 60000

int px_cli_log_call(const char *method, const char *url, const char *path, const void *body, size_t len,
                    px_buf *out, px_err *err) {
    char full[URL_MAX];
    int n = snprintf(full, sizeof full, "%s%s", url, path);
    if (n < 0 || (size_t)n >= sizeof full)
        return px_fail(err, PX_E_INVALID, "URL too long");
    int status = 0;
    size_t mark = out->len;
    if (px_http_call(method, full, NULL, 0, body, len, TIMEOUT_MS, PX_CLI_LOG_RESP_MAX, &status, out, err))
        return -1;
    if (status / 100 != 2) {
        json_t *j = px_json_parse(out->data + mark, out->len - mark, PX_CLI_LOG_RESP_MAX, NULL);
        const char *e = j ? json_string_value(json_object_get(j, "error")) : NULL;
        px_fail(err, status == 404 ? PX_E_NOTFOUND : PX_E_UNAVAILABLE, "%s: HTTP %d: %s", full, status,
                e ? e : "no error message");
        json_decref(j);
        out->len = mark;
        return -1;
    }
    return 0;
}

int px_cli_log_fetch_checkpoint(const char *url, const char *vkey, px_buf *note, px_checkpoint *cp, px_err *err) {
    if (px_cli_log_call("GET", url, "/checkpoint", NULL, 0, note, err))
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

int px_cli_log_listen(const char *listen, char *addr, size_t cap, uint16_t *port) {
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= cap || !colon[1] || strlen(colon + 1) > 5)
        return -1;
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end || colon[1] < '0' || colon[1] > '9' || p > 65535)
        return -1;
    memcpy(addr, listen, (size_t)(colon - listen));
    addr[colon - listen] = '\0';
    *port = (uint16_t)p;
    return 0;
}

void px_cli_log_block_signals(sigset_t *stop) {
    sigemptyset(stop);
    sigaddset(stop, SIGTERM);
    sigaddset(stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, stop, NULL);
}

int px_cli_log_announce(const char *what, const char *addr, px_http_server *srv, const char *port_file,
                        px_err *err) {
    char line[64];
    int n = snprintf(line, sizeof line, "%u\n", px_http_server_port(srv));
    if (port_file && px_file_write_atomic(port_file, line, (size_t)n, 0644, err))
        return -1;
    printf("pixiu log: %s on http://%s:%u\n", what, addr, px_http_server_port(srv));
    fflush(stdout);
    return 0;
}

static int run(int argc, char **argv) { return px_cli_forms_table("log", px_cli_log_forms, argc, argv); }

const px_cli_cmd px_cli_log = {"log", "public log: serve, append, checkpoint, proofs, witness", run};
