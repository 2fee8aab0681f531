/* The log service: a sequencer that batches concurrent appends into one
 * durable commit and one new signed checkpoint, and readers for proofs,
 * tiles, entries and the lookup index.
 *
 * Appenders hash their entries and find their index keys on their own
 * threads, queue them and sleep; the committer thread takes
 * everything queued (up to max_batch entries), hashes it into the right
 * edge of the tree, signs the checkpoint of the new size and commits the
 * lot in one store transaction. Only then are the appenders woken and the
 * checkpoint published, so an acknowledged entry is durable and every
 * published checkpoint describes durable data.
 *
 * Group commit: while one commit is in flight the next batch gathers in
 * the queue, so under load a batch holds everyone who arrived during the
 * previous fsync. Each appender sleeps on its own condition and is woken
 * only when its own batch is durable: a commit never wakes the appenders
 * still queued behind it (with many single-entry appenders, a broadcast
 * per commit woke each of them many times for nothing, on a machine whose
 * CPU is the limit).
 *
 * When witnesses are configured, a second thread sends each newly
 * published checkpoint to them (C2SP tlog-witness) and attaches the
 * cosignatures that check out to the checkpoint the log serves. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log/edge.h"
#include "log/store.h"

#define MAX_BATCH_DEFAULT 20000
/* The longest the committer holds a batch open for appenders still on
 * their way back (see gather()). */
#define GATHER_MAX_NS 2000000u

/* Index keys found in a request's entries; index is relative to the
 * request's first entry until the committer places it. */
typedef struct key_acc {
    px_log_key_row *rows;
    size_t n, cap;
    uint64_t index;
} key_acc;

typedef struct append_req {
    const uint8_t *const *entries;
    const size_t *lens;
    size_t n;
    /* Worked out by the appender before it queues (see prepare()). */
    uint8_t (*leaves)[PX_LOG_HASH_BYTES];
    uint8_t one_leaf[1][PX_LOG_HASH_BYTES]; /* leaves of a single-entry request */
    key_acc keys;
    uint64_t first;
    int done, rc;
    pthread_cond_t woken; /* signalled once this request's batch is durable */
    px_err err;
    px_buf *cp; /* wants the covering checkpoint */
    /* Set for px_log_append_async: nobody waits on woken; the committer
     * calls this once the batch is durable (or failed), then frees r. */
    px_log_done_fn on_done;
    void *on_done_ctx;
    struct append_req *next;
} append_req;

struct px_log {
    px_log_store *store;
    px_signer key;
    char origin[PX_LOG_ORIGIN_MAX + 1];
    size_t max_entry, max_batch;
    px_log_witness *witnesses;
    uint64_t *witness_size; /* each witness's size as last seen */
    size_t nwitnesses;

    pthread_mutex_t mu;
    pthread_cond_t work, published; /* work: CLOCK_MONOTONIC, for gather() */
    append_req *head, *tail; /* queued appends */
    size_t queued;            /* entries in them */
    size_t gather_target;     /* entries expected in the next batch (see gather()) */
    size_t wake_at;           /* queued entries worth waking the committer for */
    uint64_t last_commit_ns;  /* how long the previous commit took */
    int stopping;
    uint64_t size;  /* size of the latest published checkpoint */
    px_buf note;    /* the latest published checkpoint */
    px_buf cosigs;  /* cosignature lines collected for it */
    uint64_t cosigs_size; /* the size they cosign */
    pthread_t committer, witnessing;
    int witnessing_started;

    /* committer-only state */
    px_log_edge edge;
    px_log_tile_list tiles;
};

/* ---- committing ---------------------------------------------------------- */

static int key_add(void *ctx, px_log_key_kind kind, const uint8_t digest[PX_SHA256_BYTES], px_err *err) {
    key_acc *a = ctx;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        px_log_key_row *r = realloc(a->rows, cap * sizeof *r);
        if (!r)
            return px_fail(err, PX_E_NOMEM, "out of memory");
        a->rows = r;
        a->cap = cap;
    }
    px_log_key_row *r = &a->rows[a->n++];
    r->kind = kind;
    memcpy(r->digest, digest, PX_SHA256_BYTES);
    r->index = a->index;
    return 0;
}

