/* What the forms of `pixiu poll` share: the node's keys and membership,
 * signed and unsigned calls to peers, the log, the poll statement judged
 * against the membership, and printing results. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/poll.h"

#define CALL_MAX_RESP (64u << 20)
#define LOOKUP_MAX 1024

int px_pollcli_open(px_pollcli *c, const char *node_json, char **builds, size_t nbuilds, int need_builds,
                    px_err *err) {
    memset(c, 0, sizeof *c);
    if (nbuilds > PX_POLLCLI_MAX_BUILDS)
        return px_fail(err, PX_E_LIMIT, "at most %d --build", PX_POLLCLI_MAX_BUILDS);
    if (px_node_config_load(&c->cfg, node_json, err) || px_signer_load(&c->key, c->cfg.key, err))
        return -1;
    if (px_membership_load(&c->mem, c->cfg.membership, err)) {
        px_signer_wipe(&c->key);
        return -1;
    }
    c->log = px_node_find_role(&c->mem, PX_ROLE_LOG);
    int rc = c->log ? 0 : px_fail(err, PX_E_UNAVAILABLE, "the membership has no log");
    if (!rc && nbuilds)
        rc = px_node_builds_parse(c->builds, builds, nbuilds, err);
    if (!rc && !nbuilds && need_builds) {
        px_lambda_build *own = NULL;
        rc = px_node_build(&own, NULL, err);
        if (!rc)
            memcpy(c->builds[0], own->digest, PX_SHA256_BYTES), px_node_build_free(own);
        nbuilds = 1;
    }
    c->nbuilds = nbuilds;
    if (rc)
        px_pollcli_close(c);
    return rc;
}

void px_pollcli_close(px_pollcli *c) {
    px_membership_free(&c->mem);
    px_signer_wipe(&c->key);
    c->log = NULL;
}

static px_code code_of(int status) {
    return status == 400 ? PX_E_INVALID
         : status == 401 || status == 403 ? PX_E_DENIED
         : status == 404 ? PX_E_NOTFOUND
         : status == 409 ? PX_E_STATE
         : status == 413 ? PX_E_LIMIT
         : status == 422 ? PX_E_VERIFY
                         : PX_E_UNAVAILABLE;
}

int px_pollcli_call(px_pollcli *c, const char *to, const char *path, json_t *body, int sign, json_t **reply,
                    px_err *err) {
    const px_member *m = px_membership_find(&c->mem, to);
    px_buf b = PX_BUF_INIT, resp = PX_BUF_INIT;
    int status = 0, rc = -1;
    char url[PX_MEMBER_URL_MAX + 64];
    *reply = NULL;
    if (!m) {
        px_fail(err, PX_E_NOTFOUND, "%s is not in the membership", to);
        goto out;
    }
    if (!body || px_json_dump(body, &b, err))
        goto out;
    if (sign)
        rc = px_signed_call(&c->key, c->cfg.id, m->id, "POST", m->url, path, b.data, b.len, PX_NODE_CALL_TIMEOUT_MS,
                            CALL_MAX_RESP, &status, &resp, err);
    else {
        px_http_header h = {"Content-Type", "application/json"};
        snprintf(url, sizeof url, "%s%s", m->url, path);
        rc = px_http_call("POST", url, &h, 1, b.data, b.len, PX_NODE_CALL_TIMEOUT_MS, CALL_MAX_RESP, &status, &resp,
                          err);
    }
    if (rc)
        goto out;
    rc = -1;
    json_t *o = px_json_parse(resp.data, resp.len, CALL_MAX_RESP, NULL);
    if (status != 200) {
        const char *msg = json_string_value(json_object_get(o, "error"));
        px_fail(err, code_of(status), "%s refused: %s", to, msg ? msg : "no reason given");
        json_decref(o);
    } else if (!json_is_object(o)) {
        json_decref(o);
        px_fail(err, PX_E_UNAVAILABLE, "%s answered something that is not a JSON object", to);
    } else {
        *reply = o;
        rc = 0;
    }
out:
    json_decref(body);
    px_buf_free(&b);
    px_buf_free(&resp);
    return rc;
}

int px_pollcli_log_append(px_pollcli *c, const uint8_t *entry, size_t len, uint64_t *index, px_err *err) {
    px_buf resp = PX_BUF_INIT;
    px_log_receipt r;
    int status = 0, rc = -1;
    memset(&r, 0, sizeof r);
    if (px_signed_call(&c->key, c->cfg.id, c->log->id, "POST", c->log->url, "/log/add?wait=1", entry, len,
                       PX_NODE_CALL_TIMEOUT_MS, 1 << 20, &status, &resp, err) == 0) {
        if (status != 200)
            px_fail(err, PX_E_UNAVAILABLE, "log %s refused the entry: HTTP %d %.*s", c->log->id, status,
                    (int)(resp.len > 160 ? 160 : resp.len), (const char *)resp.data);
        else if (px_log_append_answer(resp.data, resp.len, entry, len, &c->log->signing, &r, err) == 0) {
            if (index)
                *index = r.index;
            rc = 0;
        }
    }
    px_log_receipt_free(&r);
    px_buf_free(&resp);
    return rc;
}

int px_pollcli_check_plan(void *ctx, const uint8_t *plan, size_t len, px_poll_plan *out, px_poll_attested *att,
                          px_err *err) {
    const px_pollcli_trust *t = ctx;
    return px_node_poll_check(t->mem, t->builds, t->nbuilds, plan, len, out, att, err);
}

static int plan_from_log(px_pollcli *c, const uint8_t id[PX_POLL_ID_BYTES], px_poll_plan *p, px_poll_attested *att,
                         px_err *err) {
    uint64_t idx[LOOKUP_MAX];
    size_t n = 0;
    char url[PX_MEMBER_URL_MAX + 8];
    snprintf(url, sizeof url, "%s/log", c->log->url);
    if (px_log_remote_lookup(url, PX_LOG_BY_SUBJECT, id, idx, LOOKUP_MAX, &n, err))
        return px_err_prefix(err, "looking the poll up in the log: ");
    px_pollcli_trust t = {&c->mem, (const uint8_t(*)[PX_SHA256_BYTES])c->builds, c->nbuilds};
    px_err last = {0};
    px_fail(&last, PX_E_NOTFOUND, "no poll statement for this poll id in the log");
    for (size_t i = 0; i < n; i++) {
        px_buf e = PX_BUF_INIT;
        px_err one = {0};
        int ok = px_log_remote_entry(url, idx[i], &e, &one) == 0 &&
                 px_pollcli_check_plan(&t, e.data, e.len, p, att, &one) == 0;
        px_buf_free(&e);
        if (ok && px_ct_equal(p->survey.id, id, PX_POLL_ID_BYTES))
            return 0;
        if (ok)
            px_poll_plan_free(p);
        else if (one.code != PX_E_INVALID) /* another statement about the poll is no news */
            last = one;
    }
    if (err)
        *err = last;
    return -1;
}

