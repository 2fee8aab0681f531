/* The PODs of one task, each doing what a POD node does (src/node/podrole.c)
 * with its own key and its own databases: set up (a dataset of records a
 * source signed, a trust store, a policy with a budget), then admit the
 * plan (parse and check it: every instance's evidence and the wiring, the
 * log; record the admission; policy and budget charge in one transaction),
 * then release (export, signed release statement, sealed to its stage-0
 * instance). A POD's databases are files of its own, removed once it has
 * released: a real POD keeps them on its own disk, and 100,000 of them at
 * once would only measure this machine's memory. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/node.h"
#include "node/podside.h"
#include "sim/sim.h"

#define SIM_POLICY                                                                                                    \
    "{\"consumers\":[\"consumer-1\"],\"code\":\"any-behind-dp\",\"require_dp\":true,"                                 \
    "\"budget\":{\"epsilon\":\"10\",\"delta\":\"0\"}}"

static double thread_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One POD while it works. */
typedef struct sim_pod {
    char id[32];
    char path[4200], node_path[4200];
    px_signer key;
    px_pod *pod;
    px_admissions *adm;
} sim_pod;

/* Its records: user, amount; all but the last unsigned_records signed by
 * the bank, as CSV with px_source and px_sig. */
static int records_csv(const px_sim_world *w, const char *id, px_buf *csv, px_err *err) {
    char ref[PX_SRC_REF_MAX + 1];
    px_source_key_ref(&w->bank.pub, ref);
    if (px_buf_append_str(csv, "user,amount,px_source,px_sig\n", err))
        return -1;
    for (uint32_t j = 0; j < w->records; j++) {
        char user[48];
        snprintf(user, sizeof user, "%s-u%u", id, j % 2);
        int64_t amount = 10 * (int64_t)j + 1;
        if (px_buf_printf(csv, err, "%s,%lld,", user, (long long)amount))
            return -1;
        if (j + w->unsigned_records < w->records) {
            px_value v[2] = {{.type = PX_FIELD_TEXT, .p = (const uint8_t *)user, .len = (uint32_t)strlen(user)},
                             {.type = PX_FIELD_INT, .i = amount}};
            uint8_t d[PX_SHA256_BYTES], sig[PX_SRC_SIG_BYTES];
            if (px_source_record_digest(d, &w->schema.rec, v, err) || px_source_sign(&w->bank, d, sig, err) ||
                px_buf_printf(csv, err, "%s,", ref) || px_buf_append_b64(csv, sig, sizeof sig, err))
                return -1;
        } else if (px_buf_append_str(csv, ",", err)) {
            return -1;
        }
        if (px_buf_append_str(csv, "\n", err))
            return -1;
    }
    return 0;
}

static int pod_setup(const px_sim_world *w, sim_pod *s, uint64_t n, px_err *err) {
    uint8_t seed[PX_SIGN_SEEDBYTES];
    px_sim_pod_id(s->id, n);
    px_sim_pod_seed(w, n, seed);
    snprintf(s->path, sizeof s->path, "%s/%s.db", w->pod_dir, s->id);
    snprintf(s->node_path, sizeof s->node_path, "%s/%s.node.db", w->pod_dir, s->id);
    px_buf csv = PX_BUF_INIT;
    uint64_t added = 0;
    int rc = px_signer_from_seed(&s->key, s->id, seed, err) || px_pod_open(&s->pod, s->path, err) ||
             px_pod_dataset_create(s->pod, "transactions", &w->schema, err) ||
             px_pod_trust_add(s->pod, (const char *)w->bank_text.data, err) || records_csv(w, s->id, &csv, err) ||
             px_pod_import(s->pod, "transactions", PX_POD_CSV, csv.data, csv.len, &added, NULL, err) ||
             px_pod_policy_set(s->pod, "transactions", SIM_POLICY, strlen(SIM_POLICY), err) ||
             px_admissions_open(&s->adm, s->node_path, err);
    px_buf_free(&csv);
    if (rc == 0 && added != w->records)
        rc = px_fail(err, PX_E_INTERNAL, "%s imported %llu records of %u", s->id, (unsigned long long)added,
                     w->records);
    return rc ? -1 : 0;
}

