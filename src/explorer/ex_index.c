/* What the explorer learns by reading the log once, front to back, in
 * entry bundles: the tasks (manifests with a plan in the log) in order of
 * appearance, and the time each entry's statement states, for the appends
 * plot. Each request reads only what was appended since the last one.
 * Entries are hostile: they are parsed by px_entry_parse like the audit
 * parses them, and one that does not parse is counted and skipped. */
#include <string.h>

#include "explorer/ex.h"

#define EX_BUNDLE PX_LOG_TILE_WIDTH

void ex_entries_free(px_entry *e, size_t n) {
    for (size_t i = 0; e && i < n; i++)
        px_entry_free(&e[i]);
    free(e);
}

int ex_size(px_explorer *x, uint64_t *size, px_err *err) {
    px_buf note = PX_BUF_INIT;
    int rc = px_log_checkpoint(x->o.log, &note, size, err);
    px_buf_free(&note);
    return rc;
}

int ex_entries(px_explorer *x, px_log_key_kind kind, const uint8_t digest[PX_SHA256_BYTES], px_entry **out,
               size_t *n, px_err *err) {
    uint64_t *idx = malloc(PX_LOG_LOOKUP_MAX * sizeof *idx);
    px_entry *e = NULL;
    size_t got = 0, ne = 0, cap = 0;
    uint64_t from = 0;
    int rc = idx ? 0 : px_fail(err, PX_E_NOMEM, "out of memory reading the log");
    /* Pages of the lookup, up to the limit the CLI's reader has too. */
    while (rc == 0) {
        rc = px_log_lookup(x->o.log, kind, digest, from, idx, PX_LOG_LOOKUP_MAX, &got, err);
        if (rc || got == 0)
            break;
        if (ne + got > PX_LOGREAD_MAX_ENTRIES) {
            rc = px_fail(err, PX_E_LIMIT, "more than %d entries under one digest", PX_LOGREAD_MAX_ENTRIES);
            break;
        }
        if (ne + got > cap) {
            size_t ncap = (ne + got) * 2;
            px_entry *grown = realloc(e, ncap * sizeof *e);
            if (!grown) {
                rc = px_fail(err, PX_E_NOMEM, "out of memory reading the log");
                break;
            }
            e = grown, cap = ncap;
        }
        for (size_t i = 0; rc == 0 && i < got; i++) {
            px_buf b = PX_BUF_INIT;
            rc = px_log_entry(x->o.log, idx[i], &b, err);
            if (rc == 0 && px_entry_parse(&e[ne], idx[i], b.data, b.len, NULL) == 0)
                ne++;
            px_buf_free(&b);
        }
        if (got < PX_LOG_LOOKUP_MAX)
            break;
        from = idx[got - 1] + 1;
    }
    free(idx);
    if (rc) {
        ex_entries_free(e, ne);
        return -1;
    }
    *out = e;
    *n = ne;
    return 0;
}

json_t *ex_inclusion(px_explorer *x, uint64_t index, uint64_t size, px_err *err) {
    px_buf proof = PX_BUF_INIT;
    if (px_log_inclusion(x->o.log, index, size, &proof, err))
        return NULL;
    json_t *o = json_object(), *arr = json_array();
    int rc = !o || px_x_set(o, "proof", arr, err) || px_x_set(o, "index", json_integer((json_int_t)index), err) ||
             px_x_set(o, "size", json_integer((json_int_t)size), err);
    for (size_t k = 0; rc == 0 && k < proof.len / PX_LOG_HASH_BYTES; k++) {
        px_buf b = PX_BUF_INIT;
        rc = px_buf_append_b64(&b, proof.data + k * PX_LOG_HASH_BYTES, PX_LOG_HASH_BYTES, err) ||
             px_x_append(arr, json_stringn((char *)b.data, b.len), err);
        px_buf_free(&b);
    }
    px_buf_free(&proof);
    if (rc) {
        if (!o)
            json_decref(arr);
        json_decref(o);
        px_fail(err, PX_E_NOMEM, "out of memory");
        return NULL;
    }
    return o;
}

const char *ex_kind_name(px_entry_kind k) {
    static const char *const names[] = {"other", "plan", "execution", "release", "report", "plan-part", "accepted",
                                        "pod-instance"};
    return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "other";
}

/* ---- the task table ------------------------------------------------------------------ */

static size_t slot_of(const uint8_t *id, size_t nslots) {
    uint64_t h;
    memcpy(&h, id, sizeof h);
    return (size_t)(h % nslots);
}

ex_task *ex_index_find(px_explorer *x, const uint8_t id[PX_SHA256_BYTES]) {
    if (!x->nslots)
        return NULL;
    for (size_t s = slot_of(id, x->nslots);; s = (s + 1) % x->nslots) {
        size_t v = x->slots[s];
        if (!v)
            return NULL;
        if (!memcmp(x->tasks[v - 1].id, id, PX_SHA256_BYTES))
            return &x->tasks[v - 1];
    }
}

