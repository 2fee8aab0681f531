/* `pixiu lambda step` as a user runs it: evidence file first, inputs
 * sealed to the key it names, then the proof on standard output. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "step_fixture.h"

/* The commitment an opened output carried (checked by the successor). */
static uint8_t commit_scratch[32];

typedef struct run {
    pid_t pid;
    int in, out;
    char dir[64];
} run;

static void path(char *out, const run *r, const char *name) {
    snprintf(out, 256, "%s/%s", r->dir, name);
}

static void write_file(const run *r, const char *name, const void *p, size_t n) {
    char f[256];
    path(f, r, name);
    px_err err = {0};
    px_assert_ok(px_file_write_atomic(f, p, n, 0600, &err), &err);
}

static void start(run *r, const fixture *f, const uint8_t nonce[32]) {
    snprintf(r->dir, sizeof r->dir, "/tmp/pxcliXXXXXX");
    assert_non_null(mkdtemp(r->dir));
    px_buf key = PX_BUF_INIT, cfg = PX_BUF_INIT;
    px_err err = {0};
    px_assert_ok(px_signer_format(&f->platform, &key, &err), &err);
    write_file(r, "node.key", key.data, key.len);
    fx_config(f, &cfg, 1, f->successor.pk, 1);
    write_file(r, "config.json", cfg.data, cfg.len);
    char hex[65], kf[256], cf[256], ev[256], inp[600], out[256];
    px_hex_encode(hex, nonce, 32);
    path(kf, r, "node.key");
    path(cf, r, "config.json");
    path(ev, r, "evidence.json");
    snprintf(inp, sizeof inp, "%s/in.sealed:%s/release.json", r->dir, r->dir);
    path(out, r, "out");
    const char *log = px_testlog_url(); /* before fork: the server runs in this process */
    int pin[2], pout[2];
    assert_int_equal(pipe(pin), 0);
    assert_int_equal(pipe(pout), 0);
    r->pid = fork();
    if (r->pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        close(pin[1]);
        close(pout[0]);
        char *argv[] = {PX_BUILD_DIR "/pixiu", "lambda", "step", "--kind", "aggregate", "--config", cf,
                        "--platform-key", kf, "--node", "node-a", "--nonce", hex, "--evidence-out", ev,
                        "--input", inp, "--output-out", out, "--log", (char *)log, NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    r->in = pin[1];
    r->out = pout[0];
    px_buf_free(&key);
    px_buf_free(&cfg);
}

static void wait_evidence(const run *r, px_buf *ev) {
    char f[256];
    path(f, r, "evidence.json");
    px_err err = {0};
    for (int i = 0; i < 1000 && access(f, F_OK) != 0; i++)
        usleep(10000);
    px_assert_ok(px_file_read(f, 1 << 20, ev, &err), &err);
}

/* Close stdin, collect stdout and the exit status. */
static int finish(run *r, px_buf *proof) {
    close(r->in);
    char buf[4096];
    ssize_t n;
    px_err err = {0};
    while ((n = read(r->out, buf, sizeof buf)) > 0)
        px_buf_append(proof, buf, (size_t)n, &err);
    close(r->out);
    int st = 0;
    waitpid(r->pid, &st, 0);
    assert_true(WIFEXITED(st));
    while (proof->len && proof->data[proof->len - 1] == '\n')
        proof->len--;
    return WEXITSTATUS(st);
}

static void cleanup(const run *r) {
    const char *names[] = {"node.key", "config.json", "evidence.json", "in.sealed", "release.json", "out.0"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char f[256];
        path(f, r, names[i]);
        unlink(f);
    }
    rmdir(r->dir);
}

static void one_run(int tamper) {
    fixture f;
    fx_init(&f);
    uint8_t nonce[32];
    px_random(nonce, 32);
    run r;
    start(&r, &f, nonce);
    px_buf ev = PX_BUF_INIT, vec = PX_BUF_INIT, rel = PX_BUF_INIT, sealed = PX_BUF_INIT, proof = PX_BUF_INIT,
           out = PX_BUF_INIT;
    wait_evidence(&r, &ev);
    px_evidence_policy pol = {&f.platform_v, 1, 1, NULL, nonce, "node-a", NULL, 0, NULL};
    px_evidence e;
    px_err err = {0};
    px_assert_ok(px_evidence_verify(ev.data, ev.len, &pol, &e, NULL, &err), &err);
    fx_vector(&vec, 127, 2.0);
    fx_release(&f, &rel, &f.pod, vec.data, vec.len, e.box_pk);
    fx_seal(&sealed, &vec, e.box_pk);
    if (tamper)
        sealed.data[10] ^= 1;
    write_file(&r, "release.json", rel.data, rel.len);
    write_file(&r, "in.sealed", sealed.data, sealed.len);
    int code = finish(&r, &proof);
    px_exec_proof p;
    px_assert_ok(px_lambda_proof_verify(&p, proof.data, proof.len, e.sign_pk, &err), &err);
    if (tamper) {
        assert_int_equal(code, 1);
        assert_string_equal(p.status, PX_STATUS_BAD_INPUT);
    } else {
        assert_int_equal(code, 0);
        assert_string_equal(p.status, PX_STATUS_OK);
        char of[256];
        path(of, &r, "out.0");
        px_buf sealed_out = PX_BUF_INIT;
        px_assert_ok(px_file_read(of, 1 << 20, &sealed_out, &err), &err);
        px_assert_ok(px_open_committed(&out, commit_scratch, sealed_out.data, sealed_out.len, &f.successor, &err), &err);
        assert_int_equal(out.len, vec.len);
        assert_memory_equal(out.data, vec.data, vec.len);
        px_buf_free(&sealed_out);
    }
    cleanup(&r);
    px_buf *bufs[] = {&ev, &vec, &rel, &sealed, &proof, &out};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        px_buf_free(bufs[i]);
}

static void test_cli_ok(void **state) {
    (void)state;
    one_run(0);
}

static void test_cli_tampered(void **state) {
    (void)state;
    one_run(1);
}

static void test_cli_usage(void **state) {
    (void)state;
    int st = system(PX_BUILD_DIR "/pixiu lambda step --kind aggregate >/dev/null 2>&1");
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_ok),
        cmocka_unit_test(test_cli_tampered),
        cmocka_unit_test(test_cli_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
