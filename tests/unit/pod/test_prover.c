/* The data-prover stage: a stream mixing valid, invalid and missing
 * signatures and unknown sources, with exact counts in both modes, and the
 * same output and counts whatever the number of threads. */
#include "prover_test.h"

#include "pod/prover_int.h"

enum { N_VALID_ED = 7, N_VALID_P256 = 5, N_BAD_SIG = 4, N_UNSIGNED = 6, N_UNKNOWN = 3, N_WRONG_KEY = 2 };

typedef struct stream_fixture {
    px_source_signer ed, p256, stranger;
    px_pod_schema sch;
    px_schema in_schema;
    px_buf stream;
    char expect_auth[2048]; /* per record: 1 if it must come out authenticated */
    size_t n;
} stream_fixture;

/* corrupt: 0 keeps the signature, > 0 flips a bit of byte corrupt % 64,
 * CORRUPT_ZERO_S and CORRUPT_HIGH make s zero or every byte 0xff (out of
 * the P-256 range), CORRUPT_SHORT drops its last byte. */
enum { CORRUPT_ZERO_S = -1, CORRUPT_HIGH = -2, CORRUPT_SHORT = -3 };

static void add_record(stream_fixture *x, const px_source_signer *signer, const char *ref_override, int corrupt,
                       int authentic) {
    char txn[32], note[32];
    snprintf(txn, sizeof txn, "t%zu", x->n);
    snprintf(note, sizeof note, "%zu", x->n * 7);
    px_value v[7];
    test_values(v, txn, x->n % 2 ? "alice" : "bob", (double)x->n * 1.25, (int64_t)x->n, note);
    uint8_t d[32], sig[64];
    char ref[PX_SRC_REF_MAX + 16] = "";
    px_err err = {0};
    if (signer) {
        px_assert_ok(px_source_record_digest(d, &x->sch.rec, v, &err), &err);
        px_assert_ok(px_source_sign(signer, d, sig, &err), &err);
        px_source_key_ref(&signer->pub, ref);
        if (corrupt > 0)
            sig[corrupt % 64] ^= 0x40;
        if (corrupt == CORRUPT_ZERO_S)
            memset(sig + 32, 0, 32);
        if (corrupt == CORRUPT_HIGH)
            memset(sig, 0xff, 64);
    }
    if (ref_override)
        snprintf(ref, sizeof ref, "%s", ref_override);
    v[5].type = PX_FIELD_TEXT, v[5].p = (const uint8_t *)ref, v[5].len = (uint32_t)strlen(ref);
    v[6].type = PX_FIELD_BLOB, v[6].p = sig, v[6].len = signer ? corrupt == CORRUPT_SHORT ? 63 : 64 : 0;
    px_assert_ok(px_records_append(&x->stream, &x->in_schema, v, 0, &err), &err);
    x->expect_auth[x->n++] = (char)authentic;
}

static void build_stream(stream_fixture *x) {
    px_err err = {0};
    memset(x, 0, sizeof *x);
    test_schema(&x->sch);
    x->in_schema = x->sch.rec;
    strcpy(x->in_schema.fields[5].name, "px_source");
    x->in_schema.fields[5].type = PX_FIELD_TEXT;
    strcpy(x->in_schema.fields[6].name, "px_sig");
    x->in_schema.fields[6].type = PX_FIELD_BLOB;
    x->in_schema.nfields = 7;
    px_assert_ok(px_source_signer_generate(&x->ed, "phone", PX_SRC_ED25519, &err), &err);
    px_assert_ok(px_source_signer_generate(&x->p256, "bank", PX_SRC_P256, &err), &err);
    px_assert_ok(px_source_signer_generate(&x->stranger, "stranger", PX_SRC_ED25519, &err), &err);
    /* count placeholder: patched below once the number of records is known */
    px_assert_ok(px_records_begin(&x->stream, &x->in_schema, 0, &err), &err);
    size_t header = x->stream.len;
    /* interleave the kinds so that order mistakes show */
    for (int round = 0; round < 7; round++) {
        if (round < N_VALID_ED)
            add_record(x, &x->ed, NULL, 0, 1);
        if (round < N_UNSIGNED)
            add_record(x, NULL, NULL, 0, 0);
        if (round < N_VALID_P256)
            add_record(x, &x->p256, NULL, 0, 1);
        if (round < N_BAD_SIG)
            add_record(x, round % 2 ? &x->ed : &x->p256, NULL, 1 + round * 9, 0);
        if (round < N_UNKNOWN)
            add_record(x, &x->stranger, NULL, 0, 0);
        if (round < N_WRONG_KEY) { /* signed by phone, claims to be bank */
            char ref[PX_SRC_REF_MAX + 1];
            px_source_key_ref(&x->p256.pub, ref);
            add_record(x, &x->ed, ref, 0, 0);
        }
    }
    uint64_t n = x->n;
    for (int i = 0; i < 8; i++)
        x->stream.data[header - 8 + i] = (uint8_t)(n >> (8 * i));
}

