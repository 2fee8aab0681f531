/* Receipts pinned to a trust root. The attack: a consumer runs its task on
 * a private network of its own making (its own PODs, its own platform
 * keys), appends the entries to the real log (any member may) and has the
 * real witness cosign the checkpoint. The receipt is self-consistent and
 * the log and witness are real; only the trust root (the real membership)
 * shows that its PODs and platforms are not the network's. */
#include <sys/wait.h>

#include "scenario.h"

typedef struct net {
    char dir[32];
    px_signer log_key, witness_key;
    px_log *log;
    /* the real network's PODs and platform, by the fixture's node ids */
    px_signer pods[FX_PODS], platform;
    px_node_key pod_pins[FX_PODS];
    px_node_platform platform_pins[FX_STAGES];
    px_verifier log_pin;
    px_cosigner witness_pin;
} net;

static void net_open(net *n) {
    px_err err = {0};
    char path[64];
    memset(n, 0, sizeof *n);
    strcpy(n->dir, "/tmp/px-rpin-XXXXXX");
    assert_non_null(mkdtemp(n->dir));
    n->log_key = px_testlog_keyed()->key; /* the log the fixture's instances answer to */
    px_assert_ok(px_signer_generate(&n->witness_key, "witness-1", &err), &err);
    px_assert_ok(px_signer_generate(&n->platform, "exec-platform", &err), &err);
    for (int i = 0; i < FX_PODS; i++) {
        snprintf(n->pod_pins[i].id, sizeof n->pod_pins[i].id, "pod-%d", i);
        px_assert_ok(px_signer_generate(&n->pods[i], n->pod_pins[i].id, &err), &err);
        px_signer_verifier(&n->pods[i], &n->pod_pins[i].key);
    }
    for (int i = 0; i < FX_STAGES; i++) {
        snprintf(n->platform_pins[i].id, sizeof n->platform_pins[i].id, "exec-%d", i);
        px_signer_verifier(&n->platform, &n->platform_pins[i].platform);
    }
    px_signer_verifier(&n->log_key, &n->log_pin);
    px_cosig_from_signer(&n->witness_key, &n->witness_pin);
    snprintf(path, sizeof path, "%s/log.db", n->dir);
    px_log_opts o = {.store = path, .key = &n->log_key};
    px_assert_ok(px_log_open(&n->log, &o, &err), &err);
}

static void net_close(net *n) {
    px_log_close(n->log);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", n->dir);
    assert_int_equal(system(cmd), 0);
}

enum { COSIGN = 1, LIST_WITNESS = 2 };

/* The task's entries appended to the real log; the real witness cosigns;
 * the receipt lists the keys the task used (the fixture's). */
static void receipt(fx *f, net *n, px_buf *out, int flags) {
    px_err err = {0};
    tlog t;
    build(f, &t, NONE);
    const uint8_t *ents[MAXE];
    size_t lens[MAXE];
    for (size_t i = 0; i < t.n; i++) {
        ents[i] = t.raw[i].data;
        lens[i] = t.raw[i].len;
    }
    uint64_t first, size;
    px_buf cp = PX_BUF_INIT, cosigned = PX_BUF_INIT, proofs[MAXE];
    px_assert_ok(px_log_append(n->log, ents, lens, t.n, &first, NULL, &err), &err);
    px_assert_ok(px_log_checkpoint(n->log, &cp, &size, &err), &err);
    px_note note;
    px_assert_ok(px_note_parse(&note, (char *)cp.data, cp.len, &err), &err);
    if (flags & COSIGN)
        px_assert_ok(px_cosig_sign(&note, &n->witness_key, (uint64_t)(px_now_ms() / 1000), &err), &err);
    px_assert_ok(px_note_format(&note, &cosigned, &err), &err);
    px_note_free(&note);
    px_receipt_entry re[MAXE];
    for (size_t i = 0; i < t.n; i++) {
        memset(&proofs[i], 0, sizeof proofs[i]);
        px_assert_ok(px_log_inclusion(n->log, first + i, size, &proofs[i], &err), &err);
        re[i] = (px_receipt_entry){first + i, ents[i], lens[i], proofs[i].data, proofs[i].len / 32};
    }
    px_node_key pods[FX_PODS];
    for (int i = 0; i < FX_PODS; i++) {
        snprintf(pods[i].id, sizeof pods[i].id, "pod-%d", i);
        px_signer_verifier(&f->pods[i], &pods[i].key);
    }
    uint8_t result[32];
    digest_of(result, "output-2");
    px_receipt_parts parts = {
        .manifest = f->m.id, .result = result, .log_key = &n->log_pin, .checkpoint = (char *)cosigned.data,
        .checkpoint_len = cosigned.len, .witnesses = &n->witness_pin, .nwitnesses = (flags & LIST_WITNESS) ? 1 : 0,
        .pods = pods, .npods = FX_PODS, .platforms = f->nodes, .nplatforms = FX_STAGES,
        .builds = (const uint8_t(*)[32])f->build_digest, .nbuilds = 1, .entries = re, .nentries = t.n};
    px_assert_ok(px_receipt_build(out, &parts, &err), &err);
    for (size_t i = 0; i < t.n; i++)
        px_buf_free(&proofs[i]);
    px_buf_free(&cp);
    px_buf_free(&cosigned);
    free_log(&t);
}

