/* Fuzz the witness's add-checkpoint endpoint (request body parsing, the
 * checkpoint inside it, the status decisions). Without the log's private
 * key no input can be cosigned, so the witness state never changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pixiu/log.h"

/* The witness store is a real file (the store opens a connection per
 * thread, so SQLite's ":memory:" would be a file of that name in the
 * working directory): a scratch directory, removed at exit. */
static char scratch[] = "/tmp/pixiu-fuzz-witness.XXXXXX";

static void scratch_remove(void) {
    static const char *const names[] = {"witness.db", "witness.db-wal", "witness.db-shm", "witness.db-journal"};
    char path[sizeof scratch + 32];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", scratch, names[i]);
        unlink(path);
    }
    rmdir(scratch);
}

static px_witness_service *service(void) {
    static px_witness_service svc;
    static px_witness_log log;
    if (svc.witness)
        return &svc;
    px_signer wk, lk;
    char path[sizeof scratch + 16];
    if (!mkdtemp(scratch))
        abort();
    atexit(scratch_remove);
    snprintf(path, sizeof path, "%s/witness.db", scratch);
    if (px_crypto_init(NULL) || px_signer_generate(&wk, "witness.example", NULL) ||
        px_signer_generate(&lk, "log.example", NULL) || px_witness_open(&svc.witness, path, &wk, NULL))
        abort();
    px_signer_verifier(&lk, &log.key);
    strcpy(log.origin, "log.example");
    svc.logs = &log;
    svc.nlogs = 1;
    return &svc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_http_request req = {.method = "POST", .path = "/add-checkpoint", .query = "", .body = data, .body_len = size};
    px_http_response resp = {.status = 200};
    px_witness_http_handler(service(), &req, &resp);
    if (resp.status == 200)
        abort(); /* nothing here is signed by the log */
    px_buf_free(&resp.body);
    return 0;
}