static void free_stream(stream_fixture *x) {
    px_source_signer_free(&x->ed);
    px_source_signer_free(&x->p256);
    px_source_signer_free(&x->stranger);
    px_buf_free(&x->stream);
}

static void config_for(px_prover_config *c, stream_fixture *x, int require) {
    px_source_key keys[2] = {x->ed.pub, x->p256.pub};
    px_buf json = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_prover_config_format(&json, keys, 2, require, &err), &err);
    px_assert_ok(px_prover_config_parse(c, json.data, json.len, &err), &err);
    px_buf_free(&json);
}

static void check_output(const px_buf *out, stream_fixture *x, int require) {
    px_records_reader r;
    px_err err = {0};
    px_assert_ok(px_records_open(&r, out->data, out->len, &err), &err);
    assert_int_equal(r.schema.nfields, 5);
    assert_int_equal(r.schema.user_field, 1);
    px_value v[5];
    uint8_t flags;
    size_t k = 0;
    for (size_t i = 0; i < x->n; i++) {
        if (require && !x->expect_auth[i])
            continue;
        assert_int_equal(px_records_next(&r, v, &flags, &err), 1);
        char txn[32];
        snprintf(txn, sizeof txn, "t%zu", i);
        assert_int_equal(v[0].len, strlen(txn));
        assert_memory_equal(v[0].p, txn, v[0].len);
        assert_int_equal(v[3].i, (int64_t)i);
        if (flags != (x->expect_auth[i] ? PX_REC_AUTHENTICATED : 0))
            fail_msg("record %zu has flags %u", i, flags);
        k++;
    }
    assert_int_equal(px_records_next(&r, v, &flags, &err), 0);
    assert_int_equal(r.count, k);
}

static void test_counts_any(void **state) {
    (void)state;
    stream_fixture x;
    build_stream(&x);
    px_prover_config c;
    config_for(&c, &x, 0);
    px_buf out = PX_BUF_INIT;
    px_prover_counts n;
    px_err err = {0};
    px_assert_ok(px_prover_run(&c, x.stream.data, x.stream.len, &out, &n, &err), &err);
    assert_int_equal(n.records, x.n);
    assert_int_equal(n.records, N_VALID_ED + N_VALID_P256 + N_BAD_SIG + N_UNSIGNED + N_UNKNOWN + N_WRONG_KEY);
    assert_int_equal(n.authenticated, N_VALID_ED + N_VALID_P256);
    assert_int_equal(n.alleged, N_BAD_SIG + N_UNSIGNED + N_UNKNOWN + N_WRONG_KEY);
    assert_int_equal(n.dropped, 0);
    assert_int_equal(n.unsigned_records, N_UNSIGNED);
    assert_int_equal(n.unknown_source, N_UNKNOWN);
    assert_int_equal(n.bad_signature, N_BAD_SIG + N_WRONG_KEY);
    check_output(&out, &x, 0);
    /* deterministic: same input, same bytes */
    px_buf again = PX_BUF_INIT;
    px_assert_ok(px_prover_run(&c, x.stream.data, x.stream.len, &again, NULL, &err), &err);
    assert_int_equal(again.len, out.len);
    assert_memory_equal(again.data, out.data, out.len);
    px_buf_free(&again);
    px_buf_free(&out);
    px_prover_config_free(&c);
    free_stream(&x);
}