int px_pollcli_plan(px_pollcli *c, const char *arg, px_poll_plan *p, px_poll_attested *att, px_err *err) {
    uint8_t id[PX_POLL_ID_BYTES];
    if (strlen(arg) == 2 * PX_POLL_ID_BYTES && px_hex_decode_exact(id, sizeof id, arg, strlen(arg), NULL) == 0)
        return plan_from_log(c, id, p, att, err);
    px_buf b = PX_BUF_INIT;
    px_pollcli_trust t = {&c->mem, (const uint8_t(*)[PX_SHA256_BYTES])c->builds, c->nbuilds};
    int rc = px_file_read(arg, PX_POLL_PLAN_MAX_BYTES, &b, err) ||
             px_pollcli_check_plan(&t, b.data, b.len, p, att, err);
    px_buf_free(&b);
    return rc ? px_err_prefix(err, "%s: ", arg) : 0;
}

int px_pollcli_path(const px_pollcli *c, char *out, size_t cap, const uint8_t poll[PX_POLL_ID_BYTES],
                    const char *suffix, px_err *err) {
    char hex[2 * PX_POLL_ID_BYTES + 1];
    px_hex_encode(hex, poll, PX_POLL_ID_BYTES);
    if ((size_t)snprintf(out, cap, "%s/polls", c->cfg.dir) >= cap)
        return px_fail(err, PX_E_LIMIT, "path too long");
    if (mkdir(out, 0700) && errno != EEXIST)
        return px_fail(err, PX_E_IO, "%s: %s", out, strerror(errno));
    if ((size_t)snprintf(out, cap, "%s/polls/%s%s", c->cfg.dir, hex, suffix) >= cap)
        return px_fail(err, PX_E_LIMIT, "path too long");
    return 0;
}

