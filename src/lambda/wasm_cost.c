/* A static bound on what a module costs to compile, checked before wasm2c
 * and gcc see it.
 *
 * Both tools are run with limits (docs/sandbox.md), but some inputs make
 * them fail badly rather than refuse: wasm2c 1.0.32 recurses once per
 * nested block and crashes (SIGSEGV) at about 20,000 levels, and gcc's time
 * grows faster than linearly with the size of one function. So each
 * function body is walked once, instruction by instruction, and refused by
 * name when it nests blocks too deeply, is too large, or has a br_table
 * with too many targets; the walk also refuses instruction families the
 * sandbox does not support (SIMD, threads, exceptions, tail calls).
 * Instructions are otherwise left to wasm2c's own validator: only their
 * immediates are skipped here.
 */
#include <stdio.h>
#include <string.h>

#include "lambda/wasm_int.h"

typedef struct walk {
    const uint8_t *p;
    size_t off, end;
    size_t base;     /* offset of the body in the module, for errors */
    uint32_t func;   /* index in the function index space */
    px_err *err;
} walk;

static int refuse(walk *w, px_code code, const char *fmt, const char *what,
                  uint64_t a, uint64_t b) {
    char detail[160];
    snprintf(detail, sizeof detail, fmt, what, (unsigned long long)a,
             (unsigned long long)b);
    return px_fail(w->err, code,
                   "invalid wasm module: code section at offset %zu: "
                   "function %u: %s", w->base + w->off, w->func, detail);
}

static int truncated(walk *w) {
    return refuse(w, PX_E_INVALID, "%s", "truncated instruction", 0, 0);
}

static int byte(walk *w, uint8_t *b) {
    if (w->off >= w->end)
        return truncated(w);
    *b = w->p[w->off++];
    return 0;
}

/* An unsigned or signed LEB128 of at most max_bytes bytes; the value (if
 * it fits 64 bits) into v. */
static int leb(walk *w, unsigned max_bytes, uint64_t *v) {
    uint64_t r = 0;
    for (unsigned i = 0; i < max_bytes; i++) {
        uint8_t b = 0;
        if (byte(w, &b))
            return -1;
        if (i < 10)
            r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (v)
                *v = r;
            return 0;
        }
    }
    return refuse(w, PX_E_INVALID, "%s", "integer too long", 0, 0);
}

static int u32(walk *w, uint64_t *v) { return leb(w, 5, v); }
static int skip_u32(walk *w, unsigned n) {
    for (unsigned i = 0; i < n; i++)
        if (leb(w, 5, NULL))
            return -1;
    return 0;
}
static int skip_bytes(walk *w, size_t n) {
    if (n > w->end - w->off)
        return truncated(w);
    w->off += n;
    return 0;
}

/* Block type: 0x40 (empty), a value type byte, or an s33 type index. */
static int blocktype(walk *w) {
    if (w->off >= w->end)
        return truncated(w);
    uint8_t b = w->p[w->off];
    if (b == 0x40 || b == 0x7f || b == 0x7e || b == 0x7d || b == 0x7c ||
        b == 0x70 || b == 0x6f) {
        w->off++;
        return 0;
    }
    return leb(w, 5, NULL);
}

/* The 0xfc prefix: saturating truncations, bulk memory, table ops. */
static int prefixed(walk *w) {
    uint64_t sub;
    if (u32(w, &sub))
        return -1;
    if (sub <= 7)
        return 0;
    switch (sub) {
    case 8: return skip_u32(w, 1) || skip_bytes(w, 1); /* memory.init */
    case 9: return skip_u32(w, 1);                      /* data.drop */
    case 10: return skip_bytes(w, 2);                   /* memory.copy */
    case 11: return skip_bytes(w, 1);                   /* memory.fill */
    case 12: return skip_u32(w, 2);                     /* table.init */
    case 13: return skip_u32(w, 1);                     /* elem.drop */
    case 14: return skip_u32(w, 2);                     /* table.copy */
    case 15: case 16: case 17: return skip_u32(w, 1);   /* table.grow/size/fill */
    default:
        return refuse(w, PX_E_INVALID, "%s 0xfc %llu", "unknown instruction",
                      sub, 0);
    }
}