/* What podrole.c's admit() checks, in its order, then the charge: the
 * POD reads its path through the plan (path: what the dispatcher cut). */
static int pod_admit(const px_sim_world *w, sim_pod *s, const px_buf *path, px_plan *p, px_attested **att,
                     px_err *err) {
    if (px_plan_path_parse(p, path->data, path->len, s->id, err))
        return -1;
    const px_manifest *m = &p->manifest;
    if (!px_manifest_has_pod(m, s->id))
        return px_fail(err, PX_E_DENIED, "the manifest does not ask this POD (%s)", s->id);
    px_buf b = PX_BUF_INIT;
    px_pod_policy pol;
    if (px_pod_policy_get(s->pod, "transactions", &b, err) || px_pod_policy_parse(&pol, b.data, b.len, err)) {
        px_buf_free(&b);
        return -1;
    }
    px_buf_free(&b);
    int require_dp = pol.require_dp;
    px_pod_policy_free(&pol);
    /* The builds it accepts: its owner's list and its own node's. */
    uint8_t(*builds)[PX_SHA256_BYTES] = NULL;
    size_t nb = 0;
    if (px_pod_build_list(s->pod, &builds, &nb, err))
        return -1;
    uint8_t(*all)[PX_SHA256_BYTES] = realloc(builds, (nb + 1) * sizeof *all);
    if (!all) {
        free(builds);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    memcpy(all[nb++], w->build_digest, PX_SHA256_BYTES);
    px_exec_trust trust = w->trust;
    trust.builds = (const uint8_t(*)[PX_SHA256_BYTES])all;
    trust.nbuilds = nb;
    *att = calloc(p->ninstances, sizeof **att);
    int rc = *att ? 0 : px_fail(err, PX_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = px_plan_check_log(p, &w->log_v, err) ||
             px_plan_check(p, px_exec_evidence_check, &trust, require_dp, px_now_ms(), *att, err) ||
             px_admissions_admit(s->adm, p, *att, px_now_ms(), err);
    free(all);
    if (rc)
        return -1;
    /* Policy and budget: one IMMEDIATE transaction in the POD's ledger. */
    char mid[2 * PX_SHA256_BYTES + 1], eps[PX_AMOUNT_TEXT_MAX], delta[PX_AMOUNT_TEXT_MAX];
    px_hex_encode(mid, m->id, PX_SHA256_BYTES);
    px_pod_stage_req st[PX_MANIFEST_MAX_STAGES];
    px_node_topics topics;
    px_pod_instance_req *in = calloc(p->ninstances + 1, sizeof *in);
    if (!in)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    px_node_policy_request(p, *att, st, in, &topics);
    px_pod_request req = {m->consumer_id, "transactions", st, m->nstages, in, p->ninstances};
    rc = px_node_dp_amount(m, eps, delta, err) || px_pod_admit(s->pod, mid, &req, eps, delta, err);
    free(in);
    return rc ? -1 : 0;
}

/* Release to the stage-0 instance of the partition this POD is dealt to
 * (its position in the dataset's list, modulo the partitions). */
static int pod_release(sim_pod *s, const px_plan *p, const px_attested *att, uint32_t pos, px_sim_release *out,
                       px_err *err) {
    uint32_t q = pos % p->manifest.stages[0].partitions;
    const uint8_t *key = NULL;
    for (size_t i = 0; i < p->ninstances; i++)
        if (p->instances[i].stage == 0 && p->instances[i].partition == q)
            key = att[i].box_pk;
    if (!key)
        return px_fail(err, PX_E_VERIFY, "the plan has no stage-0 partition %u", q);
    char mid[2 * PX_SHA256_BYTES + 1];
    px_hex_encode(mid, p->manifest.id, PX_SHA256_BYTES);
    px_buf stream = PX_BUF_INIT;
    out->partition = q;
    int rc = px_pod_release(s->pod, &s->key, s->id, mid, "transactions", key, &stream, &out->statement, err) ||
             px_seal(&out->sealed, stream.data, stream.len, key, err);
    px_buf_free(&stream);
    return rc ? -1 : 0;
}

static void pod_remove(sim_pod *s) {
    static const char *const tails[] = {"", "-wal", "-shm", "-journal"};
    if (s->pod)
        px_pod_close(s->pod);
    if (s->adm)
        px_admissions_close(s->adm);
    for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
        char f[4300];
        snprintf(f, sizeof f, "%s%s", s->path, tails[i]);
        unlink(f);
        snprintf(f, sizeof f, "%s%s", s->node_path, tails[i]);
        unlink(f);
    }
    px_signer_wipe(&s->key);
}

typedef struct sim_pool {
    px_sim_world *w;
    const px_sim_task *t;
    px_sim_release *out;
    pthread_mutex_t mu;
    uint32_t next;
    int failed;
    px_err err;
    double cpu_ms[PX_SIM_PHASES];
} sim_pool;

static int one_pod(sim_pool *pl, uint32_t k, double ms[PX_SIM_PHASES], px_err *err) {
    sim_pod s;
    px_plan p;
    px_attested *att = NULL;
    memset(&s, 0, sizeof s);
    memset(&p, 0, sizeof p);
    double t0 = thread_ms();
    int rc = pod_setup(pl->w, &s, pl->t->first + k, err);
    double t1 = thread_ms();
    ms[PX_SIM_SETUP] += t1 - t0;
    int parsed = 0;
    /* The dispatcher's share: cutting this POD's path from the plan. */
    px_buf path = PX_BUF_INIT;
    if (rc == 0)
        rc = px_plan_path(&path, &pl->t->parsed, s.id, err);
    double tp = thread_ms();
    ms[PX_SIM_PLAN] += tp - t1;
    if (rc == 0) {
        rc = pod_admit(pl->w, &s, &path, &p, &att, err);
        parsed = 1;
    }
    px_buf_free(&path);
    double t2 = thread_ms();
    ms[PX_SIM_ADMIT] += t2 - tp;
    if (rc == 0)
        rc = pod_release(&s, &p, att, k, &pl->out[k], err);
    ms[PX_SIM_RELEASE] += thread_ms() - t2;
    if (parsed)
        px_plan_free(&p);
    free(att);
    pod_remove(&s);
    return rc ? px_err_prefix(err, "%s: ", s.id) : 0;
}

static void *pool_main(void *arg) {
    sim_pool *pl = arg;
    double ms[PX_SIM_PHASES] = {0};
    px_err err = {0};
    for (;;) {
        pthread_mutex_lock(&pl->mu);
        uint32_t k = pl->next++;
        int stop = pl->failed || k >= pl->t->npods;
        pthread_mutex_unlock(&pl->mu);
        if (stop)
            break;
        if (one_pod(pl, k, ms, &err)) {
            pthread_mutex_lock(&pl->mu);
            if (!pl->failed)
                pl->err = err;
            pl->failed = 1;
            pthread_mutex_unlock(&pl->mu);
            break;
        }
    }
    pthread_mutex_lock(&pl->mu);
    for (int i = 0; i < PX_SIM_PHASES; i++)
        pl->cpu_ms[i] += ms[i];
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

int px_sim_pods_run(px_sim_world *w, const px_sim_task *t, unsigned threads, px_sim_release *out,
                    double cpu_ms[PX_SIM_PHASES], px_err *err) {
    sim_pool pl = {.w = w, .t = t, .out = out};
    pthread_t th[64];
    size_t started = 0;
    pthread_mutex_init(&pl.mu, NULL);
    while (started + 1 < threads && started < 64 && pthread_create(&th[started], NULL, pool_main, &pl) == 0)
        started++;
    pool_main(&pl); /* this thread is one of them */
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&pl.mu);
    for (int i = 0; i < PX_SIM_PHASES; i++)
        cpu_ms[i] += pl.cpu_ms[i];
    if (pl.failed) {
        if (err)
            *err = pl.err;
        return -1;
    }
    return 0;
}
