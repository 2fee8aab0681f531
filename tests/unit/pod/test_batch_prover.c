/* Batch-signed records through the data-prover, the import and the demo
 * generator: a tampered record is the only bad one of its batch, verdicts
 * are exact and the same on any number of threads, and an import refuses a
 * row whose batch signature does not verify. */
#include "prover_test.h"

#include "pod/prover_int.h"

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* ---- streams of batch-signed records ----------------------------------------- */

enum { MAX_RECORDS = 2000, MAX_BATCHES = 200, OPEN_PER_SIGNER = 3 };

typedef struct brec {
    int signer;       /* 0 ed, 1 p256, 2 stranger (untrusted), -1 unsigned */
    int batch;        /* -1: a per-record signature */
    int tamper;       /* a value changed after signing */
    int wrong_index;  /* the trailer names the next record's index */
    int trailer_on_single; /* a per-record signature with a batch trailer */
    size_t sig_off, sig_len;
} brec;

typedef struct bbatch {
    int signer, target, n, corrupt, wrong_name;
    size_t members[90];
} bbatch;

typedef struct bstream {
    px_source_signer key[3]; /* ed, p256, stranger */
    px_schema in_schema, data;
    brec r[MAX_RECORDS];
    bbatch b[MAX_BATCHES];
    size_t n, nb;
    px_buf sigs, stream;
    char expect[MAX_RECORDS]; /* 'A' authenticated, 'U' unsigned, 'K' unknown source, 'B' bad signature */
} bstream;

static void record_values(px_value *v, size_t i, int tamper, char *txn, char *note) {
    sprintf(txn, "t%zu", i);
    sprintf(note, "%zu", i * 7);
    test_values(v, txn, i % 2 ? "alice" : "bob", (double)i * 1.25 + (tamper ? 0.5 : 0), (int64_t)i, note);
}

static void digest_of(bstream *x, size_t i, uint8_t d[32]) {
    px_value v[7];
    char txn[32], note[32];
    px_err err = {0};
    record_values(v, i, 0, txn, note);
    px_assert_ok(px_source_record_digest(d, &x->data, v, &err), &err);
}

static const int batch_sizes[] = {1, 2, 3, 7, 16, 40, 90};

/* Assign n records to kinds and batches (several batches of each signer
 * open at once, so that their records interleave), sign, then spoil some. */
