/* A λ instance in its own worker process, driven the way a node drives it:
 * spawn under the process backend, evidence checked by a recruiter, one
 * step over the framed channel. */
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "step_fixture.h"
#include "lambda/step_wire.h"
#include "pixiu/exec.h"
#include "pid_gone.h"

/* The commitment an opened output carried (checked by the successor). */
static uint8_t commit_scratch[32];

#define WORKER PX_BUILD_DIR "/pixiu_worker"

/* This process's build for the worker under test, as a node computes it. */
static px_lambda_build *test_build(void) {
    px_err err = {0};
    px_lambda_build *b = calloc(1, sizeof *b);
    assert_non_null(b);
    px_assert_ok(px_lambda_build_init(b, WORKER, &err), &err);
    return b;
}

static void test_build_free(px_lambda_build *b) {
    px_lambda_build_free(b);
    free(b);
}

typedef struct hosted {
    px_lambda_host h;
    px_buf cfg;
    uint8_t nonce[32];
} hosted;

static void host_start(const fixture *f, hosted *x, uint32_t index, const uint8_t *to) {
    px_err err = {0};
    x->cfg = (px_buf)PX_BUF_INIT;
    fx_config(f, &x->cfg, index, to, 1);
    px_random(x->nonce, 32);
    px_lambda_host_req req = {&px_tee_process, WORKER, NULL, &f->platform, "node-a", "aggregate", NULL,
                              x->cfg.data, x->cfg.len, x->nonce, 0, 10, 20000, 0};
    px_assert_ok(px_lambda_host_start(&x->h, &req, &err), &err);
}

static void host_done(hosted *x) {
    px_lambda_host_free(&x->h);
    px_buf_free(&x->cfg);
}

/* The recruiter recomputes the measurement from what it asked for, under
 * the build it accepts (here the one this machine runs). */
static void expected_measurement(const hosted *x, uint8_t m[32]) {
    uint8_t c[32];
    px_err err = {0};
    px_lambda_build *b = test_build();
    px_sha256(c, x->cfg.data, x->cfg.len);
    px_assert_ok(px_tee_measure(m, b->digest, "aggregate", px_tee_builtin_code, c, &err), &err);
    test_build_free(b);
}

static void proc_status_has(pid_t pid, const char *line) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    px_buf b = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_file_read(path, 1 << 20, &b, &err), &err);
    char *s = px_buf_cstr(&b, &err);
    if (!strstr(s, line))
        fail_msg("worker status lacks \"%s\"", line);
    px_buf_free(&b);
}

static void test_worker_step(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    hosted x;
    host_start(&f, &x, 1, f.successor.pk);
    /* The recruiter's checks. */
    uint8_t m[32];
    expected_measurement(&x, m);
    px_evidence_policy pol = {&f.platform_v, 1, 1, m, x.nonce, "node-a", NULL, 0, NULL};
    px_evidence ev;
    px_err err = {0};
    px_assert_ok(px_evidence_verify(x.h.evidence.data, x.h.evidence.len, &pol, &ev, NULL, &err), &err);
    assert_memory_equal(ev.box_pk, x.h.box_pk, 32);
    unsigned want = PX_ISO_SECCOMP | PX_ISO_NODUMP | PX_ISO_NONEWPRIVS | PX_ISO_NETNS | PX_ISO_RLIMIT_CPU;
    assert_int_equal(ev.isolation & want, want);
    /* The worker really is locked down. */
    proc_status_has(x.h.worker.pid, "Seccomp:\t2");
    proc_status_has(x.h.worker.pid, "NoNewPrivs:\t1");
    /* Wrong nonce, wrong measurement: refused. */
    uint8_t other[32];
    px_random(other, 32);
    pol.nonce = other;
    px_assert_fails(px_evidence_verify(x.h.evidence.data, x.h.evidence.len, &pol, NULL, NULL, &err), &err,
                    PX_E_VERIFY);
    pol.nonce = x.nonce;
    pol.measurement = other;
    px_assert_fails(px_evidence_verify(x.h.evidence.data, x.h.evidence.len, &pol, NULL, NULL, &err), &err,
                    PX_E_VERIFY);
    /* The step. */
    px_buf vec = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, out = PX_BUF_INIT;
    fx_vector(&vec, 127, 3.0);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, x.h.box_pk);
    fx_seal(&sealed, &vec, x.h.box_pk);
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result r;
    px_assert_ok(px_lambda_host_step(&x.h, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &r, &err), &err);
    assert_true(r.ok);
    px_exec_proof p;
    px_assert_ok(px_lambda_proof_verify(&p, r.proof.data, r.proof.len, ev.sign_pk, &err), &err);
    assert_memory_equal(p.measurement, m, 32);
    px_assert_ok(px_open_committed(&out, commit_scratch, r.outputs[0].data, r.outputs[0].len, &f.successor, &err), &err);
    assert_int_equal(out.len, vec.len);
    assert_memory_equal(out.data, vec.data, vec.len);
    px_step_result_free(&r);
    host_done(&x);
    px_buf *bufs[] = {&vec, &rel, &sealed, &out};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        px_buf_free(bufs[i]);
}