static void test_counts_require_authenticated(void **state) {
    (void)state;
    stream_fixture x;
    build_stream(&x);
    px_prover_config c;
    config_for(&c, &x, 1);
    px_buf out = PX_BUF_INIT;
    px_prover_counts n;
    px_err err = {0};
    px_assert_ok(px_prover_run(&c, x.stream.data, x.stream.len, &out, &n, &err), &err);
    assert_int_equal(n.authenticated, N_VALID_ED + N_VALID_P256);
    assert_int_equal(n.alleged, 0);
    assert_int_equal(n.dropped, N_BAD_SIG + N_UNSIGNED + N_UNKNOWN + N_WRONG_KEY);
    assert_int_equal(n.records, n.authenticated + n.dropped);
    check_output(&out, &x, 1);
    px_buf_free(&out);
    px_prover_config_free(&c);
    free_stream(&x);
}

/* A larger stream of every kind in a scrambled order: valid, corrupted and
 * out-of-range signatures of both schemes, signatures of the wrong length,
 * unsigned records, untrusted sources and a source's name on another key's
 * signature. Returns the number of records of each kind. */
enum { K_ED, K_P256, K_BAD_ED, K_BAD_P256, K_ZERO_S, K_HIGH, K_SHORT, K_UNSIGNED, K_UNKNOWN, K_WRONG_KEY, K_KINDS };

static void build_mixed(stream_fixture *x, size_t n, uint64_t kinds[K_KINDS]) {
    build_stream(x);
    px_err err = {0};
    x->stream.len = 0;
    x->n = 0;
    memset(kinds, 0, K_KINDS * sizeof *kinds);
    px_assert_ok(px_records_begin(&x->stream, &x->in_schema, n, &err), &err);
    char ref[PX_SRC_REF_MAX + 1];
    px_source_key_ref(&x->p256.pub, ref);
    uint32_t lcg = 12345;
    for (size_t i = 0; i < n; i++) {
        lcg = lcg * 1103515245u + 12345u;
        int k = (int)((lcg >> 16) % K_KINDS);
        /* long runs of one kind too, so that some chunks are all unsigned */
        if (i >= n / 2 && i < n / 2 + 150)
            k = K_UNSIGNED;
        kinds[k]++;
        switch (k) {
        case K_ED: add_record(x, &x->ed, NULL, 0, 1); break;
        case K_P256: add_record(x, &x->p256, NULL, 0, 1); break;
        case K_BAD_ED: add_record(x, &x->ed, NULL, 1 + (int)(i % 63), 0); break;
        case K_BAD_P256: add_record(x, &x->p256, NULL, 1 + (int)(i % 63), 0); break;
        case K_ZERO_S: add_record(x, &x->p256, NULL, CORRUPT_ZERO_S, 0); break;
        case K_HIGH: add_record(x, i % 2 ? &x->p256 : &x->ed, NULL, CORRUPT_HIGH, 0); break;
        case K_SHORT: add_record(x, i % 2 ? &x->p256 : &x->ed, NULL, CORRUPT_SHORT, 0); break;
        case K_UNSIGNED: add_record(x, NULL, NULL, 0, 0); break;
        case K_UNKNOWN: add_record(x, &x->stranger, NULL, 0, 0); break;
        default: add_record(x, &x->ed, ref, 0, 0); break;
        }
    }
}

/* Threads change nothing: for every thread count the output bytes and
 * every count equal the single-threaded run's, and each record's flag is
 * the one its kind calls for (the verdicts px_source_verify gives). */
