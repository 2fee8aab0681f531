/* The simulation's shared parties and the consumer's side of each task:
 * the signed manifest, its instances recruited back to front (each a real
 * trust-λ instance of this process, vouched for by the process backend's
 * evidence under its executor node's platform key), the signed plan, and
 * the plan published in the log as the dispatcher publishes it. */
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "pixiu/dp.h"

/* The stage kinds the instances are born with: what pixiu_worker runs. */
static const px_stage_kind *const sim_kinds[] = {&px_pod_stage_kind, &px_lambda_wasm_kind, &px_dp_stage_kind, NULL};

/* The code digest the task's wasm stage names (its module is never run). */
#define SIM_CODE "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
#define SIM_SCHEMA                                                                                                    \
    "{\"fields\":[{\"name\":\"user\",\"type\":\"text\"},{\"name\":\"amount\",\"type\":\"int\"}],\"user\":\"user\"}"

void px_sim_pod_id(char out[32], uint64_t i) {
    snprintf(out, 32, "pod-%06llu", (unsigned long long)i);
}

/* A POD's signing key comes from a seed: the run's random salt and the
 * POD's number. So the consumer finds a POD's public key the way it would
 * read it from the membership, without this process keeping a directory
 * of 100,000 keys; the POD derives the same pair (sim_pod.c). */
void px_sim_pod_seed(const px_sim_world *w, uint64_t i, uint8_t seed[PX_SIGN_SEEDBYTES]) {
    memcpy(seed, w->salt, sizeof w->salt);
    memcpy(seed + sizeof w->salt, &i, sizeof i);
}

int px_sim_world_init(px_sim_world *w, const char *log_dir, const char *pod_dir, uint32_t records,
                      uint32_t unsigned_records, px_err *err) {
    memset(w, 0, sizeof *w);
    w->records = records;
    w->unsigned_records = unsigned_records;
    w->pod_dir = pod_dir;
    if (px_crypto_init(err) || px_signer_generate(&w->consumer, "consumer-1", err) ||
        px_signer_generate(&w->log_key, "log-1", err) ||
        px_source_signer_generate(&w->bank, "bank.example", PX_SRC_ED25519, err) ||
        px_source_key_format(&w->bank.pub, &w->bank_text, err) || !px_buf_cstr(&w->bank_text, err) ||
        px_pod_schema_parse(&w->schema, SIM_SCHEMA, strlen(SIM_SCHEMA), err))
        return -1;
    px_box_keygen(&w->receiver);
    px_random(w->salt, sizeof w->salt);
    px_signer_verifier(&w->log_key, &w->log_v);
    /* The build: named components with fixed digests. A node hashes its
     * own files (px_lambda_build_init); what is checked is the same. */
    static const char *const names[] = {"worker", "runner", "wasm2c", "cc", "cc1", "as", "ld", "wasm-rt.h"};
    if (px_tee_build_init(&w->build, NULL, err))
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint8_t d[PX_SHA256_BYTES];
        px_sha256(d, names[i], strlen(names[i]));
        if (px_tee_build_add(&w->build, names[i], d, err))
            return -1;
    }
    if (px_tee_build_digest(w->build_digest, &w->build, err))
        return -1;
    for (int i = 0; i < PX_SIM_EXECS; i++) {
        snprintf(w->nodes[i].id, sizeof w->nodes[i].id, "exec-%d", i);
        if (px_signer_generate(&w->platform[i], w->nodes[i].id, err))
            return -1;
        px_signer_verifier(&w->platform[i], &w->nodes[i].platform);
    }
    w->trust = (px_exec_trust){w->nodes, PX_SIM_EXECS, (const uint8_t(*)[PX_SHA256_BYTES])w->build_digest, 1,
                               &w->build};
    char store[4200];
    snprintf(store, sizeof store, "sqlite:%s/log.db", log_dir);
    px_log_opts lo = {.store = store, .key = &w->log_key};
    return px_log_open(&w->log, &lo, err);
}

