/* Linear memory and tables that are reused from run to run.
 *
 * The generated glue routes wabt's allocation calls here (-Wl,--wrap, see
 * sandbox_compile.c). The first instantiation, before the seccomp filter,
 * allocates for real: wabt reserves 8 GiB for the memory (mmap) and the
 * table comes from calloc. Every later instantiation reuses both, after
 * making them fresh:
 *   - the pages a run made accessible beyond the initial size are zeroed
 *     and made inaccessible again (mprotect PROT_NONE), so the next run
 *     starts with exactly the initial size, an access beyond it traps, and
 *     a grow hands it zeros;
 *   - the initial pages are zeroed.
 * Zeroing is memset, or for large ranges discarding the pages (madvise
 * MADV_DONTNEED: they read as zero when touched again). A run that does
 * not grow its memory is reset without any system call.
 *   - table elements are cleared.
 * The instantiation then copies data and element segments as usual. No
 * mmap, munmap or brk happens after the filter is on.
 *
 * A run can be cut short at any point (trap, CPU timer), including in the
 * middle of a reset or a grow. So `dirty` (bytes from the start of the
 * reservation that may be accessible and written) only ever
 * over-approximates: it grows before a grow makes pages accessible and
 * shrinks only after a reset has finished.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runner.h"

/* Below this, zeroing by memset is cheaper than discarding the pages:
 * madvise(MADV_DONTNEED) flushes the TLB, measured at about 300 us per
 * call on a virtual machine, while memset clears about 50 KiB per us. */
#define MEMSET_MAX (16u << 20)

static struct {
    uint8_t *base;       /* the reservation, NULL before the first */
    uint64_t dirty;      /* see above */
    wasm_rt_memory_t *m; /* the instance's memory */
    int grow_refused;    /* a memory.grow failed in this run */
} g_mem;

typedef struct table_slot {
    void *buf;
    uint32_t cap; /* elements */
} table_slot;
static table_slot g_funcref, g_externref;

void runner_memory_reset_flags(void) { g_mem.grow_refused = 0; }
int runner_grow_refused(void) { return g_mem.grow_refused; }
uint32_t runner_memory_pages(void) { return g_mem.m ? g_mem.m->pages : 0; }

static void zero(uint8_t *p, uint64_t n) {
    if (n <= MEMSET_MAX)
        memset(p, 0, n);
    else if (madvise(p, n, MADV_DONTNEED))
        memset(p, 0, n); /* cannot happen on private anonymous memory */
}

void px_rt_allocate_memory(wasm_rt_memory_t *m, uint32_t initial,
                           uint32_t max) {
    uint64_t init = (uint64_t)initial * PAGE_BYTES;
    if (!g_mem.base) {
        wasm_rt_allocate_memory(m, initial, max);
        g_mem.base = m->data;
        g_mem.dirty = init;
    } else {
        if (g_mem.dirty > init) {
            uint64_t extra = g_mem.dirty - init;
            zero(g_mem.base + init, extra);
            if (mprotect(g_mem.base + init, extra, PROT_NONE))
                runner_fail("resetting the memory failed"); /* never run on */
        }
        uint64_t keep = g_mem.dirty < init ? g_mem.dirty : init;
        zero(g_mem.base, keep);
        if (init > g_mem.dirty &&
            mprotect(g_mem.base + g_mem.dirty, init - g_mem.dirty,
                     PROT_READ | PROT_WRITE))
            runner_fail("resetting the memory failed");
        g_mem.dirty = init;
        m->data = g_mem.base;
        m->pages = initial;
        m->max_pages = max;
        m->size = (uint32_t)init;
    }
    g_mem.m = m;
}

uint32_t px_rt_grow_memory(wasm_rt_memory_t *m, uint32_t delta) {
    uint64_t want = ((uint64_t)m->pages + delta) * PAGE_BYTES;
    if (m == g_mem.m && want > g_mem.dirty &&
        m->pages + (uint64_t)delta <= m->max_pages)
        g_mem.dirty = want; /* before the pages become accessible */
    uint32_t r = wasm_rt_grow_memory(m, delta);
    if (r == UINT32_MAX)
        g_mem.grow_refused = 1;
    return r;
}

static void *table_alloc(table_slot *s, uint32_t n, size_t elem) {
    if (!s->buf) {
        s->buf = calloc(n ? n : 1, elem);
        if (!s->buf)
            runner_fail("allocating the table failed");
        s->cap = n;
    } else if (n > s->cap) {
        /* Same module, same table: cannot happen. Fail safe. */
        wasm_rt_trap(WASM_RT_TRAP_OOB);
    }
    memset(s->buf, 0, (size_t)s->cap * elem);
    return s->buf;
}

/* table.grow within the elements allocated before the filter; beyond
 * them it fails (returns -1, as the spec allows), since allocating more
 * could need a system call. */
#define TABLE_GROW(t, slot, delta, init)                                      \
    do {                                                                      \
        uint32_t old = (t)->size;                                             \
        uint64_t n = (uint64_t)old + (delta);                                 \
        if (n == 0)                                                           \
            return 0;                                                         \
        if (n > (t)->max_size || n > (slot).cap)                              \
            return UINT32_MAX;                                                \
        for (uint64_t i = old; i < n; i++)                                    \
            (t)->data[i] = (init);                                            \
        (t)->size = (uint32_t)n;                                              \
        return old;                                                           \
    } while (0)

void px_rt_allocate_funcref_table(wasm_rt_funcref_table_t *t, uint32_t n,
                                  uint32_t max) {
    t->data = table_alloc(&g_funcref, n, sizeof(wasm_rt_funcref_t));
    t->size = n;
    t->max_size = max;
}

uint32_t px_rt_grow_funcref_table(wasm_rt_funcref_table_t *t, uint32_t delta,
                                  wasm_rt_funcref_t init) {
    TABLE_GROW(t, g_funcref, delta, init);
}

void px_rt_allocate_externref_table(wasm_rt_externref_table_t *t, uint32_t n,
                                    uint32_t max) {
    t->data = table_alloc(&g_externref, n, sizeof(wasm_rt_externref_t));
    t->size = n;
    t->max_size = max;
}

uint32_t px_rt_grow_externref_table(wasm_rt_externref_table_t *t,
                                    uint32_t delta, wasm_rt_externref_t init) {
    TABLE_GROW(t, g_externref, delta, init);
}