static int sign_checkpoint(px_log *log, const px_log_edge *e, px_buf *out, px_err *err) {
    px_checkpoint cp = {.size = e->size};
    memcpy(cp.origin, log->origin, sizeof cp.origin);
    if (px_log_edge_root(e, cp.root, err))
        return -1;
    return px_checkpoint_sign(&cp, &log->key, out, err);
}

/* Commit the requests in batch (a list of total n entries). On success the
 * edge advances and *note holds the new checkpoint. */
static int commit_batch(px_log *log, append_req *batch, size_t n, px_buf *note, px_err *err) {
    const uint8_t **entries = malloc((n ? n : 1) * sizeof *entries);
    size_t *lens = malloc((n ? n : 1) * sizeof *lens);
    key_acc keys = {0};
    px_log_edge next = log->edge;
    int rc = -1;
    px_log_tile_list_reset(&log->tiles);
    for (append_req *r = batch; r; r = r->next)
        keys.cap += r->keys.n;
    keys.rows = malloc((keys.cap ? keys.cap : 1) * sizeof *keys.rows);
    if (!entries || !lens || !keys.rows) {
        px_fail(err, PX_E_NOMEM, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (append_req *r = batch; r; r = r->next) {
        r->first = next.size;
        for (size_t i = 0; i < r->n; i++, k++) {
            entries[k] = r->entries[i];
            lens[k] = r->lens[i];
            if (px_log_edge_append(&next, r->leaves[i], &log->tiles, err))
                goto out;
        }
        for (size_t i = 0; i < r->keys.n; i++) {
            keys.rows[keys.n] = r->keys.rows[i];
            keys.rows[keys.n++].index += r->first;
        }
    }
    if (px_log_edge_flush(&next, &log->tiles, err) || sign_checkpoint(log, &next, note, err))
        goto out;
    px_log_tile_list_finish(&log->tiles);
    px_log_commit c = {
        .first = log->edge.size, .n = n, .entries = entries, .lens = lens,
        .tiles = log->tiles.w, .ntiles = log->tiles.n, .keys = keys.rows, .nkeys = keys.n,
        .size = next.size, .checkpoint = (const char *)note->data, .checkpoint_len = note->len,
    };
    if (log->store->ops->commit(log->store, &c, err))
        goto out;
    log->edge = next;
    rc = 0;
out:
    free(entries);
    free(lens);
    free(keys.rows);
    return rc;
}

static void prepared_free(struct append_req *r);

/* Take queued requests totalling at most max_batch entries (at least one
 * request). Called with mu held. */
static append_req *take_batch(px_log *log, size_t *n) {
    append_req *first = log->head, *last = first;
    size_t total = first->n;
    while (last->next && total + last->next->n <= log->max_batch) {
        last = last->next;
        total += last->n;
    }
    log->head = last->next;
    if (!log->head)
        log->tail = NULL;
    last->next = NULL;
    log->queued -= total;
    *n = total;
    return first;
}

/* Adaptive gathering window. Each appender has at most one append in
 * flight, so the appenders active right now are those the last commit
 * acknowledged (on their way back with their next entry) plus those that
 * queued while it ran: gather_target. When fewer entries than that are
 * queued, wait a little for the rest, at most one commit's duration and
 * GATHER_MAX_NS. Without the wait, appenders split into two cohorts that
 * take turns, one committing while the other queues, and each commit
 * carries half of them for ever; with it, batches grow to everyone who is
 * appending, which is what amortises the commit. Waiting pays when a
 * commit takes longer than an appender's round trip, and costs at most the
 * window when the expected appenders do not come (the target then drops
 * to what did come). A lone appender (target 1) never waits. Called with
 * mu held. */
static void gather(px_log *log) {
    size_t target = log->gather_target < log->max_batch ? log->gather_target : log->max_batch;
    if (target <= 1 || log->queued >= target)
        return;
    uint64_t wait = log->last_commit_ns < GATHER_MAX_NS ? log->last_commit_ns : GATHER_MAX_NS;
    uint64_t deadline = px_mono_ns() + wait;
    struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000u), .tv_nsec = (long)(deadline % 1000000000u)};
    log->wake_at = target;
    while (!log->stopping && log->queued < target && px_mono_ns() < deadline)
        pthread_cond_timedwait(&log->work, &log->mu, &ts);
    log->wake_at = SIZE_MAX;
}

