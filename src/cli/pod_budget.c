/* pixiu pod budget show|history|refund: the privacy-budget ledger. */
#include <stdlib.h>
#include <string.h>

#include "cli/pod.h"

static const char show_usage[] =
    "usage: pixiu pod budget show [DATASET] [--consumer ID] [--json] [--pod DIR]\n"
    "For DATASET (default: every dataset with a budget), the epsilon and delta spent of\n"
    "the limits, then every charge (of consumer ID, if given) with its state and why it\n"
    "is in it.\n";
static const char history_usage[] =
    "usage: pixiu pod budget history [DATASET] [--json] [--pod DIR]\n"
    "Every charge (of DATASET, if given), oldest first.\n";
static const char refund_usage[] =
    "usage: pixiu pod budget refund MANIFEST DATASET [--pod DIR]\n"
    "Refunds the charge of task MANIFEST on DATASET when the log shows it never released\n"
    "its data (see docs/pod.md, refunds).\n";

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

static int show(int argc, char **argv) {
    const char *dir = NULL, *consumer = NULL;
    int json = 0;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {"consumer", 0, PX_CLI_VALUE, &consumer, 0},
                               {"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    px_cli_args a = {.cmd = "pod budget show", .usage = show_usage, .opts = opts, .operands = "DATASET", .max = 1};
    px_pod *p;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    json_t *arr = json_array();
    int rc = 0;
    if (a.argc == 1) {
        rc = show_dataset(p, a.argv[0], consumer, json, arr, &err);
    } else {
        char(*names)[PX_KEY_NAME_MAX + 1] = NULL;
        size_t n = 0;
        rc = px_pod_budget_datasets(p, &names, &n, &err);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = show_dataset(p, names[i], consumer, json, arr, &err);
        free(names);
    }
    px_pod_close(p);
    if (rc) {
        json_decref(arr);
        return px_cli_error(PX_EXIT_USAGE, &err, "pod budget show");
    }
    /* One dataset: its object; all of them: an array. */
    if (json && a.argc == 1) {
        json_t *one = json_incref(json_array_get(arr, 0));
        json_decref(arr);
        return px_cli_pod_print_json(one);
    }
    return json ? px_cli_pod_print_json(arr) : (json_decref(arr), PX_EXIT_OK);
}

static int history(int argc, char **argv) {
    const char *dir = NULL;
    int json = 0;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {"json", 0, PX_CLI_FLAG, &json, 0}, {0}};
    px_cli_args a = {.cmd = "pod budget history", .usage = history_usage, .opts = opts, .operands = "DATASET",
                     .max = 1};
    px_pod *p;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    px_pod_charge *h;
    size_t n;
    int rc = px_pod_budget_history(p, a.argc ? a.argv[0] : NULL, &h, &n, &err);
    px_pod_close(p);
    if (rc)
        return px_cli_error(PX_EXIT_USAGE, &err, "pod budget history");
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = charge_json(&h[i]);
        if (json)
            json_array_append(arr, j);
        else
            printf("%lld\t%s\t%s\t%s\tepsilon %s\tdelta %s\t%s%s%s\n", (long long)h[i].id, h[i].manifest,
                   h[i].dataset, h[i].consumer, json_string_value(json_object_get(j, "epsilon")),
                   json_string_value(json_object_get(j, "delta")), px_charge_state_name(h[i].state),
                   h[i].reason[0] ? "\t" : "", h[i].reason);
        json_decref(j);
    }
    free(h);
    return json ? px_cli_pod_print_json(arr) : (json_decref(arr), PX_EXIT_OK);
}

static int refund(int argc, char **argv) {
    const char *dir = NULL;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir), {0}};
    px_cli_args a = {.cmd = "pod budget refund", .usage = refund_usage, .opts = opts,
                     .operands = "MANIFEST DATASET", .min = 2, .max = 2};
    px_pod *p;
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    if (px_cli_pod_open(dir, &p))
        return PX_EXIT_USAGE;
    px_err err = {0};
    int rc = px_pod_budget_refund(p, a.argv[0], a.argv[1], &err)
                 ? px_cli_error(px_cli_pod_status(&err), &err, "pod budget refund")
                 : PX_EXIT_OK;
    px_pod_close(p);
    return rc;
}

static const px_cli_form forms[] = {
    {"show", show, "spent, limits and every charge with its state and why"},
    {"history", history, "every charge, oldest first"},
    {"refund", refund, "refund a task's charge"},
};

static int run(int argc, char **argv) {
    return px_cli_forms("pod budget", forms, sizeof forms / sizeof *forms, argc, argv);
}

const px_cli_form px_cli_pod_budget = {"budget", run, "the privacy-budget ledger: show, history, refund"};
