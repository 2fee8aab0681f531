/* A runner started ahead (px_sandbox_warm): it takes exactly one run, with
 * the same outcome as a runner forked for it, inside the same filter; a
 * second run forks its own; a runner nobody takes is killed; one that died
 * while waiting leaves the run to a forked runner; one whose starter dies
 * dies too, waiting or still loading. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lambda/sandbox_int.h"
#include "pixiu/sandbox.h"
#include "pid_gone.h"

typedef struct fixture {
    char dir[256];
    char work[64];
    px_sandbox sb;
    px_buf echo, trap;
} fixture;

#define WASI "(import \"wasi_snapshot_preview1\" "
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
/* Traps: a run that ends in its own outcome, not the echo's. */
static const char trap_wat[] = "(module (memory (export \"memory\") 1)"
                               "(func (export \"_start\") unreachable))";

static void wat(fixture *f, const char *name, const char *src, px_buf *out) {
    char path[320], cmd[800];
    snprintf(path, sizeof path, "%s/%s.wat", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(src, fp);
    fclose(fp);
    snprintf(cmd, sizeof cmd, "wat2wasm '%s' -o '%s/%s.wasm'", path, f->dir, name);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/%s.wasm", f->dir, name);
    assert_int_equal(px_file_read(path, 1 << 20, out, NULL), 0);
}

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s/sandbox-warm-XXXXXX", PX_BUILD_DIR);
    snprintf(f->work, sizeof f->work, "/dev/shm/pixiu-test-XXXXXX");
    if (!mkdtemp(f->dir) || !mkdtemp(f->work))
        return -1;
    char cache[300];
    snprintf(cache, sizeof cache, "%s/cache", f->dir);
    setenv("PIXIU_WASM_RUNNER", PX_BUILD_DIR "/pixiu-wasm-runner", 1);
    px_sandbox_tools t = {.cache_dir = cache, .work_dir = f->work};
    px_err err = {0};
    if (px_sandbox_init_tools(&f->sb, &t, &err)) {
        fprintf(stderr, "init: %s\n", err.msg);
        return -1;
    }
    *state = f;
    wat(f, "echo", echo_wat, &f->echo);
    wat(f, "trap", trap_wat, &f->trap);
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    char cmd[400];
    px_sandbox_warm_free(&f->sb);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", f->dir, f->work);
    int rc = system(cmd);
    px_buf_free(&f->echo);
    px_buf_free(&f->trap);
    free(f);
    return rc ? -1 : 0;
}

static void limits(px_sandbox_limits *l) {
    px_sandbox_limits_default(l);
    l->cpu_ms = 1500;
    l->mem_mb = 16;
    l->wall_ms = 30000;
}

static px_sandbox_status run(fixture *f, const px_buf *m, const char *in, px_buf *out) {
    px_sandbox_limits l;
    px_sandbox_result res;
    limits(&l);
    px_buf_reset(out);
    px_sandbox_run(&f->sb, m->data, m->len, (const uint8_t *)in, strlen(in), &l, out, NULL, &res, NULL);
    return res.status;
}

static void test_takes_one_run(void **state) {
    fixture *f = *state;
    px_err err = {0};
    px_buf out = PX_BUF_INIT;
    assert_int_equal(run(f, &f->echo, "compiled first\n", &out), PX_SB_OK); /* into the cache */
    assert_int_equal(px_sandbox_warm(&f->sb, &err), 0);
    pid_t warm = f->sb.warm->pid;
    assert_true(warm > 0);
    px_sandbox copy = f->sb; /* as the stage copies it: the same runner */
    px_sandbox_limits l;
    px_sandbox_result res;
    limits(&l);
    static const char in[] = "through the warm runner\n";
    px_buf_reset(&out);
    assert_int_equal(px_sandbox_run(&copy, f->echo.data, f->echo.len, (const uint8_t *)in, sizeof in - 1, &l, &out,
                                     NULL, &res, &err),
                     0);
    assert_int_equal(out.len, sizeof in - 1);
    assert_memory_equal(out.data, in, out.len);
    assert_int_equal(f->sb.warm->pid, -1); /* taken, and reaped by the run */
    assert_int_equal(kill(warm, 0), -1);
    /* The next run forks its own. */
    assert_int_equal(run(f, &f->echo, "forked\n", &out), PX_SB_OK);
    assert_int_equal(out.len, 7);
    px_sandbox_warm_free(&f->sb);
    assert_null(f->sb.warm);
    px_buf_free(&out);
}

static void test_same_outcome(void **state) {
    fixture *f = *state;
    px_err err = {0};
    px_buf out = PX_BUF_INIT;
    assert_int_equal(run(f, &f->trap, "", &out), PX_SB_TRAP);
    assert_int_equal(px_sandbox_warm(&f->sb, &err), 0);
    assert_int_equal(run(f, &f->trap, "", &out), PX_SB_TRAP);
    assert_int_equal(f->sb.warm->pid, -1);
    px_sandbox_warm_free(&f->sb);
    px_buf_free(&out);
}

