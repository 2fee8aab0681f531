/* Shared by the POD importer fuzz targets (pod_csv.c, pod_jsonl.c): any
 * bytes give rows of the declared types or line errors, never a crash;
 * every accepted row encodes as a record. */
#ifndef PX_FUZZ_POD_IMPORT_H
#define PX_FUZZ_POD_IMPORT_H

#include <stdlib.h>
#include <string.h>

#include "pixiu/pod.h"

typedef int (*pod_parse_fn)(const px_pod_schema *s, const uint8_t *data, size_t len, px_pod_row_fn fn, void *ctx,
                            px_pod_report *rep, px_err *err);

static const char schema_json[] =
    "{\"fields\":[{\"name\":\"id\",\"type\":\"text\"},{\"name\":\"n\",\"type\":\"int\"},"
    "{\"name\":\"x\",\"type\":\"real\"},{\"name\":\"b\",\"type\":\"blob\"}],\"user\":\"id\",\"key\":\"id\"}";

static int on_row(void *ctx, const px_pod_row *row, px_err *err) {
    const px_pod_schema *s = ctx;
    px_buf b = PX_BUF_INIT;
    if (px_record_encode_values(&b, &s->rec, row->values, err) != 0)
        abort(); /* the parser let through a value the record format refuses */
    if (row->sig_len && (row->sig_len < PX_SRC_SIG_BYTES || row->sig_len > PX_SRC_SIG_MAX || !strchr(row->source, '+')))
        abort();
    px_buf_free(&b);
    return 0;
}

static int fuzz_pod_import(pod_parse_fn parse, const uint8_t *data, size_t size) {
    static px_pod_schema s;
    static int ready;
    if (!ready) {
        if (px_crypto_init(NULL) || px_pod_schema_parse(&s, schema_json, strlen(schema_json), NULL))
            abort();
        ready = 1;
    }
    px_pod_report rep;
    memset(&rep, 0, sizeof rep);
    px_err err = {0};
    int rc = parse(&s, data, size, on_row, &s, &rep, &err);
    if ((rc == 0) != (rep.errors == 0))
        abort(); /* success exactly when no row was rejected */
    px_pod_report_free(&rep);
    return 0;
}

#endif
