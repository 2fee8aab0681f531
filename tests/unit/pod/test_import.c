/* Datasets, CSV / JSON Lines import, trust store, export. Every bad input
 * must fail with a clear error and leave the dataset as it was. */
#include "pod_test.h"

static uint64_t count_records(pod_fixture *f, const char *ds) {
    px_pod_dataset_info *v;
    size_t n;
    px_err err = {0};
    px_assert_ok(px_pod_dataset_list(f->pod, &v, &n, &err), &err);
    uint64_t c = UINT64_MAX;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, ds))
            c = v[i].records;
    free(v);
    return c;
}

static void create_ds(pod_fixture *f, const char *name) {
    px_pod_schema s;
    test_schema(&s);
    px_err err = {0};
    px_assert_ok(px_pod_dataset_create(f->pod, name, &s, &err), &err);
}

static int import_text(pod_fixture *f, const char *ds, px_pod_format fmt, const char *text, px_err *err) {
    px_pod_report rep;
    memset(&rep, 0, sizeof rep);
    int rc = px_pod_import(f->pod, ds, fmt, (const uint8_t *)text, strlen(text), NULL, &rep, err);
    px_pod_report_free(&rep);
    return rc;
}

/* One signed CSV line of the test schema, as `pixiu source sign` would write it. */
static void signed_csv_line(px_buf *out, const px_source_signer *s, const char *txn, const char *user,
                            const char *amount_text, int64_t n, const char *note) {
    px_pod_schema sch;
    test_schema(&sch);
    px_value v[5];
    test_values(v, txn, user, strtod(amount_text, NULL), n, note);
    uint8_t d[32], sig[64];
    px_err err = {0};
    px_assert_ok(px_record_digest(d, &sch.rec, v, &err), &err);
    px_assert_ok(px_source_sign(s, d, sig, &err), &err);
    char ref[PX_SRC_REF_MAX + 1], b64[100], nb64[100];
    px_source_key_ref(&s->pub, ref);
    px_b64_encode(b64, sig, 64);
    px_b64_encode(nb64, (const uint8_t *)note, strlen(note));
    px_assert_ok(px_buf_printf(out, &err, "%s,%s,%s,%lld,%s,%s,%s\n", txn, user, amount_text, (long long)n, nb64,
                               ref, b64),
                 &err);
}

