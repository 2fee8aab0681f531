/* Trace: from any digest back, through the log's subject index, to the POD
 * releases it came from. The graph alternates digests and the steps that
 * produced them; a digest nobody in the log produced is shown as unknown. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "exec/util.h"

typedef struct tnode {
    uint8_t digest[PX_SHA256_BYTES];
    px_entry *producers; /* owned */
    size_t nproducers;
    int shown;           /* text rendering: already printed */
} tnode;

typedef struct graph {
    tnode *v;
    size_t n, cap;
} graph;

static long find(const graph *g, const uint8_t *d) {
    for (size_t i = 0; i < g->n; i++)
        if (!memcmp(g->v[i].digest, d, PX_SHA256_BYTES))
            return (long)i;
    return -1;
}

static int add(graph *g, const uint8_t *d, px_err *err) {
    if (find(g, d) >= 0)
        return 0;
    if (g->n == PX_TRACE_MAX_NODES)
        return px_fail(err, PX_E_LIMIT, "trace has more than %d digests", PX_TRACE_MAX_NODES);
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 16;
        tnode *v = realloc(g->v, cap * sizeof *v);
        if (!v)
            return px_fail(err, PX_E_NOMEM, "out of memory tracing");
        g->v = v;
        g->cap = cap;
    }
    memset(&g->v[g->n], 0, sizeof g->v[g->n]);
    memcpy(g->v[g->n].digest, d, PX_SHA256_BYTES);
    g->n++;
    return 0;
}

static void graph_free(graph *g) {
    for (size_t i = 0; i < g->n; i++) {
        for (size_t j = 0; j < g->v[i].nproducers; j++)
            px_entry_free(&g->v[i].producers[j]);
        free(g->v[i].producers);
    }
    free(g->v);
}

/* Breadth first: each digest's producers, then their inputs. Only
 * execution proofs go further back; releases are the sources. */
static int build(graph *g, const uint8_t *root, px_subject_lookup_fn lookup, void *ctx, px_err *err) {
    if (add(g, root, err))
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        px_entry *found = NULL;
        size_t nf = 0;
        if (lookup(ctx, g->v[i].digest, &found, &nf, err))
            return -1;
        g->v[i].producers = found;
        g->v[i].nproducers = nf;
        for (size_t j = 0; j < nf; j++) {
            if (found[j].kind != PX_ENTRY_EXEC)
                continue;
            for (size_t k = 0; k < found[j].ninputs; k++)
                if (add(g, found[j].inputs[k].digest, err))
                    return -1;
        }
    }
    return 0;
}

/* ---- text ------------------------------------------------------------------ */

static int describe(px_buf *o, const px_entry *e, px_err *err) {
    char m[17];
    px_hex_encode(m, e->manifest, 8);
    switch (e->kind) {
    case PX_ENTRY_EXEC:
        return px_buf_printf(o, err, "stage %u (%s) partition %u: %s, task %s..., log entry %" PRIu64, e->stage,
                             e->stage_kind, e->partition, e->status, m, e->index);
    case PX_ENTRY_RELEASE:
        return px_buf_printf(o, err, "released by %s dataset %s: %" PRIu64 " records (%" PRIu64 " signed, %" PRIu64
                             " unsigned), task %s..., log entry %" PRIu64, e->pod, e->dataset, e->records,
                             e->authenticated, e->alleged, m, e->index);
    case PX_ENTRY_PLAN:
        return px_buf_printf(o, err, "the plan of task %s..., log entry %" PRIu64, m, e->index);
    case PX_ENTRY_PLAN_PART:
        return px_buf_printf(o, err, "part %u of %u of the plan of task %s..., log entry %" PRIu64, e->part + 1,
                             e->parts, m, e->index);
    default:
        return px_buf_printf(o, err, "log entry %" PRIu64, e->index);
    }
}

