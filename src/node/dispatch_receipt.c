/* The dispatcher's last part: prove the outcome. Ask every witness to cosign
 * the log's checkpoint, fetch the task's entries with inclusion proofs,
 * build the receipt, and check it exactly as `pixiu verify` would. */
#include <inttypes.h>
#include <string.h>

#include "node/dispatch.h"

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

static int cosigned_checkpoint(const px_job *j, const char *log_url, px_buf *note, size_t *nwit, px_err *err) {
    char url[PX_MEMBER_URL_MAX + 32];
    snprintf(url, sizeof url, "%s/checkpoint", log_url);
    if (fetch(url, 1 << 20, note, err))
        return -1;
    const px_membership *mem = j->o->members;
    size_t base = note->len;
    for (size_t i = 0; i < mem->n; i++) {
        if (!(mem->nodes[i].roles & PX_ROLE_WITNESS))
            continue;
        snprintf(url, sizeof url, "%s/witness", mem->nodes[i].url);
        uint64_t old = 0;
        if (px_witness_request(url, (const char *)note->data, base, consistency, (void *)log_url, &old, note, err))
            return px_err_prefix(err, "witness %s: ", mem->nodes[i].id);
        (*nwit)++;
    }
    return 0;
}

typedef struct keyset {
    px_node_key pods[PX_MANIFEST_MAX_PODS];
    size_t npods;
    px_node_platform plat[PX_PLAN_MAX_INSTANCES];
    size_t nplat;
    px_cosigner wit[PX_MEMBERSHIP_MAX_NODES > 64 ? 64 : PX_MEMBERSHIP_MAX_NODES];
    size_t nwit;
    uint8_t builds[PX_PLAN_MAX_INSTANCES][PX_SHA256_BYTES];
    size_t nbuilds;
} keyset;

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
        dup = 0;
        for (size_t q = 0; q < k->nbuilds; q++)
            dup |= px_ct_equal(k->builds[q], j->s[s].att.build, PX_SHA256_BYTES);
        if (!dup)
            memcpy(k->builds[k->nbuilds++], j->s[s].att.build, PX_SHA256_BYTES);
    }
    for (size_t i = 0; i < mem->n && k->nwit < 64; i++)
        if (mem->nodes[i].roles & PX_ROLE_WITNESS) {
            px_cosigner *c = &k->wit[k->nwit++];
            memcpy(c->name, mem->nodes[i].signing.name, sizeof c->name);
            memcpy(c->pk, mem->nodes[i].signing.pk, sizeof c->pk);
            c->id = px_cosig_key_id(c->name, c->pk);
        }
}

int px_dispatch_receipt(px_job *j, px_err *err) {
    char log_url[PX_MEMBER_URL_MAX + 8];
    snprintf(log_url, sizeof log_url, "%s/log", j->log->url);
    px_buf note = PX_BUF_INIT;
    size_t nwit = 0;
    uint64_t *idx = NULL;
    size_t n = 0;
    px_checkpoint cp = {0};
    keyset *k = calloc(1, sizeof *k);
    px_buf *data = NULL, *proofs = NULL;
    px_receipt_entry *re = NULL;
    int rc = !k ? px_fail(err, PX_E_NOMEM, "out of memory") : 0;
    if (!rc)
        rc = cosigned_checkpoint(j, log_url, &note, &nwit, err) ||
             px_checkpoint_open(&cp, (const char *)note.data, note.len, &j->log->signing, NULL, err) ||
             px_logread_lookup(log_url, "manifest", j->m.id, &idx, &n, err);
    if (!rc && !(data = calloc(n + 1, sizeof *data)))
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    if (!rc && !(proofs = calloc(n + 1, sizeof *proofs)))
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    if (!rc && !(re = calloc(n + 1, sizeof *re)))
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (idx[i] >= cp.size)
            continue;
        rc = px_logread_entry(log_url, idx[i], &data[m], err) || inclusion(log_url, idx[i], cp.size, &proofs[m], err);
        re[m] = (px_receipt_entry){idx[i], data[m].data, data[m].len, proofs[m].data, proofs[m].len / 32};
        m++;
    }
    if (!rc) {
        receipt_keys(j, k);
        px_receipt_parts parts = {
            .manifest = j->m.id, .result = j->r->result_digest, .log_key = &j->log->signing,
            .checkpoint = (const char *)note.data, .checkpoint_len = note.len, .witnesses = k->wit,
            .nwitnesses = k->nwit, .pods = k->pods, .npods = k->npods, .platforms = k->plat, .nplatforms = k->nplat,
            .builds = (const uint8_t(*)[PX_SHA256_BYTES])k->builds, .nbuilds = k->nbuilds,
            .entries = re, .nentries = m};
        rc = px_receipt_build(&j->r->receipt, &parts, err);
        px_dispatch_progress(j, "  receipt: %zu log entries in a checkpoint of %" PRIu64 ", %zu cosignature(s)", m, cp.size, nwit);
    }
    for (size_t i = 0; i < n; i++) {
        if (data)
            px_buf_free(&data[i]);
        if (proofs)
            px_buf_free(&proofs[i]);
    }
    free(data);
    free(proofs);
    free(re);
    free(idx);
    free(k);
    px_checkpoint_free(&cp);
    px_buf_free(&note);
    return rc;
}

/* Check our own receipt the way anyone would, with the membership's keys. */
int px_dispatch_check_receipt(px_job *j, px_err *err) {
    keyset *k = calloc(1, sizeof *k);
    if (!k)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    receipt_keys(j, k);
    px_receipt_pins pins = {&j->log->signing, k->wit, k->nwit};
    px_receipt_summary s;
    int rc = px_receipt_check(j->r->receipt.data, j->r->receipt.len, &pins, &s, err);
    free(k);
    if (rc)
        return -1;
    for (size_t i = 0; i < j->ns; i++)
        if (j->s[i].stage == 0) {
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

