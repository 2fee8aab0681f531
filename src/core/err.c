/* Errors: one code plus one line that names the cause. */
#include <stdio.h>
#include <string.h>

#include "pixiu/core.h"

int px_fail(px_err *err, px_code code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int px_err_prefix(px_err *err, const char *fmt, ...) {
    if (!err)
        return -1;
    char prefix[PX_ERR_MSG_MAX], old[PX_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strnlen(prefix, sizeof err->msg - 1);
    memcpy(err->msg, prefix, n);
    size_t m = strnlen(old, sizeof err->msg - 1 - n);
    memcpy(err->msg + n, old, m);
    err->msg[n + m] = 0;
    return -1;
}

const char *px_code_name(px_code code) {
    switch (code) {
    case PX_OK: return "ok";
    case PX_E_INVALID: return "invalid";
    case PX_E_VERIFY: return "verify";
    case PX_E_NOMEM: return "nomem";
    case PX_E_IO: return "io";
    case PX_E_NOTFOUND: return "notfound";
    case PX_E_LIMIT: return "limit";
    case PX_E_DENIED: return "denied";
    case PX_E_STATE: return "state";
    case PX_E_UNAVAILABLE: return "unavailable";
    case PX_E_INTERNAL: return "internal";
    }
    return "unknown";
}