static void build(bstream *x, size_t n) {
    px_err err = {0};
    memset(x, 0, sizeof *x);
    px_pod_schema sch;
    test_schema(&sch);
    x->data = sch.rec;
    x->in_schema = sch.rec;
    strcpy(x->in_schema.fields[5].name, "px_source");
    x->in_schema.fields[5].type = PX_FIELD_TEXT;
    strcpy(x->in_schema.fields[6].name, "px_sig");
    x->in_schema.fields[6].type = PX_FIELD_BLOB;
    x->in_schema.nfields = 7;
    const uint8_t algs[3] = {PX_SRC_ED25519, PX_SRC_P256, PX_SRC_ED25519};
    const char *names[3] = {"phone", "bank", "stranger"};
    for (int k = 0; k < 3; k++)
        px_assert_ok(px_source_signer_generate(&x->key[k], names[k], algs[k], &err), &err);
    int open[3][OPEN_PER_SIGNER];
    memset(open, -1, sizeof open);
    uint32_t lcg = 4242;
    x->n = n;
    for (size_t i = 0; i < n; i++) {
        lcg = lcg * 1103515245u + 12345u;
        int kind = (int)((lcg >> 16) % 10);
        brec *r = &x->r[i];
        r->batch = -1;
        if (kind == 0) {
            r->signer = -1;
            continue;
        }
        r->signer = kind == 1 ? 2 : kind % 2; /* mostly batches of the trusted keys, some of the stranger */
        if (kind == 2 || kind == 3)
            continue; /* per-record signature */
        int slot = (int)((lcg >> 8) % OPEN_PER_SIGNER), *o = &open[r->signer][slot];
        if (*o < 0) {
            assert_true(x->nb < MAX_BATCHES);
            bbatch *b = &x->b[x->nb];
            b->signer = r->signer;
            b->target = batch_sizes[x->nb % (sizeof batch_sizes / sizeof *batch_sizes)];
            b->corrupt = x->nb % 11 == 5;
            b->wrong_name = b->signer != 2 && x->nb % 13 == 7;
            *o = (int)x->nb++;
        }
        bbatch *b = &x->b[*o];
        r->batch = *o;
        b->members[b->n++] = i;
        if (b->n == b->target)
            *o = -1;
        r->tamper = i % 37 == 11;
        r->wrong_index = b->target > 1 && i % 53 == 20;
    }
    /* sign: batches over their members in order, single records alone */
    uint8_t *dig = malloc(90 * 32);
    for (size_t k = 0; k < x->nb; k++) {
        bbatch *b = &x->b[k];
        for (int j = 0; j < b->n; j++)
            digest_of(x, b->members[j], dig + j * 32);
        px_source_batch sb;
        px_assert_ok(px_source_batch_sign(&sb, &x->key[b->signer], dig, (size_t)b->n, &err), &err);
        for (int j = 0; j < b->n; j++) {
            brec *r = &x->r[b->members[j]];
            r->sig_off = x->sigs.len;
            px_assert_ok(px_source_batch_append_sig(&sb, (uint32_t)j, &x->sigs, &err), &err);
            r->sig_len = x->sigs.len - r->sig_off;
            uint8_t *s = x->sigs.data + r->sig_off;
            if (b->corrupt)
                s[17] ^= 0x08;
            r->wrong_index = r->wrong_index && b->n > 1; /* a batch left open may hold one record */
            if (r->wrong_index)
                put_be32(s + 64, (uint32_t)(j + 1) % (uint32_t)b->n);
        }
        px_source_batch_free(&sb);
    }
    for (size_t i = 0; i < n; i++) {
        brec *r = &x->r[i];
        if (r->signer < 0 || r->batch >= 0)
            continue;
        uint8_t d[32], s[72];
        digest_of(x, i, d);
        px_assert_ok(px_source_sign(&x->key[r->signer], d, s, &err), &err);
        r->trailer_on_single = i % 41 == 3;
        put_be32(s + 64, 0);
        put_be32(s + 68, 1);
        r->sig_off = x->sigs.len;
        r->sig_len = r->trailer_on_single ? 72 : 64;
        px_assert_ok(px_buf_append(&x->sigs, s, r->sig_len, &err), &err);
    }
    free(dig);

    /* the stream, and what each record must come out as */
    px_assert_ok(px_records_begin(&x->stream, &x->in_schema, n, &err), &err);
    for (size_t i = 0; i < n; i++) {
        brec *r = &x->r[i];
        px_value v[7];
        char txn[32], note[32], ref[PX_SRC_REF_MAX + 1] = "";
        record_values(v, i, r->tamper, txn, note);
        int named = r->signer;
        if (r->batch >= 0 && x->b[r->batch].wrong_name)
            named = 1 - r->signer;
        if (r->signer >= 0)
            px_source_key_ref(&x->key[named].pub, ref);
        v[5].type = PX_FIELD_TEXT, v[5].p = (const uint8_t *)ref, v[5].len = (uint32_t)strlen(ref);
        v[6].type = PX_FIELD_BLOB, v[6].p = x->sigs.data + r->sig_off, v[6].len = (uint32_t)r->sig_len;
        px_assert_ok(px_records_append(&x->stream, &x->in_schema, v, 0, &err), &err);
        int good = r->signer >= 0 && !r->tamper && !r->wrong_index && !r->trailer_on_single &&
                   (r->batch < 0 || (!x->b[r->batch].corrupt && !x->b[r->batch].wrong_name));
        x->expect[i] = r->signer < 0 ? 'U' : r->signer == 2 ? 'K' : good ? 'A' : 'B';
        /* the one-off check agrees with the construction */
        if (r->signer >= 0 && r->signer != 2) {
            uint8_t d[32];
            px_assert_ok(px_source_record_digest(d, &x->data, v, &err), &err);
            int rc = px_source_verify(&x->key[named].pub, d, v[6].p, v[6].len);
            if ((rc == 0) != good)
                fail_msg("record %zu: px_source_verify says %d, the construction %d", i, rc, good);
        }
    }
}

