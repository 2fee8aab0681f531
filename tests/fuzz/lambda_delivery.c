/* Fuzz the delivery formats (docs/formats.md): the content a delivering
 * stage's sealed code carries after its task key ("PXAD") and the PXD1
 * payload sealed to a POD's inbox; and, from a config's params, the wasm
 * and gather kinds' checks (params.deliver among them). */
#include <stdlib.h>
#include <string.h>

#include "pixiu/lambda.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    px_err err;
    int has;
    const uint8_t *content;
    uint32_t len;
    size_t used;
    if (px_content_split(data, size, &has, &content, &len, &used, &err) == 0 &&
        (used > size || (has && (content != data + 8 || used != 8 + (size_t)len)) || (!has && used)))
        abort(); /* what it names lies inside the input */
    px_delivery d;
    if (px_delivery_parse(&d, data, size, &err) == 0) {
        if (d.size != size - PX_DELIVERY_HEADER_BYTES || d.len > d.size || (!d.delivered && d.len))
            abort();
        for (size_t i = PX_DELIVERY_HEADER_BYTES + d.len; i < size; i++)
            if (data[i])
                abort(); /* the padding it accepted is zeros */
    }
    json_error_t je;
    json_t *params = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (json_is_object(params)) {
        px_lambda_wasm_kind.check(params, &err);
        px_lambda_gather_kind.check(params, &err);
    }
    json_decref(params);
    return 0;
}
