/* pixiu pod release: release a dataset to a stage, by hand. */
#include <string.h>

#include "cli/pod.h"

static const char usage[] =
    "usage: pixiu pod release MANIFEST DATASET --pod-id ID --stage-key HEX [-o STREAM] [--pod DIR]\n"
    "Releases DATASET for the admitted task MANIFEST: the records sealed to the stage's\n"
    "X25519 key HEX (written to STREAM), and a release statement signed by the POD key,\n"
    "naming the POD as ID, printed on standard output.\n";

static int run(int argc, char **argv) {
    const char *dir = NULL, *pod_id = NULL, *stage_key = NULL, *out = NULL;
    const px_cli_opt opts[] = {PX_CLI_POD_OPT(&dir),
                               {"pod-id", 0, PX_CLI_VALUE, &pod_id, 1},
                               {"stage-key", 0, PX_CLI_VALUE, &stage_key, 1},
                               {"out", 'o', PX_CLI_VALUE, &out, 0},
                               {0}};
    px_cli_args a = {.cmd = "pod release", .usage = usage, .opts = opts, .operands = "MANIFEST DATASET", .min = 2,
                     .max = 2};
    if (px_cli_parse(&a, argc, argv))
        return a.status;
    px_err err = {0};
    uint8_t key[PX_BOX_PUBLICKEYBYTES];
    if (px_hex_decode_exact(key, sizeof key, stage_key, strlen(stage_key), &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod release: --stage-key");
    char kpath[PX_CLI_POD_PATH_MAX];
    snprintf(kpath, sizeof kpath, "%s/pod.key", dir ? dir : ".");
    px_signer s;
    if (px_signer_load(&s, kpath, &err))
        return px_cli_error(PX_EXIT_USAGE, &err, "pod release");
    px_pod *p;
    if (px_cli_pod_open(dir, &p)) {
        px_signer_wipe(&s);
        return PX_EXIT_USAGE;
    }
    px_buf stream = PX_BUF_INIT, env = PX_BUF_INIT;
    int rc = PX_EXIT_OK;
    if (px_pod_release(p, &s, pod_id, a.argv[0], a.argv[1], key, &stream, &env, &err))
        rc = px_cli_error(px_cli_pod_status(&err), &err, "pod release");
    else if (out && px_cli_pod_write(out, &stream))
        rc = PX_EXIT_USAGE;
    else
        printf("%.*s\n", (int)env.len, (const char *)env.data);
    px_signer_wipe(&s);
    px_buf_free(&stream);
    px_buf_free(&env);
    px_pod_close(p);
    return rc;
}

const px_cli_form px_cli_pod_release = {"release", run, "release a dataset to a stage; prints the signed statement"};
