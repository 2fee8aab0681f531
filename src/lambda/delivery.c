/* The two small formats of delivery (docs/formats.md): the content a
 * delivering stage gets sealed with its code ("PXAD") and the fixed-size
 * payload it seals to its POD's inbox ("PXD1"). The payload is written by
 * the map host (stage_map.c); these read them, for the instance, the POD
 * node and `pixiu pod inbox show`. */
#include <string.h>

#include "pixiu/lambda.h"

int px_content_split(const uint8_t *p, size_t n, int *has, const uint8_t **content, uint32_t *len, size_t *used,
                     px_err *err) {
    *has = 0;
    *content = NULL;
    *len = 0;
    *used = 0;
    if (n < 4 || memcmp(p, PX_CONTENT_MAGIC, 4) != 0)
        return 0;
    if (n < 8)
        return px_fail(err, PX_E_INVALID, "content header is truncated");
    uint32_t k = px_load_u32le(p + 4);
    if (k > PX_CONTENT_MAX_BYTES || k > n - 8)
        return px_fail(err, PX_E_INVALID, "content of %u bytes does not fit (at most %u)", k, PX_CONTENT_MAX_BYTES);
    *has = 1;
    *content = p + 8;
    *len = k;
    *used = 8 + (size_t)k;
    return 0;
}

int px_delivery_parse(px_delivery *d, const uint8_t *p, size_t n, px_err *err) {
    memset(d, 0, sizeof *d);
    if (n < PX_DELIVERY_HEADER_BYTES || memcmp(p, PX_DELIVERY_MAGIC, 4) != 0)
        return px_fail(err, PX_E_INVALID, "the delivery is not a PXD1 payload");
    size_t body = n - PX_DELIVERY_HEADER_BYTES;
    uint32_t len = px_load_u32le(p + 5);
    if (p[4] > 1 || len > body || (p[4] == 0 && len != 0))
        return px_fail(err, PX_E_INVALID, "the delivery's header is malformed");
    for (size_t i = PX_DELIVERY_HEADER_BYTES + len; i < n; i++)
        if (p[i])
            return px_fail(err, PX_E_INVALID, "the delivery's padding is not zeros");
    d->delivered = p[4] == 1;
    d->content = p + PX_DELIVERY_HEADER_BYTES;
    d->len = len;
    d->size = body;
    return 0;
}
