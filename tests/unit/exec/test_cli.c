/* pixiu audit, trace and verify as a user runs them: against a log service
 * over real HTTP (in this process), with a membership file, and a receipt
 * file on disk. Exit statuses and the named causes are checked. */
#include <sys/wait.h>

#include "scenario.h"

typedef struct env {
    fx f;
    char dir[32], base[64], membership[96];
    px_signer log_key;
    px_log *log;
    px_http_server *srv;
} env;

static void write_file(const char *path, const void *p, size_t n) {
    px_err err = {0};
    px_assert_ok(px_file_write_atomic(path, p, n, 0644, &err), &err);
}

static void append_vkey(px_buf *b, const px_signer *s) {
    px_err err = {0};
    px_verifier v;
    px_signer_verifier(s, &v);
    px_assert_ok(px_verifier_format(&v, b, &err), &err);
}

/* Membership: the three PODs and the three executors of the fixture. */
static void write_membership(env *e) {
    px_buf b = PX_BUF_INIT;
    px_buf_append_str(&b, "{\"schema\":\"urn:pixiu:membership:v1\",\"nodes\":[", NULL);
    for (int i = 0; i < FX_PODS; i++) {
        px_buf_printf(&b, NULL, "{\"id\":\"pod-%d\",\"url\":\"http://127.0.0.1:1\",\"signing_key\":\"", i);
        append_vkey(&b, &e->f.pods[i]);
        px_buf_append_str(&b, "\",\"roles\":[\"pod\"]},", NULL);
    }
    for (int i = 0; i < FX_STAGES; i++) {
        px_signer node;
        char name[16];
        snprintf(name, sizeof name, "exec-%d", i);
        px_err err = {0};
        px_assert_ok(px_signer_generate(&node, name, &err), &err);
        px_buf_printf(&b, NULL, "{\"id\":\"%s\",\"url\":\"http://127.0.0.1:1\",\"signing_key\":\"", name);
        append_vkey(&b, &node);
        px_buf_append_str(&b, "\",\"platform_key\":\"", NULL);
        append_vkey(&b, &e->f.platform);
        px_buf_printf(&b, NULL, "\",\"tee\":\"process\",\"level\":1,\"roles\":[\"executor\"]}%s",
                      i + 1 < FX_STAGES ? "," : "]}");
    }
    snprintf(e->membership, sizeof e->membership, "%s/membership.json", e->dir);
    write_file(e->membership, b.data, b.len);
    px_buf_free(&b);
}

