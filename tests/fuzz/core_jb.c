/* Fuzz the PXJB reader (JSON with attachments): whatever a body holds,
 * parsing refuses it or gives a document whose every byte field reads
 * back within the body, and writing that document again round-trips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pixiu/core.h"

/* Read every string or reference value of the document as bytes. */
static void read_all(const px_jb_view *v, const json_t *x, px_buf *scratch) {
    if (json_is_object(x)) {
        const char *key;
        json_t *m;
        json_object_foreach((json_t *)x, key, m) {
            px_buf_reset(scratch);
            px_jb_bytes(v, x, key, scratch, NULL);
            read_all(v, m, scratch);
        }
    } else if (json_is_array(x)) {
        size_t i;
        json_t *m;
        json_array_foreach(x, i, m) {
            px_buf_reset(scratch);
            px_jb_value(v, m, "element", scratch, NULL);
            read_all(v, m, scratch);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *doc = NULL;
    px_jb_view v;
    if (px_jb_parse(data, size, 1u << 20, &doc, &v, NULL))
        return 0;
    px_buf scratch = PX_BUF_INIT;
    read_all(&v, doc, &scratch);
    /* A parsed PXJB body with its attachments written again as base64
     * parses back as plain JSON. */
    if (v.n && json_is_object(doc)) {
        px_jb jb;
        if (px_jb_init(&jb, 1, NULL) == 0) {
            for (size_t i = 0; i < v.n; i++) {
                char key[16];
                snprintf(key, sizeof key, "b%zu", i);
                if (px_jb_set_bytes(&jb, jb.doc, key, v.blobs[i].p, v.blobs[i].n, NULL))
                    abort();
            }
            px_buf out = PX_BUF_INIT;
            json_t *back = NULL;
            px_jb_view bv;
            if (px_jb_encode(&jb, &out, NULL) || px_jb_parse(out.data, out.len, 1u << 30, &back, &bv, NULL))
                abort();
            for (size_t i = 0; i < v.n; i++) {
                char key[16];
                snprintf(key, sizeof key, "b%zu", i);
                px_buf_reset(&scratch);
                if (px_jb_bytes(&bv, back, key, &scratch, NULL) || scratch.len != v.blobs[i].n ||
                    (scratch.len && memcmp(scratch.data, v.blobs[i].p, scratch.len)))
                    abort();
            }
            json_decref(back);
            px_jb_view_free(&bv);
            px_buf_free(&out);
            px_jb_free(&jb);
        }
    }
    px_buf_free(&scratch);
    px_jb_view_free(&v);
    json_decref(doc);
    return 0;
}