/* An object made ready is used by a run of its module, and only by one. */
static void test_object_made_ready(void **state) {
    fixture *f = *state;
    px_err err = {0};
    px_buf out = PX_BUF_INIT;
    px_sandbox_limits l;
    limits(&l);
    assert_int_equal(run(f, &f->echo, "cached\n", &out), PX_SB_OK);
    assert_int_equal(run(f, &f->trap, "", &out), PX_SB_TRAP);
    assert_int_equal(px_sandbox_warm(&f->sb, &err), 0);
    px_sandbox_warm_object(&f->sb, f->echo.data, f->echo.len, &l);
    assert_true(f->sb.warm->obj_fd >= 0);
    /* Another module: its own object, the ready one stays unused. */
    assert_int_equal(run(f, &f->trap, "", &out), PX_SB_TRAP);
    assert_true(f->sb.warm->obj_fd >= 0);
    px_sandbox_warm_free(&f->sb);
    /* The same module under another memory cap: not for it either. */
    assert_int_equal(px_sandbox_warm(&f->sb, &err), 0);
    px_sandbox_warm_object(&f->sb, f->echo.data, f->echo.len, &l);
    px_sandbox_limits big = l;
    big.mem_mb = 32;
    px_sandbox_result res;
    px_buf_reset(&out);
    px_sandbox_run(&f->sb, f->echo.data, f->echo.len, (const uint8_t *)"x", 1, &big, &out, NULL, &res, NULL);
    assert_int_equal(res.status, PX_SB_OK);
    assert_true(f->sb.warm->obj_fd >= 0);
    px_sandbox_warm_free(&f->sb);
    /* Its own module takes it. */
    assert_int_equal(px_sandbox_warm(&f->sb, &err), 0);
    px_sandbox_warm_object(&f->sb, f->echo.data, f->echo.len, &l);
    assert_int_equal(run(f, &f->echo, "made ready\n", &out), PX_SB_OK);
    assert_int_equal(out.len, 11);
    assert_int_equal(f->sb.warm->obj_fd, -1);
    px_sandbox_warm_free(&f->sb);
    /* Not in the cache: nothing is compiled ahead. */
    px_buf other = PX_BUF_INIT;
    wat(f, "other", "(module (memory (export \"memory\") 1) (func (export \"_start\") nop))", &other);
    assert_int_equal(px_sandbox_warm(&f->sb, &err), 0);
    px_sandbox_warm_object(&f->sb, other.data, other.len, &l);
    assert_int_equal(f->sb.warm->obj_fd, -1);
    px_sandbox_warm_free(&f->sb);
    px_buf_free(&other);
    px_buf_free(&out);
}

static void test_untaken_is_killed(void **state) {
    fixture *f = *state;
    px_err err = {0};
    assert_int_equal(px_sandbox_warm(&f->sb, &err), 0);
    pid_t warm = f->sb.warm->pid;
    assert_int_equal(kill(warm, 0), 0);
    px_sandbox_warm_free(&f->sb);
    assert_int_equal(kill(warm, 0), -1); /* killed and reaped */
}

static void test_dead_runner_forks(void **state) {
    fixture *f = *state;
    px_err err = {0};
    px_buf out = PX_BUF_INIT;
    assert_int_equal(px_sandbox_warm(&f->sb, &err), 0);
    pid_t warm = f->sb.warm->pid;
    kill(warm, SIGKILL);
    siginfo_t si;
    waitid(P_PID, (id_t)warm, &si, WEXITED | WNOWAIT); /* gone, not reaped */
    assert_int_equal(run(f, &f->echo, "a forked runner after all\n", &out), PX_SB_OK);
    assert_int_equal(out.len, 26);
    assert_int_equal(f->sb.warm->pid, -1);
    px_sandbox_warm_free(&f->sb);
    px_buf_free(&out);
}

/* Blocked in recvmsg on its channel: loaded, waiting for a run. */
static int waiting(pid_t pid) {
    char path[64], line[64] = "", want[24];
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
    snprintf(want, sizeof want, "%d ", (int)SYS_recvmsg);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char *got = fgets(line, sizeof line, fp);
    fclose(fp);
    return got && !strncmp(line, want, strlen(want));
}

static int within(int (*cond)(pid_t), pid_t pid, int ms) {
    for (int i = 0; i < ms / 10; i++) {
        if (cond(pid))
            return 1;
        usleep(10000);
    }
    return cond(pid);
}

/* Its starter (a worker) killed: the runner goes too. Killed while the
 * runner still loads, the end of file on its channel ends it; killed
 * while it waits, with its channel kept open by another process (so only
 * the death signal it asked for can end it), it dies at once. */
static void test_dies_with_starter(void **state) {
    fixture *f = *state;
    for (int late = 0; late < 2; late++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t starter = fork();
        assert_true(starter >= 0);
        if (starter == 0) {
            px_sandbox copy = f->sb;
            copy.warm = NULL;
            if (px_sandbox_warm(&copy, NULL))
                _exit(1);
            pid_t pids[2] = {copy.warm->pid, -1}; /* the runner, the holder of its channel */
            if (late && !within(waiting, pids[0], 20000))
                _exit(1);
            if (late && (pids[1] = fork()) == 0)
                for (;;)
                    pause();
            if (write(p[1], pids, sizeof pids) != (ssize_t)sizeof pids)
                _exit(1);
            for (;;)
                pause();
        }
        close(p[1]);
        pid_t pids[2] = {-1, -1};
        assert_int_equal(read(p[0], pids, sizeof pids), (ssize_t)sizeof pids);
        close(p[0]);
        assert_true(pids[0] > 0);
        assert_false(pid_gone(pids[0]));
        kill(starter, SIGKILL);
        assert_int_equal(waitpid(starter, NULL, 0), starter);
        int ok = within(pid_gone, pids[0], 20000);
        if (pids[1] > 0)
            kill(pids[1], SIGKILL);
        if (!ok)
            fail_msg("a warm runner outlived its starter (%s)", late ? "waiting" : "loading");
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_takes_one_run),
        cmocka_unit_test(test_same_outcome),
        cmocka_unit_test(test_object_made_ready),
        cmocka_unit_test(test_untaken_is_killed),
        cmocka_unit_test(test_dead_runner_forks),
        cmocka_unit_test(test_dies_with_starter),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
