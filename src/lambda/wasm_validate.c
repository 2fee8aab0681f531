/* The module validator: PIXIU's own parser of the WebAssembly binary format
 * (core spec, chapter 5), run before any other tool sees a module.
 *
 * It is deliberately narrower than the spec. wasm2c 1.0.32 writes import
 * and export names raw into C comments and identifiers, so a valid module
 * with a crafted name is a C injection; every name must therefore match
 * [A-Za-z0-9_]+ and be on an allow-list. Imports are the WASI preview1
 * functions PIXIU hosts, each with its exact signature (a mismatch would
 * make the generated C call the host with the wrong prototype). Memory,
 * table and global imports, start functions, tags and unknown sections are
 * refused; declared sizes are bounded. Instruction bodies are left to
 * wasm2c's own validator, but every section's framing is checked to the
 * last byte.
 */
#include <stdlib.h>
#include <string.h>

#include "lambda/wasm_int.h"
#include "pixiu/sandbox.h"

#define WASM_MAGIC "\0asm\1\0\0\0"
#define WASM_HEADER_BYTES 8
#define WASM_MAX_PAGES 65536u
#define WASM_MAX_PARAMS 64
#define WASM_MAX_LOCALS 50000u
#define WASI_MODULE "wasi_snapshot_preview1"

enum { SEC_CUSTOM = 0, SEC_TYPE, SEC_IMPORT, SEC_FUNCTION, SEC_TABLE,
       SEC_MEMORY, SEC_GLOBAL, SEC_EXPORT, SEC_START, SEC_ELEMENT, SEC_CODE,
       SEC_DATA, SEC_DATACOUNT, SEC_TAG, SEC_COUNT };

static const char *const section_names[SEC_COUNT] = {
    "custom", "type", "import", "function", "table", "memory", "global",
    "export", "start", "element", "code", "data", "data count", "tag"};

/* Canonical order of the non-custom sections (data count sits between
 * element and code). */
static int section_rank(unsigned id) {
    static const int rank[SEC_COUNT] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12,
                                        13, 11, 6};
    return rank[id];
}

/* The WASI preview1 functions PIXIU hosts and their signatures:
 * 'i' i32, 'I' i64; parameters, ':' then results. */
static const struct {
    const char *name;
    const char *sig;
} wasi_allowed[] = {
    {"args_get", "ii:i"},           {"args_sizes_get", "ii:i"},
    {"environ_get", "ii:i"},        {"environ_sizes_get", "ii:i"},
    {"clock_res_get", "ii:i"},      {"clock_time_get", "iIi:i"},
    {"fd_close", "i:i"},            {"fd_fdstat_get", "ii:i"},
    {"fd_filestat_get", "ii:i"},
    {"fd_fdstat_set_flags", "ii:i"},{"fd_prestat_get", "ii:i"},
    {"fd_prestat_dir_name", "iii:i"},{"fd_read", "iiii:i"},
    {"fd_seek", "iIii:i"},          {"fd_write", "iiii:i"},
    {"poll_oneoff", "iiii:i"},      {"proc_exit", "i:"},
    {"random_get", "ii:i"},         {"sched_yield", ":i"},
};
#define WASI_ALLOWED_COUNT (sizeof wasi_allowed / sizeof wasi_allowed[0])

const char *px_wasm_allowed_import(unsigned i) {
    return i < WASI_ALLOWED_COUNT ? wasi_allowed[i].name : NULL;
}

/* A bounded cursor over one section; every read checks the bound. */
typedef struct cur {
    const uint8_t *base; /* start of the module, for offsets in errors */
    size_t off, end;
    const char *sec;
    px_err *err;
} cur;

static int bad(cur *c, const char *what) {
    return px_fail(c->err, PX_E_INVALID,
                   "invalid wasm module: %s section at offset %zu: %s",
                   c->sec, c->off, what);
}

static int rd_u8(cur *c, uint8_t *v) {
    *v = 0; /* defined even on failure */
    if (c->off >= c->end)
        return bad(c, "truncated");
    *v = c->base[c->off++];
    return 0;
}

