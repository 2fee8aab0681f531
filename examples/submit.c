/* Run a task on a PIXIU network from C, and check its receipt: the public
 * API of pixiu/node.h (docs/api.md). Built outside the tree against the
 * installed library:
 *
 *     cc submit.c $(pkg-config --cflags --libs pixiu) -o submit
 *     ./submit NODE.json MANIFEST.json TASK.wasm MEMBERSHIP.json
 *
 * Exit 0 when the task completed and its receipt verifies against the
 * membership, 1 when the task failed (its failure is proven), 2 on errors. */
#include <stdio.h>
#include <stdlib.h>

#include <pixiu/core.h>
#include <pixiu/crypto.h>
#include <pixiu/node.h>
#include <pixiu/records.h>

static int fail(const char *what, const px_err *err) {
    fprintf(stderr, "submit: %s: %s\n", what, err->msg);
    return 2;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: submit NODE.json MANIFEST.json TASK.wasm MEMBERSHIP.json\n");
        return 2;
    }
    px_err err = {0};
    px_buf manifest = PX_BUF_INIT, code = PX_BUF_INIT;
    if (px_crypto_init(&err))
        return fail("init", &err);
    if (px_file_read(argv[2], 1u << 20, &manifest, &err) || px_file_read(argv[3], 64u << 20, &code, &err))
        return fail("reading", &err);
    px_submit_result r;
    if (px_node_submit(argv[1], manifest.data, manifest.len, code.data, code.len, stderr, &r, &err))
        return fail("submit", &err);
    int status = 2;
    if (!r.ok) {
        printf("failed: %s\n", r.failure);
        status = 1;
    } else {
        double *v = NULL;
        uint32_t n = 0;
        if (px_vector_decode(&v, &n, r.result.data, r.result.len, &err) == 0) {
            printf("result:");
            for (uint32_t i = 0; i < n; i++)
                printf(" %.6g", v[i]);
            printf("\n");
            free(v);
        }
        px_receipt_summary s;
        if (px_node_receipt_verify(argv[4], r.receipt.data, r.receipt.len, &s, &err)) {
            fprintf(stderr, "submit: the receipt does not verify: %s\n", err.msg);
        } else {
            printf("receipt verified: %zu log entries, %zu cosignatures\n", s.nentries, s.ncosigs);
            px_receipt_summary_free(&s);
            status = 0;
        }
    }
    px_submit_result_free(&r);
    px_buf_free(&manifest);
    px_buf_free(&code);
    return status;
}
