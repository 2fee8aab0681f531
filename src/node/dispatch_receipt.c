/* The dispatcher's last part: prove the outcome, success or failure. Ask
 * every witness to cosign the log's checkpoint, fetch the task's entries
 * with inclusion proofs, build the receipt (for a failure: stating the
 * audit's verdict), and check it exactly as `pixiu verify` would. */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "node/dispatch.h"

/* Past the deadline by more than a cosignature's whole-second rounding. */
#define PX_DISPATCH_DEADLINE_MARGIN_MS 2000

/* The log, and the witnesses, may be restarting or cut off for a moment
 * when a task ends: the receipt waits for them this long rather than
 * leave a task that ran without one. */
#define PX_DISPATCH_RETRY_MS 120000
#define PX_DISPATCH_PAUSE_MAX_MS 8000

static int fetch(const char *url, size_t max, px_buf *out, px_err *err) {
    int status = 0;
    if (px_http_call("GET", url, NULL, 0, NULL, 0, PX_NODE_CALL_TIMEOUT_MS, max, &status, out, err))
        return -1;
    if (status != 200)
        return px_fail(err, PX_E_UNAVAILABLE, "%s: HTTP %d", url, status);
    return 0;
}

/* GET a proof ({"proof": [base64 hashes]}) from the log; hashes appended. */
static int get_proof(const char *url, px_buf *out, px_err *err) {
    px_buf b = PX_BUF_INIT;
    json_t *o = NULL, *arr, *h;
    size_t i;
    int rc = fetch(url, 1 << 20, &b, err);
    if (rc == 0 && !(o = px_json_parse(b.data, b.len, 1 << 20, err)))
        rc = -1;
    if (rc == 0)
        rc = px_x_arr(o, "proof", 0, PX_LOG_MAX_PROOF, &arr, err);
    if (rc == 0)
        json_array_foreach(arr, i, h) {
            uint8_t one[PX_LOG_HASH_BYTES];
            if (!json_is_string(h) ||
                px_b64_decode_exact(one, sizeof one, json_string_value(h), json_string_length(h), err) ||
                px_buf_append(out, one, sizeof one, err)) {
                rc = px_fail(err, PX_E_INVALID, "proof from the log is malformed");
                break;
            }
        }
    json_decref(o);
    px_buf_free(&b);
    return rc;
}

static int inclusion(const char *log_url, uint64_t index, uint64_t size, px_buf *out, px_err *err) {
    char url[PX_MEMBER_URL_MAX + 96];
    snprintf(url, sizeof url, "%s/proof/inclusion?index=%" PRIu64 "&size=%" PRIu64, log_url, index, size);
    return get_proof(url, out, err);
}

/* px_log_proof_fn for witnesses: consistency proofs from the log's API. */
static int consistency(void *ctx, uint64_t size1, uint64_t size2, px_buf *out, px_err *err) {
    char url[PX_MEMBER_URL_MAX + 96];
    snprintf(url, sizeof url, "%s/proof/consistency?from=%" PRIu64 "&to=%" PRIu64, (const char *)ctx, size1, size2);
    return get_proof(url, out, err);
}

/* The network's witnesses cosign only for members: each request is
 * signed by this consumer's node key. */
typedef struct witness_to {
    const px_job *j;
    const px_member *w;
} witness_to;

static int signed_post(void *ctx, const uint8_t *body, size_t len, int *status, px_buf *out, px_err *err) {
    const witness_to *t = ctx;
    return px_signed_call(t->j->o->key, t->j->o->id, t->w->id, "POST", t->w->url, "/witness/add-checkpoint", body,
                          len, PX_NODE_CALL_TIMEOUT_MS, 1 << 20, status, out, err);
}

/* The log's newest checkpoint, cosigned by every witness. Consumers ask
 * the witnesses at the same time, so a witness may have moved past the
 * checkpoint fetched a moment ago: then the newer one is fetched and the
 * round starts again. Under many consumers one can lose that race many
 * times in a row (a loaded machine deschedules it between the fetch and
 * the request), so it keeps trying for a while, backing off a little
 * more each time, rather than a fixed number of times. */