/* Unsigned LEB128 of at most `bits` bits, minimal padding rules of the
 * spec: at most ceil(bits/7) bytes and unused high bits zero. */
static int rd_uleb(cur *c, unsigned bits, uint64_t *v) {
    uint64_t r = 0;
    unsigned shift = 0;
    *v = 0;
    for (;;) {
        uint8_t b;
        if (rd_u8(c, &b))
            return -1;
        if (shift + 7 >= bits && shift < 64) {
            unsigned used = bits - shift; /* payload bits left for this byte */
            if ((b & 0x80) || (used < 7 && (b & 0x7f) >> used))
                return bad(c, "integer too long");
        }
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *v = r;
    return 0;
}

static int rd_u32(cur *c, uint32_t *v) {
    uint64_t x;
    if (rd_uleb(c, 32, &x))
        return -1;
    *v = (uint32_t)x;
    return 0;
}

/* Signed LEB128 of `bits` bits: only the length matters here (wasm2c
 * decodes the value), but the byte budget is enforced. */
static int skip_sleb(cur *c, unsigned bits) {
    unsigned max = (bits + 6) / 7;
    for (unsigned i = 0; i < max; i++) {
        uint8_t b;
        if (rd_u8(c, &b))
            return -1;
        if (!(b & 0x80))
            return 0;
    }
    return bad(c, "integer too long");
}

static int skip(cur *c, size_t n) {
    if (n > c->end - c->off)
        return bad(c, "truncated");
    c->off += n;
    return 0;
}

/* A vector length, bounded by a limit and by the bytes left (every
 * element takes at least one byte). */
static int rd_count(cur *c, uint32_t max, uint32_t *n) {
    if (rd_u32(c, n))
        return -1;
    if (*n > max || *n > c->end - c->off)
        return bad(c, "too many entries");
    return 0;
}

static int name_char_ok(uint8_t ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '_';
}

/* An import or export name: [A-Za-z0-9_]+, at most PX_WASM_NAME_MAX. */
static int rd_name(cur *c, const uint8_t **p, uint32_t *len) {
    size_t at = c->off;
    if (rd_u32(c, len))
        return -1;
    if (*len > c->end - c->off)
        return bad(c, "name runs past the section");
    *p = c->base + c->off;
    c->off += *len;
    if (*len == 0 || *len > PX_WASM_NAME_MAX)
        return c->off = at, bad(c, "name is empty or too long");
    for (uint32_t i = 0; i < *len; i++)
        if (!name_char_ok((*p)[i]))
            return c->off = at,
                   bad(c, "name has a character outside [A-Za-z0-9_] "
                          "(names are written into generated C)");
    return 0;
}

static int name_is(const uint8_t *p, uint32_t len, const char *s) {
    return strlen(s) == len && memcmp(p, s, len) == 0;
}

/* v128 (0x7b) is left out: wasm2c 1.0.32 translates SIMD through a
 * header (simde) that Debian does not ship, so such a module could never
 * compile; refusing it here names the reason. */
static int is_valtype(uint8_t t) {
    return t == 0x7f || t == 0x7e || t == 0x7d || t == 0x7c || t == 0x70 ||
           t == 0x6f;
}

static int is_reftype(uint8_t t) { return t == 0x70 || t == 0x6f; }

/* ---- the module being validated ----------------------------------------- */

typedef struct mod {
    /* Signature of each type as "ii:i" text, for matching imports. */
    char (*sigs)[2 * WASM_MAX_PARAMS + 2];
    uint32_t ntypes;
    uint32_t nfunc_imports, nfuncs, ntables, nmems, nglobals, nexports;
    uint32_t *func_types; /* type index of each defined function */
    uint32_t ncode;
    int has_datacount;
    int start_export_func; /* function index exported as _start, or -1 */
    px_wasm_info info;
} mod;

static int sec_type(cur *c, mod *m) {
    uint32_t n;
    if (rd_count(c, PX_WASM_MAX_TYPES, &n))
        return -1;
    m->sigs = calloc(n ? n : 1, sizeof *m->sigs);
    if (!m->sigs)
        return px_fail(c->err, PX_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        uint8_t form;
        if (rd_u8(c, &form))
            return -1;
        if (form != 0x60)
            return bad(c, "type is not a function type");
        size_t k = 0;
        for (int part = 0; part < 2; part++) {
            uint32_t cnt;
            if (rd_count(c, WASM_MAX_PARAMS, &cnt))
                return -1;
            for (uint32_t j = 0; j < cnt; j++) {
                uint8_t t;
                if (rd_u8(c, &t))
                    return -1;
                if (!is_valtype(t))
                    return bad(c, "unknown or unsupported (v128) value type");
                m->sigs[i][k++] = t == 0x7f ? 'i' : t == 0x7e ? 'I' : 'x';
            }
            if (part == 0)
                m->sigs[i][k++] = ':';
        }
        m->sigs[i][k] = '\0';
    }
    m->ntypes = n;
    return 0;
}

static int sec_import(cur *c, mod *m) {
    uint32_t n;
    if (rd_count(c, PX_WASM_MAX_IMPORTS, &n))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *mp, *fp;
        uint32_t ml, fl, ty;
        uint8_t kind;
        if (rd_name(c, &mp, &ml) || rd_name(c, &fp, &fl) || rd_u8(c, &kind))
            return -1;
        if (!name_is(mp, ml, WASI_MODULE))
            return px_fail(c->err, PX_E_INVALID,
                           "invalid wasm module: import from module '%.*s' is "
                           "not allowed (only " WASI_MODULE ")",
                           (int)ml, (const char *)mp);
        if (kind != 0x00)
            return px_fail(c->err, PX_E_INVALID,
                           "invalid wasm module: import '%.*s' is not a "
                           "function (only functions may be imported)",
                           (int)fl, (const char *)fp);
        if (rd_u32(c, &ty))
            return -1;
        if (ty >= m->ntypes)
            return bad(c, "import type index out of range");
        unsigned k;
        for (k = 0; k < WASI_ALLOWED_COUNT; k++)
            if (name_is(fp, fl, wasi_allowed[k].name))
                break;
        if (k == WASI_ALLOWED_COUNT)
            return px_fail(c->err, PX_E_INVALID,
                           "invalid wasm module: unknown import "
                           WASI_MODULE ".%.*s (not on the allow-list)",
                           (int)fl, (const char *)fp);
        if (strcmp(m->sigs[ty], wasi_allowed[k].sig) != 0)
            return px_fail(c->err, PX_E_INVALID,
                           "invalid wasm module: import " WASI_MODULE
                           ".%s has the wrong signature",
                           wasi_allowed[k].name);
        if (m->info.wasi_used & (1u << k))
            return px_fail(c->err, PX_E_INVALID,
                           "invalid wasm module: import " WASI_MODULE
                           ".%s appears twice", wasi_allowed[k].name);
        m->info.wasi_used |= 1u << k;
    }
    m->nfunc_imports = n;
    return 0;
}