/* After a failed commit the store's outcome may be unknown (a lost
 * connection during COMMIT): resynchronise the edge from what is stored. */
static void resync(px_log *log) {
    px_buf note = PX_BUF_INIT;
    uint64_t size = 0;
    px_err err = {0};
    if (log->store->ops->latest(log->store, &size, &note, &err) == 0 &&
        px_log_edge_load(&log->edge, log->store, size, &err) == 0) {
        pthread_mutex_lock(&log->mu);
        log->size = size;
        px_buf_reset(&log->note);
        px_buf_append(&log->note, note.data, note.len, NULL);
        pthread_mutex_unlock(&log->mu);
    }
    px_buf_free(&note);
}

static void *committer(void *arg) {
    px_log *log = arg;
    px_buf note = PX_BUF_INIT;
    pthread_setname_np(pthread_self(), "px-log-commit"); /* for top -H and perf */
    pthread_mutex_lock(&log->mu);
    for (;;) {
        while (!log->head && !log->stopping) {
            log->wake_at = 1;
            pthread_cond_wait(&log->work, &log->mu);
        }
        log->wake_at = SIZE_MAX;
        if (!log->head)
            break;
        gather(log);
        size_t n;
        append_req *batch = take_batch(log, &n);
        pthread_mutex_unlock(&log->mu);
        px_err err = {0};
        px_buf_reset(&note);
        uint64_t t0 = px_mono_ns();
        int rc = commit_batch(log, batch, n, &note, &err);
        if (rc)
            resync(log);
        uint64_t took = px_mono_ns() - t0;
        pthread_mutex_lock(&log->mu);
        log->gather_target = n + log->queued;
        log->last_commit_ns = took;
        if (!rc) {
            log->size = log->edge.size;
            px_buf_reset(&log->note);
            if (px_buf_append(&log->note, note.data, note.len, &err))
                rc = -1;
            pthread_cond_broadcast(&log->published);
        }
        append_req *later = NULL; /* asynchronous requests, answered after mu is released */
        for (append_req *r = batch, *next; r; r = next) {
            next = r->next;
            r->rc = rc;
            r->err = err;
            if (r->on_done) {
                r->next = later;
                later = r;
                continue;
            }
            if (!rc && r->cp && px_buf_append(r->cp, note.data, note.len, &r->err))
                r->rc = -1;
            r->done = 1;
            /* Still under mu: the appender cannot return (and free r) yet. */
            pthread_cond_signal(&r->woken);
        }
        if (later) {
            /* Their callbacks answer HTTP requests: outside mu, so appenders
             * keep queueing meanwhile. */
            pthread_mutex_unlock(&log->mu);
            for (append_req *r = later, *next; r; r = next) {
                next = r->next;
                r->on_done(r->on_done_ctx, r->rc, r->first, &note, r->rc ? &r->err : NULL);
                prepared_free(r);
                free(r);
            }
            pthread_mutex_lock(&log->mu);
        }
    }
    pthread_mutex_unlock(&log->mu);
    px_buf_free(&note);
    return NULL;
}

/* ---- witnessing ------------------------------------------------------------- */

static int own_proof(void *ctx, uint64_t size1, uint64_t size2, px_buf *out, px_err *err) {
    return px_log_consistency(ctx, size1, size2, out, err);
}

/* Ask one witness to cosign note; append its lines to out only if they
 * hold a valid cosignature by the configured key. */
static void witness_one(px_log *log, size_t i, const px_buf *note, px_buf *out) {
    px_buf lines = PX_BUF_INIT, joined = PX_BUF_INIT;
    px_note n = {0};
    px_err err = {0};
    if (px_witness_request(log->witnesses[i].url, (const char *)note->data, note->len, own_proof, log,
                           &log->witness_size[i], &lines, &err) == 0 &&
        px_buf_append(&joined, note->data, note->len, NULL) == 0 &&
        px_buf_append(&joined, lines.data, lines.len, NULL) == 0 &&
        px_note_parse(&n, (const char *)joined.data, joined.len, NULL) == 0 &&
        px_cosig_verify(&n, &log->witnesses[i].key, NULL, NULL) == 0)
        px_cosig_lines_append(&n, &log->witnesses[i].key, out);
    px_note_free(&n);
    px_buf_free(&lines);
    px_buf_free(&joined);
}