static int text_node(px_buf *o, graph *g, size_t i, int depth, px_err *err) {
    char hex[2 * PX_SHA256_BYTES + 1];
    tnode *t = &g->v[i];
    px_hex_encode(hex, t->digest, PX_SHA256_BYTES);
    if (px_buf_printf(o, err, "%*s%s%s\n", 2 * depth, "", hex,
                      t->shown ? " (see above)" : t->nproducers ? "" : " (unknown to the log)"))
        return -1;
    if (t->shown)
        return 0;
    t->shown = 1;
    for (size_t j = 0; j < t->nproducers; j++) {
        const px_entry *e = &t->producers[j];
        if (px_buf_printf(o, err, "%*s<- ", 2 * depth + 2, "") || describe(o, e, err) ||
            px_buf_append_str(o, "\n", err))
            return -1;
        for (size_t k = 0; e->kind == PX_ENTRY_EXEC && k < e->ninputs; k++)
            if (text_node(o, g, (size_t)find(g, e->inputs[k].digest), depth + 2, err))
                return -1;
    }
    return 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *producer_json(const px_entry *e, px_err *err) {
    json_t *p = json_object();
    if (!p)
        return NULL;
    static const char *const kinds[] = {"other", "plan", "execution", "release", "report", "plan-part", "accepted"};
    int rc = px_x_set(p, "entry", json_integer((json_int_t)e->index), err) ||
             px_x_set_hex(p, "id", e->id, PX_SHA256_BYTES, err) ||
             px_x_set(p, "kind", json_string(kinds[e->kind]), err) ||
             px_x_set_hex(p, "manifest", e->manifest, PX_SHA256_BYTES, err);
    if (!rc && e->kind == PX_ENTRY_EXEC) {
        json_t *in = json_array();
        rc = px_x_set(p, "stage", json_integer(e->stage), err) ||
             px_x_set(p, "stage_kind", json_string(e->stage_kind), err) ||
             px_x_set(p, "partition", json_integer(e->partition), err) ||
             px_x_set(p, "status", json_string(e->status), err) || px_x_set(p, "inputs", in, err);
        for (size_t k = 0; !rc && k < e->ninputs; k++) {
            char hex[2 * PX_SHA256_BYTES + 1];
            px_hex_encode(hex, e->inputs[k].digest, PX_SHA256_BYTES);
            rc = px_x_append(in, json_string(hex), err);
        }
    } else if (!rc && e->kind == PX_ENTRY_RELEASE) {
        rc = px_x_set(p, "pod", json_string(e->pod), err) || px_x_set(p, "dataset", json_string(e->dataset), err) ||
             px_x_set(p, "records", json_integer((json_int_t)e->records), err) ||
             px_x_set(p, "signed", json_integer((json_int_t)e->authenticated), err) ||
             px_x_set(p, "unsigned", json_integer((json_int_t)e->alleged), err);
    }
    if (rc) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static int render_json(px_buf *o, const graph *g, px_err *err) {
    json_t *root = json_object(), *nodes = json_array();
    int rc = !root || px_x_set_hex(root, "root", g->v[0].digest, PX_SHA256_BYTES, err) ||
             px_x_set(root, "nodes", nodes, err);
    for (size_t i = 0; !rc && i < g->n; i++) {
        json_t *n = json_object(), *prods = json_array();
        rc = px_x_append(nodes, n, err) || px_x_set_hex(n, "digest", g->v[i].digest, PX_SHA256_BYTES, err) ||
             px_x_set(n, "producers", prods, err);
        for (size_t j = 0; !rc && j < g->v[i].nproducers; j++)
            rc = px_x_append(prods, producer_json(&g->v[i].producers[j], err), err);
    }
    if (!rc)
        rc = px_json_dump(root, o, err) || px_buf_append_str(o, "\n", err);
    json_decref(root);
    return rc ? -1 : 0;
}

/* ---- Graphviz -------------------------------------------------------------- */

static int render_dot(px_buf *o, const graph *g, px_err *err) {
    if (px_buf_append_str(o, "digraph trace {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n", err))
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        char hex[17];
        px_hex_encode(hex, g->v[i].digest, 8);
        if (px_buf_printf(o, err, "  d%zu [shape=ellipse,label=\"%s...\"%s];\n", i, hex,
                          g->v[i].nproducers ? "" : ",style=dashed"))
            return -1;
        for (size_t j = 0; j < g->v[i].nproducers; j++) {
            const px_entry *e = &g->v[i].producers[j];
            px_buf label = PX_BUF_INIT;
            int rc = describe(&label, e, err) || !px_buf_cstr(&label, err) ||
                     px_buf_printf(o, err, "  s%zu_%zu [shape=box,label=\"%s\"%s];\n  s%zu_%zu -> d%zu;\n", i, j,
                                   (const char *)label.data,
                                   e->kind == PX_ENTRY_EXEC && strcmp(e->status, "ok") ? ",color=red" : "", i, j, i);
            px_buf_free(&label);
            if (rc)
                return -1;
            for (size_t k = 0; e->kind == PX_ENTRY_EXEC && k < e->ninputs; k++)
                if (px_buf_printf(o, err, "  d%ld -> s%zu_%zu;\n", find(g, e->inputs[k].digest), i, j))
                    return -1;
        }
    }
    return px_buf_append_str(o, "}\n", err);
}

int px_trace(px_buf *out, const uint8_t digest[PX_SHA256_BYTES], px_subject_lookup_fn lookup, void *ctx,
             px_trace_format fmt, px_err *err) {
    graph g = {0};
    px_buf o = PX_BUF_INIT;
    int rc = build(&g, digest, lookup, ctx, err);
    if (rc == 0) {
        if (fmt == PX_TRACE_JSON)
            rc = render_json(&o, &g, err);
        else if (fmt == PX_TRACE_DOT)
            rc = render_dot(&o, &g, err);
        else
            rc = text_node(&o, &g, 0, 0, err);
    }
    if (rc == 0)
        rc = px_buf_append(out, o.data, o.len, err);
    px_buf_free(&o);
    graph_free(&g);
    return rc;
}