size_t px_pollcli_witnesses(const px_membership *m, px_cosigner *out, size_t max) {
    size_t k = 0;
    for (size_t i = 0; i < m->n && k < max; i++)
        if (m->nodes[i].roles & PX_ROLE_WITNESS) {
            snprintf(out[k].name, sizeof out[k].name, "%s", m->nodes[i].signing.name);
            memcpy(out[k].pk, m->nodes[i].signing.pk, sizeof out[k].pk);
            out[k].id = px_cosig_key_id(out[k].name, out[k].pk);
            k++;
        }
    return k;
}

/* ---- printing results ------------------------------------------------------------- */

static void print_value(FILE *f, const json_t *v) {
    if (json_is_null(v))
        fprintf(f, "%8s", "<small>");
    else if (json_is_integer(v))
        fprintf(f, "%8" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        fprintf(f, "%8.1f", json_real_value(v));
    else
        fprintf(f, "%8s", "?");
}

static void print_scale(FILE *f, const json_t *q) {
    const json_t *s = json_object_get(q, "scale"), *e = json_object_get(q, "epsilon");
    if (json_is_string(s))
        fprintf(f, "   [noise: discrete Laplace, scale %s, epsilon %s]\n", json_string_value(s), json_string_value(e));
    else
        fprintf(f, "   [noise: discrete Laplace, sum scale %s, count scale %s, epsilon %s each]\n",
                json_string_value(json_object_get(s, "sum")), json_string_value(json_object_get(s, "count")),
                json_string_value(json_object_get(e, "sum")));
}

static void print_row(FILE *f, const json_t *row, const json_t *options) {
    const json_t *counts = json_object_get(row, "counts");
    if (counts) {
        for (size_t k = 0; k < json_array_size(counts); k++) {
            if (options)
                fprintf(f, "      %-24s", json_string_value(json_array_get(options, k)));
            print_value(f, json_array_get(counts, k));
            if (options)
                fputc('\n', f);
        }
        return;
    }
    fprintf(f, "      count");
    print_value(f, json_object_get(row, "count"));
    fprintf(f, "   mean");
    print_value(f, json_object_get(row, "mean"));
    if (options)
        fputc('\n', f);
}

void px_pollcli_print_result(FILE *f, const json_t *doc) {
    const json_t *dp = json_object_get(doc, "dp"), *qs = json_object_get(doc, "questions"), *xs, *q;
    const json_t *sc = json_object_get(dp, "small_cells");
    size_t i;
    fprintf(f, "ballots counted: %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(doc, "accepted")));
    fprintf(f, "privacy: epsilon %s over %" JSON_INTEGER_FORMAT " tables (discrete Laplace); small cells: ",
            json_string_value(json_object_get(dp, "epsilon")), json_integer_value(json_object_get(dp, "tables")));
    if (!strcmp(json_string_value(json_object_get(sc, "rule")) ? json_string_value(json_object_get(sc, "rule")) : "",
                "suppress"))
        fprintf(f, "withheld when the noisy count is below %" JSON_INTEGER_FORMAT "\n",
                json_integer_value(json_object_get(sc, "below")));
    else
        fprintf(f, "noised, none withheld\n");
    json_array_foreach(qs, i, q) {
        fprintf(f, "%s (%s)\n", json_string_value(json_object_get(q, "id")),
                json_string_value(json_object_get(q, "type")));
        print_scale(f, q);
        print_row(f, q, json_object_get(q, "options") ? json_object_get(q, "options") : json_null());
    }
    xs = json_object_get(doc, "crosstabs");
    json_array_foreach(xs, i, q) {
        const char *qid = json_string_value(json_object_get(q, "question"));
        const json_t *opts = NULL, *qq;
        size_t k;
        json_array_foreach(qs, k, qq) if (!strcmp(json_string_value(json_object_get(qq, "id")), qid)) opts =
            json_object_get(qq, "options");
        fprintf(f, "%s by %s\n", qid, json_string_value(json_object_get(q, "by")));
        print_scale(f, q);
        if (opts) {
            fprintf(f, "      %-12s", "");
            for (k = 0; k < json_array_size(opts); k++)
                fprintf(f, " %8.8s", json_string_value(json_array_get(opts, k)));
            fputc('\n', f);
        }
        const json_t *row;
        size_t r;
        json_array_foreach(json_object_get(q, "rows"), r, row) {
            fprintf(f, "      %-12s", json_string_value(json_object_get(row, "category")));
            print_row(f, row, NULL);
            fputc('\n', f);
        }
    }
}