static void *witnessing(void *arg) {
    px_log *log = arg;
    px_buf note = PX_BUF_INIT, lines = PX_BUF_INIT;
    uint64_t done = UINT64_MAX;
    pthread_mutex_lock(&log->mu);
    for (;;) {
        while (!log->stopping && log->size == done)
            pthread_cond_wait(&log->published, &log->mu);
        if (log->stopping)
            break;
        uint64_t size = log->size;
        px_buf_reset(&note);
        px_buf_append(&note, log->note.data, log->note.len, NULL);
        pthread_mutex_unlock(&log->mu);
        px_buf_reset(&lines);
        for (size_t i = 0; i < log->nwitnesses; i++)
            witness_one(log, i, &note, &lines);
        pthread_mutex_lock(&log->mu);
        if (log->size == size) {
            px_buf_reset(&log->cosigs);
            px_buf_append(&log->cosigs, lines.data, lines.len, NULL);
            log->cosigs_size = size;
        }
        done = size;
    }
    pthread_mutex_unlock(&log->mu);
    px_buf_free(&note);
    px_buf_free(&lines);
    return NULL;
}

/* The per-entry work that needs no lock, done on the appender's own thread
 * before it queues: leaf hashes, and index keys (a DSSE and statement
 * parse per entry). The committer, which is serial, is left with the tree
 * edge, the signature and the store. */
static int prepare(append_req *r, px_err *err) {
    r->leaves = r->n == 1 ? r->one_leaf : malloc(r->n * sizeof *r->leaves);
    if (!r->leaves)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    for (size_t i = 0; i < r->n; i++) {
        px_log_leaf_hash(r->leaves[i], r->entries[i], r->lens[i]);
        r->keys.index = i;
        if (px_log_entry_keys(r->entries[i], r->lens[i], key_add, &r->keys, err))
            return -1;
    }
    return 0;
}

static void prepared_free(struct append_req *r) {
    if (r->leaves != r->one_leaf)
        free(r->leaves);
    free(r->keys.rows);
}

static int check_entries(px_log *log, const size_t *lens, size_t n, px_err *err) {
    if (n == 0)
        return px_fail(err, PX_E_INVALID, "log: nothing to append");
    if (n > log->max_batch)
        return px_fail(err, PX_E_LIMIT, "log: %zu entries in one append, the limit is %zu", n, log->max_batch);
    for (size_t i = 0; i < n; i++) {
        if (lens[i] == 0)
            return px_fail(err, PX_E_INVALID, "log: entry %zu is empty", i);
        if (lens[i] > log->max_entry)
            return px_fail(err, PX_E_LIMIT, "log: entry %zu has %zu bytes, the limit is %zu bytes", i,
                           lens[i], log->max_entry);
    }
    return 0;
}

/* Queue a prepared request. Called with mu held and not stopping. */
static void enqueue(px_log *log, append_req *r) {
    if (log->tail)
        log->tail->next = r;
    else
        log->head = r;
    log->tail = r;
    log->queued += r->n;
    /* Only when the committer waits for this much: while it commits, or
     * gathers towards a larger target, a wake-up would be for nothing. */
    if (log->queued >= log->wake_at)
        pthread_cond_signal(&log->work);
}

int px_log_append(px_log *log, const uint8_t *const *entries, const size_t *lens, size_t n,
                  uint64_t *first, px_buf *cp, px_err *err) {
    if (check_entries(log, lens, n, err))
        return -1;
    append_req r = {.entries = entries, .lens = lens, .n = n, .cp = cp};
    if (prepare(&r, err)) {
        prepared_free(&r);
        return -1;
    }
    pthread_mutex_lock(&log->mu);
    if (log->stopping) {
        pthread_mutex_unlock(&log->mu);
        prepared_free(&r);
        return px_fail(err, PX_E_UNAVAILABLE, "log: shutting down");
    }
    pthread_cond_init(&r.woken, NULL);
    enqueue(log, &r);
    while (!r.done)
        pthread_cond_wait(&r.woken, &log->mu);
    pthread_mutex_unlock(&log->mu);
    pthread_cond_destroy(&r.woken);
    prepared_free(&r);
    if (r.rc) {
        if (err)
            *err = r.err;
        return -1;
    }
    *first = r.first;
    return 0;
}

