/* The dispatcher's admission round: every POD of the manifest is asked to
 * admit the signed plan, and each one that does returns its release sealed
 * to its attested first-stage instance. A POD spends most of an admission
 * checking the plan, reading its records and waiting for the log, so
 * several PODs are asked at a time; the releases are then kept in
 * membership order, so what follows does not depend on who answered first. */
#include <pthread.h>
#include <string.h>

#include "node/dispatch.h"

#define PX_ADMIT_THREADS 16

typedef struct admit_one {
    const px_member *pod;
    px_dispatch_reply rep; /* the POD's answer (rep.doc NULL when it refused) */
    px_err err;
} admit_one;

typedef struct admit_pool {
    px_job *j;
    admit_one *a;
    size_t n, next;
    pthread_mutex_t mu;
} admit_pool;

int px_dispatch_ask_admit(const px_job *j, const px_member *pod, px_dispatch_reply *out, px_err *err) {
    px_buf path = PX_BUF_INIT;
    int rc = px_plan_path(&path, &j->parsed, pod->id, err) ||
             px_dispatch_call_jb(j, pod, "/v1/admit", path.data, path.len, PX_NODE_CALL_TIMEOUT_MS, out, err);
    px_buf_free(&path);
    return rc ? -1 : 0;
}

static void ask(px_job *j, admit_one *a) {
    json_t *rels;
    if (px_dispatch_ask_admit(j, a->pod, &a->rep, &a->err) ||
        px_x_arr(a->rep.doc, "releases", 0, PX_MANIFEST_MAX_DATASETS, &rels, &a->err))
        px_dispatch_reply_free(&a->rep);
}

static void *admit_main(void *arg) {
    admit_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n)
            return NULL;
        ask(p->j, &p->a[i]);
    }
}

/* The release's sealed data and statement: attachments of the reply (a
 * POD that answers JSON sends them as base64). */
static int keep_release(px_job *j, const px_jb_view *view, const json_t *rel, px_err *err) {
    px_buf *s = realloc(j->rel_sealed, (j->nrel + 1) * sizeof *s), *e;
    if (s)
        j->rel_sealed = s;
    e = s ? realloc(j->rel_env, (j->nrel + 1) * sizeof *e) : NULL;
    if (e)
        j->rel_env = e;
    uint8_t(*k)[PX_BOX_PUBLICKEYBYTES] = e ? realloc(j->rel_key, (j->nrel + 1) * sizeof *k) : NULL;
    if (!s || !e || !k)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    j->rel_key = k;
    memset(&j->rel_sealed[j->nrel], 0, sizeof *s);
    memset(&j->rel_env[j->nrel], 0, sizeof *e);
    memset(j->rel_key[j->nrel], 0, sizeof *k);
    j->nrel++;
    if (px_jb_bytes(view, rel, "sealed", &j->rel_sealed[j->nrel - 1], err) ||
        px_jb_bytes(view, rel, "release", &j->rel_env[j->nrel - 1], err))
        return -1;
    /* Which first-stage instance it is for, read once. */
    px_entry en;
    if (px_entry_parse(&en, 0, j->rel_env[j->nrel - 1].data, j->rel_env[j->nrel - 1].len, err))
        return px_err_prefix(err, "a release: ");
    memcpy(j->rel_key[j->nrel - 1], en.stage_key, PX_BOX_PUBLICKEYBYTES);
    px_entry_free(&en);
    return 0;
}

/* Ask the PODs, at most PX_ADMIT_THREADS at a time. */
static void ask_all(px_job *j, admit_one *a, size_t n) {
    admit_pool p = {.j = j, .a = a, .n = n};
    pthread_t th[PX_ADMIT_THREADS];
    size_t started = 0;
    pthread_mutex_init(&p.mu, NULL);
    while (started < PX_ADMIT_THREADS && started < n && pthread_create(&th[started], NULL, admit_main, &p) == 0)
        started++;
    admit_main(&p); /* also here: this works even if no thread started */
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&p.mu);
}

int px_dispatch_admit(px_job *j, px_err *err) {
    const px_membership *mem = j->o->members;
    admit_one *a = calloc(mem->n + 1, sizeof *a);
    if (!a)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < mem->n; i++)
        if ((mem->nodes[i].roles & PX_ROLE_POD) && px_manifest_has_pod(&j->m, mem->nodes[i].id))
            a[n++].pod = &mem->nodes[i];
    ask_all(j, a, n);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *rels = json_object_get(a[i].rep.doc, "releases"), *rel;
        size_t k;
        if (!a[i].rep.doc) {
            j->r->refusals++;
            px_dispatch_progress(j, "  %s refused: %s", a[i].pod->id, a[i].err.msg);
        } else {
            json_array_foreach(rels, k, rel) {
                if (rc == 0)
                    rc = keep_release(j, &a[i].rep.view, rel, err);
            }
            j->r->releases += json_array_size(rels);
        }
        px_dispatch_reply_free(&a[i].rep);
    }
    free(a);
    if (rc)
        return -1;
    px_dispatch_progress(j, "  %zu releases admitted, %zu PODs refused", j->r->releases, j->r->refusals);
    if (j->nrel == 0)
        return px_fail(err, PX_E_DENIED, "no POD admitted the plan");
    return 0;
}
