/* Fuzz `pixiu pod inbox show`'s check of an inbox item (px_podinst_inbox_verify):
 * the input is a stage byte and then six fields, each u32le length and
 * bytes: the signed manifest, the instance's config, its evidence, the
 * platform verifier key, the proof and the opened delivery. The item's
 * task id and consumer are taken from the manifest, so inputs reach the
 * checks past them. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) {
        if (px_crypto_init(NULL))
            abort();
        ready = 1;
    }
    if (size < 1)
        return 0;
    px_inbox_item it;
    memset(&it, 0, sizeof it);
    it.stage = data[0];
    px_buf *f[] = {&it.manifest_env, &it.config, &it.evidence, &it.platform, &it.proof, &it.opening};
    size_t at = 1;
    for (size_t k = 0; k < 6 && at + 4 <= size; k++) {
        uint32_t n = px_load_u32le(data + at);
        at += 4;
        if (n > size - at)
            n = (uint32_t)(size - at);
        if (px_buf_append(f[k], data + at, n, NULL))
            abort();
        at += n;
    }
    uint8_t id[PX_SHA256_BYTES];
    px_sha256(id, it.manifest_env.data, it.manifest_env.len);
    px_hex_encode(it.manifest, id, sizeof id);
    px_manifest m;
    if (px_manifest_parse(&m, it.manifest_env.data, it.manifest_env.len, NULL) == 0) {
        snprintf(it.consumer, sizeof it.consumer, "%s", m.consumer_id);
        px_manifest_free(&m);
    }
    px_inbox_verified v;
    px_err err;
    if (px_podinst_inbox_verify(&it, &v, &err) == 0) {
        if (v.content.len > it.opening.len)
            abort();
        px_buf_free(&v.content);
    }
    px_inbox_item_free(&it);
    return 0;
}