int px_log_append_async(px_log *log, const uint8_t *const *entries, const size_t *lens, size_t n,
                        px_log_done_fn done, void *ctx, px_err *err) {
    if (!done)
        return px_fail(err, PX_E_INVALID, "log: asynchronous append without a callback");
    if (check_entries(log, lens, n, err))
        return -1;
    append_req *r = calloc(1, sizeof *r);
    if (!r)
        return px_fail(err, PX_E_NOMEM, "log: out of memory for an append");
    *r = (append_req){.entries = entries, .lens = lens, .n = n, .on_done = done, .on_done_ctx = ctx};
    if (prepare(r, err))
        goto fail;
    pthread_mutex_lock(&log->mu);
    if (log->stopping) {
        pthread_mutex_unlock(&log->mu);
        px_fail(err, PX_E_UNAVAILABLE, "log: shutting down");
        goto fail;
    }
    enqueue(log, r);
    pthread_mutex_unlock(&log->mu);
    return 0;
fail:
    prepared_free(r);
    free(r);
    return -1;
}

/* ---- opening and closing --------------------------------------------------- */

static int load_or_init(px_log *log, px_err *err) {
    uint64_t size = 0;
    if (log->store->ops->latest(log->store, &size, &log->note, err) ||
        px_log_edge_load(&log->edge, log->store, size, err))
        return -1;
    if (log->note.len) {
        /* The stored checkpoint must be ours and match the stored tiles. */
        px_verifier v;
        px_checkpoint cp;
        uint8_t root[PX_LOG_HASH_BYTES];
        px_signer_verifier(&log->key, &v);
        if (px_checkpoint_open(&cp, (const char *)log->note.data, log->note.len, &v, log->origin, err))
            return px_err_prefix(err, "stored checkpoint: ");
        px_checkpoint_free(&cp);
        if (px_log_edge_root(&log->edge, root, err))
            return -1;
        if (cp.size != size || !px_ct_equal(root, cp.root, PX_LOG_HASH_BYTES))
            return px_fail(err, PX_E_STATE, "log store: stored tiles do not match the stored checkpoint");
        log->size = size;
        return 0;
    }
    /* A new log publishes the checkpoint of the empty tree. */
    return commit_batch(log, NULL, 0, &log->note, err);
}

int px_log_open(px_log **out, const px_log_opts *opts, px_err *err) {
    if (!opts || !opts->key)
        return px_fail(err, PX_E_INVALID, "log: no signing key");
    const char *origin = opts->origin ? opts->origin : opts->key->name;
    size_t olen = strlen(origin);
    int bad = olen == 0 || olen > PX_LOG_ORIGIN_MAX || !px_utf8_valid((const uint8_t *)origin, olen);
    for (size_t i = 0; i < olen && !bad; i++)
        bad = (uint8_t)origin[i] < 0x20;
    if (bad)
        return px_fail(err, PX_E_INVALID, "log: origin must be 1..%d bytes of UTF-8 without control characters",
                       PX_LOG_ORIGIN_MAX);
    if (opts->max_entry > PX_LOG_ENTRY_MAX)
        return px_fail(err, PX_E_INVALID, "log: entry limit %zu is above %d (tile bundles use 16-bit lengths)",
                       opts->max_entry, PX_LOG_ENTRY_MAX);
    px_log *log = calloc(1, sizeof *log);
    if (!log)
        return px_fail(err, PX_E_NOMEM, "out of memory");
    log->key = *opts->key;
    snprintf(log->origin, sizeof log->origin, "%s", origin);
    log->max_entry = opts->max_entry ? opts->max_entry : PX_LOG_ENTRY_MAX_DEFAULT;
    log->max_batch = opts->max_batch ? opts->max_batch : MAX_BATCH_DEFAULT;
    pthread_mutex_init(&log->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&log->work, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&log->published, NULL);
    if (opts->nwitnesses > PX_LOG_WITNESSES_MAX) {
        px_fail(err, PX_E_LIMIT, "log: more than %d witnesses", PX_LOG_WITNESSES_MAX);
        goto fail;
    }
    if (opts->nwitnesses) {
        log->witnesses = calloc(opts->nwitnesses, sizeof *log->witnesses);
        log->witness_size = calloc(opts->nwitnesses, sizeof *log->witness_size);
        if (!log->witnesses || !log->witness_size) {
            px_fail(err, PX_E_NOMEM, "out of memory");
            goto fail;
        }
        memcpy(log->witnesses, opts->witnesses, opts->nwitnesses * sizeof *log->witnesses);
        log->nwitnesses = opts->nwitnesses;
    }
    if (px_log_store_open(&log->store, opts->store, err) || load_or_init(log, err))
        goto fail;
    if (pthread_create(&log->committer, NULL, committer, log)) {
        px_fail(err, PX_E_INTERNAL, "log: cannot start the committer thread");
        goto fail;
    }
    if (log->nwitnesses) {
        if (pthread_create(&log->witnessing, NULL, witnessing, log)) {
            px_log_close(log);
            return px_fail(err, PX_E_INTERNAL, "log: cannot start the witnessing thread");
        }
        log->witnessing_started = 1;
    }
    *out = log;
    return 0;
fail:
    free(log->witnesses);
    free(log->witness_size);
    if (log->store)
        log->store->ops->close(log->store);
    px_buf_free(&log->note);
    px_log_tile_list_free(&log->tiles);
    px_signer_wipe(&log->key);
    free(log);
    return -1;
}

