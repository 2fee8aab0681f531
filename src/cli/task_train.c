/* pixiu task train: run the rounds of a federated-learning training. */
#include <string.h>

#include "cli/cli.h"
#include "node/node.h"

#define PX_TRAIN_MAX_BUILDS 16
#define PX_TRAIN_CODE_MAX (64u << 20)
#define PX_TRAIN_MODEL_MAX (64u << 20)

static const char usage[] =
    "usage: pixiu task train TRAINING.json --node NODE.json --code TRAIN.wasm --model MODEL\n"
    "                        [--out MODEL] [--models DIR] [--receipt FILE] [--build HEX]...\n"
    "Trains a model over the PODs in rounds (docs/fl.md). TRAINING.json is a manifest template\n"
    "with \"training\": {\"rounds\": N[, \"min_change\": \"...\"]}, an fl-user stage at the PODs and\n"
    "an fl-agg stage; each round is submitted as a task of its own: TRAIN.wasm is the training\n"
    "code, MODEL (a PXFM block) the model the first round starts from, and each round starts\n"
    "from the model the one before produced. Stops after N rounds, when the model moves less\n"
    "than min_change, or at a round that fails.\n"
    "Prints a line per round; --out writes the last model, --models DIR each round's model\n"
    "(DIR/round-R.pxfm), --receipt the training receipt (every round's receipt, model in and out).\n"
    "Exit status: 0 every round ran and its receipt verifies, 1 a round failed, 2 error.\n";

typedef struct progress {
    const char *models;
    px_membership *mem;     /* read again between rounds */
    const char *membership; /* from this file */
    px_err err;
} progress;

/* A training outlives a node's restart on a new address: the next round
 * reads the membership file again (the one the node config names, so the
 * trust root is the same file). A file that no longer parses keeps the
 * one in use. */
static void reload(progress *p) {
    px_membership fresh = {0};
    if (px_membership_load(&fresh, p->membership, NULL))
        return;
    px_membership_free(p->mem);
    *p->mem = fresh;
}

static int on_round(void *ctx, const px_train_round *rd) {
    progress *p = ctx;
    const px_submit_result *r = rd->r;
    if (!r->ok) {
        printf("round %u/%u: failed: %s\n", rd->round, rd->rounds, r->failure);
        return 0;
    }
    printf("round %u/%u: %zu of %zu users survived; the model moved %.6f\n", rd->round, rd->rounds,
           r->fl_survivors, r->fl_users, rd->change);
    fflush(stdout);
    reload(p);
    if (!p->models)
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/round-%u.pxfm", p->models, rd->round);
    return px_file_write_atomic(path, rd->model, rd->model_len, 0644, &p->err);
}

static int train_run(const char *tmpl_path, const char *node_path, const char *code_path, const char *model_path,
                     const char *out_path, const char *models, const char *receipt_path, char **builds,
                     size_t nbuilds) {
    px_err err = {0};
    px_node_config cfg;
    px_signer key;
    px_membership mem = {0};
    px_buf tmpl = PX_BUF_INIT, code = PX_BUF_INIT, model = PX_BUF_INIT, receipt = PX_BUF_INIT;
    uint8_t accepted[PX_TRAIN_MAX_BUILDS][PX_SHA256_BYTES];
    px_train_result tr;
    progress p = {models, &mem, NULL, {0}};
    int status = PX_EXIT_USAGE;
    if (px_node_builds_parse(accepted, builds, nbuilds, &err) || px_node_config_load(&cfg, node_path, &err) ||
        px_signer_load(&key, cfg.key, &err) || px_membership_load(&mem, cfg.membership, &err) ||
        px_cli_read_input(tmpl_path, PX_MANIFEST_MAX_BYTES, &tmpl, &err) ||
        px_file_read(code_path, PX_TRAIN_CODE_MAX, &code, &err) ||
        px_file_read(model_path, PX_TRAIN_MODEL_MAX, &model, &err))
        goto out;
    p.membership = cfg.membership;
    px_submit_opts o = {cfg.id, &key, &mem, code.data, code.len, (const uint8_t(*)[PX_SHA256_BYTES])accepted, nbuilds,
                        stderr, NULL, 0, NULL, 0};
    if (px_train(&o, tmpl.data, tmpl.len, &model, &receipt, on_round, &p, &tr, &err)) {
        if (p.err.msg[0])
            err = p.err;
        goto out;
    }
    if ((out_path && tr.rounds && px_file_write_atomic(out_path, model.data, model.len, 0644, &err)) ||
        (receipt_path && px_file_write_atomic(receipt_path, receipt.data, receipt.len, 0644, &err)))
        goto out;
    if (tr.failed)
        printf("training failed: %s\n", tr.failure);
    else
        printf("training: %u round%s%s\n", tr.rounds, tr.rounds == 1 ? "" : "s",
               tr.stopped_early ? " (stopped: the model moved less than min_change)" : "");
    status = tr.failed ? PX_EXIT_INVALID : PX_EXIT_OK;
out:
    if (status == PX_EXIT_USAGE)
        px_cli_error(PX_EXIT_USAGE, &err, "task train");
    px_membership_free(&mem);
    px_signer_wipe(&key);
    px_buf_free(&tmpl);
    px_buf_free(&code);
    px_buf_free(&model);
    px_buf_free(&receipt);
    return status;
}

static int run(int argc, char **argv) {
    const char *node = NULL, *code = NULL, *model = NULL, *out = NULL, *models = NULL, *receipt = NULL;
    const char *bv[PX_TRAIN_MAX_BUILDS];
    px_cli_list builds = {bv, 0, PX_TRAIN_MAX_BUILDS};
    const px_cli_opt opts[] = {{"node", 'n', PX_CLI_VALUE, &node, 1},
                               {"code", 'c', PX_CLI_VALUE, &code, 1},
                               {"model", 'm', PX_CLI_VALUE, &model, 1},
                               {"out", 'o', PX_CLI_VALUE, &out, 0},
                               {"models", 'M', PX_CLI_VALUE, &models, 0},
                               {"receipt", 'R', PX_CLI_VALUE, &receipt, 0},
                               {"build", 'b', PX_CLI_LIST, &builds, 0},
                               {0}};
    px_cli_args a = {.cmd = "task train", .usage = usage, .opts = opts, .operands = "TRAINING.json", .min = 1,
                     .max = 1};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    return train_run(a.argv[0], node, code, model, out, models, receipt, (char **)bv, builds.n);
}

const px_cli_form px_cli_task_train = {"train", run, "train a model over the PODs in rounds (federated learning)"};