static void test_worker_refuses(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_err err = {0};
    px_buf vec = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT;
    fx_vector(&vec, 16, 1.0);
    /* Tampered sealed input through the worker: signed bad-input proof. */
    hosted x;
    host_start(&f, &x, 1, f.successor.pk);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, x.h.box_pk);
    fx_seal(&sealed, &vec, x.h.box_pk);
    sealed.data[sealed.len - 1] ^= 0x80;
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result r;
    px_assert_ok(px_lambda_host_step(&x.h, NULL, 0, &in, 1, PX_TESTLOG_LAMBDA, &r, &err), &err);
    assert_false(r.ok);
    assert_string_equal(r.status, PX_STATUS_BAD_INPUT);
    px_exec_proof p;
    px_assert_ok(px_lambda_proof_verify(&p, r.proof.data, r.proof.len, x.h.sign_pk, &err), &err);
    assert_int_equal(r.noutputs, 0);
    px_step_result_free(&r);
    host_done(&x);
    /* A malformed STEP frame: still a signed refusal. */
    host_start(&f, &x, 1, f.successor.pk);
    px_bytes junk[2] = {{(const uint8_t *)"", 0}, {(const uint8_t *)"x", 1}};
    px_assert_ok(px_wire_send(x.h.worker.fd, PX_MSG_STEP, junk, 2, &err), &err);
    px_buf payload = PX_BUF_INIT;
    int type = 0;
    px_assert_ok(px_wire_recv(x.h.worker.fd, 10000, &type, &payload, &err), &err);
    assert_int_equal(type, PX_MSG_OUTCOME);
    px_bytes fl[2];
    size_t n = 0;
    px_assert_ok(px_wire_split(payload.data, payload.len, fl, 2, &n, &err), &err);
    assert_int_equal(n, 1);
    px_assert_ok(px_lambda_proof_verify(&p, fl[0].p, fl[0].n, x.h.sign_pk, &err), &err);
    assert_string_equal(p.status, PX_STATUS_BAD_INPUT);
    /* The refusal too is released only once shown in the log. */
    px_log_receipt lr;
    px_buf logged = PX_BUF_INIT, refusal = PX_BUF_INIT;
    px_buf_append(&refusal, fl[0].p, fl[0].n, &err);
    px_assert_ok(px_log_append_proven(px_testlog_get()->log, refusal.data, refusal.len, &lr, &err), &err);
    px_assert_ok(px_wire_logged_encode(&logged, &lr, &err), &err);
    px_assert_ok(px_wire_send_payload(x.h.worker.fd, PX_MSG_LOGGED, &logged, &err), &err);
    px_assert_ok(px_wire_recv(x.h.worker.fd, 10000, &type, &payload, &err), &err);
    assert_int_equal(type, PX_MSG_RESULT);
    px_assert_ok(px_wire_split(payload.data, payload.len, fl, 2, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_int_equal(fl[0].n, refusal.len);
    assert_memory_equal(fl[0].p, refusal.data, refusal.len);
    px_log_receipt_free(&lr);
    px_buf_free(&logged);
    px_buf_free(&refusal);
    px_buf_free(&payload);
    host_done(&x);
    /* A config the node itself refuses, and a kind the worker does not
     * have: no evidence is ever produced. */
    px_lambda_host h;
    uint8_t nonce[32] = {0};
    const char *bad = "{\"manifest\":\"00\"}";
    px_lambda_host_req req = {&px_tee_process, WORKER, NULL, &f.platform, "node-a", "aggregate", NULL, bad,
                              strlen(bad), nonce, 0, 10, 20000, 0};
    px_assert_fails(px_lambda_host_start(&h, &req, &err), &err, PX_E_INVALID);
    assert_non_null(strstr(err.msg, "stage config"));
    px_buf cfg = PX_BUF_INIT;
    fx_config_kind(&f, &cfg, 1, f.successor.pk, 1, "nosuch", NULL);
    req.kind = "nosuch";
    req.config = cfg.data;
    req.config_len = cfg.len;
    px_assert_fails(px_lambda_host_start(&h, &req, &err), &err, PX_E_INTERNAL);
    assert_non_null(strstr(err.msg, "no stage kind"));
    px_buf_free(&cfg);
    px_buf *bufs[] = {&vec, &rel, &sealed};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        px_buf_free(bufs[i]);
}

/* Drive a real worker by hand to the point where its ok proof waits to be
 * shown in the log; *accepted and *proof get its two statements. */
static void drive_to_outcome(const fixture *f, hosted *x, px_buf *accepted, px_buf *proof, px_buf *in_bufs) {
    px_err err = {0};
    host_start(f, x, 1, f->successor.pk);
    fx_vector(&in_bufs[0], 16, 1.0);
    fx_release(f, &in_bufs[1], &f->pod, in_bufs[0].data, in_bufs[0].len, x->h.box_pk);
    fx_seal(&in_bufs[2], &in_bufs[0], x->h.box_pk);
    px_step_input in = {in_bufs[2].data, in_bufs[2].len, in_bufs[1].data, in_bufs[1].len, NULL, 0};
    px_buf payload = PX_BUF_INIT, logged = PX_BUF_INIT;
    px_assert_ok(px_wire_step_send(x->h.worker.fd, NULL, 0, &in, 1, &err), &err);
    int type = 0;
    px_bytes fl[1];
    size_t n = 0;
    px_assert_ok(px_wire_recv(x->h.worker.fd, 10000, &type, &payload, &err), &err);
    assert_int_equal(type, PX_MSG_ACCEPTED);
    px_assert_ok(px_wire_split(payload.data, payload.len, fl, 1, &n, &err), &err);
    px_buf_append(accepted, fl[0].p, fl[0].n, &err);
    px_accepted a;
    px_assert_ok(px_accepted_verify(&a, accepted->data, accepted->len, x->h.sign_pk, &err), &err);
    assert_memory_equal(a.manifest, f->manifest, 32);
    assert_int_equal(a.index, 1);
    assert_int_equal(a.ninputs, 1);
    px_log_receipt lr;
    px_assert_ok(px_log_append_proven(px_testlog_get()->log, accepted->data, accepted->len, &lr, &err), &err);
    px_assert_ok(px_wire_logged_encode(&logged, &lr, &err), &err);
    px_assert_ok(px_wire_send_payload(x->h.worker.fd, PX_MSG_LOGGED, &logged, &err), &err);
    px_assert_ok(px_wire_recv(x->h.worker.fd, 10000, &type, &payload, &err), &err);
    assert_int_equal(type, PX_MSG_OUTCOME);
    px_assert_ok(px_wire_split(payload.data, payload.len, fl, 1, &n, &err), &err);
    px_buf_append(proof, fl[0].p, fl[0].n, &err);
    px_exec_proof p;
    px_assert_ok(px_lambda_proof_verify(&p, proof->data, proof->len, x->h.sign_pk, &err), &err);
    assert_string_equal(p.status, PX_STATUS_OK);
    px_log_receipt_free(&lr);
    px_buf_free(&payload);
    px_buf_free(&logged);
}

/* The worker's answer to a LOGGED that does not show its proof: an ERROR,
 * then the channel closes. Never a RESULT, so never a sealed output. */
static void expect_no_release(hosted *x, const px_log_receipt *shown) {
    px_err err = {0};
    px_buf logged = PX_BUF_INIT, payload = PX_BUF_INIT;
    px_assert_ok(px_wire_logged_encode(&logged, shown, &err), &err);
    px_assert_ok(px_wire_send_payload(x->h.worker.fd, PX_MSG_LOGGED, &logged, &err), &err);
    int type = 0;
    px_assert_ok(px_wire_recv(x->h.worker.fd, 10000, &type, &payload, &err), &err);
    assert_int_equal(type, PX_MSG_ERROR);
    if (!memmem(payload.data, payload.len, "releasing nothing", 17))
        fail_msg("worker error does not say it releases nothing: %.*s", (int)payload.len, (char *)payload.data);
    px_assert_fails(px_wire_recv(x->h.worker.fd, 10000, &type, &payload, &err), &err, PX_E_UNAVAILABLE);
    px_buf_free(&logged);
    px_buf_free(&payload);
    host_done(x);
}

/* Release after log: an instance that is never shown its proof in the log
 * its config names releases nothing, whatever the host shows it instead. */
static void test_worker_release_after_log(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    px_err err = {0};
    hosted x;
    px_buf acc = PX_BUF_INIT, proof = PX_BUF_INIT, in[3] = {PX_BUF_INIT, PX_BUF_INIT, PX_BUF_INIT};
    px_log_receipt lr;
    /* 1. Shown the accepted statement's entry instead of the proof's. */
    drive_to_outcome(&f, &x, &acc, &proof, in);
    px_assert_ok(px_log_append_proven(px_testlog_get()->log, acc.data, acc.len, &lr, &err), &err);
    expect_no_release(&x, &lr);
    px_log_receipt_free(&lr);
    /* 2. The proof really in a log, but one signed by another key. */
    for (int i = 0; i < 3; i++)
        px_buf_reset(&in[i]);
    px_buf_reset(&acc);
    px_buf_reset(&proof);
    drive_to_outcome(&f, &x, &acc, &proof, in);
    char dir[] = "/tmp/px-otherlog-XXXXXX", store[64];
    assert_non_null(mkdtemp(dir));
    snprintf(store, sizeof store, "%s/log.db", dir);
    px_signer other;
    px_assert_ok(px_signer_generate(&other, "log.test/pixiu", &err), &err);
    px_log *olog;
    px_log_opts o = {.store = store, .key = &other};
    px_assert_ok(px_log_open(&olog, &o, &err), &err);
    px_assert_ok(px_log_append_proven(olog, proof.data, proof.len, &lr, &err), &err);
    expect_no_release(&x, &lr);
    px_log_receipt_free(&lr);
    px_log_close(olog);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    /* 3. The right log, the right index, a proof with one byte changed. */
    for (int i = 0; i < 3; i++)
        px_buf_reset(&in[i]);
    px_buf_reset(&acc);
    px_buf_reset(&proof);
    drive_to_outcome(&f, &x, &acc, &proof, in);
    px_assert_ok(px_log_append_proven(px_testlog_get()->log, proof.data, proof.len, &lr, &err), &err);
    if (lr.proof.len)
        lr.proof.data[0] ^= 1;
    else
        lr.index++;
    expect_no_release(&x, &lr);
    px_log_receipt_free(&lr);
    for (int i = 0; i < 3; i++)
        px_buf_free(&in[i]);
    px_buf_free(&acc);
    px_buf_free(&proof);
}

/* A worker that never answers is killed after the timeout, and a build
 * other than the accepted one is caught by the measurement. */
static void test_worker_silent_or_wrong(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    char dir[] = "/tmp/pxwXXXXXX";
    assert_non_null(mkdtemp(dir));
    char script[64];
    snprintf(script, sizeof script, "%s/silent", dir);
    px_err err = {0};
    const char *body = "#!/bin/sh\nexec sleep 30\n";
    px_assert_ok(px_file_write_atomic(script, body, strlen(body), 0755, &err), &err);
    px_buf cfg = PX_BUF_INIT;
    fx_config(&f, &cfg, 1, f.successor.pk, 1);
    uint8_t nonce[32] = {0};
    px_lambda_host h;
    px_lambda_host_req req = {&px_tee_process, script, NULL, &f.platform, "node-a", "aggregate", NULL, cfg.data,
                              cfg.len, nonce, 0, 10, 300, 300};
    uint64_t t0 = px_mono_ns();
    px_assert_fails(px_lambda_host_start(&h, &req, &err), &err, PX_E_UNAVAILABLE);
    assert_true(px_mono_ns() - t0 < 5000000000ull);
    /* The real worker, but the node believes its worker is another binary:
     * the evidence lists that build, so a recruiter accepting the real
     * one refuses it, naming the worker. */
    px_lambda_build *real = test_build(), *fake = test_build();
    fake->build.c[0].sha256[0] ^= 1;
    px_assert_ok(px_lambda_build_seal(fake, &err), &err);
    req.worker_path = "/nonexistent"; /* the build's worker is what runs */
    req.build = fake;
    req.timeout_ms = 20000;
    req.start_timeout_ms = 0;
    px_assert_ok(px_lambda_host_start(&h, &req, &err), &err);
    px_evidence *ev = calloc(1, sizeof *ev);
    px_evidence_policy pol = {&f.platform_v, 1, 1, NULL, NULL, NULL, (const uint8_t(*)[32])real->digest, 1,
                              &real->build};
    px_assert_fails(px_evidence_verify(h.evidence.data, h.evidence.len, &pol, ev, NULL, &err), &err, PX_E_VERIFY);
    assert_non_null(strstr(err.msg, "build not accepted: component \"worker\" differs"));
    pol.builds = (const uint8_t(*)[32])fake->digest;
    px_assert_ok(px_evidence_verify(h.evidence.data, h.evidence.len, &pol, ev, NULL, &err), &err);
    uint8_t listed[32];
    px_assert_ok(px_tee_build_digest(listed, &ev->build, &err), &err);
    assert_memory_equal(listed, fake->digest, 32);
    free(ev);
    px_lambda_host_free(&h);
    test_build_free(real);
    test_build_free(fake);
    unlink(script);
    rmdir(dir);
    px_buf_free(&cfg);
}

#define WASI "(import \"wasi_snapshot_preview1\" "

/* Copies standard input to standard output. */
static const char echo_wat[] =
    "(module " WASI "\"fd_read\" (func $read (param i32 i32 i32 i32) (result i32)))"
    WASI "\"fd_write\" (func $write (param i32 i32 i32 i32) (result i32)))"
    "(memory (export \"memory\") 2)"
    "(func (export \"_start\") (local $n i32)"
    " (block $done (loop $l"
    "  (i32.store (i32.const 0) (i32.const 1024))"
    "  (i32.store (i32.const 4) (i32.const 60000))"
    "  (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))"
    "  (local.set $n (i32.load (i32.const 8)))"
    "  (br_if $done (i32.eqz (local.get $n)))"
    "  (i32.store (i32.const 4) (local.get $n))"
    "  (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 12)))"
    "  (br $l)))))";

static const char trap_wat[] = "(module (memory (export \"memory\") 1)"
                               "(func (export \"_start\") unreachable))";

/* Assemble text-format source with wabt's wat2wasm. */
static void wat(const char *dir, const char *name, const char *src, px_buf *out) {
    char path[300], cmd[800];
    snprintf(path, sizeof path, "%s/%s.wat", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(src, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "wat2wasm '%s' -o '%s/%s.wasm'", path, dir, name);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/%s.wasm", dir, name);
    px_err err = {0};
    px_assert_ok(px_file_read(path, 1 << 20, out, &err), &err);
}

/* One wasm instance of build b attested for `attested`, sent `sent` as its
 * code; the reason its proof states goes to reason (when not NULL). */
static void wasm_step_why(const fixture *f, const px_lambda_build *b, const px_buf *attested, const px_buf *sent,
                          const char *want, char reason[PX_REASON_MAX + 1]) {
    px_err err = {0};
    px_buf cfg = PX_BUF_INIT, vec = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, code = PX_BUF_INIT,
           out = PX_BUF_INIT;
    fx_config_kind(f, &cfg, 2, f->successor.pk, 1, "wasm", "{},\"limits\":{\"cpu_ms\":2000,\"mem_mb\":16}");
    uint8_t nonce[32], cd[32];
    px_random(nonce, 32);
    px_sha256(cd, attested->data, attested->len);
    px_lambda_host h;
    px_lambda_host_req req = {&px_tee_process, WORKER, b, &f->platform, "node-a", "wasm", cd, cfg.data,
                              cfg.len, nonce, 0, 30, 60000, 0};
    px_assert_ok(px_lambda_host_start(&h, &req, &err), &err);
    px_evidence ev;
    px_assert_ok(px_evidence_parse(&ev, h.evidence.data, h.evidence.len, &err), &err);
    assert_true(ev.isolation & PX_ISO_SECCOMP_SPAWN);
    assert_false(ev.isolation & PX_ISO_SECCOMP);
    fx_vector(&vec, 127, 7.0);
    fx_release(f, &rel, &f->pod, vec.data, vec.len, h.box_pk);
    fx_seal(&sealed, &vec, h.box_pk);
    px_assert_ok(px_seal(&code, sent->data, sent->len, h.box_pk, &err), &err); /* code is not a committed payload */
    px_step_input in = {sealed.data, sealed.len, rel.data, rel.len, NULL, 0};
    px_step_result r;
    px_assert_ok(px_lambda_host_step(&h, code.data, code.len, &in, 1, PX_TESTLOG_LAMBDA, &r, &err), &err);
    if (strcmp(r.status, want) != 0)
        fail_msg("wasm step: status %s, expected %s", r.status, want);
    if (reason) {
        px_entry e;
        px_assert_ok(px_entry_parse(&e, 0, r.proof.data, r.proof.len, &err), &err);
        snprintf(reason, PX_REASON_MAX + 1, "%s", e.reason);
        px_entry_free(&e);
    }
    if (r.ok) {
        px_assert_ok(px_open_committed(&out, commit_scratch, r.outputs[0].data, r.outputs[0].len, &f->successor, &err), &err);
        assert_int_equal(out.len, vec.len);
        assert_memory_equal(out.data, vec.data, vec.len);
    }
    px_step_result_free(&r);
    px_lambda_host_free(&h);
    px_buf *bufs[] = {&cfg, &vec, &rel, &sealed, &code, &out};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        px_buf_free(bufs[i]);
}

static void wasm_step(const fixture *f, const px_lambda_build *b, const px_buf *attested, const px_buf *sent,
                      const char *want) {
    wasm_step_why(f, b, attested, sent, want, NULL);
}

/* A build like b whose runner is the script body (written to dir/name). */
static void build_with_runner(px_lambda_build *out, const px_lambda_build *b, const char *dir, const char *name,
                              const char *body) {
    char runner[320];
    snprintf(runner, sizeof runner, "%s/%s", dir, name);
    px_err err = {0};
    px_assert_ok(px_file_write_atomic(runner, body, strlen(body), 0755, &err), &err);
    assert_string_equal(b->build.c[1].name, "runner");
    memset(out, 0, sizeof *out);
    px_assert_ok(px_tee_build_init(&out->build, NULL, &err), &err);
    snprintf(out->cache_dir, sizeof out->cache_dir, "%s", b->cache_dir);
    for (size_t i = 0; i < b->build.n; i++) {
        uint8_t d[32];
        const char *path = i == 1 ? runner : b->files[i].path;
        px_assert_ok(px_tee_file_digest(d, path, &err), &err);
        px_assert_ok(px_lambda_build_add(out, b->build.c[i].name, d, path, &err), &err);
    }
    px_assert_ok(px_lambda_build_seal(out, &err), &err);
}

/* Consumer code in the sandbox, inside the worker: the code must be the
 * attested code, and a trap is a signed failure. */
static void test_worker_wasm(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    char dir[] = PX_BUILD_DIR "/step-wasm-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("PIXIU_CACHE_DIR", cache, 1);
    setenv("PIXIU_WASM_RUNNER", PX_BUILD_DIR "/pixiu-wasm-runner", 1);
    px_buf echo = PX_BUF_INIT, trap = PX_BUF_INIT;
    wat(dir, "echo", echo_wat, &echo);
    wat(dir, "trap", trap_wat, &trap);
    px_lambda_build *b = test_build();
    unsetenv("PIXIU_CACHE_DIR");
    unsetenv("PIXIU_WASM_RUNNER");
    wasm_step(&f, b, &echo, &echo, PX_STATUS_OK);
    wasm_step(&f, b, &echo, &trap, PX_STATUS_INVALID_MODULE); /* not the attested code */
    wasm_step(&f, b, &trap, &trap, PX_STATUS_TRAP);
    /* The worker runs the runner the build names, whatever its own
     * environment says: here one that leaves a mark, then runs the real
     * one. The evidence lists its digest. */
    char mark[320], body[1200];
    snprintf(mark, sizeof mark, "%s/ran", dir);
    snprintf(body, sizeof body, "#!/bin/sh\n: >'%s'\nexec '%s' \"$@\"\n", mark, b->files[1].path);
    static px_lambda_build other;
    build_with_runner(&other, b, dir, "runner", body);
    wasm_step(&f, &other, &echo, &echo, PX_STATUS_OK);
    assert_int_equal(access(mark, F_OK), 0);
    px_lambda_build_free(&other);
    /* A runner that fails: the step ends "internal", and the signed reason
     * says why once, the outcome named once ("internal: ...", never
     * "internal: internal: ..."). */
    build_with_runner(&other, b, dir, "broken", "#!/bin/sh\nexit 1\n");
    char why[PX_REASON_MAX + 1];
    wasm_step_why(&f, &other, &echo, &echo, PX_STATUS_INTERNAL, why);
    const char *first = strstr(why, "internal");
    if (!first || strstr(first + 1, "internal") || !strstr(why, "runner"))
        fail_msg("the reason of a failed runner: \"%s\"", why);
    px_lambda_build_free(&other);
    test_build_free(b);
    px_buf_free(&echo);
    px_buf_free(&trap);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A STEP sent field by field (inputs far larger than the send stage, and
 * many small ones) arrives as exactly the frame px_wire_step_encode makes,
 * and decodes to the same inputs. */
static void test_wire_step_streamed(void **state) {
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    enum { N = 40 };
    static uint8_t big[3][300000];
    px_step_input in[N];
    for (size_t i = 0; i < 3; i++)
        for (size_t k = 0; k < sizeof big[i]; k++)
            big[i][k] = (uint8_t)(k * 7 + i);
    for (size_t i = 0; i < N; i++) {
        const uint8_t *p = big[i % 3] + i;
        size_t n = i % 5 == 0 ? sizeof big[0] - i : i * 3; /* a few large, the rest small or empty */
        in[i] = (px_step_input){p, n, p + 1, i % 7, i % 2 ? p + 2 : NULL, i % 2 ? 5000 : 0};
    }
    const uint8_t code[] = "code";
    px_err err = {0};
    px_buf want = PX_BUF_INIT, got = PX_BUF_INIT;
    px_assert_ok(px_wire_step_encode(&want, code, sizeof code, in, N, &err), &err);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        _exit(px_wire_step_send(sv[1], code, sizeof code, in, N, &err) ? 1 : 0);
    }
    close(sv[1]);
    int type = 0;
    px_assert_ok(px_wire_recv(sv[0], 10000, &type, &got, &err), &err);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(type, PX_MSG_STEP);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    px_bytes c;
    px_step_input *out = NULL;
    size_t n = 0;
    px_assert_ok(px_wire_step_decode(got.data, got.len, &c, &out, &n, &err), &err);
    assert_int_equal(n, N);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(out[i].sealed_len, in[i].sealed_len);
        if (in[i].sealed_len)
            assert_memory_equal(out[i].sealed, in[i].sealed, in[i].sealed_len);
        assert_int_equal(out[i].evidence_len, in[i].evidence_len);
    }
    free(out);
    close(sv[0]);
    px_buf_free(&want);
    px_buf_free(&got);
}

/* The pids the runner script recorded, one a line; 0 until it ran. */
static size_t recorded(const char *path, pid_t *out, size_t cap) {
    px_buf b = PX_BUF_INIT;
    size_t n = 0;
    if (px_file_read(path, 4096, &b, NULL) == 0)
        for (char *p = px_buf_cstr(&b, NULL), *nl; p && *p && n < cap; p = nl + 1) {
            out[n++] = (pid_t)atoi(p);
            if (!(nl = strchr(p, '\n')))
                break;
        }
    px_buf_free(&b);
    return n;
}

/* A wasm instance starts its runner once its keys are out, before any
 * STEP. That runner is the build's, runs under the worker's filter, and
 * holds nothing of any task: here the build's runner is a script that
 * records its pid and, started ahead, everything its channel brings. An
 * instance whose recruitment is refused (freed without a STEP) hands it
 * nothing, and it goes with the instance; one that gets its STEP hands it
 * exactly one run (the script takes it and fails it, so the step ends
 * "internal"), which shows what receiving code would have looked like. */
static void test_worker_runner_ahead(void **state) {
    (void)state;
    fixture f;
    fx_init(&f);
    char dir[] = PX_BUILD_DIR "/step-ahead-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cache[300], pids[320], got[320], body[1400];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(pids, sizeof pids, "%s/pids", dir);
    snprintf(got, sizeof got, "%s/got", dir);
    setenv("PIXIU_CACHE_DIR", cache, 1);
    setenv("PIXIU_WASM_RUNNER", PX_BUILD_DIR "/pixiu-wasm-runner", 1);
    px_buf echo = PX_BUF_INIT;
    wat(dir, "echo", echo_wat, &echo);
    px_lambda_build *b = test_build();
    unsetenv("PIXIU_CACHE_DIR");
    unsetenv("PIXIU_WASM_RUNNER");
    snprintf(body, sizeof body,
             "#!/bin/sh\necho $$ >>'%s'\n[ \"$1\" = --warm ] && exec cat <&3 >>'%s'\nexec '%s' \"$@\"\n", pids, got,
             b->files[1].path);
    static px_lambda_build other;
    build_with_runner(&other, b, dir, "runner", body);
    /* Refused: attested, then dropped. */
    px_err err = {0};
    px_buf cfg = PX_BUF_INIT;
    fx_config_kind(&f, &cfg, 2, f.successor.pk, 1, "wasm", "{},\"limits\":{\"cpu_ms\":2000,\"mem_mb\":16}");
    uint8_t nonce[32], cd[32];
    px_random(nonce, 32);
    px_sha256(cd, echo.data, echo.len);
    px_lambda_host h;
    px_lambda_host_req req = {&px_tee_process, WORKER, &other, &f.platform, "node-a", "wasm", cd, cfg.data,
                              cfg.len, nonce, 0, 30, 60000, 0};
    px_assert_ok(px_lambda_host_start(&h, &req, &err), &err);
    pid_t r[4];
    for (int i = 0; i < 2000 && recorded(pids, r, 4) == 0; i++)
        usleep(10000);
    assert_int_equal(recorded(pids, r, 4), 1); /* started before any STEP, once */
    proc_status_has(r[0], "Seccomp:\t2");     /* under the worker's filter */
    proc_status_has(r[0], "NoNewPrivs:\t1");
    px_lambda_host_free(&h);
    int i = 0;
    while (i++ < 2000 && !pid_gone(r[0]))
        usleep(10000);
    assert_true(pid_gone(r[0]));
    struct stat st;
    assert_true(stat(got, &st) != 0 || st.st_size == 0); /* it never received anything */
    assert_int_equal(recorded(pids, r, 4), 1);
    /* With its STEP, the one run goes to it. */
    char why[PX_REASON_MAX + 1];
    wasm_step_why(&f, &other, &echo, &echo, PX_STATUS_INTERNAL, why);
    px_buf g = PX_BUF_INIT;
    px_assert_ok(px_file_read(got, 4096, &g, &err), &err);
    assert_true(g.len > 0 && memmem(g.data, g.len, "/proc/self/fd/5", 15));
    assert_int_equal(recorded(pids, r, 4), 2);
    px_buf_free(&g);
    px_lambda_build_free(&other);
    test_build_free(b);
    px_buf_free(&cfg);
    px_buf_free(&echo);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_step_streamed),
        cmocka_unit_test(test_worker_step),
        cmocka_unit_test(test_worker_refuses),
        cmocka_unit_test(test_worker_release_after_log),
        cmocka_unit_test(test_worker_silent_or_wrong),
        cmocka_unit_test(test_worker_wasm),
        cmocka_unit_test(test_worker_runner_ahead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