void px_log_close(px_log *log) {
    if (!log)
        return;
    pthread_mutex_lock(&log->mu);
    log->stopping = 1;
    pthread_cond_broadcast(&log->work);
    pthread_cond_broadcast(&log->published);
    pthread_mutex_unlock(&log->mu);
    pthread_join(log->committer, NULL);
    if (log->witnessing_started)
        pthread_join(log->witnessing, NULL);
    log->store->ops->close(log->store);
    free(log->witnesses);
    free(log->witness_size);
    px_buf_free(&log->cosigs);
    px_buf_free(&log->note);
    px_log_tile_list_free(&log->tiles);
    px_signer_wipe(&log->key);
    pthread_cond_destroy(&log->work);
    pthread_cond_destroy(&log->published);
    pthread_mutex_destroy(&log->mu);
    free(log);
}

/* ---- reading ---------------------------------------------------------------- */

int px_log_checkpoint(px_log *log, px_buf *out, uint64_t *size, px_err *err) {
    pthread_mutex_lock(&log->mu);
    int rc = px_buf_append(out, log->note.data, log->note.len, err);
    if (!rc && log->cosigs_size == log->size && log->cosigs.len)
        rc = px_buf_append(out, log->cosigs.data, log->cosigs.len, err);
    if (size)
        *size = log->size;
    pthread_mutex_unlock(&log->mu);
    return rc;
}

static uint64_t published_size(px_log *log) {
    pthread_mutex_lock(&log->mu);
    uint64_t s = log->size;
    pthread_mutex_unlock(&log->mu);
    return s;
}

/* Complete subtrees read from stored tiles, one cached tile per level. */
typedef struct tile_reader {
    px_log_store *store;
    int have[PX_LOG_MAX_LEVELS];
    uint64_t index[PX_LOG_MAX_LEVELS];
    px_buf tile[PX_LOG_MAX_LEVELS];
} tile_reader;

static int stored_node(void *ctx, unsigned height, uint64_t index, uint8_t out[PX_LOG_HASH_BYTES],
                       px_err *err) {
    tile_reader *tr = ctx;
    unsigned level = height / PX_LOG_TILE_HEIGHT, r = height % PX_LOG_TILE_HEIGHT;
    if (level >= PX_LOG_MAX_LEVELS)
        return px_fail(err, PX_E_INTERNAL, "log: node height %u out of range", height);
    uint64_t bottom = index << r, t = bottom / PX_LOG_TILE_WIDTH;
    if (!tr->have[level] || tr->index[level] != t) {
        px_buf_reset(&tr->tile[level]);
        tr->have[level] = 0;
        if (tr->store->ops->tile(tr->store, (int)level, t, &tr->tile[level], err))
            return -1;
        tr->have[level] = 1;
        tr->index[level] = t;
    }
    uint64_t off = bottom - t * PX_LOG_TILE_WIDTH;
    if ((off + (1u << r)) * PX_LOG_HASH_BYTES > tr->tile[level].len)
        return px_fail(err, PX_E_STATE, "log store: tile %u/%llu is shorter than the tree needs", level,
                       (unsigned long long)t);
    px_log_root_from_hashes(out, tr->tile[level].data + off * PX_LOG_HASH_BYTES, 1u << r);
    return 0;
}

