/* The data-prover's signature checks, on every core the worker may use.
 *
 * Verifying signatures is nearly all of a prover's time (an ECDSA P-256
 * verification is some 60 µs here, parsing a record well under one), and
 * each record's verdict depends on that record and the trust store only.
 * So the records are cut into chunks that threads take in turn from a
 * shared counter, each thread with its own verification contexts and
 * scratch, and each verdict is written to the record's own slot: nothing
 * is shared but the counter, and the output is assembled afterwards in
 * input order by the caller, identical whatever the number of threads.
 * Chunks rather than one range per thread because signed and unsigned
 * records are not spread evenly (an unsigned record costs nothing). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pod/prover_int.h"
#include "pod/verifier.h"

/* Enough chunks that threads finish together, few enough that taking one
 * costs nothing next to its signatures. */
#define CHUNKS_PER_THREAD 16
#define CHUNK_MIN 16
#define CHUNK_MAX 1024

static int key_cmp(const char *name_a, uint32_t id_a, const char *name_b, uint32_t id_b) {
    int c = strcmp(name_a, name_b);
    return c ? c : id_a < id_b ? -1 : id_a > id_b;
}

/* The index of the key a record names as "<name>+<8 hex>"; -1 if unknown. */
static long lookup(const px_prover_config *c, const px_value *src) {
    char name[PX_KEY_NAME_MAX + 1];
    if (src->len < 10 || src->len > PX_SRC_REF_MAX)
        return -1;
    size_t nlen = src->len - 9;
    if (nlen > PX_KEY_NAME_MAX || src->p[nlen] != '+')
        return -1;
    uint8_t idb[4];
    if (px_hex_decode_exact(idb, 4, (const char *)src->p + nlen + 1, 8, NULL))
        return -1;
    memcpy(name, src->p, nlen);
    name[nlen] = 0;
    uint32_t id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
    size_t lo = 0, hi = c->nsources;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int k = key_cmp(name, id, c->sources[mid].name, c->sources[mid].id);
        if (k == 0)
            return (long)mid;
        if (k < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

static px_prover_verdict check_record(const px_prover_config *c, px_source_verifier *ver, const px_schema *data,
                                      const px_value *v, px_buf *scratch, px_err *err) {
    const px_value *src = &v[data->nfields], *sig = &v[data->nfields + 1];
    if (src->len == 0 && sig->len == 0)
        return PX_PROVER_UNSIGNED;
    long k = lookup(c, src);
    if (k < 0)
        return PX_PROVER_UNKNOWN;
    px_buf_reset(scratch);
    if (px_record_encode_values(scratch, data, v, err))
        return PX_PROVER_BAD;
    uint8_t digest[PX_SHA256_BYTES];
    const void *parts[2] = {PX_RECORD_DIGEST_TAG, scratch->data};
    size_t lens[2] = {PX_RECORD_DIGEST_TAG_LEN, scratch->len};
    px_sha256_parts(digest, 2, parts, lens);
    return px_source_verifier_check(ver, (size_t)k, digest, sig->p, sig->len) == 0 ? PX_PROVER_OK : PX_PROVER_BAD;
}

typedef struct check_job {
    const px_prover_batch *b;
    uint8_t *verdicts;
    uint64_t total, chunk, nchunks;
    atomic_uint_fast64_t next; /* the next chunk nobody has taken */
} check_job;

typedef struct check_thread {
    check_job *job;
    pthread_t tid;
    int started, rc;
    px_err err;
} check_thread;

/* The input holding record g: the last one whose first record is <= g. */
static size_t input_of(const px_prover_batch *b, uint64_t g) {
    size_t lo = 0, hi = b->ninputs;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->first[mid] <= g)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int check_chunk(check_job *job, px_source_verifier *ver, px_buf *scratch, uint64_t lo, uint64_t hi,
                       px_err *err) {
    const px_prover_batch *b = job->b;
    size_t j = input_of(b, lo);
    px_records_reader r = b->inputs[j];
    px_value v[PX_RECORDS_MAX_FIELDS];
    px_err scratch_err = {0}; /* a record that cannot be encoded is a bad signature, not an error */
    for (uint64_t g = lo; g < hi; g++) {
        if (g >= b->first[j + 1]) {
            j = input_of(b, g);
            r = b->inputs[j];
        }
        r.off = b->offs[g];
        r.index = g - b->first[j];
        if (px_records_next(&r, v, NULL, err) != 1)
            return px_fail(err, PX_E_INTERNAL, "record %llu of input %zu changed between two readings",
                           (unsigned long long)r.index, j);
        job->verdicts[g] = (uint8_t)check_record(b->config, ver, &b->data, v, scratch, &scratch_err);
    }
    return 0;
}

static void *check_main(void *arg) {
    check_thread *t = arg;
    check_job *job = t->job;
    px_source_verifier ver;
    px_buf scratch = PX_BUF_INIT;
    t->rc = px_source_verifier_init(&ver, job->b->config->sources, job->b->config->nsources, &t->err);
    while (t->rc == 0) {
        uint64_t k = atomic_fetch_add(&job->next, 1);
        if (k >= job->nchunks)
            break;
        uint64_t lo = k * job->chunk, hi = lo + job->chunk < job->total ? lo + job->chunk : job->total;
        t->rc = check_chunk(job, &ver, &scratch, lo, hi, &t->err);
    }
    if (t->rc)
        atomic_store(&job->next, job->nchunks); /* the run fails anyway: others stop early */
    px_source_verifier_free(&ver);
    px_buf_free(&scratch);
    return NULL;
}

unsigned px_prover_threads(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    int n = CPU_COUNT(&set);
    return n < 1 ? 1 : n < PX_PROVER_DEFAULT_THREADS ? (unsigned)n : PX_PROVER_DEFAULT_THREADS;
}

int px_prover_check(const px_prover_batch *b, unsigned threads, uint8_t *verdicts, px_err *err) {
    if (threads < 1 || threads > PX_PROVER_MAX_THREADS)
        return px_fail(err, PX_E_INVALID, "%u threads asked, must be 1 to %d", threads,
                       PX_PROVER_MAX_THREADS);
    check_job job = {.b = b, .verdicts = verdicts, .total = b->first[b->ninputs]};
    if (job.total == 0)
        return 0;
    job.chunk = job.total / ((uint64_t)threads * CHUNKS_PER_THREAD);
    job.chunk = job.chunk < CHUNK_MIN ? CHUNK_MIN : job.chunk > CHUNK_MAX ? CHUNK_MAX : job.chunk;
    job.nchunks = (job.total + job.chunk - 1) / job.chunk;
    atomic_init(&job.next, 0);
    if (threads > job.nchunks)
        threads = (unsigned)job.nchunks;
    check_thread t[PX_PROVER_MAX_THREADS];
    memset(t, 0, sizeof t);
    /* A thread that cannot be started leaves its share to the others: the
     * verdicts do not depend on who computes them. */
    for (unsigned i = 1; i < threads; i++) {
        t[i].job = &job;
        t[i].started = pthread_create(&t[i].tid, NULL, check_main, &t[i]) == 0;
    }
    t[0].job = &job;
    check_main(&t[0]);
    for (unsigned i = 1; i < threads; i++)
        if (t[i].started)
            pthread_join(t[i].tid, NULL);
    for (unsigned i = 0; i < threads; i++)
        if (t[i].started || i == 0)
            if (t[i].rc) {
                if (err)
                    *err = t[i].err;
                return -1;
            }
    return 0;
}
