/* Fuzz the signed-note key parsers: anything accepted must round-trip. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_verifier v;
    px_signer s;
    px_buf out = PX_BUF_INIT;
    if (px_verifier_parse(&v, (const char *)data, size, NULL) == 0) {
        if (px_verifier_format(&v, &out, NULL) || px_key_id(v.name, v.pk) != v.id)
            abort();
    }
    if (px_signer_parse(&s, (const char *)data, size, NULL) == 0) {
        px_verifier sv;
        px_signer_verifier(&s, &sv);
        if (px_key_id(sv.name, sv.pk) != s.id)
            abort();
    }
    px_buf_free(&out);
    return 0;
}
