/* Nothing lost under concurrency: pixiud's POD and witness roles answer
 * many simultaneous requests over real HTTP, and their SQLite stores stay
 * whole and agree with what they answered.
 *
 * - Many plans admitted at once, more than the budget holds: exactly as
 *   many as fit are admitted and released, the rest refused as over the
 *   budget; the ledger, the releases and the admissions agree; the file
 *   passes its integrity check after a stop.
 * - Sixteen simultaneous cosign requests for one checkpoint: every one
 *   gets the witness's cosignature.
 * - Consumers appending and asking for cosignatures of ever newer
 *   checkpoints at the same time: a witness moving on between one's rounds
 *   is a race (followed, or reported as PX_E_STATE so a newer checkpoint is
 *   fetched), never a conflict that leaves a task without its receipt. */
#include <pthread.h>
#include <time.h>

#include "node_world.h"

#define PLANS 24
#define FIT 20 /* a budget of 10 at 0.5 per task */
#define COSIGNERS 16

static int setup(void **state) {
    static world w;
    nw_setup(&w, "10", PX_ROLE_LOG | PX_ROLE_WITNESS);
    *state = &w;
    return 0;
}

static int teardown(void **state) {
    nw_teardown(*state);
    return 0;
}

typedef struct job {
    world *w;
    pthread_barrier_t *go;
    px_buf plan, out;
    int status;
    uint8_t manifest[32];
} job;

static void *admit_one(void *arg) {
    job *j = arg;
    pthread_barrier_wait(j->go);
    j->status = nw_admit(j->w, &j->w->f.consumer, &j->plan, &j->out);
    return NULL;
}

static void test_concurrent_admissions(void **state) {
    world *w = *state;
    px_err err = {0};
    static job jobs[PLANS];
    pthread_t th[PLANS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, PLANS);
    for (int i = 0; i < PLANS; i++) {
        fx_new_manifest(&w->f, FX_STAGES_JSON);
        jobs[i] = (job){.w = w, .go = &go};
        memcpy(jobs[i].manifest, w->f.m.id, 32);
        fx_plan(&w->f, &jobs[i].plan, -1);
    }
    for (int i = 0; i < PLANS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, admit_one, &jobs[i]), 0);
    int admitted = 0, refused = 0;
    for (int i = 0; i < PLANS; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].status == 200)
            admitted++;
        else if (jobs[i].status == 403 && strstr((char *)jobs[i].out.data, "budget exhausted"))
            refused++;
        else
            fail_msg("plan %d: HTTP %d %s", i, jobs[i].status, (char *)jobs[i].out.data);
    }
    pthread_barrier_destroy(&go);
    assert_int_equal(admitted, FIT);
    assert_int_equal(refused, PLANS - FIT);
    /* Every plan was recorded as admitted (a replay is refused), the budget
     * is spent exactly, and each charge has its release. */
    for (int i = 0; i < PLANS; i++)
        assert_int_equal(px_admissions_has(w->pod.admissions, jobs[i].manifest, &err), 1);
    px_pod_budget_status st;
    px_assert_ok(px_pod_budget_status_get(w->pod.pod, "transactions", NULL, &st, &err), &err);
    assert_int_equal(st.eps_spent, 10000000000LL);
    px_node_stop(&w->pod);
    char path[96];
    snprintf(path, sizeof path, "%s/pod-0/pod.db", w->dir);
    px_pod *p;
    px_assert_ok(px_pod_open(&p, path, &err), &err); /* runs PRAGMA integrity_check */
    px_pod_charge *ch;
    px_pod_release_row *rel;
    size_t nch, nrel;
    px_assert_ok(px_pod_budget_history(p, "transactions", &ch, &nch, &err), &err);
    px_assert_ok(px_pod_release_list(p, &rel, &nrel, &err), &err);
    assert_int_equal(nch, FIT);
    assert_int_equal(nrel, FIT);
    for (size_t i = 0; i < nch; i++) {
        assert_int_equal(ch[i].state, PX_CHARGE_STARTED);
        int found = 0;
        for (size_t k = 0; k < nrel; k++)
            found += !strcmp(rel[k].info.manifest, ch[i].manifest);
        assert_int_equal(found, 1);
    }
    free(ch);
    free(rel);
    px_pod_close(p);
    nw_start_node(w, &w->pod, "pod-0", &w->f.pods[0], PX_ROLE_POD);
    for (int i = 0; i < PLANS; i++) {
        px_buf_free(&jobs[i].plan);
        px_buf_free(&jobs[i].out);
    }
}

/* ---- the witness ------------------------------------------------------------- */

typedef struct cosign_job {
    world *w;
    pthread_barrier_t *go;
    const px_buf *note;
    px_buf lines;
    px_err err;
    int rc;
} cosign_job;