static void free_bstream(bstream *x) {
    for (int k = 0; k < 3; k++)
        px_source_signer_free(&x->key[k]);
    px_buf_free(&x->sigs);
    px_buf_free(&x->stream);
}

static void config_for(px_prover_config *c, bstream *x, int require) {
    px_source_key keys[2] = {x->key[0].pub, x->key[1].pub};
    px_buf json = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_prover_config_format(&json, keys, 2, require, &err), &err);
    px_assert_ok(px_prover_config_parse(c, json.data, json.len, &err), &err);
    px_buf_free(&json);
}

static void expect_flags(const px_buf *out, const bstream *x, int require) {
    px_records_reader r;
    px_err err = {0};
    px_assert_ok(px_records_open(&r, out->data, out->len, &err), &err);
    px_value v[5];
    uint8_t flags;
    for (size_t i = 0; i < x->n; i++) {
        if (require && x->expect[i] != 'A')
            continue;
        assert_int_equal(px_records_next(&r, v, &flags, &err), 1);
        assert_int_equal(v[3].i, (int64_t)i);
        if (flags != (x->expect[i] == 'A' ? PX_REC_AUTHENTICATED : 0))
            fail_msg("record %zu (%c) has flags %u", i, x->expect[i], flags);
    }
    assert_int_equal(px_records_next(&r, v, &flags, &err), 0);
}

static uint64_t count(const bstream *x, char kind) {
    uint64_t k = 0;
    for (size_t i = 0; i < x->n; i++)
        k += x->expect[i] == kind;
    return k;
}

/* Batch records of both schemes mixed with per-record, unsigned and
 * untrusted ones, batches interleaved (more open at once than the cache
 * holds), some spoilt: each verdict is the construction's, and the output
 * bytes and counts are the same for every thread count. */
static void test_threads_same_verdicts_batches(void **state) {
    (void)state;
    bstream *x = malloc(sizeof *x);
    build(x, 1500);
    assert_true(x->nb > 20);
    int corrupt = 0, wrong_name = 0, sizes_seen[7] = {0};
    for (size_t k = 0; k < x->nb; k++) {
        corrupt += x->b[k].corrupt;
        wrong_name += x->b[k].wrong_name;
        for (int s = 0; s < 7; s++)
            sizes_seen[s] += x->b[k].n == batch_sizes[s];
    }
    assert_true(corrupt > 0 && wrong_name > 0);
    for (int s = 0; s < 7; s++)
        if (sizes_seen[s] == 0)
            fail_msg("no batch of %d records", batch_sizes[s]);
    assert_true(count(x, 'A') > 500 && count(x, 'B') > 50 && count(x, 'U') > 50 && count(x, 'K') > 50);
    px_err err = {0};
    const uint8_t *in[2] = {x->stream.data, x->stream.data};
    size_t lens[2] = {x->stream.len, x->stream.len};
    for (int require = 0; require <= 1; require++) {
        px_prover_config c;
        config_for(&c, x, require);
        for (size_t ninputs = 1; ninputs <= 2; ninputs++) {
            px_buf ref = PX_BUF_INIT;
            px_prover_counts n1;
            px_assert_ok(px_prover_run_many_threads(&c, in, lens, ninputs, 1, &ref, &n1, &err), &err);
            assert_int_equal(n1.records, ninputs * x->n);
            assert_int_equal(n1.authenticated, ninputs * count(x, 'A'));
            assert_int_equal(n1.bad_signature, ninputs * count(x, 'B'));
            assert_int_equal(n1.unsigned_records, ninputs * count(x, 'U'));
            assert_int_equal(n1.unknown_source, ninputs * count(x, 'K'));
            if (ninputs == 1)
                expect_flags(&ref, x, require);
            assert_same_on_threads(&c, in, lens, ninputs, &ref, &n1, require);
            px_buf_free(&ref);
        }
        px_prover_config_free(&c);
    }
    free_bstream(x);
    free(x);
}

