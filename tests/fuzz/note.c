/* Fuzz the signed-note parser and verifier, and the format round trip. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char vk[] = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    px_verifier v;
    px_note n;
    if (px_verifier_parse(&v, vk, strlen(vk), NULL))
        abort();
    if (px_note_parse(&n, (const char *)data, size, NULL) != 0)
        return 0;
    px_note_verify(&n, &v, 1, NULL, NULL);
    px_buf out = PX_BUF_INIT;
    /* Whatever parses must serialise back to exactly the same bytes. */
    if (px_note_format(&n, &out, NULL) || out.len != size || memcmp(out.data, data, size) != 0)
        abort();
    px_buf_free(&out);
    px_note_free(&n);
    return 0;
}
