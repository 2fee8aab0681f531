/* The simulation's run: task after task, the consumer plans, the task's
 * PODs admit and release, their release statements go into the log, and
 * the task's prover instances take their steps (each statement of a step
 * shown to the instance from the log before it goes on). Each phase is
 * timed in CPU time, so a machine shared with other work shows what the
 * phase costs rather than how long it waited for a core. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/sim.h"

/* Release statements go to the log in bundles of this many, as a relay of
 * many PODs posts them (POST /add-bundle). */
#define SIM_BUNDLE 1000

static const char *const phase_names[PX_SIM_PHASES] = {"setup", "plan", "admission", "release", "log", "proving"};

const char *px_sim_phase_name(px_sim_phase p) {
    return p < PX_SIM_PHASES ? phase_names[p] : "?";
}

static double process_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static unsigned cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    return 1;
}

static int log_releases(px_sim_world *w, const px_sim_release *rel, uint32_t n, px_err *err) {
    const uint8_t *p[SIM_BUNDLE];
    size_t lens[SIM_BUNDLE];
    for (uint32_t i = 0; i < n; i += SIM_BUNDLE) {
        uint32_t k = n - i < SIM_BUNDLE ? n - i : SIM_BUNDLE;
        for (uint32_t j = 0; j < k; j++)
            p[j] = rel[i + j].statement.data, lens[j] = rel[i + j].statement.len;
        uint64_t first;
        if (px_log_append(w->log, p, lens, k, &first, NULL, err))
            return -1;
    }
    return 0;
}

/* The prover steps of one task, a partition at a time per thread. */
typedef struct sim_steps {
    px_sim_world *w;
    const px_sim_task *t;
    const px_sim_release *rel;
    pthread_mutex_t mu;
    uint32_t next;
    int failed;
    px_err err;
    uint64_t inputs, records, authenticated, alleged, dropped;
} sim_steps;

static int one_step(sim_steps *s, uint32_t q, px_err *err) {
    const px_sim_task *t = s->t;
    px_step_input *in = calloc(t->npods / t->parts + 1, sizeof *in);
    size_t n = 0;
    if (!in)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (uint32_t k = q; k < t->npods; k += t->parts) {
        const px_sim_release *r = &s->rel[k];
        in[n++] = (px_step_input){r->sealed.data, r->sealed.len, r->statement.data, r->statement.len, NULL, 0};
    }
    px_lambda_log log = {px_lambda_log_local, s->w->log};
    px_step_result res;
    memset(&res, 0, sizeof res);
    int rc = px_lambda_step(t->prover[q], NULL, 0, in, n, &log, &res, err);
    free(in);
    px_entry e;
    if (rc == 0 && !res.ok)
        rc = px_fail(err, PX_E_VERIFY, "prover partition %u: %s", q, res.status);
    if (rc == 0 && res.noutputs != 1)
        rc = px_fail(err, PX_E_VERIFY, "prover partition %u sealed %zu outputs", q, res.noutputs);
    /* The counts are read from the proof only once it verifies under the
     * instance's attested key, as its successor would read them. */
    uint8_t sign_pk[PX_SIGN_PUBLICKEYBYTES], box_pk[PX_BOX_PUBLICKEYBYTES], meas[PX_TEE_MEASUREMENT_BYTES];
    px_exec_proof proof;
    px_lambda_public(t->prover[q], sign_pk, box_pk, meas);
    if (rc == 0 && px_lambda_proof_verify(&proof, res.proof.data, res.proof.len, sign_pk, err))
        rc = px_err_prefix(err, "prover partition %u: ", q);
    if (rc == 0 && (rc = px_entry_parse(&e, res.proof_index, res.proof.data, res.proof.len, err)) == 0) {
        if (e.kind != PX_ENTRY_EXEC || e.ninputs != n)
            rc = px_fail(err, PX_E_VERIFY, "prover partition %u: its proof names %zu inputs of %zu", q, e.ninputs, n);
        pthread_mutex_lock(&s->mu);
        s->inputs += e.ninputs;
        s->records += e.records;
        s->authenticated += e.authenticated;
        s->alleged += e.alleged;
        s->dropped += e.dropped;
        pthread_mutex_unlock(&s->mu);
        px_entry_free(&e);
    }
    px_step_result_free(&res);
    return rc ? -1 : 0;
}

