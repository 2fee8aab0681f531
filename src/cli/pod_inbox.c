/* pixiu pod inbox list|show|delete: what stages placed at the POD
 * delivered into it (docs/pod.md, "The inbox"), by whom, under which task,
 * each item's proof checked again offline (px_podinst_inbox_verify). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/pod.h"
#include "pixiu/exec.h"

static const char list_usage[] =
    "usage: pixiu pod inbox list [--all] [--json] [--pod DIR]\n"
    "What stages placed at this POD delivered, by whom and under which task (--all: every\n"
    "campaign the POD hosted, delivered or not).\n";

static const char show_usage[] =
    "usage: pixiu pod inbox show ID [--json] [--pod DIR]\n"
    "Checks item ID's proof offline (the consumer's signed manifest, the instance's evidence\n"
    "under this node's platform key and the manifest's code, its proof naming this delivery,\n"
    "the content the manifest names) and prints the content, control characters escaped.\n"
    "Exit status: 0 ok, 1 the proof does not check, 2 usage or I/O error.\n";

static const char delete_usage[] =
    "usage: pixiu pod inbox delete ID [--pod DIR]\n"
    "Removes item ID from the inbox.\n";

static int item_id(const char *s, int64_t *id) {
    char *end;
    long long v = s ? strtoll(s, &end, 10) : -1;
    if (!s || !*s || *end || v < 1)
        return px_cli_errorf(PX_EXIT_USAGE, "pod inbox: \"%s\" is not an item id (see `pixiu pod inbox list`)",
                             s ? s : ""),
               -1;
    *id = v;
    return 0;
}

static void when(char out[32], int64_t ms) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int list_run(px_pod *p, int all, int json) {
    px_inbox_item *v = NULL;
    size_t n = 0;
    px_err err = {0};
    if (px_pod_inbox_list(p, all, &v, &n, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod inbox list");
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s,s:I,s:b,s:I,s:I}", "id", (json_int_t)v[i].id,
                                                 "task", v[i].manifest, "name", v[i].task, "from", v[i].consumer,
                                                 "received", (json_int_t)v[i].received_ms, "delivered",
                                                 v[i].delivered, "bytes", (json_int_t)v[i].size, "log_index",
                                                 (json_int_t)v[i].log_index));
        char *t = json_dumps(arr, JSON_INDENT(2));
        printf("%s\n", t ? t : "[]");
        free(t);
        json_decref(arr);
    } else if (n == 0) {
        printf("the inbox is empty\n");
    } else {
        printf("%-4s %-20s %-16s %-24s %7s  %s\n", "ID", "RECEIVED", "FROM", "TASK", "BYTES", "PROOF");
        for (size_t i = 0; i < n; i++) {
            char at[32];
            when(at, v[i].received_ms);
            printf("%-4lld %-20s %-16s %-24s %7llu  log entry %llu%s\n", (long long)v[i].id, at, v[i].consumer,
                   v[i].task, (unsigned long long)v[i].size, (unsigned long long)v[i].log_index,
                   v[i].delivered ? "" : " (not delivered)");
        }
    }
    px_inbox_items_free(v, n);
    return PX_EXIT_OK;
}

/* The content as text for a terminal: it is the consumer's, so control
 * characters (C0, DEL, C1) and bytes of invalid UTF-8 are shown escaped
 * (\xNN, \u00NN), never sent raw: an ad must not retitle, clear or
 * rewrite the person's terminal. Newlines and tabs pass. */
static void print_text(const uint8_t *p, size_t n) {
    int utf8 = px_utf8_valid(p, n);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (utf8 && c == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            printf("\\u%04x", p[++i]);
        else if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f && (c < 0x80 || utf8)))
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    if (!n || p[n - 1] != '\n')
        putchar('\n');
}

