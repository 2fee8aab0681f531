/* Fuzz the data-prover stage over arbitrary record streams: it proves or
 * refuses the whole stream, and when it proves, the counts add up and the
 * output is a well-formed stream of exactly the records it kept. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/pod.h"

static int setup(px_prover_config *c) {
    px_source_signer a, b;
    if (px_source_signer_generate(&a, "phone", PX_SRC_ED25519, NULL) ||
        px_source_signer_generate(&b, "bank", PX_SRC_P256, NULL))
        return -1;
    px_source_key keys[2] = {a.pub, b.pub};
    px_buf cfg = PX_BUF_INIT;
    int rc = px_prover_config_format(&cfg, keys, 2, 0, NULL) || px_prover_config_parse(c, cfg.data, cfg.len, NULL);
    px_buf_free(&cfg);
    px_source_signer_free(&a);
    px_source_signer_free(&b);
    return rc ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static px_prover_config c;
    static int ready;
    if (!ready) {
        if (px_crypto_init(NULL) || setup(&c))
            abort();
        ready = 1;
    }
    px_buf out = PX_BUF_INIT;
    px_prover_counts n;
    if (px_prover_run(&c, data, size, &out, &n, NULL) == 0) {
        if (n.records != n.authenticated + n.alleged + n.dropped ||
            n.alleged != n.unsigned_records + n.unknown_source + n.bad_signature)
            abort();
        px_records_reader r;
        px_value v[PX_RECORDS_MAX_FIELDS];
        uint8_t flags;
        uint64_t k = 0;
        int rc;
        if (px_records_open(&r, out.data, out.len, NULL))
            abort();
        while ((rc = px_records_next(&r, v, &flags, NULL)) == 1)
            k++;
        if (rc != 0 || k != n.authenticated + n.alleged)
            abort();
    } else if (out.len != 0) {
        abort(); /* a refused stream leaves no output */
    }
    px_buf_free(&out);
    return 0;
}