/* A batch of 1,000 records of which one was changed after signing: that
 * record alone is a bad signature, on one thread and on two. */
static void one_tampered(uint8_t alg) {
    px_err err = {0};
    px_source_signer s;
    px_assert_ok(px_source_signer_generate(&s, "bank", alg, &err), &err);
    px_pod_schema sch;
    test_schema(&sch);
    px_schema in = sch.rec;
    strcpy(in.fields[5].name, "px_source");
    in.fields[5].type = PX_FIELD_TEXT;
    strcpy(in.fields[6].name, "px_sig");
    in.fields[6].type = PX_FIELD_BLOB;
    in.nfields = 7;
    enum { N = 1000, TAMPERED = 617 };
    uint8_t *d = malloc(N * 32);
    px_value v[7];
    char txn[32], note[32], ref[PX_SRC_REF_MAX + 1];
    for (size_t i = 0; i < N; i++) {
        record_values(v, i, 0, txn, note);
        px_assert_ok(px_source_record_digest(d + i * 32, &sch.rec, v, &err), &err);
    }
    px_source_batch b;
    px_assert_ok(px_source_batch_sign(&b, &s, d, N, &err), &err);
    px_source_key_ref(&s.pub, ref);
    px_buf stream = PX_BUF_INIT, sig = PX_BUF_INIT;
    px_assert_ok(px_records_begin(&stream, &in, N, &err), &err);
    for (size_t i = 0; i < N; i++) {
        record_values(v, i, i == TAMPERED, txn, note);
        px_buf_reset(&sig);
        px_assert_ok(px_source_batch_append_sig(&b, (uint32_t)i, &sig, &err), &err);
        v[5].type = PX_FIELD_TEXT, v[5].p = (const uint8_t *)ref, v[5].len = (uint32_t)strlen(ref);
        v[6].type = PX_FIELD_BLOB, v[6].p = sig.data, v[6].len = (uint32_t)sig.len;
        px_assert_ok(px_records_append(&stream, &in, v, 0, &err), &err);
    }
    px_prover_config c;
    px_buf cfg = PX_BUF_INIT;
    px_assert_ok(px_prover_config_format(&cfg, &s.pub, 1, 0, &err), &err);
    px_assert_ok(px_prover_config_parse(&c, cfg.data, cfg.len, &err), &err);
    for (unsigned threads = 1; threads <= 2; threads++) {
        px_buf out = PX_BUF_INIT;
        px_prover_counts n;
        const uint8_t *inp = stream.data;
        size_t len = stream.len;
        px_assert_ok(px_prover_run_many_threads(&c, &inp, &len, 1, threads, &out, &n, &err), &err);
        assert_int_equal(n.authenticated, N - 1);
        assert_int_equal(n.bad_signature, 1);
        px_records_reader r;
        px_assert_ok(px_records_open(&r, out.data, out.len, &err), &err);
        uint8_t flags;
        for (size_t i = 0; i < N; i++) {
            assert_int_equal(px_records_next(&r, v, &flags, &err), 1);
            if (flags != (i == TAMPERED ? 0 : PX_REC_AUTHENTICATED))
                fail_msg("record %zu has flags %u", i, flags);
        }
        px_buf_free(&out);
    }
    px_prover_config_free(&c);
    px_buf_free(&cfg);
    px_buf_free(&stream);
    px_buf_free(&sig);
    px_source_batch_free(&b);
    free(d);
    px_source_signer_free(&s);
}