static int sec_function(cur *c, mod *m) {
    uint32_t n;
    if (rd_count(c, PX_WASM_MAX_FUNCS, &n))
        return -1;
    m->func_types = calloc(n ? n : 1, sizeof *m->func_types);
    if (!m->func_types)
        return px_fail(c->err, PX_E_NOMEM, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        if (rd_u32(c, &m->func_types[i]))
            return -1;
        if (m->func_types[i] >= m->ntypes)
            return bad(c, "function type index out of range");
    }
    m->nfuncs = n;
    return 0;
}

/* Limits: flags 0 (min) or 1 (min, max); shared and 64-bit refused. */
static int rd_limits(cur *c, uint32_t cap, uint32_t *min, uint32_t *max) {
    uint8_t flags;
    if (rd_u8(c, &flags))
        return -1;
    if (flags > 1)
        return bad(c, "shared or 64-bit limits are not supported");
    if (rd_u32(c, min))
        return -1;
    *max = cap;
    if (flags == 1 && rd_u32(c, max))
        return -1;
    if (*min > *max)
        return bad(c, "minimum above maximum");
    if (*min > cap)
        return bad(c, "declared size too large");
    return 0;
}

static int sec_table(cur *c, mod *m) {
    uint32_t n;
    if (rd_count(c, 1, &n))
        return bad(c, "at most one table");
    for (uint32_t i = 0; i < n; i++) {
        uint8_t t;
        uint32_t min, max;
        if (rd_u8(c, &t))
            return -1;
        if (!is_reftype(t))
            return bad(c, "unknown table element type");
        if (rd_limits(c, PX_WASM_MAX_TABLE_ELEMS, &min, &max))
            return -1;
    }
    m->ntables = n;
    return 0;
}

