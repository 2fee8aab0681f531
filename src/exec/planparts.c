/* The plan in the log. A plan grows with the task (the first stage's
 * configs list their PODs' keys, every instance carries its evidence), and
 * a log entry cannot: tlog-tiles entry bundles give each entry a u16
 * length. So a plan larger than one entry is published as a chain of
 * plan-part statements: part i carries bytes [i] of the plan envelope and
 * `next`, the link of part i+1, where
 *
 *     link(i) = SHA-256(bytes(i) || link(i+1)),   link(parts) = 32 zero bytes
 *
 * and every part names the head, link(0). A part can only take its place
 * in the chain if it hashes to the link the part before it named, so
 * parts appended by anyone else cannot block or alter the assembly; what
 * comes out is then an ordinary plan whose consumer signature is checked as
 * ever (docs/executor.md, "The plan in the log"). */
#include <stdlib.h>
#include <string.h>

#include "exec/util.h"

static int part_statement(px_buf *out, const px_manifest *m, const uint8_t head[PX_SHA256_BYTES], size_t i,
                          size_t n, const uint8_t next[PX_SHA256_BYTES], const uint8_t *p, size_t len,
                          const px_signer *consumer, px_err *err) {
    json_t *pred = json_object();
    px_buf st = PX_BUF_INIT;
    px_subject subj = {.name = (char *)"manifest"};
    memcpy(subj.sha256, m->id, sizeof subj.sha256);
    int rc = pred ? 0 : px_fail(err, PX_E_NOMEM, "out of memory publishing a plan");
    if (rc == 0)
        rc = px_x_set_hex(pred, "manifest", m->id, PX_SHA256_BYTES, err) ||
             px_x_set_hex(pred, "plan", head, PX_SHA256_BYTES, err) ||
             px_x_set(pred, "part", json_integer((json_int_t)i), err) ||
             px_x_set(pred, "parts", json_integer((json_int_t)n), err) ||
             px_x_set_hex(pred, "next", next, PX_SHA256_BYTES, err) || px_x_set_b64(pred, "bytes", p, len, err) ||
             px_statement_build(&st, &subj, 1, PX_PLAN_PART_PREDICATE, pred, err) ||
             px_dsse_sign(out, PX_INTOTO_PAYLOAD_TYPE, st.data, st.len, consumer, 1, err);
    json_decref(pred);
    px_buf_free(&st);
    return rc ? -1 : 0;
}

static void link_of(uint8_t out[PX_SHA256_BYTES], const uint8_t *p, size_t len, const uint8_t next[PX_SHA256_BYTES]) {
    const void *parts[2] = {p, next};
    size_t lens[2] = {len, PX_SHA256_BYTES};
    px_sha256_parts(out, 2, parts, lens);
}

/* Plan bytes per part for a log whose entries hold at most max_entry bytes:
 * the bytes are base64 twice (x16/9), and the rest of a part's statement
 * and envelope take under 1 KiB. */
static size_t part_size(size_t max_entry) {
    size_t fit = max_entry / 16 * 9;
    fit = fit > 1024 ? fit - 1024 : 0;
    return fit < PX_PLAN_PART_BYTES ? fit : PX_PLAN_PART_BYTES;
}

int px_plan_publish(px_buf **out, size_t *n, const void *plan, size_t len, size_t max_entry, const px_manifest *m,
                    const px_signer *consumer, px_err *err) {
    if (max_entry == 0 || max_entry > PX_LOG_ENTRY_MAX)
        max_entry = PX_LOG_ENTRY_MAX_DEFAULT;
    if (len == 0 || len > PX_PLAN_MAX_BYTES)
        return px_fail(err, PX_E_LIMIT, "a plan of %zu bytes cannot be published (at most %u)", len,
                       PX_PLAN_MAX_BYTES);
    int whole = len <= max_entry;
    size_t step = part_size(max_entry);
    if (!whole && step < PX_PLAN_PART_MIN_BYTES)
        return px_fail(err, PX_E_LIMIT, "log entries of %zu bytes are too small for plan parts", max_entry);
    size_t parts = whole ? 1 : (len + step - 1) / step;
    px_buf *e = calloc(parts, sizeof *e);
    uint8_t(*link)[PX_SHA256_BYTES] = whole ? NULL : calloc(parts + 1, sizeof *link);
    if (!e || (!whole && !link)) {
        free(e);
        free(link);
        return px_fail(err, PX_E_NOMEM, "out of memory publishing a plan");
    }
    const uint8_t *p = plan;
    int rc = whole ? px_buf_append(&e[0], p, len, err) : 0;
    for (size_t i = parts; !whole && i-- > 0;) {
        size_t off = i * step, l = len - off < step ? len - off : step;
        link_of(link[i], p + off, l, link[i + 1]);
    }
    for (size_t i = 0; !whole && rc == 0 && i < parts; i++) {
        size_t off = i * step, l = len - off < step ? len - off : step;
        rc = part_statement(&e[i], m, link[0], i, parts, link[i + 1], p + off, l, consumer, err);
    }
    free(link);
    if (rc) {
        for (size_t i = 0; i < parts; i++)
            px_buf_free(&e[i]);
        free(e);
        return -1;
    }
    *out = e;
    *n = parts;
    return 0;
}