static void test_one_tampered_ed25519(void **state) {
    (void)state;
    one_tampered(PX_SRC_ED25519);
}

static void test_one_tampered_p256(void **state) {
    (void)state;
    one_tampered(PX_SRC_P256);
}

/* ---- import ------------------------------------------------------------------- */

/* Rows of the test schema signed as one batch, as `pixiu source sign
 * --batch` writes them; row `tamper` (if < n) gets another amount after
 * signing. */
static void batch_csv(px_buf *out, const px_source_signer *s, size_t first, size_t n, size_t tamper) {
    px_pod_schema sch;
    test_schema(&sch);
    px_err err = {0};
    uint8_t d[16 * 32];
    px_value v[5];
    char txn[32], note[32], ref[PX_SRC_REF_MAX + 1], b64[1024], nb64[64];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) {
        record_values(v, first + i, 0, txn, note);
        px_assert_ok(px_source_record_digest(d + i * 32, &sch.rec, v, &err), &err);
    }
    px_source_batch b;
    px_assert_ok(px_source_batch_sign(&b, s, d, n, &err), &err);
    px_source_key_ref(&s->pub, ref);
    px_buf sig = PX_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        size_t k = first + i;
        px_buf_reset(&sig);
        px_assert_ok(px_source_batch_append_sig(&b, (uint32_t)i, &sig, &err), &err);
        px_b64_encode(b64, sig.data, sig.len);
        snprintf(note, sizeof note, "%zu", k * 7);
        px_b64_encode(nb64, (const uint8_t *)note, strlen(note));
        px_assert_ok(px_buf_printf(out, &err, "t%zu,%s,%.17g,%zu,%s,%s,%s\n", k, k % 2 ? "alice" : "bob",
                                   (double)k * 1.25 + (i == tamper ? 0.5 : 0), k, nb64, ref, b64),
                     &err);
    }
    px_buf_free(&sig);
    px_source_batch_free(&b);
}

static const char csv_header[] = "txn,user,amount,n,note,px_source,px_sig\n";

static int import_csv(pod_fixture *f, const px_buf *csv, uint64_t *added, px_err *err) {
    px_pod_report rep;
    memset(&rep, 0, sizeof rep);
    int rc = px_pod_import(f->pod, "tx", PX_POD_CSV, csv->data, csv->len, added, &rep, err);
    px_pod_report_free(&rep);
    return rc;
}