static void test_threads_same_verdicts(void **state) {
    (void)state;
    stream_fixture x;
    uint64_t kinds[K_KINDS];
    build_mixed(&x, 1500, kinds);
    for (int k = 0; k < K_KINDS; k++)
        assert_true(kinds[k] > 0);
    px_err err = {0};
    /* a second POD's stream, and a third with no records */
    px_buf empty = PX_BUF_INIT;
    px_assert_ok(px_records_begin(&empty, &x.in_schema, 0, &err), &err);
    const uint8_t *in[3] = {x.stream.data, empty.data, x.stream.data};
    size_t lens[3] = {x.stream.len, empty.len, x.stream.len};
    for (int require = 0; require <= 1; require++) {
        px_prover_config c;
        config_for(&c, &x, require);
        for (size_t ninputs = 1; ninputs <= 3; ninputs += 2) {
            px_buf ref = PX_BUF_INIT;
            px_prover_counts n1;
            px_assert_ok(px_prover_run_many_threads(&c, in, lens, ninputs, 1, &ref, &n1, &err), &err);
            uint64_t good = kinds[K_ED] + kinds[K_P256];
            assert_int_equal(n1.records, ninputs == 1 ? x.n : 2 * x.n);
            assert_int_equal(n1.authenticated, (ninputs == 1 ? 1 : 2) * good);
            assert_int_equal(n1.unsigned_records, (ninputs == 1 ? 1 : 2) * kinds[K_UNSIGNED]);
            assert_int_equal(n1.unknown_source, (ninputs == 1 ? 1 : 2) * kinds[K_UNKNOWN]);
            assert_int_equal(n1.bad_signature, (ninputs == 1 ? 1 : 2) * (kinds[K_BAD_ED] + kinds[K_BAD_P256] +
                                                                           kinds[K_ZERO_S] + kinds[K_HIGH] +
                                                                           kinds[K_SHORT] + kinds[K_WRONG_KEY]));
            if (ninputs == 1)
                check_output(&ref, &x, require);
            assert_same_on_threads(&c, in, lens, ninputs, &ref, &n1, require);
            px_buf_free(&ref);
        }
        px_prover_config_free(&c);
    }
    px_buf out = PX_BUF_INIT;
    px_prover_config c;
    config_for(&c, &x, 0);
    px_assert_fails(px_prover_run_many_threads(&c, in, lens, 1, PX_PROVER_MAX_THREADS + 1, &out, NULL, &err), &err,
                    PX_E_INVALID);
    assert_int_equal(out.len, 0);
    unsigned d = px_prover_threads();
    assert_true(d >= 1 && d <= PX_PROVER_DEFAULT_THREADS);
    px_prover_config_free(&c);
    px_buf_free(&empty);
    free_stream(&x);
}

/* Many small PODs feeding one prover (chunks then span many inputs, some
 * of them empty): the same output and counts on any number of threads. */
static void test_threads_many_small_inputs(void **state) {
    (void)state;
    stream_fixture x;
    build_stream(&x);
    px_prover_config c;
    config_for(&c, &x, 0);
    px_err err = {0};
    px_buf empty = PX_BUF_INIT;
    px_assert_ok(px_records_begin(&empty, &x.in_schema, 0, &err), &err);
    enum { N_INPUTS = 60 };
    const uint8_t *in[N_INPUTS];
    size_t lens[N_INPUTS];
    for (size_t i = 0; i < N_INPUTS; i++) {
        int none = i % 7 == 3;
        in[i] = none ? empty.data : x.stream.data;
        lens[i] = none ? empty.len : x.stream.len;
    }
    px_buf ref = PX_BUF_INIT;
    px_prover_counts n1;
    px_assert_ok(px_prover_run_many_threads(&c, in, lens, N_INPUTS, 1, &ref, &n1, &err), &err);
    assert_int_equal(n1.records, (N_INPUTS - 9) * x.n);
    assert_int_equal(n1.authenticated, (N_INPUTS - 9) * (N_VALID_ED + N_VALID_P256));
    const unsigned counts[] = {2, 5};
    for (size_t t = 0; t < 2; t++) {
        px_buf out = PX_BUF_INIT;
        px_prover_counts nt;
        px_assert_ok(px_prover_run_many_threads(&c, in, lens, N_INPUTS, counts[t], &out, &nt, &err), &err);
        assert_counts_equal(&nt, &n1);
        assert_int_equal(out.len, ref.len);
        assert_memory_equal(out.data, ref.data, ref.len);
        px_buf_free(&out);
    }
    px_buf_free(&ref);
    px_buf_free(&empty);
    px_prover_config_free(&c);
    free_stream(&x);
}