static int own_consistency(void *ctx, uint64_t a, uint64_t b, px_buf *out, px_err *err) {
    return px_log_consistency(ctx, a, b, out, err);
}

/* The witness cosigns for members only: requests signed by the consumer. */
static int signed_post(void *ctx, const uint8_t *body, size_t len, int *status, px_buf *out, px_err *err) {
    world *w = ctx;
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", px_http_server_port(w->log.srv));
    return px_signed_call(&w->f.consumer, "consumer-1", "log-1", "POST", base, "/witness/add-checkpoint", body, len,
                          30000, 1 << 20, status, out, err);
}

static void *cosign_one(void *arg) {
    cosign_job *j = arg;
    uint64_t old = 0;
    pthread_barrier_wait(j->go);
    j->rc = px_witness_request_via(signed_post, j->w, (const char *)j->note->data, j->note->len, own_consistency,
                                   j->w->log.log, &old, &j->lines, &j->err);
    return NULL;
}

static void test_concurrent_witness(void **state) {
    world *w = *state;
    px_err err = {0};
    const uint8_t *e[1] = {(const uint8_t *)"an entry"};
    size_t len[1] = {8};
    uint64_t first, size;
    px_buf note = PX_BUF_INIT;
    px_assert_ok(px_log_append(w->log.log, e, len, 1, &first, NULL, &err), &err);
    px_assert_ok(px_log_checkpoint(w->log.log, &note, &size, &err), &err);
    static cosign_job jobs[COSIGNERS];
    pthread_t th[COSIGNERS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, COSIGNERS);
    for (int i = 0; i < COSIGNERS; i++) {
        jobs[i] = (cosign_job){.w = w, .go = &go, .note = &note};
        assert_int_equal(pthread_create(&th[i], NULL, cosign_one, &jobs[i]), 0);
    }
    for (int i = 0; i < COSIGNERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < COSIGNERS; i++) {
        if (jobs[i].rc)
            fail_msg("cosigner %d: %s", i, jobs[i].err.msg);
        assert_true(jobs[i].lines.len > 0);
        px_buf_free(&jobs[i].lines);
    }
    px_buf_free(&note);
}

#define RACERS 8
#define RACES 6

typedef struct race_job {
    world *w;
    pthread_barrier_t *go;
    int ok, refetched;
    px_err err;
} race_job;

static void *race_one(void *arg) {
    race_job *j = arg;
    pthread_barrier_wait(j->go);
    for (int k = 0; k < RACES; k++) {
        const uint8_t *e[1] = {(const uint8_t *)"another entry"};
        size_t len[1] = {13};
        uint64_t first, size;
        px_err err = {0};
        if (px_log_append(j->w->log.log, e, len, 1, &first, NULL, &err)) {
            j->err = err;
            return NULL;
        }
        /* As the dispatcher does: again while a witness moved on, for up
         * to 30 s, backing off a millisecond more each time. */
        int64_t until = px_now_ms() + 30000;
        for (int round = 0; px_now_ms() < until; round++) {
            if (round > 0) {
                struct timespec ts = {0, (long)(round < 50 ? round : 50) * 1000000L};
                nanosleep(&ts, NULL);
            }
            px_buf note = PX_BUF_INIT, lines = PX_BUF_INIT;
            uint64_t old = 0;
            int rc = px_log_checkpoint(j->w->log.log, &note, &size, &err) ||
                     px_witness_request_via(signed_post, j->w, (const char *)note.data, note.len, own_consistency,
                                            j->w->log.log, &old, &lines, &err);
            px_buf_free(&note);
            px_buf_free(&lines);
            if (rc == 0) {
                j->ok++;
                break;
            }
            if (err.code != PX_E_STATE) {
                j->err = err;
                return NULL;
            }
            j->refetched++;
        }
    }
    return NULL;
}

static void test_witness_race(void **state) {
    world *w = *state;
    static race_job jobs[RACERS];
    pthread_t th[RACERS];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        jobs[i] = (race_job){.w = w, .go = &go};
        assert_int_equal(pthread_create(&th[i], NULL, race_one, &jobs[i]), 0);
    }
    int refetched = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].ok != RACES)
            fail_msg("racer %d: %d of %d cosigned: %s", i, jobs[i].ok, RACES, jobs[i].err.msg);
        refetched += jobs[i].refetched;
    }
    print_message("%d cosignatures, %d newer checkpoints fetched after a witness moved on\n", RACERS * RACES,
                  refetched);
    pthread_barrier_destroy(&go);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_concurrent_admissions),
                                       cmocka_unit_test(test_concurrent_witness), cmocka_unit_test(test_witness_race)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
