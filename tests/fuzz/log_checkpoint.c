/* Fuzz the checkpoint parser (note body) and the signed-checkpoint opener;
 * a parsed checkpoint must format back to exactly the same text. */
#include <stdlib.h>
#include <string.h>

#include "pixiu/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_checkpoint cp;
    if (px_checkpoint_parse(&cp, (const char *)data, size, NULL) == 0) {
        px_buf b = PX_BUF_INIT;
        if (px_checkpoint_format(&cp, &b, NULL) || b.len != size || memcmp(b.data, data, size))
            abort(); /* one spelling per checkpoint */
        px_buf_free(&b);
        px_checkpoint_free(&cp);
    }
    px_verifier v = {.name = "log.example", .id = 0};
    if (px_checkpoint_open(&cp, (const char *)data, size, &v, NULL, NULL) == 0)
        abort(); /* nobody holds the key of an all-zero public key */
    px_cosigner c = {.name = "w"};
    px_note n = {0};
    if (px_note_parse(&n, (const char *)data, size, NULL) == 0) {
        px_cosig_verify(&n, &c, NULL, NULL);
        px_note_free(&n);
    }
    px_cosig_parse(&c, (const char *)data, size, NULL);
    return 0;
}