/* The real network as a verifier pins it. */
static px_receipt_root real_root(net *n, const uint8_t *build) {
    return (px_receipt_root){.log_key = &n->log_pin, .pods = n->pod_pins, .npods = FX_PODS,
                             .platforms = n->platform_pins, .nplatforms = FX_STAGES,
                             .builds = (const uint8_t(*)[32])build, .nbuilds = 1, .witnesses = &n->witness_pin,
                             .nwitnesses = 1, .min_witnesses = 1};
}

static void test_forged_receipt(void **state) {
    (void)state;
    fx f; /* the consumer's private network */
    net n;
    px_err err = {0};
    fx_init(&f);
    net_open(&n);
    px_buf r = PX_BUF_INIT;
    receipt(&f, &n, &r, COSIGN | LIST_WITNESS);
    /* What used to pass: real log key, real witness, all consistent. */
    px_receipt_pins old = {&n.log_pin, &n.witness_pin, 1};
    px_receipt_summary s;
    px_assert_ok(px_receipt_check(r.data, r.len, &old, &s, &err), &err);
    px_receipt_summary_free(&s);
    /* Against the real membership: the first POD key is not the network's. */
    px_receipt_root root = real_root(&n, f.build_digest);
    px_assert_fails(px_receipt_verify(r.data, r.len, &root, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "POD key pod-0+"));
    assert_non_null(strstr(err.msg, "of node pod-0 is not the pinned key pod-0+"));
    /* Even with the PODs right, the platform key gives it away. */
    px_node_key fake_pods[FX_PODS];
    for (int i = 0; i < FX_PODS; i++) {
        strcpy(fake_pods[i].id, f.pod_keys[i].id);
        px_signer_verifier(&f.pods[i], &fake_pods[i].key);
    }
    root.pods = fake_pods;
    px_assert_fails(px_receipt_verify(r.data, r.len, &root, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "platform key platform+"));
    assert_non_null(strstr(err.msg, "of node exec-0 is not the pinned key exec-platform+"));
    /* A node the root does not know at all. */
    root.npods = 2;
    px_assert_fails(px_receipt_verify(r.data, r.len, &root, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "POD key pod-2+"));
    assert_non_null(strstr(err.msg, "of node pod-2 is not pinned by the trust root"));
    /* The consumer's own network pins it: then it verifies. */
    root = real_root(&n, f.build_digest);
    root.pods = fake_pods;
    root.platforms = f.nodes;
    px_assert_ok(px_receipt_verify(r.data, r.len, &root, &s, &err), &err);
    assert_int_equal(s.ncosigs, 1);
    assert_true(s.pinned);
    px_receipt_summary_free(&s);
    /* A build the verifier does not accept, another log key. */
    uint8_t other[32] = {1};
    root.builds = (const uint8_t(*)[32])other;
    px_assert_fails(px_receipt_verify(r.data, r.len, &root, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "build "));
    assert_non_null(strstr(err.msg, "is not pinned"));
    root.builds = (const uint8_t(*)[32])f.build_digest;
    px_verifier wrong;
    px_signer_verifier(&n.witness_key, &wrong);
    root.log_key = &wrong;
    px_assert_fails(px_receipt_verify(r.data, r.len, &root, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "is not the pinned log key"));
    /* No trust root at all. */
    px_assert_fails(px_receipt_verify(r.data, r.len, NULL, &s, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "no trust root"));
    px_buf_free(&r);
    net_close(&n);
    fx_free(&f);
}

/* The witness policy counts cosignatures by pinned witnesses in the
 * checkpoint, whatever the receipt's own witness list says. */