#define PX_DISPATCH_COSIGN_MS 30000
#define PX_DISPATCH_COSIGN_BACKOFF_MS 50

static int cosigned_checkpoint(const px_job *j, const char *log_url, px_buf *note, size_t *nwit, px_err *err) {
    char url[PX_MEMBER_URL_MAX + 32];
    snprintf(url, sizeof url, "%s/checkpoint", log_url);
    const px_membership *mem = j->o->members;
    int rc = -1;
    int64_t until = px_now_ms() + PX_DISPATCH_COSIGN_MS;
    for (int round = 0;; round++) {
        if (round > 0) {
            if (px_now_ms() > until)
                return rc;
            struct timespec ts = {0, (long)(round < PX_DISPATCH_COSIGN_BACKOFF_MS ? round : PX_DISPATCH_COSIGN_BACKOFF_MS) *
                                         1000000L};
            nanosleep(&ts, NULL);
        }
        px_buf_reset(note);
        *nwit = 0;
        if (fetch(url, 1 << 20, note, err))
            return -1;
        size_t base = note->len;
        rc = 0;
        for (size_t i = 0; rc == 0 && i < mem->n; i++) {
            if (!(mem->nodes[i].roles & PX_ROLE_WITNESS))
                continue;
            witness_to t = {j, &mem->nodes[i]};
            uint64_t old = 0;
            rc = px_witness_request_via(signed_post, &t, (const char *)note->data, base, consistency, (void *)log_url,
                                        &old, note, err);
            if (rc)
                px_err_prefix(err, "witness %s: ", mem->nodes[i].id);
            else
                (*nwit)++;
        }
        if (rc == 0 || !err || err->code != PX_E_STATE)
            return rc;
    }
}

typedef struct keyset {
    px_node_key pods[PX_MANIFEST_MAX_PODS];
    size_t npods;
    px_node_platform plat[PX_PLAN_MAX_INSTANCES + PX_MANIFEST_MAX_PODS];
    size_t nplat;
    px_cosigner wit[PX_MEMBERSHIP_MAX_NODES > 64 ? 64 : PX_MEMBERSHIP_MAX_NODES];
    size_t nwit;
    uint8_t builds[PX_PLAN_MAX_INSTANCES + PX_MANIFEST_MAX_PODS][PX_SHA256_BYTES];
    size_t nbuilds;
} keyset;

static void add_build(keyset *k, const uint8_t *b) {
    for (size_t q = 0; q < k->nbuilds; q++)
        if (px_ct_equal(k->builds[q], b, PX_SHA256_BYTES))
            return;
    memcpy(k->builds[k->nbuilds++], b, PX_SHA256_BYTES);
}

/* The PODs whose instances ran at the POD: their release keys, platform
 * keys (which vouch for their instances) and builds. A POD that never
 * released, or whose instances never checked, is not listed. */
static void pod_keys(const px_job *j, keyset *k) {
    for (size_t i = 0; i < j->npods && k->npods < PX_MANIFEST_MAX_PODS; i++) {
        const px_podside *ps = &j->pods[i];
        if (!ps->ran)
            continue;
        memcpy(k->pods[k->npods].id, ps->node->id, strlen(ps->node->id) + 1);
        k->pods[k->npods++].key = ps->node->signing;
        memcpy(k->plat[k->nplat].id, ps->node->id, strlen(ps->node->id) + 1);
        k->plat[k->nplat++].platform = ps->node->platform;
        for (uint32_t s = 0; s < j->kpod; s++)
            add_build(k, ps->att[s].build);
    }
}

/* The keys a receipt lists: PODs that released, nodes that hosted an
 * instance, the builds those instances ran, and the witnesses. */