static void test_import(void **state) {
    (void)state;
    pod_fixture f;
    fixture_open(&f);
    px_err err = {0};
    px_pod_schema sch;
    test_schema(&sch);
    px_assert_ok(px_pod_dataset_create(f.pod, "tx", &sch, &err), &err);
    px_source_signer bank, phone;
    px_assert_ok(px_source_signer_generate(&bank, "bank", PX_SRC_P256, &err), &err);
    px_assert_ok(px_source_signer_generate(&phone, "phone", PX_SRC_ED25519, &err), &err);
    px_buf k = PX_BUF_INIT;
    for (int i = 0; i < 2; i++) {
        k.len = 0;
        px_assert_ok(px_source_key_format(i ? &phone.pub : &bank.pub, &k, &err), &err);
        px_assert_ok(!px_buf_cstr(&k, &err), &err);
        px_assert_ok(px_pod_trust_add(f.pod, (const char *)k.data, &err), &err);
    }
    /* good: a batch of 7 by the bank, one of 3 and one of 1 by the phone */
    px_buf csv = PX_BUF_INIT;
    px_assert_ok(px_buf_append_str(&csv, csv_header, &err), &err);
    batch_csv(&csv, &bank, 0, 7, 99);
    batch_csv(&csv, &phone, 7, 3, 99);
    batch_csv(&csv, &phone, 10, 1, 99);
    uint64_t added = 0;
    px_assert_ok(import_csv(&f, &csv, &added, &err), &err);
    assert_int_equal(added, 11);

    /* one row of a batch changed: refused by line, as any bad signature,
     * and nothing of the file stored */
    csv.len = 0;
    px_assert_ok(px_buf_append_str(&csv, csv_header, &err), &err);
    batch_csv(&csv, &bank, 20, 5, 2);
    px_assert_fails(import_csv(&f, &csv, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "line 4: invalid signature by source \"bank+"));
    assert_non_null(strstr(err.msg, "nothing stored"));
    assert_null(strstr(err.msg, "line 3:"));
    /* a batch signed by the phone but named as the bank's */
    csv.len = 0;
    px_assert_ok(px_buf_append_str(&csv, csv_header, &err), &err);
    batch_csv(&csv, &phone, 30, 2, 99);
    char pref[PX_SRC_REF_MAX + 1], bref[PX_SRC_REF_MAX + 1];
    px_source_key_ref(&phone.pub, pref);
    px_source_key_ref(&bank.pub, bref);
    px_buf swapped = PX_BUF_INIT;
    for (size_t i = 0; i < csv.len; i++) {
        if (i + strlen(pref) <= csv.len && !memcmp(csv.data + i, pref, strlen(pref))) {
            px_assert_ok(px_buf_append_str(&swapped, bref, &err), &err);
            i += strlen(pref) - 1;
        } else {
            px_assert_ok(px_buf_append_u8(&swapped, csv.data[i], &err), &err);
        }
    }
    px_assert_fails(import_csv(&f, &swapped, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "line 2: invalid signature by source \"bank+"));
    /* a px_sig longer than any batch signature */
    csv.len = 0;
    char big[1200];
    memset(big, 'A', 784);
    big[784] = 0;
    px_assert_ok(px_buf_printf(&csv, &err, "%st900,bob,1,1,,%s,%s\n", csv_header, bref, big), &err);
    px_assert_fails(import_csv(&f, &csv, NULL, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "px_sig must be base64 of a signature of 64 to 584 bytes"));

    /* what was stored proves: 11 authenticated */
    px_buf stream = PX_BUF_INIT, out = PX_BUF_INIT, cfg = PX_BUF_INIT;
    px_assert_ok(px_pod_export(f.pod, "tx", &stream, NULL, &err), &err);
    px_source_key keys[2] = {bank.pub, phone.pub};
    px_prover_config c;
    px_assert_ok(px_prover_config_format(&cfg, keys, 2, 1, &err), &err);
    px_assert_ok(px_prover_config_parse(&c, cfg.data, cfg.len, &err), &err);
    px_prover_counts n;
    px_assert_ok(px_prover_run(&c, stream.data, stream.len, &out, &n, &err), &err);
    assert_int_equal(n.records, 11);
    assert_int_equal(n.authenticated, 11);
    px_prover_config_free(&c);
    px_buf_free(&cfg);
    px_buf_free(&out);
    px_buf_free(&stream);
    px_buf_free(&swapped);
    px_buf_free(&csv);
    px_buf_free(&k);
    px_source_signer_free(&bank);
    px_source_signer_free(&phone);
    fixture_close(&f);
}

/* ---- demo data ---------------------------------------------------------------- */

/* Each CSV line without its last column (px_sig). */
static void strip_sigs(const px_buf *in, px_buf *out) {
    px_err err = {0};
    const char *p = (const char *)in->data, *end = p + in->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *comma = nl;
        while (comma > p && comma[-1] != ',')
            comma--;
        px_assert_ok(px_buf_append(out, p, (size_t)(comma - p), &err), &err);
        p = nl + 1;
    }
}

/* gen-demo --batch: the same rows, only px_sig differs; every signed row
 * proves; batch 0 is the per-record generator. */