static int unsupported(walk *w, const char *what) {
    return refuse(w, PX_E_INVALID, "%s are not supported in the sandbox",
                  what, 0, 0);
}

int px_wasm_check_body(const uint8_t *code, size_t n, size_t base,
                       uint32_t func, px_err *err) {
    walk w = {code, 0, n, base, func, err};
    if (n > PX_WASM_MAX_BODY_BYTES)
        return refuse(&w, PX_E_LIMIT, "%s: %llu bytes of code, at most %llu",
                      "compile cost bound", n, PX_WASM_MAX_BODY_BYTES);
    uint64_t depth = 1; /* the function's own block */
    while (depth > 0) {
        uint8_t op = 0;
        if (byte(&w, &op))
            return -1;
        int rc = 0;
        switch (op) {
        case 0x02: case 0x03: case 0x04: /* block, loop, if */
            if (++depth > PX_WASM_MAX_NESTING)
                return refuse(&w, PX_E_LIMIT, "%s: blocks nested deeper "
                              "than %llu", "compile cost bound",
                              PX_WASM_MAX_NESTING, 0);
            rc = blocktype(&w);
            break;
        case 0x0b: /* end */
            depth--;
            break;
        case 0x0c: case 0x0d: /* br, br_if */
            rc = skip_u32(&w, 1);
            break;
        case 0x0e: { /* br_table */
            uint64_t targets;
            if (u32(&w, &targets))
                return -1;
            if (targets > PX_WASM_MAX_BR_TABLE)
                return refuse(&w, PX_E_LIMIT, "%s: br_table with %llu "
                              "targets, at most %llu", "compile cost bound",
                              targets, PX_WASM_MAX_BR_TABLE);
            rc = skip_u32(&w, (unsigned)targets + 1);
            break;
        }
        case 0x10: /* call */
            rc = skip_u32(&w, 1);
            break;
        case 0x11: /* call_indirect */
            rc = skip_u32(&w, 2);
            break;
        case 0x1c: { /* select t* */
            uint64_t k;
            rc = u32(&w, &k) || skip_bytes(&w, k);
            break;
        }
        case 0x20: case 0x21: case 0x22: case 0x23: case 0x24:
        case 0x25: case 0x26: /* locals, globals, table.get/set */
        case 0xd2:            /* ref.func */
            rc = skip_u32(&w, 1);
            break;
        case 0x3f: case 0x40: case 0xd0: /* memory.size/grow, ref.null */
            rc = skip_bytes(&w, 1);
            break;
        case 0x41: rc = leb(&w, 5, NULL); break;   /* i32.const */
        case 0x42: rc = leb(&w, 10, NULL); break;  /* i64.const */
        case 0x43: rc = skip_bytes(&w, 4); break;  /* f32.const */
        case 0x44: rc = skip_bytes(&w, 8); break;  /* f64.const */
        case 0xfc: rc = prefixed(&w); break;
        case 0xfd: return unsupported(&w, "SIMD instructions");
        case 0xfe: return unsupported(&w, "atomic instructions");
        case 0x06: case 0x07: case 0x08: case 0x09: case 0x18: case 0x19:
            return unsupported(&w, "exception instructions");
        case 0x12: case 0x13:
            return unsupported(&w, "tail calls");
        default:
            if (op >= 0x28 && op <= 0x3e) { /* loads and stores: memarg */
                rc = skip_u32(&w, 2);
            } else if (op <= 0x01 || op == 0x05 || op == 0x0f ||
                       op == 0x1a || op == 0x1b || op == 0xd1 ||
                       (op >= 0x45 && op <= 0xc4)) {
                rc = 0; /* no immediates */
            } else {
                return refuse(&w, PX_E_INVALID, "%s 0x%02llx",
                              "unknown instruction", op, 0);
            }
        }
        if (rc)
            return -1;
    }
    if (w.off != w.end)
        return refuse(&w, PX_E_INVALID, "%s", "code after the function's end",
                      0, 0);
    return 0;
}