static void receipt_keys(const px_job *j, keyset *k) {
    const px_membership *mem = j->o->members;
    for (size_t i = 0; i < j->nrel && k->npods < PX_MANIFEST_MAX_PODS; i++) {
        px_entry e;
        if (px_entry_parse(&e, 0, j->rel_env[i].data, j->rel_env[i].len, NULL))
            continue;
        const px_member *pod = px_membership_find(mem, e.pod);
        int dup = 0;
        for (size_t q = 0; pod && q < k->npods; q++)
            dup |= !strcmp(k->pods[q].id, pod->id);
        if (pod && !dup) {
            memcpy(k->pods[k->npods].id, pod->id, strlen(pod->id) + 1);
            k->pods[k->npods++].key = pod->signing;
        }
        px_entry_free(&e);
    }
    for (size_t s = 0; s < j->ns; s++) {
        int dup = 0;
        for (size_t q = 0; q < k->nplat; q++)
            dup |= !strcmp(k->plat[q].id, j->s[s].node->id);
        if (!dup && j->s[s].node->has_platform) {
            memcpy(k->plat[k->nplat].id, j->s[s].node->id, strlen(j->s[s].node->id) + 1);
            k->plat[k->nplat++].platform = j->s[s].node->platform;
        }
        add_build(k, j->s[s].att.build);
    }
    pod_keys(j, k);
    for (size_t i = 0; i < mem->n && k->nwit < 64; i++)
        if (mem->nodes[i].roles & PX_ROLE_WITNESS) {
            px_cosigner *c = &k->wit[k->nwit++];
            memcpy(c->name, mem->nodes[i].signing.name, sizeof c->name);
            memcpy(c->pk, mem->nodes[i].signing.pk, sizeof c->pk);
            c->id = px_cosig_key_id(c->name, c->pk);
        }
}

/* The task's entries in a cosigned checkpoint, each with its proof. */
typedef struct proven {
    px_buf note;
    px_checkpoint cp;
    size_t nwit;
    uint64_t *idx;
    size_t n, m;
    px_buf *data, *proofs;
    px_receipt_entry *re;
    keyset *k;
} proven;

static void proven_free(proven *p) {
    for (size_t i = 0; i < p->n; i++) {
        if (p->data)
            px_buf_free(&p->data[i]);
        if (p->proofs)
            px_buf_free(&p->proofs[i]);
    }
    free(p->data);
    free(p->proofs);
    free(p->re);
    free(p->idx);
    free(p->k);
    px_checkpoint_free(&p->cp);
    px_buf_free(&p->note);
    memset(p, 0, sizeof *p);
}

static int collect(px_job *j, const char *log_url, proven *p, px_err *err) {
    memset(p, 0, sizeof *p);
    p->k = calloc(1, sizeof *p->k);
    int rc = !p->k ? px_fail(err, PX_E_NOMEM, "out of memory") : 0;
    if (!rc)
        rc = cosigned_checkpoint(j, log_url, &p->note, &p->nwit, err) ||
             px_checkpoint_open(&p->cp, (const char *)p->note.data, p->note.len, &j->log->signing, NULL, err) ||
             px_logread_lookup(log_url, "manifest", j->m.id, &p->idx, &p->n, err);
    if (!rc && (!(p->data = calloc(p->n + 1, sizeof *p->data)) || !(p->proofs = calloc(p->n + 1, sizeof *p->proofs)) ||
                !(p->re = calloc(p->n + 1, sizeof *p->re))))
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < p->n; i++) {
        if (p->idx[i] >= p->cp.size)
            continue;
        size_t m = p->m;
        rc = px_logread_entry(log_url, p->idx[i], &p->data[m], err) ||
             inclusion(log_url, p->idx[i], p->cp.size, &p->proofs[m], err);
        p->re[m] = (px_receipt_entry){p->idx[i], p->data[m].data, p->data[m].len, p->proofs[m].data,
                                      p->proofs[m].len / 32};
        p->m++;
    }
    if (!rc)
        receipt_keys(j, p->k);
    return rc;
}