static void test_demo(void **state) {
    (void)state;
    px_err err = {0};
    px_source_signer ed;
    px_assert_ok(px_source_signer_generate(&ed, "bank.example", PX_SRC_ED25519, &err), &err);
    px_buf a = PX_BUF_INIT, sa = PX_BUF_INIT, ref = PX_BUF_INIT, sref = PX_BUF_INIT;
    px_assert_ok(px_pod_demo_generate(&ref, &sref, 20, 10, 42, &ed, 600, &err), &err);
    px_assert_ok(px_pod_demo_generate_batch(&a, &sa, 20, 10, 42, &ed, 600, 0, &err), &err);
    assert_int_equal(a.len, ref.len);
    assert_memory_equal(a.data, ref.data, ref.len); /* Ed25519 is deterministic */
    px_buf bare = PX_BUF_INIT, bare_ref = PX_BUF_INIT;
    strip_sigs(&ref, &bare_ref);
    const uint32_t batches[] = {1, 7, 1000};
    for (size_t t = 0; t < 3; t++) {
        a.len = sa.len = bare.len = 0;
        px_assert_ok(px_pod_demo_generate_batch(&a, &sa, 20, 10, 42, &ed, 600, batches[t], &err), &err);
        strip_sigs(&a, &bare);
        assert_int_equal(bare.len, bare_ref.len);
        assert_memory_equal(bare.data, bare_ref.data, bare.len);
        assert_true(a.len > ref.len); /* trailers: the rows are not per-record signed */

        pod_fixture f;
        fixture_open(&f);
        px_pod_schema sch;
        px_assert_ok(px_pod_schema_parse(&sch, sa.data, sa.len, &err), &err);
        px_assert_ok(px_pod_dataset_create(f.pod, "bank", &sch, &err), &err);
        px_buf k = PX_BUF_INIT, stream = PX_BUF_INIT, out = PX_BUF_INIT, cfg = PX_BUF_INIT;
        px_assert_ok(px_source_key_format(&ed.pub, &k, &err), &err);
        px_assert_ok(!px_buf_cstr(&k, &err), &err);
        px_assert_ok(px_pod_trust_add(f.pod, (const char *)k.data, &err), &err);
        px_assert_ok(px_pod_import(f.pod, "bank", PX_POD_CSV, a.data, a.len, NULL, NULL, &err), &err);
        px_assert_ok(px_pod_export(f.pod, "bank", &stream, NULL, &err), &err);
        px_prover_config c;
        px_assert_ok(px_prover_config_format(&cfg, &ed.pub, 1, 0, &err), &err);
        px_assert_ok(px_prover_config_parse(&c, cfg.data, cfg.len, &err), &err);
        px_prover_counts n;
        px_assert_ok(px_prover_run(&c, stream.data, stream.len, &out, &n, &err), &err);
        assert_int_equal(n.records, 200);
        assert_true(n.authenticated > 90 && n.authenticated < 150);
        assert_int_equal(n.authenticated + n.unsigned_records, 200);
        assert_int_equal(n.bad_signature, 0);
        px_prover_config_free(&c);
        px_buf_free(&k);
        px_buf_free(&stream);
        px_buf_free(&out);
        px_buf_free(&cfg);
        fixture_close(&f);
    }
    px_assert_fails(px_pod_demo_generate_batch(&a, &sa, 1, 1, 1, &ed, 1000, PX_SRC_BATCH_MAX + 1, &err), &err,
                    PX_E_INVALID);
    px_buf_free(&a);
    px_buf_free(&sa);
    px_buf_free(&ref);
    px_buf_free(&sref);
    px_buf_free(&bare);
    px_buf_free(&bare_ref);
    px_source_signer_free(&ed);
}

int main(void) {
    if (px_crypto_init(NULL))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_tampered_ed25519),
        cmocka_unit_test(test_one_tampered_p256),
        cmocka_unit_test(test_threads_same_verdicts_batches),
        cmocka_unit_test(test_import),
        cmocka_unit_test(test_demo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