static int sec_memory(cur *c, mod *m, const px_wasm_policy *pol) {
    uint32_t n;
    if (rd_count(c, 1, &n))
        return bad(c, "at most one memory");
    if (n == 1) {
        uint32_t min, max;
        size_t at = c->off;
        if (rd_limits(c, WASM_MAX_PAGES, &min, &max))
            return -1;
        if (min > pol->max_pages)
            return c->off = at,
                   px_fail(c->err, PX_E_INVALID,
                           "invalid wasm module: declared memory of %u pages "
                           "exceeds the limit of %u pages", min,
                           pol->max_pages);
        m->info.mem_initial = min;
        m->info.mem_max = max;
    }
    m->nmems = n;
    return 0;
}

/* A constant expression: one instruction then `end`. */
static int skip_const_expr(cur *c) {
    uint8_t op;
    uint32_t idx;
    if (rd_u8(c, &op))
        return -1;
    switch (op) {
    case 0x41: if (skip_sleb(c, 32)) return -1; break;  /* i32.const */
    case 0x42: if (skip_sleb(c, 64)) return -1; break;  /* i64.const */
    case 0x43: if (skip(c, 4)) return -1; break;        /* f32.const */
    case 0x44: if (skip(c, 8)) return -1; break;        /* f64.const */
    case 0x23:                                           /* global.get */
    case 0xd2:                                           /* ref.func */
        if (rd_u32(c, &idx)) return -1;
        break;
    case 0xd0: {                                         /* ref.null */
        uint8_t t;
        if (rd_u8(c, &t)) return -1;
        if (!is_reftype(t)) return bad(c, "unknown reference type");
        break;
    }
    default:
        return bad(c, "unsupported constant expression");
    }
    if (rd_u8(c, &op))
        return -1;
    if (op != 0x0b)
        return bad(c, "constant expression is not a single instruction");
    return 0;
}

static int sec_global(cur *c, mod *m) {
    uint32_t n;
    if (rd_count(c, PX_WASM_MAX_GLOBALS, &n))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t t, mut;
        if (rd_u8(c, &t) || rd_u8(c, &mut))
            return -1;
        if (!is_valtype(t) || mut > 1)
            return bad(c, "bad global type");
        if (skip_const_expr(c))
            return -1;
    }
    m->nglobals = n;
    return 0;
}

/* Exports allowed: the entry point, the memory, the function table. */
static int sec_export(cur *c, mod *m) {
    uint32_t n;
    int seen_mem = 0, seen_table = 0;
    if (rd_count(c, PX_WASM_MAX_EXPORTS, &n))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p;
        uint32_t len, idx;
        uint8_t kind;
        if (rd_name(c, &p, &len) || rd_u8(c, &kind) || rd_u32(c, &idx))
            return -1;
        if (kind == 0x00 && name_is(p, len, "_start") &&
            m->start_export_func < 0) {
            m->start_export_func = (int)idx;
        } else if (kind == 0x02 && name_is(p, len, "memory") && !seen_mem) {
            if (idx != 0)
                return bad(c, "exported memory index out of range");
            seen_mem = 1;
        } else if (kind == 0x01 && name_is(p, len, "__indirect_function_table") &&
                   !seen_table) {
            seen_table = 1;
        } else {
            return px_fail(c->err, PX_E_INVALID,
                           "invalid wasm module: export '%.*s' is not allowed "
                           "(only _start, memory, __indirect_function_table, "
                           "once each)", (int)len, (const char *)p);
        }
    }
    if (!seen_mem)
        return px_fail(c->err, PX_E_INVALID,
                       "invalid wasm module: the memory is not exported");
    m->nexports = n;
    return 0;
}