void px_sim_world_free(px_sim_world *w) {
    if (w->log)
        px_log_close(w->log);
    px_source_signer_free(&w->bank);
    px_buf_free(&w->bank_text);
    px_signer_wipe(&w->consumer);
    px_signer_wipe(&w->log_key);
    for (int i = 0; i < PX_SIM_EXECS; i++)
        px_signer_wipe(&w->platform[i]);
    memset(w, 0, sizeof *w);
}

/* The consumer's manifest: the task's PODs, prover -> wasm -> dp, with
 * `parts` prover and wasm partitions. */
static int manifest_json(px_sim_world *w, px_buf *out, uint64_t first, uint32_t npods, uint32_t parts, px_err *err) {
    px_verifier v;
    px_buf ck = PX_BUF_INIT;
    char rk[2 * PX_BOX_PUBLICKEYBYTES + 1], pseudonym[2 * PX_SHA256_BYTES + 1];
    /* The map stage's params commit to the task's pseudonym key, as the
     * dispatcher's do (the key itself would go sealed with the code). */
    uint8_t key[PX_TASK_KEY_BYTES], commit[PX_SHA256_BYTES];
    px_random(key, sizeof key);
    px_task_key_commit(commit, key);
    px_hex_encode(pseudonym, commit, sizeof commit);
    px_signer_verifier(&w->consumer, &v);
    px_hex_encode(rk, w->receiver.pk, PX_BOX_PUBLICKEYBYTES);
    int64_t now = px_now_ms();
    int rc = px_verifier_format(&v, &ck, err) || !px_buf_cstr(&ck, err) ||
             px_buf_printf(out, err,
                           "{\"schema\":\"urn:pixiu:manifest:v1\",\"name\":\"sim\",\"consumer\":{\"id\":\"consumer-1\","
                           "\"key\":\"%s\"},\"nonce\":\"%032llx\",\"created\":%lld,\"deadline\":%lld,"
                           "\"datasets\":[{\"name\":\"transactions\",\"schema\":%s,\"pods\":[",
                           (const char *)ck.data, (unsigned long long)w->serial++, (long long)now,
                           (long long)now + 6 * 3600 * 1000LL, SIM_SCHEMA);
    for (uint32_t i = 0; rc == 0 && i < npods; i++) {
        char id[32];
        px_sim_pod_id(id, first + i);
        rc = px_buf_printf(out, err, "%s\"%s\"", i ? "," : "", id);
    }
    if (rc == 0)
        rc = px_buf_printf(out, err,
                           "]}],\"stages\":["
                           "{\"kind\":\"prover\",\"partitions\":%u,\"min_level\":1,"
                           "\"params\":{\"require\":\"any\",\"sources\":[\"%.*s\"]}},"
                           "{\"kind\":\"wasm\",\"partitions\":%u,\"code\":\"" SIM_CODE "\",\"min_level\":1,"
                           "\"limits\":{\"cpu_ms\":5000,\"mem_mb\":64},"
                           "\"params\":{\"map\":\"per-user\",\"dim\":1,\"pseudonym\":\"%s\"}},"
                           "{\"kind\":\"dp\",\"min_level\":1,\"dp\":{\"mechanism\":\"laplace\",\"epsilon\":\"0.5\","
                           "\"delta\":\"0\"},\"params\":{\"mechanism\":\"sum\",\"epsilon\":\"0.5\",\"dim\":1,"
                           "\"lower\":0,\"upper\":1000}}],"
                           "\"receivers\":[{\"id\":\"consumer-1\",\"key\":\"%s\"}]}",
                           parts, (int)w->bank_text.len, (const char *)w->bank_text.data, parts, pseudonym, rk);
    px_buf_free(&ck);
    return rc;
}

/* One recruited instance, as the dispatcher keeps it. */
typedef struct sim_slot {
    uint32_t stage, partition, node;
    px_buf config, evidence;
    uint8_t nonce[PX_TEE_NONCE_BYTES];
    px_lambda *l;
    uint8_t box[PX_BOX_PUBLICKEYBYTES];
} sim_slot;

/* Born with its config, measured, and vouched for by its node's process
 * backend with the recruiter's nonce: what /v1/recruit does on a node. */