/* An empty trust store: everything is alleged. Input flags are ignored. */
static void test_empty_trust_and_forged_flags(void **state) {
    (void)state;
    stream_fixture x;
    build_stream(&x);
    px_prover_config c;
    px_err err = {0};
    const char *cfg = "{\"require\":\"any\",\"sources\":[]}";
    px_assert_ok(px_prover_config_parse(&c, cfg, strlen(cfg), &err), &err);
    /* a POD that sets the authenticated flag itself gains nothing */
    px_records_reader r;
    px_assert_ok(px_records_open(&r, x.stream.data, x.stream.len, &err), &err);
    x.stream.data[r.off] = PX_REC_AUTHENTICATED;
    px_buf out = PX_BUF_INIT;
    px_prover_counts n;
    px_assert_ok(px_prover_run(&c, x.stream.data, x.stream.len, &out, &n, &err), &err);
    assert_int_equal(n.authenticated, 0);
    assert_int_equal(n.alleged, x.n);
    assert_int_equal(n.unknown_source, N_VALID_ED + N_VALID_P256 + N_BAD_SIG + N_UNKNOWN + N_WRONG_KEY);
    px_buf_free(&out);
    px_prover_config_free(&c);
    free_stream(&x);
}

static void test_bad_inputs(void **state) {
    (void)state;
    stream_fixture x;
    build_stream(&x);
    px_prover_config c;
    config_for(&c, &x, 0);
    px_err err = {0};
    px_buf out = PX_BUF_INIT;
    px_assert_ok(px_buf_append_str(&out, "keep", &err), &err);
    /* truncated, trailing garbage, wrong magic: fail, output untouched */
    px_assert_fails(px_prover_run(&c, x.stream.data, x.stream.len - 3, &out, NULL, &err), &err, PX_E_INVALID);
    px_assert_ok(px_buf_append_u8(&x.stream, 0, &err), &err);
    px_assert_fails(px_prover_run(&c, x.stream.data, x.stream.len, &out, NULL, &err), &err, PX_E_INVALID);
    x.stream.len--;
    px_assert_fails(px_prover_run(&c, (const uint8_t *)"PXR2", 4, &out, NULL, &err), &err, PX_E_INVALID);
    /* a stream without the provenance columns */
    px_buf plain = PX_BUF_INIT;
    px_assert_ok(px_records_begin(&plain, &x.sch.rec, 0, &err), &err);
    px_assert_fails(px_prover_run(&c, plain.data, plain.len, &out, NULL, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "px_source"));
    assert_int_equal(out.len, 4);
    /* bad configs */
    const char *bad[] = {
        "{}",
        "{\"require\":\"some\",\"sources\":[]}",
        "{\"require\":\"any\",\"sources\":[1]}",
        "{\"require\":\"any\",\"sources\":[\"x+00000000+AQ==\"]}",
        "{\"require\":\"any\",\"sources\":[],\"extra\":1}",
        "{\"require\":\"any\",\"require\":\"any\",\"sources\":[]}",
    };
    px_prover_config c2;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (px_prover_config_parse(&c2, bad[i], strlen(bad[i]), &err) != -1)
            fail_msg("config %zu accepted", i);
    /* the same source twice (even with one key) is refused */
    px_buf k = PX_BUF_INIT, cfg = PX_BUF_INIT;
    px_assert_ok(px_source_key_format(&x.ed.pub, &k, &err), &err);
    px_assert_ok(px_buf_printf(&cfg, &err, "{\"require\":\"any\",\"sources\":[\"%.*s\",\"%.*s\"]}", (int)k.len,
                               (char *)k.data, (int)k.len, (char *)k.data),
                 &err);
    px_assert_fails(px_prover_config_parse(&c2, cfg.data, cfg.len, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "twice"));
    px_buf_free(&k);
    px_buf_free(&cfg);
    px_buf_free(&plain);
    px_buf_free(&out);
    px_prover_config_free(&c);
    free_stream(&x);
}