static int skip_func_indices(cur *c) {
    uint32_t n, idx;
    if (rd_count(c, PX_WASM_MAX_TABLE_ELEMS, &n))
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (rd_u32(c, &idx))
            return -1;
    return 0;
}

static int skip_exprs(cur *c) {
    uint32_t n;
    if (rd_count(c, PX_WASM_MAX_TABLE_ELEMS, &n))
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (skip_const_expr(c))
            return -1;
    return 0;
}

/* The eight element segment encodings of spec section 5.5.12. */
static int sec_element(cur *c, mod *m) {
    uint32_t n;
    if (rd_count(c, PX_WASM_MAX_SEGMENTS, &n))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t flags, table;
        uint8_t kind;
        if (rd_u32(c, &flags))
            return -1;
        if (flags > 7)
            return bad(c, "unknown element segment kind");
        if ((flags & 3) == 2 && rd_u32(c, &table))
            return -1;
        if (!(flags & 1) && skip_const_expr(c))
            return -1;
        if (flags & 3) { /* elemkind (0x00) or reftype follows */
            if (rd_u8(c, &kind))
                return -1;
            if ((flags & 4) ? !is_reftype(kind) : kind != 0x00)
                return bad(c, "bad element kind");
        }
        if ((flags & 4) ? skip_exprs(c) : skip_func_indices(c))
            return -1;
    }
    return 0;
}

static int sec_code(cur *c, mod *m) {
    uint32_t n;
    if (rd_count(c, PX_WASM_MAX_FUNCS, &n))
        return -1;
    if (n != m->nfuncs)
        return bad(c, "function and code counts differ");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t size, ngroups;
        if (rd_u32(c, &size))
            return -1;
        if (size == 0 || size > c->end - c->off)
            return bad(c, "function body runs past the section");
        cur body = *c;
        body.end = c->off + size;
        uint64_t nlocals = 0;
        if (rd_count(&body, WASM_MAX_LOCALS, &ngroups))
            return -1;
        for (uint32_t g = 0; g < ngroups; g++) {
            uint32_t cnt;
            uint8_t t;
            if (rd_u32(&body, &cnt) || rd_u8(&body, &t))
                return -1;
            nlocals += cnt;
            if (!is_valtype(t) || nlocals > WASM_MAX_LOCALS)
                return bad(&body, "too many or bad locals");
        }
        if (px_wasm_check_body(body.base + body.off, body.end - body.off,
                               body.off, m->nfunc_imports + i, c->err))
            return -1;
        c->off += size;
    }
    m->ncode = n;
    return 0;
}

static int sec_data(cur *c, mod *m) {
    uint32_t n;
    if (rd_count(c, PX_WASM_MAX_SEGMENTS, &n))
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t flags, memidx, len;
        if (rd_u32(c, &flags))
            return -1;
        if (flags > 2)
            return bad(c, "unknown data segment kind");
        if (flags == 2 && rd_u32(c, &memidx))
            return -1;
        if (flags != 1 && skip_const_expr(c))
            return -1;
        if (rd_u32(c, &len) || skip(c, len))
            return -1;
    }
    return 0;
}

static int sec_custom(cur *c) {
    uint32_t len;
    if (rd_u32(c, &len))
        return -1;
    if (len > c->end - c->off)
        return bad(c, "name runs past the section");
    if (!px_utf8_valid(c->base + c->off, len))
        return bad(c, "name is not UTF-8");
    c->off = c->end; /* contents are opaque and will be stripped */
    return 0;
}

static int dispatch(cur *c, unsigned id, mod *m, const px_wasm_policy *pol) {
    uint32_t x;
    switch (id) {
    case SEC_CUSTOM:   return sec_custom(c);
    case SEC_TYPE:     return sec_type(c, m);
    case SEC_IMPORT:   return sec_import(c, m);
    case SEC_FUNCTION: return sec_function(c, m);
    case SEC_TABLE:    return sec_table(c, m);
    case SEC_MEMORY:   return sec_memory(c, m, pol);
    case SEC_GLOBAL:   return sec_global(c, m);
    case SEC_EXPORT:   return sec_export(c, m);
    case SEC_ELEMENT:  return sec_element(c, m);
    case SEC_CODE:     return sec_code(c, m);
    case SEC_DATA:     return sec_data(c, m);
    case SEC_DATACOUNT:
        m->has_datacount = 1;
        return rd_u32(c, &x);
    case SEC_START:
        return bad(c, "a start function is not allowed (the entry point is "
                      "the exported _start)");
    default:
        return bad(c, "tags (exceptions) are not supported");
    }
}