static int recruit_one(px_sim_world *w, const px_manifest *m, sim_slot *s, px_err *err) {
    const px_stage_spec *sp = &m->stages[s->stage];
    px_evidence ev;
    uint8_t meas[PX_TEE_MEASUREMENT_BYTES];
    if (px_lambda_new(&s->l, sim_kinds, w->build_digest, px_manifest_kind_name(sp->kind),
                      sp->has_code ? sp->code : px_tee_builtin_code, s->config.data, s->config.len, err))
        return -1;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.node, sizeof ev.node, "%s", w->nodes[s->node].id);
    px_lambda_public(s->l, ev.sign_pk, ev.box_pk, meas);
    memcpy(ev.measurement, meas, sizeof meas);
    memcpy(s->box, ev.box_pk, sizeof s->box);
    ev.build = w->build;
    px_random(s->nonce, sizeof s->nonce);
    memcpy(ev.nonce, s->nonce, sizeof ev.nonce);
    ev.isolation = PX_ISO_SECCOMP | PX_ISO_NODUMP | PX_ISO_NONEWPRIVS | PX_ISO_USERNS | PX_ISO_NETNS;
    if (px_tee_process.attest(&ev, &w->platform[s->node], &s->evidence, err) ||
        px_lambda_set_evidence(s->l, s->evidence.data, s->evidence.len, err))
        return -1;
    /* The dispatcher trusts nothing an executor said before this check. */
    px_attested att;
    return px_exec_evidence_check(&w->trust, w->nodes[s->node].id, s->evidence.data, s->evidence.len, s->nonce, sp,
                                  s->config.data, s->config.len, &att, err);
}

/* Stage s partition q's config: sealing to the next stage's partition q
 * (or its single instance, or the receiver), trusting the PODs dealt to q
 * (stage 0) or the platform keys of the previous stage's nodes. */
static int config_of(px_sim_world *w, const px_sim_task *t, sim_slot *sl, size_t ns, sim_slot *s, px_err *err) {
    const px_manifest *m = &t->m;
    uint8_t succ[1][PX_BOX_PUBLICKEYBYTES];
    if (s->stage + 1 == m->nstages)
        memcpy(succ[0], w->receiver.pk, PX_BOX_PUBLICKEYBYTES);
    for (size_t k = 0; k < ns; k++)
        if (sl[k].stage == s->stage + 1 && (m->stages[s->stage + 1].partitions == 1 || sl[k].partition == s->partition))
            memcpy(succ[0], sl[k].box, PX_BOX_PUBLICKEYBYTES);
    px_verifier *pre = calloc(t->npods + PX_SIM_EXECS + 1, sizeof *pre);
    size_t npre = 0;
    if (!pre)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    int rc = 0;
    if (s->stage == 0) {
        /* The POD keys, as the membership would list them. */
        for (uint32_t k = s->partition; k < t->npods; k += t->parts) {
            px_signer pod;
            char id[32];
            px_sim_pod_id(id, t->first + k);
            uint8_t seed[PX_SIGN_SEEDBYTES];
            px_sim_pod_seed(w, t->first + k, seed);
            if ((rc = px_signer_from_seed(&pod, id, seed, err)))
                break;
            px_signer_verifier(&pod, &pre[npre++]);
            px_signer_wipe(&pod);
        }
    } else {
        int seen[PX_SIM_EXECS] = {0};
        for (size_t k = 0; k < ns; k++)
            if (sl[k].stage + 1 == s->stage && !seen[sl[k].node]) {
                seen[sl[k].node] = 1;
                pre[npre++] = w->nodes[sl[k].node].platform;
            }
    }
    if (rc == 0)
        rc = px_plan_config_build(&s->config, m, s->stage, s->partition, (const uint8_t(*)[32])succ, 1,
                                   s->stage ? pre : NULL, s->stage ? npre : 0, s->stage ? NULL : pre,
                                   s->stage ? 0 : npre, &w->log_v, err);
    free(pre);
    return rc;
}

