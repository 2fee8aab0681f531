/* Rendering a trace's lineage: an indented tree (text), an object of nodes
 * and steps (JSON), or a Graphviz digraph. Verified and unverified steps
 * look different in each, and an unverified step's inputs are not shown as
 * leading anywhere: they were not followed. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "exec/trace.h"

static int describe(px_buf *o, const px_entry *e, px_err *err) {
    char m[17];
    px_hex_encode(m, e->manifest, 8);
    if (e->kind == PX_ENTRY_EXEC)
        return px_buf_printf(o, err, "stage %u (%s) partition %u: %s, task %s..., log entry %" PRIu64, e->stage,
                             e->stage_kind, e->partition, e->status, m, e->index);
    return px_buf_printf(o, err, "released by %s dataset %s: %" PRIu64 " records (%" PRIu64 " signed, %" PRIu64
                         " unsigned), task %s..., log entry %" PRIu64, e->pod, e->dataset, e->records,
                         e->authenticated, e->alleged, m, e->index);
}

/* ---- text ------------------------------------------------------------------ */

static int text_node(px_buf *o, px_tgraph *g, size_t i, int depth, px_err *err) {
    char hex[2 * PX_SHA256_BYTES + 1];
    px_tnode *t = &g->node[i];
    px_hex_encode(hex, t->digest, PX_SHA256_BYTES);
    int rc = t->shown     ? px_buf_printf(o, err, "%*s%s (see above)\n", 2 * depth, "", hex)
             : t->note[0] ? px_buf_printf(o, err, "%*s%s (%s)\n", 2 * depth, "", hex, t->note)
                          : px_buf_printf(o, err, "%*s%s\n", 2 * depth, "", hex);
    if (rc || t->shown)
        return rc;
    t->shown = 1;
    for (size_t j = 0; j < t->nsteps; j++) {
        const px_tstep *s = &g->step[t->steps[j]];
        if (px_buf_printf(o, err, "%*s<- ", 2 * depth + 2, "") || describe(o, &s->e, err) ||
            (s->verified ? px_buf_append_str(o, " [verified]\n", err)
                         : px_buf_printf(o, err, " [UNVERIFIED: %s; not followed]\n", s->why)))
            return -1;
        for (size_t k = 0; s->verified && k < s->e.ninputs; k++)
            if (s->in_node[k] != PX_TRACE_NONE && text_node(o, g, s->in_node[k], depth + 2, err))
                return -1;
    }
    return 0;
}