static void test_witness_policy(void **state) {
    (void)state;
    fx f;
    net n;
    px_err err = {0};
    fx_init(&f);
    net_open(&n);
    px_receipt_root root = real_root(&n, f.build_digest);
    px_node_key pods[FX_PODS];
    for (int i = 0; i < FX_PODS; i++) {
        strcpy(pods[i].id, f.pod_keys[i].id);
        px_signer_verifier(&f.pods[i], &pods[i].key);
    }
    root.pods = pods;
    root.platforms = f.nodes;
    px_receipt_summary s;
    px_buf r = PX_BUF_INIT;
    /* Cosigned, but the receipt lists no witness: the cosignature counts. */
    receipt(&f, &n, &r, COSIGN);
    px_assert_ok(px_receipt_verify(r.data, r.len, &root, &s, &err), &err);
    assert_int_equal(s.ncosigs, 1);
    px_receipt_summary_free(&s);
    /* Not cosigned at all: below the policy, named. */
    px_buf_reset(&r);
    receipt(&f, &n, &r, LIST_WITNESS);
    px_assert_fails(px_receipt_verify(r.data, r.len, &root, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "cosigned by 0 of the 1 pinned witnesses, the witness policy needs 1"));
    px_buf_reset(&r);
    receipt(&f, &n, &r, 0);
    px_assert_fails(px_receipt_verify(r.data, r.len, &root, &s, &err), &err, PX_E_VERIFY);
    /* A policy of none accepts it; a policy above the pinned count is an error. */
    root.min_witnesses = 0;
    px_assert_ok(px_receipt_verify(r.data, r.len, &root, &s, &err), &err);
    assert_int_equal(s.ncosigs, 0);
    px_receipt_summary_free(&s);
    root.min_witnesses = 2;
    px_assert_fails(px_receipt_verify(r.data, r.len, &root, &s, &err), &err, PX_E_INVALID);
    /* A listed witness the root does not pin. */
    px_buf_reset(&r);
    receipt(&f, &n, &r, COSIGN | LIST_WITNESS);
    root.min_witnesses = 0;
    root.nwitnesses = 0;
    px_assert_fails(px_receipt_verify(r.data, r.len, &root, &s, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "witness witness-1 is not pinned"));
    px_buf_free(&r);
    net_close(&n);
    fx_free(&f);
}

/* ---- the command line --------------------------------------------------------- */