static int publish(px_sim_world *w, const px_sim_task *t, px_err *err) {
    px_buf *e = NULL;
    size_t n = 0;
    int rc = px_plan_publish(&e, &n, t->plan.data, t->plan.len, 0, &t->m, &w->consumer, err);
    const uint8_t **p = rc ? NULL : calloc(n, sizeof *p);
    size_t *lens = rc ? NULL : calloc(n, sizeof *lens);
    if (rc == 0 && (!p || !lens))
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        p[i] = e[i].data, lens[i] = e[i].len;
    uint64_t first;
    if (rc == 0)
        rc = px_log_append(w->log, p, lens, n, &first, NULL, err);
    for (size_t i = 0; i < n; i++)
        px_buf_free(&e[i]);
    free(e);
    free(p);
    free(lens);
    return rc ? -1 : (int)n;
}

int px_sim_task_plan(px_sim_world *w, px_sim_task *t, uint64_t first, uint32_t npods, px_err *err) {
    memset(t, 0, sizeof *t);
    t->first = first;
    t->npods = npods;
    t->parts = (npods + PX_LAMBDA_MAX_INPUTS - 1) / PX_LAMBDA_MAX_INPUTS;
    px_buf doc = PX_BUF_INIT, env = PX_BUF_INIT;
    int rc = manifest_json(w, &doc, first, npods, t->parts, err) ||
             px_manifest_sign(&env, doc.data, doc.len, &w->consumer, err) ||
             px_manifest_parse(&t->m, env.data, env.len, err);
    px_buf_free(&doc);
    px_buf_free(&env);
    if (rc)
        return -1;
    /* prover 0..parts-1, wasm 0..parts-1, dp: recruited back to front,
     * round robin over the executor nodes. */
    size_t ns = 2 * (size_t)t->parts + 1;
    sim_slot *sl = calloc(ns, sizeof *sl);
    t->prover = calloc(t->parts, sizeof *t->prover);
    t->prover_box = calloc(t->parts, sizeof *t->prover_box);
    if (!sl || !t->prover || !t->prover_box) {
        free(sl);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    for (size_t k = 0; k < ns; k++) {
        sl[k].stage = (uint32_t)(k / t->parts);
        sl[k].partition = (uint32_t)(k % t->parts);
        sl[k].node = (uint32_t)(k % PX_SIM_EXECS);
    }
    for (size_t k = ns; rc == 0 && k-- > 0;)
        rc = config_of(w, t, sl, ns, &sl[k], err) || recruit_one(w, &t->m, &sl[k], err);
    px_plan_instance *ins = rc ? NULL : calloc(ns, sizeof *ins);
    if (rc == 0 && !ins)
        rc = px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t k = 0; rc == 0 && k < ns; k++) {
        ins[k] = (px_plan_instance){.stage = sl[k].stage, .partition = sl[k].partition, .config = sl[k].config,
                                    .evidence = sl[k].evidence};
        snprintf(ins[k].node, sizeof ins[k].node, "%s", w->nodes[sl[k].node].id);
        memcpy(ins[k].nonce, sl[k].nonce, sizeof ins[k].nonce);
    }
    if (rc == 0)
        rc = px_plan_sign(&t->plan, &t->m, ins, ns, &w->consumer, err) ||
             px_plan_parse(&t->parsed, t->plan.data, t->plan.len, err);
    int published = rc ? -1 : publish(w, t, err);
    if (published < 0)
        rc = -1;
    else
        t->plan_entries = (size_t)published;
    free(ins);
    t->ninstances = ns;
    for (size_t k = 0; k < ns; k++) {
        if (sl[k].stage == 0) {
            t->prover[sl[k].partition] = sl[k].l;
            memcpy(t->prover_box[sl[k].partition], sl[k].box, PX_BOX_PUBLICKEYBYTES);
        } else {
            px_lambda_free(sl[k].l); /* recruited, never run here */
        }
        px_buf_free(&sl[k].config);
        px_buf_free(&sl[k].evidence);
    }
    free(sl);
    return rc ? -1 : 0;
}

void px_sim_task_free(px_sim_task *t) {
    for (uint32_t q = 0; t->prover && q < t->parts; q++)
        px_lambda_free(t->prover[q]);
    free(t->prover);
    free(t->prover_box);
    px_manifest_free(&t->m);
    px_buf_free(&t->plan);
    px_plan_free(&t->parsed);
    memset(t, 0, sizeof *t);
}
