/* C2SP tlog-tiles paths: <L>/<N>[.p/<W>] and entries/<N>[.p/<W>], where N
 * is written in 3-digit groups, every group but the last prefixed by 'x'
 * (1234067 -> x001/x234/067). Parsing is strict: one spelling per tile. */
#include <string.h>

#include "pixiu/log.h"

#define MAX_GROUPS 7 /* 3-digit groups of a 64-bit index */

static int bad(px_err *err, const char *why) {
    return px_fail(err, PX_E_INVALID, "tile path: %s", why);
}

static int digits(const char *s, size_t n, uint64_t *out) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int px_log_tile_path_parse(const char *path, int *level, uint64_t *index, unsigned *width, px_err *err) {
    const char *p = path;
    if (!strncmp(p, "entries/", 8)) {
        *level = -1;
        p += 8;
    } else {
        const char *slash = strchr(p, '/');
        uint64_t l;
        if (!slash || slash == p || slash - p > 2 || (slash - p == 2 && p[0] == '0') ||
            digits(p, (size_t)(slash - p), &l) || l > 63)
            return bad(err, "level must be 0..63 without leading zeros");
        *level = (int)l;
        p = slash + 1;
    }
    uint64_t idx = 0;
    int ngroups = 0;
    uint64_t first_group = 0;
    for (int g = 0;; g++) {
        if (g == MAX_GROUPS)
            return bad(err, "index has too many groups");
        int last = p[0] != 'x';
        if (!last)
            p++;
        uint64_t v;
        if (strlen(p) < 3 || digits(p, 3, &v))
            return bad(err, "index groups must be three digits");
        if (idx > (UINT64_MAX - v) / 1000)
            return bad(err, "index does not fit in 64 bits");
        idx = idx * 1000 + v;
        if (ngroups++ == 0)
            first_group = v;
        p += 3;
        if (last)
            break;
        if (*p != '/')
            return bad(err, "x-prefixed group must be followed by '/'");
        p++;
    }
    /* One spelling per tile: no leading all-zero group. */
    if (ngroups > 1 && first_group == 0)
        return bad(err, "index has a leading zero group");
    *width = PX_LOG_TILE_WIDTH;
    if (*p == '\0') {
        *index = idx;
        return 0;
    }
    uint64_t w;
    size_t n = strlen(p);
    if (n < 4 || strncmp(p, ".p/", 3) || n - 3 > 3 || (p[3] == '0') || digits(p + 3, n - 3, &w) || w < 1 ||
        w > 255)
        return bad(err, "partial width must be .p/<1..255>");
    *width = (unsigned)w;
    *index = idx;
    return 0;
}

int px_log_tile_path_format(int level, uint64_t index, unsigned width, px_buf *out, px_err *err) {
    size_t start = out->len;
    int rc = level < 0 ? px_buf_append_str(out, "entries/", err) : px_buf_printf(out, err, "%d/", level);
    unsigned groups[MAX_GROUPS];
    int ng = 0;
    do {
        groups[ng++] = (unsigned)(index % 1000);
        index /= 1000;
    } while (index);
    for (int g = ng - 1; g >= 0 && !rc; g--)
        rc = px_buf_printf(out, err, g ? "x%03u/" : "%03u", groups[g]);
    if (!rc && width < PX_LOG_TILE_WIDTH)
        rc = px_buf_printf(out, err, ".p/%u", width);
    if (rc)
        out->len = start;
    return rc;
}

int px_log_bundle_split(const uint8_t *data, size_t len, const uint8_t **entries, size_t *lens,
                        size_t max, size_t *n, px_err *err) {
    size_t k = 0, off = 0;
    while (off < len) {
        if (len - off < 2)
            return px_fail(err, PX_E_INVALID, "bundle: truncated length at byte %zu", off);
        size_t elen = (size_t)data[off] << 8 | data[off + 1];
        if (len - off - 2 < elen)
            return px_fail(err, PX_E_INVALID, "bundle: entry %zu runs past the end", k);
        if (k == max)
            return px_fail(err, PX_E_LIMIT, "bundle: more than %zu entries", max);
        entries[k] = data + off + 2;
        lens[k++] = elen;
        off += 2 + elen;
    }
    *n = k;
    return 0;
}