static void *steps_main(void *arg) {
    sim_steps *s = arg;
    px_err err = {0};
    for (;;) {
        pthread_mutex_lock(&s->mu);
        uint32_t q = s->next++;
        int stop = s->failed || q >= s->t->parts;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            return NULL;
        if (one_step(s, q, &err)) {
            pthread_mutex_lock(&s->mu);
            if (!s->failed)
                s->err = err;
            s->failed = 1;
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
    }
}

static int prove(px_sim_world *w, const px_sim_task *t, const px_sim_release *rel, unsigned threads,
                 px_sim_result *r, px_err *err) {
    sim_steps s = {.w = w, .t = t, .rel = rel};
    pthread_t th[64];
    size_t started = 0;
    pthread_mutex_init(&s.mu, NULL);
    while (started + 1 < threads && started + 1 < t->parts && started < 64 &&
           pthread_create(&th[started], NULL, steps_main, &s) == 0)
        started++;
    steps_main(&s);
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&s.mu);
    if (s.failed) {
        if (err)
            *err = s.err;
        return -1;
    }
    r->prover_steps += t->parts;
    r->inputs += s.inputs;
    r->records += s.records;
    r->authenticated += s.authenticated;
    r->alleged += s.alleged;
    r->dropped += s.dropped;
    r->appended += 2 * (uint64_t)t->parts; /* accepted input, proof */
    return 0;
}

static int one_task(px_sim_world *w, const px_sim_opts *o, uint64_t first, uint32_t n, unsigned threads,
                    px_sim_result *r, px_err *err) {
    px_sim_task t;
    double c0 = process_ms();
    int rc = px_sim_task_plan(w, &t, first, n, err);
    r->cpu_ms[PX_SIM_PLAN] += process_ms() - c0;
    if (rc) {
        px_sim_task_free(&t);
        return -1;
    }
    r->tasks++;
    r->instances += t.ninstances;
    r->appended += t.plan_entries;
    if (t.plan.len > r->plan_bytes_max)
        r->plan_bytes_max = t.plan.len;
    px_sim_release *rel = calloc(n, sizeof *rel);
    if (!rel) {
        px_sim_task_free(&t);
        return px_fail(err, PX_E_NOMEM, "out of memory");
    }
    uint64_t t0 = px_mono_ns();
    rc = px_sim_pods_run(w, &t, threads, rel, r->cpu_ms, err);
    r->pods_wall_ms += (double)(px_mono_ns() - t0) / 1e6;
    if (rc == 0) {
        r->admitted += n;
        r->released += n;
        c0 = process_ms();
        rc = log_releases(w, rel, n, err);
        r->cpu_ms[PX_SIM_LOG] += process_ms() - c0;
    }
    if (rc == 0) {
        r->appended += n;
        c0 = process_ms();
        rc = prove(w, &t, rel, threads, r, err);
        r->cpu_ms[PX_SIM_PROVE] += process_ms() - c0;
    }
    if (rc == 0 && o->progress)
        fprintf(o->progress, "sim: task %llu: %u PODs, %u prover partitions, plan %zu bytes\n",
                (unsigned long long)r->tasks, n, t.parts, t.plan.len);
    for (uint32_t i = 0; i < n; i++) {
        px_buf_free(&rel[i].statement);
        px_buf_free(&rel[i].sealed);
    }
    free(rel);
    px_sim_task_free(&t);
    return rc ? -1 : 0;
}

/* What every run must come to: each POD admitted and released once, each
 * record proven with the exact counts, the log holding what was appended. */
