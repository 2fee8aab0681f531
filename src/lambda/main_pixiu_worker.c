/* pixiu_worker: the process a trust-λ instance lives in. A node starts it
 * through its TEE backend with the channel on fd PX_TEE_WORKER_FD.
 *
 * The stage table below is what this worker can run. Built-in stages from
 * other modules (the POD's prover, the DP stage, the PIR server) are added here: each is a
 * px_stage_kind (include/pixiu/lambda.h). */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "pixiu/agg.h"
#include "pixiu/dp.h"
#include "pixiu/lambda.h"
#include "pixiu/pir.h"
#include "pixiu/pod.h"
#include "pixiu/poll.h"

static const px_stage_kind *const stage_table[] = {
    &px_lambda_aggregate_kind,
    &px_lambda_gather_kind,
    &px_lambda_wasm_kind,
    &px_pod_stage_kind,
    &px_poll_stage_kind,
    &px_dp_stage_kind,
    &px_pir_stage_kind,
    &px_agg_fl_user_kind,
    &px_agg_fl_agg_kind,
    NULL,
};

int main(void) {
    px_err err = {0};
    /* A worker may wait long for its INIT (a node's warm pool keeps some
     * ready): no other process of the node's user may attach to it or
     * read its memory meanwhile, and be there when it makes its keys. The
     * backend's lockdown after INIT says so again, and adds the rest. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        fprintf(stderr, "pixiu_worker: cannot make itself non-dumpable\n");
        return 1;
    }
    if (px_crypto_init(&err)) {
        fprintf(stderr, "pixiu_worker: %s\n", err.msg);
        return 1;
    }
    int status = px_lambda_worker_main(PX_TEE_WORKER_FD, stage_table, &px_tee_process);
    /* _exit: after lockdown the seccomp filter admits no exit-time work
     * beyond flushing stderr (a leak checker would need ptrace). */
    fflush(stderr);
    _exit(status);
}
