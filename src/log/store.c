/* Choosing a store from its specification string. */
#include <string.h>

#include "log/store.h"

int px_log_store_open(px_log_store **out, const char *spec, px_err *err) {
    if (!spec || !*spec)
        return px_fail(err, PX_E_INVALID, "log store: no store given");
    if (!strncmp(spec, "sqlite:", 7))
        return px_log_store_sqlite_open(out, spec + 7, err);
    if (!strncmp(spec, "postgres:", 9))
        return px_log_store_pg_open(out, spec + 9, err);
    if (!strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11))
        return px_log_store_pg_open(out, spec, err);
    return px_log_store_sqlite_open(out, spec, err);
}