static void test_schema_errors(void **state) {
    (void)state;
    px_pod_schema s;
    px_err err = {0};
    const char *bad[] = {
        "",
        "[]",
        "{\"fields\":[]}",
        "{\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"a\",\"type\":\"int\"}]}",
        "{\"fields\":[{\"name\":\"a b\",\"type\":\"int\"}]}",
        "{\"fields\":[{\"name\":\"px_sig\",\"type\":\"int\"}]}",
        "{\"fields\":[{\"name\":\"a\",\"type\":\"float\"}]}",
        "{\"fields\":[{\"name\":\"a\",\"type\":\"int\"}],\"user\":\"b\"}",
        "{\"fields\":[{\"name\":\"a\",\"type\":\"int\"}],\"extra\":1}",
        "{\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"name\":\"b\"}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (px_pod_schema_parse(&s, bad[i], strlen(bad[i]), &err) != -1)
            fail_msg("schema %zu accepted", i);
    test_schema(&s);
    px_buf b = PX_BUF_INIT;
    px_assert_ok(px_pod_schema_format(&s, &b, &err), &err);
    assert_int_equal(b.len, strlen(test_schema_json));
    assert_memory_equal(b.data, test_schema_json, b.len);
    px_buf_free(&b);
}

static void test_csv_and_jsonl_import(void **state) {
    (void)state;
    pod_fixture f;
    fixture_open(&f);
    create_ds(&f, "tx");
    px_err err = {0};
    px_assert_fails(import_text(&f, "nope", PX_POD_CSV, "a\n1\n", &err), &err, PX_E_NOTFOUND);
    /* columns in any order, quoted fields, CRLF, a BOM, no final newline */
    const char *csv = "\xEF\xBB\xBFuser,txn,amount,n,note\r\n"
                      "alice,t1,12.5,3,aGk=\r\n"
                      "\"bob, jr.\",\"t\"\"2\",-0.25,-9223372036854775808,\n"
                      "\"multi\nline\",t3,1e3,0,AA==";
    px_assert_ok(import_text(&f, "tx", PX_POD_CSV, csv, &err), &err);
    assert_int_equal(count_records(&f, "tx"), 3);
    const char *jsonl = "{\"txn\":\"t4\",\"user\":\"carol\",\"amount\":7,\"n\":1,\"note\":\"\"}\n"
                        "{\"note\":\"AQI=\",\"n\":2,\"amount\":-1.5,\"user\":\"dave\",\"txn\":\"t5\"}\r\n";
    px_assert_ok(import_text(&f, "tx", PX_POD_JSONL, jsonl, &err), &err);
    assert_int_equal(count_records(&f, "tx"), 5);

    /* the export is a PXR1 stream with the provenance columns */
    px_buf out = PX_BUF_INIT;
    px_pod_export_info info;
    px_assert_ok(px_pod_export(f.pod, "tx", &out, &info, &err), &err);
    assert_int_equal(info.records, 5);
    assert_int_equal(info.unsigned_records, 5);
    uint8_t d[32];
    px_sha256(d, out.data, out.len);
    assert_memory_equal(d, info.digest, 32);
    px_records_reader r;
    px_assert_ok(px_records_open(&r, out.data, out.len, &err), &err);
    assert_int_equal(r.schema.nfields, 7);
    assert_string_equal(r.schema.fields[5].name, "px_source");
    assert_string_equal(r.schema.fields[6].name, "px_sig");
    assert_int_equal(r.schema.user_field, 1);
    px_value v[7];
    uint8_t flags;
    assert_int_equal(px_records_next(&r, v, &flags, &err), 1);
    assert_int_equal(v[0].len, 2);
    assert_memory_equal(v[0].p, "t1", 2);
    assert_true(v[2].r == 12.5);
    assert_int_equal(v[3].i, 3);
    assert_int_equal(v[4].len, 2);
    assert_memory_equal(v[4].p, "hi", 2);
    assert_int_equal(px_records_next(&r, v, &flags, &err), 1);
    assert_int_equal(v[1].len, 8);
    assert_memory_equal(v[1].p, "bob, jr.", 8);
    assert_memory_equal(v[0].p, "t\"2", 3);
    assert_true(v[3].i == INT64_MIN);
    assert_int_equal(px_records_next(&r, v, &flags, &err), 1);
    assert_memory_equal(v[1].p, "multi\nline", 10);
    assert_true(v[2].r == 1000.0);
    px_buf_free(&out);
    fixture_close(&f);
}

/* Each of these fails, names the line, and stores nothing. */
static void test_bad_rows_store_nothing(void **state) {
    (void)state;
    pod_fixture f;
    fixture_open(&f);
    create_ds(&f, "tx");
    px_err err = {0};
    px_assert_ok(import_text(&f, "tx", PX_POD_CSV, "txn,user,amount,n,note\nt0,a,1,1,\n", &err), &err);
    static const struct {
        px_pod_format fmt;
        const char *text, *want;
    } cases[] = {
        {PX_POD_CSV, "", "empty file"},
        {PX_POD_CSV, "txn,user,amount,n\nt1,a,1,1\n", "missing column \"note\""},
        {PX_POD_CSV, "txn,user,amount,n,note,zzz\n", "unknown column"},
        {PX_POD_CSV, "txn,user,amount,n,note,n\n", "duplicate column"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,a,1,1,\nt2,a,x,1,\n", "line 3: column amount"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,a,1,1.5,\n", "line 2: column n"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,a,1,99999999999999999999,\n", "64 bits"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,a,1,,\n", "column n: empty"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,,1,1,\n", "line 2: column user: empty value"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,\"\",1,1,\n", "column user: empty value"},
        {PX_POD_JSONL, "{\"txn\":\"t1\",\"user\":\"\",\"amount\":1,\"n\":1,\"note\":\"\"}\n", "column user: empty"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,a,inf,1,\n", "column amount"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,a,1e999,1,\n", "out of range"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,a,1,1,!!\n", "column note"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,a,1,1\n", "4 fields"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,\"a,1,1,\n", "unterminated"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,a\"b,1,1,\n", "quote inside"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,\"a\"b,1,1,\n", "followed by a comma"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt1,\xff,1,1,\n", "UTF-8"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt0,a,1,1,\n", "duplicate value of unique key column txn"},
        {PX_POD_CSV, "txn,user,amount,n,note\nt7,a,1,1,\nt7,b,1,1,\n", "line 3: duplicate value"},
        {PX_POD_CSV, "txn,user,amount,n,note,px_source\nt1,a,1,1,,x\n", "come together"},
        {PX_POD_JSONL, "{\"txn\":\"t1\",\"user\":\"a\",\"amount\":1,\"n\":1}\n", "missing column note"},
        {PX_POD_JSONL, "{\"txn\":\"t1\",\"user\":\"a\",\"amount\":1,\"n\":1,\"note\":\"\",\"x\":1}\n", "unknown member"},
        {PX_POD_JSONL, "{\"txn\":\"t1\",\"txn\":\"t2\",\"user\":\"a\",\"amount\":1,\"n\":1,\"note\":\"\"}\n", "duplicate"},
        {PX_POD_JSONL, "{\"txn\":\"t1\",\"user\":\"a\",\"amount\":\"1\",\"n\":1,\"note\":\"\"}\n", "expected a number"},
        {PX_POD_JSONL, "{\"txn\":\"t1\",\"user\":\"a\",\"amount\":1,\"n\":1.0,\"note\":\"\"}\n", "expected an integer"},
        {PX_POD_JSONL, "{\"txn\":\"t1\",\"user\":\"a\\u0000b\",\"amount\":1,\"n\":1,\"note\":\"\"}\n", "NUL"},
        {PX_POD_JSONL, "{\"txn\":\"t1\",\"user\":\"a\",\"amount\":1,\"n\":1,\"note\":\"\"}\n\n", "line 2: empty line"},
        {PX_POD_JSONL, "[1]\n", "expected a JSON object"},
        {PX_POD_JSONL, "{\"txn\":\"t1\",\n", "line 1"},
        {PX_POD_JSONL, "{\"txn\":\"t1\",\"user\":\"a\",\"amount\":1,\"n\":1,\"note\":\"\",\"px_source\":\"k+0000000g\","
                       "\"px_sig\":\"AA==\"}\n",
         "px_source key id"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memset(&err, 0, sizeof err);
        if (import_text(&f, "tx", cases[i].fmt, cases[i].text, &err) != -1)
            fail_msg("case %zu was accepted", i);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: \"%s\" does not mention \"%s\"", i, err.msg, cases[i].want);
        if (!strstr(err.msg, "nothing stored"))
            fail_msg("case %zu: \"%s\" does not say nothing was stored", i, err.msg);
        assert_int_equal(count_records(&f, "tx"), 1);
    }
    fixture_close(&f);
}

static void test_huge_rows(void **state) {
    (void)state;
    pod_fixture f;
    fixture_open(&f);
    create_ds(&f, "tx");
    px_err err = {0};
    px_buf b = PX_BUF_INIT;
    px_assert_ok(px_buf_append_str(&b, "txn,user,amount,n,note\nt1,", &err), &err);
    px_assert_ok(px_buf_reserve(&b, PX_POD_ROW_MAX_BYTES + 16, &err), &err);
    memset(b.data + b.len, 'a', PX_POD_ROW_MAX_BYTES + 8);
    b.len += PX_POD_ROW_MAX_BYTES + 8;
    px_assert_ok(px_buf_append_str(&b, ",1,1,\nt2,b,1,1,\n", &err), &err);
    px_pod_report rep;
    memset(&rep, 0, sizeof rep);
    px_assert_fails(px_pod_import(f.pod, "tx", PX_POD_CSV, b.data, b.len, NULL, &rep, &err), &err, PX_E_LIMIT);
    assert_non_null(strstr(err.msg, "line 2: row exceeds"));
    assert_int_equal(rep.rows, 2); /* the row after it was still checked */
    assert_int_equal(rep.errors, 1);
    px_pod_report_free(&rep);
    /* a text value over the record limit, in a row under the row limit */
    b.len = 0;
    px_assert_ok(px_buf_append_str(&b, "{\"txn\":\"t1\",\"user\":\"", &err), &err);
    px_assert_ok(px_buf_reserve(&b, PX_VALUE_MAX_BYTES + 16, &err), &err);
    memset(b.data + b.len, 'a', PX_VALUE_MAX_BYTES + 1);
    b.len += PX_VALUE_MAX_BYTES + 1;
    px_assert_ok(px_buf_append_str(&b, "\",\"amount\":1,\"n\":1,\"note\":\"\"}\n", &err), &err);
    px_assert_fails(px_pod_import(f.pod, "tx", PX_POD_JSONL, b.data, b.len, NULL, NULL, &err), &err, PX_E_LIMIT);
    assert_int_equal(count_records(&f, "tx"), 0);
    px_buf_free(&b);
    fixture_close(&f);
}

static void test_report_lists_every_bad_line(void **state) {
    (void)state;
    pod_fixture f;
    fixture_open(&f);
    create_ds(&f, "tx");
    const char *csv = "txn,user,amount,n,note\nt1,a,x,1,\nt2,a,1,1,\nt3,a,1,y,\n";
    px_pod_report rep;
    memset(&rep, 0, sizeof rep);
    px_err err = {0};
    assert_int_equal(px_pod_import(f.pod, "tx", PX_POD_CSV, (const uint8_t *)csv, strlen(csv), NULL, &rep, &err), -1);
    assert_int_equal(rep.rows, 3);
    assert_int_equal(rep.errors, 2);
    px_assert_ok(px_buf_cstr(&rep.text, &err) ? 0 : -1, &err);
    assert_non_null(strstr((char *)rep.text.data, "line 2: column amount"));
    assert_non_null(strstr((char *)rep.text.data, "line 4: column n"));
    px_pod_report_free(&rep);
    fixture_close(&f);
}

static void test_signed_import_and_trust(void **state) {
    (void)state;
    pod_fixture f;
    fixture_open(&f);
    create_ds(&f, "tx");
    px_err err = {0};
    px_source_signer bank, phone, stranger;
    px_assert_ok(px_source_signer_generate(&bank, "bank", PX_SRC_P256, &err), &err);
    px_assert_ok(px_source_signer_generate(&phone, "phone", PX_SRC_ED25519, &err), &err);
    px_assert_ok(px_source_signer_generate(&stranger, "stranger", PX_SRC_ED25519, &err), &err);
    px_buf k = PX_BUF_INIT;
    px_assert_ok(px_source_key_format(&bank.pub, &k, &err), &err);
    px_assert_ok(px_pod_trust_add(f.pod, px_buf_cstr(&k, &err), &err), &err);
    px_assert_ok(px_pod_trust_add(f.pod, (char *)k.data, &err), &err); /* again: no-op */
    k.len = 0;
    px_assert_ok(px_source_key_format(&phone.pub, &k, &err), &err);
    px_assert_ok(px_pod_trust_add(f.pod, px_buf_cstr(&k, &err), &err), &err);
    /* a second key under a trusted name is refused */
    px_source_signer impostor;
    px_assert_ok(px_source_signer_generate(&impostor, "bank", PX_SRC_ED25519, &err), &err);
    k.len = 0;
    px_assert_ok(px_source_key_format(&impostor.pub, &k, &err), &err);
    px_assert_fails(px_pod_trust_add(f.pod, px_buf_cstr(&k, &err), &err), &err, PX_E_STATE);
    /* a forged entry (id does not match) is refused */
    char *t = px_buf_cstr(&k, &err);
    t[0] = 'c';
    px_assert_fails(px_pod_trust_add(f.pod, t, &err), &err, PX_E_VERIFY);
    px_source_key *keys;
    size_t nk;
    px_assert_ok(px_pod_trust_list(f.pod, &keys, &nk, &err), &err);
    assert_int_equal(nk, 2);
    assert_string_equal(keys[0].name, "bank");
    assert_int_equal(keys[0].id, bank.pub.id);
    px_source_keys_free(keys, nk);

    px_buf csv = PX_BUF_INIT;
    px_assert_ok(px_buf_append_str(&csv, "txn,user,amount,n,note,px_source,px_sig\n", &err), &err);
    signed_csv_line(&csv, &bank, "t1", "alice", "12.5", 1, "a");
    signed_csv_line(&csv, &phone, "t2", "alice", "-3.25", 2, "");
    px_assert_ok(px_buf_append_str(&csv, "t3,bob,1,1,,,\n", &err), &err);
    uint64_t added = 0;
    px_assert_ok(px_pod_import(f.pod, "tx", PX_POD_CSV, csv.data, csv.len, &added, NULL, &err), &err);
    assert_int_equal(added, 3);

    /* unknown source, then a bad signature: refused, nothing stored */
    size_t base = strlen("txn,user,amount,n,note,px_source,px_sig\n");
    csv.len = base;
    signed_csv_line(&csv, &stranger, "t4", "carol", "1", 1, "");
    px_assert_fails(px_pod_import(f.pod, "tx", PX_POD_CSV, csv.data, csv.len, NULL, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "unknown source \"stranger+"));
    csv.len = base;
    signed_csv_line(&csv, &bank, "t5", "carol", "1", 1, "");
    signed_csv_line(&csv, &bank, "t6", "carol", "2", 1, "");
    px_assert_ok(px_buf_cstr(&csv, &err) ? 0 : -1, &err);
    char *second = strstr((char *)csv.data + base, "\nt6,carol,2") + 1;
    memcpy(second + strlen("t6,carol,"), "3", 1); /* amount changed after signing */
    px_assert_fails(px_pod_import(f.pod, "tx", PX_POD_CSV, csv.data, csv.len, NULL, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "line 3: invalid signature by source \"bank+"));
    assert_int_equal(count_records(&f, "tx"), 3);

    px_pod_dataset_info *dl;
    size_t nd;
    px_assert_ok(px_pod_dataset_list(f.pod, &dl, &nd, &err), &err);
    assert_int_equal(nd, 1);
    assert_int_equal(dl[0].signed_records, 2);
    free(dl);
    px_pod_export_info info;
    px_buf out = PX_BUF_INIT;
    px_assert_ok(px_pod_export(f.pod, "tx", &out, &info, &err), &err);
    assert_int_equal(info.signed_records, 2);
    assert_int_equal(info.unsigned_records, 1);

    px_assert_ok(px_pod_trust_remove(f.pod, "phone", &err), &err);
    px_assert_fails(px_pod_trust_remove(f.pod, "phone", &err), &err, PX_E_NOTFOUND);
    px_buf_free(&out);
    px_buf_free(&csv);
    px_buf_free(&k);
    px_source_signer_free(&bank);
    px_source_signer_free(&phone);
    px_source_signer_free(&stranger);
    px_source_signer_free(&impostor);
    fixture_close(&f);
}

/* A trust store row edited behind PIXIU's back is reported, not used. */
static void test_tampered_trust_row(void **state) {
    (void)state;
    pod_fixture f;
    fixture_open(&f);
    px_err err = {0};
    px_source_signer s;
    px_assert_ok(px_source_signer_generate(&s, "bank", PX_SRC_ED25519, &err), &err);
    px_buf k = PX_BUF_INIT;
    px_assert_ok(px_source_key_format(&s.pub, &k, &err), &err);
    px_assert_ok(px_pod_trust_add(f.pod, px_buf_cstr(&k, &err), &err), &err);
    px_pod_close(f.pod);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"UPDATE trust SET key = 'bank+00000000' || substr(key, 14)\"", f.path);
    assert_int_equal(system(cmd), 0);
    px_assert_ok(px_pod_open(&f.pod, f.path, &err), &err);
    px_source_key *keys;
    size_t nk;
    px_assert_fails(px_pod_trust_list(f.pod, &keys, &nk, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "trust store entry \"bank\""));
    px_buf_free(&k);
    px_source_signer_free(&s);
    fixture_close(&f);
}

int main(void) {
    px_err err = {0};
    if (px_crypto_init(&err))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_csv_and_jsonl_import),
        cmocka_unit_test(test_bad_rows_store_nothing),
        cmocka_unit_test(test_huge_rows),
        cmocka_unit_test(test_report_lists_every_bad_line),
        cmocka_unit_test(test_signed_import_and_trust),
        cmocka_unit_test(test_tampered_trust_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