static void tile_reader_free(tile_reader *tr) {
    for (int i = 0; i < PX_LOG_MAX_LEVELS; i++)
        px_buf_free(&tr->tile[i]);
}

int px_log_inclusion(px_log *log, uint64_t index, uint64_t size, px_buf *out, px_err *err) {
    uint64_t pub = published_size(log);
    if (size > pub)
        return px_fail(err, PX_E_NOTFOUND, "log: tree size %llu is beyond the checkpoint (%llu)",
                       (unsigned long long)size, (unsigned long long)pub);
    tile_reader tr = {.store = log->store};
    int rc = px_log_prove_inclusion(stored_node, &tr, index, size, out, err);
    tile_reader_free(&tr);
    return rc;
}

int px_log_consistency(px_log *log, uint64_t size1, uint64_t size2, px_buf *out, px_err *err) {
    uint64_t pub = published_size(log);
    if (size2 > pub)
        return px_fail(err, PX_E_NOTFOUND, "log: tree size %llu is beyond the checkpoint (%llu)",
                       (unsigned long long)size2, (unsigned long long)pub);
    tile_reader tr = {.store = log->store};
    int rc = px_log_prove_consistency(stored_node, &tr, size1, size2, out, err);
    tile_reader_free(&tr);
    return rc;
}

int px_log_entry(px_log *log, uint64_t index, px_buf *out, px_err *err) {
    if (index >= published_size(log))
        return px_fail(err, PX_E_NOTFOUND, "log: no entry %llu", (unsigned long long)index);
    px_buf b = PX_BUF_INIT;
    int rc = log->store->ops->entries(log->store, index, 1, &b, err);
    if (!rc)
        rc = b.len >= 2 ? px_buf_append(out, b.data + 2, b.len - 2, err)
                        : px_fail(err, PX_E_STATE, "log store: malformed entry %llu", (unsigned long long)index);
    px_buf_free(&b);
    return rc;
}

int px_log_tile(px_log *log, int level, uint64_t index, unsigned width, px_buf *out, px_err *err) {
    if (level < -1 || level >= PX_LOG_MAX_LEVELS || width == 0 || width > PX_LOG_TILE_WIDTH)
        return px_fail(err, PX_E_INVALID, "log: no such tile");
    uint64_t size = published_size(log);
    int hl = level < 0 ? 0 : level;
    uint64_t have = hl * PX_LOG_TILE_HEIGHT >= 64 ? 0 : size >> (hl * PX_LOG_TILE_HEIGHT);
    if (index > UINT64_MAX / PX_LOG_TILE_WIDTH || index * PX_LOG_TILE_WIDTH + width > have)
        return px_fail(err, PX_E_NOTFOUND, "log: tile not covered by the checkpoint of size %llu",
                       (unsigned long long)size);
    if (level < 0)
        return log->store->ops->entries(log->store, index * PX_LOG_TILE_WIDTH, width, out, err);
    px_buf b = PX_BUF_INIT;
    int rc = log->store->ops->tile(log->store, level, index, &b, err);
    if (!rc)
        rc = b.len >= (size_t)width * PX_LOG_HASH_BYTES
                 ? px_buf_append(out, b.data, (size_t)width * PX_LOG_HASH_BYTES, err)
                 : px_fail(err, PX_E_STATE, "log store: tile %d/%llu is short", level, (unsigned long long)index);
    px_buf_free(&b);
    return rc;
}

int px_log_lookup(px_log *log, px_log_key_kind kind, const uint8_t digest[PX_SHA256_BYTES], uint64_t from,
                  uint64_t *out, size_t max, size_t *n, px_err *err) {
    if (kind < PX_LOG_BY_SUBJECT || kind > PX_LOG_BY_MANIFEST)
        return px_fail(err, PX_E_INVALID, "log: unknown lookup kind");
    /* Entries committed after the published checkpoint are left out. */
    uint64_t size = published_size(log);
    size_t got = 0;
    if (log->store->ops->lookup(log->store, kind, digest, from, out, max, &got, err))
        return -1;
    while (got && out[got - 1] >= size)
        got--;
    *n = got;
    return 0;
}