static void show_json(const px_inbox_item *it, const px_inbox_verified *vf) {
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:I,s:b,s:I}", "id", (json_int_t)it->id, "task", it->manifest, "name",
                          vf->task, "from", it->consumer, "received", (json_int_t)it->received_ms, "delivered",
                          vf->delivered, "bytes", (json_int_t)vf->content.len);
    json_object_set_new(o, "proof", json_pack("{s:b,s:I,s:s,s:I,s:I}", "verified", 1, "stage", (json_int_t)it->stage,
                                              "node", vf->node, "log_index", (json_int_t)it->log_index, "finished",
                                              (json_int_t)vf->finished));
    /* Text as an ASCII-only JSON string (every control character escaped);
     * anything that is not UTF-8 in base64. */
    json_t *text = json_stringn((const char *)vf->content.data, vf->content.len);
    if (text) {
        json_object_set_new(o, "content", text);
    } else {
        px_buf b = PX_BUF_INIT;
        if (px_buf_append_b64(&b, vf->content.data, vf->content.len, NULL) == 0)
            json_object_set_new(o, "content_base64", json_stringn((const char *)b.data, b.len));
        px_buf_free(&b);
    }
    char *t = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    printf("%s\n", t ? t : "{}");
    free(t);
    json_decref(o);
}

static int show_run(px_pod *p, int64_t id, int json) {
    px_inbox_item it;
    px_inbox_verified vf;
    px_err err = {0};
    if (px_pod_inbox_get(p, id, &it, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod inbox show");
    if (px_podinst_inbox_verify(&it, &vf, &err)) {
        px_inbox_item_free(&it);
        return px_cli_error(PX_EXIT_INVALID, &err, "pod inbox show: the proof does not check");
    }
    if (json) {
        show_json(&it, &vf);
    } else {
        char at[32];
        when(at, it.received_ms);
        printf("item %lld: %s by %s under task %s (%.16s...)\n", (long long)id,
               vf.delivered ? "delivered" : "nothing delivered", it.consumer, vf.task, it.manifest);
        printf("received: %s\n", at);
        printf("proof: verified: stage %u at the POD ran on %s, attested by its platform key; its ok proof is log "
               "entry %llu and names this delivery\n", it.stage, vf.node, (unsigned long long)it.log_index);
        if (vf.delivered) {
            printf("content (%zu bytes, the one the signed manifest names):\n", vf.content.len);
            print_text(vf.content.data, vf.content.len);
        }
    }
    px_buf_free(&vf.content);
    px_inbox_item_free(&it);
    return PX_EXIT_OK;
}

/* Each form: its options, then the POD opened (private, 0700) for fn. */
static int list(int argc, char **argv) {
    const char *dir = NULL;
    int all = 0, json = 0;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {"all", 0, PX_CLI_FLAG, &all, 0}, {"json", 0, PX_CLI_FLAG, &json, 0},
                               {0}};
    px_cli_args a = {.cmd = "pod inbox list", .usage = list_usage, .opts = opts, .max = 0};
    px_pod *p;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    int rc = list_run(p, all, json);
    px_pod_close(p);
    return rc;
}

static int show(int argc, char **argv) {
    const char *dir = NULL;
    int json = 0;
    int64_t id;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    px_cli_args a = {.cmd = "pod inbox show", .usage = show_usage, .opts = opts, .operands = "ID", .min = 1, .max = 1};
    px_pod *p;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (item_id(a.argv[0], &id) || px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    int rc = show_run(p, id, json);
    px_pod_close(p);
    return rc;
}

static int del(int argc, char **argv) {
    const char *dir = NULL;
    int64_t id;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {0}};
    px_cli_args a = {.cmd = "pod inbox delete", .usage = delete_usage, .opts = opts, .operands = "ID", .min = 1,
                     .max = 1};
    px_pod *p;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (item_id(a.argv[0], &id) || px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    int rc = px_pod_inbox_delete(p, id, &err) ? px_cli_error(PX_EXIT_USAGE, &err, "pod inbox delete") : PX_EXIT_OK;
    if (rc == PX_EXIT_OK)
        printf("deleted inbox item %lld\n", (long long)id);
    px_pod_close(p);
    return rc;
}

static const px_cli_form forms[] = {
    {"list", list, "what stages at the POD delivered, by whom, under which task"},
    {"show", show, "check an item's proof offline and print its content"},
    {"delete", del, "remove an item"},
};

static int run(int argc, char **argv) {
    return px_cli_forms("pod inbox", forms, sizeof forms / sizeof *forms, argc, argv);
}

const px_cli_form px_cli_pod_inbox = {"inbox", run, "what stages placed at the POD delivered, proofs checked"};