int px_trace_render_text(px_buf *o, px_tgraph *g, px_err *err) {
    if (text_node(o, g, 0, 0, err))
        return -1;
    if (g->ignored)
        return px_buf_printf(o, err, "(%zu failed step(s) or step(s) of other tasks with this digest left out)\n",
                             g->ignored);
    return 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static json_t *step_json(const px_tstep *s, px_err *err) {
    static const char *const kinds[] = {"other", "plan", "execution", "release", "report", "plan-part", "accepted"};
    const px_entry *e = &s->e;
    json_t *p = json_object(), *in = json_array();
    if (!p || !in) {
        json_decref(p);
        json_decref(in);
        px_fail(err, PX_E_NOMEM, "out of memory rendering a trace");
        return NULL;
    }
    int rc = px_x_set(p, "entry", json_integer((json_int_t)e->index), err) ||
             px_x_set_hex(p, "id", e->id, PX_SHA256_BYTES, err) ||
             px_x_set(p, "kind", json_string(kinds[e->kind]), err) ||
             px_x_set_hex(p, "manifest", e->manifest, PX_SHA256_BYTES, err) ||
             px_x_set(p, "verified", json_boolean(s->verified), err) ||
             (!s->verified && px_x_set(p, "why", json_string(s->why), err)) || px_x_set(p, "inputs", in, err);
    if (!rc && e->kind == PX_ENTRY_EXEC)
        rc = px_x_set(p, "stage", json_integer(e->stage), err) ||
             px_x_set(p, "stage_kind", json_string(e->stage_kind), err) ||
             px_x_set(p, "partition", json_integer(e->partition), err) ||
             px_x_set(p, "status", json_string(e->status), err);
    else if (!rc)
        rc = px_x_set(p, "pod", json_string(e->pod), err) || px_x_set(p, "dataset", json_string(e->dataset), err) ||
             px_x_set(p, "records", json_integer((json_int_t)e->records), err) ||
             px_x_set(p, "signed", json_integer((json_int_t)e->authenticated), err) ||
             px_x_set(p, "unsigned", json_integer((json_int_t)e->alleged), err);
    for (size_t k = 0; !rc && k < e->ninputs; k++) {
        json_t *o = json_object();
        rc = px_x_append(in, o, err) || px_x_set_hex(o, "digest", e->inputs[k].digest, PX_SHA256_BYTES, err) ||
             px_x_set_hex(o, "proof", e->inputs[k].proof, PX_SHA256_BYTES, err) ||
             px_x_set(o, "node", s->in_node[k] == PX_TRACE_NONE ? json_null() : json_integer((json_int_t)s->in_node[k]),
                      err);
    }
    if (rc) {
        json_decref(p);
        return NULL;
    }
    return p;
}

int px_trace_render_json(px_buf *o, const px_tgraph *g, px_err *err) {
    json_t *root = json_object(), *nodes = json_array();
    size_t unverified = 0;
    for (size_t i = 0; i < g->nsteps; i++)
        unverified += !g->step[i].verified;
    int rc = !root || !nodes || px_x_set_hex(root, "root", g->node[0].digest, PX_SHA256_BYTES, err) ||
             px_x_set(root, "nodes", nodes, err) ||
             px_x_set(root, "unverified", json_integer((json_int_t)unverified), err) ||
             px_x_set(root, "left_out", json_integer((json_int_t)g->ignored), err);
    for (size_t i = 0; !rc && i < g->nnodes; i++) {
        json_t *n = json_object(), *prods = json_array();
        rc = px_x_append(nodes, n, err) || px_x_set_hex(n, "digest", g->node[i].digest, PX_SHA256_BYTES, err) ||
             px_x_set(n, "producers", prods, err) ||
             (g->node[i].note[0] && px_x_set(n, "note", json_string(g->node[i].note), err));
        for (size_t j = 0; !rc && j < g->node[i].nsteps; j++)
            rc = px_x_append(prods, step_json(&g->step[g->node[i].steps[j]], err), err);
    }
    if (!rc)
        rc = px_json_dump(root, o, err) || px_buf_append_str(o, "\n", err);
    json_decref(root);
    return rc ? -1 : 0;
}

/* ---- Graphviz -------------------------------------------------------------- */

int px_trace_render_dot(px_buf *o, const px_tgraph *g, px_err *err) {
    if (px_buf_append_str(o, "digraph trace {\n  rankdir=BT;\n  node [fontname=\"monospace\"];\n", err))
        return -1;
    for (size_t i = 0; i < g->nnodes; i++) {
        char hex[17];
        px_hex_encode(hex, g->node[i].digest, 8);
        if (px_buf_printf(o, err, "  d%zu [shape=ellipse,label=\"%s...\"%s];\n", i, hex,
                          g->node[i].nsteps ? "" : ",style=dashed"))
            return -1;
    }
    for (size_t s = 0; s < g->nsteps; s++) {
        const px_tstep *st = &g->step[s];
        px_buf label = PX_BUF_INIT;
        int rc = describe(&label, &st->e, err) || !px_buf_cstr(&label, err) ||
                 px_buf_printf(o, err, "  s%zu [shape=box,label=\"%s%s\"%s];\n", s, (const char *)label.data,
                               st->verified ? "" : " (unverified)",
                               st->verified ? "" : ",style=dashed,color=orange");
        px_buf_free(&label);
        if (rc)
            return -1;
        for (size_t k = 0; st->verified && k < st->e.ninputs; k++)
            if (st->in_node[k] != PX_TRACE_NONE && px_buf_printf(o, err, "  d%zu -> s%zu;\n", st->in_node[k], s))
                return -1;
    }
    for (size_t i = 0; i < g->nnodes; i++)
        for (size_t j = 0; j < g->node[i].nsteps; j++)
            if (px_buf_printf(o, err, "  s%zu -> d%zu;\n", g->node[i].steps[j], i))
                return -1;
    return px_buf_append_str(o, "}\n", err);
}