static int rehash(px_explorer *x, px_err *err) {
    size_t n = x->nslots ? x->nslots * 2 : 1024;
    size_t *s = calloc(n, sizeof *s);
    if (!s)
        return px_fail(err, PX_E_NOMEM, "out of memory indexing tasks");
    for (size_t i = 0; i < x->ntasks; i++) {
        size_t k = slot_of(x->tasks[i].id, n);
        while (s[k])
            k = (k + 1) % n;
        s[k] = i + 1;
    }
    free(x->slots);
    x->slots = s;
    x->nslots = n;
    return 0;
}

static int add_task(px_explorer *x, const uint8_t id[PX_SHA256_BYTES], uint64_t index, px_err *err) {
    if (ex_index_find(x, id))
        return 0;
    if ((x->ntasks + 1) * 2 > x->nslots && rehash(x, err))
        return -1;
    if (x->ntasks == x->cap_tasks) {
        size_t cap = x->cap_tasks ? x->cap_tasks * 2 : 64;
        ex_task *t = realloc(x->tasks, cap * sizeof *t);
        if (!t)
            return px_fail(err, PX_E_NOMEM, "out of memory indexing tasks");
        x->tasks = t, x->cap_tasks = cap;
    }
    ex_task *t = &x->tasks[x->ntasks++];
    memset(t, 0, sizeof *t);
    memcpy(t->id, id, PX_SHA256_BYTES);
    t->first = index;
    size_t k = slot_of(id, x->nslots);
    while (x->slots[k])
        k = (k + 1) % x->nslots;
    x->slots[k] = x->ntasks;
    return 0;
}

/* The time a statement states about itself, or 0. */
static int64_t stated_time(const px_entry *e) {
    static const char *const keys[] = {"finished", "accepted", "released", "created", NULL};
    const json_t *p = e->kind == PX_ENTRY_OTHER ? NULL : e->st.predicate;
    for (size_t i = 0; p && keys[i]; i++) {
        json_t *v = json_object_get(p, keys[i]);
        if (json_is_integer(v) && json_integer_value(v) > 0)
            return (int64_t)json_integer_value(v);
    }
    return 0;
}

static int note_entry(px_explorer *x, uint64_t index, const uint8_t *data, size_t len, px_err *err) {
    px_entry e;
    int64_t t = index ? x->times[index - 1] : 0;
    if (px_entry_parse(&e, index, data, len, NULL) == 0) {
        int64_t s = stated_time(&e);
        if (s)
            t = s;
        int rc = (e.kind == PX_ENTRY_PLAN || e.kind == PX_ENTRY_PLAN_PART) ? add_task(x, e.manifest, index, err) : 0;
        px_entry_free(&e);
        if (rc)
            return -1;
    }
    x->times[index] = t;
    return 0;
}

int ex_index_update(px_explorer *x, px_err *err) {
    uint64_t size;
    if (ex_size(x, &size, err))
        return -1;
    if (size > x->cap_times) {
        size_t cap = size + size / 2 + 1024;
        int64_t *t = realloc(x->times, cap * sizeof *t);
        if (!t)
            return px_fail(err, PX_E_NOMEM, "out of memory indexing the log");
        x->times = t, x->cap_times = cap;
    }
    while (x->scanned < size) {
        uint64_t tile = x->scanned / EX_BUNDLE, base = tile * EX_BUNDLE;
        unsigned width = size - base >= EX_BUNDLE ? EX_BUNDLE : (unsigned)(size - base);
        px_buf b = PX_BUF_INIT;
        const uint8_t *ents[EX_BUNDLE];
        size_t lens[EX_BUNDLE], n = 0;
        int rc = px_log_tile(x->o.log, -1, tile, width, &b, err) ||
                 px_log_bundle_split(b.data, b.len, ents, lens, EX_BUNDLE, &n, err);
        if (rc == 0 && n != width)
            rc = px_fail(err, PX_E_INTERNAL, "entry bundle %llu holds %zu entries, not %u", (unsigned long long)tile,
                         n, width);
        for (uint64_t i = x->scanned - base; rc == 0 && i < n; i++)
            rc = note_entry(x, base + i, ents[i], lens[i], err);
        px_buf_free(&b);
        if (rc)
            return -1;
        x->scanned = base + n;
    }
    return 0;
}

void ex_index_free(px_explorer *x) {
    for (size_t i = 0; i < x->ntasks; i++)
        json_decref(x->tasks[i].summary);
    free(x->tasks);
    free(x->slots);
    free(x->times);
    x->tasks = NULL;
    x->slots = NULL;
    x->times = NULL;
    x->ntasks = x->nslots = x->cap_tasks = x->cap_times = 0;
    x->scanned = 0;
}