static int check(const px_sim_opts *o, const px_sim_result *r, uint32_t records, uint32_t unsig, px_err *err) {
    uint64_t n = o->pods;
    if (r->admitted != n || r->released != n || r->inputs != n)
        return px_fail(err, PX_E_VERIFY, "%llu PODs: %llu admitted, %llu released, %llu proven",
                       (unsigned long long)n, (unsigned long long)r->admitted, (unsigned long long)r->released,
                       (unsigned long long)r->inputs);
    if (r->records != n * records || r->authenticated != n * (records - unsig) || r->alleged != n * unsig ||
        r->dropped != 0)
        return px_fail(err, PX_E_VERIFY, "proven %llu records: %llu authenticated, %llu alleged, %llu dropped",
                       (unsigned long long)r->records, (unsigned long long)r->authenticated,
                       (unsigned long long)r->alleged, (unsigned long long)r->dropped);
    if (r->log_size != r->appended)
        return px_fail(err, PX_E_VERIFY, "the log holds %llu entries, %llu were appended",
                       (unsigned long long)r->log_size, (unsigned long long)r->appended);
    return 0;
}

static void remove_dir(const char *dir) {
    static const char *const files[] = {"log.db", "log.db-wal", "log.db-shm", "log.db-journal"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char f[4200];
        snprintf(f, sizeof f, "%s/%s", dir, files[i]);
        unlink(f);
    }
    rmdir(dir);
}

int px_sim_run(const px_sim_opts *o, px_sim_result *r, px_err *err) {
    memset(r, 0, sizeof *r);
    uint32_t per_task = o->per_task ? o->per_task : PX_SIM_PER_TASK;
    uint32_t records = o->records ? o->records : 5;
    if (o->pods == 0 || per_task > PX_MANIFEST_MAX_PODS || o->unsigned_records >= records)
        return px_fail(err, PX_E_INVALID, "a simulation needs PODs, at most %d a task, and a signed record each",
                       PX_MANIFEST_MAX_PODS);
    unsigned threads = o->threads ? o->threads : cpus();
    r->threads = threads;
    const char *tmp = o->dir ? o->dir : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char log_dir[4096], pod_dir[4096];
    snprintf(log_dir, sizeof log_dir, "%s/px-sim-XXXXXX", tmp);
    /* A POD's commits are fsynced on its own disk, in parallel with every
     * other POD's; here they would queue on one disk, so the PODs' files
     * are on tmpfs when there is one. The log, one machine in a
     * deployment too, is on the disk. */
    snprintf(pod_dir, sizeof pod_dir, "%s/px-sim-pods-XXXXXX",
             o->pod_dir ? o->pod_dir : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : tmp);
    if (!mkdtemp(log_dir))
        return px_fail(err, PX_E_IO, "cannot make a directory under %s", tmp);
    if (!mkdtemp(pod_dir)) {
        rmdir(log_dir);
        return px_fail(err, PX_E_IO, "cannot make a directory for the PODs");
    }
    px_sim_world w;
    uint64_t t0 = px_mono_ns();
    double c0 = process_ms();
    int rc = px_sim_world_init(&w, log_dir, pod_dir, records, o->unsigned_records, err);
    r->cpu_ms[PX_SIM_PLAN] += process_ms() - c0;
    for (uint64_t first = 0; rc == 0 && first < o->pods; first += per_task) {
        uint32_t n = o->pods - first < per_task ? (uint32_t)(o->pods - first) : per_task;
        rc = one_task(&w, o, first, n, threads, r, err);
    }
    px_buf note = PX_BUF_INIT;
    if (rc == 0)
        rc = px_log_checkpoint(w.log, &note, &r->log_size, err);
    px_buf_free(&note);
    px_sim_world_free(&w);
    r->wall_ms = (double)(px_mono_ns() - t0) / 1e6;
    remove_dir(log_dir);
    rmdir(pod_dir);
    if (rc == 0)
        rc = check(o, r, records, o->unsigned_records, err);
    return rc;
}