static int pixiu(px_buf *out, const char *fmt, ...) {
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s/pixiu %s 2>&1", PX_BUILD_DIR, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char chunk[4096];
    size_t k;
    px_buf_reset(out);
    while ((k = fread(chunk, 1, sizeof chunk, p)) > 0)
        px_buf_append(out, chunk, k, NULL);
    px_buf_cstr(out, NULL);
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void vkey(px_buf *b, const px_signer *s) {
    px_err err = {0};
    px_verifier v;
    px_signer_verifier(s, &v);
    px_assert_ok(px_verifier_format(&v, b, &err), &err);
}

static void node(px_buf *b, const char *id, const px_signer *signing, const px_signer *platform, const char *roles) {
    px_signer k;
    px_err err = {0};
    if (!signing) {
        px_assert_ok(px_signer_generate(&k, id, &err), &err);
        signing = &k;
    }
    px_buf_printf(b, NULL, "%s{\"id\":\"%s\",\"url\":\"http://127.0.0.1:1\",\"signing_key\":\"",
                  b->len > 60 ? "," : "", id);
    vkey(b, signing);
    if (platform) {
        px_buf_append_str(b, "\",\"platform_key\":\"", NULL);
        vkey(b, platform);
        px_buf_append_str(b, "\",\"tee\":\"process\",\"level\":1", NULL);
    } else {
        px_buf_append_str(b, "\"", NULL);
    }
    px_buf_printf(b, NULL, ",\"roles\":[%s]}", roles);
}

/* A membership: log, witness, the given PODs and one platform for exec-*. */
static void membership(const char *path, net *n, px_signer *pods, px_signer *platform) {
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    px_buf_append_str(&b, "{\"schema\":\"urn:pixiu:membership:v1\",\"nodes\":[", NULL);
    node(&b, "log-1", &n->log_key, NULL, "\"log\"");
    node(&b, "witness-1", &n->witness_key, NULL, "\"witness\"");
    for (int i = 0; i < FX_PODS; i++)
        node(&b, n->pod_pins[i].id, &pods[i], NULL, "\"pod\"");
    for (int i = 0; i < FX_STAGES; i++)
        node(&b, n->platform_pins[i].id, NULL, platform, "\"executor\"");
    node(&b, "consumer-1", NULL, NULL, "\"consumer\"");
    px_buf_append_str(&b, "]}", NULL);
    px_assert_ok(px_file_write_atomic(path, b.data, b.len, 0644, &err), &err);
    px_buf_free(&b);
}

static void test_cli(void **state) {
    (void)state;
    fx f;
    net n;
    px_err err = {0};
    fx_init(&f);
    net_open(&n);
    px_buf r = PX_BUF_INIT, out = PX_BUF_INIT, k = PX_BUF_INIT;
    receipt(&f, &n, &r, COSIGN | LIST_WITNESS);
    char path[96], real[96], own[96], lk[96], wk[96], build[65], plk[96];
    snprintf(path, sizeof path, "%s/forged.json", n.dir);
    snprintf(real, sizeof real, "%s/real.json", n.dir);
    snprintf(own, sizeof own, "%s/own.json", n.dir);
    snprintf(lk, sizeof lk, "%s/log.vkey", n.dir);
    snprintf(wk, sizeof wk, "%s/witness.vkey", n.dir);
    snprintf(plk, sizeof plk, "%s/platform.vkey", n.dir);
    px_assert_ok(px_file_write_atomic(path, r.data, r.len, 0644, &err), &err);
    membership(real, &n, n.pods, &n.platform);
    membership(own, &n, f.pods, &f.platform);
    px_hex_encode(build, f.build_digest, 32);
    /* The forged receipt against the real network: refused, naming the key. */
    assert_int_equal(pixiu(&out, "verify %s --membership %s --worker %s", path, real, build), 1);
    assert_non_null(strstr((char *)out.data, "of node pod-0 is not the pinned key pod-0+"));
    /* Against the network it really came from, it holds. */
    int st = pixiu(&out, "verify %s --membership %s --worker %s", path, own, build);
    if (st != 0)
        fail_msg("verify --membership exited %d:\n%s", st, (char *)out.data);
    assert_non_null(strstr((char *)out.data, "receipt ok"));
    assert_non_null(strstr((char *)out.data, "1 of 1 pinned witness"));
    assert_int_equal(pixiu(&out, "verify %s --membership %s --worker %s --json", path, own, build), 0);
    assert_non_null(strstr((char *)out.data, "\"pinned\":true"));
    /* No trust root: unpinned, and not ok. */
    assert_int_equal(pixiu(&out, "verify %s", path), 1);
    assert_non_null(strstr((char *)out.data, "unpinned"));
    /* Explicit pins: a log key alone leaves the PODs unpinned. */
    vkey(&k, &n.log_key);
    px_assert_ok(px_file_write_atomic(lk, k.data, k.len, 0644, &err), &err);
    px_buf_reset(&k);
    px_assert_ok(px_cosig_format(&n.witness_pin, &k, &err), &err);
    px_assert_ok(px_file_write_atomic(wk, k.data, k.len, 0644, &err), &err);
    assert_int_equal(pixiu(&out, "verify %s --log-key %s --witness %s --worker %s", path, lk, wk, build), 1);
    assert_non_null(strstr((char *)out.data, "of node pod-0 is not pinned by the trust root"));
    px_buf args = PX_BUF_INIT;
    for (int i = 0; i < FX_PODS; i++) {
        px_buf_reset(&k);
        vkey(&k, &f.pods[i]);
        px_buf_cstr(&k, NULL);
        px_buf_printf(&args, NULL, " --pod-key pod-%d=%s", i, (char *)k.data);
    }
    px_buf_reset(&k);
    vkey(&k, &f.platform);
    px_assert_ok(px_file_write_atomic(plk, k.data, k.len, 0644, &err), &err);
    for (int i = 0; i < FX_STAGES; i++)
        px_buf_printf(&args, NULL, " --platform-key exec-%d=%s", i, plk);
    px_buf_cstr(&args, NULL);
    st = pixiu(&out, "verify %s --log-key %s --witness %s --worker %s%s", path, lk, wk, build, (char *)args.data);
    if (st != 0)
        fail_msg("verify with explicit pins exited %d:\n%s", st, (char *)out.data);
    /* The witness policy: two cosignatures of one pinned witness cannot be. */
    assert_int_equal(pixiu(&out, "verify %s --log-key %s --witness %s --min-witnesses 2 --worker %s%s", path, lk, wk,
                           build, (char *)args.data), 2);
    /* Pins without a witness accept no cosignature as enough only when asked. */
    assert_int_equal(pixiu(&out, "verify %s --log-key %s --worker %s%s", path, lk, build, (char *)args.data), 1);
    assert_non_null(strstr((char *)out.data, "witness witness-1 is not pinned"));
    assert_int_equal(pixiu(&out, "verify %s --membership %s --pod-key nonsense --worker %s", path, own, build), 2);
    px_buf_free(&args);
    px_buf_free(&k);
    px_buf_free(&out);
    px_buf_free(&r);
    net_close(&n);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_forged_receipt), cmocka_unit_test(test_witness_policy),
                                       cmocka_unit_test(test_cli)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