/* Source references at and past the longest key name. */
static void test_long_source_names(void **state) {
    (void)state;
    stream_fixture x;
    build_stream(&x);
    x.stream.len = 0;
    px_err err = {0};
    char name[PX_KEY_NAME_MAX + 1];
    memset(name, 'k', PX_KEY_NAME_MAX);
    name[PX_KEY_NAME_MAX] = 0;
    px_source_signer longest;
    px_assert_ok(px_source_signer_generate(&longest, name, PX_SRC_ED25519, &err), &err);
    px_assert_ok(px_records_begin(&x.stream, &x.in_schema, 3, &err), &err);
    x.n = 0;
    add_record(&x, &longest, NULL, 0, 1);
    char ref[PX_SRC_REF_MAX + 8];
    snprintf(ref, sizeof ref, "k%s+%08x", name, longest.pub.id); /* one byte too long */
    add_record(&x, &longest, ref, 0, 0);
    snprintf(ref, sizeof ref, "kk%s+%08x", name, longest.pub.id);
    add_record(&x, &longest, ref, 0, 0);
    px_prover_config c;
    px_source_key keys[1] = {longest.pub};
    px_buf json = PX_BUF_INIT, out = PX_BUF_INIT;
    px_assert_ok(px_prover_config_format(&json, keys, 1, 0, &err), &err);
    px_assert_ok(px_prover_config_parse(&c, json.data, json.len, &err), &err);
    px_prover_counts n;
    px_assert_ok(px_prover_run(&c, x.stream.data, x.stream.len, &out, &n, &err), &err);
    assert_int_equal(n.authenticated, 1);
    assert_int_equal(n.unknown_source, 2);
    px_prover_config_free(&c);
    px_source_signer_free(&longest);
    px_buf_free(&json);
    px_buf_free(&out);
    free_stream(&x);
}

/* Two PODs feed one prover: one stream out, counts summed; schemas must agree. */
static void test_many_inputs(void **state) {
    (void)state;
    stream_fixture x;
    build_stream(&x);
    px_prover_config c;
    config_for(&c, &x, 0);
    px_err err = {0};
    const uint8_t *in[2] = {x.stream.data, x.stream.data};
    size_t lens[2] = {x.stream.len, x.stream.len};
    px_buf out = PX_BUF_INIT;
    px_prover_counts n;
    px_assert_ok(px_prover_run_many(&c, in, lens, 2, &out, &n, &err), &err);
    assert_int_equal(n.records, 2 * x.n);
    assert_int_equal(n.authenticated, 2 * (N_VALID_ED + N_VALID_P256));
    assert_int_equal(n.bad_signature, 2 * (N_BAD_SIG + N_WRONG_KEY));
    px_records_reader r;
    px_assert_ok(px_records_open(&r, out.data, out.len, &err), &err);
    assert_int_equal(r.count, 2 * x.n);
    px_value v[5];
    uint8_t flags;
    uint64_t k = 0, auth = 0;
    while (px_records_next(&r, v, &flags, &err) == 1) {
        assert_int_equal(flags, x.expect_auth[k % x.n] ? PX_REC_AUTHENTICATED : 0);
        auth += flags != 0;
        k++;
    }
    assert_int_equal(k, 2 * x.n);
    assert_int_equal(auth, n.authenticated);
    /* a second input with another schema */
    px_schema other = x.in_schema;
    other.fields[2].type = PX_FIELD_INT;
    px_buf s2 = PX_BUF_INIT;
    px_assert_ok(px_records_begin(&s2, &other, 0, &err), &err);
    in[1] = s2.data;
    lens[1] = s2.len;
    out.len = 0;
    px_assert_fails(px_prover_run_many(&c, in, lens, 2, &out, &n, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "another schema"));
    assert_int_equal(out.len, 0);
    px_assert_fails(px_prover_run_many(&c, in, lens, 0, &out, &n, &err), &err, PX_E_INVALID);
    px_buf_free(&s2);
    px_buf_free(&out);
    px_prover_config_free(&c);
    free_stream(&x);
}

