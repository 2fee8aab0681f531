/* The trace's lineage graph, shared by trace.c (building and checking it)
 * and trace_render.c (text, JSON, Graphviz). Not a public contract. */
#ifndef PX_EXEC_TRACE_H
#define PX_EXEC_TRACE_H

#include "exec/util.h"

#define PX_TRACE_NOTE_MAX 200
#define PX_TRACE_NONE ((size_t)-1)

/* A step: a release or an ok execution proof, and whether its signer
 * checked out. Only verified execution steps have their inputs followed. */
typedef struct px_tstep {
    px_entry e;       /* owned */
    int verified;
    char why[PX_TRACE_NOTE_MAX]; /* unverified: the reason */
    size_t *in_node;  /* per input: the node it leads to, or PX_TRACE_NONE */
    size_t node;      /* the node made for it as a declared producer */
} px_tstep;

/* A digest as the trace reached it: the root with its producers, or one
 * input of a step with (at most) the producer that step declared. */
typedef struct px_tnode {
    uint8_t digest[PX_SHA256_BYTES];
    size_t *steps;    /* indices into the step array */
    size_t nsteps;
    char note[PX_TRACE_NOTE_MAX]; /* why it has no producer, or "" */
    int shown;        /* text rendering: printed already */
} px_tnode;

typedef struct px_tgraph {
    px_tnode *node;
    size_t nnodes, capnodes;
    px_tstep *step;
    size_t nsteps, capsteps;
    size_t ignored;       /* failed or foreign producers of the root left out */
} px_tgraph;

int px_trace_render_text(px_buf *o, px_tgraph *g, px_err *err);
int px_trace_render_json(px_buf *o, const px_tgraph *g, px_err *err);
int px_trace_render_dot(px_buf *o, const px_tgraph *g, px_err *err);

#endif