static int build(px_job *j, const proven *p, const px_audit *failure, px_err *err) {
    px_receipt_parts parts = {
        .manifest = j->m.id, .result = j->r->result_digest, .failure = failure, .log_key = &j->log->signing,
        .checkpoint = (const char *)p->note.data, .checkpoint_len = p->note.len, .witnesses = p->k->wit,
        .nwitnesses = p->k->nwit, .pods = p->k->pods, .npods = p->k->npods, .platforms = p->k->plat,
        .nplatforms = p->k->nplat, .builds = (const uint8_t(*)[PX_SHA256_BYTES])p->k->builds,
        .nbuilds = p->k->nbuilds, .entries = p->re, .nentries = p->m};
    int rc = px_receipt_build(&j->r->receipt, &parts, err);
    if (rc == 0)
        px_dispatch_progress(j, "  %sreceipt: %zu log entries in a checkpoint of %" PRIu64 ", %zu cosignature(s)",
                             failure ? "failure " : "", p->m, p->cp.size, p->nwit);
    return rc;
}

/* A pause before the next attempt when the last one failed because a
 * peer is away (the log or a witness restarting, a link down); 0 when it
 * is time to give up. */
static long next_pause(px_job *j, uint64_t t0, long *pause, const px_err *err) {
    long spent = (long)((px_mono_ns() - t0) / 1000000);
    if (!err || err->code != PX_E_UNAVAILABLE || spent + *pause > PX_DISPATCH_RETRY_MS)
        return 0;
    px_dispatch_progress(j, "  %s: trying again in %.1f s", err->msg, (double)*pause / 1000);
    long p = *pause;
    struct timespec ts = {p / 1000, (p % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    *pause = p * 2 < PX_DISPATCH_PAUSE_MAX_MS ? p * 2 : PX_DISPATCH_PAUSE_MAX_MS;
    return p;
}

/* collect, again while a peer it needs is briefly away. */
static int collect_retrying(px_job *j, const char *log_url, proven *p, px_err *err) {
    uint64_t t0 = px_mono_ns();
    long pause = 500;
    for (;;) {
        int rc = collect(j, log_url, p, err);
        if (rc == 0 || !next_pause(j, t0, &pause, err))
            return rc;
        proven_free(p);
    }
}

int px_dispatch_receipt(px_job *j, const px_audit *failure, px_err *err) {
    char log_url[PX_MEMBER_URL_MAX + 8];
    snprintf(log_url, sizeof log_url, "%s/log", j->log->url);
    proven p;
    int rc = collect_retrying(j, log_url, &p, err);
    if (rc == 0)
        rc = build(j, &p, failure, err);
    proven_free(&p);
    return rc;
}

/* The verdict over what p holds, judged as a verifier of the receipt will:
 * at the newest cosignature's time. */
static int audit_proven(px_job *j, const proven *p, px_audit *a, px_err *err) {
    px_entry *e = calloc(p->m + 1, sizeof *e);
    size_t ne = 0;
    int rc = e ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < p->m; i++)
        if (px_entry_parse(&e[ne], p->re[i].index, p->re[i].data, p->re[i].len, NULL) == 0)
            ne++;
    int64_t at = px_receipt_time((const char *)p->note.data, p->note.len, p->k->wit, p->k->nwit);
    if (rc == 0)
        rc = px_audit_run_at(a, j->m.id, e, ne, j->trust.pods, j->trust.npods, px_exec_evidence_check,
                             &j->trust.exec, at, err);
    for (size_t i = 0; i < ne; i++)
        px_entry_free(&e[i]);
    free(e);
    return rc;
}

/* Wait out an instance the log shows "running" (accepted input, no proof):
 * only after the deadline does the log prove it silent. */
static int await_deadline(px_job *j, const char *log_url, px_err *err) {
    px_entry *e = NULL;
    size_t n = 0;
    px_audit a;
    if (px_logread_entries(log_url, "manifest", j->m.id, &e, &n, err))
        return -1;
    int rc = px_audit_run_at(&a, j->m.id, e, n, j->trust.pods, j->trust.npods, px_exec_evidence_check,
                             &j->trust.exec, px_now_ms(), err);
    for (size_t i = 0; i < n; i++)
        px_entry_free(&e[i]);
    free(e);
    if (rc)
        return -1;
    if (!strcmp(a.status, "running")) {
        /* Cosignatures carry whole seconds: wait past the next one. */
        int64_t wait = j->m.deadline - px_now_ms() + PX_DISPATCH_DEADLINE_MARGIN_MS;
        px_dispatch_progress(j, "  stage %lld on %s accepted its input and gave no proof: waiting %.1f s for the "
                             "deadline, after which the log alone proves it silent", (long long)a.stage, a.node,
                             wait > 0 ? (double)wait / 1000 : 0.0);
        while (wait > 0) {
            struct timespec ts = {wait / 1000, (wait % 1000) * 1000000};
            nanosleep(&ts, NULL);
            wait = j->m.deadline - px_now_ms() + PX_DISPATCH_DEADLINE_MARGIN_MS;
        }
    }
    px_audit_free(&a);
    return 0;
}

int px_dispatch_failure_receipt(px_job *j, px_err *err) {
    char log_url[PX_MEMBER_URL_MAX + 8];
    snprintf(log_url, sizeof log_url, "%s/log", j->log->url);
    uint64_t t0 = px_mono_ns();
    long pause = 500;
    while (await_deadline(j, log_url, err))
        if (!next_pause(j, t0, &pause, err))
            return -1;
    proven p;
    px_audit a;
    memset(&a, 0, sizeof a);
    int rc = collect_retrying(j, log_url, &p, err) || audit_proven(j, &p, &a, err);
    if (rc == 0 && a.verdict == PX_AUDIT_OK) {
        /* Every step logged its proof, yet the result did not reach us: the
         * last λ released it and its node died (or its link was cut) before
         * the answer arrived. The log proves the computation, so the
         * receipt is the ordinary one, naming the result by its
         * commitment; the result itself is lost with the instance, and the
         * charges stand (a consumer claiming "no answer" must not win a
         * refund and a second look at the data: docs/reliability.md). */
        memcpy(j->r->result_digest, a.result, PX_SHA256_BYTES);
        rc = build(j, &p, NULL, err);
        if (rc == 0)
            j->r->undelivered = 1;
        px_audit_free(&a);
        proven_free(&p);
        return rc;
    }
    if (rc == 0)
        rc = build(j, &p, &a, err);
    if (rc == 0) {
        px_submit_result *r = j->r;
        r->receipt_failed = 1;
        r->failed_stage = a.stage;
        r->failed_partition = a.partition;
        snprintf(r->failed_node, sizeof r->failed_node, "%s", a.node);
        snprintf(r->failed_status, sizeof r->failed_status, "%s", a.status);
        snprintf(r->blamed, sizeof r->blamed, "%s", a.blamed);
        snprintf(r->verdict_why, sizeof r->verdict_why, "%s", a.why);
    }
    px_audit_free(&a);
    proven_free(&p);
    return rc;
}

/* Check our own receipt the way anyone would, with the membership's keys. */
int px_dispatch_check_receipt(px_job *j, px_err *err) {
    keyset *k = calloc(1, sizeof *k);
    if (!k)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    receipt_keys(j, k);
    /* As a reader holding the membership would: every key and build the
     * receipt names must be the membership's (or one the consumer
     * accepted), and every witness of the network must have cosigned. */
    px_receipt_root root = {.log_key = &j->log->signing, .pods = k->pods, .npods = k->npods,
                            .platforms = k->plat, .nplatforms = k->nplat,
                            .builds = (const uint8_t(*)[PX_SHA256_BYTES])j->trust.builds,
                            .nbuilds = j->trust.nbuilds, .witnesses = k->wit, .nwitnesses = k->nwit,
                            .min_witnesses = k->nwit};
    px_receipt_summary s;
    int rc = px_receipt_verify(j->r->receipt.data, j->r->receipt.len, &root, &s, err);
    free(k);
    if (rc)
        return -1;
    for (size_t i = 0; i < j->ns; i++)
        if (j->s[i].stage == 0 && j->s[i].proof.len) { /* a stage that never ran has no proof */
            px_entry e;
            if (px_entry_parse(&e, 0, j->s[i].proof.data, j->s[i].proof.len, NULL) == 0) {
                j->r->records += e.records;
                j->r->authenticated += e.authenticated;
                j->r->alleged += e.alleged;
                px_entry_free(&e);
            }
        }
    px_receipt_summary_free(&s);
    return 0;
}