/* The real path: import signed CSV into a POD, export, prove. */
static void test_pod_export_proves(void **state) {
    (void)state;
    pod_fixture f;
    fixture_open(&f);
    px_err err = {0};
    px_source_signer bank;
    px_assert_ok(px_source_signer_generate(&bank, "bank.example", PX_SRC_ED25519, &err), &err);
    px_buf csv = PX_BUF_INIT, schema = PX_BUF_INIT, k = PX_BUF_INIT;
    px_assert_ok(px_pod_demo_generate(&csv, &schema, 20, 10, 42, &bank, 600, &err), &err);
    px_pod_schema s;
    px_assert_ok(px_pod_schema_parse(&s, schema.data, schema.len, &err), &err);
    px_assert_ok(px_pod_dataset_create(f.pod, "bank", &s, &err), &err);
    px_assert_ok(px_source_key_format(&bank.pub, &k, &err), &err);
    px_assert_ok(px_pod_trust_add(f.pod, px_buf_cstr(&k, &err), &err), &err);
    px_assert_ok(px_pod_import(f.pod, "bank", PX_POD_CSV, csv.data, csv.len, NULL, NULL, &err), &err);
    px_buf stream = PX_BUF_INIT, out = PX_BUF_INIT, cfg = PX_BUF_INIT;
    px_pod_export_info info;
    px_assert_ok(px_pod_export(f.pod, "bank", &stream, &info, &err), &err);
    assert_int_equal(info.records, 200);
    assert_true(info.signed_records > 80 && info.signed_records < 160);
    px_source_key *keys;
    size_t nk;
    px_assert_ok(px_pod_trust_list(f.pod, &keys, &nk, &err), &err);
    px_assert_ok(px_prover_config_format(&cfg, keys, nk, 0, &err), &err);
    px_source_keys_free(keys, nk);
    px_prover_config c;
    px_assert_ok(px_prover_config_parse(&c, cfg.data, cfg.len, &err), &err);
    px_prover_counts n;
    px_assert_ok(px_prover_run(&c, stream.data, stream.len, &out, &n, &err), &err);
    assert_int_equal(n.authenticated, info.signed_records);
    assert_int_equal(n.alleged, info.unsigned_records);
    assert_int_equal(n.bad_signature, 0);
    /* same seed, same data */
    px_buf csv2 = PX_BUF_INIT, schema2 = PX_BUF_INIT;
    px_assert_ok(px_pod_demo_generate(&csv2, &schema2, 20, 10, 42, NULL, 0, &err), &err);
    px_assert_ok(px_buf_append_u8(&csv2, 0, &err), &err);
    assert_non_null(strstr((char *)csv2.data, "T0000002a-000019-00009,u0042-000019,ACC-0042-000019,"));
    px_prover_config_free(&c);
    px_buf_free(&csv2);
    px_buf_free(&schema2);
    px_buf_free(&cfg);
    px_buf_free(&out);
    px_buf_free(&stream);
    px_buf_free(&k);
    px_buf_free(&schema);
    px_buf_free(&csv);
    px_source_signer_free(&bank);
    fixture_close(&f);
}

int main(void) {
    px_err err = {0};
    if (px_crypto_init(&err))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_any),
        cmocka_unit_test(test_counts_require_authenticated),
        cmocka_unit_test(test_empty_trust_and_forged_flags),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_many_inputs),
        cmocka_unit_test(test_threads_same_verdicts),
        cmocka_unit_test(test_threads_many_small_inputs),
        cmocka_unit_test(test_long_source_names),
        cmocka_unit_test(test_pod_export_proves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