/* ---- assembly -------------------------------------------------------------- */

static int part_cmp(const void *a, const void *b) {
    const px_entry *x = *(const px_entry *const *)a, *y = *(const px_entry *const *)b;
    int c = memcmp(x->part_of, y->part_of, PX_SHA256_BYTES);
    if (c)
        return c;
    if (x->part != y->part)
        return x->part < y->part ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The first (lowest index) part of chain `head` at position k whose bytes
 * hash to `want`; parts is sorted by (head, part, index). */
static const px_entry *find_link(const px_entry *const *parts, size_t n, const uint8_t *head, uint32_t k,
                                 uint32_t count, const uint8_t *want) {
    size_t lo = 0, hi = n;
    while (lo < hi) { /* first entry >= (head, k) */
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(parts[mid]->part_of, head, PX_SHA256_BYTES);
        if (c < 0 || (c == 0 && parts[mid]->part < k))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < n && parts[i]->part == k && !memcmp(parts[i]->part_of, head, PX_SHA256_BYTES); i++) {
        uint8_t l[PX_SHA256_BYTES];
        if (parts[i]->parts != count)
            continue;
        link_of(l, parts[i]->part_bytes.data, parts[i]->part_bytes.len, parts[i]->part_next);
        if (px_ct_equal(l, want, PX_SHA256_BYTES))
            return parts[i];
    }
    return NULL;
}

/* Put the chain whose head is `first`'s back together: the plan bytes and
 * the index of the entry that completed it. 0 = assembled, 1 = incomplete. */
static int assemble_one(const px_entry *const *parts, size_t n, const px_entry *first, px_buf *plan,
                        uint64_t *index, px_err *err) {
    uint8_t want[PX_SHA256_BYTES];
    memcpy(want, first->part_of, sizeof want);
    *index = 0;
    for (uint32_t k = 0; k < first->parts; k++) {
        const px_entry *e = find_link(parts, n, first->part_of, k, first->parts, want);
        if (!e)
            return 1;
        if (px_buf_append(plan, e->part_bytes.data, e->part_bytes.len, err))
            return -1;
        *index = e->index > *index ? e->index : *index;
        memcpy(want, e->part_next, sizeof want);
    }
    static const uint8_t zero[PX_SHA256_BYTES];
    return px_ct_equal(want, zero, sizeof want) ? 0 : 1;
}

int px_plan_assemble(const px_entry *entries, size_t n, const uint8_t manifest[PX_SHA256_BYTES],
                     px_assembled_plan **out, size_t *nout, px_err *err) {
    const px_entry **parts = calloc(n + 1, sizeof *parts);
    px_assembled_plan *a = calloc(n + 1, sizeof *a);
    size_t np = 0, na = 0;
    int rc = parts && a ? 0 : px_fail(err, PX_E_NOMEM, "out of memory assembling plans");
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (entries[i].kind == PX_ENTRY_PLAN_PART && px_ct_equal(entries[i].manifest, manifest, PX_SHA256_BYTES))
            parts[np++] = &entries[i];
    if (rc == 0 && np)
        qsort(parts, np, sizeof *parts, part_cmp);
    /* One attempt per chain head, from its lowest-index part 0. */
    for (size_t i = 0; rc == 0 && i < np; i++) {
        if (parts[i]->part != 0 || (i && !memcmp(parts[i - 1]->part_of, parts[i]->part_of, PX_SHA256_BYTES)))
            continue;
        px_buf plan = PX_BUF_INIT;
        uint64_t at;
        int r = assemble_one(parts, np, parts[i], &plan, &at, err);
        if (r == 0) {
            a[na].index = at;
            a[na++].plan = plan;
        } else {
            px_buf_free(&plan);
            rc = r < 0 ? -1 : 0;
        }
    }
    free(parts);
    if (rc) {
        px_plan_assembled_free(a, na);
        return -1;
    }
    *out = a;
    *nout = na;
    return 0;
}

void px_plan_assembled_free(px_assembled_plan *a, size_t n) {
    for (size_t i = 0; a && i < n; i++)
        px_buf_free(&a[i].plan);
    free(a);
}