/* Whole-module rules that no single section can check. */
static int check_module(mod *m, px_err *err) {
    if (m->nmems != 1)
        return px_fail(err, PX_E_INVALID,
                       "invalid wasm module: it must define exactly one memory");
    if (m->nfuncs != m->ncode)
        return px_fail(err, PX_E_INVALID,
                       "invalid wasm module: function and code counts differ");
    if (m->start_export_func < 0)
        return px_fail(err, PX_E_INVALID,
                       "invalid wasm module: no exported _start function");
    uint32_t f = (uint32_t)m->start_export_func;
    if (f < m->nfunc_imports || f - m->nfunc_imports >= m->nfuncs)
        return px_fail(err, PX_E_INVALID,
                       "invalid wasm module: _start is not a defined function");
    if (strcmp(m->sigs[m->func_types[f - m->nfunc_imports]], ":") != 0)
        return px_fail(err, PX_E_INVALID,
                       "invalid wasm module: _start must take and return "
                       "nothing");
    return 0;
}

static int validate(const uint8_t *b, size_t n, const px_wasm_policy *pol,
                    mod *m, px_buf *stripped, px_err *err) {
    if (n > pol->max_bytes)
        return px_fail(err, PX_E_INVALID,
                       "invalid wasm module: %zu bytes exceeds the limit of "
                       "%zu", n, pol->max_bytes);
    if (n < WASM_HEADER_BYTES || memcmp(b, WASM_MAGIC, WASM_HEADER_BYTES))
        return px_fail(err, PX_E_INVALID,
                       "invalid wasm module: not a WebAssembly 1.0 binary "
                       "(bad magic or version)");
    if (stripped && px_buf_append(stripped, b, WASM_HEADER_BYTES, err))
        return -1;
    cur c = {b, WASM_HEADER_BYTES, n, "module", err};
    int last_rank = 0;
    while (c.off < n) {
        size_t start = c.off;
        uint8_t id;
        uint32_t size;
        c.sec = "module";
        if (rd_u8(&c, &id))
            return -1;
        if (id >= SEC_COUNT)
            return bad(&c, "unknown section id");
        c.sec = section_names[id];
        if (rd_u32(&c, &size))
            return -1;
        if (size > n - c.off)
            return bad(&c, "section runs past the end of the module");
        if (id != SEC_CUSTOM) {
            if (section_rank(id) <= last_rank)
                return bad(&c, "section out of order or repeated");
            last_rank = section_rank(id);
        }
        cur s = c;
        s.end = c.off + size;
        if (dispatch(&s, id, m, pol))
            return -1;
        if (s.off != s.end)
            return bad(&s, "unexpected bytes at the end of the section");
        c.off = s.end;
        if (id != SEC_CUSTOM && stripped &&
            px_buf_append(stripped, b + start, c.off - start, err))
            return -1;
    }
    return check_module(m, err);
}

int px_wasm_validate(const uint8_t *b, size_t n, const px_wasm_policy *pol,
                     px_wasm_info *info, px_buf *stripped, px_err *err) {
    mod m = {0};
    m.start_export_func = -1;
    size_t keep = stripped ? stripped->len : 0;
    int rc = validate(b, n, pol, &m, stripped, err);
    if (rc == 0 && info) {
        m.info.ntypes = m.ntypes;
        m.info.nimports = m.nfunc_imports;
        m.info.nfuncs = m.nfuncs;
        m.info.nexports = m.nexports;
        *info = m.info;
    }
    if (rc && stripped)
        stripped->len = keep; /* nothing partial */
    free(m.sigs);
    free(m.func_types);
    return rc;
}
