/* Fuzz the POD's small parsers: dataset schema, policy, prover config,
 * source keys (public and private) and privacy amounts. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/pod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) {
        if (px_crypto_init(NULL))
            abort();
        ready = 1;
    }
    px_pod_schema s;
    if (px_pod_schema_parse(&s, data, size, NULL) == 0) {
        px_buf b = PX_BUF_INIT;
        px_pod_schema t;
        if (px_pod_schema_format(&s, &b, NULL) || px_pod_schema_parse(&t, b.data, b.len, NULL) ||
            t.rec.nfields != s.rec.nfields || t.key_field != s.key_field)
            abort(); /* a parsed schema round-trips */
        px_buf_free(&b);
    }
    px_pod_policy pol;
    if (px_pod_policy_parse(&pol, data, size, NULL) == 0)
        px_pod_policy_free(&pol);
    px_prover_config c;
    if (px_prover_config_parse(&c, data, size, NULL) == 0)
        px_prover_config_free(&c);
    px_source_key k;
    if (px_source_key_parse(&k, (const char *)data, size, NULL) == 0)
        px_source_key_free(&k);
    px_source_signer sg;
    if (px_source_signer_parse(&sg, (const char *)data, size, NULL) == 0)
        px_source_signer_free(&sg);
    char text[80];
    if (size < sizeof text) {
        memcpy(text, data, size);
        text[size] = 0;
        int64_t u, d;
        char back[PX_AMOUNT_TEXT_MAX];
        if (px_eps_parse(&u, text, PX_ROUND_UP, NULL) == 0) {
            px_eps_format(back, u);
            if (px_eps_parse(&d, back, PX_ROUND_DOWN, NULL) || d != u)
                abort(); /* formatting is exact */
        }
        if (px_delta_parse(&u, text, PX_ROUND_DOWN, NULL) == 0 && (u < 0 || u > PX_DELTA_MAX_UNITS))
            abort();
    }
    return 0;
}