/* lifetime_ms: the manifest's deadline after its creation (0: default). */
static void env_open_x(env *e, faults x, int64_t lifetime_ms) {
    px_err err = {0};
    memset(e, 0, sizeof *e);
    fx_init(&e->f);
    if (lifetime_ms) {
        e->f.lifetime_ms = lifetime_ms;
        fx_new_manifest(&e->f, FX_STAGES_JSON);
    }
    strcpy(e->dir, "/tmp/px-cli-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    e->log_key = px_testlog_keyed()->key; /* the log the fixture's instances answer to */
    char path[96];
    snprintf(path, sizeof path, "%s/log.db", e->dir);
    px_log_opts o = {.store = path, .key = &e->log_key};
    px_assert_ok(px_log_open(&e->log, &o, &err), &err);
    px_http_server_opts so = {.handler = px_log_http_handler, .ctx = e->log};
    px_assert_ok(px_http_server_start(&e->srv, &so, &err), &err);
    snprintf(e->base, sizeof e->base, "http://127.0.0.1:%u", px_http_server_port(e->srv));
    tlog t;
    build(&e->f, &t, x);
    for (size_t i = 0; i < t.n; i++) {
        const uint8_t *p = t.raw[i].data;
        uint64_t first;
        px_assert_ok(px_log_append(e->log, &p, &t.raw[i].len, 1, &first, NULL, &err), &err);
    }
    free_log(&t);
    write_membership(e);
}

static void env_open(env *e, faults x) {
    env_open_x(e, x, 0);
}

static void env_close(env *e) {
    px_http_server_stop(e->srv);
    px_log_close(e->log);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
    assert_int_equal(system(cmd), 0);
    fx_free(&e->f);
}

/* Run `pixiu ARGS`, capture stdout+stderr, return the exit status. */
static int pixiu(px_buf *out, const char *fmt, ...) {
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s/pixiu %s 2>&1", PX_BUILD_DIR, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char chunk[4096];
    size_t n;
    px_buf_reset(out);
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0)
        px_buf_append(out, chunk, n, NULL);
    px_buf_cstr(out, NULL);
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void hex(char out[65], const uint8_t d[32]) {
    px_hex_encode(out, d, 32);
}

static void test_audit_and_trace(void **state) {
    (void)state;
    env e;
    px_buf out = PX_BUF_INIT;
    char mid[65], wk[65], res[65];
    env_open(&e, NONE);
    hex(mid, e.f.m.id);
    hex(wk, e.f.build_digest);
    int st = pixiu(&out, "audit %s --log %s --membership %s --build %s", mid, e.base, e.membership, wk);
    if (st != 0)
        fail_msg("audit exited %d:\n%s", st, (char *)out.data);
    assert_non_null(strstr((char *)out.data, "verdict: ok"));
    /* Without the right build nothing is attested. */
    assert_int_equal(pixiu(&out, "audit %s --log %s --membership %s --build %064d", mid, e.base, e.membership, 0), 1);
    assert_non_null(strstr((char *)out.data, "bad-plan"));
    assert_non_null(strstr((char *)out.data, "build not accepted"));
    assert_int_equal(pixiu(&out, "audit %s --log %s --membership %s --build %s --json", mid, e.base, e.membership, wk), 0);
    assert_non_null(strstr((char *)out.data, "\"verdict\":\"ok\""));
    uint8_t r[32];
    digest_of(r, "output-2");
    hex(res, r);
    st = pixiu(&out, "trace %s --log %s --membership %s --worker %s", res, e.base, e.membership, wk);
    if (st != 0)
        fail_msg("trace exited %d:\n%s", st, (char *)out.data);
    assert_non_null(strstr((char *)out.data, "released by pod-2 dataset transactions"));
    assert_int_equal(pixiu(&out, "trace %s --log %s --membership %s --worker %s --dot", res, e.base, e.membership, wk),
                     0);
    assert_non_null(strstr((char *)out.data, "digraph trace"));
    assert_int_equal(pixiu(&out, "trace %s --log %s --membership %s --worker %s --json --task %s", res, e.base,
                           e.membership, wk, mid), 0);
    assert_non_null(strstr((char *)out.data, "\"kind\":\"release\""));
    /* Under a worker build nobody used, no step verifies: said, exit 1. */
    assert_int_equal(pixiu(&out, "trace %s --log %s --membership %s --worker %064d", res, e.base, e.membership, 0), 1);
    assert_non_null(strstr((char *)out.data, "UNVERIFIED"));
    assert_int_equal(pixiu(&out, "trace nothex --log %s --membership %s", e.base, e.membership), 2);
    assert_int_equal(pixiu(&out, "trace %s --log %s", res, e.base), 2);
    env_close(&e);

    faults x = NONE;
    x.fail_stage = 1;
    x.fail_status = "trap";
    env_open(&e, x);
    hex(mid, e.f.m.id);
    assert_int_equal(pixiu(&out, "audit %s --log %s --membership %s --build %s", mid, e.base, e.membership, wk), 1);
    assert_non_null(strstr((char *)out.data, "verdict: failed (trap): stage 1 (wasm) on exec-1 signed a failure: trap"));
    env_close(&e);
    px_buf_free(&out);
}

/* A receipt of every entry in the log, cosigned by one witness. */
static void receipt_from_log_x(env *e, const uint8_t result[32], const px_audit *failure, px_signer *witness,
                               const char *path);

static void receipt_from_log(env *e, const uint8_t result[32], px_signer *witness, const char *path) {
    receipt_from_log_x(e, result, NULL, witness, path);
}

/* With failure: a failure receipt stating that verdict. */
static void receipt_from_log_x(env *e, const uint8_t result[32], const px_audit *failure, px_signer *witness,
                               const char *path) {
    px_err err = {0};
    uint64_t size;
    px_buf cp = PX_BUF_INIT, cos = PX_BUF_INIT, data[MAXE], proofs[MAXE], out = PX_BUF_INIT;
    px_assert_ok(px_log_checkpoint(e->log, &cp, &size, &err), &err);
    px_note note;
    px_assert_ok(px_note_parse(&note, (char *)cp.data, cp.len, &err), &err);
    px_assert_ok(px_cosig_sign(&note, witness, (uint64_t)(px_now_ms() / 1000), &err), &err);
    px_assert_ok(px_note_format(&note, &cos, &err), &err);
    px_note_free(&note);
    px_receipt_entry re[MAXE];
    for (uint64_t i = 0; i < size; i++) {
        memset(&data[i], 0, sizeof data[i]);
        memset(&proofs[i], 0, sizeof proofs[i]);
        px_assert_ok(px_log_entry(e->log, i, &data[i], &err), &err);
        px_assert_ok(px_log_inclusion(e->log, i, size, &proofs[i], &err), &err);
        re[i] = (px_receipt_entry){i, data[i].data, data[i].len, proofs[i].data, proofs[i].len / 32};
    }
    px_verifier lv;
    px_node_key pods[FX_PODS];
    px_signer_verifier(&e->log_key, &lv);
    px_cosigner wc;
    px_cosig_from_signer(witness, &wc);
    for (int i = 0; i < FX_PODS; i++) {
        snprintf(pods[i].id, sizeof pods[i].id, "pod-%d", i);
        px_signer_verifier(&e->f.pods[i], &pods[i].key);
    }
    px_receipt_parts parts = {
        .manifest = e->f.m.id, .result = result, .failure = failure, .log_key = &lv, .checkpoint = (char *)cos.data,
        .checkpoint_len = cos.len, .witnesses = &wc, .nwitnesses = 1, .pods = pods, .npods = FX_PODS,
        .platforms = e->f.nodes, .nplatforms = FX_STAGES, .builds = (const uint8_t(*)[32])e->f.build_digest,
        .nbuilds = 1, .entries = re, .nentries = (size_t)size};
    px_assert_ok(px_receipt_build(&out, &parts, &err), &err);
    write_file(path, out.data, out.len);
    for (uint64_t i = 0; i < size; i++) {
        px_buf_free(&data[i]);
        px_buf_free(&proofs[i]);
    }
    px_buf_free(&cp);
    px_buf_free(&cos);
    px_buf_free(&out);
}

static void test_verify(void **state) {
    (void)state;
    env e;
    px_err err = {0};
    px_buf out = PX_BUF_INIT, r = PX_BUF_INIT;
    env_open(&e, NONE);
    px_signer witness;
    px_assert_ok(px_signer_generate(&witness, "witness.example", &err), &err);
    uint8_t result[32];
    digest_of(result, "output-2");
    char path[96], lk[96], wk[96];
    snprintf(path, sizeof path, "%s/receipt.json", e.dir);
    snprintf(lk, sizeof lk, "%s/log.vkey", e.dir);
    snprintf(wk, sizeof wk, "%s/witness.vkey", e.dir);
    receipt_from_log(&e, result, &witness, path);
    px_verifier lv;
    px_signer_verifier(&e.log_key, &lv);
    px_assert_ok(px_verifier_format(&lv, &r, &err), &err);
    write_file(lk, r.data, r.len);
    px_buf_reset(&r);
    px_cosigner wc;
    px_cosig_from_signer(&witness, &wc);
    px_assert_ok(px_cosig_format(&wc, &r, &err), &err);
    write_file(wk, r.data, r.len);
    char build[65];
    hex(build, e.f.build_digest);
    int st = pixiu(&out, "verify %s --membership %s --log-key %s --witness %s --worker %s", path, e.membership, lk, wk,
                   build);
    if (st != 0)
        fail_msg("verify exited %d:\n%s", st, (char *)out.data);
    assert_non_null(strstr((char *)out.data, "receipt ok"));
    /* Without a trust root a receipt proves nothing about its network. */
    assert_int_equal(pixiu(&out, "verify %s", path), 1);
    assert_non_null(strstr((char *)out.data, "unpinned"));
    /* Pinned to another witness, a flipped byte, a missing file. */
    assert_int_equal(pixiu(&out, "verify %s --witness %s", path, lk), 2);
    px_buf_reset(&r);
    px_assert_ok(px_file_read(path, 1 << 24, &r, &err), &err);
    r.data[r.len / 2] ^= 0x01;
    write_file(path, r.data, r.len);
    assert_int_equal(pixiu(&out, "verify %s --membership %s --log-key %s --witness %s --worker %s", path, e.membership,
                           lk, wk, build), 1);
    assert_non_null(strstr((char *)out.data, "pixiu: verify: the receipt does not verify: receipt: "));
    assert_int_equal(pixiu(&out, "verify %s/nope.json", e.dir), 2);
    px_buf_free(&out);
    px_buf_free(&r);
    env_close(&e);
}

/* An executor killed after its instance accepted its input: once the
 * deadline has passed, `pixiu audit` blames it from the log alone, and its
 * failure receipt verifies offline (exit 1, naming the failed stage) while
 * the same receipt with a byte flipped does not (exit 1, another line). */
static void test_failure_cli(void **state) {
    (void)state;
    env e;
    px_err err = {0};
    px_buf out = PX_BUF_INIT, r = PX_BUF_INIT;
    faults x = NONE;
    x.drop_stage = 1;
    x.accept_dropped = 1;
    env_open_x(&e, x, 1500);
    while (px_now_ms() <= e.f.m.deadline + 1000)
        usleep(100 * 1000);
    char mid[65], wk[65];
    hex(mid, e.f.m.id);
    hex(wk, e.f.build_digest);
    assert_int_equal(pixiu(&out, "audit %s --log %s --membership %s --build %s", mid, e.base, e.membership, wk), 1);
    assert_non_null(strstr((char *)out.data, "verdict: missing (silent): stage 1 (wasm) partition 0 on exec-1 "
                                             "accepted its input"));
    assert_non_null(strstr((char *)out.data, "\nblamed: exec-1\n"));
    assert_int_equal(
        pixiu(&out, "audit %s --log %s --membership %s --build %s --json", mid, e.base, e.membership, wk), 1);
    assert_non_null(strstr((char *)out.data, "\"blamed\":\"exec-1\""));
    assert_non_null(strstr((char *)out.data, "\"status\":\"silent\""));

    /* The failure receipt, as the dispatcher builds it. */
    px_entry ent[MAXE];
    size_t n = 0;
    uint64_t size;
    px_buf cp = PX_BUF_INIT;
    px_assert_ok(px_log_checkpoint(e.log, &cp, &size, &err), &err);
    for (uint64_t i = 0; i < size; i++, n++) {
        px_buf b = PX_BUF_INIT;
        px_assert_ok(px_log_entry(e.log, i, &b, &err), &err);
        px_assert_ok(px_entry_parse(&ent[i], i, b.data, b.len, &err), &err);
        px_buf_free(&b);
    }
    px_audit a;
    px_assert_ok(px_audit_run_at(&a, e.f.m.id, ent, n, e.f.pod_keys, FX_PODS, fx_check, &e.f, px_now_ms(), &err),
                 &err);
    for (size_t i = 0; i < n; i++)
        px_entry_free(&ent[i]);
    px_signer witness;
    px_assert_ok(px_signer_generate(&witness, "witness.example", &err), &err);
    char path[96];
    snprintf(path, sizeof path, "%s/failure.json", e.dir);
    receipt_from_log_x(&e, NULL, &a, &witness, path);
    px_audit_free(&a);
    /* Verified against the network it must come from. */
    char lk[96], wf[96], root[512];
    snprintf(lk, sizeof lk, "%s/log.vkey", e.dir);
    snprintf(wf, sizeof wf, "%s/witness.vkey", e.dir);
    px_verifier lv;
    px_signer_verifier(&e.log_key, &lv);
    px_assert_ok(px_verifier_format(&lv, &r, &err), &err);
    write_file(lk, r.data, r.len);
    px_buf_reset(&r);
    px_cosigner wc;
    px_cosig_from_signer(&witness, &wc);
    px_assert_ok(px_cosig_format(&wc, &r, &err), &err);
    write_file(wf, r.data, r.len);
    px_buf_reset(&r);
    snprintf(root, sizeof root, "--membership %s --log-key %s --witness %s --build %s", e.membership, lk, wf, wk);
    assert_int_equal(pixiu(&out, "verify %s %s", path, root), 1);
    if (!strstr((char *)out.data, "FAILED at stage 1 partition 0 on exec-1: silent"))
        fail_msg("verify does not name the failed stage:\n%s", (char *)out.data);
    assert_non_null(strstr((char *)out.data, "blamed: exec-1"));
    assert_null(strstr((char *)out.data, "does not verify"));
    assert_int_equal(pixiu(&out, "verify %s %s --json", path, root), 1);
    assert_non_null(strstr((char *)out.data, "\"valid\":true"));
    assert_non_null(strstr((char *)out.data, "\"outcome\":\"failed\""));
    assert_non_null(strstr((char *)out.data, "\"blamed\":\"exec-1\""));
    /* One byte flipped: does not verify, and says so differently. */
    px_assert_ok(px_file_read(path, 1 << 24, &r, &err), &err);
    r.data[r.len / 2] ^= 0x01;
    write_file(path, r.data, r.len);
    assert_int_equal(pixiu(&out, "verify %s %s", path, root), 1);
    assert_non_null(strstr((char *)out.data, "pixiu: verify: the receipt does not verify: "));
    assert_null(strstr((char *)out.data, "FAILED at stage"));
    assert_int_equal(pixiu(&out, "verify %s %s --json", path, root), 1);
    assert_non_null(strstr((char *)out.data, "\"valid\":false"));
    px_buf_free(&cp);
    px_buf_free(&out);
    px_buf_free(&r);
    env_close(&e);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_audit_and_trace), cmocka_unit_test(test_verify),
                                       cmocka_unit_test(test_failure_cli)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
